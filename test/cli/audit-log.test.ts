import { createHash } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, clientPaths, EC, initCa, issueClients, serialOf, uuids } from '../store/fixture.js';

describe('pkictl audit-log verify', () => {
  let pristine: string;
  let root: string;

  beforeAll(async () => {
    root = await tempDir('pkictl-audit-');
    pristine = join(root, 'pristine');
    await initCa(pristine);
    await issueClients(pristine, uuids(3));
    const [a] = uuids(1);
    await issueClients(pristine, [a!]);
    await issueClients(pristine, [a!], ['--force']);
  });

  let n = 0;
  async function copy(): Promise<string> {
    const dir = join(root, `copy${n++}`);
    await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
    return dir;
  }
  const lines = async (dir: string) => (await readFile(join(dir, 'audit.log'), 'utf8')).split('\n').filter(Boolean);

  it('accepts the untouched log: one line per issuance, chained, no key material', async () => {
    const r = await cli(['audit-log', 'verify', '--dir', pristine, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.auditLog).toMatchObject({ ok: true, lines: 6 });
    const text = await readFile(join(pristine, 'audit.log'), 'utf8');
    expect(text).not.toMatch(/PRIVATE KEY/);
    const actions = (await lines(pristine)).map((l) => JSON.parse(l).action);
    expect(actions).toEqual(['init', 'issue', 'issue', 'issue', 'issue', 'reissue']);
    for (const l of await lines(pristine)) expect(Object.keys(JSON.parse(l))).toEqual(expect.arrayContaining(['time', 'actor', 'command', 'action', 'result', 'prev', 'hash']));
  });

  it('detects an edited line and names it', async () => {
    const dir = await copy();
    const all = await lines(dir);
    all[2] = all[2]!.replace(/"actor":"[^"]*"/, '"actor":"mallory@evil"');
    await writeFile(join(dir, 'audit.log'), all.join('\n') + '\n');
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 3: .*edited/);
  });

  it('detects an edited line whose hash was recomputed, at the next line', async () => {
    const dir = await copy();
    const all = await lines(dir);
    all[1] = rehash({ ...JSON.parse(all[1]!), actor: 'mallory@evil' });
    await writeFile(join(dir, 'audit.log'), all.join('\n') + '\n');
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 3: it does not follow line 2/);
  });

  it('detects a deleted line', async () => {
    const dir = await copy();
    const all = await lines(dir);
    all.splice(3, 1);
    await writeFile(join(dir, 'audit.log'), all.join('\n') + '\n');
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 4: /);
  });

  it('detects truncation at a line boundary (the index keeps the head) and mid-line', async () => {
    const dir = await copy();
    const all = await lines(dir);
    await writeFile(join(dir, 'audit.log'), all.slice(0, 4).join('\n') + '\n');
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 5: the index records 6 lines but the log has 4: it was truncated/);

    const dir2 = await copy();
    const text = await readFile(join(dir2, 'audit.log'), 'utf8');
    await writeFile(join(dir2, 'audit.log'), text.slice(0, text.length - 40));
    const r2 = await cli(['audit-log', 'verify', '--dir', dir2]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/line 6: the last line is incomplete/);
  });

  it('detects a line appended outside pkictl', async () => {
    const dir = await copy();
    const all = await lines(dir);
    await writeFile(join(dir, 'audit.log'), [...all, all.at(-1)!].join('\n') + '\n');
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 7: /);
  });

  it('treats a log missing only the last committed transaction as an interrupted run, and the next command writes it', async () => {
    const dir = await copy();
    const all = await lines(dir);
    await writeFile(join(dir, 'audit.log'), all.slice(0, 5).join('\n') + '\n'); // as if killed between index and log
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/interrupted run/);
    await issueClients(dir, uuids(1));
    const after = await lines(dir);
    expect(after).toHaveLength(7);
    expect(after[5]).toBe(all[5]);
    expect((await cli(['audit-log', 'verify', '--dir', dir])).code).toBe(0);
  });
});

/** A line's text with its hash recomputed the way pkictl computes it (over the JSON without `hash`). */
function rehash(line: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = line;
  return JSON.stringify({ ...rest, hash: createHash('sha256').update(JSON.stringify(rest)).digest('hex') });
}

/**
 * Every line of a real log tampered with, one at a time, so that only the `prev` link or the
 * index's recorded head can catch it. Some index transactions carry several audit lines (a bulk
 * issuance, a multi-serial revoke), so the lines of one group are tampered with too.
 */
