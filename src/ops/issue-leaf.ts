import { inputError } from '../core/errors.js';
import { issueLeaf, type CertificateAuthority, type LeafRole } from '../core/issue.js';
import { newKey, type KeyType } from '../core/keys.js';
import { formatSan, type San } from '../core/san.js';
import type { Subject } from '../core/subject.js';
import type { CertStore, PairPaths, PemPair } from '../store/cert-store.js';
import type { IssuedPair, OpContext } from './context.js';
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
  return { cert, pem };
}

export async function refuseOverwrite(store: CertStore, pairs: PairPaths[], force: boolean) {
  if (force) return;
  const taken = await store.existing(pairs);
  if (taken.length > 0) {
    const shown = taken.length > 3 ? `${taken.slice(0, 3).join(', ')} and ${taken.length - 3} more` : taken.join(', ');
    throw inputError('ALREADY_EXISTS', `${shown} already exist${taken.length === 1 ? 's' : ''}; nothing was written`, 'pass --force to replace them');
  }
}

export interface IssueServerRequest extends LeafProfile {
  dir: string;
  sans: San[];
  force: boolean;
  passphrase?: string;
}

export async function issueServer(request: IssueServerRequest, ctx: OpContext): Promise<IssuedPair> {
  const store = await ctx.openStore(request.dir);
  const ca = await loadSigningCa(store, request.passphrase, ctx);
  // The existence check and the write under one lock: two concurrent `issue server` without
  // --force cannot both pass the check.
  const { cert, paths } = await store.withLock(async () => {
    await republishIfStale(store, ca, ctx);
    await refuseOverwrite(store, [{ cert: store.layout.serverCert, key: store.layout.serverKey }], request.force);
    const { cert, pem } = await makePair('server', request.subject, request.sans, request, ca, ctx);
    return { cert, paths: await store.saveServer(pem, { facts: cert.facts }) };
  });
  warnShortened([{ who: 'server', shortened: cert.shortened }], ctx);
  return { kind: 'server', ...paths, keyType: request.key, ...cert.facts, sans: request.sans.map(formatSan), ...(cert.shortened && { warning: cert.shortened }) };
}
