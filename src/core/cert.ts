// The one certificate model every command uses (verify, inspect, list, audit, rotate, the store).
// Built on the strict DER reader; lazy: the constructor checks only the outer structure (what makes
// bytes a certificate at all) and each field is decoded on first use, so `inspect --field cn` and a
// 10,000-tenant `list` pay for a CN and two times, and the validator pays for everything once.
// Malformed content past the outer structure does not throw: it becomes a `problem`, which only
// matters if the certificate ends up on a candidate path (an unusable, unrelated root must not fail a
// good chain).
import * as nodeCrypto from 'node:crypto';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bool, children, content, DerError, equalBytes, expect, oid, parseDer, readTlv, serialText, smallInt, stringValue, time, whole, type Tlv } from './der.js';
import { attributes, nameText } from './name.js';
import { EC_CURVES, OID } from './oid.js';

/** Extensions the validator processes or may safely ignore; any other critical extension is rejected. */
export const KNOWN_EXTENSIONS = new Set<string>([
  OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.issuerAltName, OID.nameConstraints,
  OID.subjectKeyId, OID.authorityKeyId, OID.certificatePolicies, OID.policyConstraints, OID.inhibitAnyPolicy,
  OID.policyMappings, OID.crlDistributionPoints, OID.freshestCrl, OID.authorityInfoAccess, OID.subjectInfoAccess, OID.sctList,
]);

export type GeneralName =
  | { type: 'dns'; value: string; ascii: boolean }
  | { type: 'ip'; bytes: Uint8Array }
  | { type: 'email'; value: string; ascii: boolean }
  | { type: 'dn'; rdns: Uint8Array[] }
  | { type: 'uri'; value: string }
  | { type: 'other'; tag: number };

export interface NameConstraintsExt { permitted: GeneralName[]; excluded: GeneralName[] }
export interface Extension { oid: string; critical: boolean; value: Uint8Array }
export interface Problem { code: string; message: string }
export interface BasicConstraints { ca: boolean; pathLen?: number }
export interface AuthorityKeyId { keyId?: Uint8Array; hasIssuer: boolean; hasSerial: boolean }

/** The signed part and how it was signed: what a signature check needs (certificates and CRLs alike). */
export interface Signed {
  tbs: Uint8Array;
  sigAlgOid: string;
  sigAlgParams?: Tlv;
  signature: Uint8Array;
}

const isAscii = (b: Uint8Array) => b.every((x) => x < 0x80);
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function parseGeneralName(t: Tlv): GeneralName {
  switch (t.tag) {
    case 0x82: { const b = content(t); return { type: 'dns', value: latin1(b), ascii: isAscii(b) }; }
    case 0x81: { const b = content(t); return { type: 'email', value: latin1(b), ascii: isAscii(b) }; }
    case 0x87: return { type: 'ip', bytes: content(t) };
    case 0x86: return { type: 'uri', value: latin1(content(t)) };
    case 0xa4: {
      const inner = children(t);
      if (inner.length !== 1) throw new DerError('directoryName must hold one Name');
      return { type: 'dn', rdns: parseName(inner[0]!).rdns };
    }
    case 0xa0: case 0xa3: case 0xa5: case 0x88:
      return { type: 'other', tag: t.tag };
    default:
      throw new DerError(`unknown GeneralName tag 0x${t.tag.toString(16)}`);
  }
}

/** The RDNs of a Name and the attributes the validator matches (strict: a string that does not decode is malformed). */
function parseName(name: Tlv) {
  const commonNames: string[] = [];
  const emails: string[] = [];
  for (const [, type, value] of attributes(name)) {
    if (type === OID.commonName) commonNames.push(stringValue(value));
    if (type === OID.emailAddress) emails.push(stringValue(value));
  }
  const rdns = children(name).map(whole);
  return { rdns, commonNames, emails };
}

function parseGeneralNames(value: Uint8Array, what: string): GeneralName[] {
  const names = children(expect(parseDer(value), 0x30, what)).map(parseGeneralName);
  if (names.length === 0) throw new DerError(`${what} is empty`);
  return names;
}

function parseSubtrees(t: Tlv): GeneralName[] {
  const list = children(t).map((st) => {
    const parts = children(expect(st, 0x30, 'GeneralSubtree'));
    if (!parts[0]) throw new DerError('GeneralSubtree without base');
    // minimum must be 0 and maximum absent (RFC 5280 §4.2.1.10)
    if (parts.length > 1) throw new DerError('GeneralSubtree minimum/maximum are not allowed');
    return parseGeneralName(parts[0]);
  });
  if (list.length === 0) throw new DerError('empty GeneralSubtrees');
  return list;
}

