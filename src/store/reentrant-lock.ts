import { ensureDir, KEY_DIR_MODE } from './atomic-write.js';
import { acquireLock, type LockHandle, type LockOptions } from './lock.js';

/**
 * The directory's lock (lock.ts) counted per store: nested and concurrent holders in one process
 * share one acquisition, released when the last one returns. `onAcquired` runs once per
 * acquisition, before any holder (the store's crash recovery); if it throws, the lock is released.
 */
export class ReentrantLock {
  private holders = 0;
  private ready: Promise<void> | undefined;
  private handle: LockHandle | undefined;

  constructor(
    private readonly dir: string,
    private readonly options: LockOptions,
    private readonly onAcquired: () => Promise<void>,
  ) {}

  async with<T>(fn: () => Promise<T>): Promise<T> {
    this.holders++;
    try {
      this.ready ??= this.acquire();
      await this.ready;
      return await fn();
    } finally {
      this.holders--;
      if (this.holders === 0) {
        const handle = this.handle;
        this.handle = undefined;
        this.ready = undefined;
        await handle?.release();
      }
    }
  }

  private async acquire(): Promise<void> {
    await ensureDir(this.dir, KEY_DIR_MODE);
    this.handle = await acquireLock(this.dir, this.options);
    try {
      await this.onAcquired();
    } catch (error) {
      await this.handle.release();
      this.handle = undefined;
      throw error;
    }
  }
}
