import { inputError, PkiError } from '../core/errors.js';
import { CA_REPLACEMENT } from '../core/issue.js';
import { assertTenantId, type TenantIdPattern } from '../core/tenant-id.js';
import type { IndexEntry, RevocationReason } from '../store/cert-index.js';
import { reasonOf } from '../store/files.js';
import type { OpContext } from './context.js';
import { loadSigningCa } from './signing-ca.js';
import { regenerateCrl, type CrlResult } from './crl.js';

export interface RevokeRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  serials: string[];
  tenants: string[];
  tenantIdPattern?: TenantIdPattern;
  reason: RevocationReason;
  /** nextUpdate of the regenerated CRL, in days. */
  crlDays: number;
  passphrase?: string;
}

export interface RevokeResult {
  revoked: IndexEntry[];
  /** Serials that were revoked already (nothing changed for them). */
  alreadyRevoked: string[];
  crl: CrlResult;
}

/** "0x4A:1B:..." or "4a1b..." → "4a1b...": the index's form. */
function normalizeSerial(text: string): string {
  return text.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
}

/**
 * Revokes certificates by serial, or every live certificate of a tenant (offboarding: the current
 * one and superseded ones that have not expired, since those still authenticate until notAfter),
 * then regenerates certs/crl.pem, all under one lock. Unknown serials or tenants are input errors
 * and nothing is written.
 */
export async function revoke(request: RevokeRequest, ctx: OpContext): Promise<RevokeResult> {
  for (const t of request.tenants) assertTenantId(t, request.tenantIdPattern);
  const serials = request.serials.map(normalizeSerial);
  for (const [i, s] of serials.entries()) {
    if (!/^[0-9a-f]{1,40}$/.test(s)) throw inputError('SERIAL_INVALID', `invalid serial '${request.serials[i]}': expected hex, as openssl x509 -serial prints it`);
  }
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await loadSigningCa(store, request.passphrase, ctx); // fails before anything is written
  return store.withLock(async () => {
    const targets: string[] = [];
    const alreadyRevoked: string[] = [];
    for (const serial of serials) {
      const entry = store.index.get(serial);
      if (!entry) throw inputError('SERIAL_UNKNOWN', `serial ${serial} is not in the index of ${store.layout.display(store.layout.root)}; nothing was revoked`, 'pkictl list shows the serials this CA issued');
      if (entry.kind === 'ca') throw inputError('SERIAL_IS_CA', `serial ${serial} is the CA certificate itself; a CA does not revoke itself`, `to retire the CA: ${CA_REPLACEMENT}`);
      if (entry.status === 'revoked') alreadyRevoked.push(serial);
      else targets.push(serial);
    }
    for (const tenant of request.tenants) {
      let entries = store.index.entriesFor('client', tenant);
      const slot = store.clientSlot(tenant, request.tenantIdPattern);
      if (store.slotState(slot) !== 'absent') {
        // A pair issued before the index existed is recorded first, so it can be revoked too.
        const onDisk = await store.adopt('client', await store.readText(slot.certLink), slot.certLink, tenant);
        if (!entries.some((e) => e.serial === onDisk.serial)) entries = [...entries, onDisk];
      }
      if (entries.length === 0) throw inputError('TENANT_UNKNOWN', `tenant ${tenant} has no certificate in ${store.layout.display(store.layout.root)}; nothing was revoked`);
      const live = entries.filter((e) => e.status !== 'revoked' && new Date(e.notAfter) >= ctx.now);
      if (live.length === 0) alreadyRevoked.push(...entries.filter((e) => e.status === 'revoked').map((e) => e.serial));
      targets.push(...live.map((e) => e.serial));
    }
    const revoked = await store.revoke([...new Set(targets)], request.reason, ctx.now);
    try {
      return { revoked, alreadyRevoked, crl: await regenerateCrl(store, ca, request.crlDays, ctx) };
    } catch (error) {
      if (revoked.length === 0) throw error;
      const cause = error instanceof PkiError ? error.message : reasonOf(error).reason;
      throw new PkiError('CRL_NOT_WRITTEN', `revocation of ${revoked.length} certificate(s) recorded, CRL not written (${cause}): run pkictl crl`, { kind: 'failure', cause: error });
    }
  });
}
