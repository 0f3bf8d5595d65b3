import { spawn } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN } from '../helpers/run-cli.js';
import { consistency } from './consistency.js';
import { cli, clientPaths, readIndex } from './fixture.js';

/**
 * The guarantees of issue 7 as reusable scenarios: test/store/*.test.ts runs them small inside
 * `npm test`; test/stress/*.stress.ts runs them at full size (`npm run test:stress`).
 */

export interface PairReport {
  tenants: number;
  /** One line per failing tenant: "<tenant>: <what is wrong>". */
  problems: string[];
  /** The serial on disk of each tenant whose certificate could be read. */
  serials: Array<{ tenant: string; serial: string }>;
}

/** Reads every tenant's pair by its contract paths: key matches certificate, signed by the CA, CN = tenant. */
export async function checkAllPairs(dir: string): Promise<PairReport> {
  const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
  const ids = (await readdir(join(dir, 'clients'))).filter((n) => !n.startsWith('.'));
  const problems: string[] = [];
  const serials: PairReport['serials'] = [];
  for (const id of ids) {
    const { cert, key } = clientPaths(dir, id);
    try {
      const x = new X509Certificate(await readFile(cert));
      const pub = createPublicKey(await readFile(key)).export({ type: 'spki', format: 'der' });
      if (!x.publicKey.export({ type: 'spki', format: 'der' }).equals(pub)) problems.push(`${id}: key does not match certificate`);
      if (!x.verify(ca.publicKey)) problems.push(`${id}: certificate not signed by the CA`);
      if (!x.subject.includes(`CN=${id}`)) problems.push(`${id}: CN is not the tenant id`);
      serials.push({ tenant: id, serial: x.serialNumber.toLowerCase() });
    } catch (error) {
      problems.push(`${id}: ${(error as Error).message}`);
    }
  }
  return { tenants: ids.length, problems, serials };
}

/** "serial S is on disk for tenants A, B" for every serial that more than one tenant holds. */
function duplicateSerials(pairs: PairReport): string[] {
  const holders = new Map<string, string[]>();
  for (const { tenant, serial } of pairs.serials) holders.set(serial, [...(holders.get(serial) ?? []), tenant]);
  return [...holders].filter(([, tenants]) => tenants.length > 1).map(([serial, tenants]) => `serial ${serial} is on disk for tenants ${tenants.join(', ')}`);
}

/** The failing line `audit-log verify` names, or nothing when the chain is intact. */
async function auditProblems(dir: string): Promise<string[]> {
  const r = await cli(['audit-log', 'verify', '--dir', dir]);
  return r.code === 0 ? [] : [`audit-log verify (exit ${r.code}): ${r.stderr.trim()}`];
}

/**
 * After a kill: the next command that takes the lock (here `pkictl crl`) settles what the killed run
 * left, and then the index lists exactly what is deployed, with nothing pending.
 */
async function settledProblems(dir: string): Promise<string[]> {
  const r = await cli(['crl', '--dir', dir]);
  if (r.code !== 0) return [`pkictl crl after the kill failed (exit ${r.code}): ${r.stderr.trim()}`];
  const exact = await consistency(dir);
  return [
    ...[...(await readIndex(dir))].filter(([, e]) => e.status === 'pending').map(([serial]) => `serial ${serial} is still pending`),
    ...exact.unrecorded.map((t) => `tenant ${t}: deployed certificate not recorded as valid`),
    ...exact.phantoms.map((t) => `tenant ${t}: the index lists as valid a certificate that is not deployed`),
    ...(exact.auditLogVerify.code === 0 ? [] : [`audit-log verify: ${exact.auditLogVerify.out}`]),
  ];
}

export interface ParallelIssueReport {
  tenants: number;
  clientIndexEntries: number;
  auditLines: number;
  exitCodes: Array<number | null>;
  /** One line per failing item: a run (its tenants), a tenant, a serial, the audit log's first bad line. */
  problems: string[];
}

