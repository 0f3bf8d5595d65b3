import { readdir, readFile, rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { failure, inputError, PkiError } from '../core/errors.js';
import { readCertificatePem } from '../core/cert-input.js';
import { certFacts, type CertFacts } from '../core/cert.js';
import type { CertificateAuthority } from '../core/issue.js';
import { importPrivateKeyPem, publicKeyOf } from '../core/keys.js';
import type { CryptoProvider } from '../core/x509.js';
import { CERT_MODE, ensureDir, exists, KEY_DIR_MODE, KEY_MODE, writeFilesAtomically } from './atomic-write.js';
import { appendLines, chainLines, cutTornTail, GENESIS, readLastHead, type AuditContext, type AuditEvent, type AuditLine } from './audit-log.js';
import { GroupCommit } from './group-commit.js';
import { FileCertIndex, type CertIndex, type IndexEntry, type IndexKind, type IndexTransaction, type RevocationReason, type StatusChange } from './cert-index.js';
import { Layout } from './layout.js';
import { acquireLock, type LockHandle } from './lock.js';
import { createSlot, ensureVersioned, installVersion, pruneVersions, slotState, versionName, type SlotSpec } from './pair-slot.js';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface PairPaths {
  cert: string;
  key: string;
}

/** Reads a file the user pointed at; every failure becomes one line that names the file. */
export async function readUserFile(path: string, what = path): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : code;
    throw inputError('FILE_UNREADABLE', `cannot read ${what}: ${why}`);
  }
}

/** Facts of a certificate the caller did not describe (adopted from disk). */
async function factsOf(certPem: string, what: string): Promise<CertFacts> {
  return certFacts(readCertificatePem(certPem, what));
}

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

export interface StoreOptions {
  /** Who is acting, for the audit log (default PKICTL_ACTOR, else user@host). */
  actor?: string;
  /** The command line recorded in the audit log (default: the command words of process.argv). */
  command?: string;
  /** Told once when another process holds the lock and this one waits. */
  onLockWait?(message: string): void;
  lockTimeoutMs?: number;
}

/** How a saved leaf is described in the index and the audit log. */
export interface SaveOptions {
  /** 'issue' for a new tenant/server, 'reissue' for --force, 'rotate' for pkictl rotate. */
  action?: 'issue' | 'reissue' | 'rotate';
  /** Extra facts for the audit line (never key material). */
  detail?: Record<string, string | number>;
  /** The certificate's facts when the caller made it (saves parsing it again); else read from certPem. */
  facts?: CertFacts;
}

/** Old versions kept per pair besides the current one (for rollback). */
export const HISTORY_KEEP = 5;

function defaultActor(): string {
  if (process.env.PKICTL_ACTOR) return process.env.PKICTL_ACTOR;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `${user}@${hostname()}`;
}

/** "pkictl issue client", "pkictl rotate": the leading command words, without ids or flags. */
function defaultCommand(): string {
  const words: string[] = [];
  for (const arg of process.argv.slice(2)) {
    if (arg.startsWith('-') || !/^[a-z][a-z-]*$/.test(arg) || words.length === 2) break;
    words.push(arg);
  }
  return ['pkictl', ...words].join(' ');
}

/**
 * The certs/ directory: the only code that reads the CA or writes certificates and keys.
 *
 * Every change goes through the store, which (1) holds the directory's lock (lock.ts) for the
 * duration, (2) records the certificate in the index (cert-index.ts) and checks its serial is new,
 * (3) appends the audit line (audit-log.ts), and (4) writes the pair with one atomic switch
 * (pair-slot.ts). The order is: index (the commit point, carrying the audit lines), audit log, files.
 * A crash after the commit leaves a recorded certificate that never reached its path (harmless:
 * its key is gone) and at most the audit lines of that one transaction unwritten, which the next
 * command that takes the lock appends.
 *
 * Callers need no lock of their own: saveCa/saveServer/saveClient/revoke take it. A caller that
 * makes a decision from the directory's state (rotate: "which tenants need renewal") wraps the
 * whole decision and its writes in withLock(), which is reentrant within one CertStore, and
 * concurrent saves from one process (the bulk engine) are ordered at the commit only, and share its
 * writes (one index line + one audit append per group of commits, group-commit.ts).
 */
