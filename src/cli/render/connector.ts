import type { ConnectorResult } from '../../ops/connector.js';
import type { SignCsrResult } from '../../ops/sign-csr.js';
import type { CreatedToken, ListedToken } from '../../ops/tokens.js';
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

/** The token goes to stdout alone; this says what it is for, on stderr. */
export function renderTokenCreated(t: CreatedToken): string {
  return `token ${t.id} for tenant ${t.tenantId}, valid until ${t.expiresAt}, one use; it is shown only now\n` +
    `hint: the connector enrolls with pkictl enroll --server URL --token TOKEN --tenant ${t.tenantId} --dir DIR --fingerprint SHA256\n`;
}

export function renderTokens(tokens: ListedToken[]): string {
  if (tokens.length === 0) return 'no tokens\n';
  const rows = tokens.map((t) => [t.id, t.tenantId, t.state, t.expiresAt, t.usedAt ?? t.revokedAt ?? '-']);
  return ['ID\tTENANT\tSTATE\tEXPIRES\tUSED/REVOKED', ...rows.map((r) => r.join('\t'))].join('\n') + '\n';
}

/** What enroll/renew did, one or two lines (the daemon logs the first). */
export function renderConnector(r: ConnectorResult): string {
  if (!r.renewed) return `${r.dir}: ${r.reason}\n`;
  const what = r.previous ? `renewed (serial ${r.previous.serial} → ${r.serial})` : `enrolled tenant ${r.tenantId} (serial ${r.serial})`;
  return `${r.dir}: ${what}, expires ${r.notAfter}${r.caUpdated ? '; ca.crt updated with the roots the server publishes' : ''}${r.hook && !r.hook.ok ? `; the hook failed (exit ${r.hook.code ?? r.hook.signal})` : ''}\n`;
}
