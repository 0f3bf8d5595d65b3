// The compromise drill on N tenants (default 10,000, EC P-256 leaves, a tree made with
// `init --intermediate`): `pkictl ca compromised --scope intermediate` and `--scope root`, each on
// its own copy of the tree, side by side with the floor — `pkictl rotate --all --include-server`,
// re-issuing every pair with new keys and nothing else — and the ratio drill / floor.
// The tree is made with the CLI (bulk issuance from a file of ids); --tree DIR keeps it between runs.
// Run: npm run bench:drill [-- --n 10000 --tree /tmp/pkictl-drill-10k]
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, BIN, fmt, machineLine, NODE, run, scratch, table, timed } from './lib.mjs';

const N = Number(arg('n', 10000));
const work = scratch('pkictl-bench-drill-');
const tree = arg('tree', join(work, 'tree'));
const dir = join(tree, 'certs');

let made = 'reused';
if (!existsSync(join(dir, 'clients')) || readdirSync(join(dir, 'clients')).length !== N) {
  rmSync(tree, { recursive: true, force: true });
  const ids = Array.from({ length: N }, (_, i) => `${(0x10000000 + i).toString(16)}-0000-4000-8000-000000000000`);
  writeFileSync(join(work, 'ids.txt'), ids.join('\n') + '\n');
  const { ms } = await timed(async () => {
    await run(NODE, [BIN, 'init', '--dir', dir, '--key', 'ec-p256', '--intermediate']);
    await run(NODE, [BIN, 'issue', 'server', '--dir', dir, '--key', 'ec-p256']);
    await run(NODE, [BIN, 'issue', 'client', '--dir', dir, '--key', 'ec-p256', '--from', join(work, 'ids.txt')]);
  });
  made = `made in ${fmt(ms / 1000, 1)} s`;
}

const commands = [
  { name: 'floor: pkictl rotate --all --include-server (re-issue only)', args: ['rotate', '--all', '--include-server', '--json'], floor: true },
  { name: 'pkictl ca compromised --scope intermediate', args: ['ca', 'compromised', '--scope', 'intermediate', '--json'] },
  { name: 'pkictl ca compromised --scope root', args: ['ca', 'compromised', '--scope', 'root', '--json'] },
];
const results = [];
for (const c of commands) {
  const copy = join(work, 'copy');
  rmSync(copy, { recursive: true, force: true });
  cpSync(dir, copy, { recursive: true, verbatimSymlinks: true });
  const { ms, value } = await timed(() => run(NODE, [BIN, ...c.args, '--dir', copy]));
  const doc = JSON.parse(value);
  const pairs = doc.rotation ? doc.rotation.rotated.length : doc.reissued;
  if (!c.floor && !doc.finished) throw new Error(`${c.name} did not finish: ${value.slice(0, 300)}`);
  results.push({ ...c, ms, pairs, revoked: doc.revoked ?? 0 });
}
const floor = results.find((r) => r.floor).ms;
console.log(`compromise drill on ${N} tenants + the server (tree ${made}: ${dir}), one run each on a fresh copy · ${machineLine()}\n`);
console.log(
  table(
    results.map((r) => ({
      command: r.name,
      's': fmt(r.ms / 1000, 1),
      'pairs re-issued': r.pairs,
      revoked: r.floor ? '' : r.revoked,
      'pairs/s': fmt((r.pairs * 1000) / r.ms, 0),
      'vs floor': r.floor ? '1.00×' : `${fmt(r.ms / floor, 2)}×`,
    })),
  ),
);
