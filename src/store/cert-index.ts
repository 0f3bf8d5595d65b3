import { join } from 'node:path';
import { failure } from '../core/errors.js';
import type { RevocationReason } from '../core/revocation.js';
import { cutTornTail, type AuditHead } from './audit-log.js';
import { appendDurably, readJournal, readJournalSince, truncateTo, type JournalMark } from './group-commit.js';

/**
 * The issuance index: every certificate pkictl issued in this directory, with its status.
 *
 * `CertIndex` is the seam: the file store below is the default (no server needed); a shared
 * database for several operators would implement the same interface (refresh under the CA lock,
 * read the snapshot, commit one transaction atomically).
 */

export type IndexKind = 'ca' | 'intermediate' | 'server' | 'client';
/** archived: the tenant's current certificate when its directory was archived (pkictl offboard), expired by then. */
export type IndexStatus = 'valid' | 'superseded' | 'revoked' | 'archived';

export type { RevocationReason };

export interface IndexEntry {
  /** Lowercase hex, as `openssl x509 -serial` prints it (without leading zero bytes stripped). */
  serial: string;
  kind: IndexKind;
  tenantId?: string;
  cn?: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  sha256: string;
  /**
   * Serial of the CA certificate that signed it (whose CRL lists it once revoked). Absent for a
   * root, and for a leaf of a tree made before intermediates existed: its root signed it.
   */
  issuer?: string;
  status: IndexStatus;
  issuedAt: string;
  /** Contract path relative to the CA directory, e.g. clients/<id>/client.crt. */
  path: string;
  supersededAt?: string;
  supersededBy?: string;
  revokedAt?: string;
  revocationReason?: RevocationReason;
  /** When its tenant was offboarded (pkictl offboard), and the archive directory now holding its files, if any. */
  archivedAt?: string;
  archivedTo?: string;
  /**
   * Where the private key lives: absent, made by pkictl and kept in the tree beside the certificate;
   * 'connector', made on the tenant's connector, which sent a CSR (pkictl sign, pkictl serve).
   */
  keyAt?: 'connector';
  /** SHA-256 of the certified SubjectPublicKeyInfo (lowercase hex): one key is never certified for two holders. */
  keySha256?: string;
}

/**
 * A one-time enrollment token (pkictl token create): only its SHA-256 is kept. `id` (the first 16 hex
 * of the hash) names it in listings and the audit log; the token itself is printed once and never stored.
 */
export interface TokenRecord {
  id: string;
  sha256: string;
  tenantId: string;
  createdAt: string;
  expiresAt: string;
  /** When it was presented and accepted (the audit log's issue line after it names the certificate it gave). */
  usedAt?: string;
  revokedAt?: string;
}

/**
 * A tenant taken out of service by pkictl offboard: clients/<id>/ moved whole into `path` (one
 * rename), recorded as pending first, then done or abandoned, like a PendingIssue. Once done, none of
 * the tenant's certificates is 'valid' any more (the fold marks the current one 'archived'), so the
 * index no longer expects clients/<id>/ to exist; issuing the id again starts a new history.
 */
export interface ArchiveRecord {
  tenantId: string;
  /** archive/clients/<id>/<stamp>, relative to the CA directory; absent when there was no directory left to move. */
  path?: string;
  at: string;
  state: 'pending' | 'done' | 'abandoned';
  /** The private keys are to be destroyed in the archive (--purge-keys). */
  purgeKeys: boolean;
  /** Once done: what became of the keys ('kept', 'destroyed', 'not destroyed: <why>', or 'none': no directory). */
  keys?: string;
}

export interface StatusChange {
  serial: string;
  status: 'superseded' | 'revoked';
  at: string;
  by?: string;
  reason?: RevocationReason;
}

/**
 * A certificate about to be installed: recorded before its files appear, settled (added, or
 * abandoned) once they are in place or have failed. One left pending by a killed run is settled by
 * the next run from what its contract path holds (recovery.ts), so the index never lists a
 * certificate that was not deployed, nor misses one that was.
 */
