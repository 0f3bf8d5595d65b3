import { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { readCrls, type Crl } from '../core/crl.js';
import { buildCrl, crlToPem } from '../core/crl-build.js';
import { failure } from '../core/errors.js';
import type { CertificateAuthority } from '../core/issue.js';
import type { IndexEntry } from '../store/cert-index.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';
import { loadRootCa } from './root-ca.js';
import { loadSigningCa, type SigningCa } from './signing-ca.js';

const DAY_MS = 86_400_000;
/** nextUpdate of a CRL rewritten without a period to keep (pkictl crl's default). */
const DEFAULT_CRL_DAYS = 7;

export interface CrlResult {
  /** Relative to --dir. */
  path: string;
  number: number;
  thisUpdate: string;
  nextUpdate: string;
  revoked: number;
}

export interface CrlGaps {
  /** certs/crl.pem as it is, when it exists and reads as CRLs: one per issuing CA, the current one first. */
  published?: Crl;
  /** The highest CRL number in crl.pem. */
  publishedNumber: number;
  /** Serials the index has revoked that crl.pem does not list (a revoke interrupted before its CRL). */
  unpublished: string[];
  /** Serials crl.pem lists that the index does not have as revoked (the index lost revocations). */
  unknown: string[];
}

/** Which CA signs crl.pem: the one that signs leaves, named by its serial; `root`: no intermediate, the root signs. */
export interface LeafIssuer {
  serial: string;
  root: boolean;
}

export const leafIssuerOf = (ca: CertificateAuthority): LeafIssuer => ({ serial: new Certificate(ca.der).serialHex, root: !ca.chain?.length });

/**
 * The leaf issuers as the tree holds them, for reports that load no key: intermediate.crt (else the
 * root of ca.crt) and the retired intermediates of authorities/ (their leaves' CRL stays in crl.pem);
 * undefined when unreadable.
 */
export async function treeLeafIssuers(store: CertStore): Promise<LeafIssuer[] | undefined> {
  const { layout } = store;
  const retired = (await store.retiredAuthorities()).map((a) => ({ serial: a.serial, root: false }));
  for (const [path, root] of [[layout.intermediateCert, false], [layout.caCert, true]] as const) {
    const read = store.readTreeFile(path);
    if (!read.ok) continue;
    try {
      return [{ serial: readCertificates(read.bytes, layout.inTree(path))[0]!.serialHex, root }, ...retired];
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The issuers of a signing CA's crl.pem: itself, then the retired intermediates that still sign their leaves' CRL. */
export const leafIssuersOf = (ca: SigningCa): LeafIssuer[] => [ca, ...(ca.retired ?? [])].map(leafIssuerOf);

/**
 * The revoked leaves that `issuer`'s CRL lists: those it signed. A leaf recorded without its issuer
 * predates intermediates: its root signed it.
 */
export function revokedLeaves(store: CertStore, issuer: LeafIssuer | undefined): IndexEntry[] {
  return store.index.entries().filter((e) => e.status === 'revoked' && (e.kind === 'server' || e.kind === 'client') && (issuer === undefined || (e.issuer === undefined ? issuer.root : e.issuer === issuer.serial)));
}

/** Compares certs/crl.pem with the index's revocations of `issuers`' leaves (load or refresh the index first). */
export function crlGaps(store: CertStore, issuers: LeafIssuer[] | undefined): CrlGaps {
  const revoked = new Set((issuers ?? [undefined]).flatMap((issuer) => revokedLeaves(store, issuer)).map((e) => e.serial));
  const read = store.readTreeFile(store.layout.crl);
  let lists: Crl[] = [];
  try {
    lists = read.ok ? readCrls(read.bytes, 'crl.pem') : [];
  } catch {
    lists = []; // unreadable: nothing to compare; audit reports it as CRL_INVALID
  }
  const listed = new Set(lists.flatMap((l) => [...l.revokedBySerial().keys()]));
  const published = lists[0];
  return {
    ...(published && { published }),
    publishedNumber: Math.max(0, ...lists.map((l) => l.number ?? 0)),
    unpublished: [...revoked].filter((s) => !listed.has(s)),
    unknown: [...listed].filter((s) => !revoked.has(s)),
  };
}

/**
 * Signs a CRL of every revoked certificate in the index and writes certs/crl.pem, with a CRL number
 * above both the index's and the published CRL's. Refuses, writing nothing, when the published CRL
 * lists a serial the index does not have as revoked: the index lost revocations, and a new CRL
 * would silently un-revoke them. Call with the store's lock held when it follows a revocation.
 */
export async function regenerateCrl(store: CertStore, ca: SigningCa, days: number, ctx: OpContext): Promise<CrlResult> {
  return store.withLock(async () => {
    const gaps = crlGaps(store, leafIssuersOf(ca));
    if (gaps.unknown.length > 0) {
      throw failure('CRL_WOULD_DROP', `${store.layout.display(store.layout.crl)} lists ${gaps.unknown.length} revoked serial(s) that the index does not (e.g. ${gaps.unknown[0]}): the index lost revocations; nothing was written`,
        'restore index.jsonl from a backup (pkictl audit-log verify checks it against audit.log)');
    }
    const number = Math.max(store.index.crlNumber(), gaps.publishedNumber) + 1;
    const thisUpdate = ctx.now;
    const nextUpdate = new Date(ctx.now.getTime() + days * DAY_MS);
    // One CRL per issuing CA in one file: a leaf is only revoked by a CRL its own issuer signed.
    let pem = '';
    let revoked = 0;
    for (const issuer of [ca, ...(ca.retired ?? [])]) {
      const entries = revokedLeaves(store, leafIssuerOf(issuer));
      revoked += entries.length;
      const crl = await buildCrl(
        { number, thisUpdate, nextUpdate, entries: entries.map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt ?? ctx.now), reason: e.revocationReason ?? 'unspecified' })) },
        issuer,
        ctx.crypto,
      );
      pem += crlToPem(crl);
    }
    const path = await store.saveCrl(pem, number, { revoked, nextUpdate: nextUpdate.toISOString() });
    return { path: store.layout.inTree(path), number, thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), revoked };
  });
}

