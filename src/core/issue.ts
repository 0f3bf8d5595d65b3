import { createHash } from 'node:crypto';
import { bitString, explicit, implicit, ia5String, namedBits, NULL, objectIdentifier, octetString, sequence, smallInteger, time, toPem, TRUE, unsignedInteger, type Der } from './der-write.js';
import { Certificate } from './cert.js';
import { failure } from './errors.js';
import type { CertFacts } from './cert.js';
import type { San } from './san.js';
import { subjectDer, subjectText, type Subject } from './subject.js';
import { children, content, parseDer, oid as readOid } from './der.js';
import { OID } from './oid.js';
import { parseIp } from './verify/names.js';
import type { CryptoProvider } from './x509.js';

/**
 * The signing side: the CA certificate (DER) and its private key. `chain` is what a leaf carries
 * after itself so that a peer trusting only the root can build its path: empty when the root signs,
 * the issuing intermediate's DER when one does.
 */
export interface CertificateAuthority {
  der: Uint8Array;
  privateKey: CryptoKey;
  chain?: Uint8Array[];
}

export type LeafRole = 'server' | 'client';

/** A certificate pkictl made: its DER, PEM and the facts every command reports. */
export interface IssuedCertificate {
  der: Der;
  pem: string;
  facts: CertFacts;
  /** Set when the CA's own end cut the leaf short: "valid 29 days, not 90: the CA expires on …". */
  shortened?: string;
  /** Serial of the CA certificate that signed it (absent for a root): the index records it, each CA's CRL lists its own. */
  issuer?: string;
}

/** Leaves start this far in the past so a peer whose clock runs a little behind accepts them. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
const KU = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 };

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

/** Whole seconds: what the certificate can hold, so the reported facts equal the encoded ones. */
const toSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

function validity(days: number, now: Date, caNotAfter?: Date) {
  const notBefore = toSecond(now.getTime() - CLOCK_SKEW_MS);
  let notAfter = toSecond(now.getTime() + days * DAY_MS);
  // A leaf may not outlive its CA: strict verifiers reject it, and it would be unusable anyway. It is
  // said (shortened): near the CA's end every issue and rotation gives ever shorter leaves.
  if (caNotAfter && notAfter > caNotAfter) {
    notAfter = caNotAfter;
    const left = (notAfter.getTime() - now.getTime()) / DAY_MS;
    const valid = left >= 1 ? `${Math.round(left)} day${Math.round(left) === 1 ? '' : 's'}` : `${Math.max(1, Math.round(left * 24))} hour(s)`;
    return { notBefore, notAfter, shortened: `valid ${valid}, not ${days}: the CA expires on ${caNotAfter.toISOString()}` };
  }
  return { notBefore, notAfter };
}

/** What a leaf of `days` issued at `now` would be cut to by a CA ending at `caNotAfter` ("valid 29 days, not 90: …"); undefined when it fits. */
export const cutShortBy = (days: number, now: Date, caNotAfter: Date): string | undefined => validity(days, now, caNotAfter).shortened;

/** The way out at a CA's end: the CA lifecycle commands (README: CA lifecycle). */
export const CA_REPLACEMENT =
  'renew the issuing intermediate with pkictl intermediate renew (then pkictl rotate --old-ca --include-server), or replace the root in phases: pkictl ca rollover begin, then switch, then finish';

/** Refuses (exit 1) to sign anything, a certificate or a CRL, with a CA past its notAfter: nothing it signed would verify. */
function refuseExpired(caNotAfter: Date, now: Date): void {
  if (now >= caNotAfter) throw failure('CA_EXPIRED', `the CA certificate expired on ${caNotAfter.toISOString()}; nothing was signed`, CA_REPLACEMENT);
}

/** refuseExpired for a loaded CA: commands call it before they write anything (ops/signing-ca.ts). */
export function assertCaCanSign(ca: CertificateAuthority, now: Date): void {
  refuseExpired(new Certificate(ca.der).notAfter, now);
}

