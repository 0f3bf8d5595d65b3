import { createHash } from 'node:crypto';
import { inputError, type PkiError } from './errors.js';

/*
 * Certificate input without @peculiar/x509: splitting PEM/DER input into certificates, and a small
 * DER walker that reads the few fields scripts ask for (CN, serial, validity, fingerprint).
 *
 * Why it exists: `pkictl inspect --field cn FILE` runs once per file in CI and `pkictl list` reads
 * every certificate of a 10,000-tenant tree; importing @peculiar/x509 costs ~80-200 ms per process
 * and its ASN.1 schema parser is slow per certificate. The walker checks the whole outer structure
 * (every TLV length, the field order of TBSCertificate), so truncated or garbage
 * DER is rejected like the full parser does. Extensions are not parsed here; `summarize` does that.
 */

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);

export interface CertificateBytes {
  der: Uint8Array;
  /** 1-based position in the file, for error messages. */
  index: number;
  pem: boolean;
}

/** The error for a certificate whose DER does not parse: wording depends on how it was wrapped. */
export function malformedCertificate(source: string, cert: Pick<CertificateBytes, 'index' | 'pem'>): PkiError {
  return cert.pem
    ? inputError('CERT_MALFORMED', `${source}: certificate ${cert.index} is not valid DER inside its PEM block`)
    : inputError('CERT_MALFORMED', `${source}: not a certificate (neither PEM nor DER)`);
}

/**
 * The DER of every certificate in `data`: a PEM file (bundles included; other blocks are skipped) or
 * one DER certificate. Empty input, a private key, and truncated PEM are one-line input errors.
 */
export function certificateBytes(data: Uint8Array, source: string): CertificateBytes[] {
  if (data.length === 0) throw inputError('CERT_EMPTY', `${source}: the file is empty`);
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (!text.includes('-----BEGIN')) return [{ der: data, index: 1, pem: false }];
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const certs = blocks.filter((b) => CERT_LABELS.has(b[1]!));
  if (certs.length === 0) {
    if (blocks.some((b) => b[1]!.includes('PRIVATE KEY'))) throw inputError('CERT_IS_KEY', `${source}: this is a private key, not a certificate`);
    if (blocks.length === 0) throw inputError('CERT_MALFORMED', `${source}: truncated or malformed PEM (no complete BEGIN/END block)`);
    throw inputError('CERT_MALFORMED', `${source}: no certificate in it (found ${blocks.map((b) => b[1]).join(', ')})`);
  }
  // A bundle whose last certificate lost its END line would otherwise be read as a shorter bundle.
  let begins = 0;
  for (let at = text.indexOf('-----BEGIN '); at !== -1; at = text.indexOf('-----BEGIN ', at + 11)) begins++;
  if (begins > blocks.length) {
    throw inputError('CERT_MALFORMED', `${source}: truncated PEM (${begins} BEGIN lines, only ${blocks.length} complete block${blocks.length === 1 ? '' : 's'})`);
  }
  return certs.map((block, i) => {
    const body = block[2]!;
    // Buffer.from(…, 'base64') silently skips junk characters (and whitespace, which is fine); a
    // damaged block must not parse "fine". One scan for a bad character, no copy without whitespace.
    if (/[^A-Za-z0-9+/=\s]|=[^=\s]/.test(body)) {
      throw inputError('CERT_MALFORMED', `${source}: certificate ${i + 1} has characters that are not base64 inside its PEM block`);
    }
    return { der: Buffer.from(body, 'base64'), index: i + 1, pem: true };
  });
}

/** The fields the DER walker reads: enough for `inspect --field` and `list`. */
export interface CertPeek {
  /** Lowercase hex, as @peculiar/x509 prints it (a sign-padding 00 byte dropped). */
  serial: string;
  commonName: string | undefined;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER certificate, lowercase hex. */
  sha256: string;
  /** DER of the issuer and subject Names, for byte-wise issuer matching. */
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  spkiDer: Uint8Array;
  /** keyIdentifier of the authorityKeyIdentifier / subjectKeyIdentifier extensions, when present. */
  authorityKeyId?: Uint8Array;
  subjectKeyId?: Uint8Array;
}

class DerError extends Error {}

interface Tlv {
  tag: number;
  /** Start of the value. */
  start: number;
  /** End of the value (exclusive). */
  end: number;
  /** Start of the header. */
  from: number;
}

function tlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tag');
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('bad length');
    if (start + n > limit) throw new DerError('truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError('truncated');
  return { tag, start, end, from: pos };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end; ) {
    const child = tlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function expectTag(t: Tlv | undefined, tag: number): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`expected tag ${tag}`);
  return t;
}

const ascii = (buf: Uint8Array, t: Tlv) => Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start).toString('latin1');