/** Days until root-crl.pem's nextUpdate: the root is offline, so its CRL is signed rarely and lives long. */
export const ROOT_CRL_DAYS = 365;

/**
 * Signs certs/root-crl.pem with the root: every revoked certificate the root signed (its
 * intermediates, and leaves of a tree that had none), with a CRL number from the tree's counter.
 * Relying parties load it beside crl.pem: a revoked intermediate takes all its leaves with it.
 */
export async function regenerateRootCrl(store: CertStore, root: CertificateAuthority, days: number, ctx: OpContext): Promise<CrlResult> {
  return store.withLock(async () => {
    const serial = new Certificate(root.der).serialHex;
    const revoked = store.index.entries().filter((e) => e.status === 'revoked' && e.kind === 'intermediate' && (e.issuer ?? serial) === serial);
    const leaves = revokedLeaves(store, { serial, root: true });
    const entries = [...revoked, ...leaves];
    const number = store.index.crlNumber() + 1;
    const thisUpdate = ctx.now;
    const nextUpdate = new Date(ctx.now.getTime() + days * DAY_MS);
    const crl = await buildCrl(
      { number, thisUpdate, nextUpdate, entries: entries.map((e) => ({ serial: e.serial, revokedAt: new Date(e.revokedAt ?? ctx.now), reason: e.revocationReason ?? 'unspecified' })) },
      root,
      ctx.crypto,
    );
    const path = await store.saveCrl(crlToPem(crl), number, { revoked: entries.length, nextUpdate: nextUpdate.toISOString() }, 'root');
    return { path: store.layout.inTree(path), number, thisUpdate: thisUpdate.toISOString(), nextUpdate: nextUpdate.toISOString(), revoked: entries.length };
  });
}

/**
 * A revocation recorded but not published (a run killed between the two, or a full disk at the CRL
 * write): rewrites crl.pem, with the validity period of the one it replaces, and says so. Commands
 * that hold the CA key call it after taking the lock.
 */
export async function republishIfStale(store: CertStore, ca: SigningCa, ctx: OpContext): Promise<CrlResult | undefined> {
  return store.withLock(async () => {
    const gaps = crlGaps(store, leafIssuersOf(ca));
    if (gaps.unpublished.length === 0) return undefined;
    const period = gaps.published?.nextUpdate ? Math.round((gaps.published.nextUpdate.getTime() - gaps.published.thisUpdate.getTime()) / DAY_MS) : 0;
    const result = await regenerateCrl(store, ca, period >= 1 ? period : DEFAULT_CRL_DAYS, ctx);
    ctx.notify(`${store.layout.display(store.layout.crl)} lacked ${gaps.unpublished.length} revocation(s) recorded in the index (an interrupted revoke): rewritten as CRL number ${result.number}`);
    return result;
  });
}

export interface CrlRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  days: number;
  passphrase?: string;
}

/** `dir`: --dir as shown; crl.path is relative to it. */
export interface WriteCrlResult {
  dir: string;
  crl: CrlResult;
}

/** `pkictl crl --root`: root-crl.pem, signed by the root (its key from the tree or --root-key). */
export async function writeRootCrl(request: Omit<CrlRequest, 'days'> & { days?: number; rootKey?: string }, ctx: OpContext): Promise<WriteCrlResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const root = await loadRootCa(store, request.rootKey, request.passphrase, ctx);
  await store.index.load();
  return { dir: store.layout.display(store.layout.root), crl: await regenerateRootCrl(store, root, request.days ?? ROOT_CRL_DAYS, ctx) };
}

export async function writeCrl(request: CrlRequest, ctx: OpContext): Promise<WriteCrlResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await loadSigningCa(store, request.passphrase, ctx);
  return { dir: store.layout.display(store.layout.root), crl: await regenerateCrl(store, ca, request.days, ctx) };
}
