#!/usr/bin/env node
// Entry point. CommonJS on purpose (bin/package.json): node starts a CommonJS entry without its ESM
// loader, so `--version` costs what `node -e ''` does (npm run bench:cold). Everything else is
// ESM, loaded with import(): the bundled build (dist/bundle/, from `npm run build`), which starts
// faster than the per-file dist/cli/ that `tsc` emits; if tsc has run since the bundle was made,
// the per-file build is newer and wins, so `npx tsc -p .` alone never runs stale code.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one call that needs no code at all: answered before any module is loaded.
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`);
} else {
  const mtime = (path) => statSync(join(__dirname, path), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const entry = mtime('../dist/bundle/main.js') >= mtime('../dist/cli/main.js') ? '../dist/bundle/main.js' : '../dist/cli/main.js';
  import(entry).then(
    ({ main }) => main(process.argv),
    (error) => {
      process.stderr.write(`error: cannot load ${entry} (${error.message}); run npm run build\n`);
      process.exitCode = 1;
    },
  );
}
