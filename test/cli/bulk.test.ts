import { spawn } from 'node:child_process';
import { randomUUID, X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { publicKeyOf } from '../helpers/openssl.js';
import { BIN, runCli } from '../helpers/run-cli.js';
import { tempDir, treeModes } from '../helpers/temp-dir.js';

const EC = ['--key', 'ec-p256'];

let caTemplate: string;
beforeAll(async () => {
  // One `pkictl init` for the whole file; every test gets a copy of its ca.crt and ca.key.
  caTemplate = join(await tempDir('pkictl-bulk-ca-'), 'certs');
  const init = await runCli(['init', '--dir', caTemplate, ...EC]);
  expect(init.code, init.stderr).toBe(0);
});

async function newCa(): Promise<{ root: string; dir: string }> {
  const root = await tempDir('pkictl-bulk-');
  const dir = join(root, 'certs');
  await mkdir(dir, { mode: 0o700 });
  await copyFile(join(caTemplate, 'ca.crt'), join(dir, 'ca.crt'));
  await copyFile(join(caTemplate, 'ca.key'), join(dir, 'ca.key'));
  await chmod(join(dir, 'ca.key'), 0o600);
  return { root, dir };
}

const uuids = (n: number) => Array.from({ length: n }, () => randomUUID());

/** Tenant directories under clients/ (hidden leftovers of an interrupted atomic write are listed apart). */
async function tenantDirs(dir: string): Promise<{ visible: string[]; hidden: string[] }> {
  const clients = join(dir, 'clients');
  if (!existsSync(clients)) return { visible: [], hidden: [] };
  const names = await readdir(clients);
  return { visible: names.filter((n) => !n.startsWith('.')), hidden: names.filter((n) => n.startsWith('.')) };
}

/**
 * Every listed tenant has a readable certificate and the key that matches it at the contract paths
 * (clients/<id>/client.crt, client.key; the store may make them links into a versioned pair).
 */
async function expectCompletePairs(dir: string, tenants: string[]) {
  for (const id of tenants) {
    const tenant = join(dir, 'clients', id);
    const cert = new X509Certificate(await readFile(join(tenant, 'client.crt')));
    expect(cert.subject).toContain(`CN=${id}`);
    const key = createPrivateKey(await readFile(join(tenant, 'client.key')));
    expect(cert.checkPrivateKey(key), id).toBe(true);
  }
}

describe('issue client --from: 200 tenants in one run', () => {
  let dir: string;
  let ids: string[];
  let run: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    const ca = await newCa();
    dir = ca.dir;
    ids = uuids(200);
    // Comments, blank lines, CRLF and surrounding spaces are all tolerated.
    const file = join(ca.root, 'tenants.txt');
    await writeFile(file, ['# onboarding batch 42', '', ...ids.map((id, i) => (i % 50 === 0 ? `  ${id}  # first of a block\r` : id)), ''].join('\n'));
    run = await runCli(['issue', 'client', '--dir', dir, ...EC, '--from', file, '--json']);
  });

  it('issues 200 pairs with 200 distinct serials, in input order', async () => {
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.issued.map((p: { tenantId: string }) => p.tenantId)).toEqual(ids);
    expect(doc.skipped).toEqual([]);
    expect(doc.interrupted).toBe(false);
    // The serials written to disk, not only those reported.
    const serials = new Set<string>();
    for (const id of ids) serials.add(new X509Certificate(await readFile(join(dir, 'clients', id, 'client.crt'))).serialNumber);
    expect(serials.size).toBe(200);
    expect(new Set(doc.issued.map((p: { serial: string }) => p.serial.toUpperCase()))).toEqual(serials);
  });

  it('records every tenant exactly once in the index and the audit log (group-committed), with an intact chain', async () => {
    const lines = (await readFile(join(dir, 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { add?: Array<{ serial: string; tenantId?: string }> });
    const added = lines.flatMap((l) => l.add ?? []).filter((e) => e.tenantId !== undefined);
    expect(added.map((e) => e.tenantId).sort()).toEqual([...ids].sort());
    const onDisk = await Promise.all(ids.map(async (id) => new X509Certificate(await readFile(join(dir, 'clients', id, 'client.crt'))).serialNumber.toLowerCase()));
    expect(added.map((e) => e.serial).sort()).toEqual(onDisk.sort());
    expect(lines.length).toBeLessThan(201); // concurrent tenants shared index lines
    const audit = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; tenant?: string });
    expect(audit.filter((l) => l.action === 'issue').map((l) => l.tenant).sort()).toEqual([...ids].sort());
    const verify = await runCli(['audit-log', 'verify', '--dir', dir]);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('writes keys that match their certificates (openssl on a sample, node:crypto on all)', async () => {
    await expectCompletePairs(dir, ids);
    for (const id of ids.filter((_, i) => i % 20 === 0)) {
      const tenant = join(dir, 'clients', id);
      expect(await publicKeyOf(join(tenant, 'client.crt'), 'cert')).toBe(await publicKeyOf(join(tenant, 'client.key'), 'key'));
    }
    // Distinct keys too: one public key per tenant.
    const publicKeys = new Set<string>();
    for (const id of ids) publicKeys.add(createPublicKey(await readFile(join(dir, 'clients', id, 'client.key'))).export({ format: 'der', type: 'spki' }).toString('hex'));
    expect(publicKeys.size).toBe(200);
  });

  it('gives keys 0600, certificates 0644, directories 0700, and leaves no temp files', async () => {
    expect((await stat(join(dir, 'clients'))).mode & 0o777).toBe(0o700);
    for (const id of ids) {
      const tenant = join(dir, 'clients', id);
      expect((await stat(tenant)).mode & 0o777).toBe(0o700);
      expect((await stat(join(tenant, 'client.key'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(tenant, 'client.crt'))).mode & 0o777).toBe(0o644);
    }
    const modes = await treeModes(join(dir, 'clients'));
    expect(Object.keys(modes).filter((path) => path.split('/').some((part) => part.endsWith('.tmp')))).toEqual([]);
  });

  it('refuses a rerun without --skip-existing, and skips all 200 with it', async () => {
    const again = await runCli(['issue', 'client', '--dir', dir, ...EC, ...ids.slice(0, 3)]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exist.*nothing was written/);
    expect(again.stderr).toContain('--skip-existing');
    const before = await readFile(join(dir, 'clients', ids[0]!, 'client.crt'), 'utf8');
    const skip = await runCli(['issue', 'client', '--dir', dir, ...EC, '--skip-existing', '--json', '--from', '-'], { input: ids.join('\n') });
    expect(skip.code, skip.stderr).toBe(0);
    const doc = JSON.parse(skip.stdout);
    expect(doc.issued).toEqual([]);
    expect(doc.skipped).toHaveLength(200);
    expect(await readFile(join(dir, 'clients', ids[0]!, 'client.crt'), 'utf8')).toBe(before);
  });
});

describe('issue client: a bad line rejects the whole batch', () => {
  it('lists every bad line with its number, writes nothing, exits 2', async () => {
    const { root, dir } = await newCa();
    const good = uuids(5);
    const lines = [
      good[0], //                                  1
      'BF935F05-BF2E-4138-BFEC-F4BAAF99FECC', //   2 uppercase
      good[1], //                                  3
      '../../etc', //                              4 path traversal
      '# a comment', //                            5
      good[2], //                                  6
      'not-a-uuid', //                             7
      good[0], //                                  8 duplicate of line 1
      good[3],
    ];
    const file = join(root, 'batch.txt');
    await writeFile(file, lines.join('\n') + '\n');
    const r = await runCli(['issue', 'client', '--dir', dir, ...EC, '--from', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('4 bad tenant ids; nothing was issued');
    expect(r.stderr).toContain(`${file}:2: invalid tenant id 'BF935F05-BF2E-4138-BFEC-F4BAAF99FECC': tenant ids are lowercase UUIDs`);
    expect(r.stderr).toContain(`${file}:4: invalid tenant id '../../etc'`);
    expect(r.stderr).toContain(`${file}:7: invalid tenant id 'not-a-uuid'`);
    expect(r.stderr).toContain(`${file}:8: tenant id ${good[0]} is also at ${file}:1`);
    expect(r.stderr).not.toMatch(/:(1|3|5|6|9):/);
    expect(existsSync(join(dir, 'clients'))).toBe(false);
  });

  it('names bad arguments by position, and rejects --force with --skip-existing before any work', async () => {
    const { dir } = await newCa();
    const r = await runCli(['issue', 'client', '--dir', dir, ...EC, randomUUID(), 'x', randomUUID(), 'y']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("argument 2: invalid tenant id 'x'");
    expect(r.stderr).toContain("argument 4: invalid tenant id 'y'");
    const both = await runCli(['issue', 'client', '--dir', dir, ...EC, '--force', '--skip-existing', randomUUID()]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("'--force' is incompatible with '--skip-existing'");
    const none = await runCli(['issue', 'client', '--dir', dir, ...EC]);
    expect(none.code).toBe(2);
    expect(existsSync(join(dir, 'clients'))).toBe(false);
  });

  it('reports a missing --from file in one line', async () => {
    const { root, dir } = await newCa();
    const r = await runCli(['issue', 'client', '--dir', dir, ...EC, '--from', join(root, 'nope.txt')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${join(root, 'nope.txt')}: no such file`);
  });
});

describe('issue client: progress display', () => {
  it('draws a bar with count, rate and ETA on a terminal (script(1) gives it one), and only the summary off one', async () => {
    const { root, dir } = await newCa();
    const file = join(root, 'tenants.txt');
    await writeFile(file, uuids(40).join('\n'));
    const command = [process.execPath, BIN, 'issue', 'client', '--dir', dir, ...EC, '--from', file, '--concurrency', '1'].map((a) => `'${a}'`).join(' ');
    const tty = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(tty.code, tty.out).toBe(0);
    expect(tty.out).toMatch(/\d+\/40 \| \d+\.\d\/s \| ETA /);
    expect(tty.out).toContain('\x1b[?25l'); // the cursor hidden while the bar runs…
    expect(tty.out).toContain('\x1b[?25h'); // …and given back
    expect(tty.out).toMatch(/Issued 40 client certificates/);

    const { dir: plainDir } = await newCa();
    const plain = await runCli(['issue', 'client', '--dir', plainDir, ...EC, '--from', file]);
    expect(plain.code).toBe(0);
    expect(plain.stderr + plain.stdout).not.toMatch(/ETA|\x1b/);
    expect(plain.stdout + plain.stderr).toMatch(/Issued 40 client certificates/);
  });
});

/**
 * Starts a bulk run, waits until `after` tenants exist, sends `signal`; then checks that what is on
 * disk is only complete pairs and that a rerun with --skip-existing issues exactly the rest.
 */
async function interruptAndResume(signal: NodeJS.Signals, total: number, after: number) {
  const { root, dir } = await newCa();
  const ids = uuids(total);
  const file = join(root, 'tenants.txt');
  await writeFile(file, ids.join('\n'));
  // Two in flight, so an interrupt lands while tenants are being written (the case to prove).
  const child = spawn(process.execPath, [BIN, 'issue', 'client', '--dir', dir, ...EC, '--from', file, '--concurrency', '2', '--json'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  for (;;) {
    if ((await tenantDirs(dir)).visible.length >= after) break;
    if (child.exitCode !== null) throw new Error(`finished before it could be interrupted: ${stderr}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill(signal);
  const end = await exited;
  const first = await tenantDirs(dir);
  return { dir, ids, file, end, stdout, stderr, first };
}

describe('interrupting a bulk run', () => {
  it('SIGINT: in-flight tenants finish, the rest are untouched, exit 130; --skip-existing finishes the batch', async () => {
    const { dir, ids, file, end, stdout, stderr, first } = await interruptAndResume('SIGINT', 100, 10);
    expect(end.code, stderr).toBe(130);
    expect(first.hidden).toEqual([]);
    expect(first.visible.length).toBeGreaterThanOrEqual(10);
    expect(first.visible.length).toBeLessThan(100);
    await expectCompletePairs(dir, first.visible);
    // The JSON result accounts for every tenant: issued ones are exactly those on disk.
    const doc = JSON.parse(stdout);
    expect(doc.interrupted).toBe(true);
    expect(doc.issued.map((p: { tenantId: string }) => p.tenantId).sort()).toEqual([...first.visible].sort());
    expect(doc.issued.length + doc.notStarted.length).toBe(100);
    expect(stderr).toContain('interrupted');

    const kept = await readFile(join(dir, 'clients', first.visible[0]!, 'client.crt'), 'utf8');
    const rerun = await runCli(['issue', 'client', '--dir', dir, ...EC, '--from', file, '--skip-existing', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    const second = JSON.parse(rerun.stdout);
    expect(second.skipped.length).toBe(first.visible.length);
    expect(second.issued.length).toBe(100 - first.visible.length);
    expect((await tenantDirs(dir)).visible.sort()).toEqual([...ids].sort());
    await expectCompletePairs(dir, ids);
    expect(await readFile(join(dir, 'clients', first.visible[0]!, 'client.crt'), 'utf8')).toBe(kept);
  });

  it('SIGKILL: no half-written tenant is visible; --skip-existing finishes the batch', async () => {
    const { dir, ids, file, end, first } = await interruptAndResume('SIGKILL', 100, 10);
    expect(end.signal).toBe('SIGKILL');
    expect(first.visible.length).toBeLessThan(100);
    // Only complete pairs under their real names; a write cut short stays in a hidden temp entry.
    await expectCompletePairs(dir, first.visible);
    for (const name of first.hidden) expect(name).toMatch(/\.tmp$/);

    const rerun = await runCli(['issue', 'client', '--dir', dir, ...EC, '--from', file, '--skip-existing', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout).issued.length).toBe(100 - first.visible.length);
    const after = await tenantDirs(dir);
    expect(after.visible.sort()).toEqual([...ids].sort());
    expect(after.hidden).toEqual([]); // the killed run's temp entries are swept when the lock is taken
    await expectCompletePairs(dir, ids);
  });
});
