import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { clientPaths, cli, EC, serialOf, uuids } from '../store/fixture.js';

/** Issue 12, items 7 and 8: the CA's passphrase stays out of hooks; an exposed ca.key is named. */

const PASSPHRASE = 'correct horse battery staple 12';
const withPassphrase = { PKICTL_CA_PASSPHRASE: PASSPHRASE };

describe('rotate --exec hooks', () => {
  it('get the documented PKICTL_* variables and pkictl\'s environment, never PKICTL_CA_PASSPHRASE', async () => {
    const base = await tempDir('pkictl-hook-env-');
    const dir = join(base, 'certs');
    const [id] = uuids(1) as [string];
    for (const args of [['init'], ['issue', 'client', id]]) {
      const r = await cli([...args, '--dir', dir, ...EC], withPassphrase);
      expect(r.code, r.stderr).toBe(0);
    }
    const oldSerial = await serialOf(clientPaths(dir, id).cert);
    const dump = join(base, 'hook.env');
    const r = await cli(['rotate', '--dir', dir, '--all', '--exec', `env > ${dump}`, '--json'], { ...withPassphrase, HOOK_SEES_THIS: 'yes' });
    expect(r.code, r.stderr).toBe(0);
    const env = await readFile(dump, 'utf8');
    expect(env).not.toContain(PASSPHRASE);
    expect(env).not.toMatch(/^PKICTL_CA_PASSPHRASE=/m);
    const rotated = JSON.parse(r.stdout).rotation.rotated[0];
    const vars = Object.fromEntries(env.split('\n').filter((l) => l.startsWith('PKICTL_')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars).not.toHaveProperty('PKICTL_CA_PASSPHRASE');
    expect(vars).toMatchObject({
      PKICTL_KIND: 'client',
      PKICTL_TENANT_ID: id,
      PKICTL_CERT: clientPaths(dir, id).cert,
      PKICTL_KEY: clientPaths(dir, id).key,
      PKICTL_SERIAL: rotated.serial,
      PKICTL_OLD_SERIAL: oldSerial,
      PKICTL_NOT_AFTER: rotated.notAfter,
      PKICTL_DIR: dir,
    });
    expect(env).toMatch(/^HOOK_SEES_THIS=yes$/m); // the rest of the environment is passed on
  });

  it('are documented in rotate --help', async () => {
    const r = await cli(['rotate', '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/PKICTL_DIR added to pkictl's environment, from which PKICTL_CA_PASSPHRASE is removed/);
  });
});

describe('a ca.key open to group or others', () => {
  let dir: string;
  beforeAll(async () => {
    dir = join(await tempDir('pkictl-ca-mode-'), 'certs');
    const r = await cli(['init', '--dir', dir, ...EC]);
    expect(r.code, r.stderr).toBe(0);
  });

  const warnings = (stderr: string) => stderr.split('\n').filter((l) => /readable or writable by group or others/.test(l));

  it('is used silently at 0600 in a 0700 directory', async () => {
    const r = await cli(['issue', 'client', '--dir', dir, ...EC, ...uuids(1)]);
    expect(r.code, r.stderr).toBe(0);
    expect(warnings(r.stderr)).toEqual([]);
  });

  it('gets one warning line from every command that loads the key (0644 key, 0755 directory)', async () => {
    await chmod(join(dir, 'ca.key'), 0o644);
    await chmod(dir, 0o755);
    try {
      const ids = uuids(3);
      const runs = [
        ['issue', 'client', '--dir', dir, ...EC, ...ids],
        ['issue', 'server', '--dir', dir, ...EC],
        ['rotate', '--dir', dir, '--all', '--include-server'],
        ['revoke', '--dir', dir, '--tenant', ids[0]!],
        ['crl', '--dir', dir],
      ];
      for (const args of runs) {
        const r = await cli(args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        expect(warnings(r.stderr), args.join(' ')).toEqual([
          expect.stringMatching(/^warning: \S+ca\.key \(mode 0644\) and its directory \S+ \(mode 0755\) are readable or writable by group or others: chmod go-rwx \S+ca\.key \S+$/),
        ]);
      }
    } finally {
      await chmod(join(dir, 'ca.key'), 0o600);
      await chmod(dir, 0o700);
    }
  });

  it('is refused with --strict: exit 1, one line, nothing written', async () => {
    await chmod(join(dir, 'ca.key'), 0o640);
    try {
      const before = await readFile(join(dir, 'index.jsonl'), 'utf8');
      for (const args of [['issue', 'client', '--dir', dir, ...EC, ...uuids(1)], ['crl', '--dir', dir], ['rotate', '--dir', dir, '--all']]) {
        const r = await cli([...args, '--strict']);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: \S+ca\.key \(mode 0640\) is readable or writable by group or others; refusing to use the CA key \(--strict\): chmod go-rwx \S+ca\.key$/)]);
      }
      expect(await readFile(join(dir, 'index.jsonl'), 'utf8')).toBe(before);
    } finally {
      await chmod(join(dir, 'ca.key'), 0o600);
    }
    const r = await cli(['crl', '--dir', dir, '--strict']);
    expect(r.code, r.stderr).toBe(0);
  });
});
