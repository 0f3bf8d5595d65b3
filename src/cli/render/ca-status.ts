import { CA_REPLACEMENT } from '../../core/issue.js';
import type { CaStatusResult } from '../../ops/ca-status.js';
import type { CompromiseResult } from '../../ops/compromise.js';
import type { RolloverResult } from '../../ops/rollover.js';
import { painter, shown } from './text.js';

/** One block per CA certificate on stdout; the warnings, with the way out, on stderr. */
export function renderCaStatus(r: CaStatusResult, color: boolean): { stdout: string; stderr?: string } {
  const c = painter(color);
  const blocks = r.cas.map((ca) => {
    const key = ca.key.location === 'offline' ? 'offline (not in the tree)' : ca.key.problem ?? `online, ${ca.key.encrypted ? 'encrypted' : c.yellow('not encrypted')} (mode ${ca.key.mode})`;
    const left = ca.status === 'valid' ? c.green(`${ca.daysLeft} days left`) : c.red(ca.status);
    const role = `${ca.role} CA${ca.retired ? ' (retired: signs its leaves\' CRL until they expire)' : ''}${ca.signs ? ', signs new leaves and the CRL' : ''}`;
    return [
      `${c.bold(shown(r.dir, ca.file))}  ${role}`,
      `  subject  ${ca.subject}`,
      `  serial   ${ca.serial}`,
      `  valid    ${ca.notBefore} → ${ca.notAfter} (${left})`,
      `  key      ${shown(r.dir, ca.key.file)}: ${key}`,
    ].join('\n');
  });
  if (r.rollover) blocks.push(`root rollover: ${r.rollover.phase} (old root ${r.rollover.oldRoot}, new root ${r.rollover.newRoot})`);
  const stdout = blocks.join('\n') + '\n';
  if (r.warnings.length === 0) return { stdout };
  return { stdout, stderr: [...r.warnings.map((w) => `${c.yellow('warning')}: ${w}`), `hint: ${CA_REPLACEMENT}`].join('\n') + '\n' };
}

/** A rollover phase: what was done, the re-issue when there was one, and what each side does next. */
export function renderRollover(r: RolloverResult, color: boolean): string {
  const c = painter(color);
  const lines = [r.changed ? `${c.green('✓')} root rollover ${r.phase} (old root ${r.oldRoot}, new root ${r.newRoot})` : `root rollover: ${r.phase} already (old root ${r.oldRoot}, new root ${r.newRoot}); nothing to do for this phase`];
  if (r.rotation) {
    const x = r.rotation;
    lines.push(`  re-issued under the new root: ${x.rotated.length}, already under it: ${x.skipped.length}, failed: ${x.failed.length}${x.notStarted.length ? `, not started: ${x.notStarted.length}` : ''}`);
    for (const f of x.failed.slice(0, 5)) lines.push(`  ${c.red('✗')} ${f.tenantId ?? f.kind}: ${f.error}`);
    if (x.failed.length > 0 || x.notStarted.length > 0) lines.push('  run pkictl ca rollover switch again: it re-issues only what is left');
  }
  if (r.strandedByForce) lines.push(`  ${c.yellow('!')} --force: ${r.strandedByForce.length} pair(s) still under the old root stop working`);
  lines.push(`next: ${r.next}`);
  return lines.join('\n') + '\n';
}

/** The drill: its plan (dry run) or what was done, step by step, and what each side does next. */
export function renderCompromise(r: CompromiseResult, color: boolean): string {
  const c = painter(color);
  const head = r.dryRun
    ? `${c.bold('dry run')}: the ${r.scope} CA ${r.oldCa} is treated as compromised; ${r.reissued} pair(s) would be re-issued with new keys and ${r.revoked} certificate(s) revoked; nothing was changed`
    : r.finished
      ? `${c.green('✓')} compromise drill (${r.scope}) finished in ${(r.durationMs / 1000).toFixed(1)} s: ${r.oldCa} → ${r.newCa}; ${r.reissued} pair(s) re-issued with new keys, ${r.revoked} certificate(s) revoked`
      : `${c.red('✗')} compromise drill (${r.scope}) stopped: ${r.failed.length} pair(s) could not be re-issued; run the same command again to resume`;
  const lines = [head];
  if (!r.dryRun) for (const s of r.steps) lines.push(`  ${s.status === 'done' ? c.green('✓') : '·'} ${s.step}${s.detail ? `: ${s.detail}` : ` (${s.status})`}`);
  for (const f of r.failed.slice(0, 5)) lines.push(`  ${c.red('✗')} ${f.tenantId ?? f.kind}: ${f.error}`);
  lines.push(`next: ${r.next}`);
  return lines.join('\n') + '\n';
}
