import { constants } from 'node:fs';
import { link, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { kill, pid as ownPid } from 'node:process';
import { failure } from '../core/errors.js';

/**
 * One exclusive lock per CA directory: `<dir>/.lock`, created with O_CREAT|O_EXCL and holding the
 * owner's pid, host and command. Every command that changes the directory holds it.
 *
 * Why not flock(2): Node has no binding for it. Why not proper-lockfile: it detects a dead owner by
 * the lock's age (default 10 s of no heartbeat), so after a SIGKILL every later command waits that
 * long; here the owner's pid is checked directly, so a crashed run is taken over at once.
 *
 * Stale recovery: a lock whose owner is on this host and no longer alive (kill(pid, 0) → ESRCH) is
 * stale. Two waiters may both see it stale at the same time; to stop the second one from deleting
 * the lock the first has just taken, a waiter first renames the stale lock to a unique name
 * (rename(2) is atomic, so only one waiter wins the rename of a given inode) and then checks that
 * the file it moved is the stale one it judged, not a fresh lock; a fresh lock is moved back.
 * A lock from another host (a shared volume) is never broken automatically: the message names it.
 */

export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface LockOptions {
  /** Give up after this long (ms); default 60 s (the CLI passes PKICTL_LOCK_TIMEOUT). */
  timeoutMs?: number;
  /** Called once when the lock is busy, with a sentence for the operator. */
  onWait?(message: string): void;
  /** Recorded in the lock file, to name the holder to whoever waits for it. */
  command: string;
}

export interface LockHandle {
  release(): Promise<void>;
}

export const LOCK_FILE = '.lock';

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

function alive(pid: number): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined; // missing, or being written right now (empty)
  }
}

const describe = (o: LockOwner) => `pid ${o.pid} on ${o.host} (${o.command}, since ${o.since})`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  try {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(JSON.stringify(owner) + '\n');
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Moves a lock judged stale out of the way; true when it was removed (by us or someone else). */
async function breakStale(path: string, judged: LockOwner): Promise<boolean> {
  const aside = `${path}.stale.${ownPid}.${Math.random().toString(16).slice(2)}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  const moved = await readOwner(aside);
  if (moved && (moved.pid !== judged.pid || moved.since !== judged.since || moved.host !== judged.host)) {
    // We moved a fresh lock that replaced the stale one after we read it: put it back. link(2), not
    // rename(2), so that a lock a third process created in this instant is not overwritten (that
    // remaining window, three processes within microseconds of a stale lock, is not closed).
    await link(aside, path).catch(() => undefined);
    await rm(aside, { force: true });
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

/**
 * Takes the directory's lock, waiting (with one message) while another live process holds it.
 * Throws a one-line failure after the timeout, naming the holder.
 */
export async function acquireLock(dir: string, options: LockOptions): Promise<LockHandle> {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: ownPid, host: hostname(), command: options.command, since: new Date().toISOString() };
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let warned = false;
  let delay = 5;
  for (;;) {
    if (await tryCreate(path, me)) break;
    const owner = await readOwner(path);
    if (owner && owner.host === me.host && !alive(owner.pid)) {
      await breakStale(path, owner);
      continue;
    }
    if (!owner) {
      // Empty or unreadable: being written right now, or left by a crash between create and write.
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > 5_000) await breakStale(path, { pid: -1, host: '', command: '', since: '' }).catch(() => false);
    }
    if (Date.now() >= deadline) {
      const who = owner ? describe(owner) : 'another process';
      throw failure('LOCK_TIMEOUT', `${path} is held by ${who}; gave up after ${Math.round(timeoutMs / 1000)} s`,
        owner && owner.host !== me.host ? 'the holder runs on another host; if it is gone, remove the lock file by hand' : 'wait for it to finish, or raise PKICTL_LOCK_TIMEOUT (seconds)');
    }
    if (!warned) {
      warned = true;
      options.onWait?.(`waiting for the lock on ${dir}: held by ${owner ? describe(owner) : 'another process'}`);
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }
  let released = false;
  // Refresh the mtime now and then so an operator can see a long run is alive.
  const beat = setInterval(() => void utimes(path, new Date(), new Date()).catch(() => undefined), 10_000);
  beat.unref();
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      const owner = await readOwner(path);
      if (owner && owner.pid === me.pid && owner.since === me.since) await rm(path, { force: true });
    },
  };
}
