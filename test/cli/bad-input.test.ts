import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';
import { expectInputError, PKCS8_LABEL } from '../helpers/expect-cli.js';

const TENANT = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const ec = ['--key', 'ec-p256'];


describe('bad input: one-line error, exit 2, nothing written', () => {
  let dir: string;
  let base: string;
  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', dir, ...ec, TENANT])).code).toBe(0);
  });

  /** Runs `args` and proves the CA directory is byte-for-byte unchanged. */
  async function unchanged(args: string[], env?: Record<string, string>) {
    const before = await snapshot(dir);
    const r = await runCli(args, { env });
    expect(await snapshot(dir)).toEqual(before);
    return r;
  }

  it.each([
    ['uppercase UUID', 'BF935F05-BF2E-4138-BFEC-F4BAAF99FECC', /use 'bf935f05-bf2e-4138-bfec-f4baaf99fecc'/],
    ['not a UUID', 'tenant-1', /not a UUID/],
    ['path traversal', '../../etc', /contains '\/'|contains '\.\.'/],
    ['a slash', 'a/b', /contains '\/'/],
    ['a backslash', 'a\\b', /contains '\/' or '\\'/],
    ['a dot file', '.ssh', /starts with '\.'/],
    ['a control character', 'bf935f05-bf2e-4138-bfec-f4baaf99fec\n', /control character/],
    ['too long', 'a'.repeat(65), /longer than 64/],
    ['empty', '', /empty/],
  ])('rejects a tenant id that is %s', async (_what, id, message) => {
    const r = await unchanged(['issue', 'client', '--dir', dir, ...ec, '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c', id]);
    expectInputError(r, message);
  });

  it('reports every bad tenant id of a batch and issues none', async () => {
    const r = await unchanged(['issue', 'client', '--dir', dir, ...ec, 'x', '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c', '../y']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'error: 2 bad tenant ids; nothing was issued',
      "  argument 1: invalid tenant id 'x': it is not a UUID (8-4-4-4-12 lowercase hex)",
      "  argument 3: invalid tenant id '../y': it contains '/' or '\\'",
    ]);
  });

  it('refuses to replace an existing tenant pair without --force, and replaces it with --force', async () => {
    expectInputError(await unchanged(['issue', 'client', '--dir', dir, ...ec, TENANT]), /client\.key, .*client\.crt already exist; nothing was written/);
    const before = await readFile(join(dir, 'clients', TENANT, 'client.crt'), 'utf8');
    const forced = await runCli(['issue', 'client', '--dir', dir, ...ec, '--force', TENANT]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(join(dir, 'clients', TENANT, 'client.crt'), 'utf8')).not.toBe(before);
    const check = await openssl(['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'clients', TENANT, 'client.crt')]);
    expect(check.code).toBe(0);
  });

  it('refuses to replace an existing CA', async () => {
    expectInputError(await unchanged(['init', '--dir', dir, ...ec]), /ca\.crt already exists; pkictl never replaces a CA/);
  });

  it.each([
    ['DNS:-bad-.example', /invalid SAN 'DNS:-bad-\.example'/],
    ['IP:300.1.1.1', /invalid SAN 'IP:300\.1\.1\.1'/],
    ['URI:https://x', /invalid SAN 'URI:https:\/\/x'/],
  ])('rejects --san %s', async (san, message) => {
    expectInputError(await unchanged(['issue', 'server', '--dir', dir, ...ec, '--san', san]), message);
  });

  it.each([
    [['--days', 'ten'], /^error: --days must be a whole number of days from 1 to 36500$/],
    [['--days', '0'], /^error: --days must be a whole number of days from 1 to 36500$/],
    [['--key', 'dsa-1024'], /argument 'dsa-1024' is invalid/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('rejects bad flags %j', async (flags, message) => {
    expectInputError(await unchanged(['issue', 'client', '--dir', dir, ...flags, '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c']), message);
  });

  it.each(['list', 'rotate', 'audit', 'verify'])('rejects an --at that is not a real day, for %s', async (command) => {
    const extra = command === 'verify' ? ['--all'] : command === 'rotate' ? ['--dry-run'] : [];
    expectInputError(await unchanged([command, '--dir', dir, ...extra, '--at', '2027-02-30T00:00:00Z']), /invalid value for --at: not a real date/);
  });

  it('rejects a --subject with an unknown attribute', async () => {
    const r = await runCli(['init', '--dir', join(base, 'subject-ca'), ...ec, '--subject', '/C=MX/XX=1/CN=a']);
    expectInputError(r, /invalid subject .*'XX=1' is not one of C, ST, L, O, OU, CN=value/);
  });

  it('names the template file and the field that is wrong', async () => {
    const template = join(base, 'bad-client.json');
    await writeFile(template, JSON.stringify({ profile: 'client', subject: { O: 'Luzzi' }, days: 'ninety', key: 'rsa-2048' }));
    expectInputError(await unchanged(['issue', 'client', '--dir', dir, '--template', template, '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c']),
      new RegExp(`template ${template}: field days: .*number`));
    await writeFile(template, '{ "profile": "client", ');
    expectInputError(await unchanged(['issue', 'client', '--dir', dir, '--template', template, TENANT]), /template .*: not valid JSON/);
    await writeFile(template, JSON.stringify({ profile: 'client', subject: { CN: 'x' }, days: 90, key: 'rsa-2048' }));
    expectInputError(await unchanged(['issue', 'client', '--dir', dir, '--template', template, TENANT]), /field subject: a client template cannot set CN/);
  });

  describe("a tree whose client profile widens tenantIdPattern", () => {
    let wide: string;
    let wideDir: string;
    /** Runs `args` and proves the wide tree is byte-for-byte unchanged. */
    async function wideUnchanged(args: string[]) {
      const before = await snapshot(wideDir);
      const r = await runCli(args);
      expect(await snapshot(wideDir)).toEqual(before);
      return r;
    }
    beforeAll(async () => {
      // A pattern that matches anything: only the hard rules (one visible path segment, a valid CN) stand.
      wide = join(base, 'any-tenant.json');
      await writeFile(wide, JSON.stringify({ profile: 'client', subject: { O: 'Luzzi' }, days: 30, key: 'ec-p256', tenantIdPattern: '^[\\s\\S]*$' }));
      wideDir = join(base, 'wide-certs');
      const r = await runCli(['init', '--dir', wideDir, ...ec, '--template', wide]);
      expect(r.code, r.stderr).toBe(0);
    });

    it.each([
      ['a parent directory', '../x', /invalid tenant id '\.\.\/x': it contains '\/' or '\\'/],
      ['a slash', 'a/b', /invalid tenant id 'a\/b': it contains '\/' or '\\'/],
      ['a dot file', '.hidden', /invalid tenant id '\.hidden': it starts with '\.'/],
      ['too long', 'a'.repeat(65), /longer than 64 characters/],
    ])('still refuses %s', async (_what, id, message) => {
      expectInputError(await wideUnchanged(['issue', 'client', '--dir', wideDir, id]), message);
    });

    it('still refuses a NUL byte (only possible through --from)', async () => {
      const from = join(base, 'nul-tenant.txt');
      await writeFile(from, 'ab\0cd\n');
      expectInputError(await wideUnchanged(['issue', 'client', '--dir', wideDir, '--from', from]), /nul-tenant\.txt:1: invalid tenant id 'ab\\u0000cd': it contains a control character/);
    });

    it('accepts an id the default refuses, in that tree only', async () => {
      const r = await runCli(['issue', 'client', '--dir', wideDir, 'tenant-1']);
      expect(r.code, r.stderr).toBe(0);
      const subject = await openssl(['x509', '-in', join(wideDir, 'clients', 'tenant-1', 'client.crt'), '-noout', '-subject']);
      expect(subject.stdout.trim()).toBe('subject=O = Luzzi, CN = tenant-1');
      expectInputError(await unchanged(['issue', 'client', '--dir', dir, 'tenant-1']), /invalid tenant id 'tenant-1': it is not a UUID/);
    });

    it('refuses the wide template on a tree that does not record it, naming the command that does', async () => {
      const r = await unchanged(['issue', 'client', '--dir', dir, '--template', wide, 'tenant-2']);
      expectInputError(r, /template .*any-tenant\.json: its tenantIdPattern differs from the tree's \(lowercase UUIDs\)/);
      expect(r.stderr).toMatch(/hint: record it in the tree first: pkictl config set --template .*any-tenant\.json/);
    });
  });

  it('says where the CA is missing', async () => {
    const empty = join(base, 'empty');
    await mkdir(empty);
    const r = await runCli(['issue', 'server', '--dir', empty, ...ec]);
    expectInputError(r, /no CA in .*empty \(.*ca\.crt not found\)/);
    expect(r.stderr).toMatch(/hint: create one with: pkictl init/);
  });

  it('rejects a malformed ca.crt and a ca.key that is not the CA key, writing nothing', async () => {
    const broken = join(base, 'broken');
    expect((await runCli(['init', '--dir', broken, ...ec])).code).toBe(0);
    const other = join(base, 'other');
    expect((await runCli(['init', '--dir', other, ...ec])).code).toBe(0);
    const caKey = await readFile(join(broken, 'ca.key'));
    await chmod(join(broken, 'ca.key'), 0o600);
    await writeFile(join(broken, 'ca.key'), await readFile(join(other, 'ca.key')));
    let before = await snapshot(broken);
    expectInputError(await runCli(['issue', 'client', '--dir', broken, ...ec, TENANT]), /ca\.key is not the key of .*ca\.crt/);
    expect(await snapshot(broken)).toEqual(before);
    await writeFile(join(broken, 'ca.key'), caKey);
    await writeFile(join(broken, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    before = await snapshot(broken);
    expectInputError(await runCli(['issue', 'client', '--dir', broken, ...ec, TENANT]), /ca\.crt: certificate 1 is not valid DER inside its PEM block/);
    expect(await snapshot(broken)).toEqual(before);
  });
});

describe('an encrypted CA key', () => {
  let dir: string;
  let passFile: string;
  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    passFile = join(base, 'pass.txt');
    await writeFile(passFile, 'correct horse battery staple\n');
    const r = await runCli(['init', '--dir', dir, ...ec, '--passphrase-file', passFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/unencrypted/);
  });

  it('is written as encrypted PKCS#8 that openssl opens with the passphrase only', async () => {
    const pem = await readFile(join(dir, 'ca.key'), 'utf8');
    expect(pem.split('\n')[0]).toBe(`-----BEGIN ENCRYPTED ${PKCS8_LABEL}-----`);
    expect((await openssl(['pkey', '-in', join(dir, 'ca.key'), '-passin', `file:${passFile}`, '-noout'])).code).toBe(0);
    const wrong = await openssl(['pkey', '-in', join(dir, 'ca.key'), '-passin', 'pass:wrong', '-noout']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/bad decrypt/);
  });

  it('signs with the passphrase from the file or from PKICTL_CA_PASSPHRASE', async () => {
    const viaFile = await runCli(['issue', 'client', '--dir', dir, ...ec, '--passphrase-file', passFile, TENANT]);
    expect(viaFile.code, viaFile.stderr).toBe(0);
    const viaEnv = await runCli(['issue', 'server', '--dir', dir, ...ec], { env: { PKICTL_CA_PASSPHRASE: 'correct horse battery staple' } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
  });

  it('refuses to sign without the passphrase or with a wrong one, writing nothing', async () => {
    const before = await snapshot(dir);
    const none = await runCli(['issue', 'client', '--dir', dir, ...ec, '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c']);
    expectInputError(none, /ca\.key: the key is encrypted and no passphrase was given/);
    const wrong = await runCli(['issue', 'client', '--dir', dir, ...ec, '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c'], { env: { PKICTL_CA_PASSPHRASE: 'wrong' } });
    expectInputError(wrong, /ca\.key: wrong passphrase/);
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('the @peculiar/webcrypto provider', () => {
  it('issues a CA and a client certificate that openssl verifies', async () => {
    const dir = join(await tempDir(), 'certs');
    const env = { PKICTL_CRYPTO_PROVIDER: 'peculiar' };
    expect((await runCli(['init', '--dir', dir, ...ec], { env })).code).toBe(0);
    const r = await runCli(['issue', 'client', '--dir', dir, ...ec, TENANT], { env });
    expect(r.code, r.stderr).toBe(0);
    const check = await openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.crt'), join(dir, 'clients', TENANT, 'client.crt')]);
    expect(check.stdout).toMatch(/: OK\n$/);
  });
});
