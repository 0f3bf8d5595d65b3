import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { BIN, runCli, runProcess } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, EC, initCa, issueClients, serialOf, treeDigest, uuids } from '../store/fixture.js';

// Issue 13, "green when it should be red": gates that must not pass on a broken tree.

/**
 * Issue 13 item 1: the log and the index are checked against what the tree proves was issued, so a
 * gate cannot pass on a tree whose records were deleted or replaced by older copies.
 */
describe('pkictl audit-log verify: the log and the index against the tree', () => {
  let root: string;
  let pristine: string;
  let older: string;

  beforeAll(async () => {
    root = await tempDir('pkictl-audit-tree-');
    pristine = join(root, 'pristine');
    await initCa(pristine);
    expect((await cli(['issue', 'server', '--dir', pristine, ...EC])).code).toBe(0);
    await writeFile(join(root, 'tenants.txt'), uuids(30).join('\n') + '\n');
    await issueClients(pristine, [], ['--from', join(root, 'tenants.txt')]);
    // The records as they were before the last issuance and a rotation: an older backup.
    older = join(root, 'older');
    await cp(pristine, older, { recursive: true, verbatimSymlinks: true });
    await issueClients(pristine, uuids(2));
    expect((await cli(['rotate', '--dir', pristine, '--all', '--include-server'])).code).toBe(0);
    expect((await cli(['audit-log', 'verify', '--dir', pristine])).code).toBe(0);
  });

  let n = 0;
  async function copyWithout(...names: string[]): Promise<string> {
    const dir = join(root, `t${n++}`);
    await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
    for (const name of names) await rm(join(dir, name));
    return dir;
  }

  it('exits 1 when audit.log and index.jsonl are both gone while the certificates remain', async () => {
    const r = await cli(['audit-log', 'verify', '--dir', await copyWithout('audit.log', 'index.jsonl'), '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).auditLog).toMatchObject({ ok: false, lines: 0, problem: { message: expect.stringMatching(/index\.jsonl is missing or empty, but this CA has a history \(the tree holds \d+ certificate\(s\)\)/) } });
  });

  it('exits 1 when only one of them is gone', async () => {
    const noLog = await cli(['audit-log', 'verify', '--dir', await copyWithout('audit.log')]);
    expect(noLog.code, noLog.stderr).toBe(1);
    expect(noLog.stderr).toMatch(/audit\.log: line 1: the file is missing, but the index records \d+ lines/);
    const noIndex = await cli(['audit-log', 'verify', '--dir', await copyWithout('index.jsonl')]);
    expect(noIndex.code, noIndex.stderr).toBe(1);
    expect(noIndex.stderr).toMatch(/index\.jsonl is missing or empty, but this CA has a history \(audit\.log records \d+ event\(s\), the tree holds \d+ certificate\(s\)\)/);
  });

  it('exits 1 when both were replaced by older copies (a consistent pair that is shorter than the tree)', async () => {
    const dir = await copyWithout();
    for (const name of ['audit.log', 'index.jsonl']) await cp(join(older, name), join(dir, name));
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/index\.jsonl does not record \d+ certificate\(s\) the tree deploys \(e\.g\. .*(server|client)\.crt, serial [0-9a-f]+\)/);
  });

  it('exits 1 when crl.pem revokes what the index does not', async () => {
    const dir = await copyWithout();
    const [tenant] = (await readdir(join(dir, 'clients'))).sort();
    expect((await cli(['revoke', '--dir', dir, '--tenant', tenant!])).code).toBe(0);
    const before = join(root, `t${n++}`);
    await cp(pristine, before, { recursive: true, verbatimSymlinks: true });
    await cp(join(dir, 'crl.pem'), join(before, 'crl.pem'));
    const r = await cli(['audit-log', 'verify', '--dir', before]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/does not record \d+ revocation\(s\) crl\.pem publishes/);
  });

  it('exits 2 "no CA in …" without a CA, like every other command (rotate --dry-run too)', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    for (const dir of [empty, join(root, 'nonexistent')]) {
      for (const command of [['audit-log', 'verify'], ['list'], ['issue', 'server'], ['rotate'], ['rotate', '--dry-run'], ['verify', '--all']]) {
        const r = await cli([...command, '--dir', dir]);
        expect(r.code, `${command.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/^error: no CA in \S+ \(\S+(ca\.crt not found|: no such directory)\)\nhint: create one with: pkictl init --dir \S+ \(or pass --dir with an existing certs\/ tree\)\n$/);
      }
    }
  });
});

/** Issue 13 item 2: a tenant directory deleted while the index lists it valid is red everywhere. */
describe('MISSING_TENANT in audit, list --check, verify --all and rotate', () => {
  let root: string;
  let pristine: string;
  let gone: string;
  let kept: string[];
  let goneSerial: string;

  beforeAll(async () => {
    root = await tempDir('pkictl-missing-');
    pristine = join(root, 'pristine');
    await initCa(pristine);
    expect((await cli(['issue', 'server', '--dir', pristine, ...EC])).code).toBe(0);
    const ids = uuids(3).sort();
    [gone, ...kept] = ids as [string, ...string[]];
    await issueClients(pristine, ids);
    goneSerial = await serialOf(clientPaths(pristine, gone).cert);
    await rm(join(pristine, 'clients', gone), { recursive: true });
  });

  let n = 0;
  async function copy(): Promise<string> {
    const dir = join(root, `t${n++}`);
    await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
    return dir;
  }
  const hint = () => new RegExp(`directory is gone; re-issue it \\(pkictl issue client ${gone} --force\\) or offboard it \\(pkictl offboard ${gone}\\)`);

  it('audit, list --check and verify --all exit 1 with the same code and hint', async () => {
    const audit = await cli(['audit', '--dir', pristine, '--json']);
    expect(audit.code, audit.stderr).toBe(1);
    expect(JSON.parse(audit.stdout).findings).toContainEqual(expect.objectContaining({ code: 'MISSING_TENANT', path: `clients/${gone}`, message: expect.stringMatching(hint()) }));

    const list = await cli(['list', '--dir', pristine, '--check', '--json']);
    expect(list.code, list.stderr).toBe(1);
    const rows = JSON.parse(list.stdout).certificates as Array<{ tenantId: string; serial: string; status: string; problems: string[] }>;
    expect(rows.find((r) => r.tenantId === gone)).toMatchObject({ serial: goneSerial, status: 'invalid', problems: [expect.stringMatching(new RegExp(`^MISSING_TENANT: .*${hint().source}`))] });
    const listText = await cli(['list', '--dir', pristine, '--check']);
    expect(listText.code).toBe(1);
    expect(listText.stdout).toMatch(new RegExp(`${gone} .*invalid: MISSING_TENANT: `));

    const verify = await cli(['verify', '--all', '--dir', pristine, '--json']);
    expect(verify.code, verify.stderr).toBe(1);
    const files = JSON.parse(verify.stdout).files as Array<{ file: string; ok: boolean; failures: Array<{ code: string; message: string }> }>;
    expect(files.filter((f) => !f.ok)).toEqual([expect.objectContaining({ file: expect.stringMatching(new RegExp(`clients/${gone}/client\\.crt$`)), failures: [{ code: 'MISSING_TENANT', message: expect.stringMatching(hint()) }] })]);
    const verifyText = await cli(['verify', '--all', '--dir', pristine]);
    expect(verifyText.code).toBe(1);
    expect(verifyText.stdout).toMatch(new RegExp(`clients/${gone}/client\\.crt: FAILED: MISSING_TENANT: `));
  });

  it('rotate and rotate --dry-run report it and exit 1; the other tenants are rotated', async () => {
    const dir = await copy();
    const dry = await cli(['rotate', '--dir', dir, '--dry-run', '--all', '--json']);
    expect(dry.code, dry.stderr).toBe(1);
    expect(JSON.parse(dry.stdout).rotation.failed).toEqual([{ kind: 'client', tenantId: gone, serial: goneSerial, error: expect.stringMatching(hint()) }]);
    const real = await cli(['rotate', '--dir', dir, '--all']);
    expect(real.code, real.stderr).toBe(1);
    expect(real.stderr).toMatch(new RegExp(`✗ ${gone}: the index lists serial ${goneSerial}`));
    expect(real.stderr).toMatch(/rotated 2, skipped 0, failed 1/);
  });

  it('either way out of the hint clears it', async () => {
    const reissued = await copy();
    await issueClients(reissued, [gone], ['--force']);
    const offboarded = await copy();
    expect((await cli(['offboard', '--dir', offboarded, gone])).code).toBe(0);
    for (const dir of [reissued, offboarded]) {
      const list = await cli(['list', '--dir', dir, '--check']);
      expect(list.code, list.stdout + list.stderr).toBe(0);
      expect((await cli(['verify', '--all', '--dir', dir])).code).toBe(0);
      expect((await cli(['rotate', '--dir', dir, '--dry-run'])).code).toBe(0);
    }
  });
});

/** Issue 13 item 4: `verify FILE` against the tree's CA uses the tree's crl.pem. */
describe('verify FILE and <dir>/crl.pem', () => {
  let base: string;
  let revoked: string;
  let fine: string;
  let foreign: string;

  beforeAll(async () => {
    base = await tempDir('pkictl-verify-crl-');
    const dir = join(base, 'certs');
    await initCa(dir);
    [revoked, fine] = uuids(2).sort() as [string, string];
    await issueClients(dir, [revoked, fine]);
    expect((await cli(['revoke', '--dir', dir, '--tenant', revoked, '--reason', 'keyCompromise'])).code).toBe(0);
    // Another CA's client, checked with --ca while certs/crl.pem is there.
    const other = join(base, 'other');
    await initCa(other);
    [foreign] = uuids(1) as [string];
    await issueClients(other, [foreign]);
  });

  /** The README's per-tenant CI gate, run where certs/ is (the default --dir). */
  const gate = (tenant: string, ...extra: string[]) =>
    runCli(['verify', '--purpose', 'client', '--expect-cn', tenant, `certs/clients/${tenant}/client.crt`, ...extra], { cwd: base });

  it('fails a revoked tenant (exit 1) and says the CRL was checked', async () => {
    const r = await gate(revoked);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^certs/clients/${revoked}/client\\.crt: FAILED: REVOKED: `));
    expect(r.stderr).toMatch(/revocation checked against certs\/crl\.pem/);
    const json = await gate(revoked, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).files[0]).toMatchObject({ ok: false, revocationChecked: true, crl: 'certs/crl.pem', failures: [expect.objectContaining({ code: 'REVOKED' })] });
  });

  it('passes a tenant that is not revoked, with revocationChecked: true', async () => {
    const r = await gate(fine, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ ok: true, revocationChecked: true, crl: 'certs/crl.pem' });
  });

  it('still verifies a foreign certificate with --ca (the tree\'s CRL does not apply: revocationChecked false)', async () => {
    const r = await runCli(['verify', '--ca', 'other/ca.crt', '--purpose', 'client', `other/clients/${foreign}/client.crt`, '--json'], { cwd: base });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ ok: true, revocationChecked: false });
    expect(JSON.parse(r.stdout).files[0].crl).toBeUndefined();
    // Against the tree's CA with the tree's CRL in force, the foreign certificate fails on its chain, not on the CRL.
    const mixed = await runCli(['verify', `other/clients/${foreign}/client.crt`, '--json'], { cwd: base });
    expect(mixed.code).toBe(1);
    expect(JSON.parse(mixed.stdout).files[0]).toMatchObject({ ok: false, revocationChecked: false });
  });

  it('a tree without crl.pem: verified, revocationChecked false', async () => {
    const r = await runCli(['verify', '--dir', 'other', '--purpose', 'client', `other/clients/${foreign}/client.crt`, '--json'], { cwd: base });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ ok: true, revocationChecked: false });
  });
});

