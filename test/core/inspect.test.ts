import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCertificates } from '../../src/core/cert-input.js';
import { Certificate } from '../../src/core/cert.js';
import { certificateBytes } from '../../src/core/pem.js';
import { PkiError } from '../../src/core/errors.js';
import { certFacts } from '../../src/core/cert.js';
import { summarize } from '../../src/core/inspect.js';
import { issueLeaf, issueRoot, type CertificateAuthority } from '../../src/core/issue.js';
import { newKey } from '../../src/core/keys.js';
import { toPem } from '../../src/core/der-write.js';
import { x509 } from '../../src/core/x509.js';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { PKCS8_LABEL } from '../helpers/expect-cli.js';

const crypto = globalThis.crypto;
const NOW = new Date('2026-03-01T12:00:00Z');
const DAY = 86_400_000;

function inputErrorOf(fn: () => unknown): PkiError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PkiError);
    expect((error as PkiError).kind).toBe('input');
    expect((error as PkiError).message).not.toContain('\n');
    return error as PkiError;
  }
  throw new Error('expected an input error');
}

describe('summarize', () => {
  let ca: CertificateAuthority;
  let caCert: Certificate;
  let server: Certificate;
  let client: Certificate;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir();
    const caKey = await newKey('ec-p256', crypto);
    const root = await issueRoot({ subject: { O: 'Acme', CN: 'Acme Root' }, spki: caKey.spki, privateKey: caKey.privateKey, days: 3650, now: NOW }, crypto);
    ca = { der: root.der, privateKey: caKey.privateKey };
    caCert = new Certificate(root.der);
    const serverKey = await newKey('rsa-2048', crypto);
    const issuedServer = await issueLeaf(
      { role: 'server', subject: { O: 'Acme', CN: 'gw.example.com' }, spki: serverKey.spki, sans: [{ type: 'dns', value: 'gw.example.com' }, { type: 'ip', value: '10.0.0.1' }], days: 90, now: NOW },
      ca,
      crypto,
    );
    const clientKey = await newKey('ec-p256', crypto);
    const issuedClient = await issueLeaf({ role: 'client', subject: { CN: 'bf935f05-bf2e-4138-bfec-f4baaf99fecc' }, spki: clientKey.spki, days: 30, now: NOW }, ca, crypto);
    server = new Certificate(issuedServer.der);
    client = new Certificate(issuedClient.der);
    for (const [name, cert] of [['ca', caCert], ['server', server], ['client', client]] as const) await writeFile(join(dir, `${name}.crt`), toPem(cert.der, 'CERTIFICATE'));
  });

  it('reports a server certificate like openssl does', async () => {
    const s = summarize(server, NOW);
    expect(s).toMatchObject({
      commonName: 'gw.example.com',
      subject: 'O=Acme, CN=gw.example.com',
      issuer: 'O=Acme, CN=Acme Root',
      selfIssued: false,
      sans: ['DNS:gw.example.com', 'IP:10.0.0.1'],
      publicKey: { type: 'RSA', size: 2048, curve: null },
      keyUsage: { critical: true, usages: ['digitalSignature', 'keyEncipherment'] },
      extendedKeyUsage: { critical: false, usages: ['serverAuth'] },
      basicConstraints: { critical: true, ca: false, pathLength: null },
      validity: 'valid',
    });
    const file = join(dir, 'server.crt');
    const fp = await openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256', '-serial']);
    expect(fp.stdout).toContain(`sha256 Fingerprint=${s.fingerprints.sha256.toUpperCase().match(/../g)!.join(':')}`);
    expect(fp.stdout).toContain(`serial=${s.serial.toUpperCase()}`);
    // The public-key pin, computed by openssl end to end.
    const pin = execSync(`openssl x509 -in '${file}' -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r`).toString().split(' ')[0];
    expect(s.fingerprints.spkiSha256).toBe(pin);
    expect(s.fingerprints.sha256).toBe(certFacts(server).sha256);
  });

  it('reports the CA and the client', () => {
    const c = summarize(caCert, NOW);
    expect(c).toMatchObject({ selfIssued: true, basicConstraints: { ca: true, critical: true }, keyUsage: { usages: ['keyCertSign', 'cRLSign'] }, extendedKeyUsage: null, sans: [], publicKey: { type: 'EC', size: 256, curve: 'P-256' } });
    expect(c.subjectKeyId).toBe(c.authorityKeyId);
    const l = summarize(client, NOW);
    expect(l).toMatchObject({ commonName: 'bf935f05-bf2e-4138-bfec-f4baaf99fecc', extendedKeyUsage: { usages: ['clientAuth'] }, signatureAlgorithm: 'ECDSA with SHA-256' });
    expect(l.authorityKeyId).toBe(c.subjectKeyId);
  });

  it('computes days left and validity at the given time (fixed dates before, at, after)', () => {
    const notAfter = client.notAfter.getTime();
    expect(summarize(client, new Date(notAfter - 10 * DAY)).daysLeft).toBe(10);
    expect(summarize(client, new Date(notAfter - 10 * DAY + 1)).daysLeft).toBe(9);
    expect(summarize(client, new Date(notAfter)).validity).toBe('valid');
    expect(summarize(client, new Date(notAfter + 1))).toMatchObject({ validity: 'expired', daysLeft: -1 });
    expect(summarize(client, new Date(client.notBefore.getTime() - 1)).validity).toBe('not-yet-valid');
  });

  it('the model agrees with @peculiar/x509 on the facts it reads itself', () => {
    for (const cert of [caCert, server, client]) expectSameAsX509(cert);
  });
});

