// One parsed view of a certificate for the validator: raw bytes of the parts that path validation
// compares (names, signed bytes, algorithm identifiers) plus the extensions it understands.
// Malformed content does not throw: it becomes a `problem` that only matters if the certificate
// ends up on a candidate path (an unusable, unrelated root must not fail a good chain).
import * as nodeCrypto from 'node:crypto';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { x509 } from '../x509.js';
import { peekValidity } from '../cert-peek.js';
import { bool, children, content, DerError, equalBytes, expect, hex, oid, parseDer, readTlv, smallInt, whole, type Tlv } from './der.js';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  nameConstraints: '2.5.29.30',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  crlDistributionPoints: '2.5.29.31',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
  ekuServerAuth: '1.3.6.1.5.5.7.3.1',
  ekuClientAuth: '1.3.6.1.5.5.7.3.2',
  ekuAny: '2.5.29.37.0',
} as const;

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

export interface Subtree { base: GeneralName }
export interface NameConstraintsExt { permitted: GeneralName[]; excluded: GeneralName[] }

export interface Extension { oid: string; critical: boolean; value: Uint8Array }

export interface Problem { code: string; message: string }

export interface CertModel {
  /**
   * The @peculiar/x509 view (subject text for messages and results). Built on first use for models
   * made from DER (modelOfDer), which needs x509 registered first (useX509): until then reading it
   * throws NamesUnavailable, so callers that never print names never load @peculiar/x509.
   */
  readonly x: x509.X509Certificate;
  der: Uint8Array;
  /** sha256 of the DER: identity for loop detection and caches */
  id: string;
  tbs: Uint8Array;
  version: number;
  serial: Uint8Array;
  outerSigAlg: Uint8Array;
  tbsSigAlg: Uint8Array;
  sigAlgOid: string;
  sigAlgParams?: Tlv;
  signature: Uint8Array;
  issuerDer: Uint8Array;
  /** hex of issuerDer, set on first use by path building */
  issuerHex?: string;
  subjectDer: Uint8Array;
  subjectRdns: Uint8Array[];
  subjectEmpty: boolean;
  issuerEmpty: boolean;
  commonNames: string[];
  subjectEmails: string[];
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  keyAlgOid: string;
  keyParams?: Tlv;
  extensions: Extension[];
  bc?: { ca: boolean; pathLen?: number };
  /** keyUsage bits: bit 0 = digitalSignature … bit 5 = keyCertSign, bit 6 = cRLSign */
  ku?: Set<number>;
  eku?: string[];
  san?: GeneralName[];
  nc?: NameConstraintsExt;
  ski?: Uint8Array;
  aki?: { keyId?: Uint8Array; hasIssuer: boolean; hasSerial: boolean };
  selfIssued: boolean;
  /** structural defects found while parsing */
  problems: Problem[];
  /** set lazily by the signature module */
  key?: KeyObject | Error;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Text of a DirectoryString / IA5String value. */
export function stringValue(t: Tlv): string {
  const b = content(t);
  switch (t.tag) {
    case 0x0c: return decoder.decode(b);
    case 0x1e: { // BMPString: UTF-16BE
      let s = '';
      for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i]! << 8) | b[i + 1]!);
      return s;
    }
    case 0x1c: { // UniversalString: UTF-32BE
      let s = '';
      for (let i = 0; i + 3 < b.length; i += 4) s += String.fromCodePoint(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
      return s;
    }
    default: return Buffer.from(b).toString('latin1');
  }
}

const isAscii = (b: Uint8Array) => b.every((x) => x < 0x80);

export function parseName(t: Tlv) {
  expect(t, 0x30, 'Name');
  const rdns = children(t);
  const commonNames: string[] = [];
  const emails: string[] = [];
  for (const rdn of rdns) {
    expect(rdn, 0x31, 'RelativeDistinguishedName');
    for (const atv of children(rdn)) {
      const [type, value] = children(expect(atv, 0x30, 'AttributeTypeAndValue'));
      if (!type || !value) throw new DerError('AttributeTypeAndValue incomplete');
      const o = oid(type);
      if (o === OID.commonName) commonNames.push(stringValue(value));
      if (o === OID.emailAddress) emails.push(stringValue(value));
    }
  }
  return { rdns: rdns.map(whole), commonNames, emails, empty: rdns.length === 0 };
}

