import { inputError, PkiError } from '../core/errors.js';
import { assertTenantId, type TenantIdPattern } from '../core/tenant-id.js';
import type { CertificateAuthority } from '../core/issue.js';
import type { IndexEntry, RevocationReason } from '../store/cert-index.js';
import type { CertStore } from '../store/cert-store.js';
import { reasonOf } from '../store/files.js';
import type { OpContext } from './context.js';
import { regenerateCrl, type CrlResult } from './crl.js';
import { certificateRecord, type CertificateRecord } from './records.js';

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
  /** --dir as shown; paths below are relative to it. */
  dir: string;
  revoked: CertificateRecord[];
  /** Serials that were revoked already (nothing changed for them). */
  alreadyRevoked: string[];
  crl: CrlResult;
}

/** "0x4A:1B:..." or "4a1b..." → "4a1b...": the index's form. */
function normalizeSerial(text: string): string {
  return text.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
}

/** Still authenticates: not revoked and not expired (superseded ones included, until their notAfter). */
export const isLive = (e: IndexEntry, now: Date) => e.status !== 'revoked' && new Date(e.notAfter) >= now;

/**
 * Every certificate a tenant has had, with a pair on disk that the index does not know (issued before
 * the index existed) recorded first, so that it can be revoked too. Call with the lock held.
 */
export async function tenantCertificates(store: CertStore, tenant: string, pattern: TenantIdPattern | undefined): Promise<IndexEntry[]> {
  const entries = store.index.entriesFor('client', tenant);
  const slot = store.clientSlot(tenant, pattern);
  if (store.slotState(slot) === 'absent') return entries;
  const onDisk = await store.adopt('client', await store.readText(slot.certLink), slot.certLink, tenant);
  return entries.some((e) => e.serial === onDisk.serial) ? entries : [...entries, onDisk];
}

/** Records the revocations, then regenerates crl.pem; a CRL that cannot be written after a recorded revocation is said so. Call with the lock held. */
export async function revokeAndPublish(store: CertStore, ca: CertificateAuthority, serials: string[], request: { reason: RevocationReason; crlDays: number }, ctx: OpContext): Promise<{ revoked: IndexEntry[]; crl: CrlResult }> {
  const revoked = await store.revoke([...new Set(serials)], request.reason, ctx.now);
  try {
    return { revoked, crl: await regenerateCrl(store, ca, request.crlDays, ctx) };
  } catch (error) {
    if (revoked.length === 0) throw error;
    const cause = error instanceof PkiError ? error.message : reasonOf(error).reason;
    throw new PkiError('CRL_NOT_WRITTEN', `revocation of ${revoked.length} certificate(s) recorded, CRL not written (${cause}): run pkictl crl`, { kind: 'failure', cause: error });
  }
}

/**
 * Revokes certificates by serial, or every live certificate of a tenant (the current one and
 * superseded ones that have not expired, since those still authenticate until notAfter), then
 * regenerates certs/crl.pem, all under one lock. Unknown serials or tenants are input errors and
 * nothing is written. The tenant's directory stays: pkictl offboard also archives it.
 */
export async function revoke(request: RevokeRequest, ctx: OpContext): Promise<RevokeResult> {
  for (const t of request.tenants) assertTenantId(t, request.tenantIdPattern);
  const serials = request.serials.map(normalizeSerial);
  for (const [i, s] of serials.entries()) {
    if (!/^[0-9a-f]{1,40}$/.test(s)) throw inputError('SERIAL_INVALID', `invalid serial '${request.serials[i]}': expected hex, as openssl x509 -serial prints it`);
  }
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await store.loadCa(request.passphrase, ctx.crypto); // fails before anything is written
  return store.withLock(async () => {
    const targets: string[] = [];
    const alreadyRevoked: string[] = [];
    for (const serial of serials) {
      const entry = store.index.get(serial);
      if (!entry) throw inputError('SERIAL_UNKNOWN', `serial ${serial} is not in the index of ${store.layout.display(store.layout.root)}; nothing was revoked`, 'pkictl list shows the serials this CA issued');
      if (entry.kind === 'ca') throw inputError('SERIAL_IS_CA', `serial ${serial} is the CA certificate itself; a CA does not revoke itself`, 'to retire the CA, create a new one with pkictl init and reissue');
      if (entry.status === 'revoked') alreadyRevoked.push(serial);
      else targets.push(serial);
    }
    for (const tenant of request.tenants) {
      const entries = await tenantCertificates(store, tenant, request.tenantIdPattern);
      if (entries.length === 0) throw inputError('TENANT_UNKNOWN', `tenant ${tenant} has no certificate in ${store.layout.display(store.layout.root)}; nothing was revoked`);
      const live = entries.filter((e) => isLive(e, ctx.now));
      if (live.length === 0) alreadyRevoked.push(...entries.filter((e) => e.status === 'revoked').map((e) => e.serial));
      targets.push(...live.map((e) => e.serial));
    }
    const { revoked, crl } = await revokeAndPublish(store, ca, targets, request, ctx);
    return { dir: store.layout.display(store.layout.root), revoked: revoked.map(certificateRecord), alreadyRevoked, crl };
  });
}
