import { EXIT_INTERRUPTED, EXIT_TERMINATED } from './exit-codes.js';

/**
 * For CLI commands: an AbortSignal that fires on the first SIGINT/SIGTERM, so a bulk run (ops/bulk.ts)
 * stops starting items and lets in-flight ones finish. A second signal exits at once (status
 * 130 or 143): the store's writes are atomic, so even then no tenant is left half-written.
 * Call dispose() when the run is over to restore the default handlers.
 */
export function interruptSignal(onFirst?: (signal: NodeJS.Signals) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(sig === 'SIGINT' ? EXIT_INTERRUPTED : EXIT_TERMINATED);
    controller.abort(sig);
    onFirst?.(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
