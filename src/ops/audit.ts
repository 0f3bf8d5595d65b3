import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readCertificates } from '../core/cert-input.js';
import { PkiError } from '../core/errors.js';
import { summarize, type CertSummary } from '../core/inspect.js';
import { isEncryptedKeyPem } from '../core/keys.js';
import { needsRenewal, type RenewThreshold } from '../core/renewal.js';
import { tenantIdProblem, type TenantIdPattern } from '../core/tenant-id.js';
import type { Certificate } from '../core/cert.js';
import { readCrls } from '../core/crl.js';
import { equalBytes } from '../core/der.js';
import { revocationOfCrlEntry } from '../core/revocation.js';
import { Verifier, type Purpose } from '../core/verify.js';
import type { FileRead } from '../store/files.js';
import { foreignLinkProblem } from '../store/links.js';
import type { TreeEntry } from '../store/scan.js';
import { mapConcurrent } from './bulk.js';
import { crlState, indexRevocations, offboardHint } from './list.js';
import { crlGaps, treeLeafIssuers } from './crl.js';
import { missingTenants } from './missing-tenants.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';
import { revocationText, type RevocationInfo } from './records.js';

/*
 * `pkictl audit`: every check of the certs/ contract over the whole tree, as a list of findings.
 * A finding is a result, not an error: the run exits 1 when there is any, 0 when the tree is clean,
 * and 2 only when the tree cannot be audited at all (no directory, no ca.crt).
 */

export type FindingCode =
  | 'MISSING_FILE'
  | 'UNREADABLE_FILE'
  | 'CERT_INVALID'
  | 'KEY_INVALID'
  | 'KEY_MISMATCH'
  | 'KEY_MODE'
  | 'KEY_IN_TREE'
  | 'KEY_DIR_MODE'
  | 'CERT_MODE'
  | 'CN_MISMATCH'
  | 'TENANT_ID_INVALID'
  | 'CHAIN_INVALID'
  | 'DUPLICATE_SERIAL'
  | 'DUPLICATE_PUBLIC_KEY'
  | 'SERVER_NO_SAN'
  | 'SERVER_NO_SERVER_AUTH'
  | 'EXPIRED'
  | 'EXPIRING'
  | 'CA_INVALID'
  | 'REVOKED'
  | 'CRL_INVALID'
  | 'CRL_EXPIRED'
  | 'CRL_STALE'
  | 'CRL_UNPUBLISHED'
  | 'INDEX_MISMATCH'
  | 'MISSING_TENANT'
  | 'PENDING'
  | 'STRAY_FILE'
  | 'FOREIGN_LINK';

export interface AuditFinding {
  code: FindingCode;
  /** error: the tree is broken or unsafe now; warning: it will be, or it is untidy. */
  severity: 'error' | 'warning';
  /** Path relative to --dir. */
  path: string;
  message: string;
  /** For CHAIN_INVALID: the validator's rule code (EKU_MISMATCH, BAD_SIGNATURE, …). */
  rule?: string;
  /** For REVOKED: why and when. */
  revocation?: RevocationInfo;
}

export interface AuditRequest {
  dir: string;
  /** The client template's tenantIdPattern (default: canonical lowercase UUID). */
  tenantIdPattern?: TenantIdPattern;
  at: Date;
  threshold: RenewThreshold;
  /** Decrypts ca.key to check it matches ca.crt; without it an encrypted ca.key is only noted. */
  passphrase?: string;
}

export interface AuditResult {
  dir: string;
  at: string;
  renewBefore: string;
  checked: { certificates: number; keys: number; tenants: number };
  findings: AuditFinding[];
  /** What could not be checked and why (not findings). */
  notes: string[];
}

/** Parsing keys and certificates is CPU work; a few in flight overlap it with the file reads. */
const CONCURRENCY = 16;
const PURPOSE: Record<TreeEntry['kind'], Purpose> = { ca: 'any', intermediate: 'any', server: 'server', client: 'client' };
const octal = (mode: number) => mode.toString(8).padStart(4, '0');

interface Parsed {
  entry: TreeEntry;
  certPath: string;
  keyPath: string;
  cert?: Certificate;
  chain: Certificate[];
  summary?: CertSummary;
}

