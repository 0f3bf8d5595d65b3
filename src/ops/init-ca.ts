import type { Certificate } from '../core/cert.js';
import { issueIntermediate, issueRoot, keyIdOf, type CertificateAuthority, type IssuedCertificate } from '../core/issue.js';
import { keyTypeOf, newKey, type KeyType } from '../core/keys.js';
import { subjectOf, type Subject } from '../core/subject.js';
import type { CertStore } from '../store/cert-store.js';
import type { Role } from '../store/templates.js';
import type { IssuedPair, IssueResult, OpContext } from './context.js';
import { warnShortened } from './signing-ca.js';

/** An issuing intermediate's profile: pkictl init --intermediate, intermediate renew. */
export interface IntermediateProfile {
  subject: Subject;
  days: number;
  key: KeyType;
}

/** Five years: renewed well inside the root's ten, long enough that renewals are rare events. */
export const INTERMEDIATE_DAYS = 1825;

/** The intermediate's default subject: the root's, named as its issuing CA. */
export const intermediateSubject = (root: Subject): Subject => ({ ...root, CN: `${root.CN ?? 'pkictl'} Issuing CA` });

/** A new intermediate (new key) signed by `root`, not yet saved: its certificate, key PEM (encrypted with `passphrase`) and key type. */
export async function makeIntermediate(profile: IntermediateProfile, root: CertificateAuthority, passphrase: string | undefined, ctx: OpContext): Promise<{ cert: IssuedCertificate; keyPem: string; key: KeyType }> {
  const key = await newKey(profile.key, ctx.crypto, passphrase);
  const cert = await issueIntermediate({ subject: profile.subject, spki: key.spki, days: profile.days, now: ctx.now }, root, ctx.crypto);
  return { cert, keyPem: key.keyPem, key: profile.key };
}

/** The profile of an intermediate that replaces `current`: its subject and key type, a fresh lifetime. */
export const successorProfile = (current: Certificate): IntermediateProfile => ({ subject: subjectOf(current), days: INTERMEDIATE_DAYS, key: keyTypeOf(current.spki) });

/**
 * A new intermediate under `root` put in place of the current one (store.replaceIntermediate: the old
 * one kept in authorities/), recorded as `action`. Returns what was made.
 */
export async function installIntermediate(store: CertStore, profile: IntermediateProfile, root: CertificateAuthority, passphrase: string | undefined, ctx: OpContext, action: string, detail?: Record<string, string>) {
  const made = await makeIntermediate(profile, root, passphrase, ctx);
  const paths = await store.replaceIntermediate({ certPem: made.cert.pem, keyPem: made.keyPem, facts: made.cert.facts, issuer: made.cert.issuer }, action, detail);
  return { ...made, paths };
}

/** Whether `intermediate` was signed by `root` (its AKI is the root's key id). */
export const signedByRoot = (intermediate: Certificate, root: CertificateAuthority) => intermediate.aki?.keyId !== undefined && Buffer.from(intermediate.aki.keyId).equals(Buffer.from(keyIdOf(root)));

export interface InitCaRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  subject: Subject;
  days: number;
  key: KeyType;
  passphrase?: string;
  /** The profiles to record in the tree (certs/pkictl.json), as their JSON documents. */
  profiles?: Record<Role, unknown>;
  /** Also an issuing intermediate, which then signs every leaf (the root key can go offline). */
  intermediate?: IntermediateProfile;
}

export async function initCa(request: InitCaRequest, ctx: OpContext): Promise<IssueResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertNoCa(); // before the slow key generation
  const key = await newKey(request.key, ctx.crypto, request.passphrase);
  const root = await issueRoot({ subject: request.subject, spki: key.spki, privateKey: key.privateKey, days: request.days, now: ctx.now }, ctx.crypto);
  const intermediate = request.intermediate && (await makeIntermediate(request.intermediate, { der: root.der, privateKey: key.privateKey }, request.passphrase, ctx));
  if (request.passphrase === undefined) {
    ctx.notify(`${intermediate ? 'ca.key and intermediate.key are' : 'ca.key is'} written unencrypted: pass --passphrase-file FILE or set PKICTL_CA_PASSPHRASE to encrypt ${intermediate ? 'them' : 'it'}`);
  }
  const paths = await store.saveCa(
    { certPem: root.pem, keyPem: key.keyPem, facts: root.facts },
    request.profiles,
    intermediate && { certPem: intermediate.cert.pem, keyPem: intermediate.keyPem, facts: intermediate.cert.facts, issuer: intermediate.cert.issuer },
  );
  if (intermediate) warnShortened([{ who: 'the intermediate', shortened: intermediate.cert.shortened }], ctx);
  const { layout } = store;
  const issued: IssuedPair[] = [{ kind: 'ca', cert: layout.inTree(paths.root.cert), key: layout.inTree(paths.root.key), keyType: request.key, ...root.facts }];
  if (intermediate && paths.intermediate) {
    issued.push({ kind: 'intermediate', cert: layout.inTree(paths.intermediate.cert), key: layout.inTree(paths.intermediate.key), keyType: intermediate.key, ...intermediate.cert.facts, ...(intermediate.cert.shortened && { warning: intermediate.cert.shortened }) });
  }
  return { dir: layout.display(layout.root), issued };
}