export interface PendingIssue {
  entry: IndexEntry;
  /** The audit action it will be recorded with: issue, reissue, rotate, init. */
  action: string;
  detail?: Record<string, string | number>;
}

/** One atomic change: entries added, statuses changed, the audit lines describing it. */
export interface IndexTransaction {
  /** Certificates about to be installed (no audit line yet). */
  intend?: PendingIssue[];
  /** Serials of pending issues that were never installed. */
  abandon?: string[];
  add?: IndexEntry[];
  set?: StatusChange[];
  /** The audit lines of this change (full text); the new audit head is the last one. */
  audit: string[];
  auditHead?: AuditHead;
  crlNumber?: number;
  /** Tenant archives started, done or abandoned (ArchiveRecord). */
  archive?: ArchiveRecord[];
  /** Enrollment tokens created, used or revoked (latest state of each). */
  tokens?: TokenRecord[];
}

/** Why and when a certificate was revoked, as the index records it. */
export interface Revocation {
  reason: RevocationReason;
  /** ISO time, or 'unknown time' when the index did not record it. */
  at: string;
}

export interface CertIndex {
  /** Reloads the state; call with the CA lock held before reading for a decision, then commit. */
  refresh(): Promise<void>;
  /** Reloads the state read-only, without the lock and without repairing anything (dry runs, list). */
  load(): Promise<unknown>;
  /**
   * Serial → revocation of every certificate whose latest status is revoked, read-only without the
   * lock (list, audit, rotate --dry-run); undefined when the directory has no index at all. Needs no
   * load(): a database answers it with one query, the file index with a partial read (below).
   */
  revocations(): Promise<Map<string, Revocation> | undefined>;
  /**
   * Every tenant id the index has recorded a certificate for, whatever its status, read-only without
   * the lock and without load() (a database: one query); undefined when there is no index. A report
   * compares it with clients/ and loads the index only when a tenant is not there (ops/missing-tenants.ts).
   */
  tenantIds(): Promise<Set<string> | undefined>;
  entries(): IndexEntry[];
  get(serial: string): IndexEntry | undefined;
  /** Issues recorded as about to be installed and not settled yet (see PendingIssue). */
  pending(): PendingIssue[];
  /** Every certificate of one tenant (kind 'client') or of the server or CA (tenantId undefined). */
  entriesFor(kind: IndexKind, tenantId?: string): IndexEntry[];
  /** Every certificate of one public key (IndexEntry.keySha256): a key is certified for one holder only. */
  entriesForKey(keySha256: string): IndexEntry[];
  auditHead(): AuditHead | undefined;
  /** The audit lines of the last transaction, to redo their append after a crash. */
  lastAuditLines(): string[];
  /** The number of the latest CRL written (0 = none). */
  crlNumber(): number;
  /** Every archive record (latest state of each), oldest first; of one tenant when given. */
  archives(tenantId?: string): ArchiveRecord[];
  /** Every enrollment token record (latest state of each), oldest first. */
  tokens(): TokenRecord[];
  /** Applies a transaction to this process's view at once: the next one builds on it. */
  stage(txn: IndexTransaction): void;
  /**
   * Makes staged transactions durable as one unit (the store groups concurrent ones): after a crash
   * they are either all there or all absent.
   */
  persist(txns: IndexTransaction[]): Promise<void>;
  /** Undoes the last persist() (its audit lines could not be written): as if it never happened. */
  unpersist(): Promise<void>;
}

interface State {
  entries: Map<string, IndexEntry>;
  pending: Map<string, PendingIssue>;
  byOwner: Map<string, string[]>;
  byKey: Map<string, string[]>;
  auditHead?: AuditHead;
  lastAudit: string[];
  crlNumber: number;
  /** Archive records by start time + tenant (one per offboarding), latest state. */
  archives: Map<string, ArchiveRecord>;
  tokens: Map<string, TokenRecord>;
}

const emptyState = (): State => ({ entries: new Map(), pending: new Map(), byOwner: new Map(), byKey: new Map(), lastAudit: [], crlNumber: 0, archives: new Map(), tokens: new Map() });
const archiveKey = (r: ArchiveRecord) => `${r.at}\u0000${r.tenantId}`;