function unreadable(path: string, read: Extract<FileRead, { ok: false }>): AuditFinding {
  return read.missing
    ? { code: 'MISSING_FILE', severity: 'error', path, message: 'missing' }
    : { code: 'UNREADABLE_FILE', severity: 'error', path, message: read.reason };
}

/** Does the private key in `pem` belong to `cert`? undefined when it cannot be told (encrypted, no passphrase). */
function keyMatches(pem: string, cert: Certificate, passphrase: string | undefined): boolean | undefined {
  const encrypted = isEncryptedKeyPem(pem);
  if (encrypted && passphrase === undefined) return undefined;
  // createPublicKey also accepts a certificate or a public key: a key file holding one of those is
  // not a private key, whatever it matches.
  if (!/-----BEGIN (?:(?:RSA|EC|ENCRYPTED) )?PRIVATE KEY-----/.test(pem)) throw new Error('not a private key');
  // createPublicKey derives the public half straight from an unencrypted private PEM: one key object, not two.
  const key = encrypted ? createPublicKey(createPrivateKey({ key: pem, format: 'pem', passphrase })) : createPublicKey({ key: pem, format: 'pem' });
  const spki = key.export({ type: 'spki', format: 'der' });
  return Buffer.from(cert.spki).equals(spki);
}

/**
 * Disagreements between the index and the tree (a run that failed or was killed between the two, or
 * hands in certs/), and revocations the CRL does not publish. Call with the index loaded.
 */
async function indexFindings(store: CertStore, parsed: Parsed[], add: (f: AuditFinding) => void): Promise<void> {
  const index = store.index;
  const holder = (kind: string, tenant?: string) => `${kind}:${tenant ?? ''}`;
  const deployed = new Map<string, Parsed>();
  for (const p of parsed) {
    if (p.entry.kind === 'ca') continue;
    deployed.set(holder(p.entry.kind, p.entry.tenant), p);
    if (!p.summary) continue;
    const entry = index.get(p.summary.serial);
    if (!entry) add({ code: 'INDEX_MISMATCH', severity: 'error', path: p.certPath, message: `serial ${p.summary.serial} is deployed but not in the issuance index (made outside pkictl, or not recorded); pkictl rotate or revoke adopts it` });
    else if (entry.status === 'superseded') add({ code: 'INDEX_MISMATCH', severity: 'error', path: p.certPath, message: `serial ${p.summary.serial} is deployed, but the index records it as superseded by ${entry.supersededBy ?? 'another'}` });
    else if (entry.status === 'archived') add({ code: 'INDEX_MISMATCH', severity: 'error', path: p.certPath, message: `serial ${p.summary.serial} is deployed, but the index records its tenant as offboarded at ${entry.archivedAt} (archived in ${entry.archivedTo ?? 'nowhere'}); issue the tenant again (pkictl issue client --force) or remove the directory` });
  }
  for (const entry of index.entries()) {
    if (entry.status !== 'valid' || entry.kind === 'ca') continue;
    const p = deployed.get(holder(entry.kind, entry.tenantId));
    if (!p) continue; // a client: missingTenants() below
    if (p.summary && p.summary.serial !== entry.serial) add({ code: 'INDEX_MISMATCH', severity: 'error', path: p.certPath, message: `the index lists serial ${entry.serial} as valid, but serial ${p.summary.serial} is deployed` });
  }
  const tenants = parsed.flatMap((p) => (p.entry.kind === 'client' ? [p.entry.tenant!] : []));
  for (const m of await missingTenants(store, tenants, true)) add({ code: m.code, severity: 'error', path: m.path, message: m.message });
  for (const { entry } of index.pending()) {
    add({ code: 'PENDING', severity: 'warning', path: entry.path, message: `serial ${entry.serial} was being installed by a run that did not finish; the next pkictl command that changes the directory settles it` });
  }
  const gaps = crlGaps(store, await treeLeafIssuers(store));
  if (gaps.unpublished.length > 0) add({ code: 'CRL_UNPUBLISHED', severity: 'error', path: 'crl.pem', message: `lacks ${gaps.unpublished.length} revocation(s) recorded in the index (e.g. ${gaps.unpublished[0]}): relying parties still accept them; run pkictl crl` });
  if (gaps.unknown.length > 0) add({ code: 'INDEX_MISMATCH', severity: 'error', path: 'index.jsonl', message: `crl.pem lists ${gaps.unknown.length} revoked serial(s) the index does not (e.g. ${gaps.unknown[0]}): the index lost revocations; restore it from a backup` });
}