/** `processes` CLI processes at once, each issuing `perProcess` distinct tenants into one CA directory. */
export async function parallelIssue(dir: string, processes: number, perProcess: number, ids: (n: number) => string[]): Promise<ParallelIssueReport> {
  const batches = Array.from({ length: processes }, () => ids(perProcess));
  const results = await Promise.all(batches.map((batch) => cli(['issue', 'client', '--dir', dir, '--key', 'ec-p256', ...batch])));
  const problems = results.flatMap((r, i) => (r.code === 0 ? [] : [`run ${i + 1} (tenants ${batches[i]!.join(', ')}) exited ${r.code}: ${r.stderr.trim()}`]));
  const pairs = await checkAllPairs(dir);
  problems.push(...pairs.problems, ...duplicateSerials(pairs));
  // Each tenant: one index entry, the serial on disk, and one audit line recording its issuance.
  const index = await readIndex(dir);
  const clientEntries = [...index].filter(([, e]) => e.kind === 'client');
  const onDisk = new Map(pairs.serials.map((p) => [p.tenant, p.serial]));
  const auditText = await readFile(join(dir, 'audit.log'), 'utf8').catch(() => '');
  const auditLines = auditText.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; tenant?: string; serial?: string });
  for (const tenant of batches.flat()) {
    const indexed = clientEntries.filter(([, e]) => e.tenantId === tenant).map(([serial]) => serial);
    if (indexed.length !== 1 || indexed[0] !== onDisk.get(tenant)) problems.push(`tenant ${tenant}: serial on disk ${onDisk.get(tenant) ?? 'none'}, in the index [${indexed.join(', ')}]`);
    const recorded = auditLines.filter((l) => l.action === 'issue' && l.tenant === tenant).length;
    if (recorded !== 1) problems.push(`tenant ${tenant}: ${recorded} issue lines in the audit log`);
  }
  problems.push(...(await auditProblems(dir)));
  return { tenants: pairs.tenants, clientIndexEntries: clientEntries.length, auditLines: auditLines.length, exitCodes: results.map((r) => r.code), problems };
}

