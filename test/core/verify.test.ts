import { beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/core/x509.js';
import { crypto, dnsConstraints, make, NOW, T0, T1, tamper, verifyChain, type Issued, type VerifyOptions } from './verify-pki.js';

const KU = x509.KeyUsageFlags;
let root: Issued;
let ica: Issued;
let leaf: Issued;

const opts = (over: Partial<VerifyOptions> = {}): VerifyOptions => ({ roots: [root.cert], intermediates: [ica.cert], purpose: 'server', at: NOW, ...over });
const codes = async (cert: x509.X509Certificate, over: Partial<VerifyOptions> = {}) => {
  const r = await verifyChain(cert, opts(over));
  return r.failures.map((f) => f.code);
};

beforeAll(async () => {
  root = await make({ cn: 'Test Root', ca: true });
  ica = await make({ cn: 'Test ICA', ca: true, issuer: root, pathLen: 0 });
  leaf = await make({ cn: 'api.example.com', issuer: ica, sans: [{ type: 'dns', value: 'api.example.com' }, { type: 'ip', value: '10.0.0.7' }], eku: [x509.ExtendedKeyUsage.serverAuth] });
});

describe('verifyChain: a good chain', () => {
  it('accepts leaf -> intermediate (from the untrusted pool) -> root and returns the path', async () => {
    const r = await verifyChain(leaf.cert, opts({ hostname: 'api.example.com' }));
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.chain.map((c) => c.subject)).toEqual(['CN=api.example.com', 'CN=Test ICA', 'CN=Test Root']);
  });
  it('fails with UNKNOWN_ISSUER when the intermediate is not supplied', async () => {
    expect(await codes(leaf.cert, { intermediates: [] })).toEqual(['UNKNOWN_ISSUER']);
  });
  it('matches an IP literal against iPAddress SANs', async () => {
    expect(await codes(leaf.cert, { ip: '10.0.0.7' })).toEqual([]);
    expect(await codes(leaf.cert, { ip: '10.0.0.8' })).toEqual(['IP_MISMATCH']);
  });
});

