// bench:est: N connectors (default 2,000) re-enroll against `pkictl serve` on loopback, a fresh TLS
// connection each, 50 in flight; the same requests against the floor, a bare node:https mTLS server
// that verifies the client certificate and answers without signing or storing (bench/est-floor.mjs).
// Side by side in one run: renewals/s, p50/p99 latency, and the ratio to the floor; once with an
// ECDSA P-256 CA key, once with RSA-4096 (the signature then bounds the rate).
// Each tree is made with the CLI (bulk issuance: EC pairs made by pkictl); a first pass re-enrolls
// them all (each tenant moves to a key on its connector: the tree's key is destroyed then), and the
// measured pass re-enrolls them again, the steady state of a fleet of connectors.
// Run: npm run bench:est [-- --n 2000 --concurrency 50 --ca-keys ec-p256,rsa-4096]
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectorRequest, estPost, pemOfAnswer, subjectOfPem } from './est-load.mjs';
import { arg, BIN, fmt, machineLine, NODE, pool, ROOT, run, scratch, table } from './lib.mjs';

const N = Number(arg('n', 2000));
const CONCURRENCY = Number(arg('concurrency', 50));
const CA_KEYS = arg('ca-keys', 'ec-p256,rsa-4096').split(',');
const work = scratch('pkictl-bench-est-');

/** A child process that prints a line matching `pattern` once it listens: resolves with the port and a stop(). */
function startChild(args, pattern) {
  const child = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  return new Promise((resolve, reject) => {
    const look = (d) => {
      seen += d;
      const m = pattern.exec(seen);
      if (m) resolve({ port: Number(m[1]), cpuMs: () => cpuMsOf(child.pid), stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) });
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${seen}`)));
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux). */
function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ = 100)
}

/** One pass: every connector re-enrolls once; latencies (ms), wall time, and the server's CPU per request. */
async function pass(server, ca, connectors) {
  const port = server.port;
  const cpuBefore = server.cpuMs();
  const requests = await Promise.all(connectors.map(async (c) => ({ c, next: await connectorRequest(subjectOfPem(c.cert)) })));
  const started = performance.now();
  const answers = await pool(requests, CONCURRENCY, ({ c, next }) => estPost(port, ca, 'simplereenroll', next.csrBase64, { pair: c }).then((a) => ({ ...a, next })));
  const seconds = (performance.now() - started) / 1000;
  const cpuPerRequest = (server.cpuMs() - cpuBefore) / connectors.length;
  const failed = answers.filter((a) => a.status !== 200);
  if (failed.length > 0) throw new Error(`${failed.length} re-enrollments failed, e.g. ${failed[0].status} ${failed[0].body}`);
  return { seconds, cpuPerRequest, latencies: answers.map((a) => a.ms).sort((a, b) => a - b), renewed: answers.map((a) => ({ cert: a.body, key: a.next.keyPem })), requests };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const row = (name, r, floor) => ({ '': name, 'renewals/s': fmt(N / r.seconds, 0), 'p50 ms': fmt(quantile(r.latencies, 0.5), 1), 'p99 ms': fmt(quantile(r.latencies, 0.99), 1), 'server CPU ms/req': fmt(r.cpuPerRequest, 2), 'vs floor': floor ? `${fmt(floor.seconds / r.seconds, 2)}×` : '1.00×' });

console.log(machineLine());
console.log(`${N} connectors, ${CONCURRENCY} in flight, a fresh TLS connection per request (EC P-256 connector keys)\n`);
const rows = [];
for (const caKey of CA_KEYS) {
  const dir = join(work, caKey, 'certs');
  const ids = Array.from({ length: N }, (_, i) => `${(0x20000000 + i).toString(16)}-0000-4000-8000-000000000000`);
  writeFileSync(join(work, `ids-${caKey}.txt`), ids.join('\n') + '\n');
  await run(NODE, [BIN, 'init', '--dir', dir, '--key', caKey]);
  await run(NODE, [BIN, 'issue', 'client', '--dir', dir, '--key', 'ec-p256', '--from', join(work, `ids-${caKey}.txt`)]);
  await run(NODE, [BIN, 'issue', 'server', '--dir', dir, '--key', 'ec-p256', '--san', 'DNS:localhost', '--san', 'IP:127.0.0.1']);
  const ca = readFileSync(join(dir, 'ca.crt'));
  let connectors = ids.map((id) => ({ cert: readFileSync(join(dir, 'clients', id, 'client.crt'), 'utf8'), key: readFileSync(join(dir, 'clients', id, 'client.key'), 'utf8') }));

  const serve = await startChild([BIN, 'serve', '--dir', dir, '--listen', '127.0.0.1:0', '--rate-limit', '0'], /listening on https:\/\/127\.0\.0\.1:(\d+)\//);
  const warm = await pass(serve, ca, connectors);
  connectors = warm.renewed.map((r) => ({ cert: pemOfAnswer(r.cert), key: r.key }));
  const measured = await pass(serve, ca, connectors);
  await serve.stop();

  const floorServer = await startChild([join(ROOT, 'bench', 'est-floor.mjs'), join(dir, 'ca.crt'), join(dir, 'server.crt'), join(dir, 'server.key')], /listening (\d+)/);
  const floor = await pass(floorServer, ca, connectors);
  await floorServer.stop();

  rows.push(row(`floor: node:https mTLS, verify only (${caKey} CA)`, floor));
  rows.push(row(`pkictl serve, first re-enrollment (${caKey} CA key)`, warm, floor));
  rows.push(row(`pkictl serve, re-enrollment (${caKey} CA key)`, measured, floor));
}
console.log(table(rows));
