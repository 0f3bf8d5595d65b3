import { statSync, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../core/errors.js';
import { noCaError } from './ca-files.js';
import { readFile, reasonOf, type FileRead } from './files.js';
import type { Layout } from './layout.js';
import { foreignLinkError, foreignLinkMessage, linkAt, lstatQuiet, type ForeignLink } from './links.js';
import { foreignLinkInSlot } from './pair-slot.js';
import { clientSlotAt, contractLink, serverSlot } from './slots.js';

/*
 * The tree reader: every read of certs/ for `list`, `audit`, `rotate` and `verify --all`, without
 * trusting the tree: every file may be missing, unreadable, huge or a directory, and each problem is
 * recorded on the entry instead of stopping the scan. Files are read one after the other, each with
 * one synchronous open + fstat + read + close (files.ts says why). A link pkictl did not make
 * (links.ts) is recorded, never read through.
 */

export type EntryKind = 'ca' | 'intermediate' | 'server' | 'client';

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
  /** A link in this entry's files or directories that pkictl does not follow: cert and key were not read. */
  link?: ForeignLink;
  /** A tenant without client.key in the tree: its key lives on its connector (or was lost: audit tells). */
  noKey?: true;
}

export interface TreeScan<T = TreeEntry> {
  root: string;
  layout: Layout;
  /** In contract order: ca, the intermediate (when there is one), server, then tenants sorted by directory name. */
  entries: T[];
  /** Paths in the tree that are not part of the certs/ contract (only when asked for). */
  stray: string[];
  /** Links pkictl does not follow at the other contract paths: crl.pem, index.jsonl, audit.log, clients/, … */
  links: ForeignLink[];
}

export interface ScanOptions {
  keys?: boolean;
  strays?: boolean;
}

/**
 * What pkictl itself keeps in the tree besides the contract files: the lock, the issuance index, the
 * audit log and the CRL (layout.ts), and the pair slots of store/pair-slot.ts (`current` symlink and
 * `versions/` per tenant, `server-pair/` for the gateway pair), and archive/ of offboarded tenants.
 */
const KNOWN_ROOT_ENTRIES = new Set(['ca.crt', 'ca.key', 'intermediate.crt', 'intermediate.key', 'root-crl.pem', 'authorities', 'rollover', 'server.crt', 'server.key', 'clients', 'server-pair', 'index.jsonl', 'audit.log', 'crl.pem', 'pkictl.json', '.lock', '.lock.wait', 'archive']);
const KNOWN_CLIENT_ENTRIES = new Set(['client.crt', 'client.key', 'current', 'versions']);

async function listDir(path: string): Promise<Dirent[] | undefined> {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw inputError('DIR_UNREADABLE', `cannot read ${path}: ${reasonOf(error).reason}`);
  }
}

/** A link under clients/ is a tenant too, whatever it points at: its slot check reports it, so list, audit, rotate and verify --all all see it. */
const isTenantDir = (e: Dirent) => e.isDirectory() || e.isSymbolicLink();

/** The temp names of atomic-write.ts and pair-slot.ts start with a dot: a run killed mid-write. */
const isHidden = (name: string) => name.startsWith('.');

/**
 * The one tenant lister: directory names under clients/, sorted. `hidden` keeps the dot-names (the
 * scans of list and audit report a leftover temp directory; rotate leaves it alone).
 */
export async function tenantNames(layout: Layout, options: { hidden: boolean }): Promise<string[]> {
  const link = linkAt(layout.clientsDir);
  if (link) throw foreignLinkError(link, (p) => layout.display(p));
  return ((await listDir(layout.clientsDir)) ?? []).filter((e) => (options.hidden || !isHidden(e.name)) && isTenantDir(e)).map((e) => e.name).sort();
}

/** A file of the tree for a report or a decision; a link that is not its contract shape is reported, not read. */
export function readTreeFile(layout: Layout, path: string): FileRead {
  const link = contractLink(layout, path);
  return link ? { ok: false, missing: false, reason: foreignLinkMessage(link, (p) => layout.display(p)) } : readFile(path);
}

