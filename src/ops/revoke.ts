import { inputError, PkiError } from '../core/errors.js';
import { CA_REPLACEMENT, type CertificateAuthority } from '../core/issue.js';
import { assertTenantId, type TenantIdPattern } from '../core/tenant-id.js';
import type { IndexEntry, RevocationReason } from '../store/cert-index.js';
import type { CertStore } from '../store/cert-store.js';
import { reasonOf } from '../store/files.js';
import type { OpContext } from './context.js';
import { regenerateCrl, republishIfStale, type CrlResult } from './crl.js';
import { certificateRecord, type CertificateRecord } from './records.js';
import { loadSigningCa } from './signing-ca.js';

export interface RevokeRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  /** Serials in hex, or unique prefixes of at least MIN_PREFIX hex digits. */
  serials: string[];
  tenants: string[];
  tenantIdPattern?: TenantIdPattern;
  reason: RevocationReason;
  /** nextUpdate of the regenerated CRL, in days. */
  crlDays: number;
  /** Say what would be revoked; read nothing but the index, write nothing. */
  dryRun?: boolean;
  passphrase?: string;
}

export interface RevokeResult {
  /** --dir as shown; paths below are relative to it. */
  dir: string;
  dryRun: boolean;
  /** Revoked now (or, in a dry run, that would be), with the reason they have after this run. */
  revoked: CertificateRecord[];
  /** Serials whose revocation reason became keyCompromise → the reason they had before. */
  reasonChanged: Record<string, RevocationReason>;
  /** Serials that were revoked already (nothing changed for them). */
  alreadyRevoked: string[];
  /** The CRL written; absent when nothing changed (the CRL number is not bumped for a no-op) or in a dry run. */
  crl?: CrlResult;
}

/** Shortest serial prefix taken for a whole serial: 8 hex digits make an accidental match unlikely. */
export const MIN_PREFIX = 8;

/** "0x4A:1B:..." or "4a1b..." → "4a1b...": the index's form. */
function normalizeSerial(text: string): string {
  return text.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
}

/** The index entry of a whole serial, or of the one serial that starts with `serial` (≥ MIN_PREFIX digits). */
function entryOf(store: CertStore, serial: string): IndexEntry {
  const where = store.layout.display(store.layout.root);
  const exact = store.index.get(serial);
  if (exact) return exact;
  if (serial.length < MIN_PREFIX) {
    throw inputError('SERIAL_UNKNOWN', `serial ${serial} is not in the index of ${where}, and a prefix needs at least ${MIN_PREFIX} hex digits; nothing was revoked`, 'pkictl list shows the serials this CA issued');
  }
  const matches = store.index.entries().filter((e) => e.serial.startsWith(serial));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw inputError('SERIAL_UNKNOWN', `serial ${serial} is not in the index of ${where}; nothing was revoked`, 'pkictl list shows the serials this CA issued');
  const shown = matches.slice(0, 5).map((e) => `${e.serial} (${e.tenantId ? `tenant ${e.tenantId}` : e.kind})`).join(', ');
  throw inputError('SERIAL_AMBIGUOUS', `serial prefix ${serial} matches ${matches.length} certificates: ${shown}${matches.length > 5 ? ', …' : ''}; nothing was revoked`, 'give more digits of the serial');
}

/** Still authenticates: not revoked and not expired (superseded ones included, until their notAfter). */
export const isLive = (e: IndexEntry, now: Date) => e.status !== 'revoked' && new Date(e.notAfter) >= now;

/**
 * Every certificate a tenant has had, with a pair on disk that the index does not know (issued before
 * the index existed) recorded first when `adopt`, so that it can be revoked too. Call with the lock held.
 */
export async function tenantCertificates(store: CertStore, tenant: string, pattern: TenantIdPattern | undefined, adopt = true): Promise<IndexEntry[]> {
  const entries = store.index.entriesFor('client', tenant);
  const slot = store.clientSlot(tenant, pattern);
  if (!adopt || store.slotState(slot) === 'absent') return entries;
  const onDisk = await store.adopt('client', await store.readText(slot.certLink), slot.certLink, tenant);
  return entries.some((e) => e.serial === onDisk.serial) ? entries : [...entries, onDisk];
}

/**
 * Records the revocations, then regenerates crl.pem; a CRL that cannot be written after a recorded
 * revocation is said so. When nothing changed, the published CRL stays as it is (its number is not
 * bumped) unless it lacks a recorded revocation. Call with the lock held.
 */
export async function revokeAndPublish(store: CertStore, ca: CertificateAuthority, serials: string[], request: { reason: RevocationReason; crlDays: number }, ctx: OpContext): Promise<{ revoked: IndexEntry[]; crl?: CrlResult }> {
  const revoked = await store.revoke([...new Set(serials)], request.reason, ctx.now);
  if (revoked.length === 0) return { revoked, crl: await republishIfStale(store, ca, ctx) };
  try {
    return { revoked, crl: await regenerateCrl(store, ca, request.crlDays, ctx) };
  } catch (error) {
    const cause = error instanceof PkiError ? error.message : reasonOf(error).reason;
    throw new PkiError('CRL_NOT_WRITTEN', `revocation of ${revoked.length} certificate(s) recorded, CRL not written (${cause}): run pkictl crl`, { kind: 'failure', cause: error });
  }
}

