#!/usr/bin/env node
// Entry point. CommonJS on purpose (bin/package.json): node starts a CommonJS entry without its ESM
// loader, so `--version` costs what `node -e ''` does (npm run bench:cold). Everything else is the
// one build, dist/bundle/main.js (ESM, from `npm run build`), loaded with import().
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one call that needs no code at all: answered before any module is loaded.
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`);
} else {
  const entry = '../dist/bundle/main.js';
  import(entry).then(
    ({ main }) => main(process.argv),
    (error) => {
      process.stderr.write(`error: cannot load ${entry} (${error.message}); run npm run build\n`);
      process.exitCode = 1;
    },
  );
}
