import type { Certificate } from '../core/cert.js';
import { readCertificatePem, readCertificates } from '../core/cert-input.js';
import { inputError } from '../core/errors.js';
import { issueLeaf, keyIdOf, type CertificateAuthority } from '../core/issue.js';
import { equalBytes } from '../core/der.js';
import { importPrivateKeyPem, keyTypeOf, newKey, publicKeyOf, spkiSha256, type KeyType } from '../core/keys.js';
import { needsRenewal, type RenewThreshold } from '../core/renewal.js';
import type { San } from '../core/san.js';
import { subjectOf, type Subject } from '../core/subject.js';
import { ipText } from '../core/verify/names.js';
import { tenantIdProblem, type TenantIdPattern } from '../core/tenant-id.js';
import { printable } from '../core/visible-text.js';
import type { CertStore } from '../store/cert-store.js';
import type { SlotSpec } from '../store/pair-slot.js';
import { runBulk, type BulkProgress } from './bulk.js';
import type { OpContext } from './context.js';
import { republishIfStale } from './crl.js';
import { entryRevocation, revocationFromIndex, type RevocationInfo } from './records.js';
import { missingTenants, type MissingTenant } from './missing-tenants.js';
import { loadSigningCa, warnShortened } from './signing-ca.js';

export interface RotateRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  /** Limit to these tenants (empty: every tenant directory). */
  tenants: string[];
  /** Rotate whatever the remaining lifetime (revoked tenants are still skipped). */
  all: boolean;
  /**
   * Rotate the pairs that the CA signing now did not sign (after an intermediate renewal, a rollover
   * switch, the compromise drill), whatever their remaining lifetime; a rerun picks up what is left.
   */
  oldCa?: boolean;
  renewBefore: RenewThreshold;
  /** Evaluate the renewal window as of this time (default: now). Issuance always uses now. */
  at?: Date;
  dryRun: boolean;
  reuseKey: boolean;
  includeServer: boolean;
  /** Run after each pair is in place: sh -c CMD with PKICTL_* variables. */
  exec?: string;
  clientProfile: { subject: Subject; days: number; tenantIdPattern?: TenantIdPattern };
  serverDays: number;
  /** New key type (default: the type of the key being replaced). */
  key?: KeyType;
  /** --days override for both kinds. */
  days?: number;
  passphrase?: string;
  concurrency?: number;
  signal?: AbortSignal;
  onStart?(total: number): void;
  onProgress?(progress: BulkProgress): void;
}

export interface PlanItem {
  kind: 'client' | 'server';
  tenantId?: string;
  serial?: string;
  notAfter?: string;
  /**
   * refused: rotate cannot handle this pair as it is (a link pkictl does not follow, a missing or
   * unreadable file, a directory whose name is not a tenant id by the tree's profile); why says what.
   * Counted as failed, so the run exits non-zero instead of leaving the pair to expire unnoticed.
   */
  action: 'rotate' | 'skip' | 'refused';
  why: string;
  /** Set when the pair is skipped because its certificate is revoked. */
  revocation?: RevocationInfo;
}

export interface RotatedItem {
  kind: 'client' | 'server';
  tenantId?: string;
  oldSerial: string;
  serial: string;
  notAfter: string;
  /** Relative to --dir. */
  cert: string;
  key: string;
  keyReused: boolean;
  exec?: { code: number | null; signal: string | null; ok: boolean };
  /** Set when the CA's end cut the new certificate short (core/issue.ts). */
  warning?: string;
}

export interface RotateResult {
  /** --dir as shown; the rotated pairs' paths are relative to it. */
  dir: string;
  dryRun: boolean;
  at: string;
  renewBefore: string;
  plan: PlanItem[];
  rotated: RotatedItem[];
  skipped: PlanItem[];
  failed: Array<{ kind: 'client' | 'server'; tenantId?: string; serial?: string; error: string }>;
  execFailed: Array<{ kind: 'client' | 'server'; tenantId?: string; serial: string; code: number | null; signal: string | null }>;
  notStarted: PlanItem[];
  interrupted: boolean;
}

interface Candidate {
  item: PlanItem;
  slot: SlotSpec;
}

