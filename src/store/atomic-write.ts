import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { foreignLinkError, linkAt } from './links.js';

export const KEY_MODE = 0o600;
export const CERT_MODE = 0o644;
export const KEY_DIR_MODE = 0o700;

export interface FileToWrite {
  path: string;
  data: string;
  mode: number;
}

/** Whether anything is at `path`, a link included (even one that points nowhere). */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Creates a directory (and parents) with an exact mode, whatever the umask. */
export async function ensureDir(path: string, mode: number): Promise<void> {
  const created = await mkdir(path, { recursive: true, mode });
  if (created !== undefined) await chmod(path, mode);
}

/** fsync of a directory (or a file: read-only descriptors can be synced too). */
export async function syncDir(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const tempName = (path: string) => join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);

/**
 * Creates a file that did not exist (O_EXCL, which also fails on any link at `path`; O_NOFOLLOW says
 * so) with its final mode and data; the caller syncs and closes it.
 */
async function createFile(path: string, data: string, mode: number): Promise<FileHandle> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await handle.chmod(mode); // the umask may have taken bits from `mode`
    await handle.writeFile(data);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Writes a new file that did not exist: O_EXCL with its final mode, data, fsync. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  const handle = await createFile(path, data, mode);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const nextDirSync = new Map<string, Promise<void>>();
const runningDirSync = new Map<string, Promise<void>>();

/**
 * syncDir for a directory many concurrent jobs change (clients/ during a bulk run): a caller that
 * arrives while a sync of it runs shares the next one, which starts after that and so covers the
 * caller's change. N tenants renamed into clients/ at about the same time cost a few fsyncs, not N.
 */
export function syncDirShared(path: string): Promise<void> {
  const queued = nextDirSync.get(path);
  if (queued) return queued;
  const next = (runningDirSync.get(path) ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => {
      nextDirSync.delete(path); // from here on, a new caller's change may come after this sync began
      const run = syncDir(path);
      runningDirSync.set(path, run);
      return run.finally(() => {
        if (runningDirSync.get(path) === run) runningDirSync.delete(path);
      });
    });
  nextDirSync.set(path, next);
  return next;
}

/**
 * Creates files in `dir` (which nobody reads yet) and fsyncs them, `dir` and `moreDirs` together,
 * after all of them are made: the first fsync commits the file system's journal with every change,
 * so the others find little left to write (syncing after each step costs a journal commit per step).
 */
export async function writeFilesSynced(dir: string, files: Array<{ name: string; data: string; mode: number }>, moreDirs: string[] = []): Promise<void> {
  const handles: FileHandle[] = [];
  try {
    for (const file of files) handles.push(await createFile(join(dir, file.name), file.data, file.mode));
    await Promise.all([...handles.map((h) => h.sync()), ...[dir, ...moreDirs].map(syncDir)]);
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/**
 * Writes each file to a temp file in its own directory (same file system), fsyncs it, then renames
 * them into place in order and fsyncs the directories. A crash leaves every target either absent,
 * or old, or complete and new; never truncated. Callers order `files` so the one that marks
 * completion (the certificate) comes last.
 */
export async function writeFilesAtomically(files: FileToWrite[]): Promise<void> {
  // A planted link is refused, not replaced: whoever planted it expects it to be written through.
  for (const f of files) {
    const link = linkAt(f.path);
    if (link) throw foreignLinkError(link, (p) => p);
  }
  const temps = files.map((f) => ({ ...f, temp: tempName(f.path) }));
  try {
    for (const f of temps) await writeNew(f.temp, f.data, f.mode);
    for (const f of temps) await rename(f.temp, f.path);
  } catch (error) {
    // Renamed ones are gone already; the rest must not stay behind.
    await Promise.all(temps.map((f) => rm(f.temp, { force: true })));
    throw error;
  }
  for (const dir of new Set(files.map((f) => dirname(f.path)))) await syncDir(dir);
}
