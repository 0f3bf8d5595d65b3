// PKCS#10 certification requests (RFC 2986): read, proven (the request is signed by the key it
// carries: proof of possession), and held to the key policy of a tenant's certificate. What a CSR
// asks for beyond its subject and key (extensions, attributes) is read but never obeyed: the client
// profile decides the certificate (ops/sign-csr.ts).
import { keyObjectOf, type Problem, type Signed } from './cert.js';
import { children, content, DerError, expect, oid, parseDer, readTlv, smallInt, stringValue, whole, type Tlv } from './der.js';
import { bitString, objectIdentifier, octetString, sequence, set, smallInteger, tlv } from './der-write.js';
import { inputError } from './errors.js';
import type { Signer } from './issue.js';
import { attributes, nameText } from './name.js';
import { EC_CURVES, OID } from './oid.js';
import { isPem, latin1Text, pemBlocks } from './pem.js';
import { checkSignature, keyProblem, signatureAlgorithmProblem } from './verify/signature.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** The largest request read anywhere (a P-256 CSR is ~250 bytes, an RSA-4096 one ~1.6 KB). */
const MAX_CSR_BYTES = 64 * 1024;

export class CertificationRequest implements Signed {
  readonly der: Uint8Array;
  /** CertificationRequestInfo, the signed part. */
  readonly tbs: Uint8Array;
  readonly sigAlgOid: string;
  readonly sigAlgParams?: Tlv;
  readonly signature: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** RFC 4514 text, as the index and `inspect` show subjects. */
  readonly subject: string;
  readonly commonNames: string[];
  readonly spki: Uint8Array;
  readonly keyAlgOid: string;
  readonly keyParams?: Tlv;
  /** The subjectAltName extension value the request asks for (DER), if any: re-enrollment compares it. */
  readonly requestedSan?: Uint8Array;
  #key?: ReturnType<typeof keyObjectOf>;

  /** Throws DerError when `der` is not exactly one CertificationRequest. */
  constructor(der: Uint8Array) {
    const outer = children(expect(parseDer(der), 0x30, 'CertificationRequest'));
    if (outer.length !== 3) throw new DerError('CertificationRequest must hold three elements');
    const [info, sigAlg, signature] = outer as [Tlv, Tlv, Tlv];
    this.der = der;
    this.tbs = whole(expect(info, 0x30, 'CertificationRequestInfo'));
    const [algOid, algParams] = children(expect(sigAlg, 0x30, 'signatureAlgorithm'));
    this.sigAlgOid = oid(algOid!);
    this.sigAlgParams = algParams;
    const bits = content(expect(signature, 0x03, 'signature'));
    if (bits[0] !== 0) throw new DerError('signature has unused bits');
    this.signature = bits.subarray(1);
    const fields = children(info);
    if (smallInt(expect(fields[0], 0x02, 'version')) !== 0) throw new DerError('only version 1 (0) requests exist');
    const name = expect(fields[1], 0x30, 'subject');
    this.subjectDer = whole(name);
    this.subject = nameText(name);
    this.commonNames = [...attributes(name)].filter(([, type]) => type === OID.commonName).map(([, , value]) => stringValue(value));
    const spki = expect(fields[2], 0x30, 'subjectPKInfo');
    this.spki = whole(spki);
    const [keyAlg] = children(spki);
    const [keyOid, keyParams] = children(expect(keyAlg, 0x30, 'AlgorithmIdentifier'));
    this.keyAlgOid = oid(keyOid!);
    this.keyParams = keyParams;
    const attrs = fields[3];
    if (attrs && attrs.tag !== 0xa0) throw new DerError('attributes must be [0]');
    if (fields.length > 4) throw new DerError('unexpected field in CertificationRequestInfo');
    for (const attr of attrs ? children(attrs) : []) {
      const [type, values] = children(expect(attr, 0x30, 'Attribute'));
      if (oid(type!) !== EXTENSION_REQUEST) continue;
      for (const ext of children(expect(children(expect(values, 0x31, 'values'))[0], 0x30, 'Extensions'))) {
        const parts = children(expect(ext, 0x30, 'Extension'));
        if (oid(parts[0]!) === OID.subjectAltName) this.requestedSan = content(expect(parts.at(-1), 0x04, 'extnValue'));
      }
    }
  }

