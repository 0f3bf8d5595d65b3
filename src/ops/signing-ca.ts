import { assertCaCanSign, CA_REPLACEMENT, type CertificateAuthority } from '../core/issue.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';

/** The CA that signs leaves, and the retired intermediates that still sign the CRL of the leaves they issued. */
export interface SigningCa extends CertificateAuthority {
  retired?: CertificateAuthority[];
}

/**
 * The CA of every command that signs (issue, rotate, revoke, crl): loaded and proven to be the key of
 * ca.crt (store.loadCa), and refused once expired, before anything is written: a certificate or a
 * CRL signed by an expired CA verifies nowhere, and a revocation without its CRL would be half done.
 */
export async function loadSigningCa(store: CertStore, passphrase: string | undefined, ctx: OpContext): Promise<SigningCa> {
  const ca = await store.loadCa(passphrase, ctx.crypto);
  assertCaCanSign(ca, ctx.now);
  const retired: CertificateAuthority[] = [];
  for (const authority of await store.retiredAuthorities()) {
    // An expired intermediate's leaves have expired too: its CRL is no longer needed.
    if (authority.notAfter <= ctx.now) continue;
    const loaded = await store.loadCaFiles(authority, passphrase, ctx.crypto);
    retired.push({ ...loaded, chain: [loaded.der] });
  }
  return { ...ca, retired };
}

/**
 * Tells the operator, once per run, that leaves were cut short by the CA's end (core/issue.ts
 * `shortened`): `who` names each, e.g. "tenant <id>" or "server".
 */
export function warnShortened(items: Array<{ who: string; shortened?: string }>, ctx: OpContext): void {
  const short = items.filter((i) => i.shortened);
  if (short.length === 0) return;
  const more = short.length > 1 ? ` (and ${short.length - 1} more certificate(s) cut short by the CA's end)` : '';
  ctx.notify(`warning: ${short[0]!.who}: ${short[0]!.shortened}${more}\nhint: ${CA_REPLACEMENT}`);
}
