import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, clientPair, connector as runConnector, hasPeers, startGateway, type Gateway } from '../helpers/peers.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const TENANT_A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const TENANT_B = '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c';

async function ok(args: string[]) {
  const r = await runCli([...args, '--key', 'ec-p256']);
  expect(r.code, r.stderr).toBe(0);
}

/**
 * The real consumers: a Go crypto/tls gateway (tls.LoadX509KeyPair, RequireAndVerifyClientCert, CN → tenant)
 * and a Python ssl connector (load_cert_chain, hostname check, VERIFY_X509_STRICT). CI installs golang-go.
 */
describe.skipIf(!hasPeers)('the Go gateway and the Python connector on a pkictl tree', () => {
  let dir: string;
  let otherDir: string;
  let gateway: Gateway;
  const connector = (host: string, root: string, id: string, registerAs = id) => runConnector(gateway.port, host, join(dir, 'ca.crt'), clientPair(root, id), registerAs);

  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    otherDir = join(base, 'other');
    for (const args of [['init', '--dir', dir], ['issue', 'server', '--dir', dir], ['issue', 'client', '--dir', dir, TENANT_A, TENANT_B],
      ['init', '--dir', otherDir], ['issue', 'client', '--dir', otherDir, TENANT_A]]) await ok(args);
    gateway = await startGateway(await buildGateway(base), dir);
  }, 120_000);
  afterAll(() => gateway?.stop());

  it.each(['localhost', 'gateway.luzzi.com', '127.0.0.1'])('connects as the tenant of its certificate, checking the gateway as %s', async (host) => {
    expect(await connector(host, dir, TENANT_A)).toEqual({ code: 0, out: `ok ${TENANT_A}` });
    expect(gateway.log).toContain(`tenant: ${TENANT_A}`);
  });

  it('is refused when it registers as another tenant than its CN', async () => {
    expect(await connector('localhost', dir, TENANT_B, TENANT_A)).toEqual({ code: 0, out: 'error: tenant_id mismatch' });
  });

  it('cannot connect with a certificate from another CA', async () => {
    const r = await connector('localhost', otherDir, TENANT_A);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^error: /);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gateway.log.some((l) => /^rejected: .*(unknown authority|certificate)/.test(l))).toBe(true);
  });

  it('does not accept the gateway under a name missing from its SANs', async () => {
    const r = await connector('gateway.evil.example', dir, TENANT_A);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^error: .*(hostname mismatch|doesn't match|CERTIFICATE_VERIFY_FAILED)/);
  });
});

describe.skipIf(!hasPeers)('the Go gateway and the Python connector on a tree with an issuing intermediate', () => {
  let dir: string;
  let gateway: Gateway;
  const connector = (host: string, id: string) => runConnector(gateway.port, host, join(dir, 'ca.crt'), clientPair(dir, id), id);

  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    for (const args of [['init', '--dir', dir, '--intermediate'], ['issue', 'server', '--dir', dir], ['issue', 'client', '--dir', dir, TENANT_A, TENANT_B]]) await ok(args);
    gateway = await startGateway(await buildGateway(base), dir);
  }, 120_000);
  afterAll(() => gateway?.stop());

  it.each(['localhost', '127.0.0.1'])('both sides send the chain and verify it against ca.crt alone (gateway checked as %s)', async (host) => {
    expect(await connector(host, TENANT_A)).toEqual({ code: 0, out: `ok ${TENANT_A}` });
    expect(gateway.log).toContain(`tenant: ${TENANT_A}`);
  });

  it('a leaf revoked in crl.pem (signed by the intermediate) is refused once the gateway reloads', async () => {
    const r = await runCli(['revoke', '--dir', dir, '--tenant', TENANT_B, '--reason', 'keyCompromise']);
    expect(r.code, r.stderr).toBe(0);
    await gateway.reload();
    expect((await connector('localhost', TENANT_B)).code).toBe(1);
    expect(gateway.log.some((l) => l.startsWith(`rejected: certificate revoked: ${TENANT_B}`))).toBe(true);
    expect(await connector('localhost', TENANT_A)).toEqual({ code: 0, out: `ok ${TENANT_A}` });
  });
});
