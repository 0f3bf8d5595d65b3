import { describe, expect, it } from 'vitest';
import { isDnsName } from '../../src/core/san.js';
import { checkNameConstraints, dnsMatches, ipText, parseIp } from '../../src/core/verify/names.js';
import type { GeneralName } from '../../src/core/cert.js';

const dns = (value: string): GeneralName => ({ type: 'dns', value, ascii: true });
const ipNet = (addr: string, mask: string): GeneralName => ({ type: 'ip', bytes: Uint8Array.from([...parseIp(addr)!, ...parseIp(mask)!]) });

describe('host names', () => {
  it('wildcards match exactly one left-most label', () => {
    expect(dnsMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(dnsMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(dnsMatches('*.example.com', 'example.com')).toBe(false);
    expect(dnsMatches('Example.COM', 'example.com')).toBe(true);
  });
  it('SAN syntax: no underscores, no IPv4 literals, no bare-TLD wildcards, no embedded wildcards', () => {
    expect(isDnsName('gateway.luzzi.com', true)).toBe(true);
    expect(isDnsName('*.gw.example', true)).toBe(true);
    expect(isDnsName('*.gw.example', false)).toBe(false);
    for (const bad of ['a_b.example.com', '192.0.2.1', 'host.123', '*.com', '*.gw', '*', 'ba*.example.com', 'foo.*.example.com', '.example.com', 'example.com.', '-a.example', 'a-.example', `${'a'.repeat(64)}.example`]) {
      expect(isDnsName(bad, true), bad).toBe(false);
    }
  });
  it('IP text is canonical (RFC 5952)', () => {
    expect(ipText(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(ipText(parseIp('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(ipText(parseIp('::ffff:192.0.2.1')!)).toBe('::ffff:c000:201');
    expect(ipText(parseIp('10.0.0.7')!)).toBe('10.0.0.7');
  });
});

describe('name constraints', () => {
  const permit = (...p: GeneralName[]) => ({ permitted: p, excluded: [] });
  const exclude = (...e: GeneralName[]) => ({ permitted: [], excluded: e });
  it('DNS subtrees match at label boundaries', () => {
    expect(checkNameConstraints([dns('a.example.com')], permit(dns('example.com')))).toBeUndefined();
    expect(checkNameConstraints([dns('notexample.com')], permit(dns('example.com')))).toMatch(/outside the permitted/);
  });
  it('a wildcard SAN is permitted only if every name it can match is', () => {
    expect(checkNameConstraints([dns('*.example.com')], permit(dns('example.com')))).toBeUndefined();
    expect(checkNameConstraints([dns('*.example.com')], permit(dns('foo.example.com')))).toMatch(/outside/);
    expect(checkNameConstraints([dns('*.example.com')], exclude(dns('bar.example.com')))).toMatch(/excluded/);
  });
  it('IP ranges apply per address family; malformed constraints reject', () => {
    expect(checkNameConstraints([{ type: 'ip', bytes: parseIp('192.0.2.9')! }], permit(ipNet('192.0.2.0', '255.255.255.0')))).toBeUndefined();
    expect(checkNameConstraints([{ type: 'ip', bytes: parseIp('198.51.100.1')! }], permit(ipNet('192.0.2.0', '255.255.255.0')))).toMatch(/outside/);
    expect(checkNameConstraints([dns('a.example.com')], permit(ipNet('192.0.2.0', '255.0.255.0')))).toMatch(/non-contiguous/);
    expect(checkNameConstraints([dns('a.example.com')], permit(dns('.example.com')))).toMatch(/malformed dNSName constraint/);
  });
  it('email constraints: mailbox, host, and subdomains; "*" is literal', () => {
    const mail = (value: string): GeneralName => ({ type: 'email', value, ascii: true });
    expect(checkNameConstraints([mail('user@example.com')], permit(mail('example.com')))).toBeUndefined();
    expect(checkNameConstraints([mail('user@sub.example.com')], permit(mail('.example.com')))).toBeUndefined();
    expect(checkNameConstraints([mail('user@example.com')], permit(mail('*@example.com')))).toMatch(/outside/);
  });
  it('a constrained name form pkictl cannot process rejects names of that form', () => {
    expect(checkNameConstraints([{ type: 'other', tag: 0xa0 }], exclude({ type: 'other', tag: 0xa0 }))).toMatch(/does not process/);
    expect(checkNameConstraints([dns('a.example.com')], exclude({ type: 'other', tag: 0xa0 }))).toBeUndefined();
  });
});
