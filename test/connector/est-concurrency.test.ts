// Many writers on one tree (issue 15): 200 connectors enrolling and re-enrolling through `pkictl serve`
// while CLI processes issue, rotate and revoke: unique serials, every certificate in the index once,
// one unbroken audit chain, and the CLI gets its turn at the lock.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/ops/tokens.js';
import { testContext } from '../helpers/context.js';
import { runCli } from '../helpers/run-cli.js';
import { startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';
// @ts-expect-error: a plain ES module shared with bench/est.mjs
import { connectorRequest, estPost, pemOfAnswer, subjectOfPem } from '../../bench/est-load.mjs';
// @ts-expect-error: a plain ES module (the benchmarks' helpers)
import { pool } from '../../bench/lib.mjs';

const CONNECTORS = 200;
const tenantId = (i: number) => `7a000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const central = Array.from({ length: 20 }, (_, i) => `7b000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

describe('serve and the CLI on one tree', () => {
  let dir: string;
  let serve: Served;
  const tokens: string[] = [];

  beforeAll(async () => {
    dir = join(await tempDir(), 'certs');
    for (const args of [['init'], ['issue', 'client', ...central]]) expect((await runCli([...args, '--dir', dir, '--key', 'ec-p256'])).code).toBe(0);
    const ctx = testContext();
    for (let i = 0; i < CONNECTORS; i++) tokens.push((await createToken({ dir, tenant: tenantId(i), ttlMs: 3_600_000 }, ctx)).token);
    serve = await startServe(dir, ['--rate-limit', '0']);
  }, 120_000);

  it('200 connectors enroll and re-enroll while the CLI issues, rotates and revokes', async () => {
    const ca = await readFile(join(dir, 'ca.crt'));
    const load = pool(Array.from({ length: CONNECTORS }, (_, i) => i), 50, async (i: number) => {
      const first = await connectorRequest(tenantId(i));
      const enrolled = await estPost(serve.port, ca, 'simpleenroll', first.csrBase64, { token: tokens[i] });
      if (enrolled.status !== 200) return { enroll: enrolled.status, body: enrolled.body };
      const pem = pemOfAnswer(enrolled.body);
      const again = await connectorRequest(subjectOfPem(pem));
      const renewed = await estPost(serve.port, ca, 'simplereenroll', again.csrBase64, { pair: { cert: pem, key: first.keyPem } });
      return { enroll: 200, reenroll: renewed.status, body: renewed.body, serials: [pem, renewed.status === 200 ? pemOfAnswer(renewed.body) : ''] };
    });
    const cli = Promise.all([
      runCli(['rotate', '--dir', dir, '--all', '--key', 'ec-p256', '--json']),
      runCli(['revoke', '--dir', dir, '--tenant', central[0]!, '--reason', 'keyCompromise']),
      runCli(['issue', 'client', '--dir', dir, '--key', 'ec-p256', '7c000000-0000-4000-8000-000000000001', '7c000000-0000-4000-8000-000000000002']),
      runCli(['crl', '--dir', dir]),
    ]);
    const [results, commands] = await Promise.all([load, cli]);
    for (const r of commands) expect(r.code, r.stderr).toBe(0);
    const failed = (results as Array<{ enroll: number; reenroll?: number; body: string }>).filter((r) => r.enroll !== 200 || r.reenroll !== 200);
    expect(failed, JSON.stringify(failed.slice(0, 3))).toHaveLength(0);
    const rotated = JSON.parse(commands[0]!.stdout) as { rotation: { rotated: unknown[] } };
    expect(rotated.rotation.rotated.length).toBeGreaterThanOrEqual(central.length - 1);

    // Every certificate recorded once, serials unique, the audit chain whole.
    const adds = (await readFile(join(dir, 'index.jsonl'), 'utf8')).trim().split('\n').flatMap((line) => (JSON.parse(line) as { add?: Array<{ serial: string }> }).add ?? []).map((e) => e.serial);
    expect(new Set(adds).size).toBe(adds.length);
    const list = JSON.parse((await runCli(['list', '--dir', dir, '--all', '--json'])).stdout) as { certificates: Array<{ tenantId: string | null; keyAt?: string; status: string }> };
    const connectors = list.certificates.filter((c) => c.tenantId?.startsWith('7a'));
    expect(connectors.filter((c) => c.status === 'valid' && c.keyAt === 'connector')).toHaveLength(CONNECTORS);
    expect(connectors.filter((c) => c.status === 'superseded')).toHaveLength(CONNECTORS);
    expect(adds.length).toBe(1 + central.length + 2 * CONNECTORS + (rotated.rotation.rotated.length) + 2);
    const verify = await runCli(['audit-log', 'verify', '--dir', dir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(await serve.stop()).toBe(0); // the access log is complete once serve has exited
    expect(serve.log.filter((l) => l.status === 200)).toHaveLength(2 * CONNECTORS);
  }, 180_000);
});