/** Issue 13 item 6: near and after the CA's end. */
describe('near and after the CA\'s end', () => {
  const DAY = 86_400_000;
  let base: string;

  beforeAll(async () => {
    base = await tempDir('pkictl-ca-end-');
  });

  /** The CLI with the clock `offset` ahead (libfaketime). */
  const later = (offset: string, args: string[]) => runProcess('faketime', ['-f', offset, process.execPath, BIN, ...args], { env: { ...process.env, NO_COLOR: '1', PKICTL_CA_PASSPHRASE: undefined } });
  const caNotAfter = async (dir: string) => new Date((await openssl(['x509', '-in', join(dir, 'ca.crt'), '-noout', '-enddate'])).stdout.trim().replace(/^notAfter=/, ''));
  const replacementHint = /\nhint: renew the issuing intermediate with pkictl intermediate renew .*or replace the root in phases: pkictl ca rollover begin, then switch, then finish/;

  it('warns (stderr and a warning field) whenever a leaf is cut short by the CA: issue client, issue server, rotate', async () => {
    const dir = join(base, 'short');
    expect((await cli(['init', '--dir', dir, ...EC, '--days', '30'])).code).toBe(0);
    const end = (await caNotAfter(dir)).toISOString();
    const [tenant, full] = uuids(2) as [string, string];
    const cut = new RegExp(`^valid 30 days, not 90: the CA expires on ${end.replace(/\./g, '\\.')}$`);

    const client = await cli(['issue', 'client', '--dir', dir, ...EC, '--days', '90', tenant, '--json']);
    expect(client.code, client.stderr).toBe(0);
    expect(JSON.parse(client.stdout).issued[0]).toMatchObject({ tenantId: tenant, notAfter: end, warning: expect.stringMatching(cut) });
    expect(client.stderr).toMatch(new RegExp(`^warning: tenant ${tenant}: valid 30 days, not 90: the CA expires on `));
    expect(client.stderr).toMatch(replacementHint);

    const server = await cli(['issue', 'server', '--dir', dir, ...EC, '--json']);
    expect(server.code, server.stderr).toBe(0);
    expect(JSON.parse(server.stdout).issued[0]).toMatchObject({ kind: 'server', warning: expect.stringMatching(/^valid 30 days, not 365: /) });
    expect(server.stderr).toMatch(/^warning: server: valid 30 days, not 365: /);

    const rotate = await cli(['rotate', '--dir', dir, '--all', '--tenant', tenant, '--json']);
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(JSON.parse(rotate.stdout).rotation.rotated[0]).toMatchObject({ tenantId: tenant, warning: expect.stringMatching(/^valid 30 days, not 90: /) });
    expect(rotate.stderr).toMatch(new RegExp(`warning: tenant ${tenant}: valid 30 days, not 90: `));

    // A leaf that fits inside the CA's life: no warning.
    const fits = await cli(['issue', 'client', '--dir', dir, ...EC, '--days', '10', full, '--json']);
    expect(fits.code).toBe(0);
    expect(JSON.parse(fits.stdout).issued[0].warning).toBeUndefined();
    expect(fits.stderr).not.toMatch(/warning/);
  });

  it('refuses (exit 1) to sign anything with an expired CA, CRLs included, writing nothing; the hint names the way out', async () => {
    const dir = join(base, 'expired');
    expect((await cli(['init', '--dir', dir, ...EC, '--days', '2'])).code).toBe(0);
    expect((await cli(['issue', 'server', '--dir', dir, ...EC])).code).toBe(0);
    const [tenant, next] = uuids(2) as [string, string];
    await issueClients(dir, [tenant]);
    expect((await cli(['crl', '--dir', dir])).code).toBe(0);
    const before = await treeDigest(dir);
    for (const args of [['crl'], ['revoke', '--tenant', tenant], ['issue', 'client', ...EC, next], ['issue', 'server', ...EC, '--force'], ['rotate', '--all']]) {
      const r = await later('+3d', [...args, '--dir', dir]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^error: the CA certificate expired on \S+; nothing was signed/);
      expect(r.stderr).toMatch(replacementHint);
      expect(r.stderr).not.toMatch(/create a new CA with pkictl init/);
    }
    expect(await treeDigest(dir)).toBe(before);
    // The day before, the same CA still signs.
    expect((await later('+1d', ['crl', '--dir', dir])).code).toBe(0);
    expect((await caNotAfter(dir)).getTime()).toBeLessThan(Date.now() + 3 * DAY);
  });
});
