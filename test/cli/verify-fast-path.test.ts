// `pkictl verify` with the common flags skips zod and builds its models from DER without
// @peculiar/x509 (commands/verify.ts verifyRunner, ops/verify-files.ts). These tests hold that path
// to the full one: adding `--max-depth 100` (which changes nothing for these one-level chains)
// sends the same invocation through zod and the schema, and both must print the same bytes and exit
// the same way, including failures, whose messages name subjects (x509 is loaded on demand then).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const B = '0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11';

describe('pkictl verify: fast path = full path', () => {
  let dir: string;
  let other: string;
  const client = (id: string) => join(dir, 'clients', id, 'client.crt');

  beforeAll(async () => {
    const base = await tempDir();
    dir = join(base, 'certs');
    other = join(base, 'other');
    expect((await runCli(['init', '--dir', dir, ...ec])).code).toBe(0);
    expect((await runCli(['init', '--dir', other, ...ec])).code).toBe(0);
    expect((await runCli(['issue', 'server', '--dir', dir, ...ec])).code).toBe(0);
    const r = await runCli(['issue', 'client', '--dir', dir, ...ec, A, B]);
    expect(r.code, r.stderr).toBe(0);
    await writeFile(join(base, 'junk.crt'), 'not a certificate\n');
  });

  const cases: [string, () => string[], number][] = [
    ['OK, many files', () => ['--dir', dir, '--purpose', 'client', client(A), client(B)], 0],
    ['another CA (UNKNOWN_ISSUER, names the subject)', () => ['--ca', join(other, 'ca.crt'), client(A)], 1],
    ['wrong purpose, one good file before it', () => ['--dir', dir, '--purpose', 'server', join(dir, 'server.crt'), client(A)], 1],
    ['--expect-cn mismatch', () => ['--dir', dir, '--expect-cn', B, client(A)], 1],
    ['--hostname not in the SANs', () => ['--dir', dir, '--hostname', 'nowhere.example', join(dir, 'server.crt')], 1],
    ['missing file: input error', () => ['--dir', dir, client(A), join(dir, 'nope.crt')], 2],
    ['junk file: input error', () => ['--dir', dir, join(dir, '..', 'junk.crt')], 2],
  ];

  // From 64 files on, verify checks leaf signatures on the thread pool and turns V8's optimizing
  // compiler off (commands/verify.ts tuneForFiles): one run with a failure in the middle, file by file.
  it('many files: pipeline and batch tuning, a failure in the middle, output in order', async () => {
    const ids = Array.from({ length: 70 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const r = await runCli(['issue', 'client', '--dir', dir, ...ec, ...ids]);
    expect(r.code, r.stderr).toBe(0);
    const files = ids.map(client);
    const mixed = [...files.slice(0, 35), join(other, 'ca.crt'), ...files.slice(35)];
    const [fast, full] = await Promise.all([runCli(['verify', '--dir', dir, ...mixed]), runCli(['verify', '--max-depth', '100', '--dir', dir, ...mixed])]);
    expect(fast.code, fast.stderr).toBe(1);
    expect([fast.stdout, fast.stderr, fast.code]).toEqual([full.stdout, full.stderr, full.code]);
    const lines = fast.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(71);
    expect(lines.map((l) => l.slice(0, l.indexOf(': ')))).toEqual(mixed);
    expect(lines.filter((l) => l.endsWith(': OK'))).toHaveLength(70);
    expect(lines[35]).toMatch(/FAILED: UNKNOWN_ISSUER: .*\(depth 0, subject .*CN=/);
  });

  it.each(cases)('%s', async (_name, args, code) => {
    const [fast, full] = await Promise.all([runCli(['verify', ...args()]), runCli(['verify', '--max-depth', '100', ...args()])]);
    expect(fast.code, fast.stderr).toBe(code);
    expect(fast.stdout).toBe(full.stdout);
    expect(fast.stderr).toBe(full.stderr);
    expect(fast.code).toBe(full.code);
    if (code === 1) expect(fast.stdout).toMatch(/FAILED: [A-Z_]+: .*\(depth \d+, subject .*CN=/);
  });
});
