// The bundled build that bin/pkictl.js runs: src/cli/main.ts and everything it imports (node_modules
// included) in dist/bundle/, one file for start-up plus one chunk per lazily imported module.
// Why: CI calls pkictl once per file, and resolving + reading ~60 files from dist/ and node_modules
// cost more than the code itself (numbers: npm run bench:cold). `tsc` still emits dist/ per file
// (typecheck, and scripts that import dist/core/*). Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  bundle: true,
  // Chunks keep the lazy import() boundaries: --version does not parse x509, zod or cli-progress.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Every chunk stays in dist/bundle/, two levels below the package root like dist/store/:
  // templates.ts finds ../../templates from its own import.meta.url.
  // CommonJS dependencies (cli-progress) call require() for node builtins; ESM output has none.
  banner: { js: "import { createRequire as __pkictlRequire } from 'node:module'; const require = __pkictlRequire(import.meta.url);" },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
