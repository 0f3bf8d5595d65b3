import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, EC, initCa, issueClients, uuids } from './fixture.js';

// A revocation recorded in the index but not in crl.pem (a run killed between the two, or a failed
// CRL write) is noticed by list --check and audit, and republished by the next command holding the CA key.

const rejected = async (dir: string, tenant: string) => {
  const v = await openssl(['verify', '-crl_check', '-CAfile', join(dir, 'ca.crt'), '-CRLfile', join(dir, 'crl.pem'), join(dir, 'clients', tenant, 'client.crt')]);
  return v.code !== 0 && /revoked/.test(v.stdout + v.stderr);
};

describe('recorded but not published', () => {
  it('list --check and audit report it; the next issue rewrites crl.pem and says so; openssl then rejects the tenant', async () => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    const [first, second, later] = uuids(3) as [string, string, string];
    await issueClients(dir, [first, second]);
    expect((await cli(['revoke', '--dir', dir, '--tenant', first])).code).toBe(0);
    const before = await readFile(join(dir, 'crl.pem'));
    expect((await cli(['revoke', '--dir', dir, '--tenant', second])).code).toBe(0);
    await writeFile(join(dir, 'crl.pem'), before); // as if killed between the index commit and the CRL write
    expect(await rejected(dir, second)).toBe(false);

    const list = await cli(['list', '--dir', dir, '--check']);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/crl\.pem lacks 1 revocation\(s\) recorded in the index .*run pkictl crl/);
    const audit = await cli(['audit', '--dir', dir]);
    expect(audit.code).toBe(1);
    expect(audit.stdout + audit.stderr).toMatch(/crl\.pem: CRL_UNPUBLISHED: lacks 1 revocation/);

    const issue = await cli(['issue', 'client', '--dir', dir, ...EC, later]);
    expect(issue.code, issue.stderr).toBe(0);
    expect(issue.stderr).toMatch(/crl\.pem lacked 1 revocation\(s\) recorded in the index \(an interrupted revoke\): rewritten as CRL number 3/);
    expect(await rejected(dir, second)).toBe(true);
    expect(await rejected(dir, first)).toBe(true);
    expect((await cli(['list', '--dir', dir, '--check'])).stderr).not.toMatch(/lacks/);
  });

  it('a CRL that cannot be written after a revocation: one line saying the revocation is recorded and to run pkictl crl', async () => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    const [tenant] = uuids(1) as [string];
    await issueClients(dir, [tenant]);
    await mkdir(join(dir, 'crl.pem')); // the CRL's rename fails
    const r = await cli(['revoke', '--dir', dir, '--tenant', tenant]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: revocation of 1 certificate\(s\) recorded, CRL not written \(.+\): run pkictl crl$/);
    await rm(join(dir, 'crl.pem'), { recursive: true });
    expect((await cli(['crl', '--dir', dir])).code).toBe(0);
    expect(await rejected(dir, tenant)).toBe(true);
  });
});