export class CertStore {
  readonly layout: Layout;
  readonly index: CertIndex;
  private readonly options: StoreOptions;
  private readonly audit: AuditContext;
  /** Staged index transactions waiting for their group's writes. */
  private readonly journal: GroupCommit<IndexTransaction>;
  private readonly madeDirs = new Map<string, Promise<void>>();
  private holders = 0;
  private lockReady: Promise<void> | undefined;
  private lockHandle: LockHandle | undefined;

  constructor(root: string, options: StoreOptions = {}) {
    this.layout = new Layout(root);
    this.index = new FileCertIndex(this.layout.root);
    this.options = options;
    this.audit = { actor: options.actor ?? defaultActor(), command: options.command ?? defaultCommand() };
    // Per group: the index line (the commit point), then its audit lines. The next group waits, so
    // after a crash only the last index line can lack its audit lines, which recover() appends.
    this.journal = new GroupCommit(async (txns) => {
      await this.index.persist(txns);
      await appendLines(this.layout.auditLog, txns.flatMap((t) => t.audit));
    });
  }

  /**
   * Runs `fn` holding the directory's exclusive lock; a second process waits (one message through
   * onLockWait), then fails with LOCK_TIMEOUT. Reentrant: nested and concurrent calls on this
   * store share one acquisition, released when the last one returns.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    this.holders++;
    try {
      this.lockReady ??= this.acquire();
      await this.lockReady;
      return await fn();
    } finally {
      this.holders--;
      if (this.holders === 0) {
        const handle = this.lockHandle;
        this.lockHandle = undefined;
        this.lockReady = undefined;
        await handle?.release();
      }
    }
  }

  private async acquire(): Promise<void> {
    await ensureDir(this.layout.root, KEY_DIR_MODE);
    // Without a callback the wait is still announced (on stderr, like every note of the CLI): a
    // command that seems to hang for a minute without saying why is worse than a store that talks.
    const onWait = this.options.onLockWait ?? ((message: string) => void process.stderr.write(`${message}\n`));
    this.lockHandle = await acquireLock(this.layout.root, { timeoutMs: this.options.lockTimeoutMs, onWait, command: this.audit.command });
    try {
      await this.recover();
    } catch (error) {
      await this.lockHandle.release();
      this.lockHandle = undefined;
      throw error;
    }
  }

  /**
   * After taking the lock: remove what a killed run left under temp names, reload the index (cutting
   * a torn tail) and finish an interrupted audit append.
   */
  private async recover(): Promise<void> {
    await removeStaleTemps([this.layout.root, this.layout.clientsDir]);
    await this.index.refresh();
    await cutTornTail(this.layout.auditLog);
    const head = this.index.auditHead();
    if (!head) return;
    const last = await readLastHead(this.layout.auditLog);
    if (last?.seq === head.seq) return;
    const missing = this.index.lastAuditLines().filter((text) => (JSON.parse(text) as AuditLine).seq > (last?.seq ?? 0));
    const first = missing[0] ? (JSON.parse(missing[0]) as AuditLine) : undefined;
    // Only the one transaction a crash can interrupt is redone; any other gap is left for
    // `audit-log verify` to report.
    if (missing.length === head.seq - (last?.seq ?? 0) && first?.prev === (last?.hash ?? GENESIS)) {
      await appendLines(this.layout.auditLog, missing);
    }
  }

  /**
   * Commits index changes and their audit lines: index first (the commit point), then the log.
   * The checks, the chain and the staging run synchronously, so they never interleave with another
   * commit of this process (the bulk engine), while the writes are grouped (group-commit.ts).
   * Resolves when both are durable.
   */
  private commit(change: { add?: IndexEntry[]; set?: StatusChange[]; crlNumber?: number }, events: AuditEvent[], time = new Date()): Promise<void> {
    for (const entry of change.add ?? []) {
      if (this.index.get(entry.serial)) {
        return Promise.reject(failure('SERIAL_DUPLICATE', `serial ${entry.serial} is already in the index; nothing was written`, 'this should never happen with random 158-bit serials: report it'));
      }
    }
    const { texts, head } = chainLines(this.index.auditHead(), events, this.audit, time);
    const txn: IndexTransaction = { ...change, audit: texts, auditHead: head };
    this.index.stage(txn);
    return this.journal.add(txn);
  }

