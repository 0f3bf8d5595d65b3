import { verifyAuditLog, type AuditVerifyResult } from '../store/audit-log.js';
import { FileCertIndex } from '../store/cert-index.js';
import { Layout } from '../store/layout.js';

export interface AuditVerifyReport extends AuditVerifyResult {
  path: string;
}

/** Read-only: checks certs/audit.log's chain and its end against the head the index records. */
export async function verifyAudit(dir: string): Promise<AuditVerifyReport> {
  const layout = new Layout(dir);
  const index = await new FileCertIndex(layout.root).load();
  const result = await verifyAuditLog(layout.auditLog, index.auditHead(), index.lastAuditLines());
  return { path: layout.display(layout.auditLog), ...result };
}