function time(buf: Uint8Array, t: Tlv | undefined): Date {
  if (!t) throw new DerError('missing time');
  const s = ascii(buf, t);
  let m: RegExpMatchArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    // RFC 5280 §4.1.2.5.1: YY >= 50 means 19YY.
    year = Number(m[1]) >= 50 ? 1900 + Number(m[1]) : 2000 + Number(m[1]);
  } else if (t.tag === 0x18 && (m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/))) {
    year = Number(m[1]);
  } else {
    throw new DerError('bad time');
  }
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** DirectoryString and friends, decoded the way @peculiar/x509 shows them. */
function directoryString(buf: Uint8Array, t: Tlv): string {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return bytes.toString('utf8');
    case 0x1e: // BMPString: UTF-16BE
      return Buffer.from(bytes).swap16().toString('utf16le');
    case 0x1c: {
      // UniversalString: UTF-32BE
      let out = '';
      for (let i = 0; i + 3 < bytes.length; i += 4) out += String.fromCodePoint(bytes.readUInt32BE(i));
      return out;
    }
    default: // PrintableString, IA5String, TeletexString, VisibleString, NumericString
      return bytes.toString('latin1');
  }
}

const CN_OID = [0x55, 0x04, 0x03];

function commonName(buf: Uint8Array, name: Tlv): string | undefined {
  for (const rdn of children(buf, name)) {
    expectTag(rdn, 0x31);
    for (const atv of children(buf, rdn)) {
      const [oid, value] = children(buf, expectTag(atv, 0x30));
      expectTag(oid, 0x06);
      if (!value) throw new DerError('attribute without value');
      if (oid!.end - oid!.start === 3 && CN_OID.every((b, i) => buf[oid!.start + i] === b)) return directoryString(buf, value);
    }
  }
  return undefined;
}

const SKI_OID = [0x55, 0x1d, 0x0e];
const AKI_OID = [0x55, 0x1d, 0x23];
const isOid = (buf: Uint8Array, t: Tlv, oid: number[]) => t.end - t.start === oid.length && oid.every((b, i) => buf[t.start + i] === b);

/** SKI and AKI keyIdentifier from the [3] extensions field; other extensions are skipped unread. */
function keyIds(buf: Uint8Array, field: Tlv | undefined): { ski?: Uint8Array; aki?: Uint8Array } {
  const out: { ski?: Uint8Array; aki?: Uint8Array } = {};
  if (!field || field.tag !== 0xa3) return out;
  const [list] = children(buf, field);
  for (const ext of children(buf, expectTag(list, 0x30))) {
    const parts = children(buf, expectTag(ext, 0x30));
    const oid = expectTag(parts[0], 0x06);
    const value = expectTag(parts.at(-1), 0x04);
    if (isOid(buf, oid, SKI_OID)) {
      const [id] = children(buf, value);
      out.ski = buf.subarray(expectTag(id, 0x04).start, id!.end);
    } else if (isOid(buf, oid, AKI_OID)) {
      const [seq] = children(buf, value);
      const id = children(buf, expectTag(seq, 0x30)).find((t) => t.tag === 0x80);
      if (id) out.aki = buf.subarray(id.start, id.end);
    }
  }
  return out;
}

