import { appendFile, lstat, mkdir, readdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { BIN, runProcess } from '../helpers/run-cli.js';
import { tempDir, treeModes } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, issueClients, serialOf, uuids } from '../store/fixture.js';

/** The archive records of index.jsonl, in order (latest state last). */
async function archiveRecords(dir: string): Promise<Array<{ tenantId: string; state: string; path?: string; keys?: string }>> {
  const lines = (await readFile(join(dir, 'index.jsonl'), 'utf8')).split('\n').filter(Boolean);
  return lines.flatMap((l) => (JSON.parse(l) as { archive?: [] }).archive ?? []);
}

async function auditActions(dir: string, tenant: string): Promise<string[]> {
  const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; result: string; tenant?: string });
  return lines.filter((l) => l.tenant === tenant).map((l) => `${l.action}:${l.result}`);
}

/** A CA with its gateway pair and `tenants`: a tree whose gates are green. */
async function tree(tenants: string[]): Promise<string> {
  const dir = join(await tempDir('pkictl-offboard-'), 'certs');
  await initCa(dir);
  const server = await cli(['issue', 'server', '--dir', dir, '--key', 'ec-p256']);
  expect(server.code, server.stderr).toBe(0);
  await issueClients(dir, tenants);
  return dir;
}

/** The three gates a CI pipeline runs on the tree. */
async function gates(dir: string) {
  const [audit, list, verify] = await Promise.all([cli(['audit', '--dir', dir]), cli(['list', '--check', '--dir', dir]), cli(['verify', '--all', '--dir', dir])]);
  return { audit, list, verify };
}

