import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { failure } from '../core/errors.js';
import { foreignLinkError, linkAt } from './links.js';

/**
 * Opens a journal file (index.jsonl, audit.log) of certs/: never through a link (a planted one is
 * refused in the one wording of links.ts), never a FIFO or device (which a read would wait on or read
 * forever); undefined when it does not exist. A regular file's size bounds every read of it.
 */
export async function openJournal(path: string, flags: number): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const link = code === 'ELOOP' ? linkAt(path) : undefined;
    throw link ? foreignLinkError(link, (p) => p) : error;
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw failure('JOURNAL_NOT_FILE', `${path} is not a regular file: pkictl keeps its journal there`, 'move it away and restore the file from a backup');
  }
  return handle;
}

/** Where a reader of a journal stopped: the file (inode) and the length it had read. */
export interface JournalMark {
  ino: number;
  size: number;
}

/**
 * The bytes appended to a journal since `mark` (same file, not shorter), or the whole file when there
 * is no mark or the file was replaced or cut (a restore): `whole` says which. Undefined when the file
 * does not exist.
 */
export async function readJournalSince(path: string, mark?: JournalMark): Promise<{ bytes: Buffer; whole: boolean; ino: number; from: number } | undefined> {
  const handle = await openJournal(path, constants.O_RDONLY);
  if (!handle) return undefined;
  try {
    const { ino, size } = await handle.stat();
    const from = mark && mark.ino === ino && mark.size <= size ? mark.size : 0;
    const bytes = Buffer.alloc(size - from);
    let read = 0;
    while (read < bytes.length) {
      const { bytesRead } = await handle.read(bytes, read, bytes.length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { bytes: bytes.subarray(0, read), whole: from === 0, ino, from };
  } finally {
    await handle.close();
  }
}

/** A journal file's bytes, or undefined when it does not exist (openJournal). */
export async function readJournal(path: string): Promise<Buffer | undefined> {
  const handle = await openJournal(path, constants.O_RDONLY);
  if (!handle) return undefined;
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/**
 * Appends `text` to a journal file (index.jsonl, audit.log) all or nothing, and returns the file's
 * length before the append (to undo it with truncateTo). write(2) may write only part of the text
 * (a disk that fills up mid-line): the rest is written until done or the call fails, and on failure
 * the file is cut back to its old length, so a torn line never stays for the next append to follow.
 * O_NOFOLLOW: a planted link is refused, not appended through.
 */
export async function appendDurably(path: string, text: string, mode = 0o644): Promise<number> {
  let handle = await openJournal(path, constants.O_WRONLY | constants.O_APPEND);
  handle ??= await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  try {
    const info = await handle.stat();
    const bytes = Buffer.from(text);
    try {
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await handle.write(bytes, done);
        if (bytesWritten <= 0) throw Object.assign(new Error(`${path}: write made no progress`), { code: 'EIO' });
        done += bytesWritten;
      }
      await handle.sync();
    } catch (error) {
      await handle.truncate(info.size).then(() => handle.sync()).catch(() => undefined);
      throw error;
    }
    return info.size;
  } finally {
    await handle.close();
  }
}

/** Undoes an append: cuts `path` back to `size` bytes (the length appendDurably returned). */
export async function truncateTo(path: string, size: number): Promise<void> {
  const handle = await openJournal(path, constants.O_WRONLY);
  if (!handle) return;
  try {
    await handle.truncate(size);
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
 * Group commit: items that arrive while a write is in flight are written together by the next one
 * (in arrival order), and each add() resolves once its group is durable. A bulk run of 32 concurrent
 * jobs thus pays one index line and one audit append (with their fsyncs) per group instead of per
 * tenant, and nobody is told "done" before the data is on disk. Groups are written one after the
 * other: a group's whole write finishes before the next one starts.
 *
 * After a failed write every pending and later add fails too: the caller already acted on the
 * items (in memory), so carrying on would build on state the files do not have.
 */
export class GroupCommit<T> {
  private queue: Array<Waiter<T>> = [];
  private writing = false;
  private failure: unknown;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
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
        await this.write(group.map((w) => w.item));
        for (const w of group) w.resolve();
      } catch (error) {
        this.failure = error;
        for (const w of [...group, ...this.queue.splice(0)]) w.reject(error);
      }
    }
    this.writing = false;
  }
}