/** The gateway's subject and SANs, kept across a rotation. */
function serverNamesOf(cert: Certificate): { subject: Subject; sans: San[] } {
  const subject = subjectOf(cert);
  const sans = (cert.san ?? []).flatMap((n): San[] => (n.type === 'dns' ? [{ type: 'dns', value: n.value }] : n.type === 'ip' ? [{ type: 'ip', value: ipText(n.bytes) }] : []));
  return { subject, sans };
}

/** Why rotate leaves a tenant whose key lives on its connector (pkictl sign, serve) alone: it cannot make that key. */
export const CONNECTOR_RENEWS = 'key on its connector: the connector renews itself (pkictl renew against pkictl serve)';

/** Serial → its revocation, when the issuance index says the certificate is revoked. */
type RevokedLookup = (serial: string) => RevocationInfo | undefined;

/**
 * Decides one pair: read through its contract path, as a connector would (the certificate model reads
 * serial and validity only); the file must hold a PEM certificate, as readCertificatePem (used by
 * rotateOne) requires.
 */
function decide(store: CertStore, revokedFor: RevokedLookup, slot: SlotSpec, kind: 'client' | 'server', tenantId: string | undefined, request: RotateRequest, at: Date, signingKeyId?: Uint8Array): Candidate {
  const base: PlanItem = { kind, ...(tenantId !== undefined && { tenantId }), action: 'skip', why: '' };
  const { state, refused, cert: read } = store.readPair(slot);
  const refuse = (why: string): Candidate => ({ slot, item: { ...base, action: 'refused', why } });
  if (refused) return refuse(refused);
  if (state === 'absent') return refuse('no certificate on disk: issue one with pkictl issue client, or remove the directory');
  if (state === 'cert-only') return { slot, item: { ...base, why: CONNECTOR_RENEWS } };
  if (state === 'partial' || !read) return refuse('incomplete pair on disk (one file missing): reissue it with --force');
  const unreadable = (problem: string) => refuse(`unreadable certificate: ${store.layout.display(slot.certLink)} ${problem}: reissue it with --force`);
  if (!read.ok) return unreadable(read.missing ? 'missing' : read.reason);
  if (!Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength).includes('-----BEGIN CERTIFICATE-----')) return unreadable('holds no PEM certificate');
  let cert: Certificate;
  try {
    cert = readCertificates(read.bytes, slot.certName)[0]!;
  } catch {
    return unreadable('holds a malformed certificate');
  }
  const item: PlanItem = { ...base, serial: cert.serialHex, notAfter: cert.notAfter.toISOString() };
  const revocation = revokedFor(cert.serialHex);
  if (revocation !== undefined) {
    return { slot, item: { ...item, why: `revoked (${revocation.reason}); issue a new pair explicitly if the tenant returns`, revocation } };
  }
  if (signingKeyId) {
    const current = cert.aki?.keyId !== undefined && equalBytes(cert.aki.keyId, signingKeyId);
    return { slot, item: { ...item, action: current ? 'skip' : 'rotate', why: current ? 'signed by the CA that signs now' : 'signed by a CA that no longer signs' } };
  }
  if (request.all) return { slot, item: { ...item, action: 'rotate', why: 'forced by --all' } };
  const decision = needsRenewal(cert, request.renewBefore, at);
  return { slot, item: { ...item, action: decision.due ? 'rotate' : 'skip', why: decision.reason } };
}

/**
 * Speed: a dry run over 10,000 tenants must take under 2 s (issue 5). Each tenant costs two or three
 * lstat calls, one read and the certificate model's outer walk, all synchronous: for files
 * of a few hundred bytes the libuv thread hand-offs cost more than the I/O (see store/files.ts).
 */
async function plan(store: CertStore, revokedFor: RevokedLookup, request: RotateRequest, at: Date, signingKeyId?: Uint8Array): Promise<Candidate[]> {
  const pattern = request.clientProfile.tenantIdPattern;
  const onDisk = await store.tenantDirs();
  let tenants = onDisk;
  if (request.tenants.length > 0) {
    const known = new Set(onDisk);
    const missing = request.tenants.filter((t) => !known.has(t));
    if (missing.length > 0) throw inputError('TENANT_UNKNOWN', `no tenant directory for ${missing.slice(0, 3).map((t) => `'${printable(t)}'`).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''} in ${store.layout.display(store.layout.clientsDir)}; nothing was rotated`);
    tenants = [...new Set(request.tenants)];
  }
  const candidates: Candidate[] = [];
  for (const tenantId of tenants) {
    const problem = tenantIdProblem(tenantId, pattern);
    if (problem) {
      const why = `not a tenant id by the tree's client profile (${problem}): record a profile that accepts it (pkictl config set --template FILE), or move the directory out of clients/`;
      candidates.push({ slot: undefined as unknown as SlotSpec, item: { kind: 'client', tenantId, action: 'refused', why } });
      continue;
    }
    candidates.push(decide(store, revokedFor, store.clientSlot(tenantId, pattern), 'client', tenantId, request, at, signingKeyId));
  }
  if (request.includeServer) candidates.push(decide(store, revokedFor, store.serverSlot(), 'server', undefined, request, at, signingKeyId));
  return candidates;
}

