// Certificate.publicKey reads a canonical EC point through a JWK (faster than OpenSSL's SPKI decoder):
// the key must be the same, and a point that the SPKI path refuses must be refused too.
import { createPublicKey, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Certificate } from '../../src/core/cert.js';
import { keyProblem } from '../../src/core/verify/signature.js';
import { make } from './verify-pki.js';

const P256 = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const hex = (v: bigint) => v.toString(16).padStart(64, '0');

/** The certificate's DER with its public point (the 64 bytes after 0x04 in the SPKI) replaced. */
function withPoint(cert: Certificate, x: bigint, y: bigint): Certificate {
  const der = Buffer.from(cert.der);
  const at = der.indexOf(Buffer.from(cert.spki)) + cert.spki.length - 64;
  Buffer.from(hex(x) + hex(y), 'hex').copy(der, at);
  return new Certificate(der);
}

describe('Certificate.publicKey', () => {
  for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
    it(`${namedCurve}: the same key as the SPKI decoder gives`, async () => {
      const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify'])) as CryptoKeyPair;
      const { cert } = await make({ cn: namedCurve, keys });
      const model = new Certificate(new Uint8Array(cert.rawData));
      const key = model.publicKey;
      if (key instanceof Error) throw key;
      const viaSpki = createPublicKey({ key: Buffer.from(model.spki), format: 'der', type: 'spki' });
      expect(key.equals(viaSpki)).toBe(true);
      expect(key.asymmetricKeyDetails?.namedCurve).toBe(viaSpki.asymmetricKeyDetails?.namedCurve);
      expect(keyProblem(model)).toBeUndefined();
    });
  }

  it('refuses a P-256 point off the curve, and one with x + p in place of x (BAD_KEY)', async () => {
    const { cert } = await make({ cn: 'bad point' });
    const model = new Certificate(new Uint8Array(cert.rawData));
    const point = Buffer.from(model.spki).subarray(-64);
    const x = BigInt(`0x${point.subarray(0, 32).toString('hex')}`);
    const y = BigInt(`0x${point.subarray(32).toString('hex')}`);
    const offCurve = withPoint(model, x, y ^ 1n);
    expect(offCurve.publicKey).toBeInstanceOf(Error);
    expect(keyProblem(offCurve)?.code).toBe('BAD_KEY');
    // x = 5 is on P-256 (y = sqrt(x^3 - 3x + b)); x + p still fits in 32 bytes and names the same point mod p.
    const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
    const mod = (a: bigint) => ((a % P256) + P256) % P256;
    let root = 1n;
    for (let base = mod(125n - 15n + b), e = (P256 + 1n) / 4n; e > 0n; e >>= 1n, base = mod(base * base)) if (e & 1n) root = mod(root * base);
    expect(withPoint(model, 5n, root).publicKey).not.toBeInstanceOf(Error);
    const unreduced = withPoint(model, 5n + P256, root);
    expect(unreduced.publicKey).toBeInstanceOf(Error);
    expect(keyProblem(unreduced)?.code).toBe('BAD_KEY');
  });
});