/**
 * Tenants without client.key: fine when the index records the deployed certificate's key as living
 * on the connector (pkictl sign, serve), a missing file otherwise; and a key in the tree beside such a
 * certificate is not its key. Returns how many tenants keep their key on their connector.
 */
function connectorKeys(store: CertStore, parsed: Parsed[], keyless: Parsed[], add: (f: AuditFinding) => void): number {
  const atConnector = (p: Parsed) => p.summary !== undefined && store.index.get(p.summary.serial)?.keyAt === 'connector';
  let count = 0;
  for (const p of keyless) {
    if (atConnector(p)) count++;
    else add(unreadable(p.keyPath, p.entry.key as Extract<FileRead, { ok: false }>));
  }
  for (const p of parsed) {
    if (p.entry.kind === 'client' && p.entry.key?.ok && atConnector(p)) add({ code: 'KEY_IN_TREE', severity: 'warning', path: p.keyPath, message: `the index records this tenant's key as living on its connector; this file is not the key of ${p.certPath}: remove it` });
  }
  return count;
}

/** The retired intermediates of authorities/ (they sign their leaves' CRL in crl.pem). */
async function retiredCertificates(store: CertStore): Promise<Certificate[]> {
  return (await store.retiredAuthorities()).flatMap((a) => {
    const read = store.readTreeFile(a.cert);
    return read.ok ? [readCertificates(read.bytes, a.cert)[0]!] : [];
  });
}

/** Where a CA key is, for the notes: offline, or online and whether encrypted. */
function caKeyNote(path: string, key: FileRead | undefined): string {
  if (!key?.ok) return `${path}: ${key?.missing ? 'offline (not in the tree)' : 'online, unreadable'}`;
  return `${path}: online, ${isEncryptedKeyPem(Buffer.from(key.bytes).toString('latin1')) ? 'encrypted' : 'not encrypted'}`;
}

