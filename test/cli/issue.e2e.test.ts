import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl, publicKeyOf } from '../helpers/openssl.js';
import { PKCS8_LABEL } from '../helpers/expect-cli.js';
import { runCli } from '../helpers/run-cli.js';
import { modeOf, tempDir, treeModes } from '../helpers/temp-dir.js';

const TENANT_A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const TENANT_B = '0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11';

/** init → issue server → issue client for two tenants, as an operator would run it. */
async function buildTree(keyFlags: string[]) {
  const dir = join(await tempDir(), 'certs');
  const init = await runCli(['init', '--dir', dir, ...keyFlags]);
  expect(init.code, init.stderr).toBe(0);
  const server = await runCli(['issue', 'server', '--dir', dir, ...keyFlags]);
  expect(server.code, server.stderr).toBe(0);
  const client = await runCli(['issue', 'client', '--dir', dir, ...keyFlags, '--json', TENANT_A, TENANT_B]);
  expect(client.code, client.stderr).toBe(0);
  return { dir, init, server, client };
}

function extensionsOf(text: string) {
  return text.replace(/\s+/g, ' ');
}

describe.each([
  { name: 'ECDSA P-256 CA and leaves', keyFlags: ['--key', 'ec-p256'], caKey: 'id-ecPublicKey', leafKey: 'id-ecPublicKey', leafUsage: 'Digital Signature' },
  { name: 'the RSA defaults (RSA 4096 CA, RSA 2048 leaves)', keyFlags: [], caKey: 'Public-Key: (4096 bit)', leafKey: 'Public-Key: (2048 bit)', leafUsage: 'Digital Signature, Key Encipherment' },
])('init → issue server → issue client with $name', ({ keyFlags, caKey, leafKey, leafUsage }) => {
  let tree: Awaited<ReturnType<typeof buildTree>>;
  beforeAll(async () => {
    tree = await buildTree(keyFlags);
  });

  it('serves every contract path with key files 0600, certificates 0644 and key directories 0700', async () => {
    const contract: Record<string, number> = {
      '.': 0o700,
      'ca.crt': 0o644,
      'ca.key': 0o600,
      'server.crt': 0o644,
      'server.key': 0o600,
      clients: 0o700,
    };
    for (const id of [TENANT_A, TENANT_B]) {
      Object.assign(contract, { [`clients/${id}`]: 0o700, [`clients/${id}/client.crt`]: 0o644, [`clients/${id}/client.key`]: 0o600 });
    }
    for (const [path, mode] of Object.entries(contract)) expect([path, await modeOf(join(tree.dir, path))]).toEqual([path, mode]);
    expect((await readdir(join(tree.dir, 'clients'))).sort()).toEqual([TENANT_A, TENANT_B].sort());
  });

  it('keeps every private key in the tree (history included) 0600 inside 0700 directories', async () => {
    const modes = await treeModes(tree.dir);
    const keys = Object.keys(modes).filter((p) => p.endsWith('.key'));
    expect(keys.length).toBeGreaterThanOrEqual(4);
    for (const key of keys) {
      expect([key, modes[key]]).toEqual([key, 0o600]);
      expect([dirname(key), (await stat(join(tree.dir, dirname(key)))).mode & 0o777]).toEqual([dirname(key), 0o700]);
    }
  });

  it('writes PEM certificates and unencrypted PKCS#8 keys', async () => {
    for (const key of ['server.key', `clients/${TENANT_A}/client.key`]) {
      const pem = await readFile(join(tree.dir, key), 'utf8');
      expect(pem).toMatch(new RegExp(`^-----BEGIN ${PKCS8_LABEL}-----\n[A-Za-z0-9+/=\n]+-----END ${PKCS8_LABEL}-----\n$`));
    }
    expect(await readFile(join(tree.dir, 'ca.crt'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it('passes openssl verify -x509_strict for the server and client purposes', async () => {
    const ca = join(tree.dir, 'ca.crt');
    const server = await openssl(['verify', '-x509_strict', '-CAfile', ca, '-purpose', 'sslserver', join(tree.dir, 'server.crt')]);
    expect(server.stdout.trim()).toBe(`${join(tree.dir, 'server.crt')}: OK`);
    for (const id of [TENANT_A, TENANT_B]) {
      const file = join(tree.dir, 'clients', id, 'client.crt');
      const client = await openssl(['verify', '-x509_strict', '-CAfile', ca, '-purpose', 'sslclient', file]);
      expect(client.stdout.trim()).toBe(`${file}: OK`);
      // A client certificate is not a server certificate, and the other way round.
      const wrong = await openssl(['verify', '-x509_strict', '-CAfile', ca, '-purpose', 'sslserver', file]);
      expect(wrong.code).toBe(2);
      expect(wrong.stdout + wrong.stderr).toMatch(/unsuitable certificate purpose/);
    }
  });

  it('puts the tenant id in the subject CN, as openssl shows it', async () => {
    for (const id of [TENANT_A, TENANT_B]) {
      const subject = await openssl(['x509', '-in', join(tree.dir, 'clients', id, 'client.crt'), '-noout', '-subject']);
      expect(subject.stdout.trim()).toBe(`subject=C = MX, ST = CDMX, O = Luzzi, CN = ${id}`);
    }
  });

  it('writes keys that match their certificates', async () => {
    for (const [cert, key] of [['ca.crt', 'ca.key'], ['server.crt', 'server.key'], [`clients/${TENANT_A}/client.crt`, `clients/${TENANT_A}/client.key`]]) {
      expect(await publicKeyOf(join(tree.dir, cert!), 'cert')).toBe(await publicKeyOf(join(tree.dir, key!), 'key'));
    }
    expect(await publicKeyOf(join(tree.dir, 'server.crt'), 'cert')).not.toBe(await publicKeyOf(join(tree.dir, `clients/${TENANT_A}/client.crt`), 'cert'));
  });

  it('gives the root CA the recipe subject, CA:TRUE and keyCertSign + cRLSign, valid 3650 days', async () => {
    const text = extensionsOf((await openssl(['x509', '-in', join(tree.dir, 'ca.crt'), '-noout', '-text'])).stdout);
    expect(text).toContain('Subject: C = MX, ST = CDMX, O = Luzzi, CN = Luzzi Root CA');
    expect(text).toContain('X509v3 Basic Constraints: critical CA:TRUE');
    expect(text).toContain('X509v3 Key Usage: critical Certificate Sign, CRL Sign');
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain(caKey);
    const dates = (await openssl(['x509', '-in', join(tree.dir, 'ca.crt'), '-noout', '-startdate', '-enddate'])).stdout;
    const [start, end] = [...dates.matchAll(/=(.+)/g)].map((m) => Date.parse(m[1]!));
    expect(Math.round((end! - start!) / 86_400_000)).toBe(3650);
  });

  it('gives the server certificate serverAuth only, the template SANs and AKI/SKI', async () => {
    const text = extensionsOf((await openssl(['x509', '-in', join(tree.dir, 'server.crt'), '-noout', '-text'])).stdout);
    expect(text).toContain('X509v3 Basic Constraints: critical CA:FALSE');
    expect(text).toContain(`X509v3 Key Usage: critical ${leafUsage} X509v3`);
    expect(text).toContain('X509v3 Extended Key Usage: TLS Web Server Authentication X509v3');
    expect(text).toContain('X509v3 Subject Alternative Name: DNS:localhost, DNS:gateway, DNS:gateway.luzzi.com, IP Address:127.0.0.1');
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('Signature Algorithm: ' + (keyFlags.length ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption'));
    expect(text).toContain(leafKey);
  });

  it('gives client certificates clientAuth only, 90 days, and a 20-byte positive serial', async () => {
    const file = join(tree.dir, 'clients', TENANT_A, 'client.crt');
    const text = extensionsOf((await openssl(['x509', '-in', file, '-noout', '-text'])).stdout);
    expect(text).toContain('X509v3 Extended Key Usage: TLS Web Client Authentication X509v3');
    expect(text).not.toContain('Subject Alternative Name');
    const { issued } = JSON.parse(tree.client.stdout);
    expect(issued).toHaveLength(2);
    for (const entry of issued) {
      expect(entry.serial).toMatch(/^[4-7][0-9a-f]{39}$/);
      const lifetime = Date.parse(entry.notAfter) - Date.parse(entry.notBefore);
      // 90 days from now, starting 5 minutes in the past for clock skew.
      expect(lifetime).toBe(90 * 86_400_000 + 5 * 60_000);
    }
    expect(new Set(issued.map((e: { serial: string }) => e.serial)).size).toBe(2);
    const fingerprint = (await openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256'])).stdout;
    expect(fingerprint.split('=')[1]!.trim().replace(/:/g, '').toLowerCase()).toBe(issued[0].sha256);
  });

  it('says on stderr once that ca.key is unencrypted, and prints nothing on stdout without --json', () => {
    expect(tree.init.stderr.match(/unencrypted/g)).toHaveLength(1);
    expect(tree.init.stdout).toBe('');
    expect(tree.server.stdout).toBe('');
  });
});
