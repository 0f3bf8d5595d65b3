import { readCertificatePem, readCertificates } from '../core/cert-input.js';
import { Certificate } from '../core/cert.js';
import { buildCsr } from '../core/csr.js';
import { equalBytes } from '../core/der.js';
import { toPem } from '../core/der-write.js';
import { failure, inputError } from '../core/errors.js';
import { signerFor } from '../core/issue.js';
import { keyTypeOf, newKey, type KeyType } from '../core/keys.js';
import { OID } from '../core/oid.js';
import { needsRenewal, type RenewThreshold } from '../core/renewal.js';
import { subjectDer } from '../core/subject.js';
import { printable } from '../core/visible-text.js';
import { Verifier } from '../core/verify.js';
import { EstClient, estBase } from '../est/client.js';
import { ConnectorDir } from '../store/connector-dir.js';
import type { OpContext } from './context.js';

/**
 * The connector's side: `pkictl enroll` (first pair, with a one-time token) and `pkictl renew`
 * (re-enrollment with the current pair when due). The key is made here and never leaves the
 * connector; the server is trusted through the root the operator gave (a file or its fingerprint),
 * then through the directory's ca.crt.
 */

export interface ConnectorResult {
  dir: string;
  server: string;
  /** false: nothing was due (renew without --force). */
  renewed: boolean;
  reason: string;
  tenantId: string;
  serial: string;
  notAfter: string;
  /** The certificate replaced (renew). */
  previous?: { serial: string; notAfter: string };
  /** ca.crt was rewritten with the roots the server publishes now (a root rollover). */
  caUpdated?: boolean;
  /** Set when the --exec hook or --signal ran. */
  hook?: { code: number | null; signal: string | null; ok: boolean };
}

const pemOf = (ders: Uint8Array[]) => ders.map((der) => toPem(der, 'CERTIFICATE')).join('');

/**
 * The answer's leaf (the certificate of our key) and the chain after it, checked before anything is
 * written: it certifies our key, for `tenantId`, and verifies to `roots` for client authentication.
 */
async function checkIssued(certs: Uint8Array[], spki: Uint8Array, tenantId: string, roots: Certificate[], ctx: OpContext): Promise<{ leaf: Certificate; pem: string }> {
  const parsed = certs.map((der) => new Certificate(der));
  const leaf = parsed.find((c) => equalBytes(c.spki, spki));
  if (!leaf) throw failure('EST_RESPONSE', 'the server answered a certificate for another key; nothing was written');
  if (leaf.commonName !== tenantId) throw failure('EST_RESPONSE', `the server certified CN '${printable(leaf.commonName ?? '')}', not ${tenantId}; nothing was written`);
  const chain = parsed.filter((c) => c !== leaf && !c.selfIssued);
  const verdict = await new Verifier(roots, chain, ctx.crypto).verify(leaf, { purpose: 'client', at: ctx.now });
  if (!verdict.ok) throw failure('EST_RESPONSE', `the new certificate does not verify to ca.crt: ${verdict.failures[0]?.message ?? 'no path'}; nothing was written`);
  return { leaf, pem: pemOf([leaf.der, ...chain.map((c) => c.der)]) };
}

/** The roots among what /cacerts publishes, as the connector's ca.crt. */
const rootsPem = (certs: Uint8Array[]) => pemOf(certs.filter((der) => new Certificate(der).selfIssued));

export interface EnrollRequest {
  server: string;
  token: string;
  tenant: string;
  dir: string;
  /** PEM of the root to trust (--ca), or the root's SHA-256 (--fingerprint). */
  ca?: string;
  fingerprint?: string;
  key: KeyType;
  force: boolean;
}