/** Decoders of the extensions pkictl reads (value = extnValue's content); each throws DerError on malformed content. */
const DECODERS: Record<string, (v: Uint8Array) => unknown> = {
  [OID.basicConstraints]: (v): BasicConstraints => {
    const parts = children(expect(parseDer(v), 0x30, 'basicConstraints'));
    let ca = false;
    let i = 0;
    if (parts[i]?.tag === 0x01) { ca = bool(parts[i]!); i++; }
    const pathLen = parts[i] ? smallInt(parts[i]!) : undefined;
    if (parts[i] && i + 1 !== parts.length) throw new DerError('basicConstraints has extra fields');
    return { ca, pathLen };
  },
  [OID.keyUsage]: (v): Set<number> => {
    const b = content(expect(parseDer(v), 0x03, 'keyUsage'));
    if (b.length < 1 || b[0]! > 7) throw new DerError('keyUsage bit string malformed');
    const bits = new Set<number>();
    for (let i = 1; i < b.length; i++) for (let j = 0; j < 8; j++) if (b[i]! & (0x80 >> j)) bits.add((i - 1) * 8 + j);
    return bits;
  },
  [OID.extKeyUsage]: (v): string[] => children(expect(parseDer(v), 0x30, 'extKeyUsage')).map(oid),
  [OID.subjectAltName]: (v) => parseGeneralNames(v, 'subjectAltName'),
  [OID.issuerAltName]: (v) => parseGeneralNames(v, 'issuerAltName'),
  [OID.nameConstraints]: (v): NameConstraintsExt => {
    const nc: NameConstraintsExt = { permitted: [], excluded: [] };
    for (const p of children(expect(parseDer(v), 0x30, 'nameConstraints'))) {
      if (p.tag === 0xa0) nc.permitted = parseSubtrees(p);
      else if (p.tag === 0xa1) nc.excluded = parseSubtrees(p);
      else throw new DerError('nameConstraints holds something other than subtrees');
    }
    // RFC 5280 §4.2.1.10: "either the permittedSubtrees field or the excludedSubtrees MUST be present"
    if (nc.permitted.length + nc.excluded.length === 0) throw new DerError('nameConstraints with no subtrees');
    return nc;
  },
  [OID.subjectKeyId]: (v): Uint8Array => {
    const ski = content(expect(parseDer(v), 0x04, 'subjectKeyIdentifier'));
    if (ski.length === 0) throw new DerError('subjectKeyIdentifier is empty');
    return ski;
  },
  [OID.authorityKeyId]: (v): AuthorityKeyId => {
    const aki: AuthorityKeyId = { hasIssuer: false, hasSerial: false };
    for (const p of children(expect(parseDer(v), 0x30, 'authorityKeyIdentifier'))) {
      if (p.tag === 0x80) {
        aki.keyId = content(p);
        if (aki.keyId.length === 0) throw new DerError('authorityKeyIdentifier keyIdentifier is empty');
      } else if (p.tag === 0xa1) aki.hasIssuer = true;
      else if (p.tag === 0x82) aki.hasSerial = true;
      else throw new DerError('authorityKeyIdentifier has an unknown field');
    }
    return aki;
  },
  [OID.authorityInfoAccess]: (v) => infoAccess(v),
  [OID.subjectInfoAccess]: (v) => infoAccess(v),
  [OID.certificatePolicies]: (v) => expect(parseDer(v), 0x30, OID.certificatePolicies),
  [OID.policyConstraints]: (v) => expect(parseDer(v), 0x30, OID.policyConstraints),
  [OID.policyMappings]: (v) => expect(parseDer(v), 0x30, OID.policyMappings),
  [OID.crlDistributionPoints]: (v) => expect(parseDer(v), 0x30, OID.crlDistributionPoints),
};

function infoAccess(v: Uint8Array): void {
  const list = children(expect(parseDer(v), 0x30, 'infoAccess'));
  if (list.length === 0) throw new DerError('AuthorityInfoAccessSyntax must hold one or more AccessDescriptions');
  for (const ad of list) {
    const [method, location] = children(expect(ad, 0x30, 'AccessDescription'));
    oid(method!);
    if (!location) throw new DerError('AccessDescription without location');
    parseGeneralName(location);
  }
}

