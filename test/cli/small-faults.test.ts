import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliTree, runCli, type CliResult } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, initCa, uuids } from '../store/fixture.js';

/** Issue 12, item 11: closed pipes, a tree without server.crt, crafted lock files, a read-only tree. */

const noStack = (r: CliResult) => expect(r.stderr).not.toMatch(/\n\s+at |node:events|Unhandled/);

describe('a reader that goes away', () => {
  it('pkictl list into a pipe closed early exits quietly (no EPIPE stack trace)', async () => {
    const { dir } = await cliTree(uuids(3));
    const r = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'list', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader of a real pipe is gone before pkictl writes
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    noStack(r);
    expect(r.stderr).not.toMatch(/EPIPE/);
  });
});

describe('system errors no layer words', () => {
  it('are one line naming the file and the cause, not a raw errno text', async () => {
    const base = await tempDir('pkictl-notdir-');
    await writeFile(join(base, 'plain'), 'a file, not a directory\n');
    const r = await cli(['crl', '--dir', join(base, 'plain')]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`error: ${join(base, 'plain', 'ca.crt')}: a part of the path is not a directory (lstat)`);
  });
});

describe('long failure lists', () => {
  it('rotate with a failing --exec on 22 tenants lists 20 and counts the rest; --json keeps them all', async () => {
    const { dir } = await cliTree(uuids(22));
    const r = await runCli(['rotate', '--dir', dir, '--all', '--exec', 'exit 3']);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/--exec command failed/g)).toHaveLength(20);
    expect(r.stderr).toMatch(/^ {2}… and 2 more \(--json lists them all\)$/m);
    const json = await runCli(['rotate', '--dir', dir, '--all', '--exec', 'exit 3', '--json']);
    expect(JSON.parse(json.stdout).rotation.execFailed).toHaveLength(22);
  });
});

describe('verify --all on a tree without server.crt', () => {
  it('checks every client and reports the missing server as a finding (exit 1)', async () => {
    const ids = uuids(2);
    const { dir, server } = await cliTree(ids);
    await rm(server);
    const r = await runCli(['verify', '--all', '--dir', dir]);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/server\.crt: FAILED: FILE_MISSING: missing from the tree$/);
    for (const id of ids) expect(r.stdout).toMatch(new RegExp(`clients/${id}/client\\.crt: OK`));
    const json = JSON.parse((await runCli(['verify', '--all', '--dir', dir, '--json'])).stdout);
    expect(json.files.filter((f: { ok: boolean }) => f.ok)).toHaveLength(2);
  });
});

describe('lock files that name no live pkictl', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(await tempDir('pkictl-lockpid-'), 'certs');
    await initCa(dir);
  });

  const ownStart = async () => {
    const stat = await readFile('/proc/self/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  };
  const bootId = async () => (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  const plant = (owner: Record<string, unknown>) =>
    writeFile(join(dir, '.lock'), JSON.stringify({ host: hostname(), command: 'pkictl rotate', since: new Date().toISOString(), ...owner }) + '\n');

  const cases: Array<[string, () => Promise<Record<string, unknown>>]> = [
    ['pid 0', async () => ({ pid: 0 })],
    ['a negative pid', async () => ({ pid: -1 })],
    ['a fractional pid', async () => ({ pid: 1.5 })],
    ['a pid that is not a number', async () => ({ pid: '4242' })],
    ['no pid at all (null)', async () => ({ pid: null })],
    ['a live pid that started at another time (reused)', async () => ({ pid: process.pid, start: String(Number(await ownStart()) + 1), boot: await bootId() })],
    ['a live pid from an earlier boot', async () => ({ pid: process.pid, start: await ownStart(), boot: '00000000-0000-4000-8000-000000000000' })],
  ];

  for (const [what, owner] of cases) {
    it(`${what}: stale, the next command proceeds at once`, async () => {
      await plant(await owner());
      const started = Date.now();
      const r = await cli(['crl', '--dir', dir], { PKICTL_LOCK_TIMEOUT: '5' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/waiting/);
      expect(Date.now() - started).toBeLessThan(4000);
      await expect(readFile(join(dir, '.lock'))).rejects.toThrow(/ENOENT/);
    });
  }

  it('a live pid with its own start time still holds the lock', async () => {
    await plant({ pid: process.pid, start: await ownStart(), boot: await bootId() });
    try {
      const r = await cli(['crl', '--dir', dir], { PKICTL_LOCK_TIMEOUT: '1' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`is held by pid ${process.pid} on `));
    } finally {
      await rm(join(dir, '.lock'), { force: true });
    }
  });

  it('the lock pkictl writes records its start time and boot id', async () => {
    const code = `const { acquireLock } = await import(${JSON.stringify(new URL('../../dist/bundle/store-lock.js', import.meta.url).pathname)});
const lock = await acquireLock(${JSON.stringify(dir)}, { command: 'test' });
const fs = await import('node:fs');
process.stdout.write(fs.readFileSync(${JSON.stringify(join(dir, '.lock'))}, 'utf8'));
const stat = fs.readFileSync('/proc/self/stat', 'utf8');
process.stdout.write(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
await lock.release();`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    const [line, start] = out.split('\n');
    expect(JSON.parse(line!)).toMatchObject({ start, boot: await bootId() });
  });
});

/** Whether this process may mount a tmpfs (root in CI); else why not, for the skip message. */
function tmpfsRefusal(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'pkictl-ro-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir]);
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs here (${String((error as Error).message).split('\n')[0]}): needs root`;
  } finally {
    rmdirSync(dir);
  }
}

const refusal = tmpfsRefusal();

describe('a read-only tree', () => {
  it.skipIf(refusal !== undefined)(`writing commands fail with one line naming the file and the cause (EROFS)${refusal ? ` — skipped: ${refusal}` : ''}`, async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'pkictl-ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      const dir = join(mnt, 'certs');
      mkdirSync(dir, { mode: 0o700 });
      await initCa(dir);
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      for (const args of [['issue', 'client', '--dir', dir, '--key', 'ec-p256', ...uuids(1)], ['crl', '--dir', dir], ['rotate', '--dir', dir, '--all']]) {
        const r = await cli(args);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr.trim().split('\n')).toEqual([`error: cannot take the lock ${join(dir, '.lock')}: read-only file system`]);
      }
      const list = await cli(['list', '--dir', dir]); // reading still works
      expect(list.code, list.stderr).toBe(0);
    } finally {
      execFileSync('umount', [mnt]);
      rmdirSync(mnt);
    }
  });
});
