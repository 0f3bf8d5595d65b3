import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, EC, initCa, issueClients, treeDigest, uuids } from './fixture.js';

// A lost, emptied or stale index must not silently undo revocations: writers refuse, and a new CRL
// never lowers its number nor drops a serial the published one lists.

/** A CA with two tenants, the first revoked (crl.pem #1 lists it). */
async function revokedTree(): Promise<{ dir: string; revoked: string; kept: string }> {
  const dir = join(await tempDir(), 'certs');
  await initCa(dir);
  const [revoked, kept] = uuids(2) as [string, string];
  await issueClients(dir, [revoked, kept]);
  const r = await cli(['revoke', '--dir', dir, '--tenant', revoked, '--reason', 'keyCompromise']);
  expect(r.code, r.stderr).toBe(0);
  return { dir, revoked, kept };
}

const crlText = async (dir: string) => (await openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text'])).stdout;

describe('a lost or emptied index', () => {
  for (const loss of ['emptied', 'deleted', 'restored from before the revocation'] as const) {
    it(`${loss}: crl, rotate, issue (new or --force) and revoke refuse with one line and change nothing; the revoked tenant stays rejected`, async () => {
      const { dir, revoked, kept } = await revokedTree();
      const index = join(dir, 'index.jsonl');
      const lines = (await readFile(index, 'utf8')).split('\n');
      if (loss === 'emptied') await writeFile(index, '');
      if (loss === 'deleted') await rm(index);
      if (loss === 'restored from before the revocation') await writeFile(index, lines.filter((l) => !l.includes('"revoked"') && !l.includes('crlNumber')).join('\n'));
      const before = await treeDigest(dir);
      for (const args of [['crl'], ['rotate', '--all'], ['issue', 'client', ...EC, ...uuids(1)], ['issue', 'client', ...EC, '--force', revoked], ['revoke', '--tenant', kept]]) {
        const r = await cli([...args, '--dir', dir]);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr.trim().split('\n')[0]).toMatch(/index\.jsonl (is missing or empty|records \d+ audit event\(s\) of the log's \d+), but this CA has a history .*nothing was written/);
        expect(r.stderr).toMatch(/restore index\.jsonl from a backup/);
      }
      expect(await treeDigest(dir)).toBe(before);
      const v = await openssl(['verify', '-crl_check', '-CAfile', join(dir, 'ca.crt'), '-CRLfile', join(dir, 'crl.pem'), join(dir, 'clients', revoked, 'client.crt')]);
      expect(v.code).not.toBe(0);
      expect(v.stdout + v.stderr).toMatch(/revoked/);
    });
  }

  it('a CRL never drops a serial the published one lists, nor lowers its number (index and log both lost their revocation)', async () => {
    const { dir } = await revokedTree();
    expect((await cli(['crl', '--dir', dir])).code).toBe(0); // CRL #2
    const index = join(dir, 'index.jsonl');
    const lines = (await readFile(index, 'utf8')).split('\n');
    // An index without the revocation and the CRL numbers, and no audit log to show it.
    await writeFile(index, lines.filter((l) => !l.includes('"revoked"') && !l.includes('crlNumber')).join('\n'));
    await rm(join(dir, 'audit.log'));
    const published = await readFile(join(dir, 'crl.pem'), 'utf8');
    const r = await cli(['crl', '--dir', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/crl\.pem lists 1 revoked serial\(s\) that the index does not .*nothing was written/);
    expect(await readFile(join(dir, 'crl.pem'), 'utf8')).toBe(published);
  });

  it('a CRL number never goes down when the index forgot the numbers', async () => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    for (let i = 0; i < 3; i++) expect((await cli(['crl', '--dir', dir])).code).toBe(0);
    expect(await crlText(dir)).toMatch(/X509v3 CRL Number: \s*3\b/);
    const index = join(dir, 'index.jsonl');
    await writeFile(index, (await readFile(index, 'utf8')).split('\n').filter((l) => !l.includes('crlNumber')).join('\n'));
    await rm(join(dir, 'audit.log'));
    expect((await cli(['crl', '--dir', dir])).code).toBe(0);
    expect(await crlText(dir)).toMatch(/X509v3 CRL Number: \s*4\b/);
  });
});
