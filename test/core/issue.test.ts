import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Certificate, certFacts } from '../../src/core/cert.js';
import { CLOCK_SKEW_MS, issueLeaf, issueRoot, newSerialNumber, type CertificateAuthority, type LeafRequest } from '../../src/core/issue.js';
import { exportPrivateKeyPem, generateKeyPair, importPrivateKeyPem, newKey, type KeyType } from '../../src/core/keys.js';
import { parseSan } from '../../src/core/san.js';
import { parseSubject, type Subject } from '../../src/core/subject.js';
import { compileTenantIdPattern, tenantIdProblem } from '../../src/core/tenant-id.js';
import { x509 } from '../../src/core/x509.js';
import { openssl } from '../helpers/openssl.js';

const crypto = webcrypto as unknown as Crypto;
const NOW = new Date('2026-01-15T12:00:00Z');
const DAY = 86_400_000;

async function rootCa(days = 3650, type: KeyType = 'ec-p256', subject: Subject = { CN: 'Test Root' }) {
  const key = await newKey(type, crypto);
  const root = await issueRoot({ subject, spki: key.spki, privateKey: key.privateKey, days, now: NOW }, crypto);
  return { root, der: root.der, privateKey: key.privateKey, cert: new x509.X509Certificate(root.der) };
}

const leafFor = async (ca: CertificateAuthority, request: Partial<LeafRequest> & { key?: KeyType } = {}) => {
  const { key = 'ec-p256', ...rest } = request;
  const issued = await issueLeaf({ role: 'client', subject: { CN: 't' }, spki: (await newKey(key, crypto)).spki, days: 90, now: NOW, ...rest }, ca, crypto);
  return { issued, cert: new x509.X509Certificate(issued.der) };
};

/** Signature check by node's own X.509 code (OpenSSL), independent of the encoder. */
const signedBy = (der: Uint8Array, issuer: Uint8Array) => new X509Certificate(der).verify(new X509Certificate(issuer).publicKey);

