import { offboardHint, type ListResult, type ListRow, type ListStatus } from '../../ops/list.js';
import { revocationText } from '../../ops/records.js';
import type { Rendered, RenderOptions } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { oneLine } from './inspect.js';
import { painter } from './text.js';

const name = (r: ListRow) => oneLine(r.tenantId ?? r.commonName ?? '?');

/** The STATUS column: the status and why ("revoked (keyCompromise) at …" says both). */
function statusText(r: ListRow): string {
  const why = [...r.problems, ...(r.revocation ? [revocationText(r.revocation)] : [])];
  if (r.status === 'revoked') return oneLine(why.join('; ') + (r.kind === 'client' && r.tenantId ? offboardHint(r.tenantId) : ''));
  return r.status + (why.length ? `: ${oneLine(why.join('; '))}` : '');
}

export function renderList(result: ListResult, { json, color }: RenderOptions, check: boolean): Rendered {
  // An expired CRL fails every revocation check downstream, and one that lacks recorded revocations
  // lets revoked certificates through: as urgent as an expired certificate.
  const crlAttention = result.crl?.status === 'expired' || result.crl?.status === 'unreadable' || result.unpublishedRevocations > 0;
  const attention = result.certificates.filter((r) => r.status !== 'valid' && r.status !== 'superseded').length + (crlAttention ? 1 : 0) + result.foreignLinks.length;
  const exitCode = check && attention > 0 ? EXIT_FAILED : EXIT_OK;
  if (json) return { document: { ...result, check: check ? { ok: attention === 0 } : undefined }, exitCode };
  const p = painter(color);
  const paint: Record<ListStatus, (s: string) => string> = { valid: p.green, expiring: p.yellow, expired: p.red, revoked: p.red, invalid: p.red, superseded: (s) => s };
  const header = ['KIND', 'TENANT / CN', 'SERIAL', 'NOT AFTER', 'DAYS', 'STATUS'];
  const rows = result.certificates.map((r) => [
    r.kind,
    name(r),
    r.serial ?? '-',
    r.notAfter?.slice(0, 10) ?? '-',
    r.daysLeft === null ? '-' : String(r.daysLeft),
    statusText(r) + (r.supersededBy ? ` by ${r.supersededBy.slice(0, 16)}…` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], status?: ListStatus) =>
    cells
      .map((c, i) => (i === 4 ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .map((c, i) => (i === cells.length - 1 && status ? paint[status](c) : c))
      .join('  ');
  const stdout = rows.length ? [p.bold(line(header)), ...rows.map((r, i) => line(r, result.certificates[i]!.status))].join('\n') + '\n' : '';
  const c = result.counts;
  const total = c.valid + c.expiring + c.expired + c.revoked + c.invalid;
  let summary = `${total} certificate${total === 1 ? '' : 's'} in ${result.dir}: ${c.valid} valid, ${c.expiring} expiring, ${c.expired} expired, ${c.revoked} revoked, ${c.invalid} invalid`;
  if (c.superseded > 0) summary += `; ${c.superseded} superseded, still within their validity`;
  summary += ` (as of ${result.at}, renewal window ${result.renewBefore}${result.hidden ? `; ${result.hidden} valid not shown` : ''})`;
  const warnings = [...result.foreignLinks, ...result.warnings].map((w) => `warning: ${oneLine(w)}\n`).join('');
  return { stdout, stderr: warnings + summary + '\n', exitCode };
}
