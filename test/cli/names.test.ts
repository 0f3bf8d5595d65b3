// Patterns and names (issue 12, item 10): what a template or a flag may put into a tenant id, a subject or
// a SAN list, refused at the boundary with one line (exit 2) that shows the value escaped.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];

describe('names at the boundary', () => {
  let base: string;
  let dir: string;
  const template = async (name: string, body: object) => {
    const path = join(base, name);
    await writeFile(path, JSON.stringify(body));
    return path;
  };
  const client = (extra: object) => template(`client-${Object.keys(extra).join('-')}-${Math.random()}.json`, { profile: 'client', subject: { O: 'Luzzi' }, days: 30, key: 'ec-p256', ...extra });

  /** Runs `args` and proves the CA directory (`tree`, default the shared one) is byte-for-byte unchanged. */
  async function unchanged(args: string[], tree = dir) {
    const before = await snapshot(tree);
    const r = await runCli(args);
    expect(await snapshot(tree)).toEqual(before);
    return r;
  }

  /** A new tree whose client profile is `templatePath` (recorded by init). */
  async function treeWith(name: string, templatePath: string) {
    const tree = join(base, name);
    const r = await runCli(['init', '--dir', tree, ...ec, '--template', templatePath]);
    expect(r.code, r.stderr).toBe(0);
    return tree;
  }

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    const r = await runCli(['init', '--dir', dir, ...ec]);
    expect(r.code, r.stderr).toBe(0);
  });

  describe('a tenant id under a client profile pattern that admits anything', () => {
    let wideDir: string;
    beforeAll(async () => {
      wideDir = await treeWith('wide-certs', await client({ tenantIdPattern: '^[\\s\\S]*$' }));
    });

    it.each([
      ['a C1 control (NEL)', 'acme\u0085prod', /invalid tenant id 'acme\\u0085prod': it contains a control character \(U\+0085\)/],
      ['a line separator', 'acme\u2028prod', /invalid tenant id 'acme\\u2028prod': it contains a line or paragraph separator \(U\+2028\)/],
      ['a right-to-left override', 'acme\u202eprod', /invalid tenant id 'acme\\u202eprod': it contains an invisible formatting character \(U\+202E\)/],
      ['a leading space', ' acme', /invalid tenant id ' acme': it starts with a space/],
      ['a trailing space', 'acme ', /invalid tenant id 'acme ': it ends with a space/],
    ])('is refused when it holds %s, escaped on one line', async (_what, id, message) => {
      const r = await unchanged(['issue', 'client', '--dir', wideDir, id], wideDir);
      expectInputError(r, message);
      expect(r.stderr).not.toMatch(/[\u0085\u2028\u202e]/);
    });
  });

  describe('a pathological pattern, ^(a+)+$', () => {
    let evilDir: string;
    beforeAll(async () => {
      evilDir = await treeWith('evil-certs', await client({ tenantIdPattern: '^(a+)+$' }));
    });

    it("checks 1,000 ids such as 'a' x 30 + '!' and refuses them all", async () => {
      const ids = join(base, 'evil-ids.txt');
      await writeFile(ids, Array.from({ length: 1000 }, (_, i) => `${'a'.repeat(20 + (i % 43))}!\n`).join(''));
      const r = await unchanged(['issue', 'client', '--dir', evilDir, '--from', ids], evilDir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error: 1000 bad tenant ids; nothing was issued\n/);
      expect(r.stderr).toMatch(/evil-ids\.txt:1: invalid tenant id 'a{20}!': it does not match the client profile's pattern \^\(a\+\)\+\$/);
    });

    it('lets rotate walk a clients/ tree with such names, refusing each (exit 1)', async () => {
      const issued = await runCli(['issue', 'client', '--dir', evilDir, 'a'.repeat(30)]);
      expect(issued.code, issued.stderr).toBe(0);
      for (let n = 25; n < 35; n++) await mkdir(join(evilDir, 'clients', `${'a'.repeat(n)}!`));
      const r = await runCli(['rotate', '--dir', evilDir, '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(1);
      const plan = JSON.parse(r.stdout).rotation.plan as { tenantId?: string; action: string; why: string }[];
      const planted = plan.filter((i) => i.tenantId?.endsWith('!'));
      expect(planted).toHaveLength(10);
      for (const item of planted) expect(item).toMatchObject({ action: 'refused', why: expect.stringMatching(/does not match the client profile's pattern/) });
      expect(plan.find((i) => i.tenantId === 'a'.repeat(30))).toMatchObject({ action: 'skip' });
    });
  });

  it('rotate --tenant shows an unknown id escaped', async () => {
    const r = await unchanged(['rotate', '--dir', dir, '--dry-run', '--tenant', 'acme\u202e\u001b[2J']);
    expectInputError(r, /no tenant directory for 'acme\\u202e\\u001b\[2J' in /);
  });

  it('refuses at load a pattern that needs backtracking, naming the file and the field', async () => {
    const lookahead = await client({ tenantIdPattern: '^(?=a)(a+)+$' });
    expectInputError(await unchanged(['issue', 'client', '--dir', dir, '--template', lookahead, 'aaa']),
      /template .*: field tenantIdPattern: not a pattern pkictl can run \(RE2 syntax: no lookaround or backreferences\): .*`\(\?=`/);
  });

  describe('subjects', () => {
    it.each([
      ['C=ÉÉ', 'C=ÉÉ, O=Luzzi, CN=Root', /invalid subject 'C=ÉÉ, O=Luzzi, CN=Root': C 'ÉÉ': a country is two letters A-Z/],
      ['a 65-character O', `/O=${'o'.repeat(65)}/CN=Root`, /O 'o{65}': it is 65 characters long, the limit is 64 \(RFC 5280\)/],
      ['an escape sequence in CN', '/O=Luzzi/CN=Root\u001b[2J', /CN 'Root\\u001b\[2J': it contains a control character \(U\+001B\)/],
    ])('init --subject refuses %s', async (_what, subject, message) => {
      const ca = join(base, `ca-${Math.random()}`);
      const r = await runCli(['init', '--dir', ca, ...ec, '--subject', subject]);
      expectInputError(r, message);
      expect(r.stderr).not.toMatch(/\u001b/);
    });

    it('a template refuses C=ÉÉ, naming the file and the field', async () => {
      const root = await template('root-bad-country.json', { profile: 'root', subject: { C: 'ÉÉ', CN: 'Root' }, days: 30, key: 'ec-p256' });
      expectInputError(await runCli(['init', '--dir', join(base, 'ca-template'), '--template', root]),
        /template .*root-bad-country\.json: field subject\.C: C 'ÉÉ': a country is two letters A-Z, its ISO 3166 code/);
    });

    it('issue server --cn refuses a bidi override', async () => {
      expectInputError(await unchanged(['issue', 'server', '--dir', dir, ...ec, '--force', '--cn', 'gw\u202eexample']),
        /invalid value for --cn: CN 'gw\\u202eexample': it contains an invisible formatting character \(U\+202E\)/);
    });
  });

  // --force everywhere: each refusal must come from the names, not from an existing server.crt.
  describe('SAN lists', () => {
    it('issue server refuses 10,000 --san flags', async () => {
      const sans = Array.from({ length: 10_000 }, (_, i) => ['--san', `DNS:h${i}.example.com`]).flat();
      expectInputError(await unchanged(['issue', 'server', '--dir', dir, ...ec, '--force', ...sans]), /too many SANs: 10000, a certificate holds at most 100/);
    });

    it('issue server refuses a duplicate --san, DNS names compared without case', async () => {
      expectInputError(await unchanged(['issue', 'server', '--dir', dir, ...ec, '--force', '--san', 'DNS:gw.example.com', '--san', 'IP:10.0.0.1', '--san', 'DNS:GW.Example.com']),
        /duplicate SAN 'DNS:GW\.Example\.com' \(the same as 'DNS:gw\.example\.com'\): give each name once/);
    });

    it('a server template refuses a duplicate SAN, naming the field', async () => {
      const server = await template('server-dup.json', { profile: 'server', subject: { CN: 'gw' }, sans: ['IP:::1', 'DNS:gw', 'IP:0:0:0:0:0:0:0:1'], days: 30, key: 'ec-p256' });
      expectInputError(await unchanged(['issue', 'server', '--dir', dir, '--force', '--template', server]),
        /template .*server-dup\.json: field sans: duplicate SAN 'IP:0:0:0:0:0:0:0:1' \(the same as 'IP:::1'\)/);
    });

    it('the shipped server template still issues', async () => {
      const r = await runCli(['issue', 'server', '--dir', dir, ...ec, '--force', '--json']);
      expect(r.code, r.stderr).toBe(0);
    });
  });
});

describe('a planted directory name with hidden characters', () => {
  it('reaches list and audit escaped, never raw (no bidi reordering, no extra lines)', async () => {
    const dir = join(await tempDir(), 'certs');
    expect((await runCli(['init', '--dir', dir, '--key', 'ec-p256'])).code).toBe(0);
    await mkdir(join(dir, 'clients', 'evil\u202egnp.exe\u0085x'), { recursive: true });
    for (const args of [['list'], ['audit']]) {
      const r = await runCli([...args, '--dir', dir]);
      const out = r.stdout + r.stderr;
      expect(out, args[0]).toContain('evil\\u202egnp.exe\\x85x');
      expect(out).not.toMatch(/[\u202e\u0085]/);
    }
  });
});