const extension = (id: string, critical: boolean, value: Der) =>
  critical ? sequence(objectIdentifier(id), TRUE, octetString(value)) : sequence(objectIdentifier(id), octetString(value));

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifier(spki: Uint8Array): Uint8Array {
  const key = children(parseDer(spki))[1]!;
  return createHash('sha1').update(content(key).subarray(1)).digest();
}

const isRsaKey = (spki: Uint8Array) => readOid(children(children(parseDer(spki))[0]!)[0]!) === OID.rsaEncryption;

/** How a CA key signs: the AlgorithmIdentifier it writes and the signature in X.509's form. */
export interface Signer {
  algorithm: Der;
  sign(tbs: Der): Promise<Uint8Array>;
}

export function signerFor(privateKey: CryptoKey, crypto: CryptoProvider): Signer {
  const alg = privateKey.algorithm as EcKeyAlgorithm;
  if (alg.name === 'ECDSA') {
    // SHA-384 matches P-384's (and P-521's) security level.
    const hash = alg.namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384';
    return {
      algorithm: sequence(objectIdentifier(hash === 'SHA-256' ? OID.ecdsaSha256 : OID.ecdsaSha384)),
      async sign(tbs) {
        // WebCrypto returns r || s; X.509 wants ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }.
        const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash }, privateKey, tbs));
        const half = raw.length / 2;
        return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
      },
    };
  }
  return {
    algorithm: sequence(objectIdentifier(OID.sha256WithRsa), NULL),
    async sign(tbs) {
      return new Uint8Array(await crypto.subtle.sign({ name: alg.name, hash: 'SHA-256' }, privateKey, tbs));
    },
  };
}

interface CertificateFields {
  serial: string;
  issuer: Uint8Array;
  subject: Subject;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  extensions: Der[];
}

/** Encodes TBSCertificate (RFC 5280 §4.1), signs it, and wraps it as a Certificate. */
async function signCertificate(fields: CertificateFields, signer: Signer): Promise<IssuedCertificate> {
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(Buffer.from(fields.serial, 'hex')),
    signer.algorithm,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    subjectDer(fields.subject),
    fields.spki,
    explicit(3, sequence(...fields.extensions)),
  );
  const der = sequence(tbs, signer.algorithm, bitString(await signer.sign(tbs)));
  const facts: CertFacts = {
    subject: subjectText(fields.subject),
    commonName: fields.subject.CN,
    serial: fields.serial,
    notBefore: fields.notBefore.toISOString(),
    notAfter: fields.notAfter.toISOString(),
    sha256: createHash('sha256').update(der).digest('hex'),
  };
  return { der, pem: toPem(der, 'CERTIFICATE'), facts };
}

export interface RootRequest {
  subject: Subject;
  /** SubjectPublicKeyInfo (DER) of `privateKey`. */
  spki: Uint8Array;
  privateKey: CryptoKey;
  days: number;
  now: Date;
}

export async function issueRoot(request: RootRequest, crypto: CryptoProvider): Promise<IssuedCertificate> {
  const { notBefore, notAfter } = validity(request.days, request.now);
  const keyId = keyIdentifier(request.spki);
  return signCertificate(
    {
      serial: newSerialNumber(crypto),
      issuer: subjectDer(request.subject),
      subject: request.subject,
      notBefore,
      notAfter,
      spki: request.spki,
      extensions: [
        extension(OID.basicConstraints, true, sequence(TRUE)),
        extension(OID.keyUsage, true, namedBits([KU.keyCertSign, KU.cRLSign])),
        extension(OID.subjectKeyId, false, octetString(keyId)),
        extension(OID.authorityKeyId, false, sequence(implicit(0, keyId))),
      ],
    },
    signerFor(request.privateKey, crypto),
  );
}

export interface IntermediateRequest {
  subject: Subject;
  /** SubjectPublicKeyInfo (DER) of the intermediate's key. */
  spki: Uint8Array;
  days: number;
  now: Date;
}

/**
 * An issuing CA signed by `root`: CA:TRUE with pathLen 0 (it signs leaves only), keyCertSign and
 * cRLSign. Like a leaf, it may not outlive its root (`shortened` says so).
 */
