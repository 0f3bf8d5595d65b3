import type { SignCsrResult } from '../../ops/sign-csr.js';
import { painter, shown } from './text.js';

/** What `sign` made: the certificate's place and expiry; its PEM goes to stdout. */
export function renderSigned(result: SignCsrResult, color: boolean): string {
  const c = painter(color);
  return result.issued
    .map((p) => {
      const lines = [
        `${c.green('✓')} Signed the client certificate for tenant ${c.bold(p.tenantId)} (${p.keyType}, key on the connector)`,
        `  ${shown(result.dir, p.cert)}`,
        `  serial ${p.serial}, expires ${p.notAfter.slice(0, 10)}`,
      ];
      if (p.replaced) lines.push(`  Replaced (old serial ${p.replaced.serial} still valid until ${p.replaced.notAfter}; pkictl revoke ${p.replaced.serial} ends it now)`);
      return lines.join('\n');
    })
    .join('\n') + '\n';
}