describe('pkictl audit-log verify: every line of a log with multi-line groups', () => {
  let root: string;
  let pristine: string;
  let log: string[];
  let groups: number[];

  beforeAll(async () => {
    root = await tempDir('pkictl-audit-chain-');
    pristine = join(root, 'pristine');
    await initCa(pristine);
    expect((await cli(['issue', 'server', '--dir', pristine, ...EC])).code).toBe(0);
    const first = uuids(4);
    await writeFile(join(root, 'first.txt'), first.join('\n') + '\n');
    await issueClients(pristine, [], ['--from', join(root, 'first.txt')]);
    const serials = await Promise.all(first.slice(0, 2).map((id) => serialOf(clientPaths(pristine, id).cert)));
    const revoke = await cli(['revoke', '--dir', pristine, '--reason', 'keyCompromise', ...serials]);
    expect(revoke.code, revoke.stderr).toBe(0);
    await writeFile(join(root, 'last.txt'), uuids(3).join('\n') + '\n');
    await issueClients(pristine, [], ['--from', join(root, 'last.txt')]);
    log = (await readFile(join(pristine, 'audit.log'), 'utf8')).split('\n').filter(Boolean);
    const index = (await readFile(join(pristine, 'index.jsonl'), 'utf8')).split('\n').filter(Boolean);
    groups = index.map((l) => (JSON.parse(l) as { audit: string[] }).audit.length);
    expect((await cli(['audit-log', 'verify', '--dir', pristine])).code).toBe(0);
  });

  it('the log is what these tests need: 12 lines, the index head at the last, multi-line groups', () => {
    expect(log).toHaveLength(12);
    expect(groups.reduce((a, b) => a + b, 0)).toBe(12);
    expect(groups.filter((n) => n > 1).length, `audit lines per index transaction: ${groups}`).toBeGreaterThanOrEqual(2);
  });

  let n = 0;
  /** `pkictl audit-log verify` on a copy of the log where `edit` rewrote the lines. */
  async function verifyEdited(edit: (lines: string[]) => string[]) {
    const dir = join(root, `t${n++}`);
    await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
    await writeFile(join(dir, 'audit.log'), edit([...log]).map((l) => `${l}\n`).join(''));
    const r = await cli(['audit-log', 'verify', '--dir', dir]);
    return { code: r.code, said: r.stderr.trim() };
  }
  const lineNumbers = () => Array.from({ length: log.length }, (_, i) => i + 1);
  const said = (k: number, message: string) => expect.stringMatching(new RegExp(`: line ${k}: ${message}`));

  it('a line edited with its hash recomputed: named at the next line, or at the index head for the last line', async () => {
    const results = await Promise.all(lineNumbers().map((k) => verifyEdited((lines) => {
      lines[k - 1] = rehash({ ...JSON.parse(lines[k - 1]!), actor: 'mallory@evil' });
      return lines;
    })));
    const N = log.length;
    expect(results).toEqual(lineNumbers().map((k) => ({
      code: 1,
      said: k < N ? said(k + 1, `it does not follow line ${k}:`) : said(N, 'it is not the line the index recorded as the latest'),
    })));
  });

  it('a line whose `prev` link was rewritten and every later line re-chained: named at that line', async () => {
    const results = await Promise.all(lineNumbers().map((k) => verifyEdited((lines) => {
      let prev = createHash('sha256').update('forged').digest('hex');
      for (let i = k - 1; i < lines.length; i++) {
        lines[i] = rehash({ ...JSON.parse(lines[i]!), prev });
        prev = JSON.parse(lines[i]!).hash;
      }
      return lines;
    })));
    expect(results).toEqual(lineNumbers().map((k) => ({ code: 1, said: said(k, `it does not follow line ${k - 1}:`) })));
  });

  it('a line edited without recomputing its hash: named at that line', async () => {
    const results = await Promise.all(lineNumbers().map((k) => verifyEdited((lines) => {
      lines[k - 1] = lines[k - 1]!.replace(/"actor":"[^"]*"/, '"actor":"mallory@evil"');
      return lines;
    })));
    expect(results).toEqual(lineNumbers().map((k) => ({ code: 1, said: said(k, 'its content does not match its hash') })));
  });

  // Removals and insertions go through the same checks: a few positions (the first lines, one inside a
  // group, the one before the index head) keep the run short.
  const some = () => [1, 2, 7, log.length - 1];

  it('a line removed and the rest re-chained without renumbering: named where the numbering breaks', async () => {
    const results = await Promise.all(some().map((k) => verifyEdited((lines) => {
      lines.splice(k - 1, 1);
      let prev = k === 1 ? '0'.repeat(64) : JSON.parse(lines[k - 2]!).hash;
      for (let i = k - 1; i < lines.length; i++) {
        lines[i] = rehash({ ...JSON.parse(lines[i]!), prev });
        prev = JSON.parse(lines[i]!).hash;
      }
      return lines;
    })));
    expect(results).toEqual(some().map((k) => ({ code: 1, said: said(k, `it says it is line ${k + 1}`) })));
  });

  it('a line removed, or a copy of it inserted after it: named', async () => {
    const removed = await Promise.all(some().map((k) => verifyEdited((lines) => lines.filter((_, i) => i !== k - 1))));
    expect(removed).toEqual(some().map((k) => ({ code: 1, said: said(k, `it does not follow line ${k - 1}:`) })));
    const copied = await Promise.all(some().map((k) => verifyEdited((lines) => [...lines.slice(0, k), lines[k - 1]!, ...lines.slice(k)])));
    expect(copied).toEqual(some().map((k) => ({ code: 1, said: said(k + 1, `it does not follow line ${k}:`) })));
    // The last line alone missing is what a run killed between the index and the log leaves: not tampering.
    expect(await verifyEdited((lines) => lines.slice(0, -1))).toEqual({ code: 0, said: expect.stringMatching(/interrupted run/) });
  });
});