/** A finished archive: every certificate the tenant had gets its archive; the current one is no longer 'valid'. */
export function applyArchive(entries: IndexEntry[], record: ArchiveRecord): void {
  if (record.state !== 'done') return;
  for (const entry of entries) {
    if (entry.archivedAt !== undefined) continue;
    entry.archivedAt = record.at;
    if (record.path !== undefined) entry.archivedTo = record.path;
    if (entry.status === 'valid') entry.status = 'archived';
  }
}
const ownerKey = (kind: IndexKind, tenantId?: string) => `${kind}:${tenantId ?? ''}`;

function apply(state: State, txn: IndexTransaction): void {
  for (const issue of txn.intend ?? []) state.pending.set(issue.entry.serial, issue);
  for (const serial of txn.abandon ?? []) state.pending.delete(serial);
  for (const entry of txn.add ?? []) {
    state.pending.delete(entry.serial);
    if (!state.entries.has(entry.serial)) {
      const key = ownerKey(entry.kind, entry.tenantId);
      state.byOwner.set(key, [...(state.byOwner.get(key) ?? []), entry.serial]);
      if (entry.keySha256) state.byKey.set(entry.keySha256, [...(state.byKey.get(entry.keySha256) ?? []), entry.serial]);
    }
    state.entries.set(entry.serial, { ...entry });
  }
  for (const change of txn.set ?? []) {
    const entry = state.entries.get(change.serial);
    if (!entry) continue;
    entry.status = change.status;
    if (change.status === 'superseded') {
      entry.supersededAt = change.at;
      if (change.by) entry.supersededBy = change.by;
    } else {
      entry.revokedAt = change.at;
      entry.revocationReason = change.reason ?? 'unspecified';
    }
  }
  for (const record of txn.archive ?? []) {
    state.archives.set(archiveKey(record), { ...record });
    applyArchive((state.byOwner.get(ownerKey('client', record.tenantId)) ?? []).map((serial) => state.entries.get(serial)!), record);
  }
  for (const token of txn.tokens ?? []) state.tokens.set(token.id, { ...token });
  if (txn.auditHead) state.auditHead = txn.auditHead;
  if (txn.audit.length > 0) state.lastAudit = txn.audit;
  if (txn.crlNumber !== undefined) state.crlNumber = Math.max(state.crlNumber, txn.crlNumber);
}

/** Transactions committed together, as one: what a group-commit line holds (empty lists left out). */
function merge(txns: IndexTransaction[]): IndexTransaction {
  if (txns.length === 1) return txns[0]!;
  const heads = txns.flatMap((t) => (t.auditHead ? [t.auditHead] : []));
  const crlNumbers = txns.flatMap((t) => (t.crlNumber !== undefined ? [t.crlNumber] : []));
  const list = <K extends 'intend' | 'abandon' | 'add' | 'set' | 'archive' | 'tokens'>(key: K) => {
    const all = txns.flatMap((t) => (t[key] ?? []) as NonNullable<IndexTransaction[K]>[number][]);
    return all.length > 0 ? { [key]: all } : {};
  };
  return {
    ...list('intend'),
    ...list('abandon'),
    ...list('add'),
    ...list('set'),
    ...list('archive'),
    ...list('tokens'),
    audit: txns.flatMap((t) => t.audit),
    ...(heads.length > 0 && { auditHead: heads.at(-1) }),
    ...(crlNumbers.length > 0 && { crlNumber: Math.max(...crlNumbers) }),
  };
}

const corrupt = (path: string, line: number, why: string) =>
  failure('INDEX_CORRUPT', `${path}: line ${line} ${why}`, 'restore the index from a backup; pkictl audit-log verify shows whether the audit log is intact');

