import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const PEERS = fileURLToPath(new URL('./peers/', import.meta.url));
const TENANT_A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const TENANT_B = '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c';
const hasGo = spawnSync('go', ['version']).status === 0;
const hasPython = spawnSync('python3', ['--version']).status === 0;
// CI installs both and sets PKICTL_REQUIRE_PEERS=1, so a missing peer fails there instead of skipping.
if (process.env.PKICTL_REQUIRE_PEERS === '1' && !(hasGo && hasPython)) throw new Error('go and python3 are required (PKICTL_REQUIRE_PEERS=1)');

/**
 * The real consumers: a Go crypto/tls gateway (tls.LoadX509KeyPair, RequireAndVerifyClientCert, CN → tenant)
 * and a Python ssl connector (load_cert_chain, hostname check, VERIFY_X509_STRICT). CI installs golang-go.
 */
describe.skipIf(!hasGo || !hasPython)('the Go gateway and the Python connector on a pkictl tree', () => {
  let dir: string;
  let otherDir: string;
  let gateway: ChildProcess;
  let port: number;
  const gatewayLog: string[] = [];

  function connector(host: string, root: string, id: string, registerAs = id): Promise<{ code: number; out: string }> {
    const client = join(root, 'clients', id);
    return new Promise((resolve, reject) => {
      execFile('python3', [join(PEERS, 'connector.py'), String(port), host, join(dir, 'ca.crt'), join(client, 'client.crt'), join(client, 'client.key'), registerAs],
        (error, stdout) => {
          // A connector that did not run (spawn error, signal) must not pass for a refused connection.
          if (error && typeof error.code !== 'number') reject(new Error(`connector.py did not run to an exit code: ${error.message}`));
          else resolve({ code: error ? (error.code as number) : 0, out: stdout.trim() });
        });
    });
  }

  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    otherDir = join(base, 'other');
    for (const args of [['init', '--dir', dir], ['issue', 'server', '--dir', dir], ['issue', 'client', '--dir', dir, TENANT_A, TENANT_B],
      ['init', '--dir', otherDir], ['issue', 'client', '--dir', otherDir, TENANT_A]]) {
      const r = await runCli([...args, '--key', 'ec-p256']);
      expect(r.code, r.stderr).toBe(0);
    }
    const binary = join(base, 'gateway');
    const cache = join(base, 'go-cache');
    await mkdir(cache);
    const env = { ...process.env, GOCACHE: process.env.GOCACHE ?? cache, GOPATH: join(base, 'go'), GO111MODULE: 'off' };
    const build = spawnSync('go', ['build', '-o', binary, join(PEERS, 'gateway.go')], { env, encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    gateway = spawn(binary, [dir]);
    gateway.stdout!.on('data', (d) => gatewayLog.push(...String(d).trim().split('\n')));
    port = await new Promise<number>((resolve, reject) => {
      gateway.stdout!.once('data', (d) => {
        const m = /listening (\d+)/.exec(String(d));
        if (m) resolve(Number(m[1]));
        else reject(new Error(`gateway did not start: ${d}`));
      });
    });
  }, 120_000);
  afterAll(() => gateway?.kill());

  it.each(['localhost', 'gateway.luzzi.com', '127.0.0.1'])('connects as the tenant of its certificate, checking the gateway as %s', async (host) => {
    expect(await connector(host, dir, TENANT_A)).toEqual({ code: 0, out: `ok ${TENANT_A}` });
    expect(gatewayLog).toContain(`tenant: ${TENANT_A}`);
  });

  it('is refused when it registers as another tenant than its CN', async () => {
    expect(await connector('localhost', dir, TENANT_B, TENANT_A)).toEqual({ code: 0, out: 'error: tenant_id mismatch' });
  });

  it('cannot connect with a certificate from another CA', async () => {
    const r = await connector('localhost', otherDir, TENANT_A);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^error: /);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gatewayLog.some((l) => /^rejected: .*(unknown authority|certificate)/.test(l))).toBe(true);
  });

  it('does not accept the gateway under a name missing from its SANs', async () => {
    const r = await connector('gateway.evil.example', dir, TENANT_A);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^error: .*(hostname mismatch|doesn't match|CERTIFICATE_VERIFY_FAILED)/);
  });
});
