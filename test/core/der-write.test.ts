import { describe, expect, it } from 'vitest';
import { directoryString, namedBits, objectIdentifier, sequence, smallInteger, time, unsignedInteger } from '../../src/core/der-write.js';
import { children, parseDer } from '../../src/core/der.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('DER writer', () => {
  it('encodes OIDs with multi-byte arcs', () => {
    expect(hex(objectIdentifier('1.2.840.113549.1.1.11'))).toBe('06092a864886f70d01010b');
    expect(hex(objectIdentifier('2.5.29.19'))).toBe('0603551d13');
  });

  it('encodes KeyUsage bits with the unused-bit count DER requires', () => {
    expect(hex(namedBits([0]))).toBe('03020780'); // digitalSignature
    expect(hex(namedBits([0, 2]))).toBe('030205a0'); // + keyEncipherment
    expect(hex(namedBits([5, 6]))).toBe('03020106'); // keyCertSign, cRLSign
    expect(hex(namedBits([8]))).toBe('0303070080'); // decipherOnly: a second byte
  });

  it('keeps INTEGERs minimal and positive', () => {
    expect(hex(unsignedInteger(Uint8Array.of(0, 0, 0x7f)))).toBe('02017f');
    expect(hex(unsignedInteger(Uint8Array.of(0x80)))).toBe('02020080');
    const small = [0, 1, 127, 128, 255, 256, 65_535].map((n) => hex(smallInteger(n)));
    expect(small).toEqual(['020100', '020101', '02017f', '02020080', '020200ff', '02020100', '020300ffff']);
    expect(() => smallInteger(-1)).toThrow(RangeError);
    expect(() => smallInteger(2 ** 53)).toThrow(RangeError);
  });

  it('uses long-form lengths past 127 and 255 bytes, readable by the strict reader', () => {
    for (const size of [127, 128, 255, 256, 70_000]) {
      const der = sequence(new Uint8Array(size));
      const parsed = parseDer(der);
      expect(parsed.end - parsed.body).toBe(size);
    }
    expect(children(parseDer(sequence(smallInteger(1), smallInteger(2)))).length).toBe(2);
  });

  it('picks PrintableString when it can, else UTF8String', () => {
    expect(hex(directoryString('MX'))).toBe('13024d58');
    expect(directoryString('a_b')[0]).toBe(0x0c); // '_' is not printable
    expect(hex(directoryString('é'))).toBe('0c02c3a9');
  });

  it('writes UTCTime until 2049 and GeneralizedTime from 2050, whole seconds', () => {
    expect(Buffer.from(time(new Date('2049-12-31T23:59:59.900Z'))).toString('latin1').slice(2)).toBe('491231235959Z');
    expect(Buffer.from(time(new Date('2050-01-01T00:00:00Z'))).toString('latin1').slice(2)).toBe('20500101000000Z');
    expect(time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
  });
});
