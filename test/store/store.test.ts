import { webcrypto } from 'node:crypto';
import { appendFile, lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueLeaf, issueRoot, type CertificateAuthority } from '../../src/core/issue.js';
import { newKey } from '../../src/core/keys.js';
import { verifyAuditLog } from '../../src/store/audit-log.js';
import { FileCertIndex } from '../../src/store/cert-index.js';
import { CertStore } from '../../src/store/cert-store.js';
import { ensureVersioned, versionName } from '../../src/store/pair-slot.js';
import { tempDir } from '../helpers/temp-dir.js';
import { uuids } from './fixture.js';
import { checkAllPairs } from './scenarios.js';

const crypto = webcrypto as unknown as Crypto;

async function makeCa(): Promise<CertificateAuthority & { certPem: string; keyPem: string }> {
  const key = await newKey('ec-p256', crypto);
  const root = await issueRoot({ subject: { CN: 'Test CA' }, spki: key.spki, privateKey: key.privateKey, days: 30, now: new Date() }, crypto);
  return { der: root.der, privateKey: key.privateKey, certPem: root.pem, keyPem: key.keyPem };
}

async function pair(ca: CertificateAuthority, cn: string) {
  const key = await newKey('ec-p256', crypto);
  const cert = await issueLeaf({ role: 'client', subject: { CN: cn }, spki: key.spki, days: 10, now: new Date() }, ca, crypto);
  return { certPem: cert.pem, keyPem: key.keyPem, serial: cert.facts.serial, cert };
}

