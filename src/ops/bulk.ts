import { availableParallelism } from 'node:os';

/**
 * The bulk engine: runs one async job per item with bounded concurrency, records a result per item,
 * reports progress, and stops cleanly when its AbortSignal fires.
 *
 * Used by `issue client` (ops/issue-clients.ts) and meant for every many-tenant operation (rotate):
 *
 * ```ts
 * const { signal, dispose } = interruptSignal();          // the CLI's (cli/interrupt.ts): SIGINT/SIGTERM → abort
 * const report = await runBulk(tenantIds, async (id) => {
 *   const pair = await makePair(...);                     // CPU/crypto: nothing on disk yet
 *   return store.saveClient(id, pair.pem);                // the one commit point, atomic
 * }, { concurrency: o.concurrency, signal, onProgress });
 * dispose();
 * // report.results[i] is 'done' | 'failed' | 'not-started' for items[i]; report.interrupted tells why it stopped.
 * ```
 *
 * Cancellation contract: once `signal` aborts, no new item starts; items already running are left to
 * finish (a job is one key generation, one signature and one atomic write: well under a second), so
 * every item is either complete or untouched. Jobs should therefore keep their side effects in one
 * atomic step at the end (the store's atomic pair writes), and may check `signal` before it to bail out.
 * A job must not rely on being cancelled mid-way: nothing interrupts a promise.
 *
 * Failures: by default the first failed item stops new starts (like an interrupt) and is reported as
 * `failed` with its error; `keepGoing: true` runs every item regardless and collects the failures.
 */

export type BulkStatus = 'done' | 'failed' | 'not-started';

export interface BulkItemResult<T, R> {
  index: number;
  item: T;
  status: BulkStatus;
  /** Set when status is 'done'. */
  value?: R;
  /** Set when status is 'failed'. */
  error?: unknown;
  /** Wall time of the job in ms (done or failed). */
  ms?: number;
}

export interface BulkProgress {
  total: number;
  done: number;
  failed: number;
  running: number;
  /** ms since the run started */
  elapsedMs: number;
}

export interface BulkOptions<T, R> {
  /** Jobs in flight at once; default defaultConcurrency(). Values < 1 are treated as 1. */
  concurrency?: number;
  /** Abort to stop starting new items (in-flight ones finish). */
  signal?: AbortSignal;
  /** Run every item even after a failure (default: stop starting new items at the first failure). */
  keepGoing?: boolean;
  /** Called after each item settles (and once at the start with done = 0). Must not throw. */
  onProgress?(progress: BulkProgress, settled?: BulkItemResult<T, R>): void;
}

export interface BulkReport<T, R> {
  /** One entry per input item, in input order. */
  results: BulkItemResult<T, R>[];
  done: number;
  failed: number;
  notStarted: number;
  /** True when the signal aborted before every item had started. */
  interrupted: boolean;
  /** True when a failure (without keepGoing) stopped the run early. */
  stoppedOnFailure: boolean;
  concurrency: number;
  elapsedMs: number;
}

/**
 * One job per core: RSA key generation (the dominant cost of issuance) runs on the libuv thread pool
 * (4 threads by default), so more jobs than cores only queue there and add latency. For light jobs
 * (EC leaves) the file writes and fsyncs overlap better with a few more, hence a floor of 2.
 */
export function defaultConcurrency(): number {
  return Math.max(2, availableParallelism());
}

export async function runBulk<T, R>(
  items: readonly T[],
  job: (item: T, index: number, signal: AbortSignal | undefined) => Promise<R>,
  options: BulkOptions<T, R> = {},
): Promise<BulkReport<T, R>> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency()));
  const started = performance.now();
  const results: BulkItemResult<T, R>[] = items.map((item, index) => ({ index, item, status: 'not-started' }));
  let next = 0;
  let done = 0;
  let failed = 0;
  let running = 0;
  let stoppedOnFailure = false;
  const progress = (): BulkProgress => ({ total: items.length, done, failed, running, elapsedMs: performance.now() - started });
  const stopped = () => options.signal?.aborted === true || stoppedOnFailure;

  options.onProgress?.(progress());

  async function lane(): Promise<void> {
    while (next < items.length && !stopped()) {
      const index = next++;
      const result = results[index]!;
      const t0 = performance.now();
      running++;
      try {
        result.value = await job(result.item, index, options.signal);
        result.status = 'done';
        done++;
      } catch (error) {
        result.status = 'failed';
        result.error = error;
        failed++;
        if (!options.keepGoing) stoppedOnFailure = true;
      } finally {
        running--;
        result.ms = performance.now() - t0;
      }
      options.onProgress?.(progress(), result);
    }
  }

  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  const notStarted = items.length - done - failed;
  return {
    results,
    done,
    failed,
    notStarted,
    interrupted: options.signal?.aborted === true && notStarted > 0,
    stoppedOnFailure,
    concurrency,
    elapsedMs: performance.now() - started,
  };
}

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping the order of results. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
