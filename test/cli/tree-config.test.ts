// The tree remembers its profiles (issue 13, items 3 and 13): certs/pkictl.json, written by init and
// changed only by `pkictl config set`; one --template flag everywhere; --actor on every writer;
// PKICTL_DIR as the default --dir.
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const TENANT = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const shipped = async (role: string) => JSON.parse(await readFile(new URL(`../../templates/${role}.json`, import.meta.url), 'utf8'));
const auditLines = async (dir: string) => (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('a tree remembers the profiles it was made with', () => {
  let base: string;
  let wideTemplate: string;
  const write = async (name: string, body: unknown) => {
    const path = join(base, name);
    await writeFile(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };
  const clientProfile = (extra: object = {}) => ({ profile: 'client', subject: { O: 'Luzzi' }, days: 30, key: 'ec-p256', ...extra });

  beforeAll(async () => {
    base = await tempDir();
    wideTemplate = await write('client-wide.json', clientProfile({ tenantIdPattern: '^tenant-[0-9]+$' }));
  });

  it('init records the shipped templates, with --template files in place of their roles', async () => {
    const plain = join(base, 'plain');
    expect((await runCli(['init', '--dir', plain, ...ec])).code).toBe(0);
    const config = JSON.parse(await readFile(join(plain, 'pkictl.json'), 'utf8'));
    expect(config).toEqual({ schemaVersion: 1, profiles: { root: await shipped('root'), server: await shipped('server'), client: await shipped('client') } });

    const wide = join(base, 'wide-init');
    expect((await runCli(['init', '--dir', wide, ...ec, '--template', wideTemplate])).code).toBe(0);
    const recorded = JSON.parse(await readFile(join(wide, 'pkictl.json'), 'utf8'));
    expect(recorded.profiles.client).toEqual(clientProfile({ tenantIdPattern: '^tenant-[0-9]+$' }));
    expect(recorded.profiles.root).toEqual(await shipped('root'));
  });

  describe('a tenant id that only the tree\'s client profile accepts', () => {
    let dir: string;
    beforeAll(async () => {
      dir = join(base, 'wide');
      expect((await runCli(['init', '--dir', dir, ...ec, '--template', wideTemplate])).code).toBe(0);
      const issued = await runCli(['issue', 'client', '--dir', dir, 'tenant-7']);
      expect(issued.code, issued.stderr).toBe(0);
    });

    it('is rotated by a plain `pkictl rotate`, with the profile\'s lifetime', async () => {
      const r = await runCli(['rotate', '--dir', dir, '--all', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const rotation = JSON.parse(r.stdout).rotation;
      expect(rotation.rotated.map((x: { tenantId: string }) => x.tenantId)).toEqual(['tenant-7']);
      const days = (Date.parse(rotation.rotated[0].notAfter) - Date.now()) / 86_400_000;
      expect(Math.round(days)).toBe(30);
    });

    it('is valid for audit and revocable by --tenant, without a template', async () => {
      const audit = await runCli(['audit', '--dir', dir, '--json']);
      expect(JSON.stringify(JSON.parse(audit.stdout))).not.toMatch(/TENANT_ID_INVALID|not a tenant/);
      const revoked = await runCli(['revoke', '--dir', dir, '--tenant', 'tenant-7', '--reason', 'cessationOfOperation']);
      expect(revoked.code, revoked.stderr).toBe(0);
    });

    it('refuses a --template that changes the tenant id rule, and any template of the wrong role', async () => {
      const narrow = await write('client-uuid-only.json', clientProfile({ tenantIdPattern: '^[0-9a-f-]{36}$' }));
      const before = await snapshot(dir);
      const r = await runCli(['issue', 'client', '--dir', dir, '--template', narrow, TENANT]);
      expectInputError(r, /client-uuid-only\.json: its tenantIdPattern differs from the tree's \(the pattern \^tenant-\[0-9\]\+\$\)/);
      expect(r.stderr).toMatch(/hint: record it in the tree first: pkictl config set --template /);
      const wrongRole = await runCli(['rotate', '--dir', dir, '--dry-run', '--template', join(base, 'client-wide.json'), '--template', join(base, 'client-wide.json')]);
      expectInputError(wrongRole, /a second 'client' template; give one per role/);
      expect(await snapshot(dir)).toEqual(before);
    });
  });

  it('rotate takes --template (a client or server profile) and no longer --client-template', async () => {
    const dir = join(base, 'rotate-template');
    expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'client', '--dir', dir, ...ec, TENANT])).code).toBe(0);
    const short = await write('client-10d.json', clientProfile({ days: 10 }));
    const r = await runCli(['rotate', '--dir', dir, '--all', '--json', '--template', short]);
    expect(r.code, r.stderr).toBe(0);
    expect(Math.round((Date.parse(JSON.parse(r.stdout).rotation.rotated[0].notAfter) - Date.now()) / 86_400_000)).toBe(10);
    expectInputError(await runCli(['rotate', '--dir', dir, '--client-template', short]), /unknown option '--client-template'/);
    const root = await write('root.json', { profile: 'root', subject: { CN: 'R' }, days: 30, key: 'ec-p256' });
    expectInputError(await runCli(['rotate', '--dir', dir, '--template', root]), /root\.json: field profile: is 'root', this command takes 'client' or 'server' profiles/);
  });

  describe('pkictl config', () => {
    let dir: string;
    beforeAll(async () => {
      dir = join(base, 'configured');
      expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    });

    it('show prints the profiles; set records a new one with an audit line, and every command follows it', async () => {
      const shown = await runCli(['config', 'show', '--dir', dir]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/^client +C=MX, ST=CDMX, O=Luzzi · 90 days · rsa-2048 · tenant ids: lowercase UUIDs$/m);

      const set = await runCli(['config', 'set', '--dir', dir, '--template', wideTemplate, '--actor', 'alice', '--json']);
      expect(set.code, set.stderr).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({ recorded: true, replaced: ['client'], profiles: { client: { tenantIdPattern: '^tenant-[0-9]+$' } } });
      const line = (await auditLines(dir)).at(-1)!;
      expect(line).toMatchObject({ action: 'config', result: 'ok', actor: 'alice', detail: { roles: 'client' } });
      expect((await runCli(['audit-log', 'verify', '--dir', dir])).code).toBe(0);

      const issued = await runCli(['issue', 'client', '--dir', dir, 'tenant-1']);
      expect(issued.code, issued.stderr).toBe(0);
      expect((await runCli(['config', 'show', '--dir', dir, '--json'])).stdout).toContain('^tenant-[0-9]+$');
    });

    it('set refuses a client profile that would strand tenants, unless --force', async () => {
      const uuidOnly = await write('client-default.json', clientProfile());
      const before = await snapshot(dir);
      const r = await runCli(['config', 'set', '--dir', dir, '--template', uuidOnly]);
      expectInputError(r, /the new client profile does not recognise 1 tenant in .*clients \('tenant-1'\); nothing was changed/);
      expect(await snapshot(dir)).toEqual(before);
      const forced = await runCli(['config', 'set', '--dir', dir, '--template', uuidOnly, '--force']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toMatch(/1 tenant directory no longer matches the client profile/);
      // rotate now cannot handle tenant-1, and says so with a non-zero exit.
      const rotate = await runCli(['rotate', '--dir', dir, '--dry-run']);
      expect(rotate.code).toBe(1);
      expect(rotate.stderr).toMatch(/tenant-1: not a tenant id by the tree's client profile/);
    });

    it('set without --template, and commands on a tree without a CA, exit 2', async () => {
      expectInputError(await runCli(['config', 'set', '--dir', dir]), /give the profiles to record with --template FILE/);
      expectInputError(await runCli(['config', 'show', '--dir', join(base, 'nothing-here')]), /no CA in .*nothing-here/);
      expectInputError(await runCli(['config', 'set', '--dir', join(base, 'nothing-here'), '--template', wideTemplate]), /no CA in .*nothing-here/);
    });
  });

  describe('a damaged pkictl.json is one line naming the file and the field (exit 2)', () => {
    let dir: string;
    beforeAll(async () => {
      dir = join(base, 'damaged');
      expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    });
    it.each([
      ['not JSON', '{"schemaVersion": 1,', /pkictl\.json: not valid JSON/],
      ['a newer version', JSON.stringify({ schemaVersion: 2, profiles: {} }), /pkictl\.json: field schemaVersion: /],
      ['a bad client field', JSON.stringify({ schemaVersion: 1, profiles: { root: { profile: 'root', subject: { CN: 'R' }, days: 1, key: 'ec-p256' }, server: { profile: 'server', subject: { CN: 'g' }, sans: ['DNS:g'], days: 1, key: 'ec-p256' }, client: { profile: 'client', subject: {}, days: 0, key: 'ec-p256' } } }), /pkictl\.json profiles\.client: field days: /],
      ['a profile in the wrong role', JSON.stringify({ schemaVersion: 1, profiles: { root: { profile: 'root', subject: { CN: 'R' }, days: 1, key: 'ec-p256' }, server: { profile: 'root', subject: { CN: 'g' }, days: 1, key: 'ec-p256' }, client: { profile: 'client', subject: {}, days: 1, key: 'ec-p256' } } }), /pkictl\.json profiles\.server: field profile: is 'root', this needs a 'server' profile/],
    ])('%s', async (_what, text, message) => {
      await writeFile(join(dir, 'pkictl.json'), text);
      expectInputError(await runCli(['issue', 'client', '--dir', dir, TENANT]), message);
    });
    it('a link planted in its place is not followed', async () => {
      await rm(join(dir, 'pkictl.json'));
      await symlink(join(base, 'client-wide.json'), join(dir, 'pkictl.json'));
      const r = await runCli(['rotate', '--dir', dir, '--dry-run']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/pkictl\.json is a link to .*client-wide\.json, where pkictl does not write/);
    });
  });

  it('a tree made before pkictl.json issues with the shipped templates until config set records them', async () => {
    const dir = join(base, 'old-tree');
    expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    await rm(join(dir, 'pkictl.json'));
    const shown = await runCli(['config', 'show', '--dir', dir]);
    expect(shown.stdout).toMatch(/pkictl\.json is absent: the shipped templates apply/);
    expect((await runCli(['issue', 'client', '--dir', dir, ...ec, TENANT])).code).toBe(0);
    expect((await runCli(['config', 'set', '--dir', dir, '--template', wideTemplate, '--force'])).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'pkictl.json'), 'utf8')).profiles.server).toEqual(await shipped('server'));
  });
});

