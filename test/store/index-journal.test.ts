import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cutTornTail } from '../../src/store/audit-log.js';
import { tempDir } from '../helpers/temp-dir.js';
import { consistency } from './consistency.js';
import { cli, EC, initCa, uuids } from './fixture.js';

// A power cut mid-append leaves a line without its newline; one revocation of thousands of
// certificates writes a line of megabytes, so the cut must find the last whole line at any distance.

describe('a torn last line longer than any read chunk', () => {
  it('cutTornTail goes back to the last whole line, however far (3 MiB torn), or to empty', async () => {
    const dir = await tempDir();
    const path = join(dir, 'journal');
    await appendFile(path, '{"a":1}\n{"b":2}\n');
    await appendFile(path, `{"c":"${'x'.repeat(3 << 20)}`);
    expect(await cutTornTail(path)).toBe((3 << 20) + 6);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    expect(await cutTornTail(path)).toBe(0);
    const only = join(dir, 'only');
    await appendFile(only, 'y'.repeat(2 << 20));
    await cutTornTail(only);
    expect(await readFile(only, 'utf8')).toBe('');
  });

  it('a 2 MiB torn index line (a big revoke cut by a power loss) is cut by the next command, which then records cleanly', async () => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    const [a, b] = uuids(2) as [string, string];
    expect((await cli(['issue', 'client', '--dir', dir, ...EC, a])).code).toBe(0);
    const before = await readFile(join(dir, 'index.jsonl'), 'utf8');
    await appendFile(join(dir, 'index.jsonl'), `{"time":"2026-12-02T00:00:00.000Z","set":[${'{"serial":"00","status":"revoked"},'.repeat(60_000)}`);
    const r = await cli(['issue', 'client', '--dir', dir, ...EC, b]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(dir, 'index.jsonl'), 'utf8')).startsWith(before)).toBe(true);
    expect(await consistency(dir)).toMatchObject({ badIndexLines: [], unrecorded: [], phantoms: [], auditLogVerify: { code: 0 } });
  });
});

describe('an index line that is not a record', () => {
  it.each(['{}', 'null', '[42]', '{"audit":[],"set":[null]}'])('%s as line 2: INDEX_CORRUPT naming the line, for readers and writers, never a TypeError', async (bad) => {
    const dir = join(await tempDir(), 'certs');
    await initCa(dir);
    const index = join(dir, 'index.jsonl');
    const lines = (await readFile(index, 'utf8')).split('\n');
    await writeFile(index, [lines[0], bad, ...lines.slice(1)].join('\n'));
    for (const args of [['audit-log', 'verify', '--dir', dir], ['issue', 'client', '--dir', dir, ...EC, ...uuids(1)]]) {
      const r = await cli(args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/index\.jsonl: line 2 (is not|has)/);
      expect(r.stderr).not.toMatch(/TypeError|\n\s+at /);
    }
  });
});
