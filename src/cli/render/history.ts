import type { AuditEventView, AuditShowResult } from '../../ops/audit-log.js';
import type { HistoryCertificate, HistoryResult } from '../../ops/history.js';
import type { Rendered, RenderOptions } from '../define-command.js';
import { oneLine } from './inspect.js';
import { painter } from './text.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** One event per line: time, action (FAILED when it failed), whose, serial, actor, details as key=value. */
export function eventLine(e: AuditEventView, color: boolean): string {
  const p = painter(color);
  const detail = Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join(' ');
  const cells = [e.time, e.result === 'failed' ? p.red(`${e.action} FAILED`) : e.action, e.kind === 'client' ? (e.tenantId ?? '-') : (e.kind ?? '-'), e.serial ?? '-', `by ${e.actor}`, detail];
  return oneLine(cells.filter((c) => c !== '').join('  '));
}

export function renderAuditShow(r: AuditShowResult, { json, color }: RenderOptions): Rendered {
  if (json) return { document: { dir: r.dir, auditLog: r.auditLog, lines: r.lines, events: r.events, problems: r.problems } };
  const problems = r.problems.map((x) => `warning: ${oneLine(x)} (pkictl audit-log verify checks the chain)\n`).join('');
  return { stdout: r.events.map((e) => `${eventLine(e, color)}\n`).join(''), stderr: `${problems}${plural(r.events.length, 'event')} of ${plural(r.lines, 'line')} in ${oneLine(r.dir)}/${oneLine(r.auditLog)}\n` };
}

/** A table of the tenant's certificates on stdout (oldest first); where it stands on stderr. */
export function renderHistory(r: HistoryResult, { json, color }: RenderOptions): Rendered {
  if (json) return { document: { ...r } };
  const p = painter(color);
  const header = ['ISSUED', 'SERIAL', 'STATUS', 'NOT BEFORE', 'NOT AFTER', 'BY'];
  const status = (c: HistoryCertificate) =>
    c.revocation
      ? `revoked (${c.revocation.reason}) ${c.revocation.revokedAt?.slice(0, 10) ?? ''}`
      : c.status === 'superseded'
        ? `superseded ${c.supersededAt?.slice(0, 10) ?? ''}`.trim()
        : c.status;
  const rows = r.certificates.map((c) => [
    c.issuedAt.slice(0, 19) + 'Z',
    c.serial,
    status(c) + (c.expired ? ', expired' : '') + (c.archive ? `, archived ${c.archive.archivedAt.slice(0, 10)}` : ''),
    c.notBefore.slice(0, 10),
    c.notAfter.slice(0, 10),
    `${c.action ?? '?'} by ${c.issuedBy ?? 'unknown'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => oneLine(cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  const stdout = [p.bold(line(header)), ...rows.map(line)].join('\n') + '\n';
  const archives = r.events.filter((e) => e.action === 'archive' && e.result === 'ok').map((e) => `archived ${e.time} by ${e.actor}: ${e.detail.to ?? ''} (keys ${e.detail.keys ?? 'kept'})`);
  const where = r.deployed ? `deployed in clients/${r.tenantId}/` : 'not deployed (no clients/ directory)';
  return { stdout, stderr: [...archives, `${plural(r.certificates.length, 'certificate')} for tenant ${r.tenantId}; ${where}`].map((l) => `${oneLine(l)}\n`).join('') };
}
