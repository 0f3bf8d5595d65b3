import { createHash, createPublicKey } from 'node:crypto';
import type { Certificate } from './cert.js';
export type { CertFacts } from './cert.js';
import { daysLeft, isExpired } from './renewal.js';
// @peculiar/x509 names the extensions for `inspect` (SAN text, signature algorithm, key usage and EKU
// names); the facts every other command needs come from the certificate model.
import { curveByNodeName } from './oid.js';
import { x509 } from './x509.js';

/** A certificate as `pkictl inspect` shows it; the --json schema (absent values are null, never missing). */
export interface CertSummary {
  subject: string;
  commonName: string | null;
  issuer: string;
  /** subject == issuer (a root, or a self-issued certificate). */
  selfIssued: boolean;
  /** Lowercase hex. */
  serial: string;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter at `now`, rounded down; negative once expired. */
  daysLeft: number;
  validity: 'not-yet-valid' | 'valid' | 'expired';
  /** "DNS:gw.example.com", "IP:10.0.0.1", "email:…", "URI:…", "DirName:…". */
  sans: string[];
  publicKey: PublicKeySummary;
  signatureAlgorithm: string;
  keyUsage: { critical: boolean; usages: string[] } | null;
  /** Known purposes by name (serverAuth, clientAuth, …), others as dotted OIDs. */
  extendedKeyUsage: { critical: boolean; usages: string[] } | null;
  basicConstraints: { critical: boolean; ca: boolean; pathLength: number | null } | null;
  subjectKeyId: string | null;
  authorityKeyId: string | null;
  fingerprints: {
    /** SHA-256 of the DER certificate, lowercase hex (`openssl x509 -fingerprint -sha256` without colons). */
    sha256: string;
    /** SHA-256 of the DER SubjectPublicKeyInfo: equal for every certificate of the same key (HPKP-style pin). */
    spkiSha256: string;
  };
}

export interface PublicKeySummary {
  /** "RSA", "RSA-PSS", "EC", "Ed25519", … or the algorithm OID when unknown. */
  type: string;
  /** Bits: modulus length for RSA, curve size for EC/EdDSA. */
  size: number | null;
  /** "P-256", "P-384", "P-521" for EC keys. */
  curve: string | null;
}


const EKU_NAMES: Record<string, string> = Object.fromEntries(Object.entries(x509.ExtendedKeyUsage).map(([name, oid]) => [oid, name]));
const SAN_PREFIX: Record<string, string> = { dns: 'DNS', ip: 'IP', email: 'email', url: 'URI', dn: 'DirName', guid: 'GUID', upn: 'UPN', id: 'RID' };
const KEY_USAGE_NAMES = Object.entries(x509.KeyUsageFlags).filter((e): e is [string, number] => typeof e[1] === 'number');

const sha256 = (data: ArrayBuffer | Uint8Array) => createHash('sha256').update(data instanceof Uint8Array ? data : new Uint8Array(data)).digest('hex');

export function publicKeySummary(spki: Uint8Array): PublicKeySummary {
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    switch (key.asymmetricKeyType) {
      case 'rsa':
      case 'rsa-pss':
        return { type: key.asymmetricKeyType.toUpperCase(), size: details.modulusLength ?? null, curve: null };
      case 'ec': {
        const curve = curveByNodeName(details.namedCurve);
        // secp256k1 is shown too, though no certificate pkictl accepts uses it.
        const bits = curve?.bits ?? (details.namedCurve === 'secp256k1' ? 256 : null);
        return { type: 'EC', size: bits, curve: curve?.name ?? details.namedCurve ?? null };
      }
      case 'ed25519':
        return { type: 'Ed25519', size: 256, curve: null };
      case 'ed448':
        return { type: 'Ed448', size: 456, curve: null };
      default:
        return { type: key.asymmetricKeyType ?? 'unknown', size: null, curve: null };
    }
  } catch {
    return { type: 'unknown', size: null, curve: null };
  }
}

function signatureAlgorithmName(cert: x509.X509Certificate): string {
  try {
    const alg = cert.signatureAlgorithm as { name: string; hash?: { name: string } | string };
    const hash = typeof alg.hash === 'string' ? alg.hash : alg.hash?.name;
    return hash ? `${alg.name} with ${hash}` : alg.name;
  } catch {
    return 'unknown';
  }
}

/** Extension getters parse lazily and throw on junk; a bad extension must not hide the rest. */
function tryExtension<T>(read: () => T | null): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function sansOf(cert: x509.X509Certificate): string[] {
  const ext = tryExtension(() => cert.getExtension(x509.SubjectAlternativeNameExtension));
  if (!ext) return [];
  try {
    return ext.names.items.map((n) => `${SAN_PREFIX[n.type] ?? n.type}:${n.value}`);
  } catch {
    return ['(unreadable subjectAltName)'];
  }
}

/**
 * Everything `inspect` shows about one certificate, as plain data; `now` only feeds daysLeft/validity.
 * `publicKey: false` leaves the key type and size out (audit of 10,000 tenants: one key object less each).
 */
export function summarize(model: Certificate, now: Date, options: { publicKey?: boolean } = {}): CertSummary {
  const cert = new x509.X509Certificate(new Uint8Array(model.der));
  const ku = tryExtension(() => cert.getExtension(x509.KeyUsagesExtension));
  const eku = tryExtension(() => cert.getExtension(x509.ExtendedKeyUsageExtension));
  const bc = tryExtension(() => cert.getExtension(x509.BasicConstraintsExtension));
  const ski = tryExtension(() => cert.getExtension(x509.SubjectKeyIdentifierExtension));
  const aki = tryExtension(() => cert.getExtension(x509.AuthorityKeyIdentifierExtension));
  const spki = model.spki;
  return {
    subject: model.subject,
    commonName: model.commonName ?? null,
    issuer: model.issuer,
    selfIssued: model.selfIssued,
    serial: model.serialHex,
    notBefore: model.notBefore.toISOString(),
    notAfter: model.notAfter.toISOString(),
    daysLeft: daysLeft(model.notAfter, now),
    validity: now < model.notBefore ? 'not-yet-valid' : isExpired(model, now) ? 'expired' : 'valid',
    sans: sansOf(cert),
    publicKey: options.publicKey === false ? { type: 'unknown', size: null, curve: null } : publicKeySummary(spki),
    signatureAlgorithm: signatureAlgorithmName(cert),
    keyUsage: ku ? { critical: ku.critical, usages: KEY_USAGE_NAMES.filter(([, flag]) => (ku.usages & flag) !== 0).map(([name]) => name) } : null,
    extendedKeyUsage: eku ? { critical: eku.critical, usages: eku.usages.map((oid) => EKU_NAMES[String(oid)] ?? String(oid)) } : null,
    basicConstraints: bc ? { critical: bc.critical, ca: bc.ca, pathLength: bc.pathLength ?? null } : null,
    subjectKeyId: ski?.keyId.toLowerCase() ?? null,
    authorityKeyId: aki?.keyId?.toLowerCase() ?? null,
    fingerprints: { sha256: model.sha256, spkiSha256: sha256(spki) },
  };
}