/** Contract paths checked on their own (the pairs are checked as slots); clients/ is listed only when real. */
const ROOT_PATHS = ['crl.pem', 'root-crl.pem', 'authorities', 'rollover', 'index.jsonl', 'audit.log', '.lock', 'clients', 'server-pair', 'archive'];

/**
 * Scans the tree: ca.crt, server.crt and every clients/<tenant>/client.crt (and the keys when asked).
 * A missing root or ca.crt is an input error (exit 2): there is no CA tree to report on.
 * `project`, when given, turns each entry into what the caller keeps, as soon as it is read: list
 * keeps a small row per certificate instead of 10,000 file buffers (less garbage-collector work).
 */
export async function scanTree(layout: Layout, options?: ScanOptions): Promise<TreeScan>;
export async function scanTree<T>(layout: Layout, options: ScanOptions, project: (entry: TreeEntry) => T): Promise<TreeScan<T>>;
export async function scanTree<T>(layout: Layout, options: ScanOptions = {}, project?: (entry: TreeEntry) => T): Promise<TreeScan<T | TreeEntry>> {
  const rootEntries = await listDir(layout.root);
  if (!rootEntries) throw noCaError(layout, true);
  const names = new Set(rootEntries.map((e) => e.name));
  if (!names.has('ca.crt')) throw noCaError(layout, false);

  const stray: string[] = [];
  if (options.strays) {
    for (const e of rootEntries) {
      if (!KNOWN_ROOT_ENTRIES.has(e.name)) stray.push(join(layout.root, e.name));
    }
  }

  const wanted: Omit<TreeEntry, 'cert'>[] = [{ kind: 'ca', certPath: layout.caCert, keyPath: layout.caKey, link: linkAt(layout.caCert) ?? linkAt(layout.caKey) }];
  if (names.has('intermediate.crt') || names.has('intermediate.key')) wanted.push({ kind: 'intermediate', certPath: layout.intermediateCert, keyPath: layout.intermediateKey, link: linkAt(layout.intermediateCert) ?? linkAt(layout.intermediateKey) });
  if (names.has('server.crt') || names.has('server.key') || options.strays) wanted.push({ kind: 'server', certPath: layout.serverCert, keyPath: layout.serverKey, link: foreignLinkInSlot(serverSlot(layout)) });

  const links: ForeignLink[] = [];
  for (const name of ROOT_PATHS) {
    const link = linkAt(join(layout.root, name));
    if (link && !wanted.some((w) => w.link?.path === link.path)) links.push(link);
  }
  // A getter that joins paths on each call: read once, it is used several times per tenant.
  const clientsDir = layout.clientsDir;
  const clientEntries = links.some((l) => l.path === clientsDir) ? [] : ((await listDir(clientsDir)) ?? []);
  const tenants: string[] = [];
  for (const e of clientEntries) {
    if (isTenantDir(e)) tenants.push(e.name);
    else if (options.strays) stray.push(join(clientsDir, e.name));
  }
  tenants.sort();
  for (const tenant of tenants) {
    const slot = clientSlotAt(join(clientsDir, tenant));
    wanted.push({ kind: 'client', tenant, certPath: slot.certLink, keyPath: slot.keyLink, link: foreignLinkInSlot(slot) });
  }

  // The root directory holds ca.key and server.key: its mode is what protects them.
  const rootMode = options.keys ? statSync(layout.root).mode & 0o777 : undefined;
  const entries: Array<T | TreeEntry> = [];
  for (const w of wanted) {
    if (w.link) {
      const notRead: FileRead = { ok: false, missing: false, reason: foreignLinkMessage(w.link, (p) => layout.display(p)) };
      const entry: TreeEntry = { ...w, cert: notRead, ...(options.keys && { key: notRead }), ...(options.keys && w.kind !== 'client' && { dirMode: rootMode }) };
      entries.push(project ? project(entry) : entry);
      continue;
    }
    const entry: TreeEntry = { ...w, cert: readFile(w.certPath) };
    if (options.keys) entry.key = readFile(w.keyPath);
    if (w.kind === 'client' && (options.keys ? entry.key?.ok === false && entry.key.missing : !lstatQuiet(w.keyPath))) entry.noKey = true;
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
  return { root: layout.root, layout, entries, stray, links };
}
