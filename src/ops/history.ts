import type { IndexStatus } from '../store/cert-index.js';
import { assertKnownTenant, eventView, type AuditEventView } from './audit-log.js';
import type { OpContext } from './context.js';
import { entryRevocation, type RevocationInfo } from './records.js';

/** One certificate a tenant has had, from the index, with who issued and revoked it from the audit log. */
export interface HistoryCertificate {
  serial: string;
  /** The index's status: valid (deployed), superseded (replaced by a newer one), revoked, archived (current when offboarded). */
  status: IndexStatus;
  commonName: string | null;
  notBefore: string;
  notAfter: string;
  /** Past notAfter at the time of the run, whatever the status. */
  expired: boolean;
  issuedAt: string;
  /** The audit line that recorded it: issue, reissue, rotate or adopt, and by whom (null when the log lacks it). */
  issuedBy: string | null;
  action: string | null;
  supersededAt: string | null;
  supersededBy: string | null;
  /** As every document reports a revocation, plus who revoked it (from the audit log). */
  revocation: (RevocationInfo & { revokedBy: string | null }) | null;
  /** When the tenant was offboarded with this certificate, and where its files went (null: kept nowhere). */
  archive: { archivedAt: string; path: string | null } | null;
}

export interface HistoryResult {
  /** --dir as shown; archive paths are relative to it. */
  dir: string;
  tenantId: string;
  /** clients/<id>/ exists now. */
  deployed: boolean;
  /** Oldest first. */
  certificates: HistoryCertificate[];
  /** Every audit line about the tenant, oldest first (offboarding included). */
  events: AuditEventView[];
}

const ISSUING = new Set(['init', 'issue', 'reissue', 'rotate', 'adopt']);

/**
 * Everything a tenant has had: each certificate the index records for it, with the audit log's
 * account of who issued and revoked it, read in one bounded pass over the log. An id neither the
 * index nor the tree knows is an input error.
 */
export async function tenantHistory(request: { dir: string; tenantId: string }, ctx: OpContext): Promise<HistoryResult> {
  const store = await ctx.openStore(request.dir);
  await store.assertCa();
  await assertKnownTenant(store, request.tenantId); // loads the index
  const events: AuditEventView[] = [];
  for await (const read of store.auditLines()) {
    if (read.line?.tenant === request.tenantId) events.push(eventView(read.line));
  }
  const actorOf = (serial: string, wanted: (action: string) => boolean) => events.find((e) => e.serial === serial && e.result === 'ok' && wanted(e.action));
  const certificates = store.index
    .entriesFor('client', request.tenantId)
    .sort((a, b) => a.issuedAt.localeCompare(b.issuedAt))
    .map((e): HistoryCertificate => {
      const issued = actorOf(e.serial, (a) => ISSUING.has(a));
      const revocation = entryRevocation(e);
      return {
        serial: e.serial,
        status: e.status,
        commonName: e.cn ?? null,
        notBefore: e.notBefore,
        notAfter: e.notAfter,
        expired: new Date(e.notAfter) < ctx.now,
        issuedAt: e.issuedAt,
        issuedBy: issued?.actor ?? null,
        action: issued?.action ?? null,
        supersededAt: e.supersededAt ?? null,
        supersededBy: e.supersededBy ?? null,
        revocation: revocation ? { ...revocation, revokedBy: actorOf(e.serial, (a) => a === 'revoke')?.actor ?? null } : null,
        archive: e.archivedAt ? { archivedAt: e.archivedAt, path: e.archivedTo ?? null } : null,
      };
    });
  return { dir: store.layout.display(store.layout.root), tenantId: request.tenantId, deployed: await store.tenantDirExists(request.tenantId).catch(() => false), certificates, events };
}