/** The certificate model's own fields against @peculiar/x509's reading of the same DER (an independent parser). */
function expectSameAsX509(cert: Certificate) {
  const x = new x509.X509Certificate(new Uint8Array(cert.der));
  expect(cert.subject).toBe(x.subject);
  expect(cert.issuer).toBe(x.issuer);
  expect(cert.commonName).toBe(x.subjectName.getField('CN')[0]);
  expect(cert.serialHex).toBe(x.serialNumber.toLowerCase());
  expect(cert.notBefore.toISOString()).toBe(x.notBefore.toISOString());
  expect(cert.notAfter.toISOString()).toBe(x.notAfter.toISOString());
  expect(cert.sha256).toBe(createHash('sha256').update(new Uint8Array(x.rawData)).digest('hex'));
  expect(Buffer.from(cert.issuerDer).equals(Buffer.from(x.issuerName.toArrayBuffer()))).toBe(true);
  expect(cert.aki?.keyId && Buffer.from(cert.aki.keyId).toString('hex')).toBe(x.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId?.toLowerCase());
  expect(cert.ski && Buffer.from(cert.ski).toString('hex')).toBe(x.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId.toLowerCase());
}

describe('the certificate model on certificates openssl made', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });

  async function opensslCert(name: string, args: string[]): Promise<Uint8Array> {
    const key = join(dir, `${name}.key`);
    const crt = join(dir, `${name}.crt`);
    const r = await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-outform', 'DER', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return new Uint8Array(await readFile(crt));
  }

  it.each([
    ['a serial with the top bit set (sign padding byte)', ['-subj', '/CN=padded', '-set_serial', '0x80aabbccdd', '-days', '1']],
    ['a tiny serial', ['-subj', '/CN=one', '-set_serial', '1', '-days', '1']],
    ['UTF-8 in the CN', ['-utf8', '-subj', '/O=Zürich/CN=Jörg Ñandú 日本', '-days', '1']],
    ['no CN at all', ['-subj', '/O=No Common Name', '-days', '1']],
    ['a multi-valued RDN', ['-multivalue-rdn', '-subj', '/O=Acme/CN=multi+OU=ops', '-days', '1']],
    ['a GeneralizedTime notAfter (after 2049)', ['-subj', '/CN=far', '-days', '20000']],
  ])('%s', async (_what, args) => {
    const der = await opensslCert(`c${Math.random().toString(36).slice(2)}`, args);
    const [cert] = readCertificates(der, 'test');
    expectSameAsX509(cert!);
  });
});

describe('certificateBytes / readCertificates: bad input is one line naming the file', () => {
  let pem: string;
  let der: Uint8Array;
  beforeAll(async () => {
    const key = await newKey('ec-p256', crypto);
    const cert = await issueRoot({ subject: { CN: 'x' }, spki: key.spki, privateKey: key.privateKey, days: 1, now: NOW }, crypto);
    pem = cert.pem;
    der = cert.der;
  });
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

  it('reads bundles, skipping other blocks', () => {
    const bundle = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${pem}${pem}`;
    expect(certificateBytes(bytes(bundle), 'b.pem')).toHaveLength(2);
    expect(readCertificates(bytes(bundle), 'b.pem').map((p) => p.commonName)).toEqual(['x', 'x']);
  });
  it.each([
    ['empty', () => new Uint8Array(0), /^e\.pem: the file is empty$/],
    ['a private key', () => bytes(`-----BEGIN ${PKCS8_LABEL}-----\nAAAA\n-----END ${PKCS8_LABEL}-----\n`), /private key, not a certificate/],
    ['truncated PEM', () => bytes(pem.slice(0, 200)), /truncated or malformed PEM/],
    ['a bundle whose second certificate lost its END line', () => bytes(pem + pem.slice(0, pem.length - 30)), /truncated PEM \(2 BEGIN lines, only 1 complete block\)/],
    ['junk characters inside the base64', () => bytes(pem.replace(/\n(.{10})/, '\n$1!!')), /not base64/],
    ['junk text', () => bytes('hello world\n'), /not a certificate \(neither PEM nor DER\)/],
    ['DER cut short', () => der.subarray(0, der.length - 10), /not a certificate \(neither PEM nor DER\)/],
    ['random bytes', () => new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256)), /not a certificate/],
    ['only other PEM blocks', () => bytes('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), /no certificate in it \(found CERTIFICATE REQUEST\)/],
  ])('%s', (_what, make, message) => {
    const data = make();
    const error = inputErrorOf(() => readCertificates(data, 'e.pem'));
    expect(error.message).toMatch(/^e\.pem: /);
    expect(error.message).toMatch(message);
  });
  it('DER followed by junk reads the certificate, like openssl and the full parser', () => {
    const data = new Uint8Array([...der, 0, 0, 1]);
    const [cert] = readCertificates(data, 'd.der');
    expect(cert!.sha256).toBe(createHash('sha256').update(der).digest('hex'));
    expect(summarize(cert!, NOW).fingerprints.sha256).toBe(createHash('sha256').update(der).digest('hex'));
  });
  it('DER whose inner PEM body is garbage names the certificate position', () => {
    const broken = pem + '-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n';
    expect(inputErrorOf(() => readCertificates(bytes(broken), 'b.pem')).message).toBe('b.pem: certificate 2 is not valid DER inside its PEM block');
  });
});