  /** Records `event` alone (e.g. a failed rotation) in the audit log. */
  async recordEvent(event: AuditEvent): Promise<void> {
    await this.withLock(() => this.commit({}, [event]));
  }

  private entryFor(kind: IndexKind, facts: CertFacts, path: string, tenantId?: string): IndexEntry {
    return {
      serial: facts.serial,
      kind,
      ...(tenantId !== undefined && { tenantId }),
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

  private eventFor(action: string, entry: IndexEntry, detail?: Record<string, string | number>): AuditEvent {
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

  async assertNoCa(): Promise<void> {
    for (const path of [this.layout.caCert, this.layout.caKey]) {
      if (await exists(path)) {
        throw inputError('CA_EXISTS', `${this.layout.display(path)} already exists; pkictl never replaces a CA`, 'use another --dir, or move the old CA away yourself');
      }
    }
  }

  async saveCa(pair: PemPair, facts?: CertFacts): Promise<PairPaths> {
    return this.withLock(async () => {
      await this.assertNoCa();
      const paths = { cert: this.layout.caCert, key: this.layout.caKey };
      const entry = this.entryFor('ca', facts ?? (await factsOf(pair.certPem, paths.cert)), paths.cert);
      await this.commit({ add: [entry] }, [this.eventFor('init', entry)]);
      await writeFilesAtomically([
        { path: paths.key, data: pair.keyPem, mode: KEY_MODE },
        { path: paths.cert, data: pair.certPem, mode: CERT_MODE },
      ]);
      return paths;
    });
  }

  /** Loads the CA and proves that ca.key is the key of ca.crt before anything is signed with it. */
  async loadCa(passphrase: string | undefined, crypto: CryptoProvider): Promise<CertificateAuthority> {
    const { caCert, caKey } = this.layout;
    if (!(await exists(caCert))) {
      throw inputError('CA_MISSING', `no CA in ${this.layout.display(this.layout.root)} (${this.layout.display(caCert)} not found)`, 'create one with: pkictl init --dir ' + this.layout.display(this.layout.root));
    }
    const cert = readCertificatePem(await readUserFile(caCert, this.layout.display(caCert)), this.layout.display(caCert));
    let privateKey: CryptoKey;
    try {
      privateKey = await importPrivateKeyPem(await readUserFile(caKey, this.layout.display(caKey)), crypto, passphrase);
    } catch (error) {
      if (error instanceof PkiError) throw inputError(error.code, `${this.layout.display(caKey)}: ${error.message}`, error.hint);
      throw error;
    }
    const publicKey = await publicKeyOf(privateKey, crypto);
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey));
    if (!spki.equals(cert.spki)) {
      throw inputError('CA_KEY_MISMATCH', `${this.layout.display(caKey)} is not the key of ${this.layout.display(caCert)}`);
    }
    return { der: cert.der, privateKey };
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

  /** Lists the files of `pairs` that exist already, for a single up-front refusal. */
  async existing(pairs: PairPaths[]): Promise<string[]> {
    const found: string[] = [];
    for (const { cert, key } of pairs) {
      for (const path of [key, cert]) if (await exists(path)) found.push(this.layout.display(path));
    }
    return found;
  }

  serverSlot(): SlotSpec {
    return { base: this.layout.serverPairDir, certLink: this.layout.serverCert, keyLink: this.layout.serverKey, certName: 'server.crt', keyName: 'server.key', dirMode: KEY_DIR_MODE };
  }

  clientSlot(tenantId: string, pattern?: string): SlotSpec {
    const base = this.layout.clientDir(tenantId, pattern);
    return { base, certLink: join(base, 'client.crt'), keyLink: join(base, 'client.key'), certName: 'client.crt', keyName: 'client.key', dirMode: KEY_DIR_MODE };
  }

  clientPaths(tenantId: string, pattern?: string): PairPaths {
    return { cert: this.layout.clientCert(tenantId, pattern), key: this.layout.clientKey(tenantId, pattern) };
  }

  /**
   * Records and installs a leaf pair: index entry (serial checked unique) and audit line exactly
   * once, other valid certificates of the same holder marked superseded, then the pair written
   * through the slot's single atomic switch (a new slot appears whole). The old pair stays in the
   * slot's versions/ (the newest HISTORY_KEEP).
   */
  private async saveLeaf(kind: 'server' | 'client', slot: SlotSpec, pair: PemPair, tenantId: string | undefined, options: SaveOptions): Promise<void> {
    await this.withLock(async () => {
      await this.ensureDirOnce(dirname(slot.base));
      const state = await slotState(slot);
      // Bring an existing slot to the versioned shape first (it keeps serving the old pair), so
      // that a slot that cannot take a new pair fails before anything is recorded.
      if (state !== 'absent') await ensureVersioned(slot, (pem) => this.versionOf(pem, slot.certLink));
      const entry = this.entryFor(kind, options.facts ?? (await factsOf(pair.certPem, slot.certLink)), slot.certLink, tenantId);
      const action = options.action ?? (state === 'absent' ? 'issue' : 'reissue');
      // No await between reading the holder's entries and committing: see commit().
      const now = new Date().toISOString();
      const superseded = this.index.entriesFor(kind, tenantId).filter((e) => e.status === 'valid');
      const detail = { ...options.detail, ...(superseded.length > 0 && { supersedes: superseded.map((e) => e.serial).join(',') }) };
      await this.commit(
        { add: [entry], set: superseded.map((e) => ({ serial: e.serial, status: 'superseded' as const, at: now, by: entry.serial })) },
        [this.eventFor(action, entry, Object.keys(detail).length > 0 ? detail : undefined)],
      );
      const version = versionName(new Date(entry.notBefore), entry.serial);
      if (state === 'absent') {
        await createSlot(slot, version, pair);
      } else {
        await installVersion(slot, version, pair);
        await pruneVersions(slot, HISTORY_KEEP);
      }
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
  async saveClient(tenantId: string, pair: PemPair, pattern?: string, options: SaveOptions = {}): Promise<PairPaths> {
    await this.saveLeaf('client', this.clientSlot(tenantId, pattern), pair, tenantId, options);
    return this.clientPaths(tenantId, pattern);
  }

  /**
   * Records a certificate found on disk that the index does not know (issued before the index
   * existed, or by a run killed between signing and recording), so that rotation and revocation
   * can refer to it. Returns the entry.
   */
  async adopt(kind: 'server' | 'client', certPem: string, path: string, tenantId?: string): Promise<IndexEntry> {
    return this.withLock(async () => {
      const entry = this.entryFor(kind, await factsOf(certPem, path), path, tenantId);
      const known = this.index.get(entry.serial);
      if (known) return known;
      await this.commit({ add: [entry] }, [this.eventFor('adopt', entry, { note: 'found on disk, not in the index' })]);
      return entry;
    });
  }

  /** Marks certificates revoked (index + one audit line each). Serials already revoked are left as they are. */
  async revoke(serials: string[], reason: RevocationReason, at: Date): Promise<IndexEntry[]> {
    return this.withLock(async () => {
      const entries = serials.map((s) => this.index.get(s)).filter((e): e is IndexEntry => e !== undefined && e.status !== 'revoked');
      if (entries.length === 0) return [];
      await this.commit(
        { set: entries.map((e) => ({ serial: e.serial, status: 'revoked' as const, at: at.toISOString(), reason })) },
        entries.map((e) => this.eventFor('revoke', e, { reason })),
        at,
      );
      return entries.map((e) => this.index.get(e.serial)!);
    });
  }

  /** Writes certs/crl.pem atomically and records its number. */
  async saveCrl(pem: string, crlNumber: number, detail: Record<string, string | number>): Promise<string> {
    return this.withLock(async () => {
      await this.commit({ crlNumber }, [{ action: 'crl', result: 'ok', kind: 'crl', detail: { number: crlNumber, ...detail } }]);
      await writeFilesAtomically([{ path: this.layout.crl, data: pem, mode: CERT_MODE }]);
      return this.layout.crl;
    });
  }

  /** Tenant directories under clients/ (names only; hidden temp directories skipped). */
  async tenantDirs(): Promise<string[]> {
    try {
      return (await readdir(this.layout.clientsDir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** Reads a file of the store for a decision (the pair through its contract path). */
  async readText(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }
}
