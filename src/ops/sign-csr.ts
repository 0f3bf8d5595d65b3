import { csrProblem, type CertificationRequest } from '../core/csr.js';
import { inputError } from '../core/errors.js';
import { issueLeaf, type CertificateAuthority } from '../core/issue.js';
import { spkiSha256 } from '../core/keys.js';
import type { Subject } from '../core/subject.js';
import { tenantIdProblem, type TenantIdPattern } from '../core/tenant-id.js';
import { printable } from '../core/visible-text.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';
import { republishIfStale } from './crl.js';
import { replacedBy } from './issue-leaf.js';
import { loadSigningCa, warnShortened } from './signing-ca.js';

/** The tree's client profile, as a CSR is held to it: the CSR brings its CN and its key, nothing else. */
export interface ClientPolicy {
  subject: Subject;
  days: number;
  tenantIdPattern?: TenantIdPattern;
}

/**
 * The tenant a CSR is for (refusal codes: CSR_INVALID, not a request or a signature that does not
 * verify, which an EST server answers with 400; the others are policy, 403): its one Subject CN, a valid tenant id by the tree's profile (and equal to
 * `expected` when given), on a request whose signature proves possession of an acceptable key.
 */
export function csrTenant(csr: CertificationRequest, policy: ClientPolicy, expected?: string): string {
  const problem = csrProblem(csr);
  if (problem?.code === 'BAD_SIGNATURE' || problem?.code === 'UNSUPPORTED_SIGNATURE') throw inputError('CSR_INVALID', problem.message);
  if (problem) throw inputError('CSR_KEY_REFUSED', `${problem.message}; allowed: RSA of 2048 bits or more, ECDSA P-256 or P-384, Ed25519`);
  if (csr.commonNames.length !== 1) throw inputError('CSR_SUBJECT', `the request's subject must hold exactly one CN (the tenant id); it holds ${csr.commonNames.length}`);
  const cn = csr.commonNames[0]!;
  const idProblem = tenantIdProblem(cn, policy.tenantIdPattern);
  if (idProblem) throw inputError('CSR_SUBJECT', `the request's CN '${printable(cn)}' is not a tenant id: ${idProblem}`);
  if (expected !== undefined && cn !== expected) throw inputError('CSR_TENANT', `the request is for tenant ${cn}, not ${printable(expected)}`);
  return cn;
}

/**
 * Refuses a key that must not be certified for `tenantId`: one already certified for another holder
 * (a tenant, the server, a CA), or one revoked for keyCompromise anywhere. Read under the lock.
 */
function refuseKnownKey(store: CertStore, keySha256: string, tenantId: string): void {
  for (const e of store.index.entriesForKey(keySha256)) {
    if (e.status === 'revoked' && e.revocationReason === 'keyCompromise') throw inputError('KEY_COMPROMISED', `this public key was revoked for keyCompromise (serial ${e.serial}); make a new key`);
    if (e.kind !== 'client' || e.tenantId !== tenantId) throw inputError('KEY_REUSED', `this public key is already certified for ${e.kind === 'client' ? `tenant ${e.tenantId}` : `the ${e.kind}`} (serial ${e.serial}); make a new key`);
  }
}

export interface CertifyOptions {
  /** Audit action: issue (first certificate), reissue, or renew (re-enrollment). */
  action?: 'issue' | 'reissue' | 'rotate';
  detail?: Record<string, string | number>;
  /** The tenant may hold a pair pkictl made: its key in the tree is destroyed (see CertStore.saveConnectorCert). */
  replaceKey?: boolean;
}

/**
 * Certifies a CSR's key for `tenantId` with the client profile exactly (CN = tenant id, the profile's
 * other subject fields, clientAuth, CA:FALSE, the profile's days, AKI/SKI), whatever the request asks
 * for, and installs the certificate alone (the key stays on the connector). One lock from the key
 * check to the index record, as every issuance.
 */
export async function certifyCsr(store: CertStore, ca: CertificateAuthority, csr: CertificationRequest, tenantId: string, policy: ClientPolicy, options: CertifyOptions, ctx: OpContext): Promise<SignedCertificate> {
  const keySha256 = spkiSha256(csr.spki);
  return store.withLock(async () => {
    refuseKnownKey(store, keySha256, tenantId);
    const replaced = replacedBy(store, 'client', tenantId);
    const cert = await issueLeaf({ role: 'client', subject: { ...policy.subject, CN: tenantId }, spki: csr.spki, days: policy.days, now: ctx.now }, ca, ctx.crypto);
    const paths = await store.saveConnectorCert(tenantId, cert.pem, policy.tenantIdPattern, { facts: cert.facts, issuer: cert.issuer, keySha256, action: options.action, detail: options.detail, replaceKey: options.replaceKey });
    return {
      kind: 'client',
      tenantId,
      cert: store.layout.inTree(paths.cert),
      keyAt: 'connector',
      keyType: csr.keyType,
      ...cert.facts,
      pem: cert.pem,
      ...(replaced && { replaced }),
      ...(cert.shortened && { warning: cert.shortened }),
    };
  });
}

export interface SignCsrRequest {
  dir: string;
  actor?: string;
  csr: CertificationRequest;
  /** With --tenant: the CN the request must carry. */
  tenant?: string;
  policy: ClientPolicy;
  /** Replace a pair pkictl made for this tenant (its key in the tree is destroyed). */
  force: boolean;
  passphrase?: string;
}

/** A certificate made from a CSR: where it is, its facts, and its PEM (the leaf, then the chain). */
export interface SignedCertificate {
  kind: 'client';
  tenantId: string;
  /** Relative to --dir. */
  cert: string;
  keyAt: 'connector';
  keyType: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  pem: string;
  replaced?: { serial: string; notAfter: string };
  warning?: string;
}

export interface SignCsrResult {
  dir: string;
  issued: SignedCertificate[];
}

/** pkictl sign: one CSR, certified for its tenant under the tree's client profile. */
export async function signCsr(request: SignCsrRequest, ctx: OpContext): Promise<SignCsrResult> {
  const tenantId = csrTenant(request.csr, request.policy, request.tenant);
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await loadSigningCa(store, request.passphrase, ctx);
  const issued = await store.withLock(async () => {
    await republishIfStale(store, ca, ctx);
    return certifyCsr(store, ca, request.csr, tenantId, request.policy, { replaceKey: request.force, detail: { key: 'connector' } }, ctx);
  });
  warnShortened([{ who: `tenant ${tenantId}`, shortened: issued.warning }], ctx);
  return { dir: store.layout.display(store.layout.root), issued: [issued] };
}