export async function enroll(request: EnrollRequest, ctx: OpContext): Promise<ConnectorResult> {
  if (!/^[\x21-\x7e]{1,128}$/.test(request.tenant) || request.tenant.includes(':')) throw inputError('TENANT_ID_INVALID', `invalid tenant id '${printable(request.tenant)}'`);
  const dir = new ConnectorDir(request.dir);
  if (dir.state() === 'pair' && !request.force) throw inputError('ALREADY_EXISTS', `${request.dir} holds a pair already; nothing was sent`, 'renew it with pkictl renew, or enroll again with --force');
  const base = estBase(request.server);
  const anchor = request.ca !== undefined ? request.ca : toPem((await EstClient.bootstrap(base, request.fingerprint!)).der, 'CERTIFICATE');
  const client = new EstClient(base, { ca: anchor });
  const roots = readCertificates(Buffer.from(anchor), 'the root');
  const key = await newKey(request.key, ctx.crypto);
  const csr = await buildCsr(subjectDer({ CN: request.tenant }), key.spki, signerFor(key.privateKey, ctx.crypto));
  const issued = await checkIssued(await client.simpleEnroll(csr, request.tenant, request.token), key.spki, request.tenant, roots, ctx);
  // ca.crt: the roots the server publishes, now that the channel is verified (the anchor among them).
  const published = await client.caCerts().catch(() => [] as Uint8Array[]);
  const caPem = published.some((der) => roots.some((r) => equalBytes(r.der, der))) ? rootsPem(published) : anchor;
  await dir.saveFirst({ certPem: issued.pem, keyPem: key.keyPem }, caPem, request.force);
  return { dir: request.dir, server: base.origin, renewed: true, reason: 'enrolled', tenantId: request.tenant, serial: issued.leaf.serialHex, notAfter: issued.leaf.notAfter.toISOString() };
}

export interface RenewRequest {
  server: string;
  dir: string;
  renewBefore: RenewThreshold;
  /** Renew now, due or not (SIGHUP to the daemon, --force). */
  force: boolean;
  key?: KeyType;
}

/** Whether the pair in `dir` is due, without any network: the daemon's clock. */
export function renewalState(dir: string, threshold: RenewThreshold, now: Date) {
  const cert = readCertificatePem(new ConnectorDir(dir).read().certPem, `${dir}/client.crt`);
  return { cert, decision: needsRenewal(cert, threshold, now) };
}

export async function renew(request: RenewRequest, ctx: OpContext): Promise<ConnectorResult> {
  const dir = new ConnectorDir(request.dir);
  const current = dir.read();
  const cert = readCertificatePem(current.certPem, dir.certPath);
  const tenantId = cert.commonName ?? '';
  const decision = needsRenewal(cert, request.renewBefore, ctx.now);
  const base = estBase(request.server);
  const summary = { dir: request.dir, server: base.origin, tenantId };
  if (!decision.due && !request.force) return { ...summary, renewed: false, reason: `not due: ${decision.reason}`, serial: cert.serialHex, notAfter: cert.notAfter.toISOString() };
  const client = new EstClient(base, { ca: current.caPem, cert: current.certPem, key: current.keyPem });
  const roots = readCertificates(Buffer.from(current.caPem), dir.caPath);
  const key = await newKey(request.key ?? keyTypeOf(cert.spki), ctx.crypto);
  const san = cert.extensions.find((e) => e.oid === OID.subjectAltName)?.value;
  const csr = await buildCsr(cert.subjectDer, key.spki, signerFor(key.privateKey, ctx.crypto), san);
  // The trust anchors first, over the channel ca.crt verifies: during a root rollover the new
  // certificate may chain to a root ca.crt does not hold yet.
  const published = await client.caCerts();
  const publishedRoots = readCertificates(Buffer.from(rootsPem(published)), 'cacerts');
  const issued = await checkIssued(await client.simpleReenroll(csr), key.spki, tenantId, [...roots, ...publishedRoots], ctx);
  const caPem = rootsPem(published);
  const caUpdated = caPem !== '' && caPem !== roots.map((r) => toPem(r.der, 'CERTIFICATE')).join('');
  await dir.swap({ certPem: issued.pem, keyPem: key.keyPem }, caUpdated ? caPem : undefined);
  return {
    ...summary,
    renewed: true,
    reason: request.force && !decision.due ? 'renewed on request' : decision.reason,
    serial: issued.leaf.serialHex,
    notAfter: issued.leaf.notAfter.toISOString(),
    previous: { serial: cert.serialHex, notAfter: cert.notAfter.toISOString() },
    ...(caUpdated && { caUpdated }),
  };
}
