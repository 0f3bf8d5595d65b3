// `pkictl verify`'s verdicts, row by row: each case with its exact exit code and failure code (or
// input-error line). Each row also runs with `--max-depth 100` added (which changes nothing for these
// one-level chains): the same invocation with one more flag must print the same bytes and exit the
// same way. (Until issue 11 the common flags took a separate, hand-checked runner; this table held it
// to the zod one. There is one runner now, and the table stays as the verdict check.)
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { make } from '../core/verify-pki.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const B = '0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11';
const GONE = '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c';

describe('pkictl verify: verdicts, and one more flag changes nothing', () => {
  let dir: string;
  let other: string;
  let expired: { ca: string; leaf: string };
  const client = (id: string) => join(dir, 'clients', id, 'client.crt');

  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    other = join(base, 'other');
    expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    expect((await runCli(['init', '--dir', other, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'server', '--dir', dir, ...ec])).code).toBe(0);
    const r = await runCli(['issue', 'client', '--dir', dir, ...ec, A, B, GONE]);
    expect(r.code, r.stderr).toBe(0);
    const revoked = await runCli(['revoke', '--dir', dir, '--tenant', GONE, '--reason', 'keyCompromise']);
    expect(revoked.code, revoked.stderr).toBe(0);
    await writeFile(join(base, 'junk.crt'), 'not a certificate\n');
    // The rows run without --at (they check at the current time): a certificate that expired in 2020.
    const root = await make({ cn: 'Old Test Root', ca: true, notBefore: new Date('2019-01-01T00:00:00Z'), notAfter: new Date('2045-01-01T00:00:00Z') });
    const leaf = await make({ cn: 'expired.example', issuer: root, notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-02-01T00:00:00Z') });
    expired = { ca: join(base, 'old-root.pem'), leaf: join(base, 'expired.pem') };
    await writeFile(expired.ca, root.cert.toString('pem'));
    await writeFile(expired.leaf, leaf.cert.toString('pem'));
  });

  /** [name, arguments, exit code, what it must say: the failure code (exit 1) or the error line (exit 2)] */
  const cases: [string, () => string[], 0 | 1 | 2, string | RegExp | null][] = [
    ['OK, many files', () => ['--dir', dir, '--purpose', 'client', client(A), client(B)], 0, null],
    ['another CA (UNKNOWN_ISSUER, names the subject)', () => ['--ca', join(other, 'ca.crt'), client(A)], 1, 'UNKNOWN_ISSUER'],
    ['wrong purpose, one good file before it', () => ['--dir', dir, '--purpose', 'server', join(dir, 'server.crt'), client(A)], 1, 'EKU_MISMATCH'],
    ['--expect-cn mismatch', () => ['--dir', dir, '--expect-cn', B, client(A)], 1, 'CN_MISMATCH'],
    ['--hostname not in the SANs', () => ['--dir', dir, '--hostname', 'nowhere.example', join(dir, 'server.crt')], 1, 'HOSTNAME_MISMATCH'],
    ['expired', () => ['--ca', expired.ca, expired.leaf], 1, 'EXPIRED'],
    ['revoked (--crl), one good file before it', () => ['--dir', dir, '--crl', join(dir, 'crl.pem'), client(A), client(GONE)], 1, 'REVOKED'],
    ['missing file: input error', () => ['--dir', dir, client(A), join(dir, 'nope.crt')], 2, /^error: .*nope\.crt: no such file$/],
    ['junk file: input error', () => ['--dir', dir, join(dir, '..', 'junk.crt')], 2, /^error: .*junk\.crt: not a certificate/],
  ];

  // From 8 files on, verify checks leaf signatures on the thread pool while it reads the next files
  // (ops/verify-files.ts): one run with a failure in the middle, file by file, output in order.
  it('many files: the signature pipeline, a failure in the middle, output in order', async () => {
    const ids = Array.from({ length: 70 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const r = await runCli(['issue', 'client', '--dir', dir, ...ec, ...ids]);
    expect(r.code, r.stderr).toBe(0);
    const files = ids.map(client);
    const mixed = [...files.slice(0, 35), join(other, 'ca.crt'), ...files.slice(35)];
    const [plain, full] = await Promise.all([runCli(['verify', '--dir', dir, ...mixed]), runCli(['verify', '--max-depth', '100', '--dir', dir, ...mixed])]);
    expect(plain.code, plain.stderr).toBe(1);
    expect([plain.stdout, plain.stderr, plain.code]).toEqual([full.stdout, full.stderr, full.code]);
    const lines = plain.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(71);
    expect(lines.map((l) => l.slice(0, l.indexOf(': ')))).toEqual(mixed);
    expect(lines.filter((l) => l.endsWith(': OK'))).toHaveLength(70);
    expect(lines[35]).toMatch(/FAILED: UNKNOWN_ISSUER: .*\(depth 0, subject .*CN=/);
  });

  it.each(cases)('%s', async (_name, args, code, says) => {
    const [plain, full] = await Promise.all([runCli(['verify', ...args()]), runCli(['verify', '--max-depth', '100', ...args()])]);
    expect(plain.code, plain.stderr).toBe(code);
    expect(plain.stdout).toBe(full.stdout);
    expect(plain.stderr).toBe(full.stderr);
    expect(plain.code).toBe(full.code);
    const lines = plain.stdout.trimEnd().split('\n');
    if (code === 0) expect(lines.every((l) => l.endsWith(': OK'))).toBe(true);
    if (code === 1) {
      // The last file is the one that fails, with exactly this code; any before it verified.
      expect(lines.at(-1)).toMatch(new RegExp(`: FAILED: ${String(says)}: .*\\(depth \\d+, subject .*CN=`));
      expect(lines.slice(0, -1).every((l) => l.endsWith(': OK'))).toBe(true);
    }
    if (code === 2) {
      expect(plain.stderr.trim().split('\n')).toEqual([expect.stringMatching(says as RegExp)]);
      expect(plain.stdout).toBe('');
    }
  });
});
