import { join } from 'node:path';
import { Chalk } from 'chalk';
import type { IssuedPair } from '../../ops/context.js';

export const painter = (color: boolean) => new Chalk({ level: color ? 1 : 0 });

/** Colour only on a terminal, and never when NO_COLOR is set (no-color.org: whatever its value). */
export const colorFor = (stream: NodeJS.WriteStream) => !('NO_COLOR' in process.env) && stream.isTTY === true;

/** At most `max` lines, then "… and N more": a run with 10,000 failures is one screen (--json lists them all). */
export function firstLines(lines: string[], max = 20): string[] {
  return lines.length <= max ? lines : [...lines.slice(0, max), `  … and ${lines.length - max} more (--json lists them all)`];
}

/** A path of a --json document (relative to --dir) as people see it: relative to the working directory. */
export const shown = (dir: string, path: string) => join(dir, path);

const what: Record<IssuedPair['kind'], string> = { ca: 'root CA', intermediate: 'issuing intermediate CA', server: 'server certificate', client: 'client certificate' };

/** mkcert-style: what was made, where it is, when it expires. */
export function renderIssued(dir: string, pairs: IssuedPair[], color: boolean): string {
  const c = painter(color);
  return pairs
    .map((p) => {
      const name = p.kind === 'client' ? `for tenant ${c.bold(p.tenantId)}` : `"${p.subject}"`;
      const lines = [
        `${c.green('✓')} Created the ${what[p.kind]} ${name} (${p.keyType})`,
        `  ${shown(dir, p.cert)}  ${shown(dir, p.key)}`,
        `  serial ${p.serial}, expires ${p.notAfter.slice(0, 10)}`,
      ];
      if (p.sans) lines.push(`  SANs: ${p.sans.join(', ')}`);
      // Replacing is not revoking: the old pair still authenticates until it expires.
      if (p.replaced && p.kind === 'intermediate') lines.push(`  Replaces ${p.replaced.serial}, kept in authorities/: it stays in the chain of the leaves it signed and signs their CRL until they expire`);
      else if (p.replaced) lines.push(`  Replaced (old serial ${p.replaced.serial} still valid until ${p.replaced.notAfter}; pkictl revoke ${p.replaced.serial} ends it now)`);
      return lines.join('\n');
    })
    .join('\n') + '\n';
}
