import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendDurably } from '../../src/store/group-commit.js';
import { tempDir } from '../helpers/temp-dir.js';
import { fillDisk, freeDisk, fullDiskRuns, smallDisk } from './small-disk.js';

// ENOSPC on a real tmpfs, at several points of a run: the failed run says so, and after space comes
// back a rerun finishes and the index, the tree and the audit log agree.

describe('a full disk (real tmpfs)', async () => {
  const disk = await smallDisk(512);
  const skip = 'skip' in disk ? disk.skip : undefined;
  if (skip) console.warn(`full-disk tests skipped: ${skip}`);

  it.skipIf(skip)('a journal append that finds the disk full is undone: the file keeps its old length, no torn line stays', async () => {
    const dir = join((disk as { path: string }).path, 'append');
    await mkdir(dir);
    const path = join(dir, 'journal');
    await appendDurably(path, 'first line\n');
    const filler = await fillDisk(dir, 0);
    // The file's page has room for ~4 KB more: write(2) takes that much of the 8 KB, then fails.
    await expect(appendDurably(path, `${'x'.repeat(8191)}\n`)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await readFile(path, 'utf8')).toBe('first line\n');
    await freeDisk(filler);
    await appendDurably(path, 'second line\n');
    expect(await readFile(path, 'utf8')).toBe('first line\nsecond line\n');
  });

  it('a journal append never follows a planted link', async () => {
    const dir = await tempDir();
    const foreign = join(dir, 'foreign');
    await writeFile(foreign, 'not yours\n');
    await symlink(foreign, join(dir, 'audit.log'));
    await expect(appendDurably(join(dir, 'audit.log'), 'line\n')).rejects.toMatchObject({ code: 'FOREIGN_LINK', message: expect.stringContaining(`audit.log is a link to ${foreign}`) });
    expect(await readFile(foreign, 'utf8')).toBe('not yours\n');
  });

  // `npm run test:stress` runs many more levels and tenants.
  for (const kind of ['issue', 'rotate'] as const) {
    const what = kind === 'issue' ? 'issue client --from: ENOSPC fails the run; after space returns, --skip-existing finishes' : 'rotate --all: ENOSPC fails the run; after space returns, a plain rotate finishes';
    it.skipIf(skip)(`${what}, and the index, the tree and the audit chain agree`, async () => {
      const runs = await fullDiskRuns((disk as { path: string }).path, kind, [4, 12, 28], kind === 'issue' ? 24 : 10);
      for (const run of runs) {
        expect(run.failedRun, `${run.leftKib} KiB left`).toMatchObject({ code: 1, stackTrace: false });
        expect(run.failedRun.stderr, `${run.leftKib} KiB left`).toMatch(/no space left on device|ENOSPC/i);
        expect(run, `${run.leftKib} KiB left`).toMatchObject({ rerun: { code: 0 }, missingTenants: 0, after: { badIndexLines: [], unrecorded: [], phantoms: [], auditLogVerify: { code: 0 } } });
      }
    });
  }
});
