import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendDurably, GroupCommit } from '../../src/store/group-commit.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('GroupCommit', () => {
  it('writes items that arrive together as one group, in arrival order, one group at a time, each resolving once written', async () => {
    const path = join(await tempDir('pkictl-group-'), 'journal');
    const groups: number[][] = [];
    let writing = 0;
    let overlapped = false;
    const journal = new GroupCommit<number>(async (items) => {
      overlapped ||= writing > 0;
      writing++;
      groups.push(items);
      await appendDurably(path, items.map((n) => `${n}\n`).join(''));
      writing--;
    });
    const written = await Promise.all(
      Array.from({ length: 50 }, (_, n) => journal.add(n).then(async () => (await readFile(path, 'utf8')).split('\n').includes(String(n)))),
    );
    expect(written.every(Boolean)).toBe(true);
    expect(overlapped).toBe(false);
    expect(await readFile(path, 'utf8')).toBe(Array.from({ length: 50 }, (_, n) => `${n}\n`).join(''));
    expect(groups[0]).toEqual([0]); // the first item does not wait for company
    expect(groups.length).toBeLessThan(50);
    expect(groups.flat()).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('fails every pending and later item once a write failed', async () => {
    const path = join(await tempDir('pkictl-group-'), 'missing-dir', 'journal');
    const journal = new GroupCommit<string>(async (items) => void (await appendDurably(path, items.join('\n'))));
    const results = await Promise.allSettled([journal.add('a'), journal.add('b'), journal.add('c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await expect(journal.add('d')).rejects.toThrow(/ENOENT/);
  });
});
