import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const SHORT = ['10000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002'];
const LONG = '20000000-0000-4000-8000-000000000003';
const DAY = 86_400_000;

interface Row {
  kind: string;
  tenantId: string | null;
  commonName: string | null;
  serial: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  status: string;
  problems: string[];
  revocation: { reason: string | null; revokedAt: string | null; source: string } | null;
  path: string;
}

describe('pkictl list', () => {
  let base: string;
  let dir: string;
  let issuedAt: number;
  const at = (days: number) => new Date(issuedAt + days * DAY).toISOString();
  /** `list --json` that must exit with `code` (1 only with --check and something to report). */
  const list = async (code: 0 | 1, ...args: string[]) => {
    const r = await runCli(['list', '--dir', dir, '--json', ...args]);
    expect(r.code, r.stderr).toBe(code);
    return JSON.parse(r.stdout) as { certificates: Row[]; counts: Record<string, number>; sources: string[]; schemaVersion: number };
  };

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    issuedAt = Date.now();
    expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'server', '--dir', dir, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', dir, ...ec, '--days', '30', ...SHORT])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', dir, ...ec, '--days', '90', LONG])).code).toBe(0);
  });

  it('lists every certificate of a fresh tree as valid; --check exits 0', async () => {
    const r = await runCli(['list', '--dir', dir, '--check']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KIND +TENANT \/ CN +SERIAL +NOT AFTER +DAYS +STATUS$/);
    expect(lines).toHaveLength(1 + 5);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['ca', 'server', 'client', 'client', 'client']);
    expect(lines.every((l, i) => i === 0 || / valid$/.test(l))).toBe(true);
    expect(r.stderr).toMatch(/^5 certificates in .*: 5 valid, 0 expiring, 0 expired, 0 revoked, 0 invalid/);
  });

  it('--json: stable schema, one row per certificate, tenants by directory', async () => {
    const doc = await list(0);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.sources).toEqual(['tree', 'index']);
    expect(doc.certificates.map((r) => r.tenantId ?? r.kind)).toEqual(['ca', 'server', ...SHORT, LONG]);
    for (const row of doc.certificates) {
      expect(Object.keys(row).sort()).toEqual(['commonName', 'daysLeft', 'kind', 'notAfter', 'notBefore', 'path', 'problems', 'revocation', 'serial', 'status', 'tenantId']);
      expect(row.serial).toMatch(/^[0-9a-f]+$/);
    }
    expect(doc.certificates.find((r) => r.tenantId === LONG)).toMatchObject({ commonName: LONG, daysLeft: 89, path: `clients/${LONG}/client.crt` });
  });

  it('default window = one third of the lifetime: 30-day certificates are expiring 21 days in, not 19', async () => {
    const before = await list(0, '--at', at(19), '--check');
    expect(before.counts).toMatchObject({ valid: 5, expiring: 0 });
    const after = await list(1, '--at', at(21), '--check');
    expect(after.certificates.filter((r) => r.status === 'expiring').map((r) => r.tenantId)).toEqual(SHORT);
  });

  it('--expiring-within and --renew-before filter to what needs attention', async () => {
    const within = await list(0, '--expiring-within', '40d');
    expect(within.certificates.map((r) => r.tenantId)).toEqual(SHORT);
    expect(within.certificates.every((r) => r.status === 'expiring')).toBe(true);
    const fraction = await list(0, '--renew-before', '99.99%', '--at', at(1));
    expect(fraction.certificates.map((r) => r.kind)).toEqual(['ca', 'server', 'client', 'client', 'client']);
    const none = await list(0, '--renew-before', '10%', '--check');
    expect(none.certificates).toEqual([]);
  });

  it('expired certificates: status expired, negative days, --check exits 1', async () => {
    // Days left = whole days from --at to the certificate's real notAfter (whole seconds, set when it
    // was issued, after issuedAt): -1 or -2 depending on the clock, so read it rather than assume it.
    const end = await openssl(['x509', '-in', join(dir, 'clients', SHORT[0]!, 'client.crt'), '-noout', '-enddate', '-dateopt', 'iso_8601']);
    expect(end.code, end.stderr).toBe(0);
    const notAfter = Date.parse(end.stdout.trim().replace(/^notAfter=/, '').replace(' ', 'T'));
    const when = at(31);
    const days = Math.floor((notAfter - Date.parse(when)) / DAY);
    expect(days).toBeLessThan(0);
    const r = await runCli(['list', '--dir', dir, '--at', when, '--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`${SHORT[0]} .* ${days} +expired`));
    expect(r.stderr).toMatch(/2 expired/);
  });

  it('planted problems are invalid: CN not the directory, garbage, missing certificate', async () => {
    const copy = join(base, 'planted');
    await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
    const other = '30000000-0000-4000-8000-000000000009';
    await cp(join(copy, 'clients', LONG), join(copy, 'clients', other), { recursive: true, verbatimSymlinks: true });
    await rm(join(copy, 'clients', SHORT[0]!, 'client.crt'));
    await writeFile(join(copy, 'clients', SHORT[1]!, 'client.crt'), 'garbage\n');
    // A directory where client.crt should be, and a 2 MB file: reported on their rows, not read.
    const asDir = '30000000-0000-4000-8000-00000000000a';
    const huge = '30000000-0000-4000-8000-00000000000b';
    await mkdir(join(copy, 'clients', asDir, 'client.crt'), { recursive: true });
    await mkdir(join(copy, 'clients', huge));
    await writeFile(join(copy, 'clients', huge, 'client.crt'), Buffer.alloc(9 * 1024 * 1024, 0x41));
    const r = await runCli(['list', '--dir', copy, '--json', '--check']);
    expect(r.code).toBe(1);
    const rows = (JSON.parse(r.stdout) as { certificates: Row[] }).certificates;
    expect(rows.find((x) => x.tenantId === asDir)).toMatchObject({ status: 'invalid', problems: ['client.crt is a directory, not a file'] });
    expect(rows.find((x) => x.tenantId === huge)).toMatchObject({ status: 'invalid', problems: ['client.crt is 9 MiB, over the 8 MiB limit for a certificate, key, CRL or template file'] });
    const byTenant = (t: string) => rows.find((x) => x.tenantId === t)!;
    expect(byTenant(other)).toMatchObject({ status: 'invalid', commonName: LONG });
    expect(byTenant(other).problems[0]).toMatch(/CN .* is not the directory name/);
    expect(byTenant(SHORT[0]!)).toMatchObject({ status: 'invalid', serial: null, problems: ['client.crt missing'] });
    expect(byTenant(SHORT[1]!).problems[0]).toMatch(/not a certificate/);
    expect(byTenant(LONG).status).toBe('valid');
  });

  it('revoked certificates have the status revoked and a revocation, from the issuance index or from crl.pem alone; a stale CRL warns', async () => {
    const copy = join(base, 'revoked');
    await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
    const rv = await runCli(['revoke', '--dir', copy, '--tenant', SHORT[0]!, '--reason', 'keyCompromise']);
    expect(rv.code, rv.stderr).toBe(0);
    const r = await runCli(['list', '--dir', copy, '--json', '--check']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { certificates: Row[]; sources: string[]; crl: { status: string; revoked: number } };
    expect(doc.sources).toEqual(['tree', 'index', 'crl']);
    expect(doc.crl).toMatchObject({ status: 'fresh', revoked: 1 });
    const row = doc.certificates.find((x) => x.tenantId === SHORT[0])!;
    expect(row).toMatchObject({ status: 'revoked', problems: [], revocation: { reason: 'keyCompromise', revokedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), source: 'index' } });
    const human = await runCli(['list', '--dir', copy]);
    expect(human.stdout).toMatch(new RegExp(`${SHORT[0]}.*  revoked \\(keyCompromise\\) at \\d{4}-`));
    expect(human.stderr).toMatch(/, 1 revoked, /);
    // Without the index (a tree copied without it), the CRL alone still marks it.
    await rm(join(copy, 'index.jsonl'));
    const crlOnlyRun = await runCli(['list', '--dir', copy, '--json']);
    expect(crlOnlyRun.code, crlOnlyRun.stderr).toBe(0); // without --check, problems are reported, not an exit code
    const crlOnly = JSON.parse(crlOnlyRun.stdout) as { certificates: Row[]; sources: string[] };
    expect(crlOnly.sources).toEqual(['tree', 'crl']);
    expect(crlOnly.certificates.find((x) => x.tenantId === SHORT[0])).toMatchObject({ status: 'revoked', problems: [], revocation: { reason: 'keyCompromise', revokedAt: row.revocation!.revokedAt!.replace(/\.\d+Z$/, '.000Z'), source: 'crl' } });
    // The CRL lives 7 days: stale in its last third, expired after nextUpdate (and then --check fails).
    const stale = await runCli(['list', '--dir', copy, '--at', at(5)]);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toMatch(/^warning: crl\.pem reaches its nextUpdate/m);
    const expired = await runCli(['list', '--dir', copy, '--at', at(8), '--expiring-within', '1d', '--check']);
    expect(expired.stderr).toMatch(/^warning: crl\.pem passed its nextUpdate/m);
    expect(expired.code).toBe(1);
  });

  it('a pair from another CA with the same name is invalid (authority key id differs)', async () => {
    const copy = join(base, 'foreign-tree');
    const foreign = join(base, 'foreign-ca');
    await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
    expect((await runCli(['init', '--dir', foreign, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', foreign, ...ec, LONG])).code).toBe(0);
    await rm(join(copy, 'clients', LONG), { recursive: true });
    await cp(join(foreign, 'clients', LONG), join(copy, 'clients', LONG), { recursive: true, verbatimSymlinks: true });
    const r = await runCli(['list', '--dir', copy, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = (JSON.parse(r.stdout) as { certificates: Row[] }).certificates;
    expect(rows.find((x) => x.tenantId === LONG)).toMatchObject({ status: 'invalid', problems: ['not issued by ca.crt (authority key id differs)'] });
  });

  it('bad flags and a directory without a CA: exit 2, one line', async () => {
    for (const [args, message] of [
      [['--renew-before', '150%'], /--renew-before: '150%' is not a percentage/],
      [['--expiring-within', 'soon'], /--expiring-within: 'soon' is not a duration/],
      [['--at', 'yesterday'], /--at: use an RFC 3339 time/],
      [['--renew-before', '30d', '--expiring-within', '3d'], /can't be used together/],
    ] as const) {
      const r = await runCli(['list', '--dir', dir, ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const none = await runCli(['list', '--dir', join(base, 'nope')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: .*nope: no such directory/);
    const empty = join(base, 'empty');
    await cp(join(dir, 'clients'), join(empty, 'clients'), { recursive: true, verbatimSymlinks: true });
    const noCa = await runCli(['list', '--dir', empty]);
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toMatch(/^error: no CA in .*ca\.crt not found/);
  });
});
