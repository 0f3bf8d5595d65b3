import type { AuditVerifyResult } from '../store/audit-log.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';
import { crlGaps } from './crl.js';

export interface AuditVerifyReport extends AuditVerifyResult {
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
    if (result.ok || attempt === 5 || !(await store.isLocked())) return { path: store.layout.display(store.layout.auditLog), ...result };
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The chain's result, failed when the index lost history the tree proves (recovery.ts lostHistory). */
async function withHistory(store: CertStore, result: AuditVerifyResult): Promise<AuditVerifyResult> {
  if (!result.ok) return result;
  const lost = await store.lostHistory({ ...(await store.issuedInTree()), unknownRevocations: crlGaps(store).unknown });
  return lost ? { ...result, ok: false, problem: { message: lost } } : result;
}
