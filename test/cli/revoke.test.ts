import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, issueClients, readIndex, serialOf, treeDigest, uuids } from '../store/fixture.js';

/** openssl's names of the RFC 5280 §5.3.1 reason codes pkictl writes. */
const REASON_NAMES: Record<string, string> = {
  'Key Compromise': 'keyCompromise',
  'CA Compromise': 'cACompromise',
  'Affiliation Changed': 'affiliationChanged',
  Superseded: 'superseded',
  'Cessation Of Operation': 'cessationOfOperation',
  'Privilege Withdrawn': 'privilegeWithdrawn',
};

/** crl.pem as openssl reads it: serial (lowercase hex) → reason; no reason code = unspecified (§5.3.1). */
async function crlEntries(dir: string): Promise<Record<string, string>> {
  const r = await openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text']);
  expect(r.code, r.stderr).toBe(0);
  const entries: Record<string, string> = {};
  for (const block of r.stdout.split(/^\s*Serial Number: /m).slice(1)) {
    const reason = /CRL Reason Code:\s*\n\s*(.+)/.exec(block)?.[1]?.trim();
    entries[block.split('\n')[0]!.trim().toLowerCase()] = reason === undefined ? 'unspecified' : (REASON_NAMES[reason] ?? `unknown: ${reason}`);
  }
  return entries;
}

/** The index's revoked certificates: serial → reason. */
async function indexRevoked(dir: string): Promise<Record<string, string>> {
  const revoked = [...(await readIndex(dir))].filter(([, e]) => e.status === 'revoked');
  return Object.fromEntries(revoked.map(([serial, e]) => [serial, e.reason ?? 'unspecified']));
}

describe('pkictl revoke and pkictl crl, end to end with openssl', () => {
  let dir: string;
  let gone: string;
  let stays: string;
  let other: string;
  let oldSerial: string;
  let staysFirst: string;

  /** The CRL lists exactly the index's revoked serials, each with the reason the index records. */
  async function expectCrlMatchesIndex(): Promise<Record<string, string>> {
    const crl = await crlEntries(dir);
    expect(crl).toEqual(await indexRevoked(dir));
    return crl;
  }

  beforeAll(async () => {
    dir = join(await tempDir('pkictl-revoke-'), 'certs');
    await initCa(dir);
    [gone, stays, other] = uuids(3) as [string, string, string];
    await issueClients(dir, [gone, stays, other]);
    oldSerial = await serialOf(clientPaths(dir, gone).cert);
    staysFirst = await serialOf(clientPaths(dir, stays).cert);
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
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toMatch(/certificate revoked/);
    const good = await crlCheck(clientPaths(dir, stays).cert);
    expect(good.code, good.stderr).toBe(0);

    const index = await readIndex(dir);
    expect(index.get(current)?.status).toBe('revoked');
    expect(index.get(oldSerial)?.status).toBe('revoked');
    expect(await expectCrlMatchesIndex()).toEqual({ [current]: 'cessationOfOperation', [oldSerial]: 'cessationOfOperation' });
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
    expect((await expectCrlMatchesIndex())[serial]).toBe('keyCompromise');
    const again = await cli(['revoke', '--dir', dir, serial, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).alreadyRevoked).toEqual([serial]);
    expect(JSON.parse(again.stdout).crl).toBeUndefined(); // nothing changed: no new CRL (issue 13, item 12)
  });

  it('pkictl crl --days sets nextUpdate and bumps the number', async () => {
    const r = await cli(['crl', '--dir', dir, '--days', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout).crl;
    expect(doc.number).toBe(3); // the no-op revoke above wrote no CRL
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

  it('keeps the CRL equal to the index through revocations of superseded and current certificates, each with its reason', async () => {
    // stays was rotated above: its first certificate is superseded and still live until notAfter.
    const superseded = await cli(['revoke', '--dir', dir, staysFirst, '--reason', 'superseded']);
    expect(superseded.code, superseded.stderr).toBe(0);
    const [late] = uuids(1) as [string];
    await issueClients(dir, [late]);
    const serials = [await serialOf(clientPaths(dir, late).cert)];
    for (let i = 0; i < 2; i++) {
      const r = await cli(['rotate', '--dir', dir, '--tenant', late, '--all']);
      expect(r.code, r.stderr).toBe(0);
      serials.push(await serialOf(clientPaths(dir, late).cert));
    }
    const [first, second, current] = serials as [string, string, string];
    for (const [serial, reason] of [[second, 'affiliationChanged'], [first, 'privilegeWithdrawn']]) {
      const r = await cli(['revoke', '--dir', dir, serial!, '--reason', reason!]);
      expect(r.code, r.stderr).toBe(0);
      expect((await expectCrlMatchesIndex())[serial!]).toBe(reason);
    }
    const rest = await cli(['revoke', '--dir', dir, '--tenant', late]); // what is left live: the current one, default reason
    expect(rest.code, rest.stderr).toBe(0);
    const crl = await expectCrlMatchesIndex();
    expect(crl).toMatchObject({ [staysFirst]: 'superseded', [first]: 'privilegeWithdrawn', [second]: 'affiliationChanged', [current]: 'unspecified' });
    expect(Object.keys(crl)).toHaveLength(7);
    expect(crl).not.toHaveProperty(await serialOf(clientPaths(dir, stays).cert));
  });
});
