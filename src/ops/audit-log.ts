import type { AuditVerifyResult } from '../store/audit-log.js';
import type { OpContext } from './context.js';

export interface AuditVerifyReport extends AuditVerifyResult {
  /** --dir as shown; `path` (audit.log) is relative to it. */
  dir: string;
  path: string;
}

/**
 * Read-only: checks certs/audit.log's chain and its end against the head the index records. It
 * takes no lock, so while another command is writing it may catch a line half-appended; a failure
 * seen while the directory is locked is therefore checked again a few times before it is reported.
 */
export async function verifyAudit(dir: string, ctx: OpContext): Promise<AuditVerifyReport> {
  const store = await ctx.openStore(dir);
  for (let attempt = 0; ; attempt++) {
    await store.index.load();
    const result = await store.checkAuditLog();
    if (result.ok || attempt === 5 || !(await store.isLocked())) return { dir: store.layout.display(store.layout.root), path: store.layout.inTree(store.layout.auditLog), ...result };
    await new Promise((r) => setTimeout(r, 200));
  }
}
