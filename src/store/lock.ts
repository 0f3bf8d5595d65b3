import { constants, statSync } from 'node:fs';
import { link, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { kill, pid as ownPid } from 'node:process';
import { failure } from '../core/errors.js';
import { reasonOf } from './files.js';

/**
 * One exclusive lock per CA directory: `<dir>/.lock`, created with O_CREAT|O_EXCL and holding the
 * owner's pid, host and command. Every command that changes the directory holds it.
 *
 * Why not flock(2): Node has no binding for it. Why not proper-lockfile: it detects a dead owner by
 * the lock's age (default 10 s of no heartbeat), so after a SIGKILL every later command waits that
 * long; here the owner's pid is checked directly, so a crashed run is taken over at once.
 *
 * Stale recovery: a lock whose owner is on this host and no longer alive (kill(pid, 0) → ESRCH) is
 * stale; so is one whose pid is alive but is another process: pids are reused, so the lock records
 * its owner's start time (/proc/<pid>/stat field 22, clock ticks since boot) and the boot id, and a
 * live pid that started at another time, or a lock from an earlier boot, is stale. A lock whose pid
 * is not a positive integer was not written by pkictl (kill(0) and kill(-n) signal whole process
 * groups and would call it alive forever): stale too, on any host.
 *
 * Two waiters may both see a lock stale at the same time; to stop the second one from deleting
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
  /** The owner's start time in clock ticks since boot (Linux; absent elsewhere). */
  start?: string;
  /** /proc/sys/kernel/random/boot_id when the lock was taken (Linux). */
  boot?: string;
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
/** Touched by every process waiting for the lock: a long-lived holder (serve) sees it and lets go. */
export const WAIT_FILE = '.lock.wait';

/** Whether a process is waiting for the lock now (it touches WAIT_FILE on every try). */
export function lockWanted(dir: string): boolean {
  // Synchronous: serve asks before every request, and one stat costs less than a thread-pool round trip.
  const info = statSync(join(dir, WAIT_FILE), { throwIfNoEntry: false });
  return info !== undefined && Date.now() - info.mtimeMs < 1_000;
}

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

function alive(pid: number): boolean {
  try {
    kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's owner; undefined while the file is missing or half written (not JSON yet). */
async function readOwner(path: string): Promise<LockOwner | undefined> {
  let parsed: unknown;
  try {
    const text = await readLockFile(path);
    parsed = text === undefined ? {} : JSON.parse(text);
  } catch {
    return undefined; // missing, or being written right now (empty)
  }
  // Complete JSON that is not an owner is garbage, not a write in progress: an invalid pid marks it stale.
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<LockOwner>;
  return { pid: typeof o.pid === 'number' ? o.pid : NaN, host: String(o.host ?? ''), command: String(o.command ?? '?'), since: String(o.since ?? '?'), start: o.start, boot: o.boot };
}

/** What pkictl writes in a lock file is ~200 bytes: more is not a lock pkictl wrote. */
const MAX_LOCK_BYTES = 4096;

/**
 * The lock file's text, read without following a link and at most MAX_LOCK_BYTES; undefined for
 * something pkictl never writes there (a link, a FIFO, a device, a huge file), which is then judged
 * stale and moved aside like any garbage lock: the link itself, never its target.
 */
async function readLockFile(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_LOCK_BYTES) return undefined;
    const buffer = Buffer.alloc(MAX_LOCK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A process's start time (/proc/<pid>/stat field 22); undefined off Linux or when it is gone. */
async function startTimeOf(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

async function bootId(): Promise<string | undefined> {
  return readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((text) => text.trim(), () => undefined);
}

/** Whether `owner`'s lock can be broken: its pid is invalid, or (on this host) dead or another process now. */
async function isStale(owner: LockOwner, me: LockOwner): Promise<boolean> {
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return true;
  if (owner.host !== me.host) return false;
  if (!alive(owner.pid)) return true;
  if (owner.boot !== undefined && me.boot !== undefined && owner.boot !== me.boot) return true;
  if (owner.start === undefined) return false; // written without a start time: the pid is all we know
  const start = await startTimeOf(owner.pid);
  return start !== undefined && start !== owner.start;
}

const describe = (o: LockOwner) => `pid ${o.pid} on ${o.host} (${o.command}, since ${o.since})`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function touchWaitFile(dir: string): Promise<void> {
  const path = join(dir, WAIT_FILE);
  const now = new Date();
  await utimes(path, now, now).catch(async () => {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600).catch(() => undefined);
    await handle?.close();
  });
}

const cannotLock = (path: string, error: unknown) => failure('LOCK_FAILED', `cannot take the lock ${path}: ${reasonOf(error).reason}`);

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw cannotLock(path, error);
  }
  try {
    await handle.writeFile(JSON.stringify(owner) + '\n');
  } catch (error) {
    // A full disk: an empty lock left behind would make the next command wait for it.
    await rm(path, { force: true });
    throw cannotLock(path, error);
  } finally {
    await handle.close();
  }
  return true;
}

const sameOwner = (a: LockOwner, b: LockOwner) => Object.is(a.pid, b.pid) && a.since === b.since && a.host === b.host;

/** Moves a lock judged stale out of the way; true when it was removed (by us or someone else). */
async function breakStale(path: string, judged: LockOwner): Promise<boolean> {
  const aside = `${path}.stale.${ownPid}.${Math.random().toString(16).slice(2)}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw failure('LOCK_FAILED', `cannot remove the stale lock ${path}: ${reasonOf(error).reason}`);
  }
  const moved = await readOwner(aside);
  if (moved && !sameOwner(moved, judged)) {
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
  const [start, boot] = await Promise.all([startTimeOf(ownPid), bootId()]);
  const me: LockOwner = { pid: ownPid, host: hostname(), command: options.command, since: new Date().toISOString(), start, boot };
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let warned = false;
  let delay = 5;
  for (;;) {
    if (await tryCreate(path, me)) break;
    const owner = await readOwner(path);
    if (owner && (await isStale(owner, me))) {
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
    await touchWaitFile(dir);
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