export interface CrashReport {
  runs: number;
  kills: number;
  killedAfterMs: number[];
  rotatedBeforeFinal: number;
  /** "after kill N: " and the failing tenant, serial or audit line. */
  problemsAfterKills: string[];
  finalRotated: number;
  /** After the final run: tenants still due for rotation, and every failing item. */
  afterFinal: { due: string[]; problems: string[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every failing item of the tree: pairs, duplicate serials, certificates not in the index, the audit chain. */
async function treeProblems(dir: string): Promise<string[]> {
  const pairs = await checkAllPairs(dir);
  // Recorded (as pending) before written: whatever a kill interrupts, every certificate on disk is in the index.
  const index = await readIndex(dir);
  const unrecorded = pairs.serials.filter((p) => !index.has(p.serial)).map((p) => `tenant ${p.tenant}: serial ${p.serial} is on disk but not in the index`);
  return [...pairs.problems, ...duplicateSerials(pairs), ...unrecorded, ...(await auditProblems(dir))];
}

/**
 * Starts `pkictl <args>` and SIGKILLs it at a random moment (up to maxDelayMs) after its first index
 * commit, so start-up and planning are over; a run that ends first is not killed. Returns the delay
 * when it was killed.
 */
async function killDuring(dir: string, args: string[], maxDelayMs: number, random: () => number): Promise<number | undefined> {
  const indexLines = async () => (await readFile(join(dir, 'index.jsonl'), 'utf8')).split('\n').length;
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => { exited = true; resolve(); }));
  const base = await indexLines();
  while (!exited && (await indexLines()) === base) await sleep(10);
  const delay = Math.round(random() * maxDelayMs);
  await Promise.race([sleep(delay), exit]);
  const killed = !exited;
  if (killed) child.kill('SIGKILL');
  await exit;
  return killed ? delay : undefined;
}

/**
 * Tenants hold 1-day certificates; `rotate --renew-before 30d --days 90` makes them all due.
 * Each run is SIGKILLed at a random moment after its first rotation is recorded; after every kill
 * every pair must match and verify, serials stay unique and the audit chain stays intact.
 * Then one run without a kill must finish the job, leaving nothing due.
 */
export async function crashRotate(dir: string, kills: number, maxDelayMs: number, random = Math.random): Promise<CrashReport> {
  const report: CrashReport = { runs: 0, kills: 0, killedAfterMs: [], rotatedBeforeFinal: 0, problemsAfterKills: [], finalRotated: 0, afterFinal: { due: [], problems: [] } };
  const args = ['rotate', '--dir', dir, '--renew-before', '30d', '--days', '90', '--json'];
  for (let i = 0; i < kills; i++) {
    const delay = await killDuring(dir, args, maxDelayMs, random);
    report.runs++;
    if (delay !== undefined) {
      report.kills++;
      report.killedAfterMs.push(delay);
    }
    report.problemsAfterKills.push(...[...(await treeProblems(dir)), ...(await settledProblems(dir))].map((p) => `after kill ${i + 1}: ${p}`));
  }
  type Plan = Array<{ action: string; tenantId?: string; kind: string }>;
  const duePlan = async () => {
    const r = await cli(['rotate', '--dir', dir, '--renew-before', '30d', '--dry-run', '--json']);
    return (JSON.parse(r.stdout) as { rotation: { plan: Plan } }).rotation.plan;
  };
  const before = await duePlan();
  report.rotatedBeforeFinal = before.filter((p) => p.action !== 'rotate').length; // not due any more: rotated by a killed run
  const final = await cli(args);
  report.runs++;
  if (final.code !== 0) throw new Error(`the rerun failed (exit ${final.code}): ${final.stderr}`);
  report.finalRotated = JSON.parse(final.stdout).rotation.rotated.length;
  report.afterFinal.due = (await duePlan()).filter((p) => p.action === 'rotate').map((p) => p.tenantId ?? p.kind);
  // After a run that finished, nothing is pending and the index lists exactly what is deployed.
  const exact = await consistency(dir);
  report.afterFinal.problems = [
    ...(await treeProblems(dir)),
    ...[...(await readIndex(dir))].filter(([, e]) => e.status === 'pending').map(([serial]) => `serial ${serial} is still pending`),
    ...exact.unrecorded.map((t) => `tenant ${t}: deployed certificate not recorded as valid`),
    ...exact.phantoms.map((t) => `tenant ${t}: the index lists as valid a certificate that is not deployed`),
  ];
  return report;
}

export interface CrashIssueReport {
  kills: number;
  /** Tenant directories present after the kills (before the rerun). */
  issuedBeforeRerun: number;
  /** After each kill: certificates on disk that the index does not hold (as valid or pending). */
  problemsAfterKills: string[];
  /** After the rerun with --skip-existing: pending left, phantoms, unrecorded, audit chain, pairs. */
  afterRerun: string[];
}

/**
 * `issue client --from` of `ids`, SIGKILLed `kills` times at a random moment after its first commit
 * (each killed run continuing with --skip-existing), then run once to the end. After each kill
 * every certificate on disk is recorded (as pending at least); after the final run the index lists
 * exactly what is deployed, with nothing pending, and the audit chain holds.
 */
export async function crashIssue(dir: string, ids: string[], kills: number, maxDelayMs: number, random = Math.random): Promise<CrashIssueReport> {
  const report: CrashIssueReport = { kills: 0, issuedBeforeRerun: 0, problemsAfterKills: [], afterRerun: [] };
  const idsFile = join(dir, '..', 'ids.txt');
  await writeFile(idsFile, ids.join('\n') + '\n');
  const args = ['issue', 'client', '--dir', dir, '--key', 'ec-p256', '--from', idsFile, '--skip-existing'];
  for (let i = 0; i < kills; i++) {
    if ((await killDuring(dir, args, maxDelayMs, random)) !== undefined) report.kills++;
    const index = await readIndex(dir);
    const pairs = await checkAllPairs(dir);
    const unrecorded = pairs.serials.filter((p) => !index.has(p.serial)).map((p) => `tenant ${p.tenant}: serial ${p.serial} is on disk but not in the index`);
    report.problemsAfterKills.push(...[...unrecorded, ...(await settledProblems(dir))].map((p) => `after kill ${i + 1}: ${p}`));
  }
  report.issuedBeforeRerun = (await checkAllPairs(dir)).tenants;
  const final = await cli(args);
  if (final.code !== 0) throw new Error(`the rerun failed (exit ${final.code}): ${final.stderr}`);
  const exact = await consistency(dir);
  const pairs = await checkAllPairs(dir);
  const present = new Set(pairs.serials.map((p) => p.tenant));
  report.afterRerun = [
    ...pairs.problems,
    ...duplicateSerials(pairs),
    ...ids.filter((id) => !present.has(id)).map((id) => `tenant ${id} was not issued`),
    ...[...(await readIndex(dir))].filter(([, e]) => e.status === 'pending').map(([serial]) => `serial ${serial} is still pending`),
    ...exact.unrecorded.map((t) => `tenant ${t}: deployed certificate not recorded as valid`),
    ...exact.phantoms.map((t) => `tenant ${t}: the index lists as valid a certificate that is not deployed`),
    ...(exact.auditLogVerify.code === 0 ? [] : [`audit-log verify: ${exact.auditLogVerify.out}`]),
  ];
  return report;
}

/**
 * A connector's loop in Python: load_cert_chain(client.crt, client.key) for every tenant, over and
 * over; a failed load is retried once at once. Stops when `stopFile` exists and prints its counts.
 */
export const READER_PY = String.raw`
import json, os, ssl, sys
root, stop = sys.argv[1], sys.argv[2]
ids = sorted(n for n in os.listdir(os.path.join(root, 'clients')) if not n.startswith('.'))
stats = {'loads': 0, 'straddled': 0, 'failedTwice': 0, 'missing': 0, 'errors': []}
def load(i):
    d = os.path.join(root, 'clients', i)
    ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(os.path.join(d, 'client.crt'), os.path.join(d, 'client.key'))
while not os.path.exists(stop):
    for i in ids:
        stats['loads'] += 1
        try:
            load(i)
        except FileNotFoundError as e:
            stats['missing'] += 1
            stats['errors'].append(f'{i}: missing: {e}')
        except (ssl.SSLError, OSError) as e:
            stats['straddled'] += 1
            try:
                load(i)
            except FileNotFoundError as e2:
                stats['missing'] += 1
                stats['errors'].append(f'{i}: missing: {e2}')
            except Exception as e2:
                stats['failedTwice'] += 1
                stats['errors'].append(f'{i}: failed twice: {e2}')
print(json.dumps(stats))
`;

/** The same loop with Go's tls.LoadX509KeyPair, what the gateway-side tooling uses. */
export const READER_GO = String.raw`package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	root, stop := os.Args[1], os.Args[2]
	entries, _ := os.ReadDir(filepath.Join(root, "clients"))
	var ids []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	stats := map[string]interface{}{}
	loads, straddled, failedTwice, missing := 0, 0, 0, 0
	errs := []string{}
	load := func(id string) error {
		d := filepath.Join(root, "clients", id)
		_, err := tls.LoadX509KeyPair(filepath.Join(d, "client.crt"), filepath.Join(d, "client.key"))
		return err
	}
	for {
		if _, err := os.Stat(stop); err == nil {
			break
		}
		for _, id := range ids {
			loads++
			if err := load(id); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					missing++
					errs = append(errs, id+": missing: "+err.Error())
					continue
				}
				straddled++
				if err2 := load(id); err2 != nil {
					if errors.Is(err2, fs.ErrNotExist) {
						missing++
						errs = append(errs, id+": missing: "+err2.Error())
					} else {
						failedTwice++
						errs = append(errs, id+": failed twice: "+err2.Error())
					}
				}
			}
		}
	}
	stats["loads"], stats["straddled"], stats["failedTwice"], stats["missing"], stats["errors"] = loads, straddled, failedTwice, missing, errs
	out, _ := json.Marshal(stats)
	os.Stdout.Write(append(out, '\n'))
}
`;

export interface ReaderReport {
  loads: number;
  straddled: number;
  failedTwice: number;
  missing: number;
  /** "<tenant>: missing: …" or "<tenant>: failed twice: …", one per failed load. */
  errors: string[];
  rotated: number;
}

/** Runs `rotate --all` (rounds times) while a Python or Go reader loads every pair in a tight loop. */
export async function swapUnderReader(dir: string, rounds: number, language: 'python' | 'go' = 'python'): Promise<ReaderReport> {
  const stop = join(dir, '..', `reader-${language}.stop`);
  let command: string;
  let args: string[];
  if (language === 'python') {
    const script = join(dir, '..', 'reader.py');
    await writeFile(script, READER_PY);
    [command, args] = ['python3', [script, dir, stop]];
  } else {
    const source = join(dir, '..', 'reader.go');
    const binary = join(dir, '..', 'reader-go');
    await writeFile(source, READER_GO);
    await new Promise<void>((resolve, reject) =>
      spawn('go', ['build', '-o', binary, source], { stdio: 'inherit', env: { ...process.env, GO111MODULE: 'off', GOCACHE: join(dir, '..', '.gocache') } }).on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`go build failed (${code})`)),
      ),
    );
    [command, args] = [binary, [dir, stop]];
  }
  const reader = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  reader.stdout.on('data', (d) => (out += d));
  reader.stderr.on('data', (d) => (err += d));
  const done = new Promise<void>((resolve) => reader.on('exit', () => resolve()));
  await sleep(300);
  let rotated = 0;
  for (let i = 0; i < rounds; i++) {
    const r = await cli(['rotate', '--dir', dir, '--all', '--json']);
    if (r.code !== 0) throw new Error(`rotate failed: ${r.stderr}`);
    rotated += JSON.parse(r.stdout).rotation.rotated.length;
  }
  await writeFile(stop, '');
  await done;
  if (!out) throw new Error(`reader failed: ${err}`);
  return { ...(JSON.parse(out) as Omit<ReaderReport, 'rotated'>), rotated };
}