function serialHex(buf: Uint8Array, t: Tlv): string {
  let bytes = buf.subarray(t.start, t.end);
  if (bytes.length === 0) throw new DerError('empty serial');
  if (bytes.length > 1 && bytes[0] === 0 && bytes[1]! > 0x7f) bytes = bytes.subarray(1);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * The certificate's own bytes: the first DER element, without whatever follows it in the file
 * (fingerprints must hash the certificate only, as openssl does). Unparseable input is returned as is.
 */
export function firstElement(der: Uint8Array): Uint8Array {
  try {
    return der.subarray(0, tlv(der, 0, der.length).end);
  } catch {
    return der;
  }
}

/** Reads the fields of one DER certificate; throws the `malformed` error when the structure is wrong. */
export function peekCertificate(der: Uint8Array, malformed: () => Error = () => new Error('not a DER certificate')): CertPeek {
  try {
    // Bytes after the certificate are ignored, as @peculiar/x509 and `openssl x509 -inform DER` do.
    const cert = expectTag(tlv(der, 0, der.length), 0x30);
    const [tbs, sigAlg, signature, extra] = children(der, cert);
    if (extra) throw new DerError('extra element');
    expectTag(sigAlg, 0x30);
    expectTag(signature, 0x03);
    const fields = children(der, expectTag(tbs, 0x30));
    let i = fields[0]?.tag === 0xa0 ? 1 : 0;
    const serial = expectTag(fields[i++], 0x02);
    expectTag(fields[i++], 0x30); // signature algorithm
    const issuer = expectTag(fields[i++], 0x30);
    const validity = children(der, expectTag(fields[i++], 0x30));
    const subject = expectTag(fields[i++], 0x30);
    const spki = expectTag(fields[i++], 0x30);
    for (const rest of fields.slice(i)) if (![0x81, 0x82, 0xa1, 0xa2, 0xa3].includes(rest.tag)) throw new DerError('unexpected field');
    if (validity.length !== 2) throw new DerError('bad validity');
    let ids: { ski?: Uint8Array; aki?: Uint8Array } = {};
    try {
      ids = keyIds(der, fields.find((f) => f.tag === 0xa3));
    } catch {
      // A malformed extension is the full parser's and the validator's business; the peek only skips it.
    }
    let sha256: string | undefined;
    return {
      serial: serialHex(der, serial),
      commonName: commonName(der, subject),
      notBefore: time(der, validity[0]),
      notAfter: time(der, validity[1]),
      // Hashed on first use: list reads 10,000 certificates and shows no fingerprint.
      get sha256() {
        return (sha256 ??= createHash('sha256').update(der.subarray(0, cert.end)).digest('hex'));
      },
      issuerDer: der.subarray(issuer.from, issuer.end),
      subjectDer: der.subarray(subject.from, subject.end),
      spkiDer: der.subarray(spki.from, spki.end),
      authorityKeyId: ids.aki,
      subjectKeyId: ids.ski,
    };
  } catch (error) {
    if (error instanceof DerError || error instanceof RangeError) throw malformed();
    throw error;
  }
}

/**
 * notBefore and notAfter of a Validity SEQUENCE whose content is buf[start, end), read exactly as
 * peekCertificate reads them (same leniency, same errors), for parsers that walk the rest themselves.
 */
export function peekValidity(buf: Uint8Array, start: number, end: number): { notBefore: Date; notAfter: Date } {
  try {
    const validity = children(buf, { tag: 0x30, start, end, from: start });
    if (validity.length !== 2) throw new DerError('bad validity');
    return { notBefore: time(buf, validity[0]), notAfter: time(buf, validity[1]) };
  } catch (error) {
    if (error instanceof DerError || error instanceof RangeError) throw new Error('not a DER certificate');
    throw error;
  }
}

/** Byte equality without copying (Buffer.from(uint8array) would copy both sides). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every certificate in a file's bytes, peeked; errors name `source`. */
export function peekCertificates(data: Uint8Array, source: string): CertPeek[] {
  return certificateBytes(data, source).map((c) => peekCertificate(c.der, () => malformedCertificate(source, c)));
}

/** What `inspect --field` can print, one value per certificate per line. */
export const INSPECT_FIELDS = ['cn', 'subject', 'issuer', 'serial', 'not-before', 'not-after', 'sans', 'fingerprint'] as const;
export type InspectField = (typeof INSPECT_FIELDS)[number];
/** The fields the DER walker can answer without loading @peculiar/x509. */
export const PEEKABLE_FIELDS: ReadonlySet<InspectField> = new Set(['cn', 'serial', 'not-before', 'not-after', 'fingerprint']);

/** A peekable field's value, printed exactly like the same field of the full summary. */
export function peekField(peek: CertPeek, field: InspectField): string {
  switch (field) {
    case 'cn':
      return peek.commonName ?? '';
    case 'serial':
      return peek.serial;
    case 'not-before':
      return peek.notBefore.toISOString();
    case 'not-after':
      return peek.notAfter.toISOString();
    case 'fingerprint':
      return peek.sha256;
    default:
      throw new Error(`field ${field} needs the full parser`);
  }
}

/**
 * thisUpdate, nextUpdate and the revoked serials (lowercase hex, as `serial` above) of a CRL (PEM
 * "X509 CRL" or DER), read without @peculiar/x509 and without checking its signature.
 */
export function peekCrlTimes(data: Uint8Array): { thisUpdate: Date; nextUpdate?: Date; revoked: Map<string, Date> } {
  let der = data;
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const block = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
    if (!block) throw new Error('no X509 CRL block');
    der = Buffer.from(block[1]!, 'base64');
  }
  try {
    const [tbs] = children(der, expectTag(tlv(der, 0, der.length), 0x30));
    const fields = children(der, expectTag(tbs, 0x30));
    let i = fields[0]?.tag === 0x02 ? 1 : 0; // version
    expectTag(fields[i++], 0x30); // signature algorithm
    expectTag(fields[i++], 0x30); // issuer
    const thisUpdate = time(der, fields[i++]);
    const next = fields[i];
    const nextUpdate = next && (next.tag === 0x17 || next.tag === 0x18) ? time(der, fields[i++]) : undefined;
    const revoked = new Map<string, Date>();
    if (fields[i]?.tag === 0x30) {
      for (const entry of children(der, fields[i]!)) {
        const [serial, date] = children(der, expectTag(entry, 0x30));
        revoked.set(serialHex(der, expectTag(serial, 0x02)), time(der, date));
      }
    }
    return { thisUpdate, nextUpdate, revoked };
  } catch (error) {
    if (error instanceof DerError || error instanceof RangeError) throw new Error('not a DER CRL');
    throw error;
  }
}

/**
 * The first certificate of a PEM file (ca.crt, a pair's cert) as DER, its structure checked by the
 * x509-free peek: issuing loads neither @peculiar/x509 nor its ASN.1 parser.
 */
export function pemCertificateDer(pem: string, what: string): Uint8Array {
  const malformed = () => inputError('CERT_MALFORMED', `${what} holds a malformed certificate`);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw inputError('CERT_MALFORMED', `${what} holds no PEM certificate`);
  let der: Uint8Array;
  try {
    der = certificateBytes(Buffer.from(pem, 'latin1'), what)[0]!.der;
  } catch {
    throw malformed();
  }
  peekCertificate(der, malformed);
  return der;
}
