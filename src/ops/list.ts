import type { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { readCrls, type RevokedCertificate } from '../core/crl.js';
import { revocationOfCrlEntry } from '../core/revocation.js';
import { equalBytes } from '../core/der.js';
import { PkiError } from '../core/errors.js';
import { daysLeft, DEFAULT_RENEW_BEFORE, expiryStatus, needsRenewal, type RenewThreshold } from '../core/renewal.js';
import type { CertStore } from '../store/cert-store.js';
import type { FileRead } from '../store/files.js';
import { foreignLinkMessage } from '../store/links.js';
import type { EntryKind, TreeEntry } from '../store/scan.js';
import type { OpContext } from './context.js';
import { revocationFromIndex, revocationText, type RevocationInfo } from './records.js';
import { missingTenants } from './missing-tenants.js';

/** superseded: replaced by a newer certificate but not expired, so it still authenticates (list --all). */
export type ListStatus = 'valid' | 'expiring' | 'expired' | 'revoked' | 'invalid' | 'superseded';

export interface ListRow {
  kind: EntryKind;
  /** The directory name under clients/ (null for ca and server). */
  tenantId: string | null;
  commonName: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  /** revoked: the index or crl.pem revokes it (and nothing makes it invalid besides). */
  status: ListStatus;
  /** Why the status is 'invalid'; empty otherwise. */
  problems: string[];
  /** Set whenever the certificate is revoked, whatever its status. */
  revocation: RevocationInfo | null;
  /** Contract path relative to --dir, e.g. clients/<id>/client.crt (for a superseded one: where it was deployed). */
  path: string;
  /** For status 'superseded': the serial that replaced it, and when. */
  supersededBy?: string;
  supersededAt?: string;
  /** A tenant whose key lives on its connector (no client.key in the tree). */
  keyAt?: 'connector';
}

export interface ListRequest {
  dir: string;
  at: Date;
  threshold: RenewThreshold;
  /** Only rows that need attention (status other than valid): --expiring-within / --renew-before. */
  onlyDue: boolean;
  /** Also the superseded certificates that have not expired, from the index (list --all). */
  all?: boolean;
}

export interface ListResult {
  dir: string;
  at: string;
  renewBefore: string;
  /** What was read: the tree always; the issuance index and crl.pem when present (they add revocations). */
  sources: Array<'tree' | 'index' | 'crl'>;
  certificates: ListRow[];
  counts: Record<ListStatus, number>;
  /** Rows not shown because of the filter. */
  hidden: number;
  /** Problems that did not stop the listing (an unreadable index, a stale CRL). */
  warnings: string[];
  /** Links pkictl does not follow at contract paths other than the certificates' (crl.pem, clients/, …): need attention like an invalid row. */
  foreignLinks: string[];
  /** certs/crl.pem when present (issue 7's revocation list); `revoked` is its number of entries. */
  crl: (Omit<CrlState, 'revoked'> & { revoked: number }) | null;
  /** Revocations recorded in the index that crl.pem does not publish (an interrupted revoke). */
  unpublishedRevocations: number;
}

export interface CrlState {
  /** fresh; stale = inside the last third of its validity (regenerate it soon); expired = past nextUpdate. */
  status: 'fresh' | 'stale' | 'expired' | 'unreadable';
  thisUpdate: string | null;
  nextUpdate: string | null;
  message: string;
  /** Serial → its CRL entry (date, reason), from the CRL (its signature is checked by `pkictl audit`, not here). */
  revoked: Map<string, RevokedCertificate>;
}

/**
 * A CRL past nextUpdate makes every `verify -crl_check` fail: relying parties treat it as unusable.
 * "Stale" reuses the certificates' default rule, one third of its validity left (2.3 days of a 7-day CRL).
 */
export function crlState(read: FileRead, at: Date): CrlState | null {
  const none = { thisUpdate: null, nextUpdate: null, revoked: new Map<string, RevokedCertificate>() };
  if (!read.ok) return read.missing ? null : { status: 'unreadable', ...none, message: `crl.pem: ${read.reason}` };
  let lists;
  try {
    lists = readCrls(read.bytes, 'crl.pem');
  } catch {
    return { status: 'unreadable', ...none, message: 'crl.pem is not a readable CRL' };
  }
  // One CRL per issuing CA (the current intermediate and retired ones), published together: the first one's times.
  const times = lists[0]!;
  const base = { thisUpdate: times.thisUpdate.toISOString(), nextUpdate: times.nextUpdate?.toISOString() ?? null, revoked: new Map(lists.flatMap((l) => [...l.revokedBySerial()])) };
  if (!times.nextUpdate) return { status: 'fresh', ...base, message: 'crl.pem has no nextUpdate' };
  const decision = needsRenewal({ notBefore: times.thisUpdate, notAfter: times.nextUpdate }, DEFAULT_RENEW_BEFORE, at);
  if (decision.status === 'expired') return { status: 'expired', ...base, message: `crl.pem passed its nextUpdate (${base.nextUpdate}): relying parties reject it; run pkictl crl` };
  if (decision.status === 'expiring') return { status: 'stale', ...base, message: `crl.pem reaches its nextUpdate at ${base.nextUpdate}; run pkictl crl soon` };
  return { status: 'fresh', ...base, message: `crl.pem is valid until ${base.nextUpdate}` };
}

/**
 * Revocations from issue 7's issuance index, read without the lock as every read-only command does.
 * Only revocations change what list reports: the tree is what is deployed, so
 * rows always come from it (a tree made before the index existed, or changed by hand, is still listed
 * whole); the index adds what the files cannot say. undefined: no index.
 */
export async function indexRevocations(store: CertStore): Promise<Map<string, RevocationInfo> | undefined> {
  const revoked = await store.index.revocations();
  return revoked && new Map([...revoked].map(([serial, r]) => [serial, revocationFromIndex(r)]));
}

/** What to do with a revoked tenant that is still deployed (audit, list, verify --all say it alike). */
export const offboardHint = (tenant: string) => `; if the tenant is gone, archive it: pkictl offboard ${tenant}`;

/** A row as the tree alone shows it; revocation is added from the index and crl.pem. */
/** Why `cert` was not issued by one of `issuers` (name, then key id), or undefined when one of them issued it. */
function notIssuedBy(cert: Certificate, issuers: Certificate[], what: string): string | undefined {
  const named = issuers.filter((i) => equalBytes(cert.issuerDer, i.subjectDer));
  if (named.length === 0) return `not issued by ${what} (issuer name differs)`;
  if (cert.aki?.keyId && !named.some((i) => !i.ski || equalBytes(cert.aki!.keyId!, i.ski))) return `not issued by ${what} (authority key id differs)`;
  return undefined;
}

function rowFor(entry: TreeEntry, anchors: Certificate[], revokedCa: (serial: string) => RevocationInfo | undefined, request: ListRequest, rel: (p: string) => string, display: (p: string) => string): Omit<ListRow, 'revocation'> {
  const base = { kind: entry.kind, tenantId: entry.tenant ?? null, path: rel(entry.certPath) };
  const empty = { commonName: null, serial: null, notBefore: null, notAfter: null, daysLeft: null };
  // Not read through: the same line a writer refuses with.
  if (entry.link) return { ...base, ...empty, status: 'invalid', problems: [foreignLinkMessage(entry.link, display)] };
  if (!entry.cert.ok) {
    const file = entry.certPath.split('/').pop();
    return { ...base, ...empty, status: 'invalid', problems: [`${file} ${entry.cert.missing ? 'missing' : entry.cert.reason}`] };
  }
  let cert: Certificate;
  let chain: Certificate[];
  try {
    // A file may hold a chain; the first certificate is the one the contract path names.
    [cert, ...chain] = readCertificates(entry.cert.bytes, base.path) as [Certificate, ...Certificate[]];
  } catch (error) {
    const message = error instanceof PkiError ? error.message.replace(`${base.path}: `, '') : String(error);
    return { ...base, ...empty, status: 'invalid', problems: [message] };
  }
  const problems: string[] = [];
  if (entry.kind === 'client' && cert.commonName !== entry.tenant) problems.push(`CN ${JSON.stringify(cert.commonName ?? null)} is not the directory name`);
  // Name and key id only: a signature check per certificate would double the time of a 10,000-tenant
  // list; `pkictl audit` and `pkictl verify --all` verify signatures.
  // A leaf that carries its intermediate: issued by it, and the intermediate by a root of ca.crt.
  if (entry.kind !== 'ca' && anchors.length > 0) {
    const problem = chain[0] ? (notIssuedBy(cert, [chain[0]], 'the intermediate after it') ?? notIssuedBy(chain[0], anchors, 'ca.crt')?.replace(/^not/, 'its intermediate is not')) : notIssuedBy(cert, anchors, 'ca.crt');
    if (problem) problems.push(problem);
    const caRevoked = chain[0] && revokedCa(chain[0].serialHex);
    if (caRevoked) problems.push(`its intermediate ${chain[0]!.serialHex} is revoked: ${revocationText(caRevoked)}`);
  }
  if (request.at < cert.notBefore) problems.push(`not valid before ${cert.notBefore.toISOString()}`);
  return {
    ...base,
    commonName: cert.commonName ?? null,
    serial: cert.serialHex,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    daysLeft: daysLeft(cert.notAfter, request.at),
    status: problems.length > 0 ? 'invalid' : expiryStatus(cert, request.threshold, request.at),
    problems,
  };
}

/**
 * The rows of the tree with, after each holder's row, its superseded certificates that have not
 * expired at `at` (newest first): rotated out, but they still authenticate until their notAfter.
 * Only the index knows them (a slot keeps a few old versions, not all).
 */
async function withSuperseded(store: CertStore, rows: ListRow[], at: Date): Promise<ListRow[]> {
  await store.index.load();
  const byHolder = new Map<string, ListRow[]>();
  const holder = (kind: string, tenant: string | null | undefined) => `${kind}:${tenant ?? ''}`;
  const live = store.index.entries().filter((e) => e.status === 'superseded' && new Date(e.notAfter) >= at).sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
  for (const e of live) {
    const row: ListRow = {
      kind: e.kind,
      tenantId: e.tenantId ?? null,
      commonName: e.cn ?? null,
      serial: e.serial,
      notBefore: e.notBefore,
      notAfter: e.notAfter,
      daysLeft: daysLeft(new Date(e.notAfter), at),
      status: 'superseded',
      problems: [],
      revocation: null,
      path: e.path,
      ...(e.supersededBy && { supersededBy: e.supersededBy }),
      ...(e.supersededAt && { supersededAt: e.supersededAt }),
    };
    byHolder.set(holder(e.kind, e.tenantId), [...(byHolder.get(holder(e.kind, e.tenantId)) ?? []), row]);
  }
  return rows.flatMap((r) => [r, ...(byHolder.get(holder(r.kind, r.tenantId)) ?? [])]);
}

/** The inventory of --dir: one row per certificate of the contract, with status at `request.at`. */
export async function listCertificates(request: ListRequest, ctx: OpContext): Promise<ListResult> {
  const store = await ctx.openStore(request.dir);
  const warnings: string[] = [];
  const revoked = await indexRevocations(store).catch((error: unknown) => {
    warnings.push(`the issuance index was not read (${error instanceof Error ? error.message : String(error)}); revocations are not shown`);
    return undefined;
  });
  const { layout } = store;
  const crl = crlState(store.readTreeFile(layout.crl), request.at);
  const rel = (p: string) => p.slice(layout.root.length + 1);
  const display = (p: string) => layout.display(p);
  // ca.crt is the first entry the scan reads; every leaf after it is checked against its roots (a bundle during a rollover).
  let anchors: Certificate[] = [];
  const scan = await store.scanTree({}, (entry) => {
    if (entry.kind === 'ca' && entry.cert.ok) {
      try {
        anchors = readCertificates(entry.cert.bytes, 'ca.crt');
      } catch {
        // ca.crt's own row reports it as invalid; leaves are then not checked against it.
      }
    }
    const row: ListRow = { ...rowFor(entry, anchors, (serial) => revoked?.get(serial), request, rel, display), revocation: null, ...(entry.noKey && { keyAt: 'connector' as const }) };
    const inCrl = row.serial ? crl?.revoked.get(row.serial) : undefined;
    row.revocation = (row.serial ? revoked?.get(row.serial) : undefined) ?? (inCrl ? revocationOfCrlEntry(inCrl) : null);
    if (row.revocation && row.status !== 'invalid') row.status = 'revoked';
    return row;
  });
  const rows = scan.entries;
  // A tenant the index lists as valid whose directory is gone: a row of its own, invalid (issue 13).
  const tenants = rows.flatMap((r) => (r.kind === 'client' ? [r.tenantId!] : []));
  const missing = await missingTenants(store, tenants).catch((error: unknown) => {
    warnings.push(`the issuance index was not read (${error instanceof Error ? error.message : String(error)}); tenants missing from clients/ are not shown`);
    return [];
  });
  for (const m of missing) {
    rows.push({ kind: 'client', tenantId: m.tenantId, commonName: null, serial: m.serial, notBefore: null, notAfter: null, daysLeft: null, status: 'invalid', problems: [`${m.code}: ${m.message}`], revocation: null, path: `${m.path}/client.crt` });
  }
  const all = request.all ? await withSuperseded(store, rows, request.at) : rows;
  const foreignLinks = scan.links.map((link) => foreignLinkMessage(link, display));
  // A link at crl.pem is reported there, not again as an unreadable CRL.
  if (crl && crl.status !== 'fresh' && !scan.links.some((l) => l.path === layout.crl)) warnings.push(crl.message);
  // Revoked intermediates are published in root-crl.pem, the leaves in crl.pem.
  const rootCrl = crlState(store.readTreeFile(layout.rootCrl), request.at);
  const published = (serial: string) => crl?.revoked.has(serial) || rootCrl?.revoked.has(serial);
  const unpublished = crl?.status === 'unreadable' ? [] : [...(revoked?.keys() ?? [])].filter((serial) => !published(serial));
  if (unpublished.length > 0) warnings.push(`crl.pem lacks ${unpublished.length} revocation(s) recorded in the index (e.g. ${unpublished[0]}): relying parties still accept them; run pkictl crl`);
  const counts: Record<ListStatus, number> = { valid: 0, expiring: 0, expired: 0, revoked: 0, invalid: 0, superseded: 0 };
  for (const row of all) counts[row.status]++;
  const certificates = request.onlyDue ? all.filter((r) => r.status !== 'valid' && r.status !== 'superseded') : all;
  return {
    dir: scan.layout.display(scan.root),
    at: request.at.toISOString(),
    renewBefore: request.threshold.text,
    sources: ['tree', ...(revoked ? (['index'] as const) : []), ...(crl && crl.status !== 'unreadable' ? (['crl'] as const) : [])],
    certificates,
    counts,
    hidden: all.length - certificates.length,
    warnings,
    foreignLinks,
    crl: crl && { status: crl.status, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate, message: crl.message, revoked: crl.revoked.size },
    unpublishedRevocations: unpublished.length,
  };
}
