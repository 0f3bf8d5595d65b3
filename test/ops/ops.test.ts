import { randomUUID, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runHook } from '../../src/cli/context.js';
import { DEFAULT_RENEW_BEFORE } from '../../src/core/renewal.js';
import { auditTree } from '../../src/ops/audit.js';
import { verifyAudit } from '../../src/ops/audit-log.js';
import type { OpContext } from '../../src/ops/context.js';
import { initCa } from '../../src/ops/init-ca.js';
import { argumentEntries, issueClients } from '../../src/ops/issue-clients.js';
import { issueServer } from '../../src/ops/issue-leaf.js';
import { listCertificates } from '../../src/ops/list.js';
import { revoke } from '../../src/ops/revoke.js';
import { rotate, type RotateRequest } from '../../src/ops/rotate.js';
import type { IndexTransaction } from '../../src/store/cert-index.js';
import { CertStore } from '../../src/store/cert-store.js';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/temp-dir.js';
import { MemoryCertIndex } from './memory-index.js';

/*
 * The list, revoke, rotate and audit operations, in process, over each CertIndex: the file index the
 * CLI uses and an in-memory one (memory-index.ts). The same tests must pass over both: an op that
 * read index.jsonl itself, or built its own store, would see nothing under the in-memory index.
 * Real keys and certificates, real files for the pairs, openssl as the outside reader of the CRL.
 */

const crypto = webcrypto as unknown as Crypto;
const DAY = 86_400_000;

const variants = [
  { name: 'file index', memory: false },
  { name: 'in-memory index', memory: true },
];

