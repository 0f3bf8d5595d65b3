import { readCertificates } from '../core/cert-input.js';
import { Certificate } from '../core/cert.js';
import type { CertificationRequest } from '../core/csr.js';
import { equalBytes } from '../core/der.js';
import { refusal } from '../core/errors.js';
import { issueLeaf } from '../core/issue.js';
import { newKey, spkiSha256 } from '../core/keys.js';
import { certsOnly } from '../core/pkcs7.js';
import type { San } from '../core/san.js';
import { OID } from '../core/oid.js';
import { Verifier } from '../core/verify.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';
import { certifyCsr, csrTenant, type ClientPolicy, type SignedCertificate } from './sign-csr.js';
import { loadSigningCa, type SigningCa } from './signing-ca.js';
import { tokenChecker, tokenHash } from './tokens.js';

/**
 * The use cases behind `pkictl serve` (RFC 7030 EST): first enrollment with a one-time token,
 * re-enrollment with the current certificate, the CA certificates. Every issuance goes through the
 * same core, store, index and audit log as the CLI, under the directory's lock, so `serve` and CLI
 * runs on one tree are safe together, and a revocation made with the CLI is seen by the next request
 * (the lock's holder reloads the index first).
 */
export interface EnrollmentPolicy extends ClientPolicy {
  /** Re-enrollment must bring a new key (RFC 7030 §4.2.2 allows the same one). */
  requireNewKey: boolean;
  /** An expired certificate may still re-enroll for this long after its notAfter (0: never). */
  renewalAfterExpiryMs: number;
}

/** How long serve keeps the lock after a request (ReentrantLock lingerMs): a CLI that waits ends it at once. */
const LOCK_LINGER_MS = 250;

/** The CA as a re-enrollment checks it: the roots of ca.crt and the intermediates (current and retired), parsed once. */
interface Authorities {
  roots: Certificate[];
  intermediates: Certificate[];
}

export class EnrollmentService {
  private ca: SigningCa;
  private caFiles: string;
  private authorities: Authorities;

  private constructor(
    private readonly store: CertStore,
    private readonly policy: EnrollmentPolicy,
    private readonly passphrase: string | undefined,
    private readonly ctx: OpContext,
    loaded: { ca: SigningCa; files: string; authorities: Authorities },
  ) {
    this.ca = loaded.ca;
    this.caFiles = loaded.files;
    this.authorities = loaded.authorities;
  }

  static async open(request: { dir: string; policy: EnrollmentPolicy; passphrase?: string }, ctx: OpContext): Promise<EnrollmentService> {
    const store = await ctx.openStore(request.dir, { actor: 'pkictl serve', lockLingerMs: LOCK_LINGER_MS });
    const loaded = await store.withLock(async () => {
      const ca = await loadSigningCa(store, request.passphrase, ctx);
      return { ca, files: store.caFilesStamp(), authorities: await authoritiesOf(store, ca) };
    });
    return new EnrollmentService(store, request.policy, request.passphrase, ctx, loaded);
  }

  /** The tree as shown, for the start-up line. */
  get dir(): string {
    return this.store.layout.display(this.store.layout.root);
  }

  /** The context of one request: its own clock. */
  private now(): OpContext {
    return { ...this.ctx, now: new Date() };
  }

  /**
   * The signing CA, reloaded when ca.crt or intermediate.crt changed since (a renewal or a rollover
   * made with the CLI while serve runs). Call with the lock held.
   */
  private async signingCa(ctx: OpContext): Promise<SigningCa> {
    const files = this.store.caFilesStamp();
    if (files !== this.caFiles) {
      this.ca = await loadSigningCa(this.store, this.passphrase, ctx);
      this.authorities = await authoritiesOf(this.store, this.ca);
      this.caFiles = files;
    }
    return this.ca;
  }

