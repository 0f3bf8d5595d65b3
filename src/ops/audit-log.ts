import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyAuditLog, type AuditVerifyResult } from '../store/audit-log.js';
import { FileCertIndex } from '../store/cert-index.js';
import { Layout } from '../store/layout.js';
import { LOCK_FILE } from '../store/lock.js';

export interface AuditVerifyReport extends AuditVerifyResult {
  path: string;
}

const locked = (root: string) => stat(join(root, LOCK_FILE)).then(() => true, () => false);

/**
 * Read-only: checks certs/audit.log's chain and its end against the head the index records. It
 * takes no lock, so while another command is writing it may catch a line half-appended; a failure
 * seen while the directory is locked is therefore checked again a few times before it is reported.
 */
export async function verifyAudit(dir: string): Promise<AuditVerifyReport> {
  const layout = new Layout(dir);
  for (let attempt = 0; ; attempt++) {
    const index = await new FileCertIndex(layout.root).load();
    const result = await verifyAuditLog(layout.auditLog, index.auditHead(), index.lastAuditLines());
    if (result.ok || attempt === 5 || !(await locked(layout.root))) return { path: layout.display(layout.auditLog), ...result };
    await new Promise((r) => setTimeout(r, 200));
  }
}