describe('verifyChain: validity at `at` (inclusive bounds, every certificate)', () => {
  it('leaf: expired and not yet valid', async () => {
    const l = await make({ cn: 'l', issuer: ica, notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2026-02-01T00:00:00Z') });
    expect(await codes(l.cert, { at: new Date('2026-02-01T00:00:00Z') })).toEqual([]);
    expect(await codes(l.cert, { at: new Date('2026-02-01T00:00:01Z') })).toEqual(['EXPIRED']);
    expect(await codes(l.cert, { at: new Date('2025-12-31T23:59:59Z') })).toEqual(['NOT_YET_VALID']);
  });
  it('CA: an expired root and a not-yet-valid intermediate', async () => {
    const oldRoot = await make({ cn: 'Old Root', ca: true, notAfter: new Date('2026-01-01T00:00:00Z') });
    const l1 = await make({ cn: 'l1', issuer: oldRoot });
    expect(await codes(l1.cert, { roots: [oldRoot.cert] })).toEqual(['EXPIRED']);
    const future = await make({ cn: 'Future ICA', ca: true, issuer: root, notBefore: new Date('2027-01-01T00:00:00Z') });
    const l2 = await make({ cn: 'l2', issuer: future });
    const r = await verifyChain(l2.cert, opts({ intermediates: [future.cert] }));
    expect(r.failures).toMatchObject([{ code: 'NOT_YET_VALID', depth: 1, subject: 'CN=Future ICA' }]);
  });
});

describe('verifyChain: signatures and anchors', () => {
  it('rejects a chain to the wrong CA', async () => {
    const other = await make({ cn: 'Other Root', ca: true });
    expect(await codes(leaf.cert, { roots: [other.cert] })).toEqual(['UNKNOWN_ISSUER']);
  });
  it('rejects a tampered leaf signature', async () => {
    expect(await codes(tamper(leaf.cert))).toEqual(['BAD_SIGNATURE']);
  });
  it('rejects a same-named impostor CA with another key, and says so', async () => {
    const impostor = await make({ cn: 'Test ICA', ca: true, issuer: root });
    const r = await verifyChain(leaf.cert, opts({ intermediates: [impostor.cert] }));
    expect(r.failures).toMatchObject([{ code: 'UNKNOWN_ISSUER', depth: 0, message: expect.stringMatching(/CN=Test ICA is known, but not the key/) }]);
  });
  it('rejects SHA-1 signatures', async () => {
    const l = await make({ cn: 'sha1', issuer: ica, hash: 'SHA-1' });
    expect(await codes(l.cert)).toEqual(['WEAK_SIGNATURE']);
  });
  it('tries the next candidate when the first path fails (expired cross-sign, then a good one)', async () => {
    const keys = ica.keys;
    const expiredCopy = await make({ cn: 'Test ICA', ca: true, issuer: root, keys, pathLen: 0, notAfter: new Date('2026-01-01T00:00:00Z') });
    expect(await codes(leaf.cert, { intermediates: [expiredCopy.cert] })).toEqual(['EXPIRED']);
    expect(await codes(leaf.cert, { intermediates: [expiredCopy.cert, ica.cert] })).toEqual([]);
  });
  it('terminates on a loop of intermediates that sign each other', async () => {
    const aKeys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair;
    const bKeys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as CryptoKeyPair;
    const aSelf = await make({ cn: 'Loop A', ca: true, keys: aKeys });
    const bSelf = await make({ cn: 'Loop B', ca: true, keys: bKeys });
    const aByB = await make({ cn: 'Loop A', ca: true, keys: aKeys, issuer: bSelf });
    const bByA = await make({ cn: 'Loop B', ca: true, keys: bKeys, issuer: aSelf });
    const l = await make({ cn: 'looped', issuer: aByB });
    const r = await verifyChain(l.cert, opts({ intermediates: [aByB.cert, bByA.cert] }));
    expect(r.ok).toBe(false);
    expect(r.failures[0]!.code).toBe('UNKNOWN_ISSUER');
  });
});

describe('verifyChain: CA rules', () => {
  it('rejects a leaf acting as a CA (cA:FALSE issuer)', async () => {
    const notCa = await make({ cn: 'Not A CA', issuer: root, ku: KU.digitalSignature | KU.keyCertSign, ca: false });
    const l = await make({ cn: 'l', issuer: notCa });
    const c = await codes(l.cert, { intermediates: [notCa.cert] });
    expect(c).toContain('NOT_A_CA');
  });
  it('rejects a cA:FALSE issuer on basicConstraints alone (no keyUsage extension to trip over)', async () => {
    const notCa = await make({ cn: 'Not A CA, no KU', issuer: root, ca: false, ku: null, eku: null });
    const l = await make({ cn: 'l', issuer: notCa });
    const r = await verifyChain(l.cert, opts({ intermediates: [notCa.cert] }), crypto);
    expect(r.failures).toMatchObject([{ code: 'NOT_A_CA', depth: 1, message: 'issuer has basicConstraints cA:FALSE' }]);
    expect(r.failures).toHaveLength(1);
  });
  it('rejects an intermediate without basicConstraints', async () => {
    const bare = await make({ cn: 'Bare ICA', issuer: root, noBc: true, ku: KU.keyCertSign });
    const l = await make({ cn: 'l', issuer: bare });
    expect(await codes(l.cert, { intermediates: [bare.cert] })).toContain('NOT_A_CA');
  });
  it('rejects a CA whose keyUsage lacks keyCertSign', async () => {
    const noSign = await make({ cn: 'CRL-only ICA', ca: true, issuer: root, ku: KU.cRLSign });
    const l = await make({ cn: 'l', issuer: noSign });
    expect(await codes(l.cert, { intermediates: [noSign.cert] })).toContain('KEY_USAGE');
  });
  it('enforces pathLenConstraint', async () => {
    const sub = await make({ cn: 'Sub ICA', ca: true, issuer: ica });
    const l = await make({ cn: 'l', issuer: sub });
    expect(await codes(l.cert, { intermediates: [ica.cert, sub.cert] })).toEqual(['PATH_LEN_EXCEEDED']);
  });
  it('enforces --max-depth', async () => {
    expect(await codes(leaf.cert, { maxDepth: 1 })).toEqual([]);
    expect(await codes(leaf.cert, { maxDepth: 0 })).toEqual(['DEPTH_EXCEEDED']);
  });
  it('rejects an unknown critical extension, accepts it non-critical', async () => {
    const crit = await make({ cn: 'l', issuer: ica, extra: [new x509.Extension('1.3.6.1.4.1.55738.666.1', true, Uint8Array.from([5, 0]))] });
    expect(await codes(crit.cert)).toEqual(['UNKNOWN_CRITICAL_EXTENSION']);
    const soft = await make({ cn: 'l', issuer: ica, extra: [new x509.Extension('1.3.6.1.4.1.55738.666.1', false, Uint8Array.from([5, 0]))] });
    expect(await codes(soft.cert)).toEqual([]);
  });
});

describe('verifyChain: purpose and names', () => {
  it('checks the leaf EKU against the purpose', async () => {
    const client = await make({ cn: 'tenant', issuer: ica, eku: [x509.ExtendedKeyUsage.clientAuth] });
    expect(await codes(client.cert, { purpose: 'client' })).toEqual([]);
    expect(await codes(client.cert, { purpose: 'server' })).toEqual(['EKU_MISMATCH']);
    expect(await codes(client.cert, { purpose: 'any' })).toEqual([]);
  });
  it('matches the host name against SANs only, never the CN', async () => {
    expect(await codes(leaf.cert, { hostname: 'API.example.com' })).toEqual([]);
    expect(await codes(leaf.cert, { hostname: 'www.example.com' })).toEqual(['HOSTNAME_MISMATCH']);
    const cnOnly = await make({ cn: 'cn-only.example.com', issuer: ica });
    expect(await codes(cnOnly.cert, { hostname: 'cn-only.example.com' })).toEqual(['HOSTNAME_MISMATCH']);
  });
  it('checks --expect-cn', async () => {
    expect(await codes(leaf.cert, { expectCn: 'api.example.com' })).toEqual([]);
    expect(await codes(leaf.cert, { expectCn: 'other' })).toEqual(['CN_MISMATCH']);
  });
  it('enforces DNS name constraints on the leaf SANs', async () => {
    const constrained = await make({ cn: 'Constrained ICA', ca: true, issuer: root, extra: [dnsConstraints('permitted', ['example.com'])] });
    const inside = await make({ cn: 'in', issuer: constrained, sans: [{ type: 'dns', value: 'a.example.com' }], eku: [x509.ExtendedKeyUsage.serverAuth] });
    const outside = await make({ cn: 'out', issuer: constrained, sans: [{ type: 'dns', value: 'evil.example.net' }], eku: [x509.ExtendedKeyUsage.serverAuth] });
    expect(await codes(inside.cert, { intermediates: [constrained.cert] })).toEqual([]);
    expect(await codes(outside.cert, { intermediates: [constrained.cert] })).toEqual(['NAME_CONSTRAINTS']);
    const excluding = await make({ cn: 'Excluding ICA', ca: true, issuer: root, extra: [dnsConstraints('excluded', ['example.com'])] });
    const hit = await make({ cn: 'hit', issuer: excluding, sans: [{ type: 'dns', value: 'x.example.com' }], eku: [x509.ExtendedKeyUsage.serverAuth] });
    expect(await codes(hit.cert, { intermediates: [excluding.cert] })).toEqual(['NAME_CONSTRAINTS']);
  });
});

describe('verifyChain: CRLs', () => {
  it('reports REVOKED for a serial on the issuer\'s CRL, OK otherwise', async () => {
    const crlFor = async (serials: string[]) =>
      x509.X509CrlGenerator.create(
        {
          issuer: ica.cert.subject,
          thisUpdate: T0,
          nextUpdate: T1,
          entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: T0 })),
          signingKey: ica.keys.privateKey,
          signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
          extensions: [new x509.Extension('2.5.29.20', false, Uint8Array.from([2, 1, 1]))],
        },
        crypto,
      );
    expect(await codes(leaf.cert, { crls: [await crlFor([leaf.cert.serialNumber])] })).toEqual(['REVOKED']);
    expect(await codes(leaf.cert, { crls: [await crlFor(['7777'])] })).toEqual([]);
  });
});