export async function issueIntermediate(request: IntermediateRequest, root: CertificateAuthority, crypto: CryptoProvider): Promise<IssuedCertificate> {
  const issuer = issuerOf(root, crypto);
  refuseExpired(issuer.notAfter, request.now);
  const { notBefore, notAfter, shortened } = validity(request.days, request.now, issuer.notAfter);
  const cert = await signCertificate(
    {
      serial: newSerialNumber(crypto),
      issuer: issuer.name,
      subject: request.subject,
      notBefore,
      notAfter,
      spki: request.spki,
      extensions: [
        extension(OID.basicConstraints, true, sequence(TRUE, smallInteger(0))),
        extension(OID.keyUsage, true, namedBits([KU.keyCertSign, KU.cRLSign])),
        extension(OID.subjectKeyId, false, octetString(keyIdentifier(request.spki))),
        extension(OID.authorityKeyId, false, sequence(implicit(0, issuer.keyId))),
      ],
    },
    issuer.signer,
  );
  return { ...cert, issuer: issuer.serial, ...(shortened && { shortened }) };
}

export interface LeafRequest {
  role: LeafRole;
  subject: Subject;
  /** SubjectPublicKeyInfo (DER) of the key being certified: generated elsewhere (locally today, on the connector later). */
  spki: Uint8Array;
  sans?: San[];
  days: number;
  now: Date;
}

/** The key identifier a CA writes into its certificates' AKI: its SKI. */
export const keyIdOf = (ca: CertificateAuthority): Uint8Array => {
  const cert = new Certificate(ca.der);
  return cert.ski ?? keyIdentifier(cert.spki);
};

/** What a leaf needs from its CA (a parse of a few microseconds per leaf, against milliseconds of signing). */
function issuerOf(ca: CertificateAuthority, crypto: CryptoProvider) {
  const cert = new Certificate(ca.der);
  return {
    // The CA's subject byte for byte, as RFC 5280 name chaining compares it.
    name: cert.subjectDer,
    serial: cert.serialHex,
    notAfter: cert.notAfter,
    keyId: cert.ski ?? keyIdentifier(cert.spki),
    signer: signerFor(ca.privateKey, crypto),
  };
}

function generalName(san: San): Der {
  return san.type === 'dns' ? implicit(2, ia5String(san.value)) : implicit(7, parseIp(san.value)!);
}

export async function issueLeaf(request: LeafRequest, ca: CertificateAuthority, crypto: CryptoProvider): Promise<IssuedCertificate> {
  const issuer = issuerOf(ca, crypto);
  refuseExpired(issuer.notAfter, request.now);
  const { notBefore, notAfter, shortened } = validity(request.days, request.now, issuer.notAfter);
  // RSA keys may be used for RSA key transport (TLS 1.2 RSA kx); EC keys only sign.
  const usages = isRsaKey(request.spki) ? [KU.digitalSignature, KU.keyEncipherment] : [KU.digitalSignature];
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, namedBits(usages)),
    extension(OID.extKeyUsage, false, sequence(objectIdentifier(request.role === 'server' ? OID.ekuServerAuth : OID.ekuClientAuth))),
    extension(OID.subjectKeyId, false, octetString(keyIdentifier(request.spki))),
    extension(OID.authorityKeyId, false, sequence(implicit(0, issuer.keyId))),
  ];
  if (request.sans?.length) extensions.push(extension(OID.subjectAltName, false, sequence(...request.sans.map(generalName))));
  const cert = await signCertificate(
    { serial: newSerialNumber(crypto), issuer: issuer.name, subject: request.subject, notBefore, notAfter, spki: request.spki, extensions },
    issuer.signer,
  );
  // The file a peer sends: the leaf, then its intermediate (the facts stay the leaf's).
  const pem = ca.chain?.length ? cert.pem + ca.chain.map((der) => toPem(der, 'CERTIFICATE')).join('') : cert.pem;
  return { ...cert, pem, issuer: issuer.serial, ...(shortened && { shortened }) };
}
