// pkictl init --intermediate (issue 14): a root and an issuing intermediate; every leaf is signed by the
// intermediate and carries it after itself, so peers that trust ca.crt alone build the chain.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { BIN, runCli, runProcess } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const TENANT = '0d4f6a2e-9c1b-4e3a-8f5d-7b2c1a0e9f8d';
const OTHER = '6a1e2f3d-4c5b-4a69-8e7d-1f2a3b4c5d6e';

async function ok(args: string[]) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const pemCount = (text: string) => text.split('-----BEGIN CERTIFICATE-----').length - 1;

describe('pkictl init --intermediate', () => {
  let dir: string;
  let client: string;

  beforeAll(async () => {
    dir = join(await tempDir(), 'certs');
    await ok(['init', '--dir', dir, ...ec, '--intermediate', '--intermediate-days', '400']);
    await ok(['issue', 'server', '--dir', dir, ...ec]);
    await ok(['issue', 'client', '--dir', dir, ...ec, TENANT, OTHER]);
    client = join(dir, 'clients', TENANT, 'client.crt');
  });

  it('makes a CA:TRUE pathLen 0 intermediate with keyCertSign and cRLSign, signed by the root, its key 0600', async () => {
    const text = (await openssl(['x509', '-in', join(dir, 'intermediate.crt'), '-noout', '-text'])).stdout;
    expect(text).toMatch(/CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(text).toMatch(/Issuer: C ?= ?MX, ST ?= ?CDMX, O ?= ?Luzzi, CN ?= ?Luzzi Root CA\n/);
    expect(text).toMatch(/Subject: .*CN ?= ?Luzzi Root CA Issuing CA/);
    expect((await openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'ca.crt'), join(dir, 'intermediate.crt')])).code).toBe(0);
    expect((await stat(join(dir, 'intermediate.key'))).mode & 0o777).toBe(0o600);
    expect(pemCount(await readFile(join(dir, 'ca.crt'), 'utf8'))).toBe(1);
  });

  it('signs every leaf with the intermediate; each file is the leaf then the intermediate; openssl -x509_strict agrees with pkictl verify', async () => {
    const intermediate = await readFile(join(dir, 'intermediate.crt'), 'utf8');
    for (const [file, purpose] of [[join(dir, 'server.crt'), 'sslserver'], [client, 'sslclient']] as const) {
      const pem = await readFile(file, 'utf8');
      expect(pemCount(pem)).toBe(2);
      expect(pem.endsWith(intermediate)).toBe(true);
      const strict = await openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'ca.crt'), '-untrusted', join(dir, 'intermediate.crt'), '-purpose', purpose, file]);
      expect(strict.code, strict.stderr).toBe(0);
      // Without the intermediate, the root alone cannot verify the leaf: the chain in the file is what peers use.
      expect((await openssl(['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', purpose, file])).code).not.toBe(0);
    }
    const all = await ok(['verify', '--all', '--dir', dir, '--json']);
    const report = JSON.parse(all.stdout);
    expect(report.ok).toBe(true);
    expect(report.files.find((f: { file: string }) => f.file.endsWith(`${TENANT}/client.crt`)).chain.map((c: { subject: string }) => c.subject)).toEqual([
      `C=MX, ST=CDMX, O=Luzzi, CN=${TENANT}`,
      'C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA Issuing CA',
      'C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA',
    ]);
  });

  it('audit, list and the index know the intermediate; no finding on a healthy tree', async () => {
    const audit = await runCli(['audit', '--dir', dir, '--json']);
    expect(audit.code, audit.stdout).toBe(0);
    expect(JSON.parse(audit.stdout).findings).toEqual([]);
    const list = JSON.parse((await ok(['list', '--dir', dir, '--json'])).stdout);
    expect(list.certificates.map((c: { kind: string; status: string }) => `${c.kind}:${c.status}`)).toEqual(['ca:valid', 'intermediate:valid', 'server:valid', 'client:valid', 'client:valid']);
    const index = (await readFile(join(dir, 'index.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const added = index.flatMap((l: { add?: Array<{ kind: string; serial: string; issuer?: string }> }) => l.add ?? []);
    const intermediate = added.find((e) => e.kind === 'intermediate')!;
    expect(intermediate.issuer).toBe(added.find((e) => e.kind === 'ca')!.serial);
    expect(added.filter((e) => e.kind === 'client').every((e) => e.issuer === intermediate.serial)).toBe(true);
  });

  it('crl.pem is signed by the intermediate and revokes a leaf for openssl -crl_check', async () => {
    await ok(['revoke', '--dir', dir, '--tenant', OTHER, '--reason', 'keyCompromise']);
    const crl = join(dir, 'crl.pem');
    expect((await openssl(['crl', '-in', crl, '-noout', '-issuer'])).stdout).toMatch(/Issuing CA/);
    const revoked = join(dir, 'clients', OTHER, 'client.crt');
    const chain = ['-CAfile', join(dir, 'ca.crt'), '-untrusted', join(dir, 'intermediate.crt'), '-CRLfile', crl, '-crl_check'];
    expect((await openssl(['verify', ...chain, revoked])).stdout + (await openssl(['verify', ...chain, revoked])).stderr).toMatch(/certificate revoked/);
    expect((await openssl(['verify', ...chain, client])).code).toBe(0);
    const verdict = await runCli(['verify', '--dir', dir, revoked]);
    expect(verdict.code).toBe(1);
    expect(verdict.stdout + verdict.stderr).toMatch(/REVOKED/);
  });

  it('refuses the intermediate flags without --intermediate, writing nothing', async () => {
    const empty = join(await tempDir(), 'certs');
    expectInputError(await runCli(['init', '--dir', empty, ...ec, '--intermediate-days', '30']), /need --intermediate/);
    await expect(stat(empty)).rejects.toThrow();
  });

  it('init refuses a tree that already holds an intermediate', async () => {
    expectInputError(await runCli(['init', '--dir', dir, ...ec, '--intermediate']), /already exists/);
  });
});

describe('near and after the intermediate\'s end', () => {
  /** The CLI with the clock `offset` ahead (libfaketime). */
  const later = (offset: string, args: string[]) => runProcess('faketime', ['-f', offset, process.execPath, BIN, ...args], { env: { ...process.env, NO_COLOR: '1', PKICTL_CA_PASSPHRASE: undefined } });

  it('a leaf cut short by the intermediate\'s end warns; once it has expired, issue and crl refuse (exit 1) and write nothing', async () => {
    const dir = join(await tempDir(), 'certs');
    await ok(['init', '--dir', dir, ...ec, '--intermediate', '--intermediate-days', '30']);
    const end = (await openssl(['x509', '-in', join(dir, 'intermediate.crt'), '-noout', '-enddate'])).stdout.trim().replace(/^notAfter=/, '');
    const short = await runCli(['issue', 'client', '--dir', dir, ...ec, TENANT, '--json']);
    expect(short.code, short.stderr).toBe(0);
    expect(JSON.parse(short.stdout).issued[0]).toMatchObject({ notAfter: new Date(end).toISOString(), warning: expect.stringMatching(/^valid 30 days, not 90: the CA expires on /) });
    expect(short.stderr).toMatch(new RegExp(`^warning: tenant ${TENANT}: valid 30 days, not 90`));

    const before = await snapshot(dir);
    for (const args of [['issue', 'client', '--dir', dir, ...ec, OTHER], ['crl', '--dir', dir], ['rotate', '--dir', dir, '--all']]) {
      const r = await later('+31d', args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: the CA certificate expired on /);
    }
    expect(await snapshot(dir)).toEqual(before);
  });
});
