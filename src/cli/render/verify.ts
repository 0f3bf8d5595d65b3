import type { VerifyReport } from '../../ops/verify-files.js';
import { painter, shown } from './text.js';

/**
 * openssl-verify style: one line per file, "<file>: OK" or "<file>: FAILED: <code>: <reason> (depth N,
 * subject …)" on stdout; with `quiet` only the failures; with `summary` (--all) a count on stderr.
 */
export function renderVerify(report: VerifyReport, color: boolean, { quiet, summary }: { quiet: boolean; summary: boolean }): { stdout: string; stderr?: string } {
  const c = painter(color);
  const listed = quiet ? report.files.filter((f) => !f.ok) : report.files;
  const lines = listed
    .map((f) => {
      const file = report.dir === undefined ? f.file : shown(report.dir, f.file);
      if (f.ok) return `${file}: ${c.green('OK')}`;
      const first = f.failures[0];
      const where = first && first.depth !== undefined ? ` (depth ${first.depth}${first.subject ? `, subject ${first.subject}` : ''})` : '';
      const more = f.failures.length > 1 ? ` [+${f.failures.length - 1} more]` : '';
      return `${file}: ${c.red('FAILED')}: ${first ? `${first.code}: ${first.message}` : 'not valid'}${where}${more}`;
    });
  const failed = report.files.filter((f) => !f.ok).length;
  const n = report.files.length;
  const counts = `${n} certificate${n === 1 ? '' : 's'}: ${n - failed} ok, ${failed} failed\n`;
  return { stdout: lines.map((l) => `${l}\n`).join(''), ...(summary && !(quiet && failed === 0) && { stderr: counts }) };
}