describe('issueLeaf', () => {
  it('starts 5 minutes before now and lasts the requested days', async () => {
    const ca = await rootCa();
    const { issued, cert } = await leafFor(ca);
    expect(cert.notBefore.getTime()).toBe(NOW.getTime() - CLOCK_SKEW_MS);
    expect(cert.notAfter.getTime()).toBe(NOW.getTime() + 90 * DAY);
    expect(await cert.verify({ publicKey: ca.cert.publicKey, date: NOW }, crypto)).toBe(true);
    expect(signedBy(issued.der, ca.root.der)).toBe(true);
  });

  it('reports whole seconds, as the certificate holds them', async () => {
    const ca = await rootCa();
    const now = new Date('2026-01-15T12:00:00.999Z');
    const { issued, cert } = await leafFor(ca, { now });
    expect(issued.facts.notBefore).toBe('2026-01-15T11:55:00.000Z');
    expect(cert.notBefore.toISOString()).toBe(issued.facts.notBefore);
  });

  it('never outlives its CA', async () => {
    const ca = await rootCa(30);
    const { cert } = await leafFor(ca, { role: 'server', sans: [parseSan('DNS:a.example')], days: 365 });
    expect(cert.notAfter.getTime()).toBe(ca.cert.notAfter.getTime());
  });

  it('refuses to sign with an expired CA', async () => {
    const ca = await rootCa(1);
    await expect(leafFor(ca, { now: new Date(NOW.getTime() + 2 * DAY) })).rejects.toThrow(/the CA certificate expired/);
  });

  it('carries the AKI equal to the CA SKI, and the role EKU only', async () => {
    const ca = await rootCa();
    const { cert } = await leafFor(ca, { key: 'rsa-2048' });
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.critical, bc.ca]).toEqual([true, false]);
  });

  it('writes DNS and IP SANs (v4 and v6) as @peculiar/x509 and openssl read them', async () => {
    const ca = await rootCa();
    const sans = ['DNS:gw.example.com', 'DNS:*.gw.example.com', 'IP:10.0.0.1', 'IP:2001:db8::7'].map(parseSan);
    const { issued, cert } = await leafFor(ca, { role: 'server', sans });
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([
      { type: 'dns', value: 'gw.example.com' },
      { type: 'dns', value: '*.gw.example.com' },
      { type: 'ip', value: '10.0.0.1' },
      { type: 'ip', value: '2001:db8::7' },
    ]);
    const text = await openssl(['x509', '-inform', 'DER', '-noout', '-ext', 'subjectAltName'], issued.der);
    expect(text.stdout).toContain('DNS:gw.example.com, DNS:*.gw.example.com, IP Address:10.0.0.1, IP Address:2001:DB8:0:0:0:0:0:7');
  });

  it.each(['ec-p256', 'ec-p384', 'rsa-2048'] as const)('signs with a %s CA in the algorithm its key calls for', async (type) => {
    const ca = await rootCa(3650, type);
    const { issued, cert } = await leafFor(ca);
    const expected = { 'ec-p256': 'ecdsa-with-SHA256', 'ec-p384': 'ecdsa-with-SHA384', 'rsa-2048': 'sha256WithRSAEncryption' }[type];
    expect((await openssl(['x509', '-inform', 'DER', '-noout', '-text'], issued.der)).stdout).toContain(`Signature Algorithm: ${expected}`);
    expect(signedBy(issued.der, ca.root.der)).toBe(true);
    expect(signedBy(ca.root.der, ca.root.der)).toBe(true);
    expect(cert.issuer).toBe(ca.cert.subject);
  });

  it('reports the facts the full parser reads, for subjects that need escaping and UTF-8', async () => {
    const subject: Subject = { C: 'MX', ST: 'Ciudad de México', O: 'Acme, Inc. + "Co" <x>;', OU: '#1 team', CN: 'Root\\CA' };
    const ca = await rootCa(3650, 'ec-p256', subject);
    // @peculiar/x509 is the independent reader here; the certificate model must agree with both.
    const x509Facts = (c: x509.X509Certificate) => ({
      subject: c.subject,
      commonName: c.subjectName.getField('CN')[0],
      serial: c.serialNumber.toLowerCase(),
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      sha256: createHash('sha256').update(new Uint8Array(c.rawData)).digest('hex'),
    });
    const modelFacts = (c: x509.X509Certificate) => certFacts(new Certificate(new Uint8Array(c.rawData)));
    expect(ca.root.facts).toEqual(x509Facts(ca.cert));
    expect(modelFacts(ca.cert)).toEqual(x509Facts(ca.cert));
    const { issued, cert } = await leafFor(ca, { subject: { ...subject, CN: 'bf935f05-bf2e-4138-bfec-f4baaf99fecc' } });
    expect(issued.facts).toEqual(x509Facts(cert));
    expect(modelFacts(cert)).toEqual(x509Facts(cert));
    expect(issued.pem).toBe(`${cert.toString('pem').replace(/\r\n/g, '\n')}\n`); // @peculiar/x509's own PEM
    // String types as OpenSSL's recipe writes them: PrintableString where it can, else UTF8String.
    const asn1 = (await openssl(['asn1parse', '-inform', 'DER'], issued.der)).stdout;
    expect(asn1).toMatch(/PRINTABLESTRING\s*:MX/);
    expect(asn1).toMatch(/UTF8STRING\s*:Ciudad de M/);
    expect(asn1).toMatch(/UTF8STRING\s*:#1 team/);
  });

  it('switches to GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', async () => {
    const ca = await rootCa(9200); // 2026-01-15 + 9200 days = 2051
    expect(ca.root.facts.notAfter.startsWith('2051-')).toBe(true);
    expect(ca.cert.notAfter.toISOString()).toBe(ca.root.facts.notAfter);
    expect((await openssl(['asn1parse', '-inform', 'DER'], ca.root.der)).stdout).toMatch(/UTCTIME.*\n.*GENERALIZEDTIME\s*:2051/);
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

  it('keeps the hard rules when a template widens the pattern', async () => {
    expect(tenantIdProblem('acme-prod', await compileTenantIdPattern('^[a-z-]+$'))).toBeUndefined();
    const any = await compileTenantIdPattern('^.+$');
    expect(tenantIdProblem('.acme', any)).toBe("it starts with '.'");
    expect(tenantIdProblem('a/../b', any)).toBe("it contains '/' or '\\'");
    expect(tenantIdProblem('acme\u0000', any)).toBe('it contains a control character (U+0000)');
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
    expect(() => parseSubject('C=Mexico')).toThrow(/C 'Mexico': a country is two letters/);
    expect(() => parseSubject('/CN=a/CN=b')).toThrow(/CN appears twice/);
  });
});
