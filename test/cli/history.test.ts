import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, issueClients, serialOf, uuids } from '../store/fixture.js';

describe('issue 13 item 8: audit-log show, history, list --all', () => {
  let dir: string;
  let a: string;
  let b: string;
  /** a's serials, oldest first: issued, rotated, then issued again after offboarding. */
  const serials: string[] = [];
  let startedRotation: string;

  beforeAll(async () => {
    dir = join(await tempDir('pkictl-history-'), 'certs');
    await initCa(dir);
    [a, b] = uuids(2) as [string, string];
    await issueClients(dir, [a, b]);
    serials.push(await serialOf(clientPaths(dir, a).cert));
    startedRotation = new Date().toISOString();
    const rotated = await cli(['rotate', '--dir', dir, '--tenant', a, '--all', '--actor', 'rotation-bot']);
    expect(rotated.code, rotated.stderr).toBe(0);
    serials.push(await serialOf(clientPaths(dir, a).cert));
    const off = await cli(['offboard', '--dir', dir, a, '--actor', 'alice']);
    expect(off.code, off.stderr).toBe(0);
    await issueClients(dir, [a]);
    serials.push(await serialOf(clientPaths(dir, a).cert));
  });

  it('history: every certificate the tenant had, oldest first, with status, dates, issuer action and actor, revocation and archive', async () => {
    const r = await cli(['history', a, '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, tenantId: a, deployed: true });
    expect(doc.certificates.map((c: { serial: string }) => c.serial)).toEqual(serials);
    const [first, second, third] = doc.certificates;
    expect(first).toMatchObject({ status: 'revoked', action: 'issue', supersededBy: serials[1], revocation: { reason: 'cessationOfOperation', revokedBy: 'alice' }, archive: { path: expect.stringMatching(`^archive/clients/${a}/`) } });
    expect(second).toMatchObject({ status: 'revoked', action: 'rotate', issuedBy: 'rotation-bot', revocation: { reason: 'cessationOfOperation' }, archive: { path: first.archive.path } });
    expect(third).toMatchObject({ status: 'valid', action: 'issue', revocation: null, archive: null, expired: false });
    for (const c of doc.certificates) expect(Date.parse(c.notAfter)).toBeGreaterThan(Date.parse(c.notBefore));
    expect(doc.events.map((e: { action: string }) => e.action)).toEqual(['issue', 'rotate', 'revoke', 'revoke', 'archive', 'issue']);

    const text = await cli(['history', a, '--dir', dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(4); // header + 3 certificates
    expect(text.stdout).toMatch(new RegExp(`${serials[1]}\\s+revoked \\(cessationOfOperation\\).*archived.*rotate by rotation-bot`));
    expect(text.stderr).toMatch(/archived .* by alice: archive\/clients\//);
  });

  it('history and audit-log show --tenant: an unknown tenant is one line, exit 2; no CA is exit 2', async () => {
    expectInputError(await cli(['history', uuids(1)[0]!, '--dir', dir]), /tenant .* has no certificate in /);
    expectInputError(await cli(['audit-log', 'show', '--tenant', uuids(1)[0]!, '--dir', dir]), /tenant .* has no certificate in /);
    expectInputError(await cli(['history', a, '--dir', join(dir, 'nowhere')]), /no CA in /);
    expectInputError(await cli(['audit-log', 'show', '--since', 'yesterday', '--dir', dir]), /--since: 'yesterday' is neither a time .* nor a duration/);
  });

  it('audit-log show: every line, readable, oldest first; --tenant and --since filter; --json is one document', async () => {
    const all = await cli(['audit-log', 'show', '--dir', dir]);
    expect(all.code, all.stderr).toBe(0);
    const logLines = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n');
    expect(all.stdout.trim().split('\n')).toHaveLength(logLines.length);
    expect(all.stderr).toMatch(new RegExp(`^${logLines.length} events of ${logLines.length} lines in `, 'm'));
    expect(all.stdout).toMatch(new RegExp(`rotate  ${a}  ${serials[1]}  by rotation-bot  .*supersedes=${serials[0]}`));

    const mine = await cli(['audit-log', 'show', '--tenant', b, '--dir', dir, '--json']);
    expect(mine.code, mine.stderr).toBe(0);
    const doc = JSON.parse(mine.stdout);
    expect(doc.events.map((e: { action: string; tenantId: string }) => `${e.action}:${e.tenantId}`)).toEqual([`issue:${b}`]);
    expect(doc.events[0]).not.toHaveProperty('tenant');

    const since = JSON.parse((await cli(['audit-log', 'show', '--since', startedRotation, '--tenant', a, '--dir', dir, '--json'])).stdout);
    expect(since.events.map((e: { action: string }) => e.action)).toEqual(['rotate', 'revoke', 'revoke', 'archive', 'issue']);
    const recent = JSON.parse((await cli(['audit-log', 'show', '--since', '1h', '--dir', dir, '--json'])).stdout);
    expect(recent.events).toHaveLength(logLines.length);
  });

  it('audit-log show reads the log in bounded chunks: lines across chunk boundaries and an unreadable line are handled', async () => {
    const copy = join(await tempDir('pkictl-history-big-'), 'certs');
    await initCa(copy);
    const [id] = uuids(1) as [string];
    await issueClients(copy, [id]);
    // ~90 KiB of rotations: several 64 KiB chunks, lines split between them.
    for (let i = 0; i < 3; i++) expect((await cli(['rotate', '--dir', copy, '--tenant', id, '--all', '--actor', 'x'.repeat(30000)])).code).toBe(0);
    await appendFile(join(copy, 'audit.log'), 'not json\n');
    const r = await cli(['audit-log', 'show', '--tenant', id, '--dir', copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.events.map((e: { action: string }) => e.action)).toEqual(['issue', 'rotate', 'rotate', 'rotate']);
    expect(doc.problems).toEqual([`line ${doc.lines}: not an audit record`]);
  });

  it('list --all adds superseded certificates that still authenticate; they do not fail --check', async () => {
    const plain = await cli(['list', '--dir', dir, '--json']);
    expect(JSON.parse(plain.stdout).certificates.map((r: { serial: string }) => r.serial)).not.toContain(serials[0]);

    const rot = await cli(['rotate', '--dir', dir, '--tenant', b, '--all']);
    expect(rot.code, rot.stderr).toBe(0);
    const current = await serialOf(clientPaths(dir, b).cert);
    const r = await cli(['list', '--all', '--check', '--dir', dir, '--json']);
    expect(r.code, r.stdout).toBe(0);
    const rows = JSON.parse(r.stdout).certificates.filter((row: { tenantId: string }) => row.tenantId === b);
    expect(rows.map((row: { status: string }) => row.status)).toEqual(['valid', 'superseded']);
    expect(rows[1]).toMatchObject({ supersededBy: current, path: `clients/${b}/client.crt` });
    // Revoked (a's first two) are not listed as superseded: they no longer authenticate.
    expect(JSON.parse(r.stdout).certificates.map((row: { serial: string }) => row.serial)).not.toContain(serials[0]);
    const text = await cli(['list', '--all', '--dir', dir]);
    expect(text.stdout).toMatch(new RegExp(`${b}\\s+\\S+\\s+\\S+\\s+\\d+\\s+superseded by ${current.slice(0, 16)}`));
    expect(text.stderr).toMatch(/1 superseded, still within their validity/);
  });
});
