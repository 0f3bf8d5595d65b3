// The root key offline (issue 14): `ca offline --to DIR`, `--root-key FILE` for CA events,
// `intermediate renew`, and revocation at both levels (crl.pem per issuing CA, root-crl.pem),
// checked with openssl and the real Go gateway and Python connector.
import { cp, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { buildGateway, clientPair, connector, hasPeers, startGateway, type Gateway } from '../helpers/peers.js';
import { runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const [A, B, C, D] = ['0d4f6a2e-9c1b-4e3a-8f5d-7b2c1a0e9f8d', '6a1e2f3d-4c5b-4a69-8e7d-1f2a3b4c5d6e', '9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e', 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f'];

async function ok(args: string[]) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}
const json = async (args: string[]) => JSON.parse((await ok([...args, '--json'])).stdout);

describe.skipIf(!hasPeers)('an offline root with an issuing intermediate, renewed and revoked', () => {
  let base: string;
  let dir: string;
  let usb: string;
  let gateway: Gateway;
  let firstIntermediate: string;
  const connect = (id: string, pair = clientPair(dir, id)) => connector(gateway.port, 'localhost', join(dir, 'ca.crt'), pair, id);

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    usb = join(base, 'usb');
    await mkdir(usb);
    await ok(['init', '--dir', dir, ...ec, '--intermediate']);
    await ok(['issue', 'server', '--dir', dir, ...ec]);
    await ok(['issue', 'client', '--dir', dir, ...ec, A, B]);
    firstIntermediate = (await json(['ca', 'status', '--dir', dir])).cas.find((c: { role: string }) => c.role === 'intermediate')?.serial
      ?? (await json(['list', '--dir', dir])).certificates.find((c: { kind: string }) => c.kind === 'intermediate').serial;
    gateway = await startGateway(await buildGateway(base), dir);
  }, 120_000);
  afterAll(() => gateway?.stop());

  it('refuses to take the key into the tree itself or off a tree without an intermediate, changing nothing', async () => {
    const before = await snapshot(dir);
    expectInputError(await runCli(['ca', 'offline', '--dir', dir, '--to', join(dir, 'usb')]), /is inside .*the root key would still be in the tree/);
    expect(await snapshot(dir)).toEqual(before);
    const plain = join(base, 'plain');
    await ok(['init', '--dir', plain, ...ec]);
    const r = await runCli(['ca', 'offline', '--dir', plain, '--to', usb]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .* has no intermediate: the root signs every leaf/);
    await stat(join(plain, 'ca.key'));
  });

  it('moves ca.key to DIR (0600, same bytes) and out of the tree; leaves keep being issued, rotated, revoked; CA events ask for --root-key', async () => {
    const key = await readFile(join(dir, 'ca.key'));
    const moved = await json(['ca', 'offline', '--dir', dir, '--to', usb]);
    expect(moved.key).toBe(join(usb, 'ca.key'));
    expect(await readFile(join(usb, 'ca.key'))).toEqual(key);
    expect((await stat(join(usb, 'ca.key'))).mode & 0o777).toBe(0o600);
    await expect(stat(join(dir, 'ca.key'))).rejects.toThrow();

    await ok(['issue', 'client', '--dir', dir, ...ec, C]);
    await ok(['rotate', '--dir', dir, '--all', '--tenant', A]);
    await ok(['crl', '--dir', dir]);
    const audit = await runCli(['audit', '--dir', dir, '--json']);
    expect(audit.code, audit.stdout).toBe(0);
    expect(JSON.parse(audit.stdout).notes).toEqual(expect.arrayContaining(['ca.key: offline (not in the tree)', 'intermediate.key: online, not encrypted']));

    const before = await snapshot(dir);
    for (const args of [['intermediate', 'renew', '--dir', dir], ['crl', '--root', '--dir', dir], ['intermediate', 'revoke', firstIntermediate, '--dir', dir]]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^error: this needs the root key, and \S*ca\.key is not in the tree \(kept offline\)\nhint: pass --root-key FILE/);
    }
    // The key of another CA is refused in one line.
    const other = join(base, 'other');
    await ok(['init', '--dir', other, ...ec]);
    expectInputError(await runCli(['intermediate', 'renew', '--dir', dir, '--root-key', join(other, 'ca.key')]), /ca\.key is not the key of .*ca\.crt/);
    expect(await snapshot(dir)).toEqual(before);
    const again = await runCli(['ca', 'offline', '--dir', dir, '--to', usb]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/offline already/);
  });

  it('intermediate renew: new leaves use the new intermediate; the old pairs still verify and connect; ca.crt unchanged', async () => {
    const ca = await readFile(join(dir, 'ca.crt'), 'utf8');
    const renewed = await json(['intermediate', 'renew', '--dir', dir, '--root-key', join(usb, 'ca.key')]);
    expect(renewed.issued[0]).toMatchObject({ kind: 'intermediate', replaced: { serial: firstIntermediate } });
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(ca);
    await stat(join(dir, 'authorities', `${firstIntermediate}.key`));
    await ok(['issue', 'client', '--dir', dir, ...ec, D]);
    const issuerOf = async (id: string) => (await openssl(['x509', '-in', join(dir, 'clients', id, 'client.crt'), '-noout', '-issuer'])).stdout;
    expect(await readFile(join(dir, 'clients', D, 'client.crt'), 'utf8')).toContain((await readFile(join(dir, 'intermediate.crt'), 'utf8')).trim());
    expect(await issuerOf(D)).toBe(await issuerOf(B)); // same name, another key
    for (const id of [B, D]) {
      const strict = await openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'ca.crt'), '-untrusted', join(dir, 'clients', id, 'client.crt'), '-purpose', 'sslclient', join(dir, 'clients', id, 'client.crt')]);
      expect(strict.code, strict.stderr).toBe(0);
    }
    expect((await json(['verify', '--all', '--dir', dir])).ok).toBe(true);
    // rotate --old-ca selects exactly the pairs the current intermediate did not sign.
    const plan = (await json(['rotate', '--old-ca', '--dry-run', '--include-server', '--dir', dir])).rotation.plan;
    const action = (id: string) => plan.find((p: { tenantId?: string }) => p.tenantId === id).action;
    expect([action(A), action(B), action(C), action(D)]).toEqual(['rotate', 'rotate', 'rotate', 'skip']);
    await gateway.reload();
    expect(await connect(B)).toEqual({ code: 0, out: `ok ${B}` });
    expect(await connect(D)).toEqual({ code: 0, out: `ok ${D}` });
  });

  it('revoking a leaf of the retired intermediate publishes it in a CRL signed by that intermediate, beside the current one', async () => {
    await ok(['revoke', '--dir', dir, '--tenant', C, '--reason', 'keyCompromise']);
    const pem = await readFile(join(dir, 'crl.pem'), 'utf8');
    expect(pem.split('-----BEGIN X509 CRL-----').length - 1).toBe(2);
    const chain = ['-CAfile', join(dir, 'ca.crt'), '-CRLfile', join(dir, 'crl.pem'), '-crl_check'];
    const revoked = join(dir, 'clients', C, 'client.crt');
    const r = await openssl(['verify', ...chain, '-untrusted', revoked, revoked]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/certificate revoked/);
    expect((await openssl(['verify', ...chain, '-untrusted', join(dir, 'clients', D, 'client.crt'), join(dir, 'clients', D, 'client.crt')])).code).toBe(0);
    await gateway.reload();
    expect((await connect(C)).code).toBe(1);
    expect(await connect(B)).toEqual({ code: 0, out: `ok ${B}` });
  });

  it('revoking the retired intermediate in root-crl.pem cuts off every leaf it signed, for openssl, pkictl and the Go gateway', async () => {
    const aside = join(base, 'old-b');
    await cp(join(dir, 'clients', B), aside, { recursive: true, dereference: true });
    const current = (await json(['list', '--dir', dir])).certificates.find((c: { kind: string }) => c.kind === 'intermediate').serial;
    const refused = await runCli(['intermediate', 'revoke', current, '--dir', dir, '--root-key', join(usb, 'ca.key')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is the intermediate that signs now/);
    expectInputError(await runCli(['revoke', firstIntermediate, '--dir', dir]), /is an intermediate CA: its revocation goes in root-crl\.pem/);

    const result = await json(['intermediate', 'revoke', firstIntermediate, '--dir', dir, '--root-key', join(usb, 'ca.key')]);
    expect(result.revoked[0]).toMatchObject({ serial: firstIntermediate, kind: 'intermediate', revocation: { reason: 'cACompromise' } });
    expect(result.crl.path).toBe('root-crl.pem');
    const crls = ['-CRLfile', join(dir, 'crl.pem'), '-CRLfile', join(dir, 'root-crl.pem'), '-crl_check_all'];
    const old = join(aside, 'client.crt');
    const r = await openssl(['verify', '-CAfile', join(dir, 'ca.crt'), ...crls, '-untrusted', old, old]);
    expect(r.stdout + r.stderr).toMatch(/certificate revoked/);
    const fresh = join(dir, 'clients', D, 'client.crt');
    expect((await openssl(['verify', '-CAfile', join(dir, 'ca.crt'), ...crls, '-untrusted', fresh, fresh])).code).toBe(0);

    const verify = await runCli(['verify', '--all', '--dir', dir, '--json']);
    expect(verify.code).toBe(1);
    const failed = JSON.parse(verify.stdout).files.filter((f: { ok: boolean }) => !f.ok).map((f: { file: string }) => f.file).sort();
    // A was rotated and B, C and the server issued under the first intermediate.
    expect(failed).toEqual([`clients/${A}/client.crt`, `clients/${B}/client.crt`, `clients/${C}/client.crt`, 'server.crt'].sort());
    const list = await json(['list', '--dir', dir]);
    expect(list.certificates.find((c: { tenantId: string }) => c.tenantId === B).problems.join()).toMatch(new RegExp(`its intermediate ${firstIntermediate} is revoked`));
    expect(list.unpublishedRevocations).toBe(0);

    await gateway.reload();
    expect((await connect(B, { cert: old, key: join(aside, 'client.key') })).code).toBe(1);
    expect(gateway.log.some((l) => l.startsWith(`rejected: certificate revoked: `))).toBe(true);
    expect(await connect(D)).toEqual({ code: 0, out: `ok ${D}` });

    // The way back: re-issue what the revoked intermediate signed.
    await ok(['rotate', '--dir', dir, '--all', '--include-server', '--tenant', B]);
    await ok(['rotate', '--dir', dir, '--all', '--include-server']);
    const after = await runCli(['verify', '--all', '--dir', dir, '--json']);
    expect(JSON.parse(after.stdout).files.filter((f: { ok: boolean }) => !f.ok).map((f: { file: string }) => f.file)).toEqual([`clients/${C}/client.crt`]);
  });
});
