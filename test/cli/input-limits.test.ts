import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { BIN, runCli, runProcess, type CliResult } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';
import { initCa } from '../store/fixture.js';

/**
 * Issue 12, items 9 and 11: every input is counted as it is read and stops at the cap of its kind
 * (README "Limits"), whatever fstat says: devices, FIFOs and stdin have no size. The children run
 * with a 256 MB heap: one that buffered the stream would die instead of printing the one line.
 */

const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=256' };
const CERT_CAP = /over the 8 MiB limit for a certificate, key, CRL or template file$/;

/** `sh -c script` with the CLI as $PKICTL (for pipes and FIFOs a test wants real). */
const shell = (script: string, cwd: string): Promise<CliResult> =>
  runProcess('sh', ['-c', script], { cwd, env: { ...process.env, ...SMALL_HEAP, NO_COLOR: '1', PKICTL: `${process.execPath} ${BIN}` } });

describe('size-less inputs', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await tempDir('pkictl-limits-');
    dir = join(base, 'certs');
    await initCa(dir);
  });

  it('inspect /dev/zero, verify --ca /dev/zero: one line at the 8 MiB cap', async () => {
    expectInputError(await runCli(['inspect', '/dev/zero'], { env: SMALL_HEAP }), /^error: \/dev\/zero: is over/);
    expectInputError(await runCli(['inspect', '/dev/zero'], { env: SMALL_HEAP }), CERT_CAP);
    expectInputError(await runCli(['verify', '--ca', '/dev/zero', join(dir, 'ca.crt')], { env: SMALL_HEAP }), CERT_CAP);
    expectInputError(await runCli(['verify', '--dir', dir, '--crl', '/dev/zero', join(dir, 'ca.crt')], { env: SMALL_HEAP }), CERT_CAP);
  });

  it('issue client --from /dev/zero and --passphrase-file /dev/zero: the caps of tenant lists and passphrases', async () => {
    expectInputError(await runCli(['issue', 'client', '--dir', dir, '--from', '/dev/zero'], { env: SMALL_HEAP }), /^error: \/dev\/zero: is over the 64 MiB limit for a tenant list$/);
    expectInputError(await runCli(['crl', '--dir', dir, '--passphrase-file', '/dev/zero'], { env: SMALL_HEAP }), /^error: passphrase file \/dev\/zero: is over the 64 KiB limit for a passphrase file$/);
  });

  it('a FIFO is read as a stream: a certificate through it is inspected, an endless writer stops at the cap', async () => {
    const ok = await shell(`mkfifo f1 && (cat certs/ca.crt > f1 &) && $PKICTL inspect f1`, base);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Subject:\s+.*CN=/);
    const endless = await shell(`mkfifo f2 && (yes > f2 2>/dev/null &) && $PKICTL inspect f2`, base);
    expectInputError(endless, /^error: f2: is over the 8 MiB limit/);
  });

  it('stdin from a generator goes through the same count (- and /dev/stdin)', async () => {
    expectInputError(await shell('yes | $PKICTL inspect -', base), /^error: stdin: is over the 8 MiB limit/);
    expectInputError(await shell('yes | $PKICTL inspect /dev/stdin', base), /^error: \/dev\/stdin: is over the 8 MiB limit/);
    expectInputError(await shell('yes | $PKICTL issue client --dir certs --from -', base), /^error: stdin: is over the 64 MiB limit for a tenant list$/);
    const cert = await shell('cat certs/ca.crt | $PKICTL inspect /dev/stdin', base);
    expect(cert.code, cert.stderr).toBe(0);
  });

  it('a regular file over its cap is refused from its size, without reading it', async () => {
    const big = join(base, 'big.pem');
    await writeFile(big, Buffer.alloc(9 * 1024 * 1024, 0x41));
    expectInputError(await runCli(['inspect', big]), /big\.pem: is 9 MiB, over the 8 MiB limit for a certificate, key, CRL or template file$/);
  });
});

describe('tenant lists (--from)', () => {
  let dir: string;
  let base: string;
  beforeAll(async () => {
    base = await tempDir('pkictl-ids-');
    dir = join(base, 'certs');
    await initCa(dir);
  });

  it('a million ids (37 MB) are read and checked, not refused as too large for a certificate file', async () => {
    const lines: string[] = Array.from({ length: 1_000_000 }, () => randomUUID());
    lines.push('not-a-tenant');
    const file = join(base, 'million.txt');
    await writeFile(file, lines.join('\n') + '\n');
    const r = await runCli(['issue', 'client', '--dir', dir, '--from', file]);
    expectInputError(r, /million\.txt:1000001: invalid tenant id 'not-a-tenant'.*nothing was issued$/);
    expect(await readFile(join(dir, 'index.jsonl'), 'utf8')).not.toContain(lines[0]!);
  });

  it('100,000 bad ids: the first 20 are listed, the rest counted', async () => {
    const file = join(base, 'bad.txt');
    await writeFile(file, Array.from({ length: 100_000 }, (_, i) => `bad-${i}`).join('\n') + '\n');
    const r = await runCli(['issue', 'client', '--dir', dir, '--from', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('error: 100000 bad tenant ids; nothing was issued');
    expect(lines.slice(1, 21).every((l, i) => l.startsWith(`  ${file}:${i + 1}: invalid tenant id 'bad-${i}'`))).toBe(true);
    expect(lines[21]).toBe('  … and 99980 more');
    expect(lines).toHaveLength(22);
    expect(r.stderr.length).toBeLessThan(10_000);
  });
});
