import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GroupAppender } from '../../src/store/group-append.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('GroupAppender', () => {
  it('writes appends that arrive together as one group, in arrival order, each resolving once written', async () => {
    const path = join(await tempDir('pkictl-group-'), 'journal');
    const groups: number[][] = [];
    const journal = new GroupAppender<number>(path, (items) => {
      groups.push(items);
      return items.map((n) => `${n}\n`).join('');
    });
    const written = await Promise.all(
      Array.from({ length: 50 }, (_, n) => journal.append(n).then(async () => (await readFile(path, 'utf8')).split('\n').includes(String(n)))),
    );
    expect(written.every(Boolean)).toBe(true);
    expect(await readFile(path, 'utf8')).toBe(Array.from({ length: 50 }, (_, n) => `${n}\n`).join(''));
    expect(groups[0]).toEqual([0]); // the first append does not wait for company
    expect(groups.length).toBeLessThan(50);
    expect(groups.flat()).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('fails every pending and later append once a write failed', async () => {
    const journal = new GroupAppender<string>(join(await tempDir('pkictl-group-'), 'missing-dir', 'journal'), (items) => items.join('\n'));
    const results = await Promise.allSettled([journal.append('a'), journal.append('b'), journal.append('c')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await expect(journal.append('d')).rejects.toThrow(/ENOENT/);
  });
});
