import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { BIN, runProcess } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, initCa, issueClients, serialOf, uuids } from '../store/fixture.js';

describe('issue 13 item 8: pkictl inspect reads CRLs', () => {
  let dir: string;
  let crl: string;
  let der: string;
  const revoked: Record<string, string> = {};

  beforeAll(async () => {
    dir = join(await tempDir('pkictl-inspect-crl-'), 'certs');
    await initCa(dir);
    const [a, b] = uuids(2) as [string, string];
    await issueClients(dir, [a, b]);
    revoked[await serialOf(clientPaths(dir, a).cert)] = 'keyCompromise';
    revoked[await serialOf(clientPaths(dir, b).cert)] = 'unspecified';
    for (const [tenant, reason] of [[a, 'keyCompromise'], [b, 'unspecified']] as const) {
      const r = await cli(['revoke', '--dir', dir, '--tenant', tenant, '--reason', reason]);
      expect(r.code, r.stderr).toBe(0);
    }
    crl = join(dir, 'crl.pem');
    der = join(dir, '..', 'crl.der');
    expect((await openssl(['crl', '-in', crl, '-outform', 'DER', '-out', der])).code).toBe(0);
  });

  it('--json: issuer, number, this/next update and every revoked serial with its date and reason, as openssl reads them', async () => {
    const r = await cli(['inspect', crl, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [doc] = JSON.parse(r.stdout).crls;
    expect(doc).toMatchObject({ file: crl, issuer: 'C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA', number: 2, status: 'current', problems: [] });
    expect(Object.fromEntries(doc.revoked.map((e: { serial: string; reason: string }) => [e.serial, e.reason]))).toEqual(revoked);
    const text = (await openssl(['crl', '-in', crl, '-noout', '-text'])).stdout;
    expect(text).toMatch(new RegExp(`X509v3 CRL Number: \\n\\s*${doc.number}\\b`));
    const next = /Next Update: (.+)/.exec(text)![1]!;
    expect(new Date(next).toISOString()).toBe(doc.nextUpdate);
  });

  it('text: a header block and one line per revoked serial; DER reads the same; next to a certificate too', async () => {
    const r = await cli(['inspect', der, join(dir, 'ca.crt')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\(CRL\)\n\s+Issuer:\s+C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA\n\s+CRL number:\s+2\n/);
    for (const [serial, reason] of Object.entries(revoked)) expect(r.stdout).toMatch(new RegExp(`^\\s+${serial}  \\S+Z  ${reason}$`, 'm'));
    expect(r.stdout).toMatch(/Subject:\s+C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA/);
  });

  it('an expired CRL says so; --field with a CRL is one clear line (exit 2)', async () => {
    const later = await runProcess('faketime', ['-f', '+30d', process.execPath, BIN, 'inspect', crl, '--json']);
    expect(later.code, later.stderr).toBe(0);
    expect(JSON.parse(later.stdout).crls[0].status).toBe('expired');
    expectInputError(await cli(['inspect', '--field', 'serial', crl]), /crl\.pem is a CRL: --field reads certificates/);
  });

  it('a file that is neither a certificate nor a CRL is still one input error', async () => {
    const junk = join(dir, '..', 'junk.der');
    await writeFile(junk, Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]));
    expectInputError(await cli(['inspect', junk]), /junk\.der/);
  });
});
