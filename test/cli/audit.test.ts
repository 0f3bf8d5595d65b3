import { execFileSync } from 'node:child_process';
import { chmod, cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const T = ['40000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000003', '40000000-0000-4000-8000-000000000004'];
const DAY = 86_400_000;

interface Finding {
  code: string;
  severity: string;
  path: string;
  message: string;
  rule?: string;
}

describe('pkictl audit', () => {
  let base: string;
  let clean: string;
  let issuedAt: number;
  const copyTree = async (name: string) => {
    const to = join(base, name);
    await cp(clean, to, { recursive: true, verbatimSymlinks: true });
    return to;
  };
  const audit = async (dir: string, ...args: string[]) => {
    const r = await runCli(['audit', '--dir', dir, '--json', ...args]);
    expect(r.stdout, r.stderr).not.toBe('');
    const doc = JSON.parse(r.stdout) as { ok: boolean; findings: Finding[]; schemaVersion: number; checked: Record<string, number> };
    return { code: r.code, doc, codes: doc.findings.map((f) => `${f.code} ${f.path}`).sort() };
  };

  beforeAll(async () => {
    base = await tempDir();
    clean = join(base, 'certs');
    issuedAt = Date.now();
    expect((await runCli(['init', '--dir', clean, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'server', '--dir', clean, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', clean, ...ec, '--days', '90', ...T])).code).toBe(0);
  });

  it('a clean tree: exit 0, nothing on stdout, a verdict on stderr', async () => {
    const r = await runCli(['audit', '--dir', clean]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/audit clean: 6 certificates, 6 keys, 4 tenants/);
    const { doc } = await audit(clean);
    expect(doc).toMatchObject({ schemaVersion: 1, ok: true, findings: [], checked: { certificates: 6, keys: 6, tenants: 4 } });
  });

  it('planted defects: mismatched key, 0644 key, 0755 key dir, CN != directory, duplicate serial and key, stray and missing files', async () => {
    const dir = await copyTree('planted');
    const [a, b, c, d] = T.map((t) => join(dir, 'clients', t));
    // a: its key replaced by another, valid, EC key (the classic "renewal left the wrong key" outage).
    await writeFile(join(a!, 'client.key'), execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']));
    // b: key readable by everyone, directory too, and a stray file beside the pair.
    await chmod(join(b!, 'client.key'), 0o644);
    await chmod(b!, 0o755);
    await writeFile(join(b!, 'client.crt.bak'), 'old copy\n');
    // c copied under another tenant's name: CN != directory, same serial and key twice.
    const copy = join(dir, 'clients', '40000000-0000-4000-8000-0000000000ff');
    await cp(c!, copy, { recursive: true, verbatimSymlinks: true });
    // d: its key is gone. The server key file holds the server certificate instead of a key.
    await rm(join(d!, 'client.key'));
    await rm(join(dir, 'server.key'));
    await cp(join(dir, 'server.crt'), join(dir, 'server.key'), { dereference: true });
    const { code, doc, codes } = await audit(dir);
    expect(code).toBe(1);
    expect(doc.ok).toBe(false);
    const rel = (p: string) => p.slice(dir.length + 1);
    expect(codes).toEqual(
      [
        `CN_MISMATCH ${rel(copy)}/client.crt`,
        `DUPLICATE_PUBLIC_KEY ${rel(c!)}/client.crt`,
        `DUPLICATE_SERIAL ${rel(c!)}/client.crt`,
        `KEY_MISMATCH ${rel(a!)}/client.key`,
        `KEY_DIR_MODE ${rel(b!)}`,
        `KEY_MODE ${rel(b!)}/client.key`,
        `STRAY_FILE ${rel(b!)}/client.crt.bak`,
        `MISSING_FILE ${rel(d!)}/client.key`,
        'KEY_INVALID server.key',
        'KEY_MODE server.key',
      ].sort(),
    );
    const human = await runCli(['audit', '--dir', dir]);
    expect(human.code).toBe(1);
    expect(human.stdout.trim().split('\n')).toHaveLength(10);
    expect(human.stdout).toContain(`${rel(b!)}/client.key: KEY_MODE: mode 0644; private keys must be 0600`);
    expect(human.stderr).toMatch(/10 findings \(9 errors, 1 warning\)/);
  });

  it('a tenant directory whose name is not a tenant id (the template pattern: lowercase UUID)', async () => {
    const dir = await copyTree('badname');
    await cp(join(dir, 'clients', T[3]!), join(dir, 'clients', 'tenant-4'), { recursive: true, verbatimSymlinks: true });
    await rm(join(dir, 'clients', T[3]!), { recursive: true });
    const { codes, doc } = await audit(dir);
    // The index still lists the certificate under its tenant id, whose directory is gone.
    expect([...codes].sort()).toEqual(['CN_MISMATCH clients/tenant-4/client.crt', `MISSING_TENANT clients/${T[3]}`, 'TENANT_ID_INVALID clients/tenant-4']);
    expect(doc.findings.find((f) => f.code === 'TENANT_ID_INVALID')!.message).toMatch(/not a UUID/);
  });

  it('chain and purpose: a certificate from another CA, a client certificate posing as the server', async () => {
    const dir = await copyTree('chain');
    const foreign = join(base, 'foreign');
    expect((await runCli(['init', '--dir', foreign, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', foreign, ...ec, T[0]!])).code).toBe(0);
    // A tenant pair from another CA, complete and matching: only the chain is wrong.
    await rm(join(dir, 'clients', T[0]!), { recursive: true });
    await cp(join(foreign, 'clients', T[0]!), join(dir, 'clients', T[0]!), { recursive: true, verbatimSymlinks: true });
    // The server slot holds a client pair: no SANs, no serverAuth, and it fails verification as a server.
    for (const ext of ['crt', 'key']) {
      await rm(join(dir, `server.${ext}`));
      await cp(join(dir, 'clients', T[1]!, `client.${ext}`), join(dir, `server.${ext}`), { dereference: true });
    }
    const { code, doc } = await audit(dir);
    expect(code).toBe(1);
    const of = (path: string) => doc.findings.filter((f) => f.path === path).map((f) => f.rule ?? f.code);
    // Both CAs come from the same template: the issuer name matches, the key id and signature do not.
    // The validator reports that as BAD_SIGNATURE or UNKNOWN_ISSUER depending on how it picks candidates.
    const rules = of(`clients/${T[0]}/client.crt`).filter((r) => r !== 'INDEX_MISMATCH');
    expect(of(`clients/${T[0]}/client.crt`).filter((r) => r === 'INDEX_MISMATCH')).toHaveLength(2); // not in the index; not the one it lists
    expect(rules).toHaveLength(1);
    expect(['BAD_SIGNATURE', 'UNKNOWN_ISSUER']).toContain(rules[0]);
    expect(of('server.crt')).toEqual(expect.arrayContaining(['SERVER_NO_SAN', 'SERVER_NO_SERVER_AUTH', 'EKU_MISMATCH', 'DUPLICATE_SERIAL', 'DUPLICATE_PUBLIC_KEY']));
  });

  it('expiry: EXPIRING inside the renewal window (warning), EXPIRED after notAfter (error)', async () => {
    const expiring = await audit(clean, '--at', new Date(issuedAt + 70 * DAY).toISOString());
    expect(expiring.code).toBe(1);
    expect(expiring.doc.findings.filter((f) => f.code === 'EXPIRING').map((f) => f.path).sort()).toEqual(T.map((t) => `clients/${t}/client.crt`));
    expect(expiring.doc.findings.every((f) => f.code === 'EXPIRING' && f.severity === 'warning')).toBe(true);
    const inside = await audit(clean, '--at', new Date(issuedAt + 50 * DAY).toISOString());
    expect(inside.code).toBe(0);
    const expired = await audit(clean, '--at', new Date(issuedAt + 91 * DAY).toISOString());
    expect(expired.doc.findings.filter((f) => f.code === 'EXPIRED')).toHaveLength(4);
    // Expiry is reported once per certificate, not again as a chain failure.
    expect(expired.doc.findings.some((f) => f.code === 'CHAIN_INVALID')).toBe(false);
    const window = await audit(clean, '--renew-before', '10d', '--at', new Date(issuedAt + 70 * DAY).toISOString());
    expect(window.code).toBe(0);
  });

  it('revocation: a revoked pair still deployed, an expired or unreadable crl.pem', async () => {
    const dir = await copyTree('revoked');
    const rv = await runCli(['revoke', '--dir', dir, '--tenant', T[2]!, '--reason', 'keyCompromise']);
    expect(rv.code, rv.stderr).toBe(0);
    const now = await audit(dir);
    expect(now.codes).toEqual([`REVOKED clients/${T[2]}/client.crt`]);
    const later = await audit(dir, '--at', new Date(issuedAt + 8 * DAY).toISOString());
    expect(later.codes).toEqual(['CRL_EXPIRED crl.pem', `REVOKED clients/${T[2]}/client.crt`]);
    await writeFile(join(dir, 'crl.pem'), '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
    await rm(join(dir, 'index.jsonl'));
    const broken = await audit(dir);
    expect(broken.codes).toEqual(['CRL_INVALID crl.pem']);
  });

  it('input errors exit 2: no directory, no CA, bad flag', async () => {
    const none = await runCli(['audit', '--dir', join(base, 'missing')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: .*missing: no such directory/);
    expect(none.stdout).toBe('');
    const bad = await runCli(['audit', '--dir', clean, '--renew-before', 'often']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: invalid value for --renew-before/);
  });
});
