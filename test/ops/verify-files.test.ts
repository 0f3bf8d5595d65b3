// verify-files.ts checks many files in a pipeline (leaf signatures on libuv's thread pool, files
// validated a few behind the one being parsed). These tests hold that machinery to the plain one: a
// batch gives, file by file, exactly the verdicts of one call per file (which takes the single-file
// path), the thread-pool signature check answers what the synchronous one does, and the certificate
// model refuses what is not a certificate and reads the times every command shows.
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Certificate } from '../../src/core/cert.js';
import { children, DerError, parseDer, whole } from '../../src/core/der.js';
import { x509 } from '../../src/core/x509.js';
import { Signatures } from '../../src/core/verify/signature.js';
import { verifyFiles, type VerifyFilesRequest } from '../../src/ops/verify-files.js';
import { testContext } from '../helpers/context.js';
import { tempDir } from '../helpers/temp-dir.js';
import { make, NOW, tamper, T0, type Issued } from '../core/verify-pki.js';

const pem = (c: x509.X509Certificate) => c.toString('pem') + '\n';
const der = (c: x509.X509Certificate) => new Uint8Array(c.rawData);
const ctx = testContext({ now: NOW });

describe('verifyFiles: a batch gives the verdicts of one call per file', () => {
  let dir: string;
  let files: string[];
  const base = (over: Partial<VerifyFilesRequest>): VerifyFilesRequest => ({
    files: [], dir, ca: [join(dir, 'ca.crt')], untrusted: [], crl: [], purpose: 'client', all: false, chain: false, at: NOW, ...over,
  });

  beforeAll(async () => {
    dir = await tempDir('pkictl-verify-files-');
    const ca = await make({ cn: 'Batch Root', ca: true });
    const other = await make({ cn: 'Other Root', ca: true });
    const ica = await make({ cn: 'Batch Issuing CA', ca: true, issuer: ca });
    await writeFile(join(dir, 'ca.crt'), pem(ca.cert));
    const leaf = (cn: string, issuer: Issued, more = {}) => make({ cn, issuer, eku: [x509.ExtendedKeyUsage.clientAuth], ...more });
    const entries: [string, string][] = [];
    for (let i = 0; i < 30; i++) {
      const n = `leaf-${String(i).padStart(2, '0')}`;
      let body: string;
      if (i === 3) body = pem((await make({ cn: n, issuer: other, eku: [x509.ExtendedKeyUsage.clientAuth] })).cert); // UNKNOWN_ISSUER
      else if (i === 7) body = pem(tamper((await leaf(n, ca)).cert)); // BAD_SIGNATURE
      else if (i === 11) body = pem((await make({ cn: n, issuer: ca, eku: [x509.ExtendedKeyUsage.serverAuth] })).cert); // EKU_MISMATCH
      else if (i === 15) body = pem((await leaf(n, ca, { notAfter: new Date(T0.getTime() + 86_400_000) })).cert); // EXPIRED
      else if (i === 19) body = pem((await leaf(n, ica)).cert) + pem(ica.cert); // leaf + its intermediate in one file
      else if (i === 23) body = pem((await leaf(n, ica)).cert); // intermediate missing: UNKNOWN_ISSUER
      else body = pem((await leaf(n, ca)).cert);
      entries.push([join(dir, `${n}.crt`), body]);
    }
    await Promise.all(entries.map(([f, body]) => writeFile(f, body)));
    files = entries.map(([f]) => f);
  });

  for (const chain of [false, true]) {
    it(`same files, same order, same failures (chain: ${chain})`, async () => {
      const batch = await verifyFiles(base({ files, chain }), ctx);
      const singles = [];
      for (const f of files) singles.push(...(await verifyFiles(base({ files: [f], chain }), ctx)).files);
      expect(batch.files).toEqual(singles);
      expect(batch.ok).toBe(false);
      const codes = batch.files.map((f) => f.failures[0]?.code ?? 'OK');
      expect(codes.filter((c) => c === 'OK')).toHaveLength(25);
      expect([codes[3], codes[7], codes[11], codes[15], codes[19], codes[23]]).toEqual(['UNKNOWN_ISSUER', 'BAD_SIGNATURE', 'EKU_MISMATCH', 'EXPIRED', 'OK', 'UNKNOWN_ISSUER']);
      if (chain) expect(batch.files[19]!.chain.map((c) => c.subject)).toEqual(['CN=leaf-19', 'CN=Batch Issuing CA', 'CN=Batch Root']);
    });
  }

  it('a bad file in the middle of a batch is the same input error as on its own', async () => {
    const junk = join(dir, 'junk.crt');
    await writeFile(junk, 'not a certificate\n');
    const alone = await verifyFiles(base({ files: [junk] }), ctx).catch((e: Error) => e.message);
    const inBatch = await verifyFiles(base({ files: [...files.slice(0, 20), junk, ...files.slice(20)] }), ctx).catch((e: Error) => e.message);
    expect(alone).toMatch(/junk\.crt/);
    expect(inBatch).toBe(alone);
  });
});

