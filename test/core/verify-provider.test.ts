// The crypto parameter is the one path for signature checks, as it is for issuance: a Verifier made
// with @peculiar/webcrypto (PKICTL_CRYPTO_PROVIDER=peculiar) checks every signature through it and
// reaches the verdicts Node's own provider reaches.
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/core/x509.js';
import { verifyFiles } from '../../src/ops/verify-files.js';
import { testContext } from '../helpers/context.js';
import { tempDir } from '../helpers/temp-dir.js';
import { Signatures } from '../../src/core/verify/signature.js';
import { crypto, make, model, NOW, T0, T1, tamper, verifyChain, type Issued } from './verify-pki.js';

/** The peculiar provider, counting the verify calls that reach it (every call is the real one). */
function countingProvider() {
  const real = new PeculiarCrypto() as unknown as Crypto;
  const calls = { verify: 0 };
  const subtle = new Proxy(real.subtle, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (prop === 'verify') return (...args: Parameters<SubtleCrypto['verify']>) => (calls.verify++, target.verify(...args));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const provider = { subtle, getRandomValues: real.getRandomValues.bind(real) } as unknown as Crypto;
  return { provider, calls };
}

describe('Verifier with a WebCrypto provider other than Node\'s', () => {
  let root: Issued;
  let ica: Issued;
  let leaf: Issued;
  beforeAll(async () => {
    root = await make({ cn: 'Provider Root', ca: true });
    ica = await make({ cn: 'Provider ICA', ca: true, issuer: root });
    leaf = await make({ cn: 'provider-leaf', issuer: ica, eku: [x509.ExtendedKeyUsage.clientAuth] });
  });
  const opts = (over = {}) => ({ roots: [root.cert], intermediates: [ica.cert], purpose: 'client' as const, at: NOW, ...over });

  it('checks every link of the path through the provider', async () => {
    const { provider, calls } = countingProvider();
    const r = await verifyChain(leaf.cert, opts(), provider);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(calls.verify).toBe(2); // leaf by ICA, ICA by root
  });

  it('gives the verdicts of Node\'s provider: a tampered leaf, RSA and P-384 signatures', async () => {
    const { provider, calls } = countingProvider();
    const bad = tamper(leaf.cert);
    expect((await verifyChain(bad, opts(), provider)).failures.map((f) => f.code)).toEqual((await verifyChain(bad, opts())).failures.map((f) => f.code));
    expect((await verifyChain(bad, opts(), provider)).failures[0]?.code).toBe('BAD_SIGNATURE');
    for (const alg of [
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 },
      { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' },
    ]) {
      const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
      const ca = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=Root', keys, signingAlgorithm: alg, notBefore: T0, notAfter: NOW }, crypto);
      const signed = await x509.X509CertificateGenerator.create(
        { serialNumber: '02', subject: 'CN=leaf', issuer: ca.subject, publicKey: keys.publicKey, signingKey: keys.privateKey, signingAlgorithm: alg, notBefore: T0, notAfter: NOW },
        crypto,
      );
      for (const [cert, want] of [[signed, true], [tamper(signed), false]] as const) {
        expect(await new Signatures(provider).signedBy(model(cert), model(ca)), alg.name).toBe(want);
        expect(new Signatures().signedBy(model(cert), model(ca)), alg.name).toBe(want);
      }
    }
    expect(calls.verify).toBe(2 + 4);
  });

  it('Node\'s own provider (the default context) keeps the synchronous node:crypto path', () => {
    const answer = new Signatures(globalThis.crypto).signedBy(model(leaf.cert), model(ica.cert));
    expect(answer).toBe(true); // a boolean, not a promise: no WebCrypto round trip per file
  });

  it('checks a CRL\'s signature through the provider too', async () => {
    const { provider, calls } = countingProvider();
    const crl = await x509.X509CrlGenerator.create(
      {
        issuer: ica.cert.subject, thisUpdate: T0, nextUpdate: T1,
        entries: [{ serialNumber: leaf.cert.serialNumber, revocationDate: T0 }],
        signingKey: ica.keys.privateKey, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.Extension('2.5.29.20', false, Uint8Array.from([2, 1, 1]))],
      },
      crypto,
    );
    const r = await verifyChain(leaf.cert, opts({ crls: [crl] }), provider);
    expect(r.failures.map((f) => f.code)).toEqual(['REVOKED']);
    expect(calls.verify).toBe(3); // two links and the CRL
  });

  it('verifyFiles uses the context\'s provider', async () => {
    const dir = await tempDir('pkictl-provider-');
    await writeFile(join(dir, 'ca.crt'), root.cert.toString('pem'));
    await writeFile(join(dir, 'leaf.crt'), leaf.cert.toString('pem') + '\n' + ica.cert.toString('pem'));
    const { provider, calls } = countingProvider();
    const report = await verifyFiles(
      { files: [join(dir, 'leaf.crt')], dir, ca: [join(dir, 'ca.crt')], untrusted: [], crl: [], purpose: 'client', all: false, at: NOW },
      testContext({ crypto: provider, now: NOW }),
    );
    expect(report.files.map((f) => f.ok)).toEqual([true]);
    expect(calls.verify).toBe(2);
  });
});
