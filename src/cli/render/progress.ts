import type { BulkProgress } from '../../ops/bulk.js';
import type { IssueClientsResult } from '../../ops/issue-clients.js';
import { colorFor, firstLines, renderIssued, painter } from './text.js';

/** What a bulk command drives while it runs; a no-op off a TTY, where only the summary is printed. */
interface ProgressDisplay {
  start(total: number, skipped: number): void;
  update(progress: BulkProgress): void;
  /** Prints one line above the bar (or plainly when there is none). */
  note(message: string): void;
  stop(): void;
}

const perSecond = (count: number, ms: number) => (ms > 0 ? (count * 1000) / ms : 0);

/**
 * A live bar on stderr when stderr is a terminal: done/total, rate and ETA. cli-progress does the
 * redraw throttling, terminal width and ETA smoothing; it is loaded only here, so commands that
 * never show a bar (and every non-TTY run) do not pay for it.
 */
async function progressDisplay(stream: NodeJS.WriteStream, label: string, color: boolean): Promise<ProgressDisplay> {
  const plain: ProgressDisplay = { start() {}, update() {}, note: (message) => void stream.write(`${message}\n`), stop() {} };
  if (stream.isTTY !== true) return plain;
  const { default: cliProgress } = await import('cli-progress');
  const c = painter(color);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}{failedText}`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  // A second Ctrl-C exits at once (process.exit): give the terminal its cursor and line back.
  const restore = () => {
    if (running) bar.stop();
    running = false;
  };
  return {
    start(total) {
      running = true;
      process.once('exit', restore);
      bar.start(total, 0, { rate: '0.0', failedText: '' });
    },
    update(p) {
      if (!running) return;
      bar.update(p.done + p.failed, {
        rate: perSecond(p.done, p.elapsedMs).toFixed(1),
        failedText: p.failed > 0 ? c.red(` | ${p.failed} failed`) : '',
      });
    },
    note(message) {
      if (running) {
        // cli-progress redraws on the current line: move to a fresh line, print, and let it redraw below.
        stream.write(`\r\x1b[K${message}\n`);
        bar.render();
      } else stream.write(`${message}\n`);
    },
    stop() {
      process.off('exit', restore);
      restore();
    },
  };
}

/** The closing summary of `issue client` (stderr): counts, rate, and what to do after an interrupt. */
export function renderIssueSummary(r: IssueClientsResult, color: boolean): string {
  const c = painter(color);
  const lines: string[] = [];
  // A handful of tenants get the per-pair detail; a batch gets one line per outcome.
  if (r.issued.length > 0 && r.issued.length <= 5) lines.push(renderIssued(r.dir, r.issued, color).trimEnd());
  const seconds = (r.elapsedMs / 1000).toFixed(1);
  const n = r.issued.length;
  if (n > 5 || (n > 0 && (r.skipped.length > 0 || r.notStarted.length > 0 || r.failed.length > 0))) {
    lines.push(`${c.green('✓')} Issued ${n} client certificate${n === 1 ? '' : 's'} in ${seconds} s (${perSecond(n, r.elapsedMs).toFixed(1)}/s, ${r.concurrency} at a time)`);
  }
  const replaced = r.issued.filter((p) => p.replaced).length;
  if (n > 5 && replaced > 0) lines.push(`  Replaced ${replaced}: the old certificates stay valid until they expire (pkictl revoke SERIAL ends one now)`);
  if (r.skipped.length > 0) lines.push(`  ${r.skipped.length} tenant${r.skipped.length === 1 ? '' : 's'} skipped: already issued`);
  lines.push(...firstLines(r.failed.map((f) => `${c.red('✗')} ${f.tenantId}: ${f.error}`)));
  if (r.interrupted) {
    lines.push(`${c.yellow('!')} Interrupted: ${r.notStarted.length} tenant${r.notStarted.length === 1 ? '' : 's'} not started; every issued tenant is complete`);
    lines.push('  hint: rerun the same command with --skip-existing to issue the rest');
  } else if (r.notStarted.length > 0) {
    lines.push(`  stopped at the first failure: ${r.notStarted.length} tenant${r.notStarted.length === 1 ? '' : 's'} not started (rerun with --skip-existing)`);
  }
  if (n === 0 && r.failed.length === 0 && !r.interrupted) lines.push('Nothing to issue: every tenant already has a certificate');
  return lines.join('\n') + '\n';
}

/** The hooks a bulk operation takes to report progress and to stop on Ctrl-C. */
export interface BulkHooks {
  signal: AbortSignal;
  onStart(total: number): void;
  onProgress(progress: BulkProgress): void;
}

/**
 * Runs a bulk operation with the progress bar on stderr and a clean first Ctrl-C (items in flight
 * finish, no new ones start; a second Ctrl-C quits at once), then puts the terminal back.
 */
export async function withBulkProgress<T>(label: string, interruptedNote: string, run: (hooks: BulkHooks) => Promise<T>): Promise<T> {
  const { interruptSignal } = await import('../interrupt.js');
  const color = colorFor(process.stderr);
  const progress = await progressDisplay(process.stderr, label, color);
  const interrupt = interruptSignal(() => progress.note(interruptedNote));
  try {
    return await run({ signal: interrupt.signal, onStart: (total) => progress.start(total, 0), onProgress: (p) => progress.update(p) });
  } finally {
    progress.stop();
    interrupt.dispose();
  }
}
