import { failure } from './errors.js';
import { isRsa, signingAlgorithmOf } from './keys.js';
import type { San } from './san.js';
import { toJsonName, type Subject } from './subject.js';
import { x509, type CryptoProvider } from './x509.js';

/** The signing side: the CA certificate and its private key. */
export interface CertificateAuthority {
  cert: x509.X509Certificate;
  privateKey: CryptoKey;
}

export type LeafRole = 'server' | 'client';

/** Leaves start this far in the past so a peer whose clock runs a little behind accepts them. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * 20 random bytes (the RFC 5280 §4.1.2.2 maximum) from the CSPRNG. The top bit is cleared so the
 * INTEGER is positive without a padding byte, the next bit set so it always encodes as 20 bytes:
 * 158 random bits, which makes a collision as unlikely as guessing the CA key.
 */
export function newSerialNumber(crypto: CryptoProvider): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return Buffer.from(bytes).toString('hex');
}

function validity(days: number, now: Date, caNotAfter?: Date) {
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  let notAfter = new Date(now.getTime() + days * DAY_MS);
  // A leaf may not outlive its CA: strict verifiers reject it, and it would be unusable anyway.
  if (caNotAfter && notAfter > caNotAfter) notAfter = caNotAfter;
  return { notBefore, notAfter };
}

export interface RootRequest {
  subject: Subject;
  keys: CryptoKeyPair;
  days: number;
  now: Date;
}

export async function issueRoot(request: RootRequest, crypto: CryptoProvider): Promise<x509.X509Certificate> {
  const { notBefore, notAfter } = validity(request.days, request.now);
  const ski = await x509.SubjectKeyIdentifierExtension.create(request.keys.publicKey, false, crypto);
  return x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: newSerialNumber(crypto),
      name: toJsonName(request.subject),
      notBefore,
      notAfter,
      keys: request.keys,
      signingAlgorithm: signingAlgorithmOf(request.keys.privateKey),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        ski,
        new x509.AuthorityKeyIdentifierExtension(ski.keyId),
      ],
    },
    crypto,
  );
}

export interface LeafRequest {
  role: LeafRole;
  subject: Subject;
  /** The key being certified; it is generated elsewhere (locally today, on the connector later). */
  publicKey: CryptoKey;
  sans?: San[];
  days: number;
  now: Date;
}

const EKU: Record<LeafRole, string> = { server: x509.ExtendedKeyUsage.serverAuth, client: x509.ExtendedKeyUsage.clientAuth };

export async function issueLeaf(request: LeafRequest, ca: CertificateAuthority, crypto: CryptoProvider): Promise<x509.X509Certificate> {
  if (request.now >= ca.cert.notAfter) {
    throw failure('CA_EXPIRED', `the CA certificate expired on ${ca.cert.notAfter.toISOString()}`, 'create a new CA with pkictl init');
  }
  const { notBefore, notAfter } = validity(request.days, request.now, ca.cert.notAfter);
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  // RSA keys may be used for RSA key transport (TLS 1.2 RSA kx); EC keys only sign.
  const usages = x509.KeyUsageFlags.digitalSignature | (isRsa(request.publicKey) ? x509.KeyUsageFlags.keyEncipherment : 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension([EKU[request.role]], false),
    await x509.SubjectKeyIdentifierExtension.create(request.publicKey, false, crypto),
    caSki
      ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
      : await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, crypto),
  ];
  if (request.sans?.length) {
    extensions.push(new x509.SubjectAlternativeNameExtension(request.sans.map((s) => ({ type: s.type, value: s.value })), false));
  }
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: newSerialNumber(crypto),
      subject: toJsonName(request.subject),
      issuer: ca.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: request.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: signingAlgorithmOf(ca.privateKey),
      extensions,
    },
    crypto,
  );
}
