import { relative } from 'node:path';
import { failure, PkiError } from '../core/errors.js';
import type { CertFacts } from '../core/cert.js';
import { appendLines, chainLines, type AuditContext, type AuditEvent } from './audit-log.js';
import type { ArchiveRecord, CertIndex, IndexEntry, IndexKind, IndexTransaction, PendingIssue, StatusChange, TokenRecord } from './cert-index.js';
import { reasonOf } from './files.js';
import { GroupCommit } from './group-commit.js';
import type { Layout } from './layout.js';

export interface IndexChange {
  intend?: PendingIssue[];
  abandon?: string[];
  add?: IndexEntry[];
  set?: StatusChange[];
  crlNumber?: number;
  archive?: ArchiveRecord[];
  tokens?: TokenRecord[];
}

/**
 * Commits index changes and their audit lines: index first (the commit point), then the log.
 * The checks, the chain and the staging run synchronously, so they never interleave with another
 * commit of this process (the bulk engine), while the writes are grouped (group-commit.ts): per
 * group, the index line, then its audit lines, and the next group waits, so after a crash only the
 * last index line can lack its audit lines, which recovery.ts appends.
 */
export class Journal {
  private readonly groups: GroupCommit<IndexTransaction>;

  constructor(
    private readonly layout: Layout,
    private readonly index: CertIndex,
    private readonly audit: AuditContext,
  ) {
    this.groups = new GroupCommit(async (txns) => {
      try {
        await index.persist(txns);
      } catch (error) {
        throw notRecorded(layout.display(layout.index), error);
      }
      try {
        await appendLines(layout.auditLog, txns.flatMap((t) => t.audit));
      } catch (error) {
        // The group is all or nothing: without its audit lines, the index line goes too. Should
        // that fail as well, recovery appends the lines the index carries (the crash case).
        await index.unpersist().catch(() => undefined);
        throw notRecorded(layout.display(layout.auditLog), error);
      }
    });
  }

  /** Resolves when the change and its audit lines are durable. Call with the lock held. */
  commit(change: IndexChange, events: AuditEvent[], time = new Date()): Promise<void> {
    const pending = new Set(this.index.pending().map((p) => p.entry.serial));
    const added = [...(change.intend ?? []).map((p) => p.entry), ...(change.add ?? [])];
    for (const entry of added) {
      if (this.index.get(entry.serial) || (pending.has(entry.serial) && !change.add?.includes(entry))) {
        return Promise.reject(failure('SERIAL_DUPLICATE', `serial ${entry.serial} is already in the index; nothing was written`, 'this should never happen with random 158-bit serials: report it'));
      }
    }
    const { texts, head } = chainLines(this.index.auditHead(), events, this.audit, time);
    const txn: IndexTransaction = { ...change, audit: texts, auditHead: head };
    this.index.stage(txn);
    return this.groups.add(txn);
  }

  /** The index entry of a certificate saved at `path`. */
  entryFor(kind: IndexKind, facts: CertFacts, path: string, tenantId?: string, issuer?: string): IndexEntry {
    return {
      serial: facts.serial,
      kind,
      ...(tenantId !== undefined && { tenantId }),
      ...(issuer !== undefined && { issuer }),
      cn: facts.commonName,
      subject: facts.subject,
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      sha256: facts.sha256,
      status: 'valid',
      issuedAt: new Date().toISOString(),
      path: relative(this.layout.root, path),
    };
  }
}

/** A journal append that failed: nothing of the change was recorded (the group was undone). */
function notRecorded(path: string, error: unknown): PkiError {
  return new PkiError('WRITE_FAILED', `${path}: ${reasonOf(error).reason}; this change was not recorded`, { kind: 'failure', cause: error, hint: 'free space or fix the file system, then run the command again' });
}

/** The audit event describing `action` on `entry`. */
export function eventFor(action: string, entry: IndexEntry, detail?: Record<string, string | number>): AuditEvent {
  return {
    action,
    result: 'ok',
    kind: entry.kind,
    serial: entry.serial,
    ...(entry.tenantId !== undefined && { tenant: entry.tenantId }),
    ...(entry.cn !== undefined && { cn: entry.cn }),
    sha256: entry.sha256,
    ...(detail && { detail }),
  };
}
