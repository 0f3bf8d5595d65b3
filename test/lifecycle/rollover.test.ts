// A root rollover walked end to end (issue 14) with the real Go gateway and Python connector: both
// roots trusted after begin, every pair under the new root after switch, the old root refused after
// finish; each phase safe to rerun, a switch killed mid-way completed by its rerun.
import { spawn } from 'node:child_process';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { buildGateway, clientPair, connector, hasPeers, startGateway, type Gateway } from '../helpers/peers.js';
import { BIN, runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const [A, B] = ['0d4f6a2e-9c1b-4e3a-8f5d-7b2c1a0e9f8d', '6a1e2f3d-4c5b-4a69-8e7d-1f2a3b4c5d6e'];

async function ok(args: string[]) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}
const json = async (args: string[]) => JSON.parse((await ok([...args, '--json'])).stdout);

describe.skipIf(!hasPeers).each([
  ['with an intermediate', ['--intermediate']],
  ['with the root signing', []],
])('a root rollover %s', (_name, initFlags) => {
  let base: string;
  let dir: string;
  let gateway: Gateway;
  let binary: string;
  const connect = (id: string, pair = clientPair(dir, id), host = 'localhost') => connector(gateway.port, host, join(dir, 'ca.crt'), pair, id);
  /** Whether every pair's chain ends at `root` (openssl, strict, the root alone as anchor). */
  const allUnder = async (root: string) => {
    const anchor = join(base, 'anchor.pem');
    await import('node:fs/promises').then((fs) => fs.writeFile(anchor, root));
    for (const [file, purpose] of [[join(dir, 'server.crt'), 'sslserver'], [clientPair(dir, A).cert, 'sslclient'], [clientPair(dir, B).cert, 'sslclient']] as const) {
      const r = await openssl(['verify', '-x509_strict', '-CAfile', anchor, '-untrusted', file, '-purpose', purpose, file]);
      if (r.code !== 0) return false;
    }
    return true;
  };

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    await ok(['init', '--dir', dir, ...ec, ...initFlags]);
    await ok(['issue', 'server', '--dir', dir, ...ec]);
    await ok(['issue', 'client', '--dir', dir, ...ec, A, B]);
    binary = await buildGateway(base);
    gateway = await startGateway(binary, dir);
  }, 120_000);
  afterAll(() => gateway?.stop());

  it('walks begin → switch → finish with the gateway and a connector reloading between phases', async () => {
    const rootA = await readFile(join(dir, 'ca.crt'), 'utf8');
    await cp(join(dir, 'clients', A), join(base, 'old-a'), { recursive: true, dereference: true });
    const oldA = { cert: join(base, 'old-a', 'client.crt'), key: join(base, 'old-a', 'client.key') };

    // begin: both roots trusted, A still signs; a rerun changes nothing.
    const begun = await json(['ca', 'rollover', 'begin', '--dir', dir]);
    expect(begun).toMatchObject({ phase: 'begun', changed: true });
    const afterBegin = await snapshot(dir);
    expect(await json(['ca', 'rollover', 'begin', '--dir', dir])).toMatchObject({ phase: 'begun', changed: false });
    expect(await snapshot(dir)).toEqual(afterBegin);
    const bundle = await readFile(join(dir, 'ca.crt'), 'utf8');
    expect(bundle.split('BEGIN CERTIFICATE').length - 1).toBe(2);
    expect(bundle.startsWith(rootA)).toBe(true);
    const status = await json(['ca', 'status', '--dir', dir]);
    expect(status.rollover).toEqual({ phase: 'begun', oldRoot: begun.oldRoot, newRoot: begun.newRoot });
    const finishEarly = await runCli(['ca', 'rollover', 'finish', '--dir', dir]);
    expect(finishEarly.code).toBe(1);
    expect(finishEarly.stderr).toMatch(/old root still signs/);
    await gateway.reload();
    expect(await connect(A)).toEqual({ code: 0, out: `ok ${A}` });
    expect(await allUnder(rootA)).toBe(true);

    // switch: every pair re-issued under B; old pairs still accepted (A still trusted).
    const switched = await json(['ca', 'rollover', 'switch', '--dir', dir]);
    expect(switched).toMatchObject({ phase: 'switched', rotation: { failed: [] } });
    expect(switched.rotation.rotated).toHaveLength(3);
    const rootB = (await readFile(join(dir, 'ca.crt'), 'utf8')).replace(rootA, '');
    expect(await allUnder(rootB)).toBe(true);
    expect(await allUnder(rootA)).toBe(false);
    expect((await json(['ca', 'rollover', 'switch', '--dir', dir])).rotation.rotated).toHaveLength(0);
    expect((await json(['verify', '--all', '--dir', dir])).ok).toBe(true);
    await gateway.reload();
    for (const host of ['localhost', '127.0.0.1']) expect(await connect(B, clientPair(dir, B), host)).toEqual({ code: 0, out: `ok ${B}` });
    expect(await connect(A, oldA)).toEqual({ code: 0, out: `ok ${A}` });

    // finish: B alone; the old pair is refused, the new ones are accepted; a rerun changes nothing.
    expect(await json(['ca', 'rollover', 'finish', '--dir', dir])).toMatchObject({ phase: 'finished', changed: true });
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(rootB);
    expect(await json(['ca', 'rollover', 'finish', '--dir', dir])).toMatchObject({ phase: 'finished', changed: false });
    await gateway.reload();
    expect((await connect(A, oldA)).code).toBe(1);
    expect(gateway.log.some((l) => /^rejected: .*(unknown authority|certificate)/.test(l))).toBe(true);
    expect(await connect(A)).toEqual({ code: 0, out: `ok ${A}` });
    expect((await json(['audit', '--dir', dir])).findings).toEqual([]);
    expect((await json(['audit-log', 'verify', '--dir', dir])).auditLog.ok).toBe(true);
    const actions = (await json(['audit-log', 'show', '--dir', dir])).events.map((e: { action: string }) => e.action).filter((a: string) => a.startsWith('rollover'));
    expect(actions).toEqual(expect.arrayContaining(['rollover-begin', 'rollover-switch', 'rollover-finish']));
  });
});