async function rotateOne(store: CertStore, ca: CertificateAuthority, candidate: Candidate, request: RotateRequest, ctx: OpContext): Promise<RotatedItem> {
  const { slot, item } = candidate;
  const certPem = await store.readText(slot.certLink);
  const keyPem = await store.readText(slot.keyLink);
  const oldCert = readCertificatePem(certPem, store.layout.display(slot.certLink));
  if (!store.index.get(oldCert.serialHex)) await store.adopt(item.kind, certPem, slot.certLink, item.tenantId);
  let spki: Uint8Array;
  let newKeyPem: string;
  if (request.reuseKey) {
    const oldKey = await importPrivateKeyPem(keyPem, ctx.crypto);
    spki = Buffer.from(await ctx.crypto.subtle.exportKey('spki', await publicKeyOf(oldKey, ctx.crypto)));
    if (!Buffer.from(spki).equals(oldCert.spki)) {
      throw inputError('PAIR_MISMATCH', `${store.layout.display(slot.keyLink)} is not the key of ${store.layout.display(slot.certLink)}; rotate without --reuse-key to replace both`);
    }
    newKeyPem = keyPem;
  } else {
    ({ spki, keyPem: newKeyPem } = await newKey(request.key ?? keyTypeOf(oldCert.spki), ctx.crypto));
  }
  const now = new Date();
  const cert =
    item.kind === 'client'
      ? await issueLeaf({ role: 'client', subject: { ...request.clientProfile.subject, CN: item.tenantId! }, spki, days: request.days ?? request.clientProfile.days, now }, ca, ctx.crypto)
      : await issueLeaf({ role: 'server', ...serverNamesOf(oldCert), spki, days: request.days ?? request.serverDays, now }, ca, ctx.crypto);
  const pem = { certPem: cert.pem, keyPem: newKeyPem };
  const options = { action: 'rotate' as const, facts: cert.facts, issuer: cert.issuer, keySha256: spkiSha256(spki), detail: { why: item.why, ...(request.reuseKey && { key: 'reused' }) } };
  const paths = item.kind === 'client' ? await store.saveClient(item.tenantId!, pem, request.clientProfile.tenantIdPattern, options) : await store.saveServer(pem, options);
  const facts = cert.facts;
  const rotated: RotatedItem = {
    kind: item.kind,
    ...(item.tenantId !== undefined && { tenantId: item.tenantId }),
    oldSerial: oldCert.serialHex,
    serial: facts.serial,
    notAfter: facts.notAfter,
    cert: store.layout.inTree(paths.cert),
    key: store.layout.inTree(paths.key),
    keyReused: request.reuseKey,
    ...(cert.shortened && { warning: cert.shortened }),
  };
  if (request.exec) {
    const result = await ctx.runHook(request.exec, {
      PKICTL_KIND: item.kind,
      PKICTL_TENANT_ID: item.tenantId ?? '',
      PKICTL_CERT: paths.cert,
      PKICTL_KEY: paths.key,
      PKICTL_SERIAL: facts.serial,
      PKICTL_OLD_SERIAL: rotated.oldSerial,
      PKICTL_NOT_AFTER: facts.notAfter,
      PKICTL_DIR: store.layout.root,
    });
    rotated.exec = { ...result, ok: result.code === 0 };
    if (!rotated.exec.ok) {
      await store.recordEvent({ action: 'exec', result: 'failed', kind: item.kind, serial: facts.serial, ...(item.tenantId && { tenant: item.tenantId }), detail: { code: result.code ?? -1, signal: result.signal ?? '' } });
    }
  }
  return rotated;
}

