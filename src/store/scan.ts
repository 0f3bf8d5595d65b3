import { closeSync, fstatSync, openSync, readSync, statSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../core/errors.js';
import { Layout } from './layout.js';

/*
 * Reads the certs/ tree for `list` and `audit` without trusting it: every file may be missing,
 * unreadable, huge or a directory, and each problem is recorded on the entry instead of stopping
 * the scan. Files are read in parallel batches (the libuv pool does the I/O), and each file costs
 * one open + fstat + read + close: the fstat of the open handle gives size and mode for free.
 */

/** Far above any certificate or key; a planted 100 MB file is reported, not read. */
const MAX_FILE_BYTES = 1024 * 1024;

export type EntryKind = 'ca' | 'server' | 'client';

export type FileRead =
  | { ok: true; bytes: Uint8Array; mode: number }
  | { ok: false; missing: boolean; reason: string; mode?: number };

export interface TreeEntry {
  kind: EntryKind;
  /** The directory name under clients/ (a tenant id if the tree is healthy). */
  tenant?: string;
  certPath: string;
  keyPath: string;
  cert: FileRead;
  /** Read only when the scan asks for keys (audit). */
  key?: FileRead;
  /** Permission bits of the directory holding the key (audit). */
  dirMode?: number;
}

export interface TreeScan<T = TreeEntry> {
  root: string;
  layout: Layout;
  /** In contract order: ca, server, then tenants sorted by directory name. */
  entries: T[];
  /** Paths in the tree that are not part of the certs/ contract (only when asked for). */
  stray: string[];
}

export interface ScanOptions {
  keys?: boolean;
  strays?: boolean;
}

/**
 * What pkictl itself keeps in the tree besides the contract files: the lock, the issuance index, the
 * audit log and the CRL (layout.ts), and the pair slots of store/pair-slot.ts (`current` symlink and
 * `versions/` per tenant, `server-pair/` for the gateway pair).
 */
const KNOWN_ROOT_ENTRIES = new Set(['ca.crt', 'ca.key', 'server.crt', 'server.key', 'clients', 'server-pair', 'index.jsonl', 'audit.log', 'crl.pem', '.lock']);
const KNOWN_CLIENT_ENTRIES = new Set(['client.crt', 'client.key', 'current', 'versions']);

/** Runs `fn` over `items` with at most `limit` calls in flight, keeping the order of results. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function describeError(error: unknown): { missing: boolean; reason: string } {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { missing: true, reason: 'missing' };
  if (code === 'EACCES' || code === 'EPERM') return { missing: false, reason: 'permission denied' };
  if (code === 'EISDIR') return { missing: false, reason: 'is a directory, not a file' };
  if (code === 'ELOOP') return { missing: false, reason: 'symbolic link loop' };
  return { missing: false, reason: code ?? (error as Error).message };
}

/**
 * One small file of the tree, with its mode; never throws for the usual file-system problems.
 *
 * Synchronous on purpose: measured on a 10,000-tenant tree (bench/list-scan.mjs, this 2-core box),
 * open+fstat+read+close done synchronously took 0.5-0.9 s where the same calls through the libuv
 * pool took 1.2-2.7 s at 8 or 64 in flight: each file is a few hundred bytes, so the thread hand-offs
 * cost more than the reads. A CLI scan has nothing else to do meanwhile.
 */
export function readTreeFileSync(path: string): FileRead {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const info = fstatSync(fd);
    const mode = info.mode & 0o777;
    if (info.isDirectory()) return { ok: false, missing: false, reason: 'is a directory, not a file', mode };
    if (!info.isFile()) return { ok: false, missing: false, reason: 'is not a regular file', mode };
    if (info.size > MAX_FILE_BYTES) return { ok: false, missing: false, reason: `is ${Math.round(info.size / 1024)} KiB, too large for a certificate or key`, mode };
    // allocUnsafe draws small files from Buffer's shared slab: 10,000 separate ArrayBuffers made
    // garbage collection a quarter of a list run.
    const bytes = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return { ok: true, bytes: filled === bytes.length ? bytes : bytes.subarray(0, filled), mode };
  } catch (error) {
    return { ok: false, ...describeError(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function listDir(path: string): Promise<Dirent[] | undefined> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw inputError('DIR_UNREADABLE', `cannot read ${path}: ${describeError(error).reason}`);
  }
}

/**
 * Scans `root`: ca.crt, server.crt and every clients/<tenant>/client.crt (and the keys when asked).
 * A missing root or ca.crt is an input error (exit 2): there is no CA tree to report on.
 */
/**
 * `project`, when given, turns each entry into what the caller keeps, as soon as it is read: list
 * keeps a small row per certificate instead of 10,000 file buffers (less garbage-collector work).
 */
export async function scanTree(root: string, options?: ScanOptions): Promise<TreeScan>;
export async function scanTree<T>(root: string, options: ScanOptions, project: (entry: TreeEntry) => T): Promise<TreeScan<T>>;
export async function scanTree<T>(root: string, options: ScanOptions = {}, project?: (entry: TreeEntry) => T): Promise<TreeScan<T | TreeEntry>> {
  const layout = new Layout(root);
  const rootEntries = await listDir(layout.root);
  if (!rootEntries) throw inputError('DIR_MISSING', `${layout.display(layout.root)}: no such directory`, 'pass --dir with the certs/ tree');
  const names = new Set(rootEntries.map((e) => e.name));
  if (!names.has('ca.crt')) {
    throw inputError('CA_MISSING', `no CA in ${layout.display(layout.root)} (${layout.display(layout.caCert)} not found)`, 'pass --dir with the certs/ tree, or create one with: pkictl init');
  }

  const stray: string[] = [];
  if (options.strays) {
    for (const e of rootEntries) {
      if (!KNOWN_ROOT_ENTRIES.has(e.name)) stray.push(join(layout.root, e.name));
    }
  }

  const wanted: Omit<TreeEntry, 'cert'>[] = [{ kind: 'ca', certPath: layout.caCert, keyPath: layout.caKey }];
  if (names.has('server.crt') || names.has('server.key') || options.strays) wanted.push({ kind: 'server', certPath: layout.serverCert, keyPath: layout.serverKey });

  // A getter that joins paths on each call: read once, it is used several times per tenant.
  const clientsDir = layout.clientsDir;
  const clientEntries = (await listDir(clientsDir)) ?? [];
  const tenantNames: string[] = [];
  for (const e of clientEntries) {
    // Tenant directories may be symbolic links (a rotation that swaps versioned directories): follow them.
    if (e.isDirectory() || (e.isSymbolicLink() && statSync(join(clientsDir, e.name), { throwIfNoEntry: false })?.isDirectory())) tenantNames.push(e.name);
    else if (options.strays) stray.push(join(clientsDir, e.name));
  }
  tenantNames.sort();
  for (const tenant of tenantNames) {
    const dir = join(clientsDir, tenant);
    wanted.push({ kind: 'client', tenant, certPath: join(dir, 'client.crt'), keyPath: join(dir, 'client.key') });
  }

  // The root directory holds ca.key and server.key: its mode is what protects them.
  const rootMode = options.keys ? statSync(layout.root).mode & 0o777 : undefined;
  const entries: Array<T | TreeEntry> = [];
  for (const w of wanted) {
    const entry: TreeEntry = { ...w, cert: readTreeFileSync(w.certPath) };
    if (options.keys) entry.key = readTreeFileSync(w.keyPath);
    if (options.keys && w.kind !== 'client') entry.dirMode = rootMode;
    if (options.keys && w.kind === 'client') {
      const mode = statSync(join(clientsDir, w.tenant!), { throwIfNoEntry: false })?.mode;
      if (mode !== undefined) entry.dirMode = mode & 0o777;
    }
    if (options.strays && w.kind === 'client') {
      for (const e of (await listDir(join(clientsDir, w.tenant!))) ?? []) {
        if (!KNOWN_CLIENT_ENTRIES.has(e.name)) stray.push(join(clientsDir, w.tenant!, e.name));
      }
    }
    entries.push(project ? project(entry) : entry);
  }
  stray.sort();
  return { root: layout.root, layout, entries, stray };
}
