import { lstat, mkdir, readdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl, publicKeyOf } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, issueClients, pairProblem, readIndex, serialOf, treeDigest, uuids } from '../store/fixture.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Plan { tenantId?: string; kind: string; action: string; why: string; serial?: string; notAfter?: string }

describe('pkictl rotate', () => {
  let dir: string;
  let ids: string[];
  let notBefore: number;
  let notAfter: number;

  beforeAll(async () => {
    dir = join(await tempDir('pkictl-rotate-'), 'certs');
    await initCa(dir);
    ids = uuids(3);
    await issueClients(dir, ids, ['--days', '90']);
    const dates = await openssl(['x509', '-in', clientPaths(dir, ids[0]!).cert, '-noout', '-startdate', '-enddate']);
    notBefore = Date.parse(dates.stdout.match(/notBefore=(.*)/)![1]!);
    notAfter = Date.parse(dates.stdout.match(/notAfter=(.*)/)![1]!);
  });

  async function plan(args: string[]): Promise<Plan[]> {
    const r = await cli(['rotate', '--dir', dir, '--dry-run', '--json', '--tenant', ids[0]!, ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).rotation.plan;
  }

  it('selects at the boundaries of --renew-before 30d and the default 33%, as of --at, and expired certificates', async () => {
    const edge = notAfter - 30 * DAY;
    expect((await plan(['--renew-before', '30d', '--at', iso(edge - 1000)]))[0]!.action).toBe('skip');
    expect((await plan(['--renew-before', '30d', '--at', iso(edge + 1000)]))[0]!.action).toBe('rotate');
    const third = notAfter - (notAfter - notBefore) / 3;
    expect((await plan(['--at', iso(third - 60_000)]))[0]!.action).toBe('skip');
    const due = (await plan(['--at', iso(third + 60_000)]))[0]!;
    expect(due).toMatchObject({ action: 'rotate', serial: await serialOf(clientPaths(dir, ids[0]!).cert) });
    expect(due.why).toMatch(/within the renewal window of 33.3% of its lifetime/);
    const expired = (await plan(['--at', iso(notAfter + DAY)]))[0]!;
    expect(expired.action).toBe('rotate');
    expect(expired.why).toMatch(/^expired/);
  });

  it('--dry-run prints the plan as tab-separated lines and changes nothing', async () => {
    const before = await treeDigest(dir);
    const r = await cli(['rotate', '--dir', dir, '--dry-run', '--all']);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(header).toEqual(['TENANT', 'SERIAL', 'NOT AFTER', 'ACTION', 'WHY']);
    expect(rows.map((row) => row[0]).sort()).toEqual([...ids].sort());
    for (const row of rows) expect(row[3]).toBe('rotate');
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(await treeDigest(dir)).toBe(before);
  });

  it('rejects bad flags before any work', async () => {
    const before = await treeDigest(dir);
    for (const args of [['--renew-before', '150%'], ['--renew-before', 'soon'], ['--at', 'tomorrow'], ['--tenant', uuids(1)[0]!], ['--reuse-key', '--key', 'ec-p256']]) {
      const r = await cli(['rotate', '--dir', dir, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: /);
    }
    expect(await treeDigest(dir)).toBe(before);
  });

  it('renews with a new key through the atomic switch, keeps the old pair in versions/ with its modes, and records it', async () => {
    const id = ids[0]!;
    const paths = clientPaths(dir, id);
    const oldSerial = await serialOf(paths.cert);
    const oldKey = await publicKeyOf(paths.key, 'key');
    const r = await cli(['rotate', '--dir', dir, '--tenant', id, '--at', iso(notAfter - DAY), '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout).rotation;
    expect(doc.rotated).toHaveLength(1);
    expect(doc.rotated[0]).toMatchObject({ tenantId: id, oldSerial, keyReused: false });
    expect(await pairProblem(dir, paths.cert, paths.key)).toBeUndefined();
    expect(await publicKeyOf(paths.key, 'key')).not.toBe(oldKey);
    const subject = await openssl(['x509', '-in', paths.cert, '-noout', '-subject', '-ext', 'extendedKeyUsage']);
    expect(subject.stdout).toContain(`CN = ${id}`);
    expect(subject.stdout).toMatch(/TLS Web Client Authentication/);

    // The contract paths are links into current/, which names one version directory.
    expect((await lstat(paths.cert)).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'clients', id, 'current'))).toMatch(/^versions\//);
    const versions = await readdir(join(dir, 'clients', id, 'versions'));
    expect(versions).toHaveLength(2);
    const old = versions.find((v) => v.endsWith(oldSerial.slice(0, 16)))!;
    expect((await stat(join(dir, 'clients', id, 'versions', old, 'client.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'clients', id, 'versions', old, 'client.crt'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dir, 'clients', id, 'versions', old))).mode & 0o777).toBe(0o700);
    expect(await publicKeyOf(join(dir, 'clients', id, 'versions', old, 'client.key'), 'key')).toBe(oldKey);

    const index = await readIndex(dir);
    expect(index.get(oldSerial)?.status).toBe('superseded');
    expect(index.get(doc.rotated[0].serial)?.status).toBe('valid');
    const audit = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(audit.at(-1)).toMatchObject({ action: 'rotate', serial: doc.rotated[0].serial, tenant: id, detail: { supersedes: oldSerial } });
  });

  it('--reuse-key keeps the key; --include-server renews server.crt with the same subject and SANs', async () => {
    const id = ids[1]!;
    const paths = clientPaths(dir, id);
    const key = await publicKeyOf(paths.key, 'key');
    const s = await cli(['issue', 'server', '--dir', dir, '--key', 'ec-p256', '--san', 'DNS:gw.example.test', '--san', 'IP:10.1.2.3', '--cn', 'gw.example.test']);
    expect(s.code, s.stderr).toBe(0);
    const oldServer = await serialOf(join(dir, 'server.crt'));
    const r = await cli(['rotate', '--dir', dir, '--tenant', id, '--all', '--reuse-key', '--include-server', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await publicKeyOf(paths.key, 'key')).toBe(key);
    expect(await serialOf(join(dir, 'server.crt'))).not.toBe(oldServer);
    const text = await openssl(['x509', '-in', join(dir, 'server.crt'), '-noout', '-subject', '-ext', 'subjectAltName']);
    expect(text.stdout).toContain('CN = gw.example.test');
    expect(text.stdout).toMatch(/DNS:gw\.example\.test, IP Address:10\.1\.2\.3/);
    expect(await pairProblem(dir, join(dir, 'server.crt'), join(dir, 'server.key'))).toBeUndefined();
    expect((await stat(join(dir, 'server.key'))).mode & 0o777).toBe(0o600);
  });

  it('--exec runs after each pair is in place with its paths and serial; a failing hook is counted and never undoes the pair', async () => {
    const id = ids[2]!;
    const log = join(dir, '..', 'hook.log');
    const hook = `echo "$PKICTL_TENANT_ID $PKICTL_SERIAL $PKICTL_OLD_SERIAL $PKICTL_CERT" >> ${log}; openssl x509 -in "$PKICTL_CERT" -noout -serial >> ${log}; exit 3`;
    const r = await cli(['rotate', '--dir', dir, '--tenant', id, '--all', '--exec', hook, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout).rotation;
    expect(doc.rotated).toHaveLength(1);
    expect(doc.execFailed).toEqual([expect.objectContaining({ tenantId: id, code: 3 })]);
    const [line, serialLine] = (await readFile(log, 'utf8')).trim().split('\n');
    expect(line).toBe(`${id} ${doc.rotated[0].serial} ${doc.rotated[0].oldSerial} ${clientPaths(dir, id).cert}`);
    expect(serialLine!.toLowerCase()).toBe(`serial=${doc.rotated[0].serial}`);
    expect(await serialOf(clientPaths(dir, id).cert)).toBe(doc.rotated[0].serial);
    expect(await pairProblem(dir, clientPaths(dir, id).cert, clientPaths(dir, id).key)).toBeUndefined();
  });

  it('renews like for like from the certificate (RSA stays RSA-2048), even over a damaged key file; --reuse-key refuses that key', async () => {
    const [id] = uuids(1) as [string];
    const r0 = await cli(['issue', 'client', '--dir', dir, '--key', 'rsa-2048', id]);
    expect(r0.code, r0.stderr).toBe(0);
    const paths = clientPaths(dir, id);
    await writeFile(paths.key, 'not a key\n', { mode: 0o600 });
    const before = await treeDigest(dir);
    const reuse = await cli(['rotate', '--dir', dir, '--tenant', id, '--all', '--reuse-key']);
    expect(reuse.code).toBe(1);
    expect(reuse.stderr).toMatch(/not a PEM private key/);
    expect(reuse.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await readFile(paths.key, 'utf8')).toBe('not a key\n');

    const r = await cli(['rotate', '--dir', dir, '--tenant', id, '--all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await treeDigest(dir)).not.toBe(before);
    expect(await pairProblem(dir, paths.cert, paths.key)).toBeUndefined();
    expect((await openssl(['pkey', '-in', paths.key, '-noout', '-text'])).stdout).toMatch(/Private-Key: \(2048 bit/);
  });

  it('migrates a plain-file tenant (older pkictl, not in the index) on first rotation: adopted, then swapped', async () => {
    const [id] = uuids(1) as [string];
    // An old-layout tenant: two regular files, unknown to the index. The pair is made by this CA
    // in a scratch copy of the directory, then copied in as plain files.
    const plain = join(dir, 'clients', id);
    await mkdir(plain, { mode: 0o700 });
    const scratch = join(dir, '..', 'scratch');
    const { cp, rm } = await import('node:fs/promises');
    await cp(dir, scratch, { recursive: true, verbatimSymlinks: true });
    await rm(join(scratch, 'clients', id), { recursive: true });
    await issueClients(scratch, [id]);
    await writeFile(join(plain, 'client.key'), await readFile(clientPaths(scratch, id).key), { mode: 0o600 });
    await writeFile(join(plain, 'client.crt'), await readFile(clientPaths(scratch, id).cert), { mode: 0o644 });
    const oldSerial = await serialOf(join(plain, 'client.crt'));
    expect((await readIndex(dir)).has(oldSerial)).toBe(false);

    const r = await cli(['rotate', '--dir', dir, '--tenant', id, '--all', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((await lstat(join(plain, 'client.crt'))).isSymbolicLink()).toBe(true);
    expect(await pairProblem(dir, join(plain, 'client.crt'), join(plain, 'client.key'))).toBeUndefined();
    const index = await readIndex(dir);
    expect(index.get(oldSerial)?.status).toBe('superseded');
    const versions = await readdir(join(plain, 'versions'));
    expect(versions.some((v) => v.endsWith(oldSerial.slice(0, 16)))).toBe(true);
    const audit = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).action);
    expect(audit.slice(-2)).toEqual(['adopt', 'rotate']);
  });
});
