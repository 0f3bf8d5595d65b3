import type { AuditResult } from '../../ops/audit.js';
import type { Rendered, RenderOptions } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { oneLine } from './inspect.js';
import { painter } from './text.js';

/** One line per finding on stdout (grep-able: `path: CODE: message`), the verdict on stderr. */
export function renderAudit(result: AuditResult, { json, color }: RenderOptions): Rendered {
  const exitCode = result.findings.length > 0 ? EXIT_FAILED : EXIT_OK;
  if (json) return { document: { ok: result.findings.length === 0, ...result }, exitCode };
  const p = painter(color);
  const stdout = result.findings
    .map((f) => `${oneLine(f.path)}: ${(f.severity === 'error' ? p.red : p.yellow)(f.code)}${f.rule ? ` (${f.rule})` : ''}: ${oneLine(f.message)}\n`)
    .join('');
  const { certificates, keys, tenants } = result.checked;
  const errors = result.findings.filter((f) => f.severity === 'error').length;
  const warnings = result.findings.length - errors;
  const what = `${certificates} certificate${certificates === 1 ? '' : 's'}, ${keys} key${keys === 1 ? '' : 's'}, ${tenants} tenant${tenants === 1 ? '' : 's'} in ${oneLine(result.dir)}`;
  const verdict =
    result.findings.length === 0
      ? `${p.green('✓')} audit clean: ${what} (as of ${result.at}, renewal window ${result.renewBefore})`
      : `${p.red('✗')} ${result.findings.length} finding${result.findings.length === 1 ? '' : 's'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}): ${what}`;
  const notes = result.notes.map((n) => `note: ${oneLine(n)}\n`).join('');
  return { stdout, stderr: notes + verdict + '\n', exitCode };
}
