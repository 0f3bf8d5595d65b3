import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
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
/** Enough requests in flight to keep the libuv pool busy; more only adds memory. */
const READ_CONCURRENCY = 64;

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

export interface TreeScan {
  root: string;
  layout: Layout;
  entries: TreeEntry[];
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

/** One small file of the tree, with its mode; never throws for the usual file-system problems. */
export async function readTreeFile(path: string): Promise<FileRead> {
  let handle;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    const mode = info.mode & 0o777;
    if (info.isDirectory()) return { ok: false, missing: false, reason: 'is a directory, not a file', mode };
    if (!info.isFile()) return { ok: false, missing: false, reason: 'is not a regular file', mode };
    if (info.size > MAX_FILE_BYTES) return { ok: false, missing: false, reason: `${Math.round(info.size / 1024)} KiB is too large for a certificate or key`, mode };
    const bytes = new Uint8Array(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { ok: true, bytes: filled === bytes.length ? bytes : bytes.subarray(0, filled), mode };
  } catch (error) {
    return { ok: false, ...describeError(error) };
  } finally {
    await handle?.close().catch(() => undefined);
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
export async function scanTree(root: string, options: ScanOptions = {}): Promise<TreeScan> {
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

  const clientEntries = (await listDir(layout.clientsDir)) ?? [];
  // Tenant directories may be symbolic links (a rotation that swaps versioned directories): follow them.
  const tenants = await mapConcurrent(clientEntries, READ_CONCURRENCY, async (e) => {
    if (e.isDirectory()) return e.name;
    if (e.isSymbolicLink()) {
      const info = await stat(join(layout.clientsDir, e.name)).catch(() => undefined);
      if (info?.isDirectory()) return e.name;
    }
    if (options.strays) stray.push(join(layout.clientsDir, e.name));
    return undefined;
  });
  const tenantNames = tenants.filter((t): t is string => t !== undefined).sort();
  for (const tenant of tenantNames) {
    const dir = join(layout.clientsDir, tenant);
    wanted.push({ kind: 'client', tenant, certPath: join(dir, 'client.crt'), keyPath: join(dir, 'client.key') });
  }

  const entries = await mapConcurrent(wanted, READ_CONCURRENCY, async (w): Promise<TreeEntry> => {
    const entry: TreeEntry = { ...w, cert: await readTreeFile(w.certPath) };
    if (options.keys) entry.key = await readTreeFile(w.keyPath);
    if (options.keys && w.kind !== 'ca' && w.kind !== 'server') {
      entry.dirMode = (await stat(join(layout.clientsDir, w.tenant!)).catch(() => undefined))?.mode;
      if (entry.dirMode !== undefined) entry.dirMode &= 0o777;
    }
    if (options.strays && w.kind === 'client') {
      for (const e of (await listDir(join(layout.clientsDir, w.tenant!))) ?? []) {
        if (!KNOWN_CLIENT_ENTRIES.has(e.name)) stray.push(join(layout.clientsDir, w.tenant!, e.name));
      }
    }
    return entry;
  });
  if (options.keys) {
    // The root directory holds ca.key and server.key: its mode is what protects them.
    const rootMode = (await stat(layout.root)).mode & 0o777;
    for (const e of entries) if (e.kind !== 'client') e.dirMode = rootMode;
  }
  stray.sort();
  return { root: layout.root, layout, entries, stray };
}