export async function auditTree(request: AuditRequest, ctx: OpContext): Promise<AuditResult> {
  const store = await ctx.openStore(request.dir);
  const scan = await store.scanTree({ keys: true, strays: true });
  const rel = (p: string) => p.slice(scan.root.length + 1);
  const findings: AuditFinding[] = [];
  const notes: string[] = [];
  const add = (f: AuditFinding) => findings.push(f);
  const keyless: Parsed[] = [];

  // 0. Links pkictl did not make: reported where they are, and nothing behind them is read.
  for (const link of [...scan.links, ...scan.entries.flatMap((e) => (e.link ? [e.link] : []))]) {
    add({ code: 'FOREIGN_LINK', severity: 'error', path: rel(link.path), message: foreignLinkProblem(link) });
  }

  // 1. Files: present, readable, parseable; modes of keys and of the directories holding them.
  const parsed: Parsed[] = scan.entries.map((entry) => {
    const p: Parsed = { entry, certPath: rel(entry.certPath), keyPath: rel(entry.keyPath), chain: [] };
    if (entry.link) return p;
    if (!entry.cert.ok) add(unreadable(p.certPath, entry.cert));
    else {
      try {
        const [leaf, ...rest] = readCertificates(entry.cert.bytes, p.certPath);
        p.cert = leaf;
        p.chain = rest;
        // The key type and size are not audited: skip that part of the summary (a key object per certificate).
        p.summary = summarize(leaf!, request.at, { publicKey: false });
      } catch (error) {
        add({ code: 'CERT_INVALID', severity: 'error', path: p.certPath, message: error instanceof PkiError ? error.message : `${p.certPath}: ${String(error)}` });
      }
      if (entry.cert.mode & 0o022) add({ code: 'CERT_MODE', severity: 'warning', path: p.certPath, message: `mode ${octal(entry.cert.mode)} lets others replace it; certificates should be 0644` });
    }
    // With an intermediate, a root key kept offline is the recommended state, not a finding.
    const offlineRoot = entry.kind === 'ca' && entry.key && !entry.key.ok && entry.key.missing && scan.entries.some((e) => e.kind === 'intermediate');
    // A tenant's missing key is judged against the index (3b): its key may live on its connector.
    const connectorKey = entry.kind === 'client' && entry.key && !entry.key.ok && entry.key.missing;
    if (connectorKey) keyless.push(p);
    else if (entry.key && !entry.key.ok && !offlineRoot) add(unreadable(p.keyPath, entry.key));
    if (entry.kind === 'ca' || entry.kind === 'intermediate') notes.push(caKeyNote(p.keyPath, entry.key));
    if (entry.key?.ok && entry.key.mode & 0o077) add({ code: 'KEY_MODE', severity: 'error', path: p.keyPath, message: `mode ${octal(entry.key.mode)}; private keys must be 0600` });
    return p;
  });
  const rootMode = scan.entries.find((e) => e.kind === 'ca')?.dirMode;
  if (rootMode !== undefined && rootMode & 0o077) add({ code: 'KEY_DIR_MODE', severity: 'error', path: '.', message: `the CA directory (it holds ca.key) is mode ${octal(rootMode)}; key directories must be 0700` });
  for (const p of parsed) {
    const { dirMode, tenant } = p.entry;
    if (p.entry.kind === 'client' && dirMode !== undefined && dirMode & 0o077) {
      add({ code: 'KEY_DIR_MODE', severity: 'error', path: `clients/${tenant}`, message: `mode ${octal(dirMode)}; key directories must be 0700` });
    }
  }

  const ca = parsed.find((p) => p.entry.kind === 'ca')!;
  if (ca.cert) {
    const s = ca.summary!;
    if (!s.basicConstraints?.ca) add({ code: 'CA_INVALID', severity: 'error', path: ca.certPath, message: 'ca.crt is not a CA certificate (basicConstraints cA is not TRUE)' });
    if (s.keyUsage && !s.keyUsage.usages.includes('keyCertSign')) add({ code: 'CA_INVALID', severity: 'error', path: ca.certPath, message: 'ca.crt keyUsage lacks keyCertSign' });
  } else {
    notes.push('ca.crt could not be read: chains were not checked');
  }
  // ca.crt may hold two roots (a rollover, the compromise drill): every one is an anchor.
  const verifier = ca.cert && new Verifier([ca.cert, ...ca.chain], [], ctx.crypto);

  // 2. Per certificate: CN = directory, chain to ca.crt for its purpose, key match, server SANs/EKU, expiry.
  await mapConcurrent(parsed, CONCURRENCY, async (p) => {
    const { entry } = p;
    const cert = p.cert;
    if (!cert) return;
    const s = p.summary!;
    const idProblem = entry.kind === 'client' ? tenantIdProblem(entry.tenant!, request.tenantIdPattern) : undefined;
    if (idProblem) add({ code: 'TENANT_ID_INVALID', severity: 'error', path: `clients/${entry.tenant}`, message: `the directory name is not a tenant id: ${idProblem}` });
    if (entry.kind === 'client' && s.commonName !== entry.tenant) {
      add({ code: 'CN_MISMATCH', severity: 'error', path: p.certPath, message: `CN ${JSON.stringify(s.commonName)} is not the directory name ${JSON.stringify(entry.tenant)}` });
    }
    if (entry.kind === 'ca') {
      // The anchor itself: its self-signature must hold (a tampered ca.crt would still be "trusted").
      const selfSigned = (await Promise.all([cert, ...p.chain].map((root) => root.selfIssued && verifier!.signedBy(root, root)))).every(Boolean);
      if (!selfSigned) add({ code: 'CA_INVALID', severity: 'error', path: p.certPath, message: 'ca.crt is not a self-signed root (its signature does not verify with its own key)' });
    } else if (entry.kind === 'intermediate') {
      // The issuing CA: a CA that may sign leaves only, signed by a root of ca.crt.
      if (!s.basicConstraints?.ca || !s.keyUsage?.usages.includes('keyCertSign')) add({ code: 'CA_INVALID', severity: 'error', path: p.certPath, message: 'intermediate.crt is not a CA certificate that may sign certificates (basicConstraints cA, keyUsage keyCertSign)' });
      const roots = ca.cert ? [ca.cert, ...(ca.chain ?? [])] : [];
      const signed = await Promise.all(roots.map((root) => verifier!.signedBy(cert, root)));
      if (roots.length > 0 && !signed.includes(true)) add({ code: 'CHAIN_INVALID', severity: 'error', path: p.certPath, message: 'intermediate.crt is not signed by a root in ca.crt' });
      if (ca.cert && cert.notAfter > ca.cert.notAfter) add({ code: 'CHAIN_INVALID', severity: 'warning', path: p.certPath, message: `outlives the root (${ca.cert.notAfter.toISOString()})` });
    } else if (verifier) {
      const result = await verifier.verify(cert, { purpose: PURPOSE[entry.kind], at: request.at }, p.chain);
      for (const f of result.failures) {
        // Expiry has its own finding below (with the renewal window); do not report it twice.
        if (f.code === 'EXPIRED' && f.depth === 0) continue;
        const where = f.depth ? ` (depth ${f.depth}${f.subject ? `, ${f.subject}` : ''})` : '';
        add({ code: 'CHAIN_INVALID', severity: 'error', path: p.certPath, rule: f.code, message: `does not verify against ca.crt as ${PURPOSE[entry.kind]}: ${f.message}${where}` });
      }
    }
    const caKey = entry.kind === 'ca' || entry.kind === 'intermediate';
    if (entry.key?.ok) {
      try {
        const match = keyMatches(Buffer.from(entry.key.bytes).toString('utf8'), cert, caKey ? request.passphrase : undefined);
        if (match === undefined) notes.push(`${p.keyPath} is encrypted: give --passphrase-file (or PKICTL_CA_PASSPHRASE) to check that it matches ${p.certPath}`);
        else if (!match) add({ code: 'KEY_MISMATCH', severity: 'error', path: p.keyPath, message: `not the key of ${p.certPath}` });
      } catch {
        add({ code: 'KEY_INVALID', severity: 'error', path: p.keyPath, message: `not a readable private key${caKey && request.passphrase ? ' (or the passphrase is wrong)' : ''}` });
      }
    }
    if (entry.kind === 'server') {
      if (s.sans.length === 0) add({ code: 'SERVER_NO_SAN', severity: 'error', path: p.certPath, message: 'the server certificate has no subjectAltName: TLS clients ignore the CN' });
      if (!s.extendedKeyUsage?.usages.includes('serverAuth')) add({ code: 'SERVER_NO_SERVER_AUTH', severity: 'error', path: p.certPath, message: 'the server certificate lacks extendedKeyUsage serverAuth' });
    }
    const decision = needsRenewal(cert, request.threshold, request.at);
    if (decision.status === 'expired') add({ code: 'EXPIRED', severity: 'error', path: p.certPath, message: decision.reason });
    else if (decision.status === 'expiring') add({ code: 'EXPIRING', severity: 'warning', path: p.certPath, message: decision.reason });
  });

  // 3. Revocation: the issuance index and certs/crl.pem (issue 7), when present.
  const revoked = new Map<string, RevocationInfo>();
  try {
    for (const [serial, revocation] of (await indexRevocations(store)) ?? []) revoked.set(serial, revocation);
  } catch (error) {
    notes.push(`the issuance index could not be read (${error instanceof Error ? error.message : String(error)}): revocations in it were not checked`);
  }
  const crlRead = store.readTreeFile(scan.layout.crl);
  const crl = crlState(crlRead, request.at);
  if (crl && crlRead.ok) {
    const code = crl.status === 'expired' ? 'CRL_EXPIRED' : crl.status === 'stale' ? 'CRL_STALE' : crl.status === 'unreadable' ? 'CRL_INVALID' : undefined;
    if (code) add({ code, severity: code === 'CRL_STALE' ? 'warning' : 'error', path: 'crl.pem', message: crl.message });
    if (crl.status !== 'unreadable' && ca.cert) {
      try {
        // crl.pem holds one CRL per CA that signs leaves: the root, or the intermediate and the retired ones.
        const signers = [...parsed.filter((p) => p.entry.kind === 'intermediate' && p.cert).map((p) => p.cert!), ca.cert, ...(await retiredCertificates(store))];
        for (const list of readCrls(crlRead.bytes, 'crl.pem')) {
          // A renewed intermediate keeps its name: every CA of that name is tried.
          const named = signers.filter((s) => equalBytes(s.subjectDer, list.issuerDer));
          const signed = (await Promise.all(named.map((s) => verifier!.signedBy(list, s)))).includes(true);
          if (!signed) add({ code: 'CRL_INVALID', severity: 'error', path: 'crl.pem', message: `a CRL (number ${list.number ?? '?'}) whose signature does not verify with any CA of the tree` });
          else for (const [serial, entry] of list.revokedBySerial()) revoked.set(serial, revoked.get(serial) ?? revocationOfCrlEntry(entry));
        }
      } catch {
        add({ code: 'CRL_INVALID', severity: 'error', path: 'crl.pem', message: 'not a readable CRL' });
      }
    }
  } else if (crl && !scan.links.some((l) => l.path === scan.layout.crl)) {
    add({ code: 'CRL_INVALID', severity: 'error', path: 'crl.pem', message: crl.message });
  }
  for (const p of parsed) {
    // A leaf whose intermediate is revoked (root-crl.pem) verifies nowhere either.
    const caRevocation = p.chain[0] && revoked.get(p.chain[0].serialHex);
    if (caRevocation && p.entry.kind !== 'intermediate') add({ code: 'REVOKED', severity: 'error', path: p.certPath, message: `its intermediate ${p.chain[0]!.serialHex} is revoked: ${revocationText(caRevocation)}; re-issue it (pkictl rotate --all)`, revocation: caRevocation });
    const revocation = p.summary && revoked.get(p.summary.serial);
    if (revocation) {
      const where = revocation.source === 'index' ? ' in the issuance index' : '';
      add({ code: 'REVOKED', severity: 'error', path: p.certPath, message: `still deployed but revoked: ${revocationText(revocation)}${where}${p.entry.kind === 'client' ? offboardHint(p.entry.tenant!) : ''}`, revocation });
    }
  }

  // 3b. The issuance index against the tree: it must record what the contract paths deploy.
  try {
    await store.index.load();
    if (store.index.entries().length > 0) await indexFindings(store, parsed, add);
  } catch (error) {
    notes.push(`the issuance index could not be read (${error instanceof Error ? error.message : String(error)}): it was not compared with the tree`);
  }
  const onConnector = connectorKeys(store, parsed, keyless, add);
  if (onConnector > 0) notes.push(`${onConnector} tenant(s) keep their key on their connector (no client.key in the tree, as the index records)`);

  // 4. Across certificates: a serial or a key used twice.
  const groups = (key: (s: CertSummary) => string) => {
    const by = new Map<string, Parsed[]>();
    for (const p of parsed) if (p.summary) by.set(key(p.summary), [...(by.get(key(p.summary)) ?? []), p]);
    return [...by.values()].filter((g) => g.length > 1);
  };
  for (const g of groups((s) => s.serial)) {
    add({ code: 'DUPLICATE_SERIAL', severity: 'error', path: g[0]!.certPath, message: `serial ${g[0]!.summary!.serial} is used by ${g.length} certificates: ${g.map((p) => p.certPath).join(', ')}` });
  }
  for (const g of groups((s) => s.fingerprints.spkiSha256)) {
    add({ code: 'DUPLICATE_PUBLIC_KEY', severity: 'error', path: g[0]!.certPath, message: `${g.length} certificates share one public key: ${g.map((p) => p.certPath).join(', ')}` });
  }

  // 5. Files that are not part of the contract (leftover temp files, copies, foreign files).
  for (const path of scan.stray) add({ code: 'STRAY_FILE', severity: 'warning', path: rel(path), message: 'not part of the certs/ layout' });

  const order = (f: AuditFinding) => `${f.path}\u0000${f.code}`;
  findings.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    dir: scan.layout.display(scan.root),
    at: request.at.toISOString(),
    renewBefore: request.threshold.text,
    checked: {
      certificates: parsed.filter((p) => p.cert).length,
      keys: scan.entries.filter((e) => e.key?.ok).length,
      tenants: scan.entries.filter((e) => e.kind === 'client').length,
    },
    findings,
    notes: [...new Set(notes)].sort(),
  };
}
