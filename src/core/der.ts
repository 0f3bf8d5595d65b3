// The one DER reader (X.690 DER rules, strict): certificates, CRLs and keys are read with it by every
// command. Strict because the validator must see what a lenient parser hides (a length not minimally
// encoded, a NULL where a SEQUENCE belongs), and so every command accepts and refuses the same bytes.
// Proven against x509-limbo (npm run conformance:fast).

export class DerError extends Error {}

export interface Tlv {
  tag: number;
  /** offset of the tag byte in `buf` */
  start: number;
  /** offset of the first content byte */
  body: number;
  /** offset one past the last content byte */
  end: number;
  buf: Uint8Array;
}

export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used in X.509');
  let len = buf[pos + 1]!;
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError('indefinite length is not DER');
    if (n > 4 || body + n > limit) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[body + i]!;
    if (buf[body] === 0 || len < 0x80) throw new DerError('length not minimally encoded');
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, start: pos, body, end, buf };
}

/** Parses `buf` as exactly one element. */
export function parseDer(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) throw new DerError('trailing bytes after the element');
  return t;
}

export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = t.body;
  while (pos < t.end) {
    const c = readTlv(t.buf, pos, t.end);
    out.push(c);
    pos = c.end;
  }
  return out;
}

export const content = (t: Tlv) => t.buf.subarray(t.body, t.end);
export const whole = (t: Tlv) => t.buf.subarray(t.start, t.end);

export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}${t ? `, found 0x${t.tag.toString(16)}` : ', found nothing'}`);
  return t;
}

export function oid(t: Tlv): string {
  expect(t, 0x06, 'OBJECT IDENTIFIER');
  const b = t.buf;
  if (t.body === t.end) throw new DerError('empty OID');
  // Built as a string as it goes (no array of arcs): every certificate has a dozen or more OIDs.
  let text = '';
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    if (v === 0 && b[i] === 0x80) throw new DerError('OID not minimally encoded');
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      if (text === '') text = v < 80 ? `${Math.floor(v / 40)}.${v % 40}` : `2.${v - 80}`;
      else text += `.${v}`;
      v = 0;
    } else if (i === t.end - 1) throw new DerError('truncated OID');
  }
  return text;
}

export function bool(t: Tlv): boolean {
  expect(t, 0x01, 'BOOLEAN');
  const b = content(t);
  if (b.length !== 1 || (b[0] !== 0 && b[0] !== 0xff)) throw new DerError('BOOLEAN not DER');
  return b[0] === 0xff;
}

/** A small non-negative INTEGER (path lengths, CRL numbers' presence). */
export function smallInt(t: Tlv): number {
  expect(t, 0x02, 'INTEGER');
  const b = content(t);
  if (b.length === 0 || b.length > 6 || b[0]! & 0x80) throw new DerError('INTEGER out of range');
  let v = 0;
  for (const x of b) v = v * 256 + x;
  return v;
}

/** UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5): UTCTime YY >= 50 is 19YY; fractional seconds dropped. */
export function time(t: Tlv | undefined): Date {
  if (!t) throw new DerError('missing time');
  const s = latin1(content(t));
  let m: RegExpMatchArray | null;
  let year: number;
  if (t.tag === 0x17 && (m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/))) {
    year = Number(m[1]) >= 50 ? 1900 + Number(m[1]) : 2000 + Number(m[1]);
  } else if (t.tag === 0x18 && (m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/))) {
    year = Number(m[1]);
  } else {
    throw new DerError('bad time');
  }
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export const isTime = (t: Tlv | undefined) => t?.tag === 0x17 || t?.tag === 0x18;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * Text of a DirectoryString / IA5String value. Invalid UTF-8 throws (the validator refuses it); with
 * `lenient` it reads as latin1 instead, as @peculiar/x509 shows such names (for display only).
 */
export function stringValue(t: Tlv, lenient = false): string {
  const b = content(t);
  switch (t.tag) {
    case 0x0c:
      try {
        return utf8.decode(b);
      } catch (error) {
        if (lenient) return latin1(b);
        throw new DerError(`UTF8String: ${(error as Error).message}`);
      }
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
    default: // PrintableString, IA5String, TeletexString, VisibleString, NumericString
      return latin1(b);
  }
}

/** Byte equality without copying. */
export const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;
export const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A serial number as pkictl shows it (openssl's and @peculiar/x509's form): lowercase hex, a sign-padding 00 dropped. */
export function serialText(serial: Uint8Array): string {
  return hex(serial.length > 1 && serial[0] === 0 && serial[1]! > 0x7f ? serial.subarray(1) : serial);
}