/** sha256 hex of `der` (crypto.hash, one call, where this Node has it). */
const sha256Hex: (der: Uint8Array) => string =
  typeof (nodeCrypto as { hash?: unknown }).hash === 'function'
    ? (der) => nodeCrypto.hash('sha256', der, 'hex')
    : (der) => createHash('sha256').update(der).digest('hex');

const EMPTY = new Uint8Array(0);
type Decoded = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * createPublicKey of a SubjectPublicKeyInfo. A canonical uncompressed point on a named curve goes in as a
 * JWK: OpenSSL 3's SPKI decoder costs ~0.30 ms a key, the JWK import ~0.16 ms (P-256, measured), with the
 * same checks (the point must lie on the curve, coordinates below p); verify reads one key per leaf.
 */
function publicKeyOf(spki: Uint8Array, curveOid: string | undefined): KeyObject {
  const curve = curveOid === undefined ? undefined : EC_CURVES[curveOid];
  const prefix = curve && Buffer.from(curve.spkiPrefix, 'hex');
  if (curve && prefix && spki.length === prefix.length + 2 * curve.size && prefix.equals(spki.subarray(0, prefix.length))) {
    const point = Buffer.from(spki.buffer, spki.byteOffset + prefix.length, 2 * curve.size);
    const coordinate = (i: number) => point.subarray(i * curve.size, (i + 1) * curve.size).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: curve.name, x: coordinate(0), y: coordinate(1) }, format: 'jwk' });
  }
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

/** The key of a SubjectPublicKeyInfo whose AlgorithmIdentifier parameters are `keyParams`, or the error that stops it (certificates and CSRs). */
export function keyObjectOf(spki: Uint8Array, keyParams: Tlv | undefined): KeyObject | Error {
  try {
    return publicKeyOf(spki, keyParams?.tag === 0x06 ? oid(keyParams) : undefined);
  } catch (error) {
    return error as Error;
  }
}

export class Certificate implements Signed {
  /** The certificate's own bytes (whatever followed it in the input is not part of it). */
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  /** INTEGER content bytes (sign padding included). */
  readonly serial: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly subjectDer: Uint8Array;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** issuer == subject, byte for byte (a root, or a self-issued certificate). */
  readonly selfIssued: boolean;

  readonly #outer: Tlv[];
  readonly #fields: Tlv[];
  /** index of the serialNumber in #fields (1 when a version is present) */
  readonly #at: number;
  #sha256?: string;
  #structure?: Structure;
  #extensions?: ExtensionList;
  #decoded?: Map<Extension, Decoded>;
  #commonName?: string | null;
  #key?: KeyObject | Error;

