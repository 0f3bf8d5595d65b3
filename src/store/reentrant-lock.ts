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
  private linger: NodeJS.Timeout | undefined;
  private yielding: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  /**
   * `lingerMs`: keep the lock that long after the last holder leaves, for a long-running process
   * whose holders come and go (serve: each request holds it only while it signs and records). Taking
   * the lock costs a recovery pass (temp files, the index's tail, the audit log's head, pending
   * records); a request arriving within the linger reuses the acquisition. A waiting process ends the
   * linger at once (takeTurn).
   */
  constructor(
    private readonly dir: string,
    private readonly options: LockOptions & { lingerMs?: number },
    private readonly onAcquired: () => Promise<void>,
  ) {}

  /**
   * For a process whose holders overlap without end (serve under load), called before each request's
   * outermost with() (never from inside a holder: it would wait for itself). Once this process has held
   * the lock FAIR_HOLD_MS while another one waits (lock.ts WAIT_FILE), it waits until the current holders
   * finish and the lock is released, and FAIR_GAP_MS more, longer than a waiter's longest poll: a CLI
   * run on the same tree gets its turn.
   */
  async takeTurn(): Promise<void> {
    while (this.yielding) await this.yielding;
    if (this.holders === 0 && this.linger && lockWanted(this.dir)) await this.release();
    const holding = this.handle !== undefined && this.holders > 0;
    if (holding && Date.now() - this.acquiredAt < FAIR_HOLD_MS) return;
    if (!lockWanted(this.dir)) return;
    if (this.yielding) return this.takeTurn();
    this.yielding = (holding ? new Promise<void>((resolve) => (this.drained = resolve)) : Promise.resolve()).then(() => sleep(FAIR_GAP_MS)).finally(() => (this.yielding = undefined));
    await this.yielding;
  }

  async with<T>(fn: () => Promise<T>): Promise<T> {
    this.holders++;
    clearTimeout(this.linger);
    this.linger = undefined;
    try {
      this.ready ??= this.acquire();
      await this.ready;
      return await fn();
    } finally {
      this.holders--;
      if (this.holders === 0) {
        if (this.options.lingerMs && this.handle && !this.drained) this.linger = setTimeout(() => void this.release(), this.options.lingerMs);
        else await this.release();
      }
    }
  }

  private async release(): Promise<void> {
    clearTimeout(this.linger);
    this.linger = undefined;
    if (this.holders > 0) return;
    const handle = this.handle;
    this.handle = undefined;
    this.ready = undefined;
    await handle?.release();
    this.drained?.();
    this.drained = undefined;
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
