import type { AuditHead } from '../../src/store/audit-log.js';
import { applyArchive, type ArchiveRecord, type CertIndex, type IndexEntry, type IndexKind, type IndexTransaction, type PendingIssue, type Revocation, type TokenRecord } from '../../src/store/cert-index.js';

/**
 * A second CertIndex, written apart from FileCertIndex, the way a database would hold the index:
 * committed transactions are the table (persist = one atomic insert of a group), a session sees them
 * after load()/refresh() and its own staged ones at once. Nothing is written to disk, so an op that
 * bypassed the CertIndex seam (reading index.jsonl itself) would find nothing and fail the tests.
 */
export class MemoryCertIndex implements CertIndex {
  /** The "database": shared by every store opened on the same directory. */
  private readonly committed: IndexTransaction[];
  private view: IndexEntry[] = [];
  private waiting = new Map<string, PendingIssue>();
  private lastPersisted = 0;
  private head: AuditHead | undefined;
  private lastAudit: string[] = [];
  private crl = 0;
  private archived: ArchiveRecord[] = [];
  private tokenRecords = new Map<string, TokenRecord>();

  constructor(table: IndexTransaction[]) {
    this.committed = table;
  }

  async refresh(): Promise<void> {
    await this.load();
  }

  async load(): Promise<this> {
    this.view = [];
    this.waiting = new Map();
    this.head = undefined;
    this.lastAudit = [];
    this.crl = 0;
    this.archived = [];
    this.tokenRecords = new Map();
    for (const txn of this.committed) this.stage(txn);
    return this;
  }

  async revocations(): Promise<Map<string, Revocation> | undefined> {
    if (this.committed.length === 0) return undefined;
    const replay = new MemoryCertIndex(this.committed);
    await replay.load();
    return new Map(replay.view.filter((e) => e.status === 'revoked').map((e) => [e.serial, { reason: e.revocationReason ?? 'unspecified', at: e.revokedAt ?? 'unknown time' }]));
  }

  async tenantIds(): Promise<Set<string> | undefined> {
    if (this.committed.length === 0) return undefined;
    return new Set(this.committed.flatMap((t) => [...(t.intend ?? []).map((i) => i.entry), ...(t.add ?? [])]).flatMap((e) => (e.tenantId === undefined ? [] : [e.tenantId])));
  }

  entries(): IndexEntry[] {
    return this.view.map((e) => ({ ...e }));
  }

  get(serial: string): IndexEntry | undefined {
    const found = this.view.find((e) => e.serial === serial.toLowerCase());
    return found && { ...found };
  }

  pending(): PendingIssue[] {
    return [...this.waiting.values()];
  }

  entriesFor(kind: IndexKind, tenantId?: string): IndexEntry[] {
    return this.view.filter((e) => e.kind === kind && e.tenantId === tenantId).map((e) => ({ ...e }));
  }

  entriesForKey(keySha256: string): IndexEntry[] {
    return this.view.filter((e) => e.keySha256 === keySha256).map((e) => ({ ...e }));
  }

  auditHead(): AuditHead | undefined {
    return this.head;
  }

  lastAuditLines(): string[] {
    return this.lastAudit;
  }

  crlNumber(): number {
    return this.crl;
  }

  archives(tenantId?: string): ArchiveRecord[] {
    return this.archived.filter((r) => tenantId === undefined || r.tenantId === tenantId).map((r) => ({ ...r }));
  }

  tokens(): TokenRecord[] {
    return [...this.tokenRecords.values()].map((t) => ({ ...t }));
  }

  stage(txn: IndexTransaction): void {
    for (const issue of txn.intend ?? []) this.waiting.set(issue.entry.serial, structuredClone(issue));
    for (const serial of [...(txn.abandon ?? []), ...(txn.add ?? []).map((e) => e.serial)]) this.waiting.delete(serial);
    for (const entry of txn.add ?? []) {
      const at = this.view.findIndex((e) => e.serial === entry.serial);
      if (at === -1) this.view.push({ ...entry });
      else this.view[at] = { ...entry };
    }
    for (const change of txn.set ?? []) {
      const entry = this.view.find((e) => e.serial === change.serial);
      if (!entry) continue;
      entry.status = change.status;
      if (change.status === 'superseded') Object.assign(entry, { supersededAt: change.at }, change.by && { supersededBy: change.by });
      else Object.assign(entry, { revokedAt: change.at, revocationReason: change.reason ?? 'unspecified' });
    }
    for (const record of txn.archive ?? []) {
      this.archived = [...this.archived.filter((r) => r.at !== record.at || r.tenantId !== record.tenantId), { ...record }];
      applyArchive(this.view.filter((e) => e.kind === 'client' && e.tenantId === record.tenantId), record);
    }
    for (const token of txn.tokens ?? []) this.tokenRecords.set(token.id, { ...token });
    if (txn.auditHead) this.head = txn.auditHead;
    if (txn.audit.length > 0) this.lastAudit = txn.audit;
    if (txn.crlNumber !== undefined) this.crl = Math.max(this.crl, txn.crlNumber);
  }

  async persist(txns: IndexTransaction[]): Promise<void> {
    this.committed.push(...structuredClone(txns));
    this.lastPersisted = txns.length;
  }

  async unpersist(): Promise<void> {
    this.committed.splice(this.committed.length - this.lastPersisted);
    this.lastPersisted = 0;
  }
}
