import type { AuditVerifyReport } from '../../ops/audit-log.js';
import type { CrlResult } from '../../ops/crl.js';
import type { OffboardResult } from '../../ops/offboard.js';
import type { RevokeResult } from '../../ops/revoke.js';
import type { PlanItem, RotateResult } from '../../ops/rotate.js';
import { firstLines, painter, shown } from './text.js';

const who = (i: { kind: string; tenantId?: string }) => (i.kind === 'server' ? 'server' : i.tenantId!);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The plan as a table on stdout under a header: tenant, serial, notAfter, action, why (tab-separated
 * for scripts). What would be done (rotate, refused); the skipped pairs too with `verbose`.
 */
export function renderPlan(plan: PlanItem[], verbose: boolean): string {
  const rows = verbose ? plan : plan.filter((p) => p.action !== 'skip');
  if (rows.length === 0) return '';
  return ['TENANT\tSERIAL\tNOT AFTER\tACTION\tWHY', ...rows.map((p) => [who(p), p.serial ?? '-', p.notAfter ?? '-', p.action, p.why].join('\t'))].join('\n') + '\n';
}

/** Summary of a rotation run (stderr). */
export function renderRotate(r: RotateResult, color: boolean): string {
  const c = painter(color);
  const lines: string[] = [];
  const due = r.plan.filter((p) => p.action === 'rotate').length;
  const failed = firstLines(r.failed.map((f) => `${c.red('✗')} ${who(f)}: ${f.error}`));
  if (r.dryRun) {
    lines.push(...failed);
    lines.push(`${c.bold('dry run')}: ${plural(due, 'pair')} would be rotated, ${r.skipped.length} skipped${r.failed.length > 0 ? `, ${r.failed.length} refused` : ''} (as of ${r.at}, renew before ${r.renewBefore}); nothing was changed`);
    return lines.join('\n') + '\n';
  }
  for (const x of r.rotated.slice(0, 10)) lines.push(`${c.green('✓')} ${who(x)}: ${x.oldSerial} → ${x.serial}, expires ${x.notAfter.slice(0, 10)}${x.keyReused ? ' (same key)' : ''}`);
  if (r.rotated.length > 10) lines.push(`  … and ${r.rotated.length - 10} more`);
  lines.push(...failed);
  // Why each pair was left alone (not due, revoked, no certificate…): a pair rotate never renews is visible.
  lines.push(...firstLines(r.skipped.map((s) => `  skipped ${who(s)}: ${s.why}`)));
  lines.push(...firstLines(r.execFailed.map((e) => `${c.yellow('!')} ${who(e)}: --exec command failed (${e.signal ? `signal ${e.signal}` : `exit ${e.code}`}); the new pair is in place`)));
  lines.push(`rotated ${r.rotated.length}, skipped ${r.skipped.length}, failed ${r.failed.length}${r.execFailed.length > 0 ? `, --exec failed ${r.execFailed.length}` : ''}${r.notStarted.length > 0 ? `, not started ${r.notStarted.length}` : ''}`);
  if (r.interrupted) lines.push('  interrupted: every pair is complete; run the same command again to finish');
  return lines.join('\n') + '\n';
}

export function renderRevoke(r: RevokeResult, color: boolean): string {
  const c = painter(color);
  const whose = (e: RevokeResult['revoked'][number]) => (e.tenantId ? `tenant ${e.tenantId}` : e.kind);
  const lines = r.revoked.map((e) => {
    const was = r.reasonChanged[e.serial];
    const reason = e.revocation?.reason;
    return r.dryRun
      ? `  would ${was ? 'change the reason of' : 'revoke'} ${e.serial} (${whose(e)}): ${was ? `${was} → ` : ''}${reason}`
      : `${c.green('✓')} ${was ? 'reason of' : 'revoked'} ${e.serial} (${whose(e)}): ${was ? `${was} → ` : ''}${reason}`;
  });
  for (const s of r.alreadyRevoked) lines.push(`  ${s} was already revoked`);
  if (r.dryRun) lines.push(`${c.bold('dry run')}: ${plural(r.revoked.length, 'certificate')} would change; nothing was written`);
  else if (r.crl) lines.push(renderCrl(r.dir, r.crl, color).trimEnd());
  else lines.push('nothing changed: crl.pem left as it is');
  return lines.join('\n') + '\n';
}

export function renderOffboard(r: OffboardResult, color: boolean): string {
  const c = painter(color);
  const lines: string[] = [];
  for (const t of r.tenants) {
    if (t.alreadyOffboarded) {
      lines.push(`  ${t.tenantId} was offboarded before: nothing changed`);
      continue;
    }
    const revoked = t.revoked.length > 0 ? `revoked ${t.revoked.join(', ')}; ` : '';
    const where = t.archive ? `moved to ${t.archive} (keys ${t.keys})` : 'no directory was left in clients/ (recorded as offboarded)';
    lines.push(`${t.keys.startsWith('not destroyed') ? c.yellow('!') : c.green('✓')} offboarded ${t.tenantId}: ${revoked}${where}`);
  }
  if (r.crl) lines.push(renderCrl(r.dir, r.crl, color).trimEnd());
  return lines.join('\n') + '\n';
}

export function renderCrl(dir: string, r: CrlResult, color: boolean): string {
  const c = painter(color);
  return `${c.green('✓')} wrote ${shown(dir, r.path)}: CRL number ${r.number}, ${plural(r.revoked, 'revoked certificate')}, next update ${r.nextUpdate}\n`;
}

export function renderAuditVerify(r: AuditVerifyReport, color: boolean): string {
  const c = painter(color);
  const lines: string[] = [];
  const path = shown(r.dir, r.path);
  if (r.ok) lines.push(`${c.green('✓')} ${path}: ${plural(r.lines, 'line')}, hash chain intact${r.head ? `, ends at ${r.head.hash.slice(0, 16)}…` : ''}`);
  else lines.push(`${c.red('✗')} ${path}: ${r.problem!.line === undefined ? '' : `line ${r.problem!.line}: `}${r.problem!.message}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join('\n') + '\n';
}
