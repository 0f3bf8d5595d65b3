import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { cli, initCa, issueClients, uuids } from '../store/fixture.js';

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
    const { createHash } = await import('node:crypto');
    const line = JSON.parse(all[1]!);
    line.actor = 'mallory@evil';
    delete line.hash;
    line.hash = createHash('sha256').update(JSON.stringify(line)).digest('hex');
    all[1] = JSON.stringify(line);
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
