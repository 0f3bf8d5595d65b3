// One DNS-name rule for issuance and verification (issue 11 §5): whatever `pkictl issue server --san`
// accepts, `pkictl verify` accepts; whatever it refuses, `verify` refuses too when another tool puts it
// in a certificate (openssl, signed by the same CA).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('a SAN is valid for issue server exactly when verify accepts it', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    const r = await runCli(['init', '--dir', dir, '--key', 'ec-p256']);
    expect(r.code, r.stderr).toBe(0);
  });

  it.each([
    ['DNS:*.gw.example', 'a.gw.example'],
    ['DNS:gw-1.luzzi.example', 'gw-1.luzzi.example'],
    ['DNS:GW.Example.COM', 'gw.example.com'],
  ])('%s: issued, then verified for %s', async (san, host) => {
    const issued = await runCli(['issue', 'server', '--dir', dir, '--key', 'ec-p256', '--force', '--san', san]);
    expect(issued.code, issued.stderr).toBe(0);
    const verified = await runCli(['verify', '--dir', dir, '--purpose', 'server', '--hostname', host, join(dir, 'server.crt')]);
    expect(verified.stdout).toBe(`${join(dir, 'server.crt')}: OK\n`);
    expect(verified.code).toBe(0);
  });

  it.each([
    ['*.gw', /a wildcard must stand above at least two labels/],
    ['host.123', /expected DNS:<host name>/],
    ['a_b.example', /expected DNS:<host name>/],
    ['-a.example', /expected DNS:<host name>/],
  ])('DNS:%s: refused by issue server, and BAD_SAN in verify when openssl issues it', async (name, message) => {
    expectInputError(await runCli(['issue', 'server', '--dir', dir, '--key', 'ec-p256', '--force', '--san', `DNS:${name}`]), message);
    const key = join(base, 'leaf.key');
    const csr = join(base, 'leaf.csr');
    const crt = join(base, `leaf-${name}.crt`);
    const ext = join(base, 'leaf.ext');
    await writeFile(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nsubjectAltName=DNS:${name}\n`);
    const req = await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=leaf']);
    expect(req.code, req.stderr).toBe(0);
    const sign = await openssl(['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-set_serial', '0x1234', '-days', '30', '-extfile', ext, '-out', crt]);
    expect(sign.code, sign.stderr).toBe(0);
    const verified = await runCli(['verify', '--dir', dir, '--purpose', 'server', crt]);
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(`FAILED: BAD_SAN: malformed DNS name in subjectAltName: "${name}"`);
  });
});
