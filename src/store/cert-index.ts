import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { failure } from '../core/errors.js';
import type { RevocationReason } from '../core/revocation.js';
import { cutTornTail, type AuditHead } from './audit-log.js';
import { appendDurably } from './group-commit.js';

/**
 * The issuance index: every certificate pkictl issued in this directory, with its status.
 *
 * `CertIndex` is the seam: the file store below is the default (no server needed); a shared
 * database for several operators would implement the same interface (refresh under the CA lock,
 * read the snapshot, commit one transaction atomically).
 */

export type IndexKind = 'ca' | 'server' | 'client';
export type IndexStatus = 'valid' | 'superseded' | 'revoked';

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
  status: IndexStatus;
  issuedAt: string;
  /** Contract path relative to the CA directory, e.g. clients/<id>/client.crt. */
  path: string;
  supersededAt?: string;
  supersededBy?: string;
  revokedAt?: string;
  revocationReason?: RevocationReason;
}

export interface StatusChange {
  serial: string;
  status: 'superseded' | 'revoked';
  at: string;
  by?: string;
  reason?: RevocationReason;
}

/** One atomic change: entries added, statuses changed, the audit lines describing it. */
export interface IndexTransaction {
  add?: IndexEntry[];
  set?: StatusChange[];
  /** The audit lines of this change (full text); the new audit head is the last one. */
  audit: string[];
  auditHead?: AuditHead;
  crlNumber?: number;
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
  entries(): IndexEntry[];
  get(serial: string): IndexEntry | undefined;
  /** Every certificate of one tenant (kind 'client') or of the server or CA (tenantId undefined). */
  entriesFor(kind: IndexKind, tenantId?: string): IndexEntry[];
  auditHead(): AuditHead | undefined;
  /** The audit lines of the last transaction, to redo their append after a crash. */
  lastAuditLines(): string[];
  /** The number of the latest CRL written (0 = none). */
  crlNumber(): number;
  /** Applies a transaction to this process's view at once: the next one builds on it. */
  stage(txn: IndexTransaction): void;
  /**
   * Makes staged transactions durable as one unit (the store groups concurrent ones): after a crash
   * they are either all there or all absent.
   */
  persist(txns: IndexTransaction[]): Promise<void>;
}

interface State {
  entries: Map<string, IndexEntry>;
  byOwner: Map<string, string[]>;
  auditHead?: AuditHead;
  lastAudit: string[];
  crlNumber: number;
}

const emptyState = (): State => ({ entries: new Map(), byOwner: new Map(), lastAudit: [], crlNumber: 0 });
const ownerKey = (kind: IndexKind, tenantId?: string) => `${kind}:${tenantId ?? ''}`;

function apply(state: State, txn: IndexTransaction): void {
  for (const entry of txn.add ?? []) {
    if (!state.entries.has(entry.serial)) {
      const key = ownerKey(entry.kind, entry.tenantId);
      state.byOwner.set(key, [...(state.byOwner.get(key) ?? []), entry.serial]);
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
  if (txn.auditHead) state.auditHead = txn.auditHead;
  if (txn.audit.length > 0) state.lastAudit = txn.audit;
  if (txn.crlNumber !== undefined) state.crlNumber = Math.max(state.crlNumber, txn.crlNumber);
}

/** Transactions committed together, as one: what a group-commit line holds. */
function merge(txns: IndexTransaction[]): IndexTransaction {
  if (txns.length === 1) return txns[0]!;
  const heads = txns.flatMap((t) => (t.auditHead ? [t.auditHead] : []));
  const crlNumbers = txns.flatMap((t) => (t.crlNumber !== undefined ? [t.crlNumber] : []));
  return {
    add: txns.flatMap((t) => t.add ?? []),
    set: txns.flatMap((t) => t.set ?? []),
    audit: txns.flatMap((t) => t.audit),
    ...(heads.length > 0 && { auditHead: heads.at(-1) }),
    ...(crlNumbers.length > 0 && { crlNumber: Math.max(...crlNumbers) }),
  };
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
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const state = emptyState();
    const lines = text.split('\n');
    // The part after the last newline is empty, or a torn write: skipped.
    for (let i = 0; i < lines.length - 1; i++) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      let txn: IndexTransaction;
      try {
        txn = JSON.parse(line) as IndexTransaction;
      } catch {
        throw failure('INDEX_CORRUPT', `${this.path}: line ${i + 1} is not valid JSON`, 'restore the index from a backup; pkictl audit-log verify shows whether the audit log is intact');
      }
      apply(state, txn);
    }
    this.state = state;
    return this;
  }

  async refresh(): Promise<void> {
    await cutTornTail(this.path);
    await this.load();
  }

  /**
   * Speed: the journal of a 10,000-tenant CA is ~12 MB (every transaction carries its audit lines),
   * and folding all of it through load() cost 0.3-0.5 s of CPU, a quarter of a list run. A revocation
   * can only come from a line that contains "revoked", so only those lines are parsed; the fold is
   * apply()'s order (add, then status changes, last one wins). A torn last line is skipped, as load() does.
   */
  async revocations(): Promise<Map<string, Revocation> | undefined> {
    let journal: Buffer;
    try {
      journal = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const latest = new Map<string, Revocation | undefined>();
    // Search the bytes (memchr-fast) instead of decoding and splitting 12 MB of text.
    for (let hit = journal.indexOf('revoked'); hit !== -1; ) {
      const start = journal.lastIndexOf(0x0a, hit) + 1;
      const end = journal.indexOf(0x0a, hit);
      if (end === -1) break;
      let txn: IndexTransaction;
      try {
        txn = JSON.parse(journal.toString('utf8', start, end)) as IndexTransaction;
      } catch {
        throw new Error(`index.jsonl has a line that is not valid JSON (byte ${start})`);
      }
      for (const e of txn.add ?? []) latest.set(e.serial, e.status === 'revoked' ? { reason: e.revocationReason ?? 'unspecified', at: e.revokedAt ?? 'unknown time' } : undefined);
      for (const c of txn.set ?? []) latest.set(c.serial, c.status === 'revoked' ? { reason: c.reason ?? 'unspecified', at: c.at } : undefined);
      hit = journal.indexOf('revoked', end);
    }
    const revoked = new Map<string, Revocation>();
    for (const [serial, r] of latest) if (r) revoked.set(serial, r);
    return revoked;
  }

  entries(): IndexEntry[] {
    return [...this.state.entries.values()];
  }

  get(serial: string): IndexEntry | undefined {
    return this.state.entries.get(serial.toLowerCase());
  }

  entriesFor(kind: IndexKind, tenantId?: string): IndexEntry[] {
    return (this.state.byOwner.get(ownerKey(kind, tenantId)) ?? []).map((serial) => this.state.entries.get(serial)!);
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

  stage(txn: IndexTransaction): void {
    apply(this.state, txn);
  }

  /** One line for the group: one write(2) + fsync, the atomic step. */
  persist(txns: IndexTransaction[]): Promise<void> {
    return appendDurably(this.path, JSON.stringify({ time: new Date().toISOString(), ...merge(txns) }) + '\n');
  }
}
