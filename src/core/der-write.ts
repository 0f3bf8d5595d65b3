/*
 * DER encoding (X.690) of the handful of ASN.1 types a certificate is made of: the writing side of
 * der.ts. pkictl encodes its own certificates because @peculiar/x509's generic schema
 * encoder (asn1js) costs ~15 ms of CPU per leaf, more than the CA's RSA-4096 signature; this costs
 * a few hundredths of a millisecond. Every value here is built from known, validated fields.
 */

export type Der = Uint8Array<ArrayBuffer>;

function lengthBytes(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** One TLV whose value is the concatenation of `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Der {
  const value = Buffer.concat(parts);
  return Buffer.concat([Uint8Array.from([tag, ...lengthBytes(value.length)]), value]);
}

export const sequence = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
export const set = (...parts: Uint8Array[]) => tlv(0x31, ...parts);
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
export const NULL: Der = Uint8Array.of(0x05, 0x00);
export const TRUE: Der = Uint8Array.of(0x01, 0x01, 0xff);

/** [n] EXPLICIT: a constructed context tag around an encoded value. */
export const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);
/** [n] IMPLICIT over a primitive type: the value's bytes under a context tag. */
export const implicit = (n: number, bytes: Uint8Array) => tlv(0x80 | n, bytes);

/** A non-negative INTEGER from its big-endian magnitude (minimal: no extra leading zeros). */
export function unsignedInteger(magnitude: Uint8Array): Der {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return trimmed[0]! & 0x80 ? tlv(0x02, Uint8Array.of(0), trimmed) : tlv(0x02, trimmed);
}

/** INTEGER of a non-negative safe integer (a version, a CRL number). */
export function smallInteger(n: number): Der {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Uint8Array.from(bytes.length > 0 ? bytes : [0]));
}

export function objectIdentifier(dotted: string): Der {
  const arcs = dotted.split('.').map(Number);
  const bytes: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** BIT STRING of whole bytes (keys, signatures). */
export const bitString = (bytes: Uint8Array) => tlv(0x03, Uint8Array.of(0), bytes);

/**
 * A named-bit BIT STRING (KeyUsage): bit 0 is the high bit of the first byte; DER drops trailing
 * zero bits and counts the unused ones.
 */
export function namedBits(bits: number[]): Der {
  const bytes = new Uint8Array(Math.floor(Math.max(...bits) / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const last = bytes[bytes.length - 1]!;
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return tlv(0x03, Uint8Array.of(unused), bytes);
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** PrintableString when every character allows it (what OpenSSL and @peculiar/x509 choose), else UTF8String. */
export function directoryString(text: string): Der {
  return PRINTABLE.test(text) ? tlv(0x13, Buffer.from(text, 'latin1')) : tlv(0x0c, Buffer.from(text, 'utf8'));
}

export const ia5String = (text: string) => Buffer.from(text, 'latin1');

/** PEM (RFC 7468): base64 in 64-character lines between BEGIN/END lines, with a final newline. */
export function toPem(der: Uint8Array | ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der instanceof ArrayBuffer ? new Uint8Array(der) : der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function time(date: Date): Der {
  const iso = date.toISOString(); // 2026-11-24T23:59:07.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261124235907Z
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1')) : tlv(0x18, Buffer.from(digits, 'latin1'));
}
