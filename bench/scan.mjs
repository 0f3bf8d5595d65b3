// Scan a tree of N tenants (default 10,000): `pkictl rotate --dry-run --renew-before 30d` and
// `pkictl list --expiring-within 30d`: wall time of one call each, start-up included. openssl has
// no multi-file mode for this, so the reference row is a bare read of every certificate by a node
// process (readdir + readFileSync each): the start-up and I/O floor of any scan.
// The tree: bench/lib.mjs makeTree (pkictl's core signs every certificate with an EC P-256 CA,
// one shared leaf key, plain files in the contract layout; 10% expire within 30 days). Making it
// takes a while, so --tree DIR keeps it between runs (made once if missing).
// Run: npm run bench:scan [-- --n 10000 --tree /tmp/pkictl-tree-10k --runs 3]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { arg, BIN, fmt, machineLine, makeTree, median, NODE, scratch, table } from './lib.mjs';

const N = Number(arg('n', 10000));
const runs = Number(arg('runs', 3));
const tree = arg('tree', join(scratch('pkictl-bench-scan-'), 'certs'));

let made = 'reused';
if (!existsSync(join(tree, 'clients')) || readdirSync(join(tree, 'clients')).length !== N) {
  const t0 = performance.now();
  await makeTree(tree, N, { expiring: Math.floor(N / 10) });
  made = `made in ${fmt((performance.now() - t0) / 1000, 1)} s`;
}
const has = (name) => new RegExp(`^\\s+${name}\\b`, 'm').test(spawnSync(NODE, [BIN, '--help'], { encoding: 'utf8' }).stdout);
const commands = [
  {
    name: 'node: read every client.crt (I/O floor)',
    floor: true,
    cmd: NODE,
    args: ['-e', `const fs=require('fs'),p=require('path'),d=${JSON.stringify(join(tree, 'clients'))};for(const t of fs.readdirSync(d))fs.readFileSync(p.join(d,t,'client.crt'))`],
  },
  ...(has('rotate') ? [{ name: 'pkictl rotate --dry-run --renew-before 30d', cmd: NODE, args: [BIN, 'rotate', '--dry-run', '--dir', tree, '--renew-before', '30d', '--json'], target: 2000 }] : []),
  ...(has('list') ? [{ name: 'pkictl list --expiring-within 30d', cmd: NODE, args: [BIN, 'list', '--dir', tree, '--expiring-within', '30d', '--json'], target: 2000 }] : []),
];
const samples = new Map(commands.map((c) => [c.name, []]));
const outputs = new Map();
for (let i = 0; i < runs; i++) {
  for (const c of commands) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(c.cmd, c.args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    samples.get(c.name).push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0 && r.status !== 1) throw new Error(`${c.name}: exit ${r.status}: ${r.stderr.slice(0, 400)}`);
    outputs.set(c.name, r.stdout);
  }
}
// What each scan found, to show it did the work: N/10 certificates due (rotate) or expiring (list).
const found = (name) => {
  try {
    const doc = JSON.parse(outputs.get(name));
    if (doc.rotation) return doc.rotation.plan.filter((p) => p.action !== 'skip').length;
    return doc.certificates.filter((c) => c.kind === 'client').length;
  } catch {
    return '?';
  }
};
console.log(`scan of ${N} tenants (tree ${made}: ${tree}), median of ${runs} interleaved runs · ${machineLine()}\n`);
console.log(
  table(
    commands.map((c) => {
      const m = median(samples.get(c.name));
      return { command: c.name, 'median ms': fmt(m), 'min ms': fmt(Math.min(...samples.get(c.name))), 'tenants/s': fmt((N * 1000) / m, 0), 'found (due/expiring)': c.floor ? '' : found(c.name), target: c.target ? `≤ ${c.target / 1000} s ${m <= c.target ? 'met' : 'MISSED'}` : '' };
    }),
  ),
);
if (!has('rotate') || !has('list')) console.log('\n(rotate or list is missing from this build: its row is left out)');
