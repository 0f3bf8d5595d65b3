import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { initCa, issueClients, uuids } from '../store/fixture.js';
import { crashIssue, crashRotate, parallelIssue, swapUnderReader } from '../store/scenarios.js';
import { fullDiskRuns, smallDisk } from '../store/small-disk.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

describe('guarantees at full size', async () => {
  const disk = await smallDisk(2048);
  it('8 CLI processes × 50 distinct tenants → 400 tenants, 400 unique serials, 400 index entries, intact audit chain, every pair matching', async () => {
    const dir = join(await tempDir('pkictl-stress-par-'), 'certs');
    await initCa(dir);
    const started = Date.now();
    const r = await parallelIssue(dir, env('STRESS_PROCS', 8), env('STRESS_PER_PROC', 50), uuids);
    const n = env('STRESS_PROCS', 8) * env('STRESS_PER_PROC', 50);
    console.log(`parallel issue: ${JSON.stringify({ ...r, problems: r.problems.length, seconds: (Date.now() - started) / 1000 })}`);
    expect(r.problems.slice(0, 20)).toEqual([]);
    expect(r).toMatchObject({ tenants: n, clientIndexEntries: n, auditLines: n + 1 });
    expect(r.exitCodes.every((c) => c === 0)).toBe(true);
  });

  it('SIGKILL during rotate over a few hundred tenants, several runs: every pair matching after each kill; a rerun completes', async () => {
    const dir = join(await tempDir('pkictl-stress-crash-'), 'certs');
    await initCa(dir);
    const tenants = env('STRESS_CRASH_TENANTS', 1000); // a rotation of 300 now ends before most kills
    const ids = uuids(tenants);
    for (let i = 0; i < ids.length; i += 100) await issueClients(dir, ids.slice(i, i + 100), ['--days', '1']);
    const r = await crashRotate(dir, env('STRESS_KILLS', 8), env('STRESS_MAX_DELAY_MS', 1000));
    console.log(`crash rotate: ${JSON.stringify({ tenants, ...r })}`);
    expect(r.kills).toBeGreaterThan(0);
    expect(r.rotatedBeforeFinal).toBeGreaterThan(0);
    expect(r.problemsAfterKills.slice(0, 20)).toEqual([]);
    expect({ due: r.afterFinal.due.slice(0, 20), problems: r.afterFinal.problems.slice(0, 20) }).toEqual({ due: [], problems: [] });
  });

  it('SIGKILL during a bulk issuance of 2,500 tenants, 15 times: nothing on disk unrecorded; after the rerun no phantom, nothing pending', async () => {
    const dir = join(await tempDir('pkictl-stress-crash-issue-'), 'certs');
    await initCa(dir);
    const tenants = env('STRESS_ISSUE_TENANTS', 2500);
    const r = await crashIssue(dir, uuids(tenants), env('STRESS_KILLS', 15), env('STRESS_MAX_DELAY_MS', 1000));
    console.log(`crash issue: ${JSON.stringify({ tenants, ...r, problemsAfterKills: r.problemsAfterKills.length, afterRerun: r.afterRerun.length })}`);
    expect(r.kills).toBeGreaterThan(0);
    expect(r.problemsAfterKills.slice(0, 20)).toEqual([]);
    expect(r.afterRerun.slice(0, 20)).toEqual([]);
  });

  it('a Python connector loading every pair during rotations of 200 tenants never fails twice and never misses a file', async () => {
    const dir = join(await tempDir('pkictl-stress-swap-'), 'certs');
    await initCa(dir);
    await issueClients(dir, uuids(env('STRESS_SWAP_TENANTS', 200)));
    const r = await swapUnderReader(dir, env('STRESS_SWAP_ROUNDS', 3));
    console.log(`swap under reader: ${JSON.stringify({ ...r, errors: r.errors.slice(0, 5) })}`);
    expect(r.errors.slice(0, 20)).toEqual([]);
    expect(r).toMatchObject({ failedTwice: 0, missing: 0 });
  });

  it('a Go reader (tls.LoadX509KeyPair) during rotations of 200 tenants never fails twice and never misses a file', async () => {
    const dir = join(await tempDir('pkictl-stress-swap-go-'), 'certs');
    await initCa(dir);
    await issueClients(dir, uuids(env('STRESS_SWAP_TENANTS', 200)));
    const r = await swapUnderReader(dir, env('STRESS_SWAP_ROUNDS', 3), 'go');
    console.log(`swap under Go reader: ${JSON.stringify({ ...r, errors: r.errors.slice(0, 5) })}`);
    expect(r.errors.slice(0, 20)).toEqual([]);
    expect(r).toMatchObject({ failedTwice: 0, missing: 0 });
  });

  for (const kind of ['issue', 'rotate'] as const) {
    it(`a full disk (real tmpfs) at every 2 KiB from 0 to 60 KiB left, ${kind}: the run fails cleanly, the rerun finishes, index, tree and audit chain agree`, async () => {
      if ('skip' in disk) return console.warn(`skipped: ${disk.skip}`);
      const levels = Array.from({ length: 31 }, (_, i) => i * 2);
      const runs = await fullDiskRuns(disk.path, kind, levels, kind === 'issue' ? 40 : 16);
      const bad = runs.filter((r) => r.failedRun.code !== 1 || r.failedRun.stackTrace || r.rerun.code !== 0 || r.missingTenants > 0 || r.after.badIndexLines.length + r.after.unrecorded.length + r.after.phantoms.length > 0 || r.after.auditLogVerify.code !== 0);
      console.log(`full disk, ${kind}: ${runs.length} runs, ${runs.length - bad.length} clean; first error lines: ${JSON.stringify([...new Set(runs.map((r) => r.failedRun.stderr.split('\n').find((l) => /error|✗/.test(l))?.replace(/[0-9a-f-]{36}/g, '<id>')))].slice(0, 5))}`);
      expect(bad.map((r) => ({ left: r.leftKib, failed: r.failedRun.code, rerun: r.rerun, after: r.after }))).toEqual([]);
    });
  }
});