export function parseGeneralName(t: Tlv): GeneralName {
  switch (t.tag) {
    case 0x82: { const b = content(t); return { type: 'dns', value: Buffer.from(b).toString('latin1'), ascii: isAscii(b) }; }
    case 0x81: { const b = content(t); return { type: 'email', value: Buffer.from(b).toString('latin1'), ascii: isAscii(b) }; }
    case 0x87: return { type: 'ip', bytes: content(t) };
    case 0x86: return { type: 'uri', value: Buffer.from(content(t)).toString('latin1') };
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

function parseGeneralNames(value: Uint8Array, what: string): GeneralName[] {
  const seq = expect(parseDer(value), 0x30, what);
  const names = children(seq).map(parseGeneralName);
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

/** Decodes the extensions the validator uses; throws DerError on malformed content. */
function decodeExtension(m: CertModel, e: Extension) {
  const v = e.value;
  switch (e.oid) {
    case OID.basicConstraints: {
      const parts = children(expect(parseDer(v), 0x30, 'basicConstraints'));
      let ca = false;
      let i = 0;
      if (parts[i]?.tag === 0x01) { ca = bool(parts[i]!); i++; }
      const pathLen = parts[i] ? smallInt(parts[i]!) : undefined;
      if (parts[i] && i + 1 !== parts.length) throw new DerError('basicConstraints has extra fields');
      m.bc = { ca, pathLen };
      break;
    }
    case OID.keyUsage: {
      const t = expect(parseDer(v), 0x03, 'keyUsage');
      const b = content(t);
      if (b.length < 1 || b[0]! > 7) throw new DerError('keyUsage bit string malformed');
      const bits = new Set<number>();
      for (let i = 1; i < b.length; i++) for (let j = 0; j < 8; j++) if (b[i]! & (0x80 >> j)) bits.add((i - 1) * 8 + j);
      m.ku = bits;
      break;
    }
    case OID.extKeyUsage:
      m.eku = children(expect(parseDer(v), 0x30, 'extKeyUsage')).map(oid);
      break;
    case OID.subjectAltName:
      m.san = parseGeneralNames(v, 'subjectAltName');
      break;
    case OID.issuerAltName:
      parseGeneralNames(v, 'issuerAltName');
      break;
    case OID.nameConstraints: {
      const nc: NameConstraintsExt = { permitted: [], excluded: [] };
      const parts = children(expect(parseDer(v), 0x30, 'nameConstraints'));
      for (const p of parts) {
        if (p.tag === 0xa0) nc.permitted = parseSubtrees(p);
        else if (p.tag === 0xa1) nc.excluded = parseSubtrees(p);
        else throw new DerError('nameConstraints holds something other than subtrees');
      }
      // RFC 5280 §4.2.1.10: "either the permittedSubtrees field or the excludedSubtrees MUST be present"
      if (nc.permitted.length + nc.excluded.length === 0) throw new DerError('nameConstraints with no subtrees');
      m.nc = nc;
      break;
    }
    case OID.subjectKeyId: {
      const t = expect(parseDer(v), 0x04, 'subjectKeyIdentifier');
      m.ski = content(t);
      if (m.ski.length === 0) throw new DerError('subjectKeyIdentifier is empty');
      break;
    }
    case OID.authorityKeyId: {
      const aki: NonNullable<CertModel['aki']> = { hasIssuer: false, hasSerial: false };
      for (const p of children(expect(parseDer(v), 0x30, 'authorityKeyIdentifier'))) {
        if (p.tag === 0x80) {
          aki.keyId = content(p);
          if (aki.keyId.length === 0) throw new DerError('authorityKeyIdentifier keyIdentifier is empty');
        }
        else if (p.tag === 0xa1) aki.hasIssuer = true;
        else if (p.tag === 0x82) aki.hasSerial = true;
        else throw new DerError('authorityKeyIdentifier has an unknown field');
      }
      m.aki = aki;
      break;
    }
    case OID.authorityInfoAccess:
    case OID.subjectInfoAccess: {
      const list = children(expect(parseDer(v), 0x30, 'infoAccess'));
      if (list.length === 0) throw new DerError('AuthorityInfoAccessSyntax must hold one or more AccessDescriptions');
      for (const ad of list) {
        const [method, location] = children(expect(ad, 0x30, 'AccessDescription'));
        oid(method!);
        if (!location) throw new DerError('AccessDescription without location');
        parseGeneralName(location);
      }
      break;
    }
    case OID.certificatePolicies:
    case OID.policyConstraints:
    case OID.policyMappings:
    case OID.crlDistributionPoints:
      expect(parseDer(v), 0x30, e.oid);
      break;
  }
}

const cache = new WeakMap<x509.X509Certificate, CertModel>();

type X509Class = new (raw: BufferSource) => x509.X509Certificate;
let X509: X509Class | undefined;

/** Lets DER-built models make their x509 view (call with x509.X509Certificate once it is loaded). */
export function useX509(cls: X509Class): void {
  X509 ??= cls;
}

/** Thrown by a DER-built model's `x` while @peculiar/x509 is not registered: load it, useX509, retry. */
export class NamesUnavailable extends Error {
  constructor() {
    super('certificate names need @peculiar/x509 (call useX509 first)');
  }
}

/** The validator's view of `cert` (cached per certificate object). */
export function modelOf(cert: x509.X509Certificate): CertModel {
  const hit = cache.get(cert);
  if (hit) return hit;
  useX509(cert.constructor as X509Class);
  const der = new Uint8Array(cert.rawData);
  const m = build(cert, der, { notBefore: cert.notBefore, notAfter: cert.notAfter });
  cache.set(cert, m);
  return m;
}

/** Models by DER hash: a CA or intermediate given once per file is modelled once per process. */
const byId = new Map<string, CertModel>();
const BY_ID_LIMIT = 20_000;

/** sha256 hex of `der`: a model's identity (crypto.hash, one call, where this Node has it). */
const sha256Hex: (der: Uint8Array) => string =
  typeof (nodeCrypto as { hash?: unknown }).hash === 'function'
    ? (der) => nodeCrypto.hash('sha256', der, 'hex')
    : (der) => createHash('sha256').update(der).digest('hex');

/**
 * The validator's view of one DER certificate, without @peculiar/x509. Returns undefined when the
 * bytes are not a certificate the x509-free peek (cert-peek.ts) understands (times, structure): the
 * caller then parses with @peculiar/x509 (cert-input.ts readCertificates) to get the same result and
 * errors as before. `remember: false` skips the per-process cache (leaves checked once: caching them
 * only makes the garbage collector copy them around).
 */
export function modelOfDer(der: Uint8Array, { remember = true }: { remember?: boolean } = {}): CertModel | undefined {
  const id = sha256Hex(der);
  const hit = byId.get(id);
  if (hit) return hit;
  const m = build(undefined, der, undefined, id);
  if (!m || m.problems.some((p) => p.code === 'MALFORMED_CERTIFICATE')) return undefined;
  if (remember) {
    if (byId.size >= BY_ID_LIMIT) byId.clear();
    byId.set(id, m);
  }
  return m;
}

const EMPTY = new Uint8Array(0);

/**
 * Builds a model. With `times` (from @peculiar/x509) the validity is taken as given; without, it is
 * read here as cert-peek.ts peekCertificate reads it, and everything that peek refuses (a fourth
 * element after the signature, an empty serial, a Validity that is not two well-formed times) makes
 * the result undefined, so modelOfDer accepts exactly the certificates it accepted with the peek.
 */
function build(cert: x509.X509Certificate, der: Uint8Array, times: { notBefore: Date; notAfter: Date }, id?: string): CertModel;
function build(cert: undefined, der: Uint8Array, times: undefined, id: string): CertModel | undefined;
function build(cert: x509.X509Certificate | undefined, der: Uint8Array, times: { notBefore: Date; notAfter: Date } | undefined, id?: string): CertModel | undefined {
  const problems: Problem[] = [];
  let x = cert;
  const m: CertModel = {
    get x() {
      if (!x) {
        if (!X509) throw new NamesUnavailable();
        x = new X509(new Uint8Array(der));
      }
      return x;
    },
    der, id: id ?? sha256Hex(der), tbs: EMPTY, version: 1, serial: EMPTY,
    outerSigAlg: EMPTY, tbsSigAlg: EMPTY, sigAlgOid: '', signature: EMPTY,
    issuerDer: EMPTY, subjectDer: EMPTY, subjectRdns: [], subjectEmpty: true, issuerEmpty: true,
    commonNames: [], subjectEmails: [], notBefore: times?.notBefore ?? INVALID_DATE, notAfter: times?.notAfter ?? INVALID_DATE, spki: EMPTY, keyAlgOid: '',
    extensions: [], selfIssued: false, problems,
  };
  try {
    const outer = children(expect(parseDer(der), 0x30, 'Certificate'));
    const [tbsT, sigAlgT, sigT] = outer;
    if (!times && outer.length > 3) return undefined;
    m.tbs = whole(expect(tbsT, 0x30, 'TBSCertificate'));
    m.outerSigAlg = whole(expect(sigAlgT, 0x30, 'signatureAlgorithm'));
    const [algOid, algParams] = children(sigAlgT!);
    m.sigAlgOid = oid(algOid!);
    m.sigAlgParams = algParams;
    const sig = content(expect(sigT, 0x03, 'signatureValue'));
    if (sig[0] !== 0) throw new DerError('signature BIT STRING has unused bits');
    m.signature = sig.subarray(1);
    const f = children(tbsT!);
    let i = 0;
    if (f[0]?.tag === 0xa0) {
      const [ver] = children(f[0]);
      m.version = smallInt(ver!) + 1;
      i++;
    }
    m.serial = content(expect(f[i++], 0x02, 'serialNumber'));
    if (!times && m.serial.length === 0) return undefined;
    m.tbsSigAlg = whole(expect(f[i++], 0x30, 'signature'));
    const issuer = expect(f[i++], 0x30, 'issuer');
    m.issuerDer = whole(issuer);
    m.issuerEmpty = children(issuer).length === 0;
    const validity = expect(f[i++], 0x30, 'validity');
    if (!times) {
      try {
        ({ notBefore: m.notBefore, notAfter: m.notAfter } = peekValidity(der, validity.body, validity.end));
      } catch {
        return undefined;
      }
    }
    const subject = expect(f[i++], 0x30, 'subject');
    m.subjectDer = whole(subject);
    const name = parseName(subject);
    m.subjectRdns = name.rdns;
    m.subjectEmpty = name.empty;
    m.commonNames = name.commonNames;
    m.subjectEmails = name.emails;
    const spkiT = expect(f[i++], 0x30, 'subjectPublicKeyInfo');
    m.spki = whole(spkiT);
    const [keyAlg] = children(spkiT);
    const [keyOid, keyParams] = children(expect(keyAlg, 0x30, 'AlgorithmIdentifier'));
    m.keyAlgOid = oid(keyOid!);
    m.keyParams = keyParams;
    m.selfIssued = equalBytes(m.issuerDer, m.subjectDer);
    for (; i < f.length; i++) {
      const t = f[i]!;
      if (t.tag === 0x81 || t.tag === 0x82) continue; // issuer/subject unique IDs
      if (t.tag !== 0xa3) throw new DerError('unexpected field in TBSCertificate');
      const [exts] = children(t);
      const seen = new Set<string>();
      for (const e of children(expect(exts, 0x30, 'Extensions'))) {
        const parts = children(expect(e, 0x30, 'Extension'));
        const extOid = oid(parts[0]!);
        let critical = false;
        let j = 1;
        if (parts[j]?.tag === 0x01) { critical = bool(parts[j]!); j++; }
        const value = content(expect(parts[j], 0x04, 'extnValue'));
        if (seen.has(extOid)) problems.push({ code: 'DUPLICATE_EXTENSION', message: `extension ${extOid} appears twice (RFC 5280 §4.2)` });
        seen.add(extOid);
        m.extensions.push({ oid: extOid, critical, value });
      }
    }
  } catch (error) {
    problems.push({ code: 'MALFORMED_CERTIFICATE', message: `certificate structure: ${(error as Error).message}` });
    return m;
  }
  for (const e of m.extensions) {
    try {
      decodeExtension(m, e);
    } catch (error) {
      problems.push({ code: 'MALFORMED_EXTENSION', message: `extension ${e.oid}: ${(error as Error).message}` });
    }
  }
  return m;
}

const INVALID_DATE = new Date(NaN);

export const serialHex = (m: CertModel) => hex(m.serial);
export const subjectText = (m: CertModel) => m.x.subject;

/** Parses a public key once; errors are kept so every use reports the same cause. */
export function publicKeyOf(m: CertModel): KeyObject | Error {
  if (!m.key) {
    try {
      m.key = createPublicKey({ key: Buffer.from(m.spki), format: 'der', type: 'spki' });
    } catch (error) {
      m.key = error as Error;
    }
  }
  return m.key;
}

export { readTlv };