describe('signedByInBackground answers what the synchronous check answers', () => {
  it('EC P-256: good, tampered, wrong issuer', async () => {
    const ca = await make({ cn: 'Sig Root', ca: true });
    const other = await make({ cn: 'Sig Root', ca: true, keys: undefined });
    const good = await make({ cn: 'sig-leaf', issuer: ca });
    const m = (c: x509.X509Certificate) => new Certificate(der(c));
    const cases: [x509.X509Certificate, Issued, boolean][] = [[good.cert, ca, true], [tamper(good.cert), ca, false], [good.cert, other, false]];
    for (const [leaf, issuer, want] of cases) {
      expect(new Signatures().signedBy(m(leaf), m(issuer.cert))).toBe(want);
      expect(await new Signatures().signedByInBackground(m(leaf), m(issuer.cert))).toBe(want);
    }
  });

  it('RSA PKCS#1 v1.5: good and tampered', async () => {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
    const crypto = webcrypto as unknown as Crypto;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=RSA Root', keys, signingAlgorithm: alg, notBefore: T0, notAfter: NOW }, crypto);
    const leaf = await x509.X509CertificateGenerator.create(
      { serialNumber: '02', subject: 'CN=rsa-leaf', issuer: ca.subject, publicKey: keys.publicKey, signingKey: keys.privateKey, signingAlgorithm: alg, notBefore: T0, notAfter: NOW },
      crypto,
    );
    const caModel = new Certificate(der(ca));
    for (const [cert, want] of [[leaf, true], [tamper(leaf), false]] as const) {
      const m = new Certificate(der(cert));
      expect(new Signatures().signedBy(m, caModel)).toBe(want);
      expect(await new Signatures().signedByInBackground(m, caModel)).toBe(want);
    }
  });
});

describe('the certificate model refuses what is not a certificate', () => {
  const tlv = (tag: number, ...parts: Uint8Array[]) => {
    const body = Uint8Array.from(parts.flatMap((p) => [...p]));
    const n = body.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Uint8Array.from([tag, ...len, ...body]);
  };
  const time = (tag: number, s: string) => tlv(tag, new TextEncoder().encode(s));
  /** The certificate with TBSCertificate field `index` (0 = version) replaced, and optionally an extra outer element. */
  const rebuild = (cert: Uint8Array, change: { field?: number; value?: Uint8Array; extra?: Uint8Array }) => {
    const [tbs, sigAlg, sig] = children(parseDer(cert));
    const fields = children(tbs!).map(whole);
    if (change.field !== undefined) fields[change.field] = change.value!;
    return tlv(0x30, tlv(0x30, ...fields), whole(sigAlg!), whole(sig!), ...(change.extra ? [change.extra] : []));
  };
  let cert: Uint8Array;
  beforeAll(async () => {
    cert = der((await make({ cn: 'peek-me', ca: true })).cert);
  });
  // Field positions in pkictl's v3 certificates: 0 version, 1 serial, 2 signature, 3 issuer, 4 validity.
  const refused: [string, () => Uint8Array][] = [
    ['a fourth element after the signature', () => rebuild(cert, { extra: Uint8Array.from([0x05, 0x00]) })],
    ['an empty serial number', () => rebuild(cert, { field: 1, value: Uint8Array.from([0x02, 0x00]) })],
    ['a Validity with three times', () => rebuild(cert, { field: 4, value: tlv(0x30, time(0x17, '250101000000Z'), time(0x17, '300101000000Z'), time(0x17, '300101000000Z')) })],
    ['a UTCTime without seconds', () => rebuild(cert, { field: 4, value: tlv(0x30, time(0x17, '2501010000Z'), time(0x17, '300101000000Z')) })],
  ];
  for (const [what, bytes] of refused) {
    it(`refuses ${what}`, () => {
      expect(() => new Certificate(bytes())).toThrow(DerError);
    });
  }

  it('reads UTCTime and GeneralizedTime (a fraction of a second dropped)', () => {
    const m = new Certificate(rebuild(cert, { field: 4, value: tlv(0x30, time(0x17, '250101000000Z'), time(0x18, '20300101000000.5Z')) }));
    expect([m.notBefore.toISOString(), m.notAfter.toISOString()]).toEqual(['2025-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z']);
    const y1999 = new Certificate(rebuild(cert, { field: 4, value: tlv(0x30, time(0x17, '991231235959Z'), time(0x17, '491231235959Z')) }));
    expect([y1999.notBefore.toISOString(), y1999.notAfter.toISOString()]).toEqual(['1999-12-31T23:59:59.000Z', '2049-12-31T23:59:59.000Z']);
  });
});
