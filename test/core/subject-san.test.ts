import { describe, expect, it } from 'vitest';
import { MAX_SANS, parseSan, parseSans } from '../../src/core/san.js';
import { checkSubjectValue, parseSubject } from '../../src/core/subject.js';

describe('subject attributes', () => {
  it.each([
    ['C', 'ÉÉ', "C '\u00c9\u00c9': a country is two letters A-Z, its ISO 3166 code (MX, US, DE)"],
    ['C', 'M1', "C 'M1': a country is two letters A-Z, its ISO 3166 code (MX, US, DE)"],
    ['C', 'MEX', "C 'MEX': a country is two letters A-Z, its ISO 3166 code (MX, US, DE)"],
    ['C', '', "C '': it is empty"],
    ['CN', 'a'.repeat(65), `CN '${'a'.repeat(65)}': it is 65 characters long, the limit is 64 (RFC 5280)`],
    ['O', 'é'.repeat(65), `O '${'é'.repeat(65)}': it is 65 characters long, the limit is 64 (RFC 5280)`],
    ['OU', 'o'.repeat(65), `OU '${'o'.repeat(65)}': it is 65 characters long, the limit is 64 (RFC 5280)`],
    ['L', 'l'.repeat(129), `L '${'l'.repeat(80)}…': it is 129 characters long, the limit is 128 (RFC 5280)`],
    ['ST', 's'.repeat(129), `ST '${'s'.repeat(80)}…': it is 129 characters long, the limit is 128 (RFC 5280)`],
    ['O', 'Luzzi\u0085', "O 'Luzzi\\u0085': it contains a control character (U+0085)"],
    ['O', 'Luzzi\u202e', "O 'Luzzi\\u202e': it contains an invisible formatting character (U+202E)"],
    ['CN', 'gw\u2028x', "CN 'gw\\u2028x': it contains a line or paragraph separator (U+2028)"],
    ['O', ' Luzzi', "O ' Luzzi': it starts with a space"],
  ] as const)('refuses %s=%j', (attribute, value, problem) => {
    expect(checkSubjectValue(attribute, value)).toBe(problem);
  });

  it('accepts the bounds themselves and letters beyond ASCII where the type allows them', () => {
    for (const [attribute, value] of [['C', 'MX'], ['C', 'mx'], ['CN', 'a'.repeat(64)], ['L', 'l'.repeat(128)], ['ST', 'Ciudad de México'], ['O', '租户'.repeat(32)]] as const) {
      expect(checkSubjectValue(attribute, value)).toBeUndefined();
    }
  });

  it('escapes the value in --subject errors', () => {
    expect(() => parseSubject('/C=MX/O=a\u001b[2Jb')).toThrow("invalid subject '/C=MX/O=a\\u001b[2Jb': O 'a\\u001b[2Jb': it contains a control character (U+001B)");
    expect(() => parseSubject('C=ÉÉ, CN=x')).toThrow(/C 'ÉÉ': a country is two letters/);
  });
});

describe('SAN lists', () => {
  it('refuses a duplicate, DNS names without case and IPs by their bytes, naming it', () => {
    expect(() => parseSans(['DNS:gw.example.com', 'DNS:GW.example.com'])).toThrow("duplicate SAN 'DNS:GW.example.com' (the same as 'DNS:gw.example.com'): give each name once");
    expect(() => parseSans(['IP:::1', 'IP:0:0:0:0:0:0:0:1'])).toThrow("duplicate SAN 'IP:0:0:0:0:0:0:0:1' (the same as 'IP:::1')");
    expect(() => parseSans(['DNS:a.example', 'DNS:a.example'])).toThrow("duplicate SAN 'DNS:a.example': give each name once");
    expect(parseSans(['DNS:a.example', 'DNS:b.example', 'IP:10.0.0.1', 'IP:::ffff:10.0.0.1'])).toHaveLength(4);
  });

  it(`refuses more than ${MAX_SANS} names`, () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `DNS:h${i}.example.com`);
    expect(parseSans(names(MAX_SANS))).toHaveLength(MAX_SANS);
    expect(() => parseSans(names(10_000))).toThrow(`too many SANs: 10000, a certificate holds at most ${MAX_SANS}`);
  });

  it('refuses an IPv6 zone and escapes what it shows', () => {
    expect(() => parseSan('IP:fe80::1%eth0')).toThrow(/invalid SAN 'IP:fe80::1%eth0'/);
    expect(() => parseSan('DNS:a\u202eb')).toThrow("invalid SAN 'DNS:a\\u202eb': expected DNS:<host name> or IP:<IPv4 or IPv6 address>");
  });
});
