import { AsyncLocalStorage } from 'node:async_hooks';
import { ensureDir, KEY_DIR_MODE } from './atomic-write.js';
import { acquireLock, lockWanted, type LockHandle, type LockOptions } from './lock.js';

/** How long a fair holder keeps the lock while another process waits, and how long it then stays away. */
const FAIR_HOLD_MS = 200;
const FAIR_GAP_MS = 300;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The directory's lock (lock.ts) counted per store: nested and concurrent holders in one process
 * share one acquisition, released when the last one returns. `onAcquired` runs once per
 * acquisition, before any holder (the store's crash recovery); if it throws, the lock is released.
 */
export class ReentrantLock {
  private holders = 0;
  private ready: Promise<void> | undefined;
  private handle: LockHandle | undefined;

  private acquiredAt = 0;
  private yielding: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  /** Set inside a holder: a nested call never queues behind the holder it runs in. */
  private readonly inside = new AsyncLocalStorage<true>();

  /**
   * `fair`: for a process whose holders overlap without end (serve under load). Once it has held the
   * lock FAIR_HOLD_MS while another process waits (lock.ts WAIT_FILE), new holders queue until the
   * current ones finish; the lock is released, and taken again only after FAIR_GAP_MS, longer than a
   * waiter's longest poll: a CLI run on the same tree gets its turn.
   */
  constructor(
    private readonly dir: string,
    private readonly options: LockOptions & { fair?: boolean },
    private readonly onAcquired: () => Promise<void>,
  ) {}

  private async takeTurn(): Promise<void> {
    while (this.yielding) await this.yielding;
    const holding = this.handle !== undefined && this.holders > 0;
    if (holding && Date.now() - this.acquiredAt < FAIR_HOLD_MS) return;
    if (!(await lockWanted(this.dir))) return;
    if (this.yielding) return this.takeTurn();
    this.yielding = (holding ? new Promise<void>((resolve) => (this.drained = resolve)) : Promise.resolve()).then(() => sleep(FAIR_GAP_MS)).finally(() => (this.yielding = undefined));
    await this.yielding;
  }

  async with<T>(fn: () => Promise<T>): Promise<T> {
    const nested = this.inside.getStore() === true;
    if (this.options.fair && !nested) await this.takeTurn();
    this.holders++;
    try {
      this.ready ??= this.acquire();
      await this.ready;
      return nested ? await fn() : await this.inside.run(true, fn);
    } finally {
      this.holders--;
      if (this.holders === 0) {
        const handle = this.handle;
        this.handle = undefined;
        this.ready = undefined;
        await handle?.release();
        this.drained?.();
        this.drained = undefined;
      }
    }
  }

  private async acquire(): Promise<void> {
    await ensureDir(this.dir, KEY_DIR_MODE);
    this.handle = await acquireLock(this.dir, this.options);
    this.acquiredAt = Date.now();
    try {
      await this.onAcquired();
    } catch (error) {
      await this.handle.release();
      this.handle = undefined;
      throw error;
    }
  }
}
