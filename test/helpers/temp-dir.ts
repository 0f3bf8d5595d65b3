import { lstat, mkdtemp, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh directory under the OS temp dir, removed when the test file ends. */
export async function tempDir(prefix = 'pkictl-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every real file and directory below `root` (symlinks not followed) with its permission bits. */
export async function treeModes(root: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  async function walk(dir: string) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isSymbolicLink()) continue;
      const path = join(dir, entry.name);
      out[relative(root, path)] = (await stat(path)).mode & 0o777;
      if (entry.isDirectory()) await walk(path);
    }
  }
  await walk(root);
  return out;
}

/** The permission bits of `path` as a program opening it sees them (symlinks followed). */
export const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** Names, modes and contents of every file below `root`: equal snapshots = nothing changed. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const { readFile } = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  async function walk(dir: string) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const mode = ((await lstat(path)).mode & 0o777).toString(8);
      if (entry.isSymbolicLink()) {
        out[relative(root, path)] = `-> ${await readlink(path)}`;
      } else if (entry.isDirectory()) {
        out[relative(root, path) + '/'] = mode;
        await walk(path);
      } else {
        out[relative(root, path)] = `${mode} ${createHash('sha256').update(await readFile(path)).digest('hex')}`;
      }
    }
  }
  await walk(root);
  return out;
}