describe('rollover refusals and a killed switch', () => {
  const tenants = Array.from({ length: 80 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

  it('a switch killed mid-way leaves every pair valid, finish refuses meanwhile, and the rerun completes it', async () => {
    const dir = join(await tempDir(), 'certs');
    await ok(['init', '--dir', dir, ...ec, '--intermediate']);
    await ok(['issue', 'server', '--dir', dir, ...ec]);
    await ok(['issue', 'client', '--dir', dir, ...ec, ...tenants]);
    await ok(['ca', 'rollover', 'begin', '--dir', dir]);
    // Killed at random moments, three times: each time, every pair on disk verifies under the ca.crt on disk.
    for (let kill = 0; kill < 3; kill++) {
      const child = spawn(process.execPath, [BIN, 'ca', 'rollover', 'switch', '--dir', dir, '--concurrency', '1'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 150 + Math.random() * 450));
      child.kill('SIGKILL');
      await exited;
      const mid = await runCli(['verify', '--all', '--dir', dir, '--json']);
      expect(JSON.parse(mid.stdout).ok, mid.stdout).toBe(true);
    }
    // Pairs left under the old root (the kills usually land mid-switch): finish refuses while any is.
    const left = (await json(['rotate', '--old-ca', '--dry-run', '--include-server', '--dir', dir])).rotation.plan.filter((p: { action: string }) => p.action === 'rotate');
    if (left.length > 0 && (await json(['ca', 'status', '--dir', dir])).rollover.phase === 'switched') {
      const refused = await runCli(['ca', 'rollover', 'finish', '--dir', dir]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/still chain to the old root/);
    }
    const rerun = await json(['ca', 'rollover', 'switch', '--dir', dir]);
    expect(rerun.rotation.failed).toEqual([]);
    expect(rerun.rotation.rotated.length + rerun.rotation.skipped.length).toBe(tenants.length + 1);
    expect((await json(['ca', 'rollover', 'switch', '--dir', dir])).rotation.rotated).toEqual([]);
    expect((await json(['ca', 'rollover', 'finish', '--dir', dir])).phase).toBe('finished');
    expect((await json(['verify', '--all', '--dir', dir])).ok).toBe(true);
    expect((await json(['audit-log', 'verify', '--dir', dir])).auditLog.ok).toBe(true);
  }, 120_000);

  it('finish --force cuts off the pairs left under the old root, and says which', async () => {
    const dir = join(await tempDir(), 'certs');
    await ok(['init', '--dir', dir, ...ec]);
    await ok(['issue', 'client', '--dir', dir, ...ec, A]);
    await ok(['issue', 'client', '--dir', dir, ...ec, B]);
    await ok(['ca', 'rollover', 'begin', '--dir', dir]);
    // A pair the switch cannot re-issue: its directory was deleted by hand (the index still lists it as deployed).
    await rm(join(dir, 'clients', A), { recursive: true });
    const r = await runCli(['ca', 'rollover', 'switch', '--dir', dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).rotation.failed).toEqual([expect.objectContaining({ tenantId: A })]);
    const refused = await runCli(['ca', 'rollover', 'finish', '--dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^error: 1 deployed pair\\(s\\) still chain to the old root \\(${A}\\)`));
    const forced = await json(['ca', 'rollover', 'finish', '--dir', dir, '--force']);
    expect(forced).toMatchObject({ phase: 'finished', strandedByForce: [A] });
    expect((await json(['verify', '--dir', dir, clientPair(dir, B).cert])).ok).toBe(true);
  });
});
