import { CA_REPLACEMENT } from '../../core/issue.js';
import type { CaStatusResult } from '../../ops/ca-status.js';
import { painter, shown } from './text.js';

/** One block per CA certificate on stdout; the warnings, with the way out, on stderr. */
export function renderCaStatus(r: CaStatusResult, color: boolean): { stdout: string; stderr?: string } {
  const c = painter(color);
  const blocks = r.cas.map((ca) => {
    const key = ca.key.location === 'offline' ? 'offline (not in the tree)' : ca.key.problem ?? `online, ${ca.key.encrypted ? 'encrypted' : c.yellow('not encrypted')} (mode ${ca.key.mode})`;
    const left = ca.status === 'valid' ? c.green(`${ca.daysLeft} days left`) : c.red(ca.status);
    return [
      `${c.bold(shown(r.dir, ca.file))}  ${ca.role} CA${ca.signs ? ', signs new leaves and the CRL' : ''}`,
      `  subject  ${ca.subject}`,
      `  serial   ${ca.serial}`,
      `  valid    ${ca.notBefore} → ${ca.notAfter} (${left})`,
      `  key      ${shown(r.dir, ca.key.file)}: ${key}`,
    ].join('\n');
  });
  const stdout = blocks.join('\n') + '\n';
  if (r.warnings.length === 0) return { stdout };
  return { stdout, stderr: [...r.warnings.map((w) => `${c.yellow('warning')}: ${w}`), `hint: ${CA_REPLACEMENT}`].join('\n') + '\n' };
}
