// Verify N client certificates (default 1,000) in one call: `pkictl verify --ca ca.crt FILES…`
// vs `openssl verify -CAfile ca.crt FILES…`, same files, same CA (RSA-4096 by default, like the
// platform's). The tree comes from bench/lib.mjs makeTree (pkictl's core, one shared leaf key);
// --tree DIR keeps it between runs (made once if missing or of another size).
// Both commands get the file list as arguments, so both pay their own start-up once.
// Wall time is what the target is about; CPU time (user + sys of the child and its threads, from
// bash's `times` in a separate run) says what the work costs and moves much less with machine load.
// Run: npm run bench:verify [-- --n 1000 --ca-key rsa-4096 --runs 3 --tree /tmp/pkictl-verify-1k]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { arg, BIN, childCpuMs, fmt, machineLine, makeTree, median, NODE, scratch, table } from './lib.mjs';

const N = Number(arg('n', 1000));
const runs = Number(arg('runs', 3));
const caKey = arg('ca-key', 'rsa-4096');
const hasVerify = /^\s+verify\b/m.test(spawnSync(NODE, [BIN, '--help'], { encoding: 'utf8' }).stdout);
if (!hasVerify) {
  console.log('pkictl has no verify command in this build: nothing to compare.');
  process.exit(0);
}
const root = arg('tree', join(scratch('pkictl-bench-verify-'), 'certs'));
let made = 'reused';
let files;
const caCert = join(root, 'ca.crt');
if (existsSync(caCert) && existsSync(join(root, 'clients')) && readdirSync(join(root, 'clients')).length === N) {
  files = readdirSync(join(root, 'clients')).map((id) => join(root, 'clients', id, 'client.crt'));
} else {
  const t0 = performance.now();
  ({ files } = await makeTree(root, N, { caKey, expiring: 0 }));
  made = `made in ${fmt((performance.now() - t0) / 1000, 1)} s`;
}

const commands = [
  { name: `pkictl verify --ca ca.crt (${N} files)`, cmd: NODE, args: [BIN, 'verify', '--ca', caCert, ...files], ok: (r) => r.status === 0 },
  { name: `openssl verify -CAfile ca.crt (${N} files)`, cmd: 'openssl', args: ['verify', '-CAfile', caCert, ...files], ok: (r) => r.status === 0 && r.stdout.split('\n').filter((l) => l.endsWith(': OK')).length === N },
];

const samples = new Map(commands.map((c) => [c.name, []]));
const cpu = new Map(commands.map((c) => [c.name, []]));
for (let i = 0; i < runs; i++) {
  for (const c of commands) {
    const start = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (!c.ok(r)) throw new Error(`${c.name} did not accept every certificate (exit ${r.status}): ${(r.stderr || r.stdout).slice(0, 400)}`);
    samples.get(c.name).push(ms);
    cpu.get(c.name).push(childCpuMs(c.cmd, c.args));
  }
}
console.log(`verify ${N} client certificates (${caKey} CA, tree ${made}), median of ${runs} interleaved runs · ${machineLine()}\n`);
const [pk, os] = commands.map((c) => median(samples.get(c.name)));
console.log(
  table(
    commands.map((c) => {
      const m = median(samples.get(c.name));
      return {
        command: c.name,
        'median ms': fmt(m),
        'min ms': fmt(Math.min(...samples.get(c.name))),
        'CPU ms': fmt(median(cpu.get(c.name))),
        'certs/s': fmt((N * 1000) / m, 0),
        '× openssl': fmt(os / m, 2),
      };
    }),
  ),
);
console.log(`\ntarget: one pkictl call faster than one openssl call: ${pk < os ? 'met' : 'MISSED'} (${fmt(os / pk, 2)}×)`);