  /** /cacerts: the roots of ca.crt (the trust anchors, the next root too during a rollover), then the issuing intermediate. */
  async caCerts(): Promise<Uint8Array> {
    const { layout } = this.store;
    const roots = readCertificates(Buffer.from(await this.store.readText(layout.caCert)), layout.display(layout.caCert));
    const intermediate = await this.store.currentIntermediate();
    return certsOnly([...roots.map((c) => c.der), ...(intermediate ? [intermediate.der] : [])]);
  }

  /**
   * A first enrollment: the token (HTTP Basic password; the username empty or the tenant id) is
   * consumed under the lock, then the CSR's key is certified for its tenant. The token is spent even
   * when the certificate cannot be written afterwards (a full disk): a new one is needed then.
   */
  async enroll(csr: CertificationRequest, credentials: { username: string; password: string }): Promise<SignedCertificate> {
    const tenantId = csrTenant(csr, this.policy, credentials.username === '' ? undefined : credentials.username);
    const ctx = this.now();
    return this.store.withTurn(async () => {
      const ca = await this.signingCa(ctx);
      const token = await this.store.useToken(tokenHash(credentials.password), tokenChecker(tenantId, ctx.now), ctx.now);
      return certifyCsr(this.store, ca, csr, tenantId, this.policy, { action: 'issue', replaceKey: true, detail: { via: 'est simpleenroll', token: token.id } }, ctx);
    });
  }

  /**
   * A re-enrollment (RFC 7030 §4.2.2) by a connector presenting its current certificate over TLS
   * (`peer`: the chain it sent, leaf first; `verifiedInHandshake`: TLS already verified it against the
   * trust anchors of trustAnchorsPem()): the certificate must verify to ca.crt for client
   * authentication, be its tenant's current certificate in the index (not revoked, superseded or
   * offboarded), and the CSR must carry exactly its Subject and subjectAltName: a connector can never
   * move to another tenant id.
   */
  async reenroll(csr: CertificationRequest, peer: Uint8Array[], verifiedInHandshake = false): Promise<SignedCertificate> {
    if (peer.length === 0) throw refusal('CLIENT_CERT_REQUIRED', 'a client certificate is required: re-enroll over TLS with the current certificate and key');
    const ctx = this.now();
    let leaf: Certificate;
    let chain: Certificate[];
    try {
      [leaf, ...chain] = peer.map((der) => new Certificate(der)) as [Certificate, ...Certificate[]];
    } catch {
      throw refusal('CLIENT_CERT_REFUSED', 'the client certificate does not parse');
    }
    const tenantId = leaf.commonName ?? '';
    return this.store.withTurn(async () => {
      const ca = await this.signingCa(ctx);
      // OpenSSL's handshake check (chain to ca.crt's roots, validity, purpose sslclient) stands in for
      // ours while the trust anchors it was given are still ca.crt's; otherwise (an expired
      // certificate within --allow-renewal-after-expiry, a CA event since) the full validation runs.
      if (!verifiedInHandshake || this.caFiles !== this.handshakeAnchors) await this.verifyPresented(leaf, chain, ctx.now);
      if (csr.subject !== leaf.subject) throw refusal('REENROLL_SUBJECT', 'the request must carry the Subject of the current certificate (RFC 7030 §4.2.2)', `CSR subject '${csr.subject}' vs '${leaf.subject}'`);
      const san = leaf.extensions.find((e) => e.oid === OID.subjectAltName)?.value;
      if (!sameBytes(csr.requestedSan, san)) throw refusal('REENROLL_SUBJECT', 'the request must carry the subjectAltName of the current certificate (RFC 7030 §4.2.2)');
      csrTenant(csr, this.policy, tenantId);
      if (this.policy.requireNewKey && spkiSha256(csr.spki) === spkiSha256(leaf.spki)) throw refusal('REENROLL_SAME_KEY', 'this server requires a new key on re-enrollment');
      const current = this.store.index.get(leaf.serialHex);
      const issuer = current?.issuer === undefined ? undefined : this.store.index.get(current.issuer);
      const state =
        current?.kind !== 'client' || current.tenantId !== tenantId ? "not in the index as this tenant's certificate"
        : current.status === 'revoked' ? `revoked (${current.revocationReason ?? 'unspecified'})`
        : current.status !== 'valid' ? current.status
        : issuer?.status === 'revoked' ? `its issuing CA ${issuer.serial} is revoked (${issuer.revocationReason ?? 'unspecified'})`
        : undefined;
      if (state) throw refusal('CLIENT_CERT_REFUSED', `the client certificate may not re-enroll: ${state}`);
      return certifyCsr(this.store, ca, csr, tenantId, this.policy, { action: 'rotate', replaceKey: true, detail: { via: 'est simplereenroll', renews: leaf.serialHex } }, ctx);
    });
  }

