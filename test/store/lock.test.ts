import { spawn } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, uuids } from './fixture.js';

const LOCK_JS = fileURLToPath(new URL('../../dist/bundle/store-lock.js', import.meta.url));

/** A separate process that takes the directory lock and holds it until its stdin closes. */
function holdLock(dir: string): Promise<{ release(): Promise<void>; pid: number }> {
  const code = `const { acquireLock } = await import(${JSON.stringify(LOCK_JS)});
const lock = await acquireLock(${JSON.stringify(dir)}, { command: 'test holder' });
process.stdout.write('held\\n');
process.stdin.on('end', async () => { await lock.release(); process.exit(0); });
process.stdin.resume();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () =>
      resolve({
        pid: child.pid!,
        release: () => new Promise<void>((done) => { child.on('exit', () => done()); child.stdin.end(); }),
      }),
    );
    child.on('error', reject);
  });
}

describe('the CA directory lock', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(await tempDir('pkictl-lock-'), 'certs');
    await initCa(dir);
  });

  it('a second process fails cleanly after the timeout, naming the holder, and writes nothing', async () => {
    const holder = await holdLock(dir);
    try {
      const [id] = uuids(1);
      const r = await cli(['issue', 'client', '--dir', dir, '--key', 'ec-p256', id!], { PKICTL_LOCK_TIMEOUT: '1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/waiting for the lock on .*held by pid \d+/);
      expect(r.stderr).toMatch(new RegExp(`error: .*\\.lock is held by pid ${holder.pid} on .*test holder.*gave up after 1 s`));
      await expect(readFile(clientPaths(dir, id!).cert)).rejects.toThrow(/ENOENT/);
    } finally {
      await holder.release();
    }
  });

  it('a second process waits for the holder, says so once, then proceeds', async () => {
    const holder = await holdLock(dir);
    const [id] = uuids(1);
    const child = spawn(process.execPath, [BIN, 'issue', 'client', '--dir', dir, '--key', 'ec-p256', id!], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let waited = 0; !stderr.includes('waiting for the lock') && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(stderr).toMatch(/waiting for the lock on .*held by pid \d+ on .*test holder/);
    await new Promise((r) => setTimeout(r, 500)); // still waiting, not failing
    expect(child.exitCode).toBeNull();
    await holder.release();
    expect(await exited, stderr).toBe(0);
    expect(stderr.match(/waiting for the lock/g)).toHaveLength(1);
    expect(await readFile(clientPaths(dir, id!).cert, 'utf8')).toMatch(/BEGIN CERTIFICATE/);
  });

  it('a lock left by a killed process (dead pid on this host) is taken over at once', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('exit', r));
    await writeFile(join(dir, '.lock'), JSON.stringify({ pid: dead.pid, host: hostname(), command: 'pkictl rotate', since: new Date().toISOString() }));
    const started = Date.now();
    const r = await cli(['crl', '--dir', dir], { PKICTL_LOCK_TIMEOUT: '5' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/waiting/);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(readFile(join(dir, '.lock'))).rejects.toThrow(/ENOENT/);
  });

  it('a lock from another host is never broken automatically', async () => {
    const copy = join(dir, '..', 'copy');
    await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
    await writeFile(join(copy, '.lock'), JSON.stringify({ pid: 1, host: 'elsewhere.example', command: 'pkictl rotate', since: '2026-01-01T00:00:00Z' }));
    const r = await cli(['crl', '--dir', copy], { PKICTL_LOCK_TIMEOUT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/held by pid 1 on elsewhere\.example/);
    expect(r.stderr).toMatch(/hint: the holder runs on another host/);
    await rm(join(copy, '.lock'));
  });
});
