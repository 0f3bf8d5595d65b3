import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { cliTree, runCli } from '../helpers/run-cli.js';
import { expectInputError } from '../helpers/expect-cli.js';

const uuid = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const TENANTS = Array.from({ length: 25 }, (_, i) => uuid(i + 1));


describe('pkictl inspect', () => {
  let base: string;
  let dir: string;
  let server: string;
  const client = (id: string) => join(dir, 'clients', id, 'client.crt');

  beforeAll(async () => {
    ({ base, dir, server } = await cliTree(TENANTS));
  });

  it('--field cn over many files prints one CN per line, in argument order, nothing else', async () => {
    const files = [...TENANTS].reverse().map(client);
    const r = await runCli(['inspect', '--field', 'cn', ...files]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([...TENANTS].reverse().join('\n') + '\n');
    // What the example does with a shell glob: CNs equal the directory names.
    expect((await readdir(join(dir, 'clients'))).sort()).toEqual(TENANTS);
  });

  it('--field values match what openssl reads from the same file', async () => {
    const values: Record<string, string> = {};
    // The fields scripts read most (the CI path) each through --field; the rest through --json below.
    for (const field of ['cn', 'serial', 'not-after', 'fingerprint']) {
      const r = await runCli(['inspect', '--field', field, server]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n')).toHaveLength(2);
      values[field] = r.stdout.trim();
    }
    const [doc] = JSON.parse((await runCli(['inspect', '--json', server])).stdout).certificates;
    const o = (await openssl(['x509', '-in', server, '-noout', '-serial', '-startdate', '-enddate', '-fingerprint', '-sha256', '-subject', '-ext', 'subjectAltName'])).stdout;
    expect(o).toContain(`serial=${values.serial!.toUpperCase()}`);
    expect(o).toContain(`Fingerprint=${values.fingerprint!.toUpperCase().match(/../g)!.join(':')}`);
    expect(new Date(o.match(/notBefore=(.*)/)![1]!).toISOString()).toBe(doc.notBefore);
    expect(new Date(o.match(/notAfter=(.*)/)![1]!).toISOString()).toBe(values['not-after']);
    expect(o).toContain(`CN = ${values.cn}`);
    expect(doc.subject).toMatch(new RegExp(`CN=${values.cn!.replace(/\./g, '\\.')}$`));
    for (const s of doc.sans) expect(o).toContain(s.replace(/^IP:/, 'IP Address:'));
  });

  it('--json is one document with a stable schema', async () => {
    const r = await runCli(['inspect', '--json', server, client(TENANTS[0]!)]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.certificates).toHaveLength(2);
    const [s, c] = doc.certificates;
    expect(Object.keys(s).sort()).toEqual(
      [
        'authorityKeyId', 'basicConstraints', 'commonName', 'daysLeft', 'extendedKeyUsage', 'file', 'fingerprints', 'index', 'issuer', 'keyUsage',
        'notAfter', 'notBefore', 'publicKey', 'sans', 'selfIssued', 'serial', 'signatureAlgorithm', 'subject', 'subjectKeyId', 'validity',
      ].sort(),
    );
    expect(s).toMatchObject({ file: server, index: 1, validity: 'valid', publicKey: { type: 'EC', curve: 'P-256', size: 256 }, extendedKeyUsage: { usages: ['serverAuth'] } });
    expect(s.sans.length).toBeGreaterThan(0);
    expect(c).toMatchObject({ commonName: TENANTS[0], extendedKeyUsage: { usages: ['clientAuth'] }, basicConstraints: { ca: false }, sans: [] });
    expect(c.fingerprints.sha256).toMatch(/^[0-9a-f]{64}$/);
    const fj = JSON.parse((await runCli(['inspect', '--json', '--field', 'cn', server])).stdout);
    expect(fj).toEqual({ schemaVersion: 1, field: 'cn', values: [s.commonName] });
  });

  it('human view shows every required fact', async () => {
    const r = await runCli(['inspect', server]);
    expect(r.code, r.stderr).toBe(0);
    for (const label of ['Subject:', 'Issuer:', 'Serial:', 'Not before:', 'Not after:', 'SANs:', 'Public key:', 'Key usage:', 'Extended key usage:', 'Basic constraints:', 'SHA-256:', 'Public key SHA-256:']) {
      expect(r.stdout).toContain(label);
    }
    expect(r.stdout).toMatch(/Not after: +\S+ \(\d+ days left\)/);
    expect(r.stdout).toMatch(/Public key: +EC P-256/);
    expect(r.stdout).toMatch(/Extended key usage: +serverAuth/);
    expect(r.stdout).toMatch(/Basic constraints: +CA:FALSE \(critical\)/);
  });

  it('reads a PEM bundle from stdin (every certificate) and DER files', async () => {
    const bundle = (await readFile(server, 'utf8')) + (await readFile(join(dir, 'ca.crt'), 'utf8'));
    const r = await runCli(['inspect', '--field', 'cn', '-'], { input: bundle });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    const human = await runCli(['inspect', '-'], { input: bundle });
    expect(human.stdout).toContain('stdin [1]');
    expect(human.stdout).toContain('stdin [2]');
    const der = join(base, 'ca.der');
    execFileSync('openssl', ['x509', '-in', join(dir, 'ca.crt'), '-outform', 'DER', '-out', der]);
    const d = await runCli(['inspect', '--field', 'fingerprint', der, join(dir, 'ca.crt')]);
    const [a, b] = d.stdout.trim().split('\n');
    expect(a).toBe(b);
  });

  describe('bad input: one line naming the file, exit 2, nothing on stdout', () => {
    let bad: string;
    beforeAll(async () => {
      bad = join(base, 'bad');
      await mkdir(bad);
      const pem = await readFile(server, 'utf8');
      await writeFile(join(bad, 'empty.pem'), '');
      await writeFile(join(bad, 'junk.pem'), 'this is not a certificate\n');
      await writeFile(join(bad, 'truncated.pem'), pem.slice(0, pem.length / 2));
      await writeFile(join(bad, 'garbage.der'), Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 131) % 256)));
      await writeFile(join(bad, 'key.pem'), await readFile(join(dir, 'clients', TENANTS[0]!, 'client.key')));
      await writeFile(join(bad, 'huge.pem'), '');
      await truncate(join(bad, 'huge.pem'), 100 * 1024 * 1024);
    });

    it.each([
      ['empty.pem', /empty\.pem: the file is empty/],
      ['junk.pem', /junk\.pem: truncated or malformed PEM|junk\.pem: not a certificate/],
      ['truncated.pem', /truncated\.pem: truncated or malformed PEM/],
      ['garbage.der', /garbage\.der: not a certificate \(neither PEM nor DER\)/],
      ['key.pem', /key\.pem: this is a private key, not a certificate/],
      ['huge.pem', /huge\.pem: is 100 MiB, over the 8 MiB limit/],
      ['missing.pem', /missing\.pem: no such file/],
      ['.', /is a directory/],
    ])('%s', async (name, message) => {
      // inspect --field cn and the full summary share the input checks (unit-tested in
      // test/core/inspect.test.ts); both are run here for the cases that reach the DER parsers.
      const file = join(bad, name);
      expectInputError(await runCli(['inspect', '--field', 'cn', file]), message);
      if (['garbage.der', 'truncated.pem', 'key.pem'].includes(name)) expectInputError(await runCli(['inspect', file]), message);
    });

    it('one bad file among good ones fails the run before printing anything', async () => {
      const r = await runCli(['inspect', '--field', 'cn', client(TENANTS[0]!), join(bad, 'key.pem'), client(TENANTS[1]!)]);
      expectInputError(r, /key\.pem: this is a private key/);
    });

    it('usage errors', async () => {
      expect((await runCli(['inspect', '--field', 'colour', server])).code).toBe(2);
      expect((await runCli(['inspect'])).code).toBe(2);
      expectInputError(await runCli(['inspect', '-', '-'], { input: '' }), /stdin .* only once/);
    });
  });
});
