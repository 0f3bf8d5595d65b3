import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const TENANT_A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const TENANT_B = '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c';
const ec = ['--key', 'ec-p256'];

async function cli(args: string[]) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
}

/**
 * The gateway's rule, reproduced: the TLS layer verifies the client certificate against ca.crt,
 * the tenant id is the verified certificate's CN, and a connector whose registration message names
 * another tenant is refused with "tenant_id mismatch".
 */
function startGateway(dir: string, files: { ca: string; cert: string; key: string }) {
  const seen: string[] = [];
  const rejected: string[] = [];
  const server = tls.createServer(
    { ...files, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (socket) => {
      const tenantId = socket.getPeerCertificate().subject.CN as string;
      seen.push(tenantId);
      socket.once('data', (data) => {
        const registration = JSON.parse(data.toString()) as { tenant_id: string };
        socket.end(registration.tenant_id === tenantId ? `ok ${tenantId}` : 'error: tenant_id mismatch');
      });
    },
  );
  server.on('tlsClientError', (error) => rejected.push(error.message));
  return new Promise<{ port: number; seen: string[]; rejected: string[]; close: () => void }>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, seen, rejected, close: () => server.close() }));
  });
}

/** A connector: presents its pair, verifies the gateway for `host`, registers as `tenantId`. */
function connect(port: number, host: string, files: { ca: string; cert: string; key: string }, tenantId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', servername: host === '127.0.0.1' ? undefined : host, ...files,
      checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert) });
    let reply = '';
    socket.on('secureConnect', () => socket.write(JSON.stringify({ tenant_id: tenantId })));
    socket.on('data', (d) => (reply += d));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

describe('mutual TLS with node:tls between the gateway and connectors', () => {
  let dir: string;
  let otherDir: string;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  const read = (path: string) => readFile(path, 'utf8');
  const connector = async (root: string, id: string) => ({
    ca: await read(join(dir, 'ca.crt')),
    cert: await read(join(root, 'clients', id, 'client.crt')),
    key: await read(join(root, 'clients', id, 'client.key')),
  });

  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    otherDir = join(base, 'other-ca');
    await cli(['init', '--dir', dir, ...ec]);
    await cli(['issue', 'server', '--dir', dir, ...ec]);
    await cli(['issue', 'client', '--dir', dir, ...ec, TENANT_A, TENANT_B]);
    await cli(['init', '--dir', otherDir, ...ec]);
    await cli(['issue', 'client', '--dir', otherDir, ...ec, TENANT_A]);
    gateway = await startGateway(dir, { ca: await read(join(dir, 'ca.crt')), cert: await read(join(dir, 'server.crt')), key: await read(join(dir, 'server.key')) });
  });
  afterAll(() => gateway?.close());

  it.each(['localhost', '127.0.0.1'])('completes the handshake for %s and the gateway sees exactly the tenant id', async (host) => {
    const before = gateway.seen.length;
    expect(await connect(gateway.port, host, await connector(dir, TENANT_A), TENANT_A)).toBe(`ok ${TENANT_A}`);
    expect(gateway.seen.slice(before)).toEqual([TENANT_A]);
  });

  it('refuses a connector that registers as another tenant than its CN', async () => {
    expect(await connect(gateway.port, 'localhost', await connector(dir, TENANT_B), TENANT_A)).toBe('error: tenant_id mismatch');
  });

  it('rejects a client certificate from another CA during the handshake', async () => {
    const seenBefore = gateway.seen.length;
    const rejectedBefore = gateway.rejected.length;
    // With TLS 1.3 the client learns of the rejection after its side of the handshake: as an alert
    // (error) or a closed connection without a reply, depending on timing. Never as "ok".
    const outcome = await connect(gateway.port, 'localhost', await connector(otherDir, TENANT_A), TENANT_A).catch((e: Error) => `failed: ${e.message}`);
    expect(outcome).not.toMatch(/^ok/);
    expect(gateway.seen.length).toBe(seenBefore);
    // node:tls reports the refused handshake as a reset on the server side.
    expect(gateway.rejected.length).toBe(rejectedBefore + 1);
  });

  it('fails the connector’s hostname check for a name the server certificate does not carry', async () => {
    await expect(connect(gateway.port, 'evil.example', await connector(dir, TENANT_A), TENANT_A)).rejects.toThrow(/evil\.example/);
  });
});
