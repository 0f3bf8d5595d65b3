import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Appends `text` with one write(2) on an O_APPEND descriptor, then fsync. */
export async function appendDurably(path: string, text: string, mode = 0o644): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, mode);
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface Waiter<T> {
  item: T;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit for an append-only file: items that arrive while a write is in flight are written
 * together by the next one (one write + one fsync for the group, in arrival order), and each
 * append() resolves once its item is durable. A bulk run of 8 concurrent jobs thus pays about one
 * fsync per group instead of one per tenant, and nobody is told "done" before the data is on disk.
 *
 * After a failed write every pending and later append fails too: the caller already acted on the
 * items (in memory), so carrying on would build on state the file does not have.
 */
export class GroupAppender<T> {
  private queue: Array<Waiter<T>> = [];
  private writing = false;
  private failure: unknown;

  constructor(
    private readonly path: string,
    /** The text written for a group: whole lines, each ending in '\n'. */
    private readonly render: (items: T[]) => string,
    private readonly mode = 0o644,
  ) {}

  append(item: T): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0);
      try {
        await appendDurably(this.path, this.render(group.map((w) => w.item)), this.mode);
        for (const w of group) w.resolve();
      } catch (error) {
        this.failure = error;
        for (const w of [...group, ...this.queue.splice(0)]) w.reject(error);
      }
    }
    this.writing = false;
  }
}