  /** The presented chain against ca.crt, for client authentication, at now (or at its end, within the allowed time after expiry). */
  private async verifyPresented(leaf: Certificate, chain: Certificate[], now: Date): Promise<void> {
    const { roots, intermediates } = this.authorities;
    const pool = [...chain, ...intermediates];
    const expiredFor = now.getTime() - leaf.notAfter.getTime();
    if (expiredFor > 0 && expiredFor > this.policy.renewalAfterExpiryMs) throw refusal('CLIENT_CERT_REFUSED', 'the client certificate has expired: enroll again with a token', `expired ${leaf.notAfter.toISOString()}`);
    const at = expiredFor > 0 ? leaf.notAfter : now;
    const result = await new Verifier(roots, pool, this.ctx.crypto).verify(leaf, { purpose: 'client', at });
    if (!result.ok) throw refusal('CLIENT_CERT_REFUSED', 'the client certificate does not verify to this CA', result.failures.map((f) => `${f.code}: ${f.message}`).join('; '));
  }

  /**
   * The server's own TLS identity: a fresh P-256 key that never leaves memory, certified by the
   * signing CA for `sans` (serverAuth) for `days`, recorded in the audit log (serve-tls). Its chain
   * follows it, so a connector trusting only the root verifies it.
   */
  async tlsIdentity(sans: San[], days: number): Promise<{ certPem: string; keyPem: string; serial: string; notAfter: string }> {
    const ctx = this.now();
    return this.store.withLock(async () => {
      const ca = await this.signingCa(ctx);
      const key = await newKey('ec-p256', ctx.crypto);
      const cn = sans.find((s) => s.type === 'dns')?.value ?? sans[0]?.value ?? 'pkictl serve';
      const cert = await issueLeaf({ role: 'server', subject: { ...this.policy.subject, CN: cn }, spki: key.spki, sans, days, now: ctx.now }, ca, ctx.crypto);
      await this.store.recordEvent({ action: 'serve-tls', result: 'ok', serial: cert.facts.serial, sha256: cert.facts.sha256, cn, detail: { notAfter: cert.facts.notAfter, key: 'in memory only' } });
      return { certPem: cert.pem, keyPem: key.keyPem, serial: cert.facts.serial, notAfter: cert.facts.notAfter };
    });
  }

  /** The CA files' stamp when trustAnchorsPem() was last read: the anchors the TLS server verifies clients with. */
  private handshakeAnchors = '';

  /** PEM of the trust anchors for TLS client authentication (the roots of ca.crt). */
  async trustAnchorsPem(): Promise<string> {
    this.handshakeAnchors = this.store.caFilesStamp();
    return this.store.readText(this.store.layout.caCert);
  }
}

const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) => (a === undefined || b === undefined ? a === b : equalBytes(a, b));

/** The roots of ca.crt and the intermediates that sign leaves (current, then retired), parsed. */
async function authoritiesOf(store: CertStore, ca: SigningCa): Promise<Authorities> {
  const { layout } = store;
  const roots = readCertificates(Buffer.from(await store.readText(layout.caCert)), layout.display(layout.caCert));
  const current = await store.currentIntermediate();
  return { roots, intermediates: [...(current ? [current] : []), ...(ca.retired ?? []).map((r) => new Certificate(r.der))] };
}
