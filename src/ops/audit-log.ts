import { inputError } from '../core/errors.js';
import { printable } from '../core/visible-text.js';
import type { AuditLine, AuditVerifyResult } from '../store/audit-log.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';
import { crlGaps, treeLeafIssuers } from './crl.js';

export interface AuditVerifyReport extends AuditVerifyResult {
  /** --dir as shown; `path` (audit.log) is relative to it. */
  dir: string;
  path: string;
}

/**
 * Read-only: checks certs/audit.log's chain and its end against the head the index records, then
 * that the index and the log hold what the tree proves was issued (a log and an index deleted or
 * replaced by older copies are as untrustworthy as an edited line). It
 * takes no lock, so while another command is writing it may catch a line half-appended; a failure
 * seen while the directory is locked is therefore checked again a few times before it is reported.
 */
export async function verifyAudit(dir: string, ctx: OpContext): Promise<AuditVerifyReport> {
  const store = await ctx.openStore(dir);
  await store.assertCa();
  for (let attempt = 0; ; attempt++) {
    await store.index.load();
    const result = await withHistory(store, await store.checkAuditLog());
    if (result.ok || attempt === 5 || !(await store.isLocked())) return { dir: store.layout.display(store.layout.root), path: store.layout.inTree(store.layout.auditLog), ...result };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The chain's result, failed when the index lost history the tree proves (recovery.ts lostHistory). */
async function withHistory(store: CertStore, result: AuditVerifyResult): Promise<AuditVerifyResult> {
  if (!result.ok) return result;
  const lost = await store.lostHistory({ ...(await store.issuedInTree()), unknownRevocations: crlGaps(store, await treeLeafIssuers(store)).unknown });
  return lost ? { ...result, ok: false, problem: { message: lost } } : result;
}

/** One audit line as `audit-log show` prints it (the chain fields are audit-log verify's business). */
export interface AuditEventView {
  seq: number;
  time: string;
  actor: string;
  command: string;
  action: string;
  result: 'ok' | 'failed';
  kind: string | null;
  tenantId: string | null;
  commonName: string | null;
  serial: string | null;
  detail: Record<string, string | number>;
}

export interface AuditShowRequest {
  dir: string;
  tenant?: string;
  since?: Date;
}

export interface AuditShowResult {
  /** --dir as shown; auditLog (audit.log) is relative to it. */
  dir: string;
  auditLog: string;
  /** How many lines the log holds (whole ones), shown or not. */
  lines: number;
  events: AuditEventView[];
  /** Lines that could not be read as audit records (line number and why). */
  problems: string[];
}

export const eventView = (l: AuditLine): AuditEventView => ({
  seq: l.seq,
  time: l.time,
  actor: l.actor,
  command: l.command,
  action: l.action,
  result: l.result,
  kind: l.kind ?? null,
  tenantId: l.tenant ?? null,
  commonName: l.cn ?? null,
  serial: l.serial ?? null,
  detail: l.detail ?? {},
});

/**
 * The audit log's lines, oldest first, filtered by tenant and time, read in bounded memory. A tenant
 * neither the log nor the index knows is an input error (a typo must not look like "no events").
 */
export async function showAuditLog(request: AuditShowRequest, ctx: OpContext): Promise<AuditShowResult> {
  const store = await ctx.openStore(request.dir);
  await store.assertCa();
  const events: AuditEventView[] = [];
  const problems: string[] = [];
  let lines = 0;
  for await (const read of store.auditLines()) {
    lines = read.n;
    if (!read.line) {
      problems.push(`line ${read.n}: ${read.problem}`);
      continue;
    }
    if (request.tenant !== undefined && read.line.tenant !== request.tenant) continue;
    if (request.since && !(new Date(read.line.time) >= request.since)) continue;
    events.push(eventView(read.line));
  }
  if (request.tenant !== undefined && events.length === 0) await assertKnownTenant(store, request.tenant);
  return { dir: store.layout.display(store.layout.root), auditLog: store.layout.inTree(store.layout.auditLog), lines, events, problems };
}

/** Exit 2 for a tenant the index has never seen (history, audit-log show --tenant). */
export async function assertKnownTenant(store: CertStore, tenant: string): Promise<void> {
  await store.index.load();
  if (store.index.entriesFor('client', tenant).length > 0 || store.index.archives(tenant).length > 0 || (await store.tenantDirExists(tenant).catch(() => false))) return;
  throw inputError('TENANT_UNKNOWN', `tenant ${printable(tenant)} has no certificate in ${store.layout.display(store.layout.root)}`, 'pkictl list shows the tenants of this CA');
}
