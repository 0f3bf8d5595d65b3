#!/usr/bin/env node
// Entry point. Loads the bundled build (dist/bundle/, from `npm run build`), which starts faster
// than the per-file dist/cli/ that `tsc` emits; if tsc has run since the bundle was made, the
// per-file build is newer and wins, so `npx tsc -p .` alone never runs stale code.
import { statSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one call that needs no code at all: answered before any module is loaded.
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const mtime = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const bundled = mtime('../dist/bundle/main.js') >= mtime('../dist/cli/main.js');
  const { main } = await import(bundled ? '../dist/bundle/main.js' : '../dist/cli/main.js');
  await main(process.argv);
}
