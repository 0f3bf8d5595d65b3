import type { VerifyReport } from '../../ops/verify-files.js';
import { painter, shown } from './text.js';

/** openssl-verify style: one line per file, "<file>: OK" or "<file>: FAILED: <code>: <reason> (depth N, subject …)". */
export function renderVerify(report: VerifyReport, color: boolean): string {
  const c = painter(color);
  return report.files
    .map((f) => {
      const file = report.dir === undefined ? f.file : shown(report.dir, f.file);
      if (f.ok) return `${file}: ${c.green('OK')}`;
      const first = f.failures[0];
      const where = first && first.depth !== undefined ? ` (depth ${first.depth}${first.subject ? `, subject ${first.subject}` : ''})` : '';
      const more = f.failures.length > 1 ? ` [+${f.failures.length - 1} more]` : '';
      return `${file}: ${c.red('FAILED')}: ${first ? `${first.code}: ${first.message}` : 'not valid'}${where}${more}`;
    })
    .join('\n') + '\n';
}
