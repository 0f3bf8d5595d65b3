import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { failure } from '../core/errors.js';
import { exists } from './atomic-write.js';
import { appendLines, cutTornTail, GENESIS, readLastHead, type AuditLine } from './audit-log.js';
import type { CertIndex } from './cert-index.js';
import type { Layout } from './layout.js';

/** The temp names of atomic-write.ts and pair-slot.ts: `.<name>.<12 hex>.tmp`. */
const TEMP_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Temp files and directories are only made while the lock is held, so any found by the process that
 * just took the lock belong to a run that was killed mid-write (a half-made tenant directory, say).
 */
async function removeStaleTemps(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // clients/ not made yet
    }
    for (const name of names) if (TEMP_NAME.test(name)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Run after taking the lock: removes what a killed run left under temp names, reloads the index
 * (cutting a torn tail), finishes an interrupted audit append and settles the certificates a killed
 * run left pending (recorded, not yet known to be installed).
 */
export async function recover(layout: Layout, index: CertIndex, settlePending: () => Promise<void>): Promise<void> {
  await removeStaleTemps([layout.root, layout.clientsDir]);
  await index.refresh();
  await cutTornTail(layout.auditLog);
  await assertIndexHoldsHistory(layout, index);
  await finishAuditAppend(layout, index);
  await settlePending();
}

/**
 * Refuses to write on an index that lost its history: missing or emptied while the audit log or a
 * CRL shows the CA issued or revoked before, or older than the audit log (restored from a stale
 * copy). Carrying on would forget revocations: a new CRL without them, revoked tenants re-issued.
 * A tree with certificates but neither index nor log nor CRL is one made before pkictl kept an
 * index (or by openssl): its certificates are adopted as they are met.
 */
async function assertIndexHoldsHistory(layout: Layout, index: CertIndex): Promise<void> {
  const logged = (await readLastHead(layout.auditLog))?.seq ?? 0;
  const recorded = index.auditHead()?.seq ?? 0;
  const empty = index.entries().length === 0 && index.pending().length === 0;
  const published = await exists(layout.crl);
  if (!(empty && (logged > 0 || published)) && logged <= recorded) return;
  const evidence = [...(logged > 0 ? [`audit.log records ${logged} event(s)`] : []), ...(published ? ['crl.pem exists'] : [])].join(', ');
  const what = empty ? 'is missing or empty' : `records ${recorded} audit event(s) of the log's ${logged}`;
  throw failure('INDEX_LOST', `${layout.display(layout.index)} ${what}, but this CA has a history (${evidence}); nothing was written`,
    'restore index.jsonl from a backup, then check it with pkictl audit-log verify');
}

/** Appends the audit lines of the last index transaction when a crash came between the two appends. */
async function finishAuditAppend(layout: Layout, index: CertIndex): Promise<void> {
  const head = index.auditHead();
  if (!head) return;
  const last = await readLastHead(layout.auditLog);
  if (last?.seq === head.seq) return;
  const missing = index.lastAuditLines().filter((text) => (JSON.parse(text) as AuditLine).seq > (last?.seq ?? 0));
  const first = missing[0] ? (JSON.parse(missing[0]) as AuditLine) : undefined;
  // Only the one transaction a crash can interrupt is redone; any other gap is left for
  // `audit-log verify` to report.
  if (missing.length === head.seq - (last?.seq ?? 0) && first?.prev === (last?.hash ?? GENESIS)) {
    await appendLines(layout.auditLog, missing);
  }
}