/**
 * Whether this run changes an entry: it is revoked now, or its reason is raised to keyCompromise. Only that
 * change of reason is allowed: a compromise found after a milder revocation must show in the CRL
 * (Mozilla Root Store Policy §6.1.1: the CA updates the entry's reasonCode to keyCompromise); other
 * repeats leave the first reason, so a revocation only ever moves to the graver one.
 */
function changes(entry: IndexEntry, reason: RevocationReason): boolean {
  return entry.status !== 'revoked' || (reason === 'keyCompromise' && entry.revocationReason !== 'keyCompromise');
}

/**
 * Revokes certificates by serial, or every live certificate of a tenant (offboarding: the current
 * one and superseded ones that have not expired, since those still authenticate until notAfter),
 * then regenerates certs/crl.pem, all under one lock. Unknown serials or tenants are input errors
 * and nothing is written; a run that changes nothing writes nothing either, so the CRL number stays
 * (crl.pem is only rewritten when it lacks a recorded revocation).
 */
export async function revoke(request: RevokeRequest, ctx: OpContext): Promise<RevokeResult> {
  for (const t of request.tenants) assertTenantId(t, request.tenantIdPattern);
  const serials = request.serials.map(normalizeSerial);
  for (const [i, s] of serials.entries()) {
    if (!/^[0-9a-f]{1,40}$/.test(s)) throw inputError('SERIAL_INVALID', `invalid serial '${request.serials[i]}': expected hex, as openssl x509 -serial prints it`);
  }
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const dryRun = request.dryRun === true;
  const dir = store.layout.display(store.layout.root);

  /** The entries this run changes, and those it leaves as they are. With `adopt`, pairs on disk missing from the index are recorded first. */
  const select = async (adopt: boolean) => {
    const targets = new Map<string, IndexEntry>();
    const alreadyRevoked: string[] = [];
    const consider = (entry: IndexEntry) => {
      if (changes(entry, request.reason)) targets.set(entry.serial, entry);
      else alreadyRevoked.push(entry.serial);
    };
    for (const serial of serials) {
      const entry = entryOf(store, serial);
      if (entry.kind === 'intermediate') throw inputError('SERIAL_IS_INTERMEDIATE', `serial ${entry.serial} is an intermediate CA: its revocation goes in root-crl.pem, signed by the root`, `pkictl intermediate revoke ${entry.serial} [--root-key FILE]`);
      if (entry.kind === 'ca') throw inputError('SERIAL_IS_CA', `serial ${entry.serial} is the CA certificate itself; a CA does not revoke itself`, `to retire the CA: ${CA_REPLACEMENT}`);
      consider(entry);
    }
    for (const tenant of request.tenants) {
      const entries = await tenantCertificates(store, tenant, request.tenantIdPattern, adopt);
      if (entries.length === 0) throw inputError('TENANT_UNKNOWN', `tenant ${tenant} has no certificate in ${store.layout.display(store.layout.root)}; nothing was revoked`);
      // Expired certificates authenticate no more: only live ones are revoked (or get a graver reason).
      for (const e of entries) if (new Date(e.notAfter) >= ctx.now || e.status === 'revoked') consider(e);
    }
    const reasonChanged: Record<string, RevocationReason> = {};
    for (const e of targets.values()) if (e.status === 'revoked') reasonChanged[e.serial] = e.revocationReason ?? 'unspecified';
    return { targets: [...targets.values()], alreadyRevoked: [...new Set(alreadyRevoked)].filter((s) => !targets.has(s)), reasonChanged };
  };

  if (dryRun) {
    await store.assertCa(); // as the real run does (loadCa): no CA, nothing to plan
    await store.index.load();
    const { targets, alreadyRevoked, reasonChanged } = await select(false);
    const revoked = targets.map((e) => certificateRecord({ ...e, status: 'revoked', revocationReason: request.reason, revokedAt: e.revokedAt ?? ctx.now.toISOString() }));
    return { dir, dryRun, revoked, reasonChanged, alreadyRevoked };
  }
  const ca = await loadSigningCa(store, request.passphrase, ctx); // fails before anything is written
  return store.withLock(async () => {
    const { targets, alreadyRevoked, reasonChanged } = await select(true);
    const { revoked, crl } = await revokeAndPublish(store, ca, targets.map((e) => e.serial), request, ctx);
    return { dir, dryRun, revoked: revoked.map(certificateRecord), reasonChanged, alreadyRevoked, ...(crl && { crl }) };
  });
}
