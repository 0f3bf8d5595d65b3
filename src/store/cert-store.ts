import { createHash, randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { readCertificatePem, readCertificates } from '../core/cert-input.js';
import { certFacts, type CertFacts, type Certificate } from '../core/cert.js';
import { failure, inputError } from '../core/errors.js';
import type { TenantIdPattern } from '../core/tenant-id.js';
import type { CertificateAuthority } from '../core/issue.js';
import type { CryptoProvider } from '../core/x509.js';
import { CERT_MODE, ensureDir, exists, KEY_DIR_MODE, KEY_MODE, syncDir, writeFilesAtomically } from './atomic-write.js';
import { readAuditLines, verifyAuditLog, type AuditEvent, type AuditVerifyResult, type ReadLine } from './audit-log.js';
import { assertCa, assertNoCa, loadCa, loadCaFiles, type CaFiles, type CaKeyPolicy } from './ca-files.js';
import { FileCertIndex, type ArchiveRecord, type CertIndex, type IndexEntry, type PendingIssue, type RevocationReason, type TokenRecord } from './cert-index.js';
import { readFile, reasonOf, unreadable, type FileRead } from './files.js';
import { eventFor, Journal } from './journal.js';
import { Layout } from './layout.js';
import { LOCK_FILE } from './lock.js';
import { foreignLinkError, foreignLinkMessage, lstatQuiet } from './links.js';
import { createSlot, destroyKeys, ensureVersioned, inspectSlot, installCertOnly, installVersion, pruneVersions, versionName, type SlotSpec, type SlotState } from './pair-slot.js';
import { lostHistory, recover, type TreeEvidence } from './recovery.js';
import { ReentrantLock } from './reentrant-lock.js';
import { configText, type Role } from './templates.js';
import { parseDrillState, parseRolloverState, type DrillState, type RolloverState } from './rollover-state.js';
import { readTreeFile, scanTree, tenantNames, type ScanOptions, type TreeEntry, type TreeScan } from './scan.js';
import { clientPaths, clientSlot, clientSlotAt, contractLink, serverSlot, type PairPaths } from './slots.js';

export type { PairPaths } from './slots.js';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** What the caller (the CLI) decides for a store: nothing is read from the process here. */
export interface StoreOptions {
  /** Who is acting, for the audit log. */
  actor: string;
  /** The command line recorded in the audit log and the lock file ("pkictl rotate"). */
  command: string;
  /** The directory that relative paths start from, and that shown paths are relative to. */
  cwd: string;
  /** Told once when another process holds the lock and this one waits (the store prints nothing). */
  onLockWait?(message: string): void;
  lockTimeoutMs?: number;
  /** What to do when ca.key or its directory is open to group/others: refuse (strict), or tell once. */
  caKey?: CaKeyPolicy;
  /** The issuance index; default the file index, certs/index.jsonl. */
  index?: CertIndex;
  /** Keep the lock this long after its last holder (a long-running process: serve); reentrant-lock.ts says why. */
  lockLingerMs?: number;
}

/** How a saved leaf is described in the index and the audit log. */
export interface SaveOptions {
  /** 'issue' for a new tenant/server, 'reissue' for --force, 'rotate' for pkictl rotate. */
  action?: 'issue' | 'reissue' | 'rotate';
  /** Extra facts for the audit line (never key material). */
  detail?: Record<string, string | number>;
  /** The certificate's facts when the caller made it (saves parsing it again); else read from certPem. */
  facts?: CertFacts;
  /** Serial of the CA certificate that signed it (IndexEntry.issuer); absent: the root. */
  issuer?: string;
  /** SHA-256 of the certified public key (IndexEntry.keySha256). */
  keySha256?: string;
}

/** A CA certificate to save: its pair and facts; `issuer` is the serial of the root that signed an intermediate. */
export interface CaPair extends PemPair {
  /** Read from certPem when not given. */
  facts?: CertFacts;
  issuer?: string;
}

/** Old versions kept per pair besides the current one (for rollback). */
const HISTORY_KEEP = 5;

/** The audit line of a token event: its id and tenant, never the token. */
const tokenEvent = (action: string, record: TokenRecord, detail?: Record<string, string>): AuditEvent => ({
  action,
  result: 'ok',
  tenant: record.tenantId,
  detail: { token: record.id, ...detail },
});

/** Facts of a certificate the caller did not describe (adopted from disk). */
function factsOf(certPem: string, what: string): CertFacts {
  return certFacts(readCertificatePem(certPem, what));
}

/**
 * The certs/ directory: the only code that reads or writes it.
 *
 * Every change goes through the store, which (1) holds the directory's lock (lock.ts) for the
 * duration, (2) records the certificate in the index (cert-index.ts) as pending, its serial checked
 * new, (3) writes the pair with one atomic switch (pair-slot.ts), and (4) records it as issued, with
 * its audit line (audit-log.ts), or as abandoned with a failed one (install()). Each record is one
 * journal commit: the index line (the commit point, carrying the audit lines), then the audit log
 * (journal.ts), all or nothing. A crash leaves at most one pending record per certificate in
 * flight, which the next command that takes the lock settles from the tree, and the audit lines of
 * the last commit, which it appends (recovery.ts).
 *
 * Callers need no lock of their own: saveCa/saveServer/saveClient/revoke take it. A caller that
 * makes a decision from the directory's state (rotate: "which tenants need renewal") wraps the
 * whole decision and its writes in withLock(), which is reentrant within one CertStore, and
 * concurrent saves from one process (the bulk engine) are ordered at the commit only, and share its
 * writes (one index line + one audit append per group of commits, group-commit.ts).
 *
 * Reads for a report (list, audit, rotate --dry-run, verify --all) take no lock: scanTree and
 * readTreeFile (scan.ts, files.ts), index.revocations().
 */
export class CertStore {
  readonly layout: Layout;
  readonly index: CertIndex;
  private readonly journal: Journal;
  private readonly lock: ReentrantLock;
  private readonly madeDirs = new Map<string, Promise<void>>();
  private caKeyPolicy: CaKeyPolicy;

  constructor(root: string, options: StoreOptions) {
    this.caKeyPolicy = options.caKey ?? {};
    this.layout = new Layout(root, options.cwd);
    this.index = options.index ?? new FileCertIndex(this.layout.root);
    this.journal = new Journal(this.layout, this.index, { actor: options.actor, command: options.command });
    this.lock = new ReentrantLock(this.layout.root, { timeoutMs: options.lockTimeoutMs, onWait: options.onLockWait, command: options.command, lingerMs: options.lockLingerMs }, () => recover(this.layout, this.index, () => this.settlePending()));
  }

  /**
   * Runs `fn` holding the directory's exclusive lock; a second process waits (one message through
   * onLockWait), then fails with LOCK_TIMEOUT. Reentrant: nested and concurrent calls on this
   * store share one acquisition, released when the last one returns.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.with(fn);
  }

  /**
   * withLock for one request of a long-running process (serve): when another process waits for the
   * lock, this one first lets it in (ReentrantLock.takeTurn). Never call it from inside a holder.
   */
  async withTurn<T>(fn: () => Promise<T>): Promise<T> {
    await this.lock.takeTurn();
    return this.lock.with(fn);
  }

  /** Records `event` alone (e.g. a failed rotation) in the audit log. */
  async recordEvent(event: AuditEvent): Promise<void> {
    await this.withLock(() => this.journal.commit({}, [event]));
  }

  /** Refuses (exit 2, one wording for every command) when --dir holds no CA. */
  assertCa(): Promise<void> {
    return assertCa(this.layout);
  }

  assertNoCa(): Promise<void> {
    return assertNoCa(this.layout);
  }

  /**
   * A new CA: the root pair, its issuing intermediate when given (pkictl init --intermediate), and the
   * tree's profiles (pkictl.json) when given. Written together, the certificates last, so a tree with
   * a CA has its keys and the profiles it was made with; each certificate recorded like a leaf.
   */
  async saveCa(root: CaPair, profiles?: Record<Role, unknown>, intermediate?: CaPair): Promise<{ root: PairPaths; intermediate?: PairPaths }> {
    return this.withLock(async () => {
      await this.assertNoCa();
      const { layout } = this;
      const rootPaths = { cert: layout.caCert, key: layout.caKey };
      const intermediatePaths = intermediate && { cert: layout.intermediateCert, key: layout.intermediateKey };
      const issues: PendingIssue[] = [{ entry: this.journal.entryFor('ca', root.facts ?? factsOf(root.certPem, rootPaths.cert), rootPaths.cert), action: 'init' }];
      if (intermediate) {
        const facts = intermediate.facts ?? factsOf(intermediate.certPem, layout.intermediateCert);
        issues.push({ entry: this.journal.entryFor('intermediate', facts, layout.intermediateCert, undefined, intermediate.issuer), action: 'init' });
      }
      await this.install(issues, () =>
        writeFilesAtomically([
          ...(profiles === undefined ? [] : [{ path: layout.config, data: configText(profiles), mode: CERT_MODE }]),
          { path: rootPaths.key, data: root.keyPem, mode: KEY_MODE },
          ...(intermediatePaths ? [{ path: intermediatePaths.key, data: intermediate!.keyPem, mode: KEY_MODE }] : []),
          ...(intermediatePaths ? [{ path: intermediatePaths.cert, data: intermediate!.certPem, mode: CERT_MODE }] : []),
          { path: rootPaths.cert, data: root.certPem, mode: CERT_MODE },
        ]),
      );
      return { root: rootPaths, ...(intermediatePaths && { intermediate: intermediatePaths }) };
    });
  }

  /**
   * Puts a new issuing intermediate in place (intermediate renew, rollover switch, the compromise
   * drill): the current intermediate.crt and intermediate.key are kept in authorities/<serial>.crt|key
   * (a retired CA still signs the CRL of the leaves it issued until they expire), then the new pair
   * replaces them, each file atomically; the old entry is marked superseded. `action` names it in the
   * audit log. A tree without an intermediate gets its first one.
   */
  async replaceIntermediate(pair: CaPair, action: string, detail?: Record<string, string | number>): Promise<PairPaths> {
    return this.withLock(async () => {
      const { layout } = this;
      const paths = { cert: layout.intermediateCert, key: layout.intermediateKey };
      for (const path of [paths.cert, paths.key, layout.authoritiesDir]) this.refuseForeignLink(path);
      const old = readFile(paths.cert);
      if (old.ok) {
        const oldPem = Buffer.from(old.bytes).toString('utf8');
        const serial = factsOf(oldPem, paths.cert).serial;
        const oldKey = readFile(paths.key);
        await ensureDir(layout.authoritiesDir, KEY_DIR_MODE);
        await writeFilesAtomically([
          { path: layout.retiredCert(serial), data: oldPem, mode: CERT_MODE },
          ...(oldKey.ok ? [{ path: layout.retiredKey(serial), data: Buffer.from(oldKey.bytes).toString('utf8'), mode: KEY_MODE }] : []),
        ]);
      }
      const facts = pair.facts ?? factsOf(pair.certPem, paths.cert);
      const entry = this.journal.entryFor('intermediate', facts, paths.cert, undefined, pair.issuer);
      await this.install({ entry, action, ...(detail && { detail }) }, () =>
        writeFilesAtomically([
          { path: paths.key, data: pair.keyPem, mode: KEY_MODE },
          { path: paths.cert, data: pair.certPem, mode: CERT_MODE },
        ]),
      );
      return paths;
    });
  }

  /** The rollover's recorded phase (rollover/state.json), or undefined when none was ever begun. */
  readRollover(): RolloverState | undefined {
    return this.readStateFile(this.layout.rolloverState, parseRolloverState);
  }

  /** The compromise drill's recorded progress (rollover/compromise.json), or undefined when none ran. */
  readDrill(): DrillState | undefined {
    return this.readStateFile(this.layout.drillState, parseDrillState);
  }

  /** A state file of a CA event, parsed; undefined when it does not exist. */
  private readStateFile<T>(path: string, parse: (bytes: Uint8Array, what: string) => T): T | undefined {
    const read = this.readTreeFile(path);
    if (read.ok) return parse(read.bytes, this.layout.display(path));
    if (read.missing) return undefined;
    throw unreadable(this.layout.display(path), read);
  }

  /**
   * A step of a CA event (root rollover, compromise drill): files written (each atomically, in the
   * given order) and removed, one audit line, and the new root recorded in the index when given.
   * Only CA files of the layout are accepted. A kill between files leaves a state the command's rerun
   * recognises and completes (ops/rollover.ts says how).
   */
  async changeCaFiles(change: { write: Array<{ path: string; data: string; key?: boolean }>; remove?: string[]; newRoot?: { facts: CertFacts; path: string }; event: AuditEvent }): Promise<void> {
    await this.withLock(async () => {
      const { layout } = this;
      const allowed = (path: string) => [layout.caCert, layout.caKey, layout.rolloverState, layout.drillState, layout.nextRootCert, layout.nextRootKey].includes(path) || dirname(path) === layout.authoritiesDir;
      for (const path of [...change.write.map((w) => w.path), ...(change.remove ?? [])]) {
        if (!allowed(path)) throw new Error(`not a CA file of the tree: ${path}`);
        this.refuseForeignLink(path);
      }
      for (const dir of new Set(change.write.map((w) => dirname(w.path)))) if (dir !== layout.root) await ensureDir(dir, KEY_DIR_MODE);
      const write = async () => {
        for (const w of change.write) await writeFilesAtomically([{ path: w.path, data: w.data, mode: w.key ? KEY_MODE : CERT_MODE }]);
        for (const path of change.remove ?? []) await rm(path, { force: true });
        for (const dir of new Set((change.remove ?? []).map(dirname))) await syncDir(dir);
      };
      if (change.newRoot) {
        const entry = this.journal.entryFor('ca', change.newRoot.facts, change.newRoot.path);
        await this.install({ entry, action: change.event.action, ...(change.event.detail && { detail: change.event.detail }) }, write);
      } else {
        await write();
        await this.journal.commit({}, [change.event]);
      }
    });
  }

  /**
   * Moves ca.key out of the tree to `dest` (pkictl ca offline): written there 0600 and fsynced, read
   * back and compared, then removed from the tree, with an audit line naming where it went. Until the
   * removal the tree keeps its key, so a failure anywhere loses nothing.
   */
  async moveCaKeyOut(dest: string): Promise<void> {
    await this.withLock(async () => {
      const { layout } = this;
      this.refuseForeignLink(layout.caKey);
      const read = readFile(layout.caKey);
      if (!read.ok) throw unreadable(layout.display(layout.caKey), read);
      if (await exists(dest)) throw failure('ALREADY_EXISTS', `${dest} already exists; nothing was moved`, 'choose another --to directory');
      const pem = Buffer.from(read.bytes).toString('utf8');
      await writeFilesAtomically([{ path: dest, data: pem, mode: KEY_MODE }]);
      const copy = readFile(dest);
      if (!copy.ok || !Buffer.from(copy.bytes).equals(Buffer.from(read.bytes))) {
        await rm(dest, { force: true });
        throw failure('WRITE_FAILED', `${dest} does not read back as written; ca.key stays in the tree`);
      }
      await this.journal.commit({}, [{ action: 'ca-offline', result: 'ok', kind: 'ca', detail: { to: dest } }]);
      await rm(layout.caKey);
      await syncDir(layout.root);
    });
  }

  /**
   * A replaceIntermediate killed between its two renames can leave the new intermediate.key beside the
   * old intermediate.crt. The old key was kept in authorities/ first: put it back, so the pair matches.
   */
  private async restoreIntermediateKey(): Promise<void> {
    const { layout } = this;
    const cert = readFile(layout.intermediateCert);
    if (!cert.ok) return;
    const serial = factsOf(Buffer.from(cert.bytes).toString('utf8'), layout.intermediateCert).serial;
    const kept = readFile(layout.retiredKey(serial));
    const key = readFile(layout.intermediateKey);
    if (kept.ok && !(key.ok && Buffer.from(key.bytes).equals(Buffer.from(kept.bytes)))) {
      await writeFilesAtomically([{ path: layout.intermediateKey, data: Buffer.from(kept.bytes).toString('utf8'), mode: KEY_MODE }]);
    }
  }

  /**
   * Records a certificate around the writing of its files: as pending first (durable), then the
   * files, then as issued, superseding the holder's other valid certificates, with its audit line;
   * or, when the files could not be put in place, as abandoned with a failed audit line. So the index
   * and the audit log describe what the contract paths hold: a kill in between leaves it pending,
   * and the next run settles it from the tree (settlePending).
   */
  private async install(issue: PendingIssue | PendingIssue[], write: () => Promise<void>): Promise<void> {
    const issues = Array.isArray(issue) ? issue : [issue];
    await this.journal.commit({ intend: issues }, []);
    try {
      await write();
    } catch (error) {
      // The switch may have happened before the failure (a failed fsync after rename): ask the tree.
      // Should recording the outcome fail too (the disk is full), the next run settles it.
      const failed = error instanceof Error ? error.message : String(error);
      for (const i of issues) await this.settle(i, this.deploys(i.entry), failed).catch(() => undefined);
      throw error;
    }
    for (const i of issues) await this.settle(i, true);
  }

  /**
   * Records a pending issue as issued (`installed`: its contract path holds it), else as abandoned;
   * `failed` says why the write failed (without it, the run that wrote it was interrupted).
   */
  private settle(issue: PendingIssue, installed: boolean, failed?: string): Promise<void> {
    const { entry, action } = issue;
    if (!installed) {
      const event = eventFor(action, entry, { ...issue.detail, error: failed ?? 'interrupted before its files were in place' });
      return this.journal.commit({ abandon: [entry.serial] }, [{ ...event, result: 'failed' }]);
    }
    // No await between reading the holder's entries and committing: see Journal.commit().
    const now = new Date().toISOString();
    const superseded = entry.kind === 'ca' ? [] : this.index.entriesFor(entry.kind, entry.tenantId).filter((e) => e.status === 'valid');
    const detail = {
      ...issue.detail,
      ...(superseded.length > 0 && { supersedes: superseded.map((e) => e.serial).join(',') }),
      ...(failed !== undefined && { note: `in place despite: ${failed}` }),
    };
    return this.journal.commit(
      { add: [entry], set: superseded.map((e) => ({ serial: e.serial, status: 'superseded' as const, at: now, by: entry.serial })) },
      [eventFor(action, entry, Object.keys(detail).length > 0 ? detail : undefined)],
    );
  }

  /** Whether the entry's contract path holds exactly this certificate. */
  private deploys(entry: IndexEntry): boolean {
    const read = readFile(join(this.layout.root, entry.path));
    if (!read.ok) return false;
    try {
      return factsOf(Buffer.from(read.bytes).toString('utf8'), entry.path).sha256 === entry.sha256;
    } catch {
      return false;
    }
  }

  /**
   * Settles what a killed run left pending (run by recovery, with the lock held), each with an audit
   * line saying it was reconciled.
   */
  async settlePending(): Promise<void> {
    for (const issue of this.index.pending()) {
      if (issue.entry.kind === 'intermediate' && !this.deploys(issue.entry)) await this.restoreIntermediateKey();
      const deployed = this.deploys(issue.entry);
      await this.settle({ ...issue, detail: { ...issue.detail, reconciled: 'by the next run after an interruption' } }, deployed);
      if (deployed && issue.entry.keyAt === 'connector' && issue.entry.tenantId !== undefined) {
        const slot = clientSlotAt(join(this.layout.clientsDir, basename(issue.entry.tenantId)));
        if (inspectSlot(slot).state !== 'cert-only') await this.dropTreeKeys(slot);
      }
    }
    for (const record of this.index.archives().filter((r) => r.state === 'pending')) {
      // rename(2) moved the whole directory or nothing: the tree says which.
      const moved = record.path !== undefined && !(await exists(join(this.layout.clientsDir, basename(record.tenantId)))) && (await exists(join(this.layout.root, record.path)));
      await this.settleArchive(record, moved, moved ? undefined : 'interrupted before the directory was moved');
    }
  }

  /**
   * Takes a tenant out of clients/ (pkictl offboard): clients/<id>/ is renamed whole into
   * archive/clients/<id>/<stamp>/, its modes as they were (0700 directories, 0600 keys), and with
   * `purgeKeys` its private keys are destroyed there. Recorded like an issue: pending first, then the
   * rename, then done (or abandoned, with a failed audit line); a run killed in between is settled by
   * the next one from the tree (settlePending). A tenant whose directory is gone already (deleted by
   * hand) gets the record alone, so the index stops expecting the directory. The caller revokes the
   * tenant's live certificates first.
   */
  async archiveClient(tenantId: string, pattern: TenantIdPattern | undefined, options: { purgeKeys: boolean }): Promise<ArchiveRecord> {
    return this.withLock(async () => {
      const slot = this.clientSlot(tenantId, pattern);
      this.refuseArchiveLinks(tenantId, pattern);
      const at = new Date();
      const base: ArchiveRecord = { tenantId, at: at.toISOString(), state: 'pending', purgeKeys: options.purgeKeys };
      if (!(await exists(slot.base))) return this.settleArchive(base, true);
      // Named after the newest certificate it holds, so archiving the same id again never collides.
      const newest = this.index.entriesFor('client', tenantId).sort((a, b) => a.issuedAt.localeCompare(b.issuedAt)).at(-1);
      const dest = this.layout.archivedClientDir(tenantId, versionName(at, newest?.serial ?? randomBytes(8).toString('hex')), pattern);
      this.refuseForeignLink(dest);
      for (const dir of [this.layout.archiveDir, this.layout.archivedClientsDir, dirname(dest)]) await ensureDir(dir, KEY_DIR_MODE);
      if (await exists(dest)) throw failure('ALREADY_EXISTS', `${this.layout.display(dest)} exists already; nothing was archived`);
      const record = { ...base, path: relative(this.layout.root, dest) };
      await this.journal.commit({ archive: [record] }, []);
      try {
        await rename(slot.base, dest);
        await syncDir(this.layout.clientsDir);
        await syncDir(dirname(dest));
      } catch (error) {
        // rename(2) is all or nothing: the tree says whether it happened before the failure (a
        // failed fsync after it). Not moved: abandoned; should recording that fail, the next run settles it.
        const moved = !(await exists(slot.base)) && (await exists(dest));
        if (!moved) {
          await this.settleArchive(record, false, reasonOf(error).reason).catch(() => undefined);
          throw error;
        }
      }
      return this.settleArchive(record, true);
    });
  }

  /**
   * Refuses (FOREIGN_LINK) a link planted where archiveClient would move or write: the tenant's slot,
   * archive/, archive/clients/ and archive/clients/<id>/. offboard asks before it revokes anything.
   */
  refuseArchiveLinks(tenantId: string, pattern?: TenantIdPattern): void {
    this.slotState(this.clientSlot(tenantId, pattern));
    for (const dir of [this.layout.archiveDir, this.layout.archivedClientsDir, this.layout.archivedTenantDir(tenantId, pattern)]) this.refuseForeignLink(dir);
  }

  /** Records a pending archive as done (`moved`: its directory is in the archive; keys destroyed first if asked), else as abandoned. */
  private async settleArchive(record: ArchiveRecord, moved: boolean, failed?: string): Promise<ArchiveRecord> {
    const event = { action: 'archive', kind: 'client' as const, tenant: record.tenantId };
    if (!moved) {
      const abandoned = { ...record, state: 'abandoned' as const };
      await this.journal.commit({ archive: [abandoned] }, [{ ...event, result: 'failed', detail: { error: failed ?? 'interrupted' } }]);
      return abandoned;
    }
    let keys = record.path === undefined ? 'none' : record.purgeKeys ? 'destroyed' : 'kept';
    if (record.purgeKeys && record.path !== undefined) {
      // The move is done and stays done: keys that could not be destroyed are said so, not retried forever.
      await destroyKeys(clientSlotAt(join(this.layout.root, record.path))).catch((error: unknown) => (keys = `not destroyed: ${reasonOf(error).reason}`));
    }
    const done = { ...record, state: 'done' as const, keys };
    await this.journal.commit({ archive: [done] }, [{ ...event, result: 'ok', detail: { to: record.path ?? 'no directory left to move', keys } }]);
    return done;
  }

  /** Loads the CA and proves that ca.key is the key of ca.crt before anything is signed with it. */
  loadCa(passphrase: string | undefined, crypto: CryptoProvider): Promise<CertificateAuthority> {
    const policy = this.caKeyPolicy;
    this.caKeyPolicy = { strict: policy.strict }; // the warning once per store, however often the CA is loaded
    return loadCa(this.layout, passphrase, crypto, policy);
  }

  /** A CA's certificate and key from given files (a root key kept offline: --root-key), proven to match. */
  loadCaFiles(files: CaFiles, passphrase: string | undefined, crypto: CryptoProvider): Promise<CertificateAuthority> {
    return loadCaFiles(this.layout, files, passphrase, crypto, { strict: this.caKeyPolicy.strict });
  }

  /** Whether ca.key is in the tree (it is not once kept offline: pkictl ca offline). */
  hasCaKey(): Promise<boolean> {
    return exists(this.layout.caKey);
  }

  /**
   * The retired intermediates kept in authorities/ with their keys (replaceIntermediate): each still
   * signs the CRL of the leaves it issued. Retired roots (self-issued) are not among them.
   */
  async retiredAuthorities(): Promise<Array<CaFiles & { serial: string; notAfter: Date }>> {
    const dir = this.layout.authoritiesDir;
    this.refuseForeignLink(dir);
    const names = await readdir(dir).catch(() => [] as string[]);
    const found: Array<CaFiles & { serial: string; notAfter: Date }> = [];
    for (const name of names.filter((n) => /^[0-9a-f]+\.crt$/.test(n)).sort()) {
      const cert = join(dir, name);
      const key = cert.replace(/\.crt$/, '.key');
      if (!names.includes(basename(key))) continue;
      const read = readFile(cert);
      if (!read.ok) throw unreadable(this.layout.display(cert), read);
      const parsed = readCertificates(read.bytes, this.layout.display(cert))[0]!;
      if (parsed.selfIssued) continue;
      found.push({ cert, key, serial: parsed.serialHex, notAfter: parsed.notAfter });
    }
    return found;
  }

  /**
   * A stamp of the CA files (ca.crt, intermediate.crt, authorities/: inode, size, mtime): it changes
   * whenever a CA event replaces one of them, so a long-running caller (serve) reloads its CA only then.
   */
  caFilesStamp(): string {
    const { layout } = this;
    return [layout.caCert, layout.intermediateCert, layout.authoritiesDir]
      .map((path) => {
        const info = lstatQuiet(path);
        return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : '-';
      })
      .join('|');
  }

  /** Whether the tree has an issuing intermediate (intermediate.crt). */
  hasIntermediate(): Promise<boolean> {
    return exists(this.layout.intermediateCert);
  }

  /**
   * The key id (SKI) of the CA that signs leaves now, as the tree holds it without loading a key: the
   * intermediate, else the first root of ca.crt (during a rollover the signing root is put first).
   */
  async signingKeyId(): Promise<Uint8Array | undefined> {
    const cert = (await this.currentIntermediate()) ?? readCertificatePem(await this.readText(this.layout.caCert), this.layout.display(this.layout.caCert));
    return cert.ski;
  }

  /** The issuing intermediate in use (intermediate.crt), or undefined in a tree whose root signs. */
  async currentIntermediate(): Promise<Certificate | undefined> {
    const path = this.layout.intermediateCert;
    if (!(await exists(path))) return undefined;
    return readCertificatePem(await this.readText(path), this.layout.display(path));
  }

  /** ensureDir for clients/ and the like, once per store rather than once per tenant of a bulk run. */
  private ensureDirOnce(path: string): Promise<void> {
    let made = this.madeDirs.get(path);
    if (!made) {
      made = ensureDir(path, KEY_DIR_MODE);
      this.madeDirs.set(path, made);
      made.catch(() => this.madeDirs.delete(path));
    }
    return made;
  }

  /** Lists the files of `pairs` that exist already, for a single up-front refusal; a foreign link there is refused (FOREIGN_LINK). */
  async existing(pairs: PairPaths[]): Promise<string[]> {
    const found: string[] = [];
    for (const { cert, key } of pairs) {
      this.refuseForeignLink(cert); // refused as such, not as "already exists, pass --force"
      for (const path of [key, cert]) if (await exists(path)) found.push(this.layout.display(path));
    }
    return found;
  }

  serverSlot(): SlotSpec {
    return serverSlot(this.layout);
  }

  clientSlot(tenantId: string, pattern?: TenantIdPattern): SlotSpec {
    return clientSlot(this.layout, tenantId, pattern);
  }

  clientPaths(tenantId: string, pattern?: TenantIdPattern): PairPaths {
    return clientPaths(this.layout, tenantId, pattern);
  }

  /** What a pair's slot holds on disk (pair-slot.ts), synchronously; a link pkictl did not make there is refused (FOREIGN_LINK). */
  slotState(slot: SlotSpec): SlotState {
    const { state, link } = inspectSlot(slot);
    if (link) throw foreignLinkError(link, (p) => this.layout.display(p));
    return state;
  }

  /**
   * A pair as a report sees it, from one inspection of its slot: its state and its certificate read
   * through the contract path, or the line naming a link pkictl does not follow (nothing read then).
   */
  readPair(slot: SlotSpec): { state: SlotState; refused?: string; cert?: FileRead } {
    const { state, link } = inspectSlot(slot);
    if (link) return { state, refused: foreignLinkMessage(link, (p) => this.layout.display(p)) };
    return { state, ...((state === 'plain' || state === 'versioned') && { cert: readFile(slot.certLink) }) };
  }

  /**
   * Records and installs a leaf pair (install()): the pair written through the slot's single atomic
   * switch (a new slot appears whole), its index entry and audit line recorded exactly once, other
   * valid certificates of the same holder marked superseded. The old pair stays in the slot's
   * versions/ (the newest HISTORY_KEEP).
   */
  private async saveLeaf(kind: 'server' | 'client', slot: SlotSpec, pair: PemPair, tenantId: string | undefined, options: SaveOptions): Promise<void> {
    await this.withLock(async () => {
      const state = this.slotState(slot);
      await this.ensureDirOnce(dirname(slot.base));
      // Bring an existing slot to the versioned shape first (it keeps serving the old pair), so
      // that a slot that cannot take a new pair fails before anything is recorded.
      if (state !== 'absent') await ensureVersioned(slot, (pem) => this.versionOf(pem, slot.certLink));
      const entry = { ...this.journal.entryFor(kind, options.facts ?? (factsOf(pair.certPem, slot.certLink)), slot.certLink, tenantId, options.issuer), ...(options.keySha256 && { keySha256: options.keySha256 }) };
      const action = options.action ?? (state === 'absent' ? 'issue' : 'reissue');
      const version = versionName(new Date(entry.notBefore), entry.serial);
      await this.install({ entry, action, ...(options.detail && { detail: options.detail }) }, () =>
        state === 'absent' ? createSlot(slot, version, pair) : installVersion(slot, version, pair),
      );
      if (state !== 'absent') await pruneVersions(slot, HISTORY_KEEP);
    });
  }

  private versionOf(certPem: string, what: string): string {
    const cert = readCertificatePem(certPem, what);
    return versionName(cert.notBefore, cert.serialHex);
  }

  async saveServer(pair: PemPair, options: SaveOptions = {}): Promise<PairPaths> {
    await this.saveLeaf('server', this.serverSlot(), pair, undefined, options);
    return { cert: this.layout.serverCert, key: this.layout.serverKey };
  }

  /**
   * Issues into clients/<tenantId>/: a new tenant directory appears whole; an existing one (plain
   * files from an older pkictl, or versioned) gets the new pair through the atomic switch. Safe to
   * call concurrently and from several processes: it takes the lock and records itself.
   */
  async saveClient(tenantId: string, pair: PemPair, pattern?: TenantIdPattern, options: SaveOptions = {}): Promise<PairPaths> {
    await this.saveLeaf('client', this.clientSlot(tenantId, pattern), pair, tenantId, options);
    return this.clientPaths(tenantId, pattern);
  }

  /**
   * Installs a tenant certificate whose key lives on the tenant's connector (pkictl sign, serve):
   * clients/<id>/client.crt alone, recorded like a pair (install()), its entry saying keyAt
   * 'connector'. A new tenant's directory appears whole; a connector tenant's certificate is replaced
   * with one rename. A tenant holding a pair pkictl made is refused unless `replaceKey`: then the new
   * certificate replaces the pair's, and the tree's keys of that tenant are destroyed (its connector
   * holds the key now; a kill before that is finished by the next run, settlePending).
   */
  async saveConnectorCert(tenantId: string, certPem: string, pattern: TenantIdPattern | undefined, options: SaveOptions & { replaceKey?: boolean }): Promise<PairPaths> {
    const slot = this.clientSlot(tenantId, pattern);
    await this.withLock(async () => {
      const state = this.slotState(slot);
      const shown = this.layout.display(slot.base);
      if (state === 'partial') throw failure('PAIR_INCOMPLETE', `${shown} holds only part of a pair; nothing was written`, 'remove the stray file, or reissue the tenant with pkictl issue client --force');
      if ((state === 'plain' || state === 'versioned') && !options.replaceKey) {
        throw inputError('KEY_IN_TREE', `${shown} holds a key pkictl made for this tenant; nothing was written`, 'pass --force to move the tenant to the key on its connector (the key in the tree is then destroyed)');
      }
      await this.ensureDirOnce(dirname(slot.base));
      const facts = options.facts ?? factsOf(certPem, slot.certLink);
      const entry: IndexEntry = { ...this.journal.entryFor('client', facts, slot.certLink, tenantId, options.issuer), keyAt: 'connector', ...(options.keySha256 && { keySha256: options.keySha256 }) };
      const action = options.action ?? (state === 'absent' ? 'issue' : 'reissue');
      await this.install({ entry, action, ...(options.detail && { detail: options.detail }) }, () => installCertOnly(slot, certPem, state !== 'absent'));
      if (state === 'plain' || state === 'versioned') await this.dropTreeKeys(slot);
    });
    return this.clientPaths(tenantId, pattern);
  }

  /** The keys a connector tenant no longer has in the tree: destroyed (pair-slot destroyKeys), with its versions. */
  private async dropTreeKeys(slot: SlotSpec): Promise<void> {
    await destroyKeys(slot);
    await rm(join(slot.base, 'current'), { force: true });
    await rm(join(slot.base, 'versions'), { recursive: true, force: true });
    await syncDir(slot.base);
  }

  /** Records a new enrollment token (its hash, tenant and expiry; never the token) with its audit line. */
  async addToken(record: TokenRecord): Promise<void> {
    await this.withLock(() => this.journal.commit({ tokens: [record] }, [tokenEvent('token-create', record, { expires: record.expiresAt })]));
  }

  /**
   * Marks a token used, once: `check` sees the token with this hash (or undefined) as the lock holder
   * sees it and throws to refuse; between the look and the record nothing else of this process runs
   * (Journal.commit stages synchronously), and other processes wait for the lock, so one token gives
   * one enrollment however many present it at once.
   */
  async useToken(sha256: string, check: (record: TokenRecord | undefined) => TokenRecord, at: Date): Promise<TokenRecord> {
    return this.withLock(async () => {
      const record = check(this.index.tokens().find((t) => t.sha256 === sha256));
      const used = { ...record, usedAt: at.toISOString() };
      await this.journal.commit({ tokens: [used] }, [tokenEvent('token-use', used)], at);
      return used;
    });
  }

  /** Marks tokens revoked (not yet used ones; others are left as they are), with an audit line each. */
  async revokeTokens(ids: string[], at: Date): Promise<TokenRecord[]> {
    return this.withLock(async () => {
      const open = this.index.tokens().filter((t) => ids.includes(t.id) && t.usedAt === undefined && t.revokedAt === undefined);
      if (open.length === 0) return [];
      const revoked = open.map((t) => ({ ...t, revokedAt: at.toISOString() }));
      await this.journal.commit({ tokens: revoked }, revoked.map((t) => tokenEvent('token-revoke', t)), at);
      return revoked;
    });
  }

  /**
   * Records a certificate found on disk that the index does not know (issued before the index
   * existed, or by a run killed between signing and recording), so that rotation and revocation
   * can refer to it. Returns the entry.
   */
  async adopt(kind: 'server' | 'client', certPem: string, path: string, tenantId?: string): Promise<IndexEntry> {
    return this.withLock(async () => {
      const entry = this.journal.entryFor(kind, factsOf(certPem, path), path, tenantId);
      const known = this.index.get(entry.serial);
      if (known) return known;
      await this.journal.commit({ add: [entry] }, [eventFor('adopt', entry, { note: 'found on disk, not in the index' })]);
      return entry;
    });
  }

  /**
   * Marks certificates revoked (index + one audit line each). A serial already revoked with this
   * reason is left as it is; one revoked with another reason gets this one, keeping its revocation
   * date (which certificates may change their reason is the caller's rule: ops/revoke.ts).
   */
  async revoke(serials: string[], reason: RevocationReason, at: Date): Promise<IndexEntry[]> {
    return this.withLock(async () => {
      this.refuseForeignLink(this.layout.crl); // a revocation is only done once its CRL can be written
      const entries = serials.map((s) => this.index.get(s)).filter((e): e is IndexEntry => e !== undefined && !(e.status === 'revoked' && e.revocationReason === reason));
      if (entries.length === 0) return [];
      await this.journal.commit(
        { set: entries.map((e) => ({ serial: e.serial, status: 'revoked' as const, at: e.status === 'revoked' ? (e.revokedAt ?? at.toISOString()) : at.toISOString(), reason })) },
        entries.map((e) => eventFor('revoke', e, { reason, ...(e.status === 'revoked' && { previousReason: e.revocationReason ?? 'unspecified' }) })),
        at,
      );
      return entries.map((e) => this.index.get(e.serial)!);
    });
  }

  /**
   * Replaces certs/pkictl.json (the tree's profiles) with an audit line naming the roles changed and
   * the new file's hash. When the line cannot be written, the old file is put back: the log tells
   * every profile the tree has issued with.
   */
  async saveConfig(profiles: Record<Role, unknown>, roles: Role[]): Promise<string> {
    return this.withLock(async () => {
      const path = this.layout.config;
      const text = configText(profiles);
      this.refuseForeignLink(path);
      const before = readFile(path);
      if (!before.ok && !before.missing) throw unreadable(this.layout.display(path), before);
      await writeFilesAtomically([{ path, data: text, mode: CERT_MODE }]);
      try {
        await this.journal.commit({}, [{ action: 'config', result: 'ok', sha256: createHash('sha256').update(text).digest('hex'), detail: { roles: roles.join(',') } }]);
      } catch (error) {
        if (before.ok) await writeFilesAtomically([{ path, data: Buffer.from(before.bytes).toString('utf8'), mode: CERT_MODE }]);
        else await rm(path, { force: true });
        throw error;
      }
      return path;
    });
  }

  /**
   * Writes a CRL atomically and records its number (one counter for both files, so each one's numbers
   * only grow): certs/crl.pem (the leaves, signed by the CA that signs them) or, for `root`,
   * certs/root-crl.pem (what the root signed: its intermediates).
   */
  async saveCrl(pem: string, crlNumber: number, detail: Record<string, string | number>, scope: 'leaves' | 'root' = 'leaves'): Promise<string> {
    const path = scope === 'root' ? this.layout.rootCrl : this.layout.crl;
    return this.withLock(async () => {
      this.refuseForeignLink(path); // before the number is recorded
      await this.journal.commit({ crlNumber }, [{ action: 'crl', result: 'ok', kind: 'crl', detail: { number: crlNumber, ...(scope === 'root' && { scope }), ...detail } }]);
      await writeFilesAtomically([{ path, data: pem, mode: CERT_MODE }]);
      return path;
    });
  }

  /** Whether clients/<id>/ exists (as anything, a link included). */
  async tenantDirExists(tenantId: string, pattern?: TenantIdPattern): Promise<boolean> {
    return exists(this.layout.clientDir(tenantId, pattern));
  }

  /** Tenant directories under clients/ (names only; hidden temp directories skipped). */
  tenantDirs(): Promise<string[]> {
    return tenantNames(this.layout, { hidden: false });
  }

  /** Every directory under clients/, hidden ones included (what a scan of the tree reports on). */
  allTenantDirs(): Promise<string[]> {
    return tenantNames(this.layout, { hidden: true });
  }

  /** The tree as it is, for a report (scan.ts); no lock taken. */
  scanTree(options?: ScanOptions): Promise<TreeScan>;
  scanTree<T>(options: ScanOptions, project: (entry: TreeEntry) => T): Promise<TreeScan<T>>;
  scanTree<T>(options: ScanOptions = {}, project?: (entry: TreeEntry) => T): Promise<TreeScan<T | TreeEntry>> {
    return project ? scanTree(this.layout, options, project) : scanTree(this.layout, options);
  }

  /** Whether a contract path is in its shape (slots.ts contractLink): the line naming the link pkictl does not follow, if any. */
  foreignLink(path: string): string | undefined {
    const link = contractLink(this.layout, path);
    return link && foreignLinkMessage(link, (p) => this.layout.display(p));
  }

  private refuseForeignLink(path: string): void {
    const link = contractLink(this.layout, path);
    if (link) throw foreignLinkError(link, (p) => this.layout.display(p));
  }

  /** One file of the tree with its mode, never throwing for a missing or unreadable file (files.ts); a foreign link is reported, not read. */
  readTreeFile(path: string): FileRead {
    return readTreeFile(this.layout, path);
  }

  /** A file of the tree as text, for a decision (the pair through its contract path); unreadable: an input error. */
  async readText(path: string): Promise<string> {
    this.refuseForeignLink(path);
    const read = readFile(path);
    if (!read.ok) throw unreadable(this.layout.display(path), read);
    return Buffer.from(read.bytes).toString('utf8');
  }

  /** certs/audit.log line by line, in bounded memory (audit-log.ts readAuditLines); no lock taken. */
  auditLines(): AsyncGenerator<ReadLine> {
    return readAuditLines(this.layout.auditLog);
  }

  /** Checks certs/audit.log's chain and its end against the head the index records (load() the index first). */
  checkAuditLog(): Promise<AuditVerifyResult> {
    return verifyAuditLog(this.layout.auditLog, this.index.auditHead(), this.index.lastAuditLines());
  }

  /**
   * What the tree shows was issued, for audit-log verify (recovery.ts lostHistory): the certificates
   * at the contract paths with their serials, and how many certificates the tree holds in all. The
   * versions/ of each pair are counted by name (time-serial prefix), not read.
   */
  async issuedInTree(): Promise<Omit<TreeEvidence, 'unknownRevocations'>> {
    const scan = await this.scanTree();
    const deployed: TreeEvidence['deployed'] = [];
    const seen = new Set<string>();
    for (const e of scan.entries) {
      if (!e.cert.ok) continue;
      let serial: string;
      try {
        serial = readCertificates(e.cert.bytes, e.certPath)[0]!.serialHex;
      } catch {
        continue; // audit reports it
      }
      seen.add(serial.slice(0, 16));
      if (e.kind !== 'ca') deployed.push({ path: this.layout.display(e.certPath), serial });
    }
    const bases = [this.layout.serverPairDir, ...scan.entries.filter((e) => e.kind === 'client').map((e) => dirname(e.certPath))];
    for (const base of bases) {
      for (const name of await readdir(join(base, 'versions')).catch(() => [] as string[])) if (!name.startsWith('.')) seen.add(name.slice(name.indexOf('-') + 1));
    }
    return { deployed, certificates: seen.size };
  }

  /** Whether the index lost history the audit log, crl.pem or `tree` prove (recovery.ts); load() the index first. */
  lostHistory(tree: TreeEvidence): Promise<string | undefined> {
    return lostHistory(this.layout, this.index, tree);
  }

  /** Whether another command holds the directory's lock right now (read-only callers retry then). */
  isLocked(): Promise<boolean> {
    return stat(join(this.layout.root, LOCK_FILE)).then(() => true, () => false);
  }
}
