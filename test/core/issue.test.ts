import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, issueLeaf, issueRoot, newSerialNumber } from '../../src/core/issue.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem } from '../../src/core/keys.js';
import { parseSan } from '../../src/core/san.js';
import { parseSubject } from '../../src/core/subject.js';
import { tenantIdProblem } from '../../src/core/tenant-id.js';
import { x509 } from '../../src/core/x509.js';

const crypto = webcrypto as unknown as Crypto;
const NOW = new Date('2026-01-15T12:00:00Z');
const DAY = 86_400_000;

async function rootCa(days = 3650) {
  const keys = await generateKeyPair('ec-p256', crypto);
  const cert = await issueRoot({ subject: { CN: 'Test Root' }, keys, days, now: NOW }, crypto);
  return { cert, privateKey: keys.privateKey };
}

describe('issueLeaf', () => {
  it('starts 5 minutes before now and lasts the requested days', async () => {
    const ca = await rootCa();
    const leaf = await issueLeaf({ role: 'client', subject: { CN: 't' }, publicKey: (await generateKeyPair('ec-p256', crypto)).publicKey, days: 90, now: NOW }, ca, crypto);
    expect(leaf.notBefore.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(leaf.notAfter.getTime()).toBe(NOW.getTime() + 90 * DAY);
    expect(await leaf.verify({ publicKey: ca.cert.publicKey, date: NOW }, crypto)).toBe(true);
  });

  it('never outlives its CA', async () => {
    const ca = await rootCa(30);
    const leaf = await issueLeaf({ role: 'server', subject: { CN: 's' }, publicKey: (await generateKeyPair('ec-p256', crypto)).publicKey, sans: [parseSan('DNS:a.example')], days: 365, now: NOW }, ca, crypto);
    expect(leaf.notAfter.getTime()).toBe(ca.cert.notAfter.getTime());
  });

  it('refuses to sign with an expired CA', async () => {
    const ca = await rootCa(1);
    const later = new Date(NOW.getTime() + 2 * DAY);
    await expect(issueLeaf({ role: 'client', subject: { CN: 't' }, publicKey: (await generateKeyPair('ec-p256', crypto)).publicKey, days: 90, now: later }, ca, crypto))
      .rejects.toThrow(/the CA certificate expired/);
  });

  it('carries the AKI equal to the CA SKI, and the role EKU only', async () => {
    const ca = await rootCa();
    const leaf = await issueLeaf({ role: 'client', subject: { CN: 't' }, publicKey: (await generateKeyPair('rsa-2048', crypto)).publicKey, days: 90, now: NOW }, ca, crypto);
    expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    const ku = leaf.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
  });
});

describe('newSerialNumber', () => {
  it('is 20 bytes, positive, and does not repeat', () => {
    const serials = new Set(Array.from({ length: 2000 }, () => newSerialNumber(crypto)));
    expect(serials.size).toBe(2000);
    for (const s of serials) expect(s).toMatch(/^[4-7][0-9a-f]{39}$/);
  });
});

describe('private keys', () => {
  it('round-trip through encrypted PKCS#8 and refuse a wrong passphrase', async () => {
    const keys = await generateKeyPair('ec-p384', crypto);
    const pem = await exportPrivateKeyPem(keys.privateKey, crypto, 'secret');
    expect(pem).toContain('ENCRYPTED PRIVATE KEY');
    const back = await importPrivateKeyPem(pem, crypto, 'secret');
    expect((back.algorithm as EcKeyAlgorithm).namedCurve).toBe('P-384');
    await expect(importPrivateKeyPem(pem, crypto, 'nope')).rejects.toThrow(/wrong passphrase/);
    await expect(importPrivateKeyPem(pem, crypto)).rejects.toThrow(/no passphrase was given/);
  });
});

describe('input parsers', () => {
  it.each([
    ['bf935f05-bf2e-4138-bfec-f4baaf99fecc', undefined],
    ['BF935F05-bf2e-4138-bfec-f4baaf99fecc', "tenant ids are lowercase UUIDs; use 'bf935f05-bf2e-4138-bfec-f4baaf99fecc'"],
    ['bf935f05bf2e4138bfecf4baaf99fecc', 'it is not a UUID (8-4-4-4-12 lowercase hex)'],
    ['..', "it contains '..'"],
  ])('tenant id %j → %j', (id, problem) => {
    expect(tenantIdProblem(id)).toBe(problem);
  });

  it('keeps the hard rules when a template widens the pattern', () => {
    expect(tenantIdProblem('acme-prod', '^[a-z-]+$')).toBeUndefined();
    expect(tenantIdProblem('.acme', '^.+$')).toBe("it starts with '.'");
    expect(tenantIdProblem('a/../b', '^.+$')).toBe("it contains '/' or '\\'");
    expect(tenantIdProblem('acme\u0000', '^.+$')).toBe('it contains a control character');
  });

  it('parses SANs and rejects what is neither a DNS name nor an IP', () => {
    expect(parseSan('DNS:Gateway.Luzzi.com')).toEqual({ type: 'dns', value: 'gateway.luzzi.com' });
    expect(parseSan('IP:::1')).toEqual({ type: 'ip', value: '::1' });
    expect(parseSan('DNS:*.luzzi.com')).toEqual({ type: 'dns', value: '*.luzzi.com' });
    for (const bad of ['DNS:', 'DNS:a..b', 'DNS:1.2.3.4', 'IP:1.2.3', 'gateway', 'EMAIL:a@b']) expect(() => parseSan(bad)).toThrow(/invalid SAN/);
  });

  it('parses openssl-style and comma-separated subjects', () => {
    const expected = { C: 'MX', ST: 'CDMX', O: 'Luzzi', CN: 'Luzzi Root CA' };
    expect(parseSubject('/C=MX/ST=CDMX/O=Luzzi/CN=Luzzi Root CA')).toEqual(expected);
    expect(parseSubject('C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA')).toEqual(expected);
    expect(() => parseSubject('C=Mexico')).toThrow(/C is longer than 2/);
    expect(() => parseSubject('/CN=a/CN=b')).toThrow(/CN appears twice/);
  });
});
