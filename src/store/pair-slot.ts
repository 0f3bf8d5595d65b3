import { randomBytes } from 'node:crypto';
import { constants, readlinkSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readFile, readlink, rename, rm, symlink, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { failure } from '../core/errors.js';
import { CERT_MODE, KEY_MODE, syncDir, syncDirShared, writeFilesAtomically, writeFilesSynced } from './atomic-write.js';
import { foreignLinkError, lstatQuiet, type ForeignLink } from './links.js';

/**
 * A certificate/key pair that is replaced in one atomic step (the scheme of Kubernetes' atomic
 * writer for Secret volumes):
 *
 *   clients/<id>/client.crt -> current/client.crt      contract paths: symlinks, never rewritten
 *   clients/<id>/client.key -> current/client.key
 *   clients/<id>/current    -> versions/<version>      the one switch: replaced with rename(2)
 *   clients/<id>/versions/<version>/client.crt, client.key   each pair written whole, then never changed
 *
 * A reader resolves `current` on every open(), so each file it opens belongs to one complete pair;
 * the only mismatch left is a reader whose two opens straddle the rename itself, and its retry
 * succeeds. The previous versions stay in versions/ (modes as written) for rollback.
 * The server pair uses the same shape: server.crt -> server-pair/current/server.crt.
 * A tenant that was never rotated holds its pair as two plain files (see createSlot).
 */

export interface SlotSpec {
  /** Directory holding `current` and `versions/` (mode `dirMode`). */
  base: string;
  /** Contract paths (absolute) and the file names inside a version. */
  certLink: string;
  keyLink: string;
  certName: string;
  keyName: string;
  dirMode: number;
}

export interface PairPem {
  certPem: string;
  /** Absent for a certificate whose key lives elsewhere (installCertOnly). */
  keyPem?: string;
}

const tmp = (dir: string, name: string) => join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Points `link` at `target` atomically: a new symlink under a temp name, renamed over the old. */
async function replaceSymlink(link: string, target: string): Promise<void> {
  const temp = tmp(dirname(link), basename(link));
  await symlink(target, temp);
  try {
    await rename(temp, link);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Version directory names sort by issue time: 20261124T211830Z-<first 16 hex of the serial>. */
export function versionName(notBefore: Date, serial: string): string {
  return `${notBefore.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${serial.slice(0, 16)}`;
}

/** Writes versions/<version>/ whole (temp dir, fsync, rename); an existing one is left as is. */
async function writeVersion(spec: SlotSpec, base: string, version: string, pair: PairPem): Promise<void> {
  const versions = join(base, 'versions');
  await mkdir(versions, { recursive: true, mode: spec.dirMode });
  const final = join(versions, version);
  const found = await lstatOrNull(final);
  // Never kept as this version: `current` would then point through it.
  if (found?.isSymbolicLink()) throw foreignLinkError({ path: final, target: await readlink(final) }, (p) => p);
  if (found) return;
  const temp = tmp(versions, version);
  await mkdir(temp, { mode: spec.dirMode });
  try {
    await chmod(temp, spec.dirMode);
    await writePair(spec, temp, pair);
    await rename(temp, final);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  await syncDir(versions);
}

/** The pair's two files in `dir`, synced with `dir` and `moreDirs`. */
function writePair(spec: SlotSpec, dir: string, pair: PairPem, moreDirs: string[] = []): Promise<void> {
  const files = [
    ...(pair.keyPem === undefined ? [] : [{ name: spec.keyName, data: pair.keyPem, mode: KEY_MODE }]),
    { name: spec.certName, data: pair.certPem, mode: CERT_MODE },
  ];
  return writeFilesSynced(dir, files, moreDirs);
}

/** What the contract links must point at, relative to the link's own directory. */
const linkTarget = (spec: SlotSpec, name: string) => join(relative(dirname(spec.certLink), spec.base) || '.', 'current', name);

/**
 * Creates a slot that does not exist yet. The directory is built under a temp name, synced, and
 * renamed into place: it appears whole, and rename(2) of a directory fails if the target exists, so
 * a tenant that appeared meanwhile is never replaced.
 *
 * A tenant's first pair is two plain files: with nothing to swap yet, the directory rename is all
 * the atomicity it needs, and a bulk run of thousands of new tenants saves a third of its file
 * system calls. Its first rotation turns the slot into versions/ + current (ensureVersioned), with
 * a matching pair at every step. The server, whose links live outside its slot, starts versioned.
 */
export async function createSlot(spec: SlotSpec, version: string, pair: PairPem): Promise<void> {
  const linksInBase = dirname(spec.certLink) === spec.base;
  const temp = tmp(dirname(spec.base), basename(spec.base));
  // mkdir's mode only loses bits to the umask, and 0700 loses none under any umask that leaves
  // the owner access: no chmod needed (nobody sees the temp dir before it is complete anyway).
  await mkdir(temp, { mode: spec.dirMode });
  try {
    if (linksInBase) {
      await writePair(spec, temp, pair);
    } else {
      const versionDir = join(temp, 'versions', version);
      await mkdir(join(temp, 'versions'), { mode: spec.dirMode });
      await mkdir(versionDir, { mode: spec.dirMode });
      await symlink(join('versions', version), join(temp, 'current'));
      await writePair(spec, versionDir, pair, [join(temp, 'versions'), temp]);
    }
    await rename(temp, spec.base);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') throw failure('ALREADY_EXISTS', `${spec.base} appeared while this pair was being written; nothing was replaced`);
    throw error;
  }
  if (!linksInBase) {
    await replaceSymlink(spec.keyLink, linkTarget(spec, spec.keyName));
    await replaceSymlink(spec.certLink, linkTarget(spec, spec.certName));
    await syncDir(dirname(spec.certLink));
  }
  await syncDirShared(dirname(spec.base));
}

export type SlotState = 'absent' | 'plain' | 'versioned' | 'partial' | 'cert-only';

/**
 * What the slot holds, and the first link in it that is not its own shape (links.ts says why):
 * a client slot's clients/ and tenant directory must be real directories, the contract paths
 * regular files or links to exactly current/<name>, `current` a link to versions/<one name>, and
 * versions/, that version and its two files real. With a link, `state` means nothing.
 *
 * absent: nothing; plain: client.crt/key as regular files (a new tenant, or an openssl-made one);
 * versioned: links + current (links missing after a crash are repaired by ensureVersioned);
 * cert-only: client.crt as a regular file and nothing else: a tenant whose key lives on its
 * connector (pkictl sign, serve), or a pair that lost its key (audit tells them apart by the index).
 * Synchronous, each path lstat'ed once (six for a plain pair): `rotate --dry-run` asks it for each
 * of 10,000 tenants, and for calls this small the libuv thread hand-offs cost more than the calls.
 */
export function inspectSlot(spec: SlotSpec): { state: SlotState; link?: ForeignLink } {
  const foreign = (path: string) => ({ state: 'partial' as const, link: { path, target: readlinkSync(path) } });
  // A server slot's parent is the tree root, which may be a link the user chose (--dir).
  const parent = dirname(spec.base);
  if (dirname(spec.certLink) === spec.base && lstatQuiet(parent)?.isSymbolicLink()) return foreign(parent);
  if (lstatQuiet(spec.base)?.isSymbolicLink()) return foreign(spec.base);
  const cert = lstatQuiet(spec.certLink);
  const key = lstatQuiet(spec.keyLink);
  if (cert?.isSymbolicLink() && readlinkSync(spec.certLink) !== linkTarget(spec, spec.certName)) return foreign(spec.certLink);
  if (key?.isSymbolicLink() && readlinkSync(spec.keyLink) !== linkTarget(spec, spec.keyName)) return foreign(spec.keyLink);
  const versions = join(spec.base, 'versions');
  if (lstatQuiet(versions)?.isSymbolicLink()) return foreign(versions);
  const currentPath = join(spec.base, 'current');
  const current = lstatQuiet(currentPath);
  if (current?.isSymbolicLink()) {
    const [dir, version, ...more] = readlinkSync(currentPath).split('/');
    if (dir !== 'versions' || !version || version === '.' || version === '..' || more.length > 0) return foreign(currentPath);
    const versionDir = join(versions, version);
    for (const path of [versionDir, join(versionDir, spec.certName), join(versionDir, spec.keyName)]) {
      if (lstatQuiet(path)?.isSymbolicLink()) return foreign(path);
    }
  }
  if (cert?.isFile() && !key && !current) return { state: 'cert-only' };
  if (cert?.isFile() || key?.isFile()) return { state: cert && key ? 'plain' : 'partial' };
  if (!cert && !key && !current) return { state: 'absent' };
  return { state: current?.isSymbolicLink() ? 'versioned' : 'partial' };
}

export const foreignLinkInSlot = (spec: SlotSpec): ForeignLink | undefined => inspectSlot(spec).link;

/**
 * Brings a slot to the versioned shape without ever exposing a mismatched pair, idempotently (a
 * crash at any step is finished by the next call):
 *  1. the plain pair is copied into versions/<its version>/ (the old pair, unchanged);
 *  2. `current` is pointed at that version;
 *  3. client.key is replaced by a link to current/client.key: the same key, so the pair still matches;
 *  4. client.crt likewise.
 * Between any two steps both contract paths resolve to the old pair.
 */
export async function ensureVersioned(spec: SlotSpec, versionOf: (certPem: string) => string): Promise<void> {
  const [cert, key] = await Promise.all([lstatOrNull(spec.certLink), lstatOrNull(spec.keyLink)]);
  if (cert?.isFile() || key?.isFile()) {
    if (!cert || !key) throw failure('PAIR_INCOMPLETE', `${dirname(spec.certLink)} holds only one of ${basename(spec.certLink)} and ${basename(spec.keyLink)}`);
    // Read through the links: one of the two may already be a link from an interrupted migration.
    const pair = { certPem: await readFile(spec.certLink, 'utf8'), keyPem: await readFile(spec.keyLink, 'utf8') };
    const version = versionOf(pair.certPem);
    await mkdir(spec.base, { recursive: true, mode: spec.dirMode });
    await writeVersion(spec, spec.base, version, pair);
    const current = join(spec.base, 'current');
    const wanted = join('versions', version);
    if ((await lstatOrNull(current)) === null || (await readlink(current)) !== wanted) await replaceSymlink(current, wanted);
    await syncDir(spec.base);
    if (key.isFile()) await replaceSymlink(spec.keyLink, linkTarget(spec, spec.keyName));
    if (cert.isFile()) await replaceSymlink(spec.certLink, linkTarget(spec, spec.certName));
    await syncDir(dirname(spec.certLink));
    return;
  }
  const current = await lstatOrNull(join(spec.base, 'current'));
  if (!current?.isSymbolicLink()) throw failure('PAIR_INCOMPLETE', `${spec.base} has no current pair`);
  if (!cert) await replaceSymlink(spec.certLink, linkTarget(spec, spec.certName));
  if (!key) await replaceSymlink(spec.keyLink, linkTarget(spec, spec.keyName));
}

/**
 * The swap: writes the new version whole, then renames a new `current` link over the old one.
 * This rename is the single instant at which readers move from the old pair to the new one.
 */
export async function installVersion(spec: SlotSpec, version: string, pair: PairPem): Promise<void> {
  await writeVersion(spec, spec.base, version, pair);
  await replaceSymlink(join(spec.base, 'current'), join('versions', version));
  await syncDir(spec.base);
}

async function currentVersion(spec: SlotSpec): Promise<string | undefined> {
  try {
    return basename(await readlink(join(spec.base, 'current')));
  } catch {
    return undefined;
  }
}

/** Keeps the current version and the `keep` newest others; removes older ones and stray temp dirs. */
export async function pruneVersions(spec: SlotSpec, keep: number): Promise<string[]> {
  const versions = join(spec.base, 'versions');
  const current = await currentVersion(spec);
  let names: string[];
  try {
    names = await readdir(versions);
  } catch {
    return [];
  }
  const stray = names.filter((n) => n.startsWith('.') && n.endsWith('.tmp'));
  const others = names.filter((n) => !n.startsWith('.') && n !== current).sort().reverse();
  const removed = [...stray, ...others.slice(keep)];
  for (const name of removed) await rm(join(versions, name), { recursive: true, force: true });
  // Temp links left in the base by a run killed between symlink() and rename().
  for (const name of await readdir(spec.base)) {
    if (name.startsWith('.') && name.endsWith('.tmp')) await rm(join(spec.base, name), { force: true });
  }
  return removed;
}

/**
 * A slot holding a certificate alone (its key lives elsewhere: SlotState 'cert-only'): a new one
 * appears whole (createSlot), an existing one gets the new certificate with one rename, over the
 * plain file or over the contract link of a pair moving to its connector's key (whose keys the
 * caller then destroys).
 */
export async function installCertOnly(spec: SlotSpec, certPem: string, exists: boolean): Promise<void> {
  if (exists && !lstatQuiet(spec.certLink)?.isSymbolicLink()) return writeFilesAtomically([{ path: spec.certLink, data: certPem, mode: CERT_MODE }]);
  if (exists) {
    // The link of a pair being moved to its connector's key: a new file renamed over the link itself.
    const dir = dirname(spec.certLink);
    const name = basename(tmp(dir, spec.certName));
    await writeFilesSynced(dir, [{ name, data: certPem, mode: CERT_MODE }]);
    try {
      await rename(join(dir, name), spec.certLink);
    } catch (error) {
      await rm(join(dir, name), { force: true });
      throw error;
    }
    await syncDir(dir);
    return;
  }
  // A client slot's first content is plain files (createSlot): here the certificate alone.
  await createSlot(spec, '', { certPem });
}

/**
 * Destroys the private keys of a slot that is out of service (an archived tenant): every version's
 * key file is overwritten with zeros, synced and unlinked, and so is a plain key file; the key link
 * goes. Idempotent, so recovery can finish it. Overwriting in place only helps on file systems that
 * write in place: on copy-on-write file systems and SSDs old blocks may survive (README).
 */
export async function destroyKeys(spec: SlotSpec): Promise<void> {
  const files = [spec.keyLink];
  const versions = join(spec.base, 'versions');
  for (const name of await readdir(versions).catch(() => [] as string[])) files.push(join(versions, name, spec.keyName));
  for (const path of files) {
    const found = await lstatOrNull(path);
    if (!found) continue;
    if (found.isFile()) {
      const handle = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        await handle.write(Buffer.alloc(found.size), 0, found.size, 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await unlink(path);
    await syncDir(dirname(path));
  }
}
