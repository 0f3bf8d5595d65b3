// The RFC 4514 formatter (core/name.ts) against @peculiar/x509's Name.toString(), the text pkictl
// showed before the certificate model: every Name of the x509-limbo suite, and hand-made Names that
// need escaping, UTF-8, BMP/Universal strings, multi-valued RDNs and #hex values.
import { describe, expect, it } from 'vitest';
import { Certificate } from '../../src/core/cert.js';
import { parseDer } from '../../src/core/der.js';
import { objectIdentifier, sequence, set, tlv } from '../../src/core/der-write.js';
import { nameText } from '../../src/core/name.js';
import { certificateBytes } from '../../src/core/pem.js';
import { x509 } from '../../src/core/x509.js';
import { limboPresent, readLimbo } from '../helpers/limbo.js';

const x509Text = (der: Uint8Array) => new x509.Name(new Uint8Array(der)).toString();
const ownText = (der: Uint8Array) => nameText(parseDer(der));

const atv = (oid: string, value: Uint8Array) => sequence(objectIdentifier(oid), value);
const str = (tag: number, bytes: Uint8Array | string) => tlv(tag, typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16();

describe('nameText equals @peculiar/x509 Name.toString()', () => {
  const cases: [string, Uint8Array][] = [
    ['escaping', sequence(set(atv('2.5.4.10', str(0x0c, 'Acme, Inc. + "Co" <x>; a\\b'))), set(atv('2.5.4.11', str(0x0c, '#1 team '))), set(atv('2.5.4.3', str(0x0c, ' lead'))))],
    ['control characters (only the first is hex-escaped, as x509 does)', sequence(set(atv('2.5.4.3', str(0x0c, 'a\nb\tc\rd'))))],
    ['UTF-8', sequence(set(atv('2.5.4.7', str(0x0c, 'Ciudad de México'))), set(atv('2.5.4.3', str(0x0c, 'Jörg Ñandú 日本 😀'))))],
    ['BMPString', sequence(set(atv('2.5.4.3', str(0x1e, utf16be('Zürich 日本')))))],
    ['UniversalString', sequence(set(atv('2.5.4.3', str(0x1c, Uint8Array.from([0, 0, 0, 0x41, 0, 0, 0x30, 0xb3])))))],
    ['TeletexString and IA5String', sequence(set(atv('2.5.4.3', str(0x14, 'teletex'))), set(atv('1.2.840.113549.1.9.1', str(0x16, 'a@b.example'))))],
    ['multi-valued RDN', sequence(set(atv('2.5.4.10', str(0x13, 'Acme')), atv('2.5.4.3', str(0x13, 'multi')), atv('2.5.4.11', str(0x13, 'ops'))))],
    ['values that are not strings: #hex', sequence(set(atv('2.5.4.3', str(0x1a, 'visible'))), set(atv('2.5.4.5', str(0x12, '12345'))), set(atv('2.5.4.10', Uint8Array.from([0x02, 0x01, 0x05]))))],
    ['unknown and short-named attribute types', sequence(set(atv('0.9.2342.19200300.100.1.25', str(0x16, 'example'))), set(atv('2.5.4.42', str(0x13, 'G'))), set(atv('1.2.3.4.5', str(0x0c, 'other'))))],
    ['an empty value and an empty Name', sequence(set(atv('2.5.4.3', str(0x0c, ''))))],
    ['the empty Name', sequence()],
    ['invalid UTF-8 (shown as latin1)', sequence(set(atv('2.5.4.3', str(0x0c, Uint8Array.from([0x41, 0xc3, 0x28])))))],
  ];
  for (const [what, der] of cases) {
    it(what, () => expect(ownText(der)).toBe(x509Text(der)));
  }
});

describe.skipIf(!limboPresent)('nameText on every certificate of x509-limbo', () => {
  it('the subject and issuer Name of every certificate: the same text as @peculiar/x509', { timeout: 120_000 }, () => {
    const suite = readLimbo<{ peer_certificate: string; trusted_certs: string[]; untrusted_intermediates: string[] }>();
    const names = new Map<string, Uint8Array>();
    for (const pem of new Set(suite.testcases.flatMap((t) => [t.peer_certificate, ...t.trusted_certs, ...t.untrusted_intermediates]))) {
      try {
        const cert = new Certificate(certificateBytes(Buffer.from(pem, 'latin1'), 'limbo')[0]!.der);
        for (const der of [cert.subjectDer, cert.issuerDer]) names.set(Buffer.from(der).toString('hex'), der);
      } catch {
        // not a certificate to the strict reader: its names are not shown anywhere
      }
    }
    let compared = 0;
    const differ: string[] = [];
    for (const der of names.values()) {
      let expected: string;
      try {
        expected = x509Text(der);
      } catch {
        continue; // @peculiar/x509 cannot read it: nothing to compare
      }
      compared++;
      if (ownText(der) !== expected) differ.push(`${expected} | ${ownText(der)}`);
    }
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(500);
  });
});
