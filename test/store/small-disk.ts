import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { consistency, type Consistency } from './consistency.js';
import { cli, EC, initCa, issueClients } from './fixture.js';

/**
 * A real tmpfs of `kib` KiB, mounted for the test file and unmounted after it (call it where afterAll
 * registers for the file: at describe level, not inside a test). Needs root (CI runs
 * the tests as root); where mounting is impossible it returns the reason instead, and the caller
 * skips, except under PKICTL_REQUIRE_PEERS=1, where that is a failure.
 */
export async function smallDisk(kib: number): Promise<{ path: string } | { skip: string }> {
  const path = join(await tempDir('pkictl-disk-'), 'mnt');
  await mkdir(path);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0700`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (error) {
    const reason = `cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}): needs root`;
    if (process.env.PKICTL_REQUIRE_PEERS === '1') throw new Error(reason);
    return { skip: reason };
  }
  afterAll(() => execFileSync('umount', ['-l', path]));
  return { path };
}

/** Fills the file system at `dir` so that about `leaveBytes` stay free; returns the filler to delete. */
export async function fillDisk(dir: string, leaveBytes: number): Promise<string> {
  const filler = join(dir, 'filler');
  const { bavail, bsize } = statfsSync(dir);
  await writeFile(filler, Buffer.alloc(Math.max(0, bavail * bsize - leaveBytes)));
  return filler;
}

export const freeDisk = (filler: string) => rm(filler, { force: true });

export interface FullDiskRun {
  /** KiB left free when the run started. */
  leftKib: number;
  /** The run that met the full disk: its exit code and whether stderr held a stack trace. */
  failedRun: { code: number | null; stackTrace: boolean; stderr: string };
  /** The rerun after space came back. */
  rerun: { code: number | null; stderr: string };
  after: Consistency;
  /** Tenants asked for that have no directory after the rerun. */
  missingTenants: number;
}

/**
 * On the tmpfs at `disk`, for each amount of free space: a CA, then `issue client --from` of `n`
 * tenants with only that much left, then the filler deleted and the same command rerun with
 * --skip-existing (kind 'issue'); or `n` 1-day tenants rotated with --all, then rotated again
 * (kind 'rotate').
 */
export async function fullDiskRuns(disk: string, kind: 'issue' | 'rotate', leftKib: number[], n: number): Promise<FullDiskRun[]> {
  const runs: FullDiskRun[] = [];
  const ids = Array.from({ length: n }, () => randomUUID());
  const idsFile = join(await tempDir(), 'ids.txt');
  await writeFile(idsFile, ids.join('\n') + '\n');
  for (const left of leftKib) {
    const dir = join(disk, `${kind}-${left}-${randomUUID()}`, 'certs');
    await mkdir(dir, { recursive: true });
    await initCa(dir);
    if (kind === 'rotate') await issueClients(dir, ids, ['--days', '1']);
    const filler = await fillDisk(dir, left * 1024);
    const failed = kind === 'issue'
      ? await cli(['issue', 'client', '--dir', dir, ...EC, '--from', idsFile, '--concurrency', '4'])
      : await cli(['rotate', '--dir', dir, '--all', '--concurrency', '4']);
    await freeDisk(filler);
    const rerun = kind === 'issue' ? await cli(['issue', 'client', '--dir', dir, ...EC, '--from', idsFile, '--skip-existing']) : await cli(['rotate', '--dir', dir]);
    const present = new Set(await readdir(join(dir, 'clients')).catch(() => []));
    runs.push({
      leftKib: left,
      failedRun: { code: failed.code, stackTrace: /\n\s+at /.test(failed.stderr), stderr: failed.stderr.trim() },
      rerun: { code: rerun.code, stderr: rerun.stderr.trim() },
      after: await consistency(dir),
      missingTenants: ids.filter((id) => !present.has(id)).length,
    });
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
  return runs;
}