describe.each(variants)('ops over the $name', ({ memory }) => {
  let root: string;
  /** The in-memory "database" of each CA directory, shared by every store opened on it. */
  const tables = new Map<string, IndexTransaction[]>();

  beforeAll(async () => {
    root = await tempDir('pkictl-ops-');
  });

  function context(now = new Date()): OpContext & { notes: string[] } {
    const notes: string[] = [];
    const notify = (message: string) => void notes.push(message);
    const openStore = async (dir: string, options?: { actor?: string }) => {
      const index = memory ? new MemoryCertIndex(tables.get(dir) ?? tables.set(dir, []).get(dir)!) : undefined;
      return new CertStore(dir, { actor: options?.actor ?? 'ops-test', command: 'pkictl ops-test', cwd: root, onLockWait: notify, index });
    };
    // The CLI's own --exec launcher: the hooks really run.
    return { crypto, now, notify, openStore, runHook, notes };
  }

  /** A CA with the gateway pair and three tenants, made by the ops themselves. */
  async function tree(name: string) {
    const dir = join(root, name);
    const ctx = context();
    await initCa({ dir, subject: { CN: `Ops Test CA ${name}` }, days: 3650, key: 'ec-p256' }, ctx);
    const server = await issueServer({ dir, subject: { CN: 'gw.test' }, sans: [{ type: 'dns', value: 'gw.test' }], days: 30, key: 'ec-p256', force: false }, ctx);
    const ids = [randomUUID(), randomUUID(), randomUUID()].sort();
    const issued = await issueClients({ dir, tenants: argumentEntries(ids), subject: { O: 'Ops Test' }, days: 30, key: 'ec-p256', force: false }, ctx);
    expect(issued.issued.map((p) => p.tenantId)).toEqual(ids);
    // The index lives where the store was told to keep it, and nowhere else.
    expect(existsSync(join(dir, 'index.jsonl'))).toBe(!memory);
    const serialOf = Object.fromEntries(issued.issued.map((p) => [p.tenantId!, p.serial]));
    return { dir, ids, server: server.issued[0]!.serial, serialOf };
  }

  const listAt = (dir: string, at: Date, onlyDue = false) => listCertificates({ dir, at, threshold: DEFAULT_RENEW_BEFORE, onlyDue }, context(at));

  /** The serials in crl.pem as openssl reads them (lowercase hex), with each reason. */
  async function crlEntries(dir: string): Promise<Map<string, string>> {
    const r = await openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text']);
    expect(r.code, r.stderr).toBe(0);
    const entries = new Map<string, string>();
    for (const m of r.stdout.matchAll(/Serial Number: ([0-9A-F]+)[\s\S]*?CRL Reason Code:\s*\n\s*(.+)/g)) entries.set(m[1]!.toLowerCase(), m[2]!.trim());
    return entries;
  }

  const indexRevoked = async (dir: string) => (await (await context().openStore(dir)).index.revocations()) ?? new Map();

  it('list: one row per certificate of the tree, with the issued serials, and expiry judged at --at', async () => {
    const t = await tree('list');
    const now = await listAt(t.dir, new Date());
    expect(now.certificates.map((r) => [r.kind, r.tenantId, r.serial, r.status])).toEqual([
      ['ca', null, expect.any(String), 'valid'],
      ['server', null, t.server, 'valid'],
      ...t.ids.map((id) => ['client', id, t.serialOf[id], 'valid']),
    ]);
    expect(now.counts).toEqual({ valid: 5, expiring: 0, expired: 0, revoked: 0, invalid: 0, superseded: 0 });
    expect(now.sources).toEqual(['tree', 'index']);
    // 25 of 30 days gone: inside the default window (the last third) for every leaf, not the CA.
    const later = await listAt(t.dir, new Date(Date.now() + 25 * DAY), true);
    expect(later.certificates.map((r) => [r.tenantId, r.status])).toEqual([[null, 'expiring'], ...t.ids.map((id) => [id, 'expiring'])]);
    expect(later.hidden).toBe(1);
  });

  it('revoke: the index and the CRL hold the same revoked serials with their reasons, and list shows them', async () => {
    const t = await tree('revoke');
    const [gone, bySerial, kept] = t.ids as [string, string, string];
    const ctx = context();
    const first = await revoke({ dir: t.dir, serials: [], tenants: [gone], reason: 'keyCompromise', crlDays: 7 }, ctx);
    expect(first.revoked.map((e) => e.serial)).toEqual([t.serialOf[gone]]);
    expect(first.crl).toMatchObject({ number: 1, revoked: 1 });
    const second = await revoke({ dir: t.dir, serials: [t.serialOf[bySerial]!.toUpperCase()], tenants: [], reason: 'superseded', crlDays: 7 }, context());
    expect(second.revoked.map((e) => e.serial)).toEqual([t.serialOf[bySerial]]);
    expect(second.crl).toMatchObject({ number: 2, revoked: 2 });
    const again = await revoke({ dir: t.dir, serials: [t.serialOf[gone]!], tenants: [], reason: 'keyCompromise', crlDays: 7 }, context());
    expect(again).toMatchObject({ revoked: [], alreadyRevoked: [t.serialOf[gone]] });

    const revoked = await indexRevoked(t.dir);
    expect(new Map([...revoked].map(([serial, r]) => [serial, r.reason]))).toEqual(new Map([[t.serialOf[gone]!, 'keyCompromise'], [t.serialOf[bySerial]!, 'superseded']]));
    expect(await crlEntries(t.dir)).toEqual(new Map([[t.serialOf[gone]!, 'Key Compromise'], [t.serialOf[bySerial]!, 'Superseded']]));

    const rows = (await listAt(t.dir, new Date())).certificates;
    const row = (id: string) => rows.find((r) => r.tenantId === id)!;
    expect(row(gone)).toMatchObject({ status: 'revoked', problems: [], revocation: { reason: 'keyCompromise', revokedAt: revoked.get(t.serialOf[gone]!)!.at, source: 'index' } });
    expect(row(bySerial)).toMatchObject({ status: 'revoked', problems: [], revocation: { reason: 'superseded', revokedAt: expect.stringMatching(/^\d{4}-/), source: 'index' } });
    expect(row(kept)).toMatchObject({ status: 'valid', problems: [], revocation: null });
  });

  it('rotate: the dry run plans from the index revocations; the run replaces the pairs, supersedes the old serials and runs --exec per pair', async () => {
    const t = await tree('rotate');
    const [gone, a, b] = t.ids as [string, string, string];
    await revoke({ dir: t.dir, serials: [], tenants: [gone], reason: 'cessationOfOperation', crlDays: 7 }, context());
    const request: RotateRequest = {
      dir: t.dir, tenants: [], all: true, renewBefore: DEFAULT_RENEW_BEFORE, dryRun: true, reuseKey: false, includeServer: false,
      clientProfile: { subject: { O: 'Ops Test' }, days: 30 }, serverDays: 30,
    };
    const entriesBefore = (await context().openStore(t.dir)).index;
    await entriesBefore.load();
    const countBefore = entriesBefore.entries().length;

    const dry = await rotate(request, context());
    expect(dry.plan.map((p) => [p.tenantId, p.serial, p.action])).toEqual([[gone, t.serialOf[gone], 'skip'], [a, t.serialOf[a], 'rotate'], [b, t.serialOf[b], 'rotate']]);
    expect(dry.plan[0]!.why).toMatch(/^revoked \(cessationOfOperation\)/);
    expect(dry.plan[0]!.revocation).toMatchObject({ reason: 'cessationOfOperation', source: 'index' });
    expect(dry.rotated).toEqual([]);
    const afterDry = (await context().openStore(t.dir)).index;
    await afterDry.load();
    expect(afterDry.entries().length).toBe(countBefore);

    const hooks = join(t.dir, '..', 'rotate-hooks.txt');
    const run = await rotate({ ...request, dryRun: false, exec: `printf '%s %s %s\\n' "$PKICTL_TENANT_ID" "$PKICTL_OLD_SERIAL" "$PKICTL_SERIAL" >> '${hooks}'` }, context());
    expect(run.failed).toEqual([]);
    expect(run.rotated.map((r) => [r.tenantId, r.oldSerial, r.exec?.ok])).toEqual([[a, t.serialOf[a], true], [b, t.serialOf[b], true]]);
    const fresh = Object.fromEntries(run.rotated.map((r) => [r.tenantId!, r.serial]));
    for (const id of [a, b]) {
      expect(fresh[id]).not.toBe(t.serialOf[id]);
      const onDisk = await openssl(['x509', '-in', join(t.dir, 'clients', id, 'client.crt'), '-noout', '-serial']);
      expect(onDisk.stdout.trim().replace(/^serial=/, '').toLowerCase()).toBe(fresh[id]);
    }
    expect((await readFile(hooks, 'utf8')).trim().split('\n').sort()).toEqual([a, b].map((id) => `${id} ${t.serialOf[id]} ${fresh[id]}`).sort());

    const index = (await context().openStore(t.dir)).index;
    await index.load();
    for (const id of [a, b]) {
      expect(index.entriesFor('client', id).map((e) => [e.serial, e.status, e.supersededBy])).toEqual([[t.serialOf[id], 'superseded', fresh[id]], [fresh[id], 'valid', undefined]]);
    }
    expect(index.entriesFor('client', gone).map((e) => e.status)).toEqual(['revoked']);
    const rows = (await listAt(t.dir, new Date())).certificates.filter((r) => r.kind === 'client');
    expect(rows.map((r) => [r.tenantId, r.serial])).toEqual([[gone, t.serialOf[gone]], [a, fresh[a]], [b, fresh[b]]]);
  });

  it('audit: a clean tree has no finding; a revoked pair still deployed is one REVOKED finding; the audit log chains to the index head', async () => {
    const t = await tree('audit');
    const request = { dir: t.dir, at: new Date(), threshold: DEFAULT_RENEW_BEFORE };
    expect((await auditTree(request, context())).findings).toEqual([]);
    const [gone] = t.ids as [string];
    await revoke({ dir: t.dir, serials: [], tenants: [gone], reason: 'keyCompromise', crlDays: 7 }, context());
    const audit = await auditTree({ ...request, at: new Date() }, context());
    expect(audit.findings.map((f) => [f.code, f.path])).toEqual([['REVOKED', `clients/${gone}/client.crt`]]);
    expect(audit.findings[0]!.message).toMatch(/keyCompromise.*in the issuance index/);
    expect(audit.findings[0]!.revocation).toMatchObject({ reason: 'keyCompromise', source: 'index' });
    expect(audit.checked).toEqual({ certificates: 5, keys: 5, tenants: 3 });

    // init, server, three tenants, the revocation, the CRL: seven lines, ending at the index's head.
    const log = await verifyAudit(t.dir, context());
    expect(log).toMatchObject({ ok: true, lines: 7, head: { seq: 7 } });
    const lines = (await readFile(join(t.dir, 'audit.log'), 'utf8')).split('\n');
    lines[2] = lines[2]!.replace('"result":"ok"', '"result":"failed"');
    await writeFile(join(t.dir, 'audit.log'), lines.join('\n'));
    expect(await verifyAudit(t.dir, context())).toMatchObject({ ok: false, problem: { line: 3 } });
  });
});