/** One line of index.jsonl: a JSON object with its audit lines (every line pkictl writes has them) and lists that are lists. */
function parseLine(line: string, path: string, n: number): IndexTransaction {
  let txn: unknown;
  try {
    txn = JSON.parse(line);
  } catch {
    throw corrupt(path, n, 'is not valid JSON');
  }
  if (typeof txn !== 'object' || txn === null || Array.isArray(txn)) throw corrupt(path, n, 'is not a JSON object');
  const t = txn as Record<string, unknown>;
  if (!Array.isArray(t.audit)) throw corrupt(path, n, 'is not an index record (no audit lines)');
  for (const list of ['intend', 'abandon', 'add', 'set', 'archive', 'tokens'] as const) {
    if (t[list] !== undefined && !Array.isArray(t[list])) throw corrupt(path, n, `has '${list}' that is not a list`);
  }
  for (const entry of [...((t.add as unknown[]) ?? []), ...((t.set as unknown[]) ?? [])]) {
    if (typeof entry !== 'object' || entry === null || typeof (entry as IndexEntry).serial !== 'string') throw corrupt(path, n, 'has an entry without a serial');
  }
  return t as unknown as IndexTransaction;
}

/**
 * certs/index.jsonl: a journal, one JSON line per transaction (or per group of transactions committed
 * at the same time), folded on load. Appending one line with one write(2) + fsync is the atomic step
 * (a rotation of 10,000 tenants appends small lines instead of rewriting a growing file 10,000
 * times). A torn last line, which only a power loss
 * mid-write can leave, is ignored by readers and cut off by the next writer (under the lock), so
 * the index is always the state before or after a transaction.
 */
export class FileCertIndex implements CertIndex {
  readonly path: string;
  private state: State = emptyState();

  constructor(dir: string) {
    this.path = join(dir, 'index.jsonl');
  }

  /** Loads without the lock (read-only commands): a torn last line is skipped, not repaired. */
  async load(): Promise<this> {
    this.mark = undefined;
    await this.readOn();
    return this;
  }

  /**
   * Reloads under the lock. Only what was appended since the last read is folded in (a `serve` that
   * takes the lock for each request would otherwise re-read a 12 MB journal every time); a journal
   * replaced or cut since (a restore) is read whole.
   */
  async refresh(): Promise<void> {
    await cutTornTail(this.path);
    await this.readOn();
  }

  /** What load() and refresh() have read: index.jsonl's inode and the length up to its last whole line. */
  private mark: JournalMark | undefined;

  private async readOn(): Promise<void> {
    const read = await readJournalSince(this.path, this.mark);
    if (!read) {
      this.state = emptyState();
      this.mark = undefined;
      return;
    }
    const state = read.whole ? emptyState() : this.state;
    const text = read.bytes.toString('utf8');
    // The part after the last newline is empty, or a torn write: skipped (and read again next time).
    const end = text.lastIndexOf('\n') + 1;
    const lines = text.slice(0, end).split('\n');
    let line = read.whole ? 0 : Number.NaN; // line numbers for errors only when read from the start
    for (const raw of lines) {
      line++;
      if (raw.trim() === '') continue;
      apply(state, parseLine(raw, this.path, Number.isNaN(line) ? 0 : line));
    }
    this.state = state;
    this.mark = { ino: read.ino, size: read.from + Buffer.byteLength(text.slice(0, end), 'utf8') };
  }

  /**
   * Speed: the journal of a 10,000-tenant CA is ~12 MB (every transaction carries its audit lines),
   * and folding all of it through load() cost 0.3-0.5 s of CPU, a quarter of a list run. A revocation
   * can only come from a line that contains "revoked", so only those lines are parsed; the fold is
   * apply()'s order (add, then status changes, last one wins). A torn last line is skipped, as load() does.
   */
  async revocations(): Promise<Map<string, Revocation> | undefined> {
    const journal = await readJournal(this.path);
    if (!journal) return undefined;
    const latest = new Map<string, Revocation | undefined>();
    // Search the bytes (memchr-fast) instead of decoding and splitting 12 MB of text.
    for (let hit = journal.indexOf('revoked'); hit !== -1; ) {
      const start = journal.lastIndexOf(0x0a, hit) + 1;
      const end = journal.indexOf(0x0a, hit);
      if (end === -1) break;
      let txn: IndexTransaction;
      try {
        txn = parseLine(journal.toString('utf8', start, end), this.path, 0);
      } catch {
        // Counted only now: the line number of a byte offset costs a pass over the journal.
        let line = 1;
        for (let at = journal.indexOf(0x0a); at !== -1 && at < start; at = journal.indexOf(0x0a, at + 1)) line++;
        throw corrupt(this.path, line, 'is not an index record');
      }
      for (const e of txn.add ?? []) latest.set(e.serial, e.status === 'revoked' ? { reason: e.revocationReason ?? 'unspecified', at: e.revokedAt ?? 'unknown time' } : undefined);
      for (const c of txn.set ?? []) latest.set(c.serial, c.status === 'revoked' ? { reason: c.reason ?? 'unspecified', at: c.at } : undefined);
      hit = journal.indexOf('revoked', end);
    }
    const revoked = new Map<string, Revocation>();
    for (const [serial, r] of latest) if (r) revoked.set(serial, r);
    return revoked;
  }

