import { appendFile, cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { openssl } from '../helpers/openssl.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, EC, initCa, issueClients, serialOf, treeDigest, uuids } from '../store/fixture.js';

/** Issue 13, "Rough edges, each small": items 11, 12, 14 and 15, each sub-point through the CLI. */

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const names = (text: string) => [...new Set(text.match(/PKICTL_[A-Z_]+/g) ?? [])].filter((n) => n !== 'PKICTL_CA_PASSPHRASE').sort();

/** A copy of the shared tree, for a test that writes. */
async function copyOf(dir: string): Promise<string> {
  const copy = join(await tempDir('pkictl-edges-copy-'), 'certs');
  await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}

/** serial → reason as openssl reads certs/crl.pem, and its CRL number. */
async function crl(dir: string): Promise<{ number: number; reasons: Record<string, string> }> {
  const r = await openssl(['crl', '-in', join(dir, 'crl.pem'), '-noout', '-text']);
  expect(r.code, r.stderr).toBe(0);
  const reasons: Record<string, string> = {};
  for (const block of r.stdout.split(/^\s*Serial Number: /m).slice(1)) {
    reasons[block.split('\n')[0]!.trim().toLowerCase()] = /CRL Reason Code:\s*\n\s*(.+)/.exec(block)?.[1]?.trim() ?? 'unspecified';
  }
  return { number: Number(/CRL Number:\s*\n\s*(\d+)/.exec(r.stdout)![1]), reasons };
}

describe('issue 13 rough edges', () => {
  let dir: string;
  let ids: string[];
  /** Issued with 10 days: due under --renew-before 20d while the 90-day ones are not. */
  let short: string;

  beforeAll(async () => {
    dir = join(await tempDir('pkictl-edges-'), 'certs');
    await initCa(dir);
    const server = await cli(['issue', 'server', '--dir', dir, ...EC]);
    expect(server.code, server.stderr).toBe(0);
    ids = uuids(22);
    await issueClients(dir, ids, ['--days', '90']);
    short = uuids(1)[0]!;
    await issueClients(dir, [short], ['--days', '10']);
  });

  describe('11: rotate --exec', () => {
    it("the --help example single-quotes $PKICTL_TENANT_ID, and help, README and the hook's environment name the same variables", async () => {
      const help = await runCli(['rotate', '--help']);
      expect(help.code).toBe(0);
      const example = help.stdout.split('\n').find((l) => l.includes('--exec') && l.includes('$PKICTL_TENANT_ID'))!;
      expect(example).toMatch(/--exec '[^']*\$PKICTL_TENANT_ID[^']*'/);
      expect(help.stdout).not.toMatch(/"[^"\n]*\$PKICTL_/);
      const set = names([...(await readFile(repo('src/ops/rotate.ts'), 'utf8')).matchAll(/(PKICTL_[A-Z_]+):/g)].map((m) => m[1]).join(' '));
      expect(set.length).toBeGreaterThanOrEqual(8);
      const start = help.stdout.indexOf('--exec <cmd>');
      expect(names(help.stdout.slice(start, help.stdout.indexOf('\n  --', start)))).toEqual(set);
      const readme = await readFile(repo('README.md'), 'utf8');
      const paragraph = readme.slice(readme.indexOf('- `--exec CMD`'), readme.indexOf('\n- ', readme.indexOf('- `--exec CMD`') + 3));
      expect(names(paragraph)).toEqual(set);
      expect(readme).not.toMatch(/--exec "[^"\n]*\$PKICTL_/);
    });
  });

  describe('12: revoke', () => {
    it('takes a unique serial prefix of 8+ hex digits; a shorter one or an ambiguous one is exit 2, listing the candidates', async () => {
      const copy = await copyOf(dir);
      const serial = await serialOf(clientPaths(copy, ids[0]!).cert);
      const before = await treeDigest(copy);
      expectInputError(await cli(['revoke', '--dir', copy, serial.slice(0, 7)]), /at least 8 hex digits/);
      // Two certificates sharing 8 digits cannot be made on purpose: the index is given a second one.
      const twin = `${serial.slice(0, 8)}${serial.slice(8).replace(/./g, (c) => (c === '0' ? '1' : '0'))}`;
      const entry = { serial: twin, kind: 'client', tenantId: ids[1], subject: 'CN=x', notBefore: new Date().toISOString(), notAfter: new Date(Date.now() + 86_400_000).toISOString(), sha256: '0'.repeat(64), status: 'valid', issuedAt: new Date().toISOString(), path: `clients/${ids[1]}/client.crt` };
      const planted = join(await tempDir(), 'certs');
      await cp(copy, planted, { recursive: true, verbatimSymlinks: true });
      await appendFile(join(planted, 'index.jsonl'), `${JSON.stringify({ time: new Date().toISOString(), add: [entry], audit: [] })}\n`);
      const ambiguous = await cli(['revoke', '--dir', planted, serial.slice(0, 8)]);
      expectInputError(ambiguous, new RegExp(`prefix ${serial.slice(0, 8)} matches 2 certificates: .*${serial}.*${twin}|${twin}.*${serial}`));
      expect(await treeDigest(copy)).toBe(before);
      const r = await cli(['revoke', '--dir', copy, serial.slice(0, 8).toUpperCase(), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).revoked.map((e: { serial: string }) => e.serial)).toEqual([serial]);
      expect(Object.keys((await crl(copy)).reasons)).toEqual([serial]);
    });

    it('--dry-run says what would be revoked and writes nothing', async () => {
      const copy = await copyOf(dir);
      const before = await treeDigest(copy);
      const r = await cli(['revoke', '--dir', copy, '--tenant', ids[2]!, '--reason', 'cessationOfOperation', '--dry-run']);
      expect(r.code, r.stderr).toBe(0);
      const serial = await serialOf(clientPaths(copy, ids[2]!).cert);
      expect(r.stdout).toBe(`${serial}\n`);
      expect(r.stderr).toContain(`would revoke ${serial} (tenant ${ids[2]}): cessationOfOperation`);
      expect(r.stderr).toMatch(/nothing was written/);
      expect(await treeDigest(copy)).toBe(before);
    });

    it('a later keyCompromise replaces a milder reason (openssl reads it in the CRL); the same reason again changes nothing, not even the CRL number', async () => {
      const copy = await copyOf(dir);
      const serial = await serialOf(clientPaths(copy, ids[3]!).cert);
      expect((await cli(['revoke', '--dir', copy, serial, '--reason', 'superseded'])).code).toBe(0);
      const first = await crl(copy);
      expect(first.reasons[serial]).toBe('Superseded');
      const crlBefore = await readFile(join(copy, 'crl.pem'), 'utf8');
      const again = await cli(['revoke', '--dir', copy, serial, '--reason', 'superseded']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/already revoked/);
      expect(await readFile(join(copy, 'crl.pem'), 'utf8')).toBe(crlBefore);
      const raised = await cli(['revoke', '--dir', copy, serial, '--reason', 'keyCompromise']);
      expect(raised.code, raised.stderr).toBe(0);
      expect(raised.stderr).toContain(`superseded → keyCompromise`);
      const second = await crl(copy);
      expect(second.reasons).toEqual({ [serial]: 'Key Compromise' });
      expect(second.number).toBe(first.number + 1);
      const log = await cli(['audit-log', 'verify', '--dir', copy]);
      expect(log.code, log.stderr).toBe(0);
    });

    it('with no arguments says what it needs (exit 2)', async () => {
      expectInputError(await cli(['revoke', '--dir', dir]), /^error: revoke needs what to revoke: serial numbers .* or --tenant ID$/);
    });
  });

  describe('14: rotate', () => {
    it('says on stderr why it skipped each tenant it skipped, the first 20 then a count', async () => {
      const copy = await copyOf(dir);
      const r = await cli(['rotate', '--dir', copy]);
      expect(r.code, r.stderr).toBe(0);
      const skipped = r.stderr.split('\n').filter((l) => l.startsWith('  skipped '));
      expect(skipped).toHaveLength(20);
      expect(skipped[0]).toMatch(/^ {2}skipped [0-9a-f-]{36}: expires in \d+ days; renewal due from /);
      expect(r.stderr).toContain('… and 3 more (--json lists them all)');
    });

    it('--dry-run prints a header and only what is due; --verbose every pair', async () => {
      const r = await cli(['rotate', '--dir', dir, '--dry-run', '--renew-before', '20d']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('TENANT\tSERIAL\tNOT AFTER\tACTION\tWHY');
      expect(lines.slice(1).map((l) => l.split('\t').slice(0, 1).concat(l.split('\t')[3]!))).toEqual([[short, 'rotate']]);
      const verbose = await cli(['rotate', '--dir', dir, '--dry-run', '--renew-before', '20d', '--verbose']);
      expect(verbose.stdout.trim().split('\n')).toHaveLength(1 + ids.length + 1);
    });

    it('--at without --dry-run asks for --force (exit 2, nothing written)', async () => {
      const copy = await copyOf(dir);
      const before = await treeDigest(copy);
      const at = new Date(Date.now() + 89 * 86_400_000).toISOString();
      expectInputError(await cli(['rotate', '--dir', copy, '--tenant', ids[4]!, '--at', at]), /^error: --at without --dry-run rotates as if it were that time; add --force/);
      expect(await treeDigest(copy)).toBe(before);
      const forced = await cli(['rotate', '--dir', copy, '--tenant', ids[4]!, '--at', at, '--force', '--json']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(JSON.parse(forced.stdout).rotation.rotated).toHaveLength(1);
    });
  });

  describe('15: small things', () => {
    it.each([
      [['issue', 'client', '--days', '0', 'x'], '--days must be a whole number of days from 1 to 36500'],
      [['crl', '--days', '99999'], '--days must be a whole number of days from 1 to 3650'],
      [['issue', 'client', '--concurrency', '0', 'x'], '--concurrency must be a whole number from 1 to 256'],
      [['rotate', '--key', 'dsa'], '--key must be one of: rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384'],
      [['revoke', '--reason', 'lost', '0123456789'], '--reason must be one of: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn'],
      [['verify', '--purpose', 'email', 'x.crt'], "--purpose must be one of: server, client, any (or openssl's sslserver, sslclient)"],
      [['verify', '--max-depth', '-1', 'x.crt'], '--max-depth must be a whole number from 0 to 100000'],
      [['inspect', '--field', 'colour', 'x.crt'], '--field must be one of: cn, subject, issuer, serial, not-before, not-after, sans, fingerprint'],
    ])('%j: one human line, not the validation library\'s', async (args, message) => {
      const r = await cli(args[0] === 'inspect' ? args : [...args, '--dir', dir]);
      expectInputError(r, new RegExp(`^error: ${message.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}$`));
      expect(r.stderr).not.toMatch(/Too small|Too big|Invalid (option|input)|expected/);
    });

    it("verify takes openssl's purpose names sslclient and sslserver", async () => {
      const client = clientPaths(dir, ids[0]!).cert;
      const ok = await cli(['verify', '--dir', dir, '--purpose', 'sslclient', client]);
      expect(ok.code, ok.stderr).toBe(0);
      const wrong = await cli(['verify', '--dir', dir, '--purpose', 'sslserver', client]);
      expect(wrong.code, wrong.stderr).toBe(1);
      expect(wrong.stdout).toMatch(/FAILED/);
    });

    it('pkictl help issue client shows that subcommand\'s help', async () => {
      const r = await runCli(['help', 'issue', 'client']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Usage: pkictl issue client /);
      expect(r.stdout).toContain('--skip-existing');
      const unknown = await runCli(['help', 'issue', 'nope']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/unknown command 'issue nope'/);
    });

    it('durations: mo is a month, m a minute', async () => {
      const due = async (renewBefore: string) => {
        const r = await cli(['rotate', '--dir', dir, '--dry-run', '--tenant', ids[0]!, '--renew-before', renewBefore, '--json']);
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout).rotation.plan[0].action as string;
      };
      expect(await due('4mo')).toBe('rotate'); // 120 days before a 90-day certificate's end: due now
      expect(await due('4m')).toBe('skip');
      expect(await due('2mo')).toBe('skip');
      const help = await runCli(['rotate', '--help']);
      expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/3mo; m is minutes/);
    });

    it('inspect --field is repeatable (tab-separated, in the order given) and --with-filename starts each line with the file', async () => {
      const files = [clientPaths(dir, ids[0]!).cert, clientPaths(dir, ids[1]!).cert];
      const r = await cli(['inspect', '--with-filename', '--field', 'serial', '--field', 'cn', ...files]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${files[0]}\t${await serialOf(files[0]!)}\t${ids[0]}\n${files[1]}\t${await serialOf(files[1]!)}\t${ids[1]}\n`);
      const plain = await cli(['inspect', '--field', 'cn', '--field', 'sans', files[0]!]);
      expect(plain.stdout).toBe(`${ids[0]}\t\n`);
    });

    it('inspect shows the subject and authority key identifiers in its text output, as openssl reads them', async () => {
      const file = clientPaths(dir, ids[0]!).cert;
      const r = await cli(['inspect', file]);
      expect(r.code, r.stderr).toBe(0);
      const o = await openssl(['x509', '-in', file, '-noout', '-ext', 'subjectKeyIdentifier,authorityKeyIdentifier']);
      const [ski, aki] = [...o.stdout.matchAll(/^\s+(?:keyid:)?([0-9A-F:]{20,})\s*$/gm)].map((m) => m[1]!.replace(/:/g, '').toLowerCase());
      expect(r.stdout).toMatch(new RegExp(`Subject key ID: +${ski}\\n`));
      expect(r.stdout).toMatch(new RegExp(`Authority key ID: +${aki}\\n`));
    });

    it('issue server --san without --cn takes the CN from the first DNS SAN', async () => {
      const copy = await copyOf(dir);
      const r = await cli(['issue', 'server', '--dir', copy, ...EC, '--force', '--san', 'IP:10.0.0.7', '--san', 'DNS:gw.prod.example.com', '--san', 'DNS:other.example.com']);
      expect(r.code, r.stderr).toBe(0);
      const subject = await openssl(['x509', '-in', join(copy, 'server.crt'), '-noout', '-subject', '-nameopt', 'sep_multiline']);
      expect(subject.stdout).toMatch(/CN=gw\.prod\.example\.com$/m);
    });

    it('--force says which certificate it replaced and that it stays valid', async () => {
      const copy = await copyOf(dir);
      const cert = clientPaths(copy, ids[5]!).cert;
      const old = await serialOf(cert);
      const end = await openssl(['x509', '-in', cert, '-noout', '-enddate']);
      const r = await cli(['issue', 'client', '--dir', copy, ...EC, '--force', ids[5]!]);
      expect(r.code, r.stderr).toBe(0);
      const until = new Date(end.stdout.replace('notAfter=', '').trim()).toISOString().slice(0, 19);
      expect(r.stderr).toMatch(new RegExp(`Replaced \\(old serial ${old} still valid until ${until}`));
      const server = await serialOf(join(copy, 'server.crt'));
      const s = await cli(['issue', 'server', '--dir', copy, ...EC, '--force']);
      expect(s.stderr).toContain(`Replaced (old serial ${server} still valid until `);
    });

    it('verify --all ends with a summary line; --quiet prints only failures, nothing on success', async () => {
      const n = ids.length + 2;
      const all = await cli(['verify', '--all', '--dir', dir]);
      expect(all.code, all.stderr).toBe(0);
      expect(all.stderr).toBe(`${n} certificates: ${n} ok, 0 failed\n`);
      const quiet = await cli(['verify', '--all', '--quiet', '--dir', dir]);
      expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });
      const copy = await copyOf(dir);
      expect((await cli(['revoke', '--dir', copy, '--tenant', ids[6]!])).code).toBe(0);
      const failing = await cli(['verify', '--all', '--quiet', '--dir', copy]);
      expect(failing.code).toBe(1);
      expect(failing.stdout.trim().split('\n')).toHaveLength(1);
      expect(failing.stdout).toMatch(new RegExp(`${ids[6]}/client.crt: FAILED`));
      expect(failing.stderr).toBe(`${n} certificates: ${n - 1} ok, 1 failed\n`);
    });
  });
});
