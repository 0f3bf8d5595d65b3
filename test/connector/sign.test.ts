// pkictl sign --csr (issue 15): a tenant's own key certified under the client profile, whatever the
// CSR asks for; every key type the platform speaks, with the Go gateway and the Python connector;
// every refusal one line, nothing written; list, audit, verify --all and rotate know such tenants.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { buildGateway, connector, hasPeers, startGateway, type Gateway } from '../helpers/peers.js';
import { runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const [A, B, C, D, E] = ['1a2b3c4d-0000-4a5b-8c6d-7e8f9a0b1c2d', '2b3c4d5e-1111-4b6c-9d7e-8f9a0b1c2d3e', '3c4d5e6f-2222-4c7d-8e9f-9a0b1c2d3e4f', '4d5e6f70-3333-4d8e-9fa0-0b1c2d3e4f50', '5e6f7081-4444-4e9f-a0b1-1c2d3e4f5061'];

async function ok(args: string[], input?: string) {
  const r = await runCli(args, { input });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** An openssl key and CSR in `base`: -newkey spec, subject, and extra -addext lines. */
async function makeCsr(base: string, name: string, newkey: string[], subject: string, addext: string[] = []) {
  const key = join(base, `${name}.key`);
  const csr = join(base, `${name}.csr`);
  const r = await openssl(['req', '-new', ...newkey, '-nodes', '-keyout', key, '-subj', subject, ...addext.flatMap((e) => ['-addext', e]), '-out', csr]);
  expect(r.code, r.stderr).toBe(0);
  return { key, csr };
}

describe('pkictl sign --csr', () => {
  let base: string;
  let dir: string;
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    await ok(['init', '--dir', dir, ...ec, '--intermediate']);
    await ok(['issue', 'server', '--dir', dir, ...ec]);
    await ok(['issue', 'client', '--dir', dir, ...ec, E]);
    if (hasPeers) gateway = await startGateway(await buildGateway(base), dir);
  }, 120_000);
  afterAll(() => gateway?.stop());

  it.each([
    ['RSA-2048', ['-newkey', 'rsa:2048'], A],
    ['ECDSA P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], B],
    ['ECDSA P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], C],
    ['Ed25519', ['-newkey', 'ed25519'], D],
  ])('%s: the client profile exactly, whatever the CSR asks; openssl, Go and Python accept it', async (_name, newkey, tenant) => {
    // The CSR asks for a CA, a serverAuth EKU, a SAN and another O: none of it is obeyed.
    const { key, csr } = await makeCsr(base, tenant, newkey, `/O=Evil Corp/CN=${tenant}`, ['basicConstraints=critical,CA:TRUE', 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:evil.example']);
    const r = await ok(['sign', '--dir', dir, '--csr', csr, '--tenant', tenant]);
    expect(r.stderr).toMatch(new RegExp(`Signed the client certificate for tenant ${tenant} .*key on the connector`));
    const onDisk = await readFile(join(dir, 'clients', tenant, 'client.crt'), 'utf8');
    expect(r.stdout).toBe(onDisk); // leaf, then the intermediate
    expect(onDisk.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const text = (await openssl(['x509', '-in', join(dir, 'clients', tenant, 'client.crt'), '-noout', '-text'])).stdout;
    expect(text).toMatch(/Subject: C ?= ?MX, ST ?= ?CDMX, O ?= ?Luzzi, CN ?= ?/);
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    expect(text).not.toMatch(/Subject Alternative Name|evil/i);
    expect(text).toMatch(/Authority Key Identifier/);
    expect(text).toMatch(/Subject Key Identifier/);
    const days = (new Date((await openssl(['x509', '-in', join(dir, 'clients', tenant, 'client.crt'), '-noout', '-enddate'])).stdout.split('=')[1]!).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(90);
    const verified = await openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.crt'), '-untrusted', join(dir, 'intermediate.crt'), join(dir, 'clients', tenant, 'client.crt')]);
    expect(verified.code, verified.stderr).toBe(0);
    // The key on disk is the connector's (written by openssl here), never the tree's.
    await expect(readFile(join(dir, 'clients', tenant, 'client.key'))).rejects.toThrow(/ENOENT/);
    if (gateway) {
      const result = await connector(gateway.port, 'localhost', join(dir, 'ca.crt'), { cert: join(dir, 'clients', tenant, 'client.crt'), key }, tenant);
      expect(result, `${_name} through the Go gateway`).toEqual({ code: 0, out: `ok ${tenant}` });
    }
  });

  it('refuses bad requests in one line and writes nothing', async () => {
    const weak = await makeCsr(base, 'weak', ['-newkey', 'rsa:1024'], `/CN=${A}`);
    const p521 = await makeCsr(base, 'p521', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'], `/CN=${A}`);
    const ed448 = await makeCsr(base, 'ed448', ['-newkey', 'ed448'], `/CN=${A}`);
    const notTenant = await makeCsr(base, 'nottenant', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=..\\/..\\/etc');
    const twoCns = await makeCsr(base, 'twocns', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], `/CN=${A}/CN=${B}`);
    const good = await makeCsr(base, 'good', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], `/CN=${A}`);
    // The DER form with one bit of the signature flipped.
    const goodDer = join(base, 'good.der');
    expect((await openssl(['req', '-in', good.csr, '-outform', 'DER', '-out', goodDer])).code).toBe(0);
    const derBytes = await readFile(goodDer);
    derBytes[derBytes.length - 10]! ^= 0x01;
    const tampered = join(base, 'tampered.der');
    await writeFile(tampered, derBytes);
    const before = await snapshot(dir);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', tampered]), /not a PKCS#10|not signed by the key it carries/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', weak.csr]), /RSA key of 1024 bits/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', p521.csr]), /P-521; use P-256 or P-384/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', ed448.csr]), /Ed448/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', notTenant.csr]), /CN '\.\.\/\.\.\/etc' is not a tenant id/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', twoCns.csr]), /exactly one CN/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', good.csr, '--tenant', B]), new RegExp(`for tenant ${A}, not ${B}`));
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', good.key]), /no CERTIFICATE REQUEST block/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', '-'], { input: '' }), /empty/);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', join(dir, 'ca.crt')]), /no CERTIFICATE REQUEST block/);
    // A key already certified for another tenant (B's key, sent as A), and E's tree-made pair without --force.
    const bKeyForA = join(base, 'bkey-as-a.csr');
    expect((await openssl(['req', '-new', '-key', join(base, `${B}.key`), '-subj', `/CN=${A}`, '-out', bKeyForA])).code).toBe(0);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', bKeyForA]), new RegExp(`already certified for tenant ${B}`));
    const forE = await makeCsr(base, 'for-e', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], `/CN=${E}`);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', forE.csr]), /holds a key pkictl made for this tenant/);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('a key revoked for keyCompromise is never certified again', async () => {
    const serial = (JSON.parse((await ok(['list', '--dir', dir, '--json'])).stdout) as { certificates: Array<{ tenantId: string; serial: string }> }).certificates.find((c) => c.tenantId === C)!.serial;
    await ok(['revoke', '--dir', dir, serial, '--reason', 'keyCompromise']);
    const again = join(base, 'c-again.csr');
    expect((await openssl(['req', '-new', '-key', join(base, `${C}.key`), '-subj', `/CN=${C}`, '-out', again])).code).toBe(0);
    expectInputError(await runCli(['sign', '--dir', dir, '--csr', again]), /revoked for keyCompromise/);
  });

  it('--force moves a tree-made tenant to its connector key: the tree key is destroyed; list, audit, verify --all and rotate know it', async () => {
    const forE = join(base, 'for-e.csr');
    const r = await ok(['sign', '--dir', dir, '--csr', forE, '--force', '--json']);
    const doc = JSON.parse(r.stdout) as { issued: Array<{ tenantId: string; keyAt: string; replaced?: { serial: string } }> };
    expect(doc.issued[0]).toMatchObject({ tenantId: E, keyAt: 'connector' });
    expect(doc.issued[0]!.replaced).toBeDefined();
    await expect(readFile(join(dir, 'clients', E, 'client.key'))).rejects.toThrow(/ENOENT/);
    const list = JSON.parse((await ok(['list', '--dir', dir, '--json'])).stdout) as { certificates: Array<{ tenantId: string | null; keyAt?: string }> };
    for (const t of [A, B, D, E]) expect(list.certificates.find((c) => c.tenantId === t)?.keyAt).toBe('connector');
    const audit = await runCli(['audit', '--dir', dir]);
    const said = audit.stdout + audit.stderr;
    expect(said).toMatch(/5 tenant\(s\) keep their key on their connector/);
    expect(said).toMatch(/✗ 1 finding/);
    expect(said).toMatch(/still deployed but revoked/); // C, revoked above: the one finding
    expect(said).not.toMatch(/MISSING_FILE/);
    const verify = await runCli(['verify', '--dir', dir, '--all']);
    expect(verify.stdout + verify.stderr).toMatch(new RegExp(`clients/${A}/client.crt: OK`));
    const rotate = (JSON.parse((await runCli(['rotate', '--dir', dir, '--all', '--json'])).stdout) as { rotation: { rotated: unknown[]; skipped: Array<{ tenantId: string; why: string }> } }).rotation;
    expect(rotate.rotated).toHaveLength(0);
    expect(rotate.skipped.find((s) => s.tenantId === A)?.why).toMatch(/the connector renews itself/);
    // A key file planted beside a connector tenant's certificate is reported.
    await writeFile(join(dir, 'clients', A, 'client.key'), await readFile(join(base, 'good.key')), { mode: 0o600 });
    const planted = await runCli(['audit', '--dir', dir]);
    expect(planted.stdout + planted.stderr).toMatch(/KEY_IN_TREE/);
  });
});
