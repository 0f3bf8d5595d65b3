import { describe, expect, it } from 'vitest';
import { defaultConcurrency, runBulk } from '../../src/ops/bulk.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runBulk (the engine behind issue client and rotate)', () => {
  it('never runs more than `concurrency` jobs at once, and returns results in input order', async () => {
    let running = 0;
    let peak = 0;
    const report = await runBulk(
      Array.from({ length: 40 }, (_, i) => i),
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await tick(n % 3); // finish out of order
        running--;
        return n * 2;
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
    expect(report.results.map((r) => r.value)).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    expect(report).toMatchObject({ done: 40, failed: 0, notStarted: 0, interrupted: false, concurrency: 3 });
  });

  it('after an abort starts nothing new, lets in-flight jobs finish, and marks the rest not-started', async () => {
    const controller = new AbortController();
    const finished: number[] = [];
    const report = await runBulk(
      Array.from({ length: 20 }, (_, i) => i),
      async (n) => {
        if (n === 5) controller.abort();
        await tick(5);
        finished.push(n);
        return n;
      },
      { concurrency: 2, signal: controller.signal },
    );
    // Job 5 aborted while job 4 or 6 was in flight: both finish, nothing after them starts.
    expect(report.interrupted).toBe(true);
    expect(report.results.filter((r) => r.status === 'done').map((r) => r.item)).toEqual(finished.sort((a, b) => a - b));
    expect(report.done).toBeGreaterThanOrEqual(6); // 0..5 started before the abort took effect
    expect(report.done).toBeLessThanOrEqual(7);
    expect(report.results.slice(report.done).every((r) => r.status === 'not-started')).toBe(true);
    expect(report.done + report.notStarted).toBe(20);
  });

  it('stops at the first failure unless keepGoing, recording the error on the item', async () => {
    const job = async (n: number) => {
      await tick(1);
      if (n === 3) throw new Error('disk full');
      return n;
    };
    const items = Array.from({ length: 10 }, (_, i) => i);
    const stop = await runBulk(items, job, { concurrency: 1 });
    expect(stop).toMatchObject({ done: 3, failed: 1, notStarted: 6, stoppedOnFailure: true, interrupted: false });
    expect((stop.results[3]!.error as Error).message).toBe('disk full');
    const all = await runBulk(items, job, { concurrency: 4, keepGoing: true });
    expect(all).toMatchObject({ done: 9, failed: 1, notStarted: 0, stoppedOnFailure: false });
  });

  it('reports progress after every item, ending at the total', async () => {
    const seen: number[] = [];
    await runBulk([1, 2, 3, 4], async (n) => n, { concurrency: 2, onProgress: (p) => seen.push(p.done) });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(defaultConcurrency()).toBeGreaterThanOrEqual(2);
  });
});