describe('CertStore', () => {
  let ca: Awaited<ReturnType<typeof makeCa>>;
  let root: string;
  beforeAll(async () => {
    ca = await makeCa();
    root = await tempDir('pkictl-store-');
  });

  async function newStore(name: string) {
    const store = new CertStore(join(root, name), { actor: 'test', command: 'pkictl test', cwd: root });
    await store.saveCa({ certPem: ca.certPem, keyPem: ca.keyPem });
    return store;
  }

  it('concurrent saveClient calls in one process (the bulk engine) record each pair exactly once', async () => {
    const store = await newStore('concurrent');
    const ids = uuids(16);
    const pairs = await Promise.all(ids.map((id) => pair(ca, id)));
    await Promise.all(ids.map((id, i) => store.saveClient(id, pairs[i]!)));
    const index = await new FileCertIndex(store.layout.root).load();
    expect(index.entries().filter((e) => e.kind === 'client')).toHaveLength(16);
    const audit = await verifyAuditLog(store.layout.auditLog, index.auditHead(), index.lastAuditLines());
    expect(audit).toMatchObject({ ok: true, lines: 17 });
    expect((await checkAllPairs(store.layout.root)).problems).toEqual([]);
  });

  it('groups concurrent commits into shared index lines, and redoes a whole group of audit lines lost in a crash', async () => {
    const store = await newStore('group');
    const ids = uuids(24);
    const pairs = await Promise.all(ids.map((id) => pair(ca, id)));
    await store.withLock(() => Promise.all(ids.map((id, i) => store.saveClient(id, pairs[i]!))));
    const lines = (await readFile(store.layout.index, 'utf8')).trim().split('\n');
    const groups = lines.map((l) => ((JSON.parse(l) as { add?: Array<{ kind: string }> }).add ?? []).filter((e) => e.kind === 'client').length).filter((n) => n > 0);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(24);
    expect(groups.length).toBeLessThan(24); // at least one line holds several tenants
    // A crash after the index line of the last group and before its audit lines: cut them off.
    const lastGroup = (JSON.parse(lines.at(-1)!) as { audit: string[] }).audit;
    expect(lastGroup.length).toBeGreaterThan(0);
    const audit = (await readFile(store.layout.auditLog, 'utf8')).trim().split('\n');
    await writeFile(store.layout.auditLog, audit.slice(0, audit.length - lastGroup.length).map((l) => `${l}\n`).join(''));
    const reopened = new CertStore(store.layout.root, { actor: 'test', command: 'pkictl test', cwd: root });
    await reopened.withLock(async () => undefined);
    expect(await readFile(store.layout.auditLog, 'utf8')).toBe(audit.map((l) => `${l}\n`).join(''));
    const index = await new FileCertIndex(store.layout.root).load();
    expect(await verifyAuditLog(store.layout.auditLog, index.auditHead(), index.lastAuditLines())).toMatchObject({ ok: true, lines: 25 });
  });

  it('sweeps the temp entries a killed run left, and nothing else, when it takes the lock', async () => {
    const store = await newStore('sweep');
    const [id] = uuids(1) as [string];
    await store.saveClient(id, await pair(ca, id));
    const stale = join(store.layout.clientsDir, `.${id}.0123456789ab.tmp`);
    await mkdir(join(stale, 'versions'), { recursive: true });
    await writeFile(join(stale, 'client.key'), 'half a key');
    await writeFile(join(store.layout.root, '.ca.key.abcdef012345.tmp'), 'half a key');
    await writeFile(join(store.layout.clientsDir, '.keep'), 'not ours');
    await new CertStore(store.layout.root, { actor: 'test', command: 'pkictl test', cwd: root }).withLock(async () => undefined);
    await expect(lstat(stale)).rejects.toThrow(/ENOENT/);
    await expect(lstat(join(store.layout.root, '.ca.key.abcdef012345.tmp'))).rejects.toThrow(/ENOENT/);
    expect((await lstat(join(store.layout.clientsDir, '.keep'))).isFile()).toBe(true);
    expect((await checkAllPairs(store.layout.root)).problems).toEqual([]);
  });

  it('refuses a serial that is already in the index, writing nothing', async () => {
    const store = await newStore('dup');
    const [a, b] = uuids(2) as [string, string];
    const p = await pair(ca, a);
    await store.saveClient(a, p);
    await expect(store.saveClient(b, p)).rejects.toThrow(/serial .* is already in the index/);
    await expect(lstat(join(store.layout.clientsDir, b))).rejects.toThrow(/ENOENT/);
  });

  it('checkAllPairs (the crash test oracle) does report a mismatched pair', async () => {
    const store = await newStore('oracle');
    const [a, b] = uuids(2) as [string, string];
    await store.saveClient(a, await pair(ca, a));
    const other = await pair(ca, b);
    await mkdir(join(store.layout.clientsDir, b), { recursive: true, mode: 0o700 });
    await writeFile(join(store.layout.clientsDir, b, 'client.crt'), other.certPem);
    await writeFile(join(store.layout.clientsDir, b, 'client.key'), (await pair(ca, b)).keyPem, { mode: 0o600 });
    expect((await checkAllPairs(store.layout.root)).problems).toEqual([`${b}: key does not match certificate`]);
  });

  it('finishes a migration interrupted at any step, and every intermediate state is a matching pair', async () => {
    const store = await newStore('migrate');
    const [id] = uuids(1) as [string];
    const old = await pair(ca, id);
    const dir = join(store.layout.clientsDir, id);
    const slot = store.clientSlot(id);
    const version = versionName(new Date(old.cert.facts.notBefore), old.serial);
    const versionOf = () => version;
    const states: Array<() => Promise<void>> = [
      async () => {}, // plain files only
      async () => { // + the version copy
        await mkdir(join(dir, 'versions', version), { recursive: true, mode: 0o700 });
        await writeFile(join(dir, 'versions', version, 'client.crt'), old.certPem);
        await writeFile(join(dir, 'versions', version, 'client.key'), old.keyPem, { mode: 0o600 });
      },
      async () => symlink(join('versions', version), join(dir, 'current')), // + current
    ];
    for (let step = 0; step < states.length; step++) {
      const caseDir = join(store.layout.clientsDir, id);
      await (await import('node:fs/promises')).rm(caseDir, { recursive: true, force: true });
      await mkdir(caseDir, { recursive: true, mode: 0o700 });
      await writeFile(join(caseDir, 'client.crt'), old.certPem);
      await writeFile(join(caseDir, 'client.key'), old.keyPem, { mode: 0o600 });
      for (let s = 0; s <= step; s++) await states[s]!();
      expect((await checkAllPairs(store.layout.root)).problems).toEqual([]);
      await ensureVersioned(slot, versionOf);
      expect(await readlink(join(caseDir, 'client.crt'))).toBe('current/client.crt');
      expect(await readlink(join(caseDir, 'client.key'))).toBe('current/client.key');
      expect(await readFile(join(caseDir, 'client.crt'), 'utf8')).toBe(old.certPem);
      expect((await checkAllPairs(store.layout.root)).problems).toEqual([]);
      await ensureVersioned(slot, versionOf); // idempotent
    }
    // The state after step 3 (key already a link, certificate still a file):
    await (await import('node:fs/promises')).rm(join(dir, 'client.key'));
    await symlink('current/client.key', join(dir, 'client.key'));
    await (await import('node:fs/promises')).rm(join(dir, 'client.crt'));
    await writeFile(join(dir, 'client.crt'), old.certPem);
    expect((await checkAllPairs(store.layout.root)).problems).toEqual([]);
    await ensureVersioned(slot, versionOf);
    expect((await lstat(join(dir, 'client.crt'))).isSymbolicLink()).toBe(true);
  });

  it('ignores a torn last index line when reading and cuts it off before the next write', async () => {
    const store = await newStore('torn');
    const [a, b] = uuids(2) as [string, string];
    await store.saveClient(a, await pair(ca, a));
    await appendFile(store.layout.index, '{"time":"2026-01-01T00:00:00Z","add":[{"serial":"ab');
    const read = await new FileCertIndex(store.layout.root).load();
    expect(read.entries()).toHaveLength(2);
    await store.saveClient(b, await pair(ca, b));
    const text = await readFile(store.layout.index, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('"serial":"ab"');
    expect(text.trim().split('\n').every((l) => JSON.parse(l))).toBeTruthy();
    const after = await new FileCertIndex(store.layout.root).load();
    expect(after.entries()).toHaveLength(3);
  });
});