  /** The key as pkictl names key types: ec-p256, ec-p384, rsa-<bits>, ed25519 (or the algorithm's OID). */
  get keyType(): string {
    const key = this.publicKey;
    if (key instanceof Error) return this.keyAlgOid;
    if (key.asymmetricKeyType === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ec-p384' : key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ec-p256' : `ec-${key.asymmetricKeyDetails?.namedCurve}`;
    if (key.asymmetricKeyType === 'rsa') return `rsa-${key.asymmetricKeyDetails?.modulusLength}`;
    return key.asymmetricKeyType ?? this.keyAlgOid;
  }

  get publicKey() {
    return (this.#key ??= keyObjectOf(this.spki, this.keyParams));
  }
}

/**
 * A CSR from a file or a request body: PEM (CERTIFICATE REQUEST) or DER. Anything else is one input
 * error naming `source`.
 */
export function readCsr(data: Uint8Array, source: string): CertificationRequest {
  if (data.length === 0) throw inputError('CSR_INVALID', `${source}: empty; expected a PKCS#10 certificate request (PEM or DER)`);
  if (data.length > MAX_CSR_BYTES) throw inputError('CSR_INVALID', `${source}: ${data.length} bytes; a certificate request is at most ${MAX_CSR_BYTES}`);
  let der = data;
  const text = latin1Text(data);
  if (isPem(text)) {
    const block = pemBlocks(text).find((b) => CSR_LABELS.has(b.label));
    if (!block) throw inputError('CSR_INVALID', `${source}: no CERTIFICATE REQUEST block in it`);
    if (/[^A-Za-z0-9+/=\s]/.test(block.body)) throw inputError('CSR_INVALID', `${source}: characters that are not base64 inside the PEM block`);
    der = Buffer.from(block.body, 'base64');
  }
  try {
    // readTlv first: a DER certificate or key given by mistake fails on structure, not on length.
    readTlv(der, 0);
    return new CertificationRequest(der);
  } catch (error) {
    throw inputError('CSR_INVALID', `${source}: not a PKCS#10 certificate request (${error instanceof Error ? error.message : String(error)})`);
  }
}

/**
 * Keys a tenant's certificate may certify: RSA of 2048 bits or more, ECDSA on P-256 or P-384,
 * Ed25519 (what Go's crypto/tls and Python's ssl both speak for client authentication).
 */
export function leafKeyProblem(csr: CertificationRequest): Problem | undefined {
  const general = keyProblem(csr);
  if (general) return general;
  if (csr.keyAlgOid === OID.rsaPss) return { code: 'WEAK_KEY', message: 'RSA-PSS-only keys are not accepted; use an rsaEncryption key' };
  if (csr.keyAlgOid === OID.ecPublicKey) {
    const curve = EC_CURVES[oid(csr.keyParams!)]!;
    if (curve.name !== 'P-256' && curve.name !== 'P-384') return { code: 'WEAK_KEY', message: `EC key on ${curve.name}; use P-256 or P-384` };
  }
  if (csr.keyAlgOid === OID.ed448) return { code: 'WEAK_KEY', message: 'Ed448 keys are not accepted; use Ed25519, P-256, P-384 or RSA' };
  return undefined;
}

/** Why the request cannot be signed, before any policy: its signature algorithm, its signature, its key. */
export function csrProblem(csr: CertificationRequest): Problem | undefined {
  const algorithm = signatureAlgorithmProblem(csr);
  if (algorithm) return algorithm;
  const key = leafKeyProblem(csr);
  if (key) return key;
  if (!checkSignature(csr, csr)) return { code: 'BAD_SIGNATURE', message: 'the request is not signed by the key it carries (no proof of possession)' };
  return undefined;
}

/**
 * A PKCS#10 request for `spki`, signed by its private key: `subjectDer` as it is (a re-enrollment
 * repeats the current certificate's Subject byte for byte) and, when given, its subjectAltName
 * extension value (DER) in an extensionRequest (RFC 2985 §5.4.2).
 */
export async function buildCsr(subjectDer: Uint8Array, spki: Uint8Array, signer: Signer, san?: Uint8Array): Promise<Uint8Array> {
  const attributes = san ? [sequence(objectIdentifier(EXTENSION_REQUEST), set(sequence(sequence(objectIdentifier(OID.subjectAltName), octetString(san)))))] : [];
  const info = sequence(smallInteger(0), subjectDer, spki, tlv(0xa0, ...attributes));
  return sequence(info, signer.algorithm, bitString(await signer.sign(info)));
}
