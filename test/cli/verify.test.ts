import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliTree, runCli } from '../helpers/run-cli.js';
import { expectInputError } from '../helpers/expect-cli.js';

const ec = ['--key', 'ec-p256'];
const A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const B = '0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11';


describe('pkictl verify', () => {
  let base: string;
  let dir: string;
  let server: string;
  const client = (id: string) => join(dir, 'clients', id, 'client.crt');

  beforeAll(async () => {
    ({ base, dir, server } = await cliTree([A, B]));
  });

  it('prints "<file>: OK" per file and exits 0 (many files, one process, default --ca <dir>/ca.crt)', async () => {
    const r = await runCli(['verify', '--dir', dir, '--purpose', 'client', client(A), client(B)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${client(A)}: OK\n${client(B)}: OK\n`);
    expect(r.stderr).toBe('');
  });

  it('checks the purpose and the host name: FAILED line with code, depth and subject, exit 1', async () => {
    const wrongPurpose = await runCli(['verify', '--dir', dir, '--purpose', 'client', server]);
    expect(wrongPurpose.code).toBe(1);
    expect(wrongPurpose.stdout).toMatch(new RegExp(`^${server}: FAILED: EKU_MISMATCH: .*\\(depth 0, subject .*CN=gateway\\.luzzi\\.com\\)\\n$`));
    const ok = await runCli(['verify', '--dir', dir, '--purpose', 'server', '--hostname', 'gateway.luzzi.com', '--ip', '127.0.0.1', server]);
    expect(ok.code, ok.stdout).toBe(0);
    const wrongHost = await runCli(['verify', '--dir', dir, '--purpose', 'server', '--hostname', 'evil.example.com', server]);
    expect(wrongHost.code).toBe(1);
    expect(wrongHost.stdout).toContain('FAILED: HOSTNAME_MISMATCH');
  });

  it('mixes OK and FAILED lines and exits 1 when any file fails; --at in the future expires them', async () => {
    const mixed = await runCli(['verify', '--dir', dir, '--purpose', 'client', client(A), server]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout.split('\n')[0]).toBe(`${client(A)}: OK`);
    expect(mixed.stdout.split('\n')[1]).toMatch(/FAILED: EKU_MISMATCH/);
    const late = await runCli(['verify', '--dir', dir, '--at', '2099-01-01T00:00:00Z', client(A)]);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/FAILED: EXPIRED: .*\(depth 0/);
  });

  it('--expect-cn checks the tenant id', async () => {
    expect((await runCli(['verify', '--dir', dir, '--expect-cn', A, client(A)])).code).toBe(0);
    const r = await runCli(['verify', '--dir', dir, '--expect-cn', B, client(A)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED: CN_MISMATCH');
  });

  it('rejects a chain to another CA (--ca)', async () => {
    const other = join(base, 'other');
    expect((await runCli(['init', '--dir', other, ...ec])).code).toBe(0);
    const r = await runCli(['verify', '--ca', join(other, 'ca.crt'), client(A)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: UNKNOWN_ISSUER: a CA named .*CN=Luzzi Root CA is known, but not the key/);
  });

  it('--json: one document with schemaVersion, per-file ok, chain subjects/serials and failure codes', async () => {
    const r = await runCli(['verify', '--dir', dir, '--purpose', 'client', '--json', client(A), server]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, ok: false });
    expect(doc.files).toHaveLength(2);
    expect(doc.files[0]).toMatchObject({ file: client(A), ok: true, purpose: 'client', failures: [] });
    expect(doc.files[0].chain.map((c: { subject: string }) => c.subject)).toEqual([expect.stringContaining(`CN=${A}`), expect.stringContaining('CN=Luzzi Root CA')]);
    expect(doc.files[0].chain[0].serial).toMatch(/^[0-9a-f]{40}$/);
    expect(doc.files[1]).toMatchObject({ ok: false, failures: [{ code: 'EKU_MISMATCH', depth: 0 }] });
    expect(typeof doc.files[1].failures[0].message).toBe('string');
  });

  it('--all verifies server.crt as server and each clients/<id>/client.crt as client with CN == <id>', async () => {
    const good = await runCli(['verify', '--all', '--dir', dir]);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout.trim().split('\n')).toHaveLength(3);
    expect(good.stdout).toMatch(/server\.crt: OK/);
    // plant tenant A's certificate under another tenant's directory
    const { dir: tree } = await cliTree([A]);
    await mkdir(join(tree, 'clients', B), { recursive: true });
    await copyFile(join(tree, 'clients', A, 'client.crt'), join(tree, 'clients', B, 'client.crt'));
    const bad = await runCli(['verify', '--all', '--dir', tree]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`clients/${B}/client.crt: FAILED: CN_MISMATCH`));
    expect(bad.stdout).toMatch(new RegExp(`clients/${A}/client.crt: OK`));
  });

  it('--crl reports REVOKED; --all uses the tree\'s own crl.pem', async () => {
    const { dir: tree } = await cliTree([A, B]);
    const before = await runCli(['verify', '--all', '--dir', tree]);
    expect(before.code, before.stdout).toBe(0);
    const revoke = await runCli(['revoke', '--dir', tree, '--tenant', A]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const explicit = await runCli(['verify', '--dir', tree, '--crl', join(tree, 'crl.pem'), join(tree, 'clients', A, 'client.crt'), join(tree, 'clients', B, 'client.crt')]);
    expect(explicit.code).toBe(1);
    expect(explicit.stdout).toMatch(new RegExp(`clients/${A}/client.crt: FAILED: REVOKED: .*\\(depth 0`));
    expect(explicit.stdout).toMatch(new RegExp(`clients/${B}/client.crt: OK`));
    const all = await runCli(['verify', '--all', '--dir', tree]);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(new RegExp(`clients/${A}/client.crt: FAILED: REVOKED`));
    expect(all.stderr).toMatch(/revocation checked against .*crl\.pem/);
  });

  it('bad input is one line on stderr, exit 2: private key, missing file, empty file, junk, bad flags', async () => {
    expectInputError(await runCli(['verify', '--dir', dir, join(dir, 'ca.key')]), /ca\.key: this is a private key/);
    expectInputError(await runCli(['verify', '--dir', dir, join(base, 'nope.crt')]), /nope\.crt: no such file/);
    await writeFile(join(base, 'empty.crt'), '');
    expectInputError(await runCli(['verify', '--dir', dir, join(base, 'empty.crt')]), /empty\.crt: the file is empty/);
    await writeFile(join(base, 'junk.crt'), 'hello\x00world');
    expectInputError(await runCli(['verify', '--dir', dir, join(base, 'junk.crt')]), /junk\.crt: not a certificate/);
    expectInputError(await runCli(['verify', '--dir', dir, '--ca', join(base, 'junk.crt'), client(A)]), /junk\.crt/);
    expectInputError(await runCli(['verify', '--dir', dir, '--at', 'yesterday', client(A)]), /--at/);
    expectInputError(await runCli(['verify', '--dir', dir, '--purpose', 'both', client(A)]), /--purpose/);
    expectInputError(await runCli(['verify', '--dir', dir]), /certificate file/);
  });
});
