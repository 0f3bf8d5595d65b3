import { appendFile, readFile, readlink, readdir, rm, symlink, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, initCa, issueClients, serialOf, uuids } from './fixture.js';

// `pkictl audit` compares the issuance index with what the tree deploys.

describe('audit: the index against the tree', () => {
  it('a deleted tenant directory is MISSING_TENANT; a deployed certificate the index calls superseded is INDEX_MISMATCH', async () => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    const [gone, rolledBack, fine] = uuids(3) as [string, string, string];
    await issueClients(dir, [gone, rolledBack, fine]);
    expect((await cli(['rotate', '--dir', dir, '--all', '--tenant', rolledBack])).code).toBe(0);
    // Point the rotated tenant back at its first version by hand.
    const base = join(dir, 'clients', rolledBack);
    const current = await readlink(join(base, 'current'));
    const old = (await readdir(join(base, 'versions'))).find((v) => `versions/${v}` !== current)!;
    await symlink(`versions/${old}`, join(base, '.current.tmp'));
    await rename(join(base, '.current.tmp'), join(base, 'current'));
    await rm(join(dir, 'clients', gone), { recursive: true });
    const r = await cli(['audit', '--dir', dir, '--json']);
    expect(r.code).toBe(1);
    const findings = (JSON.parse(r.stdout) as { findings: Array<{ code: string; path: string; message: string }> }).findings;
    expect(findings.filter((f) => f.code === 'MISSING_TENANT')).toEqual([expect.objectContaining({ path: `clients/${gone}`, message: expect.stringMatching(/issue client \S+ --force.*pkictl offboard/) })]);
    const mismatch = findings.filter((f) => f.code === 'INDEX_MISMATCH').map((f) => [f.path, f.message]);
    const deployed = await serialOf(join(base, 'client.crt'));
    expect(mismatch).toEqual(expect.arrayContaining([
      [`clients/${rolledBack}/client.crt`, expect.stringContaining(`serial ${deployed} is deployed, but the index records it as superseded`)],
      [`clients/${rolledBack}/client.crt`, expect.stringMatching(new RegExp(`the index lists serial [0-9a-f]+ as valid, but serial ${deployed} is deployed`))],
    ]));
    expect(findings.some((f) => f.path.includes(fine))).toBe(false);
  });

  it('a pending record left by a killed run is a PENDING warning; the next locked command settles it with an audit line', async () => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    const [tenant] = uuids(1) as [string];
    const entry = { serial: '7f'.repeat(20), kind: 'client', tenantId: tenant, cn: tenant, subject: `CN=${tenant}`, notBefore: '2026-12-01T00:00:00.000Z', notAfter: '2027-03-01T00:00:00.000Z', sha256: '00'.repeat(32), status: 'valid', issuedAt: '2026-12-01T00:00:00.000Z', path: `clients/${tenant}/client.crt` };
    await appendFile(join(dir, 'index.jsonl'), JSON.stringify({ time: '2026-12-01T00:00:00.000Z', intend: [{ entry, action: 'issue' }], audit: [] }) + '\n');
    const audit = await cli(['audit', '--dir', dir]);
    expect(audit.stdout + audit.stderr).toMatch(new RegExp(`clients/${tenant}/client.crt: PENDING: serial ${entry.serial} was being installed by a run that did not finish`));
    expect((await cli(['crl', '--dir', dir])).code).toBe(0);
    const last = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(last.find((l) => l.serial === entry.serial)).toMatchObject({ action: 'issue', result: 'failed', tenant, detail: { reconciled: 'by the next run after an interruption', error: 'interrupted before its files were in place' } });
    expect((await cli(['audit-log', 'verify', '--dir', dir])).code).toBe(0);
    const again = await cli(['audit', '--dir', dir]);
    expect(again.stdout + again.stderr).not.toMatch(/PENDING/);
  });
});
