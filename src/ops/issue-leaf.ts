import { inputError } from '../core/errors.js';
import { issueLeaf, type CertificateAuthority, type LeafRole } from '../core/issue.js';
import { newKey, spkiSha256, type KeyType } from '../core/keys.js';
import { formatSan, type San } from '../core/san.js';
import type { Subject } from '../core/subject.js';
import type { CertStore, PairPaths, PemPair } from '../store/cert-store.js';
import type { IssuedPair, IssueResult, OpContext } from './context.js';
import { republishIfStale } from './crl.js';
import { loadSigningCa, warnShortened } from './signing-ca.js';

export interface LeafProfile {
  subject: Subject;
  days: number;
  key: KeyType;
}

/** Key generation and signing, the part shared by every leaf: the key is made here, then certified. */
export async function makePair(role: LeafRole, subject: Subject, sans: San[] | undefined, profile: LeafProfile, ca: CertificateAuthority, ctx: OpContext) {
  const key = await newKey(profile.key, ctx.crypto);
  const cert = await issueLeaf({ role, subject, spki: key.spki, sans, days: profile.days, now: ctx.now }, ca, ctx.crypto);
  const pem: PemPair = { certPem: cert.pem, keyPem: key.keyPem };
  return { cert, pem, keySha256: spkiSha256(key.spki) };
}

export async function refuseOverwrite(store: CertStore, pairs: PairPaths[], force: boolean) {
  if (force) return;
  const taken = await store.existing(pairs);
  if (taken.length > 0) {
    const shown = taken.length > 3 ? `${taken.slice(0, 3).join(', ')} and ${taken.length - 3} more` : taken.join(', ');
    throw inputError('ALREADY_EXISTS', `${shown} already exist${taken.length === 1 ? 's' : ''}; nothing was written`, 'pass --force to replace them');
  }
}

/**
 * The live certificate a new pair of this holder replaces (read before the save supersedes it): a
 * replaced certificate is not revoked, so the operator is told how long it still authenticates.
 */
export function replacedBy(store: CertStore, kind: 'server' | 'client', tenantId?: string): IssuedPair['replaced'] {
  const old = store.index.entriesFor(kind, tenantId).find((e) => e.status === 'valid');
  return old && { serial: old.serial, notAfter: old.notAfter };
}

export interface IssueServerRequest extends LeafProfile {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  sans: San[];
  force: boolean;
  passphrase?: string;
}

export async function issueServer(request: IssueServerRequest, ctx: OpContext): Promise<IssueResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await loadSigningCa(store, request.passphrase, ctx);
  // The existence check and the write under one lock: two concurrent `issue server` without
  // --force cannot both pass the check.
  const { cert, paths, replaced } = await store.withLock(async () => {
    await republishIfStale(store, ca, ctx);
    await refuseOverwrite(store, [{ cert: store.layout.serverCert, key: store.layout.serverKey }], request.force);
    const replaced = replacedBy(store, 'server');
    const { cert, pem, keySha256 } = await makePair('server', request.subject, request.sans, request, ca, ctx);
    return { cert, paths: await store.saveServer(pem, { facts: cert.facts, issuer: cert.issuer, keySha256 }), replaced };
  });
  warnShortened([{ who: 'server', shortened: cert.shortened }], ctx);
  const { layout } = store;
  const pair = { kind: 'server' as const, cert: layout.inTree(paths.cert), key: layout.inTree(paths.key), keyType: request.key, ...cert.facts, sans: request.sans.map(formatSan), ...(replaced && { replaced }), ...(cert.shortened && { warning: cert.shortened }) };
  return { dir: layout.display(layout.root), issued: [pair] };
}