describe('--actor on every writer, PKICTL_DIR as the default --dir', () => {
  it('init, issue server, issue client, rotate, revoke and crl record the given actor', async () => {
    const base = await tempDir();
    const dir = join(base, 'certs');
    const steps = [
      ['init', ...ec],
      ['issue', 'server', ...ec],
      ['issue', 'client', ...ec, TENANT],
      ['rotate', '--all'],
      ['revoke', '--tenant', TENANT],
      ['crl'],
    ];
    for (const [i, step] of steps.entries()) {
      const r = await runCli([...step, '--dir', dir, '--actor', `op-${i}`]);
      expect(r.code, `${step.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const actors = new Set((await auditLines(dir)).map((l) => l.actor));
    expect([...actors].sort()).toEqual(steps.map((_, i) => `op-${i}`));
  });

  it('PKICTL_DIR names the tree when --dir is absent; --dir still wins', async () => {
    const base = await tempDir();
    const dir = join(base, 'elsewhere');
    expect((await runCli(['init', ...ec], { cwd: base, env: { PKICTL_DIR: dir } })).code).toBe(0);
    const list = await runCli(['list', '--json'], { cwd: base, env: { PKICTL_DIR: dir } });
    expect(list.code, list.stderr).toBe(0);
    await mkdir(join(base, 'other'));
    const explicit = await runCli(['list', '--dir', join(base, 'other')], { env: { PKICTL_DIR: dir } });
    expect(explicit.code).toBe(2);
  });
});
