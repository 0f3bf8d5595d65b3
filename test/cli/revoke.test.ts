import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, issueClients, readIndex, serialOf, treeDigest, uuids } from '../store/fixture.js';

describe('pkictl revoke and pkictl crl, end to end with openssl', () => {
  let dir: string;
  let gone: string;
  let stays: string;
  let other: string;
  let oldSerial: string;

  beforeAll(async () => {
    dir = join(await tempDir('pkictl-revoke-'), 'certs');
    await initCa(dir);
    [gone, stays, other] = uuids(3) as [string, string, string];
    await issueClients(dir, [gone, stays, other]);
    oldSerial = await serialOf(clientPaths(dir, gone).cert);
    // A rotation leaves a superseded certificate that still authenticates until notAfter.
    const r = await cli(['rotate', '--dir', dir, '--tenant', gone, '--all']);
    expect(r.code, r.stderr).toBe(0);
  });

  const crlCheck = (cert: string) => openssl(['verify', '-crl_check', '-CRLfile', join(dir, 'crl.pem'), '-CAfile', join(dir, 'ca.crt'), cert]);

  it('revokes every live certificate of a tenant (current and superseded) and openssl -crl_check rejects it', async () => {
    const current = await serialOf(clientPaths(dir, gone).cert);
    const r = await cli(['revoke', '--dir', dir, '--tenant', gone, '--reason', 'cessationOfOperation', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.revoked.map((e: { serial: string }) => e.serial).sort()).toEqual([current, oldSerial].sort());
    expect(doc.crl).toMatchObject({ number: 1, revoked: 2 });

    const bad = await crlCheck(clientPaths(dir, gone).cert);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/certificate revoked/);
    const good = await crlCheck(clientPaths(dir, stays).cert);
    expect(good.code, good.stderr).toBe(0);

    const index = await readIndex(dir);
    expect(index.get(current)?.status).toBe('revoked');
    expect(index.get(oldSerial)?.status).toBe('revoked');
  });

  it('writes a v2 CRL with CRL number, AKI and reason codes that openssl crl -verify accepts', async () => {
    const v = await openssl(['crl', '-in', join(dir, 'crl.pem'), '-CAfile', join(dir, 'ca.crt'), '-noout', '-verify', '-text']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr + v.stdout).toMatch(/verify OK/);
    expect(v.stdout).toMatch(/Version 2/);
    expect(v.stdout).toMatch(/X509v3 CRL Number:\s+1/);
    expect(v.stdout).toMatch(/X509v3 Authority Key Identifier/);
    expect(v.stdout).toMatch(/Cessation Of Operation/);
  });

  it('revokes by serial with a reason, increments the CRL number, and reports an already-revoked serial', async () => {
    const serial = await serialOf(clientPaths(dir, other).cert);
    const r = await cli(['revoke', '--dir', dir, serial.toUpperCase(), '--reason', 'keyCompromise', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).crl.number).toBe(2);
    const text = await openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text']);
    expect(text.stdout).toMatch(/Key Compromise/);
    const again = await cli(['revoke', '--dir', dir, serial, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).alreadyRevoked).toEqual([serial]);
  });

  it('pkictl crl --days sets nextUpdate and bumps the number', async () => {
    const r = await cli(['crl', '--dir', dir, '--days', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout).crl;
    expect(doc.number).toBe(4);
    expect(new Date(doc.nextUpdate).getTime() - new Date(doc.thisUpdate).getTime()).toBe(2 * 86_400_000);
  });

  it('refuses unknown serials and tenants, and bad reasons, writing nothing', async () => {
    const before = await treeDigest(dir);
    for (const args of [['revoke', 'abcdef0123'], ['revoke', '--tenant', uuids(1)[0]!], ['revoke', '--tenant', stays, '--reason', 'bored'], ['revoke', 'xyz'], ['revoke']]) {
      const r = await cli([...args, '--dir', dir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
    }
    expect(await treeDigest(dir)).toBe(before);
  });

  it('does not rotate a revoked tenant back to life, even with --all', async () => {
    const before = await serialOf(clientPaths(dir, gone).cert);
    const r = await cli(['rotate', '--dir', dir, '--all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout).rotation;
    expect(doc.skipped.find((p: { tenantId?: string }) => p.tenantId === gone).why).toMatch(/revoked/);
    expect(doc.rotated.map((x: { tenantId: string }) => x.tenantId)).toEqual([stays]);
    expect(await serialOf(clientPaths(dir, gone).cert)).toBe(before);
  });
});
