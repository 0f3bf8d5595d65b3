import { buildCrl, crlToPem } from '../core/crl-build.js';
import type { CertificateAuthority } from '../core/issue.js';
import type { IndexEntry } from '../store/cert-index.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';

const DAY_MS = 86_400_000;

export interface CrlResult {
  path: string;
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  revoked: number;
}

/**
 * Signs a CRL of every revoked certificate in the index and writes certs/crl.pem, with the next
 * CRL number. Call with the store's lock held (withLock) when it follows a revocation.
 */
export async function regenerateCrl(store: CertStore, ca: CertificateAuthority, days: number, ctx: OpContext): Promise<CrlResult> {
  return store.withLock(async () => {
    const revoked = store.index.entries().filter((e: IndexEntry) => e.status === 'revoked' && e.kind !== 'ca');
    const number = store.index.crlNumber() + 1;
    const thisUpdate = ctx.now;
    const nextUpdate = new Date(ctx.now.getTime() + days * DAY_MS);
    const crl = await buildCrl(
      {
        number,
        thisUpdate,
        nextUpdate,
        entries: revoked.map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt ?? ctx.now), reason: e.revocationReason ?? 'unspecified' })),
      },
      ca,
      ctx.crypto,
    );
    const path = await store.saveCrl(crlToPem(crl), number, { revoked: revoked.length, nextUpdate: nextUpdate.toISOString() });
    return { path: store.layout.display(path), number, thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), revoked: revoked.length };
  });
}

export interface CrlRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  days: number;
  passphrase?: string;
}

export async function writeCrl(request: CrlRequest, ctx: OpContext): Promise<CrlResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await store.loadCa(request.passphrase, ctx.crypto);
  return regenerateCrl(store, ca, request.days, ctx);
}