describe('issue 13 item 7: pkictl offboard takes a revoked tenant out of clients/', () => {
  let dir: string;
  let gone: string;
  let stays: string;

  beforeAll(async () => {
    [gone, stays] = uuids(2) as [string, string];
    dir = await tree([gone, stays]);
    const rotated = await cli(['rotate', '--dir', dir, '--tenant', gone, '--all']);
    expect(rotated.code, rotated.stderr).toBe(0);
  });

  it('a revoked tenant still in clients/ makes audit, list --check and verify --all red, each with the offboard hint', async () => {
    const r = await cli(['revoke', '--dir', dir, '--tenant', gone]);
    expect(r.code, r.stderr).toBe(0);
    const { audit, list, verify } = await gates(dir);
    const hint = `pkictl offboard ${gone}`;
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(new RegExp(`REVOKED: .*${hint}`));
    expect(list.code).toBe(1);
    expect(list.stdout).toMatch(new RegExp(`${gone} .*revoked.*${hint}`));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(new RegExp(`REVOKED: .*${hint}`));
  });

  it('offboard moves clients/<id>/ whole into archive/ (0700 directories, 0600 keys), recorded in the index and the audit log; the gates are green', async () => {
    const serial = await serialOf(clientPaths(dir, gone).cert);
    const r = await cli(['offboard', '--dir', dir, gone, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.tenants).toEqual([{ tenantId: gone, revoked: [], archive: expect.stringMatching(new RegExp(`^archive/clients/${gone}/\\d{8}T\\d{6}Z-${serial.slice(0, 16)}$`)), keys: 'kept', alreadyOffboarded: false }]);
    expect(doc.crl).toBeNull(); // revoked before: no new CRL

    await expect(lstat(join(dir, 'clients', gone))).rejects.toThrow(/ENOENT/);
    const archived = join(dir, doc.tenants[0].archive);
    const modes = await treeModes(join(dir, 'archive'));
    for (const [path, mode] of Object.entries(modes)) {
      if (path.endsWith('.key')) expect(mode, path).toBe(0o600);
      else if (!path.endsWith('.crt')) expect(mode, path).toBe(0o700);
    }
    // The pair is kept as it was deployed: the archived certificate is the one that was in clients/.
    expect(await serialOf(join(archived, 'client.crt'))).toBe(serial);
    expect(Object.keys(modes).filter((p) => p.endsWith('client.key')).length).toBe(2); // the current and the rotated-out pair

    expect((await archiveRecords(dir)).map((a) => a.state)).toEqual(['pending', 'done']);
    expect(await auditActions(dir, gone)).toEqual(['issue:ok', 'rotate:ok', 'revoke:ok', 'revoke:ok', 'archive:ok']);
    const chain = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(chain.code, chain.stderr).toBe(0);

    const { audit, list, verify } = await gates(dir);
    expect(audit.code, audit.stdout).toBe(0);
    expect(list.code, list.stdout).toBe(0);
    expect(list.stdout).not.toContain(gone);
    expect(verify.code, verify.stdout).toBe(0);
  });

  it('offboarding again changes nothing (exit 0); an unknown tenant is one line, exit 2', async () => {
    const before = await readFile(join(dir, 'index.jsonl'), 'utf8');
    const again = await cli(['offboard', '--dir', dir, gone]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/offboarded before: nothing changed/);
    expect(await readFile(join(dir, 'index.jsonl'), 'utf8')).toBe(before);

    expectInputError(await cli(['offboard', '--dir', dir, uuids(1)[0]!]), /tenant .* has no certificate in .*; nothing was offboarded/);
    expectInputError(await cli(['offboard', '--dir', dir]), /missing required argument 'tenant-id'/);
    expect(await readFile(join(dir, 'index.jsonl'), 'utf8')).toBe(before);
  });

  it('the id can be issued again, and offboarding it again revokes, publishes and archives next to the first archive; --purge-keys leaves no key', async () => {
    await issueClients(dir, [gone]);
    const serial = await serialOf(clientPaths(dir, gone).cert);
    const r = await cli(['offboard', '--dir', dir, gone, '--purge-keys', '--reason', 'keyCompromise', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.tenants[0]).toMatchObject({ revoked: [serial], keys: 'destroyed' });
    expect(doc.crl.revoked).toBe(3);
    const archives = await readdir(join(dir, 'archive', 'clients', gone));
    expect(archives.length).toBe(2);
    const purged = join(dir, doc.tenants[0].archive);
    expect(Object.keys(await treeModes(purged)).filter((p) => p.endsWith('.key'))).toEqual([]);
    await expect(lstat(join(purged, 'client.key'))).rejects.toThrow(/ENOENT/);
    // The revocation is published: openssl rejects the archived certificate.
    const v = await openssl(['verify', '-crl_check', '-CRLfile', join(dir, 'crl.pem'), '-CAfile', join(dir, 'ca.crt'), join(purged, 'client.crt')]);
    expect(v.stdout + v.stderr).toMatch(/certificate revoked/);
    const { audit } = await gates(dir);
    expect(audit.code, audit.stdout).toBe(0);
  });

  it('a tenant whose directory was deleted by hand is offboarded by recording it: revoked, and no longer expected in clients/', async () => {
    await rm(join(dir, 'clients', stays), { recursive: true });
    const r = await cli(['offboard', '--dir', dir, stays, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tenants[0]).toMatchObject({ tenantId: stays, archive: null, alreadyOffboarded: false });
    expect((await archiveRecords(dir)).at(-1)).toMatchObject({ tenantId: stays, state: 'done' });
    const { audit, list, verify } = await gates(dir);
    expect(audit.code, audit.stdout).toBe(0);
    expect(list.code, list.stdout).toBe(0);
    expect(verify.code, verify.stdout).toBe(0);
  });
});

describe('issue 13 item 7: offboard and planted links', () => {
  it('a link planted at archive/ is refused before anything is revoked, recorded or moved, and audit reports it', async () => {
    const [id] = uuids(1) as [string];
    const dir = await tree([id]);
    const elsewhere = await tempDir('pkictl-elsewhere-');
    await symlink(elsewhere, join(dir, 'archive'));
    const before = await readFile(join(dir, 'index.jsonl'), 'utf8');
    const r = await cli(['offboard', '--dir', dir, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*archive is a link to .*, where pkictl does not write/m);
    expect((await lstat(clientPaths(dir, id).cert)).isFile()).toBe(true);
    expect(await readdir(elsewhere)).toEqual([]);
    expect(await readFile(join(dir, 'index.jsonl'), 'utf8')).toBe(before); // refused before anything was revoked
    const audit = await cli(['audit', '--dir', dir]);
    expect(audit.stdout).toMatch(/^archive: FOREIGN_LINK: /m);
  });
});

describe('issue 13 item 7: an offboard killed between its record and its rename is settled by the next run', () => {
  /** The line an offboard commits before it renames (its intent): no audit line of its own. */
  const intent = (tenantId: string, path: string) => JSON.stringify({ time: new Date().toISOString(), archive: [{ tenantId, at: new Date().toISOString(), state: 'pending', purgeKeys: false, path }], audit: [] }) + '\n';

  it('killed after the rename: the next command records the archive as done', async () => {
    const [id] = uuids(1) as [string];
    const dir = await tree([id]);
    const path = `archive/clients/${id}/20261202T000000Z-0000000000000000`;
    await appendFile(join(dir, 'index.jsonl'), intent(id, path));
    await mkdir(join(dir, 'archive', 'clients', id), { recursive: true, mode: 0o700 });
    await rename(join(dir, 'clients', id), join(dir, path));

    const r = await cli(['crl', '--dir', dir]); // any command that takes the lock
    expect(r.code, r.stderr).toBe(0);
    expect((await archiveRecords(dir)).at(-1)).toMatchObject({ tenantId: id, state: 'done', path, keys: 'kept' });
    expect(await auditActions(dir, id)).toEqual(['issue:ok', 'archive:ok']);
    expect((await cli(['audit-log', 'verify', '--dir', dir])).code).toBe(0);
  });

  it('killed before the rename: the next command records it as abandoned (a failed audit line) and the tenant stays deployed', async () => {
    const [id] = uuids(1) as [string];
    const dir = await tree([id]);
    await appendFile(join(dir, 'index.jsonl'), intent(id, `archive/clients/${id}/20261202T000000Z-0000000000000000`));

    const r = await cli(['crl', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await archiveRecords(dir)).at(-1)).toMatchObject({ tenantId: id, state: 'abandoned' });
    expect(await auditActions(dir, id)).toEqual(['issue:ok', 'archive:failed']);
    expect((await lstat(clientPaths(dir, id).cert)).isFile()).toBe(true);
    const audit = await cli(['audit', '--dir', dir]);
    expect(audit.code, audit.stdout).toBe(0);
  });
});

describe('issue 13 item 7: offboarding a tenant whose certificate expired unrevoked', () => {
  /** The CLI 100 days from now (faketime): the 90-day client certificate has expired, the server's has not. */
  const later = (args: string[]) => runProcess('faketime', ['-f', '+100d', process.execPath, BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });

  it('needs no revocation: the certificate becomes archived (not valid), and a directory put back by hand is reported', async () => {
    const [id] = uuids(1) as [string];
    const dir = await tree([id]);
    const serial = await serialOf(clientPaths(dir, id).cert);
    const r = await later(['offboard', '--dir', dir, id, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ tenants: [{ tenantId: id, revoked: [] }], crl: null });
    const history = JSON.parse((await later(['history', id, '--dir', dir, '--json'])).stdout);
    expect(history.certificates).toEqual([expect.objectContaining({ serial, status: 'archived', expired: true, revocation: null, archive: expect.objectContaining({ path: doc.tenants[0].archive }) })]);
    // Nothing valid is left for the tenant, so its missing directory is no finding (MISSING_TENANT).
    const clean = await later(['audit', '--dir', dir]);
    expect(clean.code, clean.stdout).toBe(0);

    await rename(join(dir, doc.tenants[0].archive), join(dir, 'clients', id));
    const audit = await later(['audit', '--dir', dir]);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(new RegExp(`clients/${id}/client.crt: INDEX_MISMATCH: serial ${serial} is deployed, but the index records its tenant as offboarded`));
  });
});