  /**
   * Speed, as revocations(): the ids are picked out of the raw journal by their key. An entry's
   * `"tenantId":"` only occurs unescaped in its own JSON (the audit lines inside are strings, and say
   * `tenant`); an id with characters JSON escapes comes out wrong, which only costs the caller a load().
   */
  async tenantIds(): Promise<Set<string> | undefined> {
    const journal = await readJournal(this.path);
    if (!journal) return undefined;
    const ids = new Set<string>();
    const key = Buffer.from('"tenantId":"');
    for (let hit = journal.indexOf(key); hit !== -1; ) {
      const start = hit + key.length;
      const end = journal.indexOf(0x22, start);
      if (end === -1) break;
      ids.add(journal.toString('utf8', start, end));
      hit = journal.indexOf(key, end);
    }
    return ids;
  }

  entries(): IndexEntry[] {
    return [...this.state.entries.values()];
  }

  get(serial: string): IndexEntry | undefined {
    return this.state.entries.get(serial.toLowerCase());
  }

  pending(): PendingIssue[] {
    return [...this.state.pending.values()];
  }

  entriesFor(kind: IndexKind, tenantId?: string): IndexEntry[] {
    return (this.state.byOwner.get(ownerKey(kind, tenantId)) ?? []).map((serial) => this.state.entries.get(serial)!);
  }

  entriesForKey(keySha256: string): IndexEntry[] {
    return (this.state.byKey.get(keySha256) ?? []).map((serial) => this.state.entries.get(serial)!);
  }

  auditHead(): AuditHead | undefined {
    return this.state.auditHead;
  }

  lastAuditLines(): string[] {
    return this.state.lastAudit;
  }

  crlNumber(): number {
    return this.state.crlNumber;
  }

  archives(tenantId?: string): ArchiveRecord[] {
    return [...this.state.archives.values()].filter((r) => tenantId === undefined || r.tenantId === tenantId);
  }

  tokens(): TokenRecord[] {
    return [...this.state.tokens.values()];
  }

  stage(txn: IndexTransaction): void {
    apply(this.state, txn);
  }

  /** The length of index.jsonl before the last persist(), for unpersist(). */
  private lengthBefore: number | undefined;

  /** One line for the group, all or nothing (appendDurably): the atomic step. */
  async persist(txns: IndexTransaction[]): Promise<void> {
    const line = JSON.stringify({ time: new Date().toISOString(), ...merge(txns) }) + '\n';
    try {
      this.lengthBefore = await appendDurably(this.path, line);
    } catch (error) {
      this.mark = undefined; // the staged view holds what the file does not: the next refresh reads it whole
      throw error;
    }
    // Staged already: the next refresh() need not read this line back (nobody else appends under the lock).
    if (this.mark?.size === this.lengthBefore) this.mark = { ...this.mark, size: this.lengthBefore + Buffer.byteLength(line, 'utf8') };
  }

  async unpersist(): Promise<void> {
    if (this.lengthBefore === undefined) return;
    this.mark = undefined; // as in persist(): the staged view is ahead of the file
    await truncateTo(this.path, this.lengthBefore);
    this.lengthBefore = undefined;
  }
}