/**
 * Selects the pairs due for renewal and renews each with a new key (or the same one with
 * --reuse-key), through the store's atomic switch. Holds the directory lock for the whole run, so
 * the selection and the writes see one state. Killed at any moment, every pair on disk is complete
 * and matching (the switch is one rename) and a rerun selects what is still due.
 */
export async function rotate(request: RotateRequest, ctx: OpContext): Promise<RotateResult> {
  const at = request.at ?? ctx.now;
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  // A tenant the index lists as valid whose directory is gone cannot be renewed: reported as failed,
  // not left out (issue 13). Only a run over every tenant looks for them (--tenant X without a directory is refused).
  const missing = async (candidates: Candidate[], loaded: boolean) =>
    request.tenants.length > 0 ? [] : missingTenants(store, candidates.flatMap((c) => (c.item.kind === 'client' ? [c.item.tenantId!] : [])), loaded);
  const result = (candidates: Candidate[], gone: MissingTenant[]): RotateResult => ({
    dir: store.layout.display(store.layout.root),
    dryRun: request.dryRun,
    at: at.toISOString(),
    renewBefore: request.oldCa ? 'old CA' : request.all ? 'all' : request.renewBefore.text,
    plan: candidates.map((c) => c.item),
    rotated: [],
    skipped: candidates.filter((c) => c.item.action === 'skip').map((c) => c.item),
    failed: [
      ...candidates.filter((c) => c.item.action === 'refused').map(({ item }) => ({ kind: item.kind, ...(item.tenantId !== undefined && { tenantId: item.tenantId }), error: item.why })),
      ...gone.map((m) => ({ kind: 'client' as const, tenantId: m.tenantId, serial: m.serial, error: m.message })),
    ],
    execFailed: [],
    notStarted: [],
    interrupted: false,
  });
  if (request.dryRun) {
    await store.assertCa(); // as the real run does (loadCa): no CA, nothing to plan
    // Read-only: no lock, no repair, nothing written. Only the revocations of the index matter here:
    // they are read as list reads them, without loading the whole index (~12 MB for 10,000 tenants).
    const revoked = await store.index.revocations();
    const candidates = await plan(store, (serial) => {
      const r = revoked?.get(serial);
      return r && revocationFromIndex(r);
    }, request, at, request.oldCa ? await store.signingKeyId() : undefined);
    return result(candidates, await missing(candidates, false));
  }
  const ca = await loadSigningCa(store, request.passphrase, ctx);
  return store.withLock(async () => {
    await republishIfStale(store, ca, ctx);
    const candidates = await plan(store, (serial) => {
      const entry = store.index.get(serial);
      return entry && entryRevocation(entry);
    }, request, at, request.oldCa ? keyIdOf(ca) : undefined);
    const out = result(candidates, await missing(candidates, true));
    for (const f of out.failed) await store.recordEvent({ action: 'rotate', result: 'failed', kind: f.kind, ...(f.tenantId && { tenant: f.tenantId }), detail: { error: f.error } });
    const due = candidates.filter((c) => c.item.action === 'rotate');
    request.onStart?.(due.length);
    const report = await runBulk(due, (c) => rotateOne(store, ca, c, request, ctx), {
      concurrency: request.concurrency,
      signal: request.signal,
      keepGoing: true,
      onProgress: request.onProgress,
    });
    for (const r of report.results) {
      if (r.status === 'done') {
        out.rotated.push(r.value!);
        if (r.value!.exec && !r.value!.exec.ok) out.execFailed.push({ kind: r.value!.kind, tenantId: r.value!.tenantId, serial: r.value!.serial, code: r.value!.exec.code, signal: r.value!.exec.signal });
      } else if (r.status === 'failed') {
        const error = r.error instanceof Error ? r.error.message : String(r.error);
        out.failed.push({ kind: r.item.item.kind, tenantId: r.item.item.tenantId, serial: r.item.item.serial, error });
        await store.recordEvent({ action: 'rotate', result: 'failed', kind: r.item.item.kind, ...(r.item.item.serial && { serial: r.item.item.serial }), ...(r.item.item.tenantId && { tenant: r.item.item.tenantId }), detail: { error } }).catch(() => undefined);
      } else out.notStarted.push(r.item.item);
    }
    out.interrupted = report.interrupted;
    warnShortened(out.rotated.map((r) => ({ who: r.kind === 'server' ? 'server' : `tenant ${r.tenantId}`, shortened: r.warning })), ctx);
    return out;
  });
}
