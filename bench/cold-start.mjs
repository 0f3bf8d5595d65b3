// Cold start: what CI pays per call of `pkictl --version`, `pkictl inspect --field cn FILE` and
// `pkictl verify FILE`, next to bare `node -e ''` and `openssl x509 -noout -subject`.
// Every round runs each command once, in turn, so a change of machine load hits all of them alike;
// the table shows the median and the fastest run of each (the fastest is the least disturbed).
// Run: npm run bench:cold [-- --runs 30 --entry bin/pkictl.js]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { arg, BIN, childCpuMs, fmt, machineLine, median, NODE, scratch, table } from './lib.mjs';

const runs = Number(arg('runs', 30));
const entry = resolve(arg('entry', BIN));
const dir = scratch('pkictl-cold-');
const ca = join(dir, 'certs');

// One EC CA and one client certificate to look at (made with pkictl itself).
const TENANT = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const must = (r, what) => {
  if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return r;
};
must(spawnSync(NODE, [BIN, 'init', '--dir', ca, '--key', 'ec-p256'], { encoding: 'utf8' }), 'pkictl init');
must(spawnSync(NODE, [BIN, 'issue', 'client', '--dir', ca, '--key', 'ec-p256', TENANT], { encoding: 'utf8' }), 'pkictl issue client');
const file = join(ca, 'clients', TENANT, 'client.crt');
writeFileSync(join(dir, 'empty.js'), '');

const hasVerify = /^\s+verify\b/m.test(spawnSync(NODE, [entry, '--help'], { encoding: 'utf8' }).stdout);
const commands = [
  { name: "node -e ''", cmd: NODE, args: ['-e', ''], baseline: true },
  { name: 'openssl x509 -noout -subject', cmd: 'openssl', args: ['x509', '-noout', '-subject', '-in', file] },
  { name: 'pkictl --version', cmd: NODE, args: [entry, '--version'], target: 1.3 },
  { name: 'pkictl inspect --field cn FILE', cmd: NODE, args: [entry, 'inspect', '--field', 'cn', file], target: 2 },
  ...(hasVerify ? [{ name: 'pkictl verify FILE', cmd: NODE, args: [entry, 'verify', '--ca', join(ca, 'ca.crt'), file], target: 2 }] : []),
];
// Prove each command works before timing it.
for (const c of commands) must(spawnSync(c.cmd, c.args, { encoding: 'utf8' }), c.name);

const samples = new Map(commands.map((c) => [c.name, []]));
const cpu = new Map(commands.map((c) => [c.name, []]));
for (let i = 0; i < runs + 2; i++) {
  for (const c of commands) {
    const t0 = process.hrtime.bigint();
    spawnSync(c.cmd, c.args, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 2) samples.get(c.name).push(ms); // two warm-up rounds (page cache)
    if (i >= 2) cpu.get(c.name).push(childCpuMs(c.cmd, c.args));
  }
}

const base = samples.get(commands[0].name);
const baseMedian = median(base);
const baseMin = Math.min(...base);
const baseCpu = median(cpu.get(commands[0].name));
console.log(`cold start, ${runs} interleaved runs each · ${machineLine()}`);
console.log(`entry: ${entry} · wall time: median and fastest run · CPU: user + sys of the child (bash times, 10 ms resolution)\n`);
console.log(
  table(
    commands.map((c) => {
      const s = samples.get(c.name);
      const ratio = median(s) / baseMedian;
      return {
        command: c.name,
        'median ms': fmt(median(s)),
        'min ms': fmt(Math.min(...s)),
        '× node (median)': fmt(ratio, 2),
        '× node (min)': fmt(Math.min(...s) / baseMin, 2),
        'CPU ms (median)': fmt(median(cpu.get(c.name))),
        '× node (CPU)': fmt(median(cpu.get(c.name)) / baseCpu, 2),
        target: c.target ? `≤ ${c.target}× ${ratio <= c.target ? 'met' : 'MISSED'}` : '',
      };
    }),
  ),
);
if (!hasVerify) console.log('\n(pkictl verify is not available in this build: its row is left out)');
