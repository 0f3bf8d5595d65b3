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
 * What the tree itself shows this CA issued, for audit-log verify (CertStore.issuedInTree and
 * ops/crl.ts crlGaps gather it).
 */
export interface TreeEvidence {
  /** Server and client certificates at their contract paths (path as shown). */
  deployed: Array<{ path: string; serial: string }>;
  /** How many certificates the tree holds: ca.crt, the pairs and their versions/. */
  certificates: number;
  /** Serials crl.pem revokes that the index does not have as revoked (crlGaps().unknown). */
  unknownRevocations: string[];
}

/**
 * Whether the index lost history: missing or emptied while the audit log, a CRL or (given `tree`) the
 * tree's certificates show the CA issued or revoked before; older than the audit log (restored from
 * a stale copy); or (given `tree`) without certificates the tree deploys or revocations crl.pem
 * publishes. Returns the problem in one line, or undefined.
 *
 * Writers (recover) pass no tree: a tree with certificates but neither index nor log nor CRL is one
 * made before pkictl kept an index (or by openssl), and its certificates are adopted as they are
 * met. `audit-log verify` passes it: there, such a tree has no record of what it issued.
 */
export async function lostHistory(layout: Layout, index: CertIndex, tree?: TreeEvidence): Promise<string | undefined> {
  const logged = (await readLastHead(layout.auditLog))?.seq ?? 0;
  const recorded = index.auditHead()?.seq ?? 0;
  const empty = index.entries().length === 0 && index.pending().length === 0;
  const published = await exists(layout.crl);
  const evidence = [
    ...(logged > 0 ? [`audit.log records ${logged} event(s)`] : []),
    ...(published ? ['crl.pem exists'] : []),
    ...(tree && tree.certificates > 0 ? [`the tree holds ${tree.certificates} certificate(s)`] : []),
  ].join(', ');
  const where = layout.display(layout.index);
  if (empty && evidence !== '') return `${where} is missing or empty, but this CA has a history (${evidence})`;
  if (logged > recorded) return `${where} records ${recorded} audit event(s) of the log's ${logged}, but this CA has a history (${evidence})`;
  if (!tree) return undefined;
  const pending = new Set(index.pending().map((p) => p.entry.serial));
  const unknown = tree.deployed.filter((c) => !index.get(c.serial) && !pending.has(c.serial));
  if (unknown.length > 0) return `${where} does not record ${unknown.length} certificate(s) the tree deploys (e.g. ${unknown[0]!.path}, serial ${unknown[0]!.serial}): it is older than the tree or was replaced`;
  const unrevoked = tree.unknownRevocations;
  if (unrevoked.length > 0) return `${where} does not record ${unrevoked.length} revocation(s) crl.pem publishes (e.g. serial ${unrevoked[0]}): it is older than crl.pem or was replaced`;
  return undefined;
}

const RESTORE_INDEX = 'restore index.jsonl from a backup, then check it with pkictl audit-log verify';

/** Refuses to write on an index that lost its history (lostHistory): carrying on would forget revocations, a new CRL without them, revoked tenants re-issued. */
async function assertIndexHoldsHistory(layout: Layout, index: CertIndex): Promise<void> {
  const lost = await lostHistory(layout, index);
  if (lost) throw failure('INDEX_LOST', `${lost}; nothing was written`, RESTORE_INDEX);
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