  /** Throws DerError when `bytes` do not start with a certificate (bytes after it are ignored, as openssl does). */
  constructor(bytes: Uint8Array) {
    const cert = expect(readTlv(bytes, 0), 0x30, 'Certificate');
    this.der = bytes.subarray(0, cert.end);
    this.#outer = children(cert);
    const [tbs, sigAlg, signature, extra] = this.#outer;
    if (extra) throw new DerError('Certificate has more than three elements');
    expect(sigAlg, 0x30, 'signatureAlgorithm');
    expect(signature, 0x03, 'signatureValue');
    this.tbs = whole(expect(tbs, 0x30, 'TBSCertificate'));
    const f = (this.#fields = children(tbs!));
    let i = (this.#at = f[0]?.tag === 0xa0 ? 1 : 0);
    this.serial = content(expect(f[i++], 0x02, 'serialNumber'));
    if (this.serial.length === 0) throw new DerError('empty serialNumber');
    expect(f[i++], 0x30, 'signature');
    this.issuerDer = whole(expect(f[i++], 0x30, 'issuer'));
    const validity = children(expect(f[i++], 0x30, 'validity'));
    if (validity.length !== 2) throw new DerError('Validity must hold two times');
    this.notBefore = time(validity[0]);
    this.notAfter = time(validity[1]);
    this.subjectDer = whole(expect(f[i++], 0x30, 'subject'));
    this.spki = whole(expect(f[i++], 0x30, 'subjectPublicKeyInfo'));
    for (; i < f.length; i++) if (![0x81, 0x82, 0xa1, 0xa2, 0xa3].includes(f[i]!.tag)) throw new DerError('unexpected field in TBSCertificate');
    this.selfIssued = equalBytes(this.issuerDer, this.subjectDer);
  }

  /** SHA-256 of the DER, lowercase hex: the fingerprint, and the model's identity in path building. */
  get sha256(): string {
    return (this.#sha256 ??= sha256Hex(this.der));
  }

  /** Lowercase hex, as openssl and @peculiar/x509 print it. */
  get serialHex(): string {
    return serialText(this.serial);
  }

  /** RFC 4514 text of the subject / issuer. */
  get subject(): string {
    return nameText(this.#fields[this.#at + 4]!);
  }
  get issuer(): string {
    return nameText(this.#fields[this.#at + 2]!);
  }

  /** The first CN of the subject (names that do not decode as UTF-8 read as latin1, for display). */
  get commonName(): string | undefined {
    if (this.#commonName === undefined) this.#commonName = this.subjectAttribute(OID.commonName) ?? null;
    return this.#commonName ?? undefined;
  }

  /** The first value of attribute `type` (an OID) in the subject, as text. */
  subjectAttribute(type: string): string | undefined {
    for (const [, t, value] of attributes(this.#fields[this.#at + 4]!)) if (t === type) return stringValue(value, true);
    return undefined;
  }

  // ---- the validator's view: the rest of the structure, decoded once on first use ----

  get version() { return this.#full().version; }
  get outerSigAlg() { return this.#full().outerSigAlg; }
  get tbsSigAlg() { return this.#full().tbsSigAlg; }
  get sigAlgOid() { return this.#full().sigAlgOid; }
  get sigAlgParams() { return this.#full().sigAlgParams; }
  get signature() { return this.#full().signature; }
  get issuerEmpty() { return this.#full().issuerEmpty; }
  get subjectEmpty() { return this.#full().subjectEmpty; }
  get subjectRdns() { return this.#full().subjectRdns; }
  get commonNames() { return this.#full().commonNames; }
  get subjectEmails() { return this.#full().subjectEmails; }
  get keyAlgOid() { return this.#full().keyAlgOid; }
  get keyParams() { return this.#full().keyParams; }
  get extensions() { return this.#full().extensions; }

  get bc() { return this.#extension(OID.basicConstraints) as BasicConstraints | undefined; }
  /** keyUsage bits: bit 0 = digitalSignature … bit 5 = keyCertSign, bit 6 = cRLSign */
  get ku() { return this.#extension(OID.keyUsage) as Set<number> | undefined; }
  get eku() { return this.#extension(OID.extKeyUsage) as string[] | undefined; }
  get san() { return this.#extension(OID.subjectAltName) as GeneralName[] | undefined; }
  get nc() { return this.#extension(OID.nameConstraints) as NameConstraintsExt | undefined; }
  get ski() { return this.#extension(OID.subjectKeyId) as Uint8Array | undefined; }
  get aki() { return this.#extension(OID.authorityKeyId) as AuthorityKeyId | undefined; }

  /** Structural defects: of the certificate first, then of each extension in order. */
  get problems(): Problem[] {
    const s = this.#full();
    const problems = [...s.problems];
    if (!s.malformed) for (const e of s.extensions) {
      const d = this.#decode(e);
      if (d && !d.ok) problems.push({ code: 'MALFORMED_EXTENSION', message: `extension ${e.oid}: ${d.error}` });
    }
    return problems;
  }

  /** The public key, parsed once; an error is kept so every use reports the same cause. */
  get publicKey(): KeyObject | Error {
    return (this.#key ??= keyObjectOf(this.spki, this.keyParams));
  }

  /**
   * The decoded value of the last extension with `id`, undefined if absent or malformed. Read from the
   * extensions field alone: a defect elsewhere (MALFORMED_CERTIFICATE in `problems`) does not hide it.
   */
  #extension(id: string): unknown {
    const { extensions: list, error } = this.#extensionList();
    if (error) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.oid !== id) continue;
      const d = this.#decode(list[i]!);
      return d?.ok ? d.value : undefined;
    }
    return undefined;
  }

  #decode(e: Extension): Decoded | undefined {
    const decoder = DECODERS[e.oid];
    if (!decoder) return undefined;
    let d = this.#decoded?.get(e);
    if (!d) {
      try {
        d = { ok: true, value: decoder(e.value) };
      } catch (error) {
        d = { ok: false, error: (error as Error).message };
      }
      (this.#decoded ??= new Map()).set(e, d);
    }
    return d;
  }

  #full(): Structure {
    return (this.#structure ??= structure(this.#outer, this.#fields, this.#at, this.#extensionList()));
  }

  #extensionList(): ExtensionList {
    return (this.#extensions ??= extensionList(this.#fields, this.#at));
  }
}

interface Structure {
  version: number;
  outerSigAlg: Uint8Array;
  tbsSigAlg: Uint8Array;
  sigAlgOid: string;
  sigAlgParams?: Tlv;
  signature: Uint8Array;
  issuerEmpty: boolean;
  subjectEmpty: boolean;
  subjectRdns: Uint8Array[];
  commonNames: string[];
  subjectEmails: string[];
  keyAlgOid: string;
  keyParams?: Tlv;
  extensions: Extension[];
  problems: Problem[];
  /** the walk stopped at a defect: extensions (those read so far) are listed but not decoded */
  malformed?: boolean;
}

/** Everything past the outer structure, strictly; a defect ends the walk with MALFORMED_CERTIFICATE. */
function structure(outer: Tlv[], f: Tlv[], at: number, exts: ExtensionList): Structure {
  const s: Structure = {
    version: 1, outerSigAlg: EMPTY, tbsSigAlg: EMPTY, sigAlgOid: '', signature: EMPTY, issuerEmpty: true, subjectEmpty: true,
    subjectRdns: [], commonNames: [], subjectEmails: [], keyAlgOid: '', extensions: [], problems: [],
  };
  try {
    const [, sigAlgT, sigT] = outer;
    s.outerSigAlg = whole(sigAlgT!);
    const [algOid, algParams] = children(sigAlgT!);
    s.sigAlgOid = oid(algOid!);
    s.sigAlgParams = algParams;
    const sig = content(sigT!);
    if (sig[0] !== 0) throw new DerError('signature BIT STRING has unused bits');
    s.signature = sig.subarray(1);
    if (at === 1) s.version = smallInt(children(f[0]!)[0]!) + 1;
    s.tbsSigAlg = whole(f[at + 1]!);
    s.issuerEmpty = children(f[at + 2]!).length === 0;
    const name = parseName(f[at + 4]!);
    s.subjectRdns = name.rdns;
    s.subjectEmpty = name.rdns.length === 0;
    s.commonNames = name.commonNames;
    s.subjectEmails = name.emails;
    const [keyAlg] = children(f[at + 5]!);
    const [keyOid, keyParams] = children(expect(keyAlg, 0x30, 'AlgorithmIdentifier'));
    s.keyAlgOid = oid(keyOid!);
    s.keyParams = keyParams;
  } catch (error) {
    s.problems.push({ code: 'MALFORMED_CERTIFICATE', message: `certificate structure: ${(error as Error).message}` });
    s.malformed = true;
    return s;
  }
  s.extensions = exts.extensions;
  s.problems.push(...exts.problems);
  if (exts.error) {
    s.problems.push({ code: 'MALFORMED_CERTIFICATE', message: `certificate structure: ${exts.error}` });
    s.malformed = true;
  }
  return s;
}

interface ExtensionList {
  extensions: Extension[];
  /** DUPLICATE_EXTENSION */
  problems: Problem[];
  /** why the list (or a field after subjectPublicKeyInfo) does not parse; the extensions read before are kept */
  error?: string;
}

/** The extensions field alone (list needs two key ids of it, the validator all of the certificate). */
function extensionList(f: Tlv[], at: number): ExtensionList {
  const list: ExtensionList = { extensions: [], problems: [] };
  try {
    const seen = new Set<string>();
    for (let i = at + 6; i < f.length; i++) {
      const t = f[i]!;
      if (t.tag === 0x81 || t.tag === 0x82) continue; // issuer/subject unique IDs
      if (t.tag !== 0xa3) throw new DerError('unexpected field in TBSCertificate');
      const [exts] = children(t);
      for (const e of children(expect(exts, 0x30, 'Extensions'))) {
        const parts = children(expect(e, 0x30, 'Extension'));
        const extOid = oid(parts[0]!);
        let critical = false;
        let j = 1;
        if (parts[j]?.tag === 0x01) { critical = bool(parts[j]!); j++; }
        const value = content(expect(parts[j], 0x04, 'extnValue'));
        if (seen.has(extOid)) list.problems.push({ code: 'DUPLICATE_EXTENSION', message: `extension ${extOid} appears twice (RFC 5280 §4.2)` });
        seen.add(extOid);
        list.extensions.push({ oid: extOid, critical, value });
      }
    }
  } catch (error) {
    list.error = (error as Error).message;
  }
  return list;
}

/** The facts every command reports about a certificate it wrote or read. */
export interface CertFacts {
  subject: string;
  commonName: string | undefined;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, lowercase hex (what `openssl x509 -fingerprint -sha256` shows). */
  sha256: string;
}

export function certFacts(cert: Certificate): CertFacts {
  return {
    subject: cert.subject,
    commonName: cert.commonName,
    serial: cert.serialHex,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sha256: cert.sha256,
  };
}
