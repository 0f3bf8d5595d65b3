// The bundled build that bin/pkictl.js runs: src/cli/main.ts and everything it imports (node_modules
// included) in dist/bundle/, one file for start-up plus one chunk per lazily imported module.
// Why: CI calls pkictl once per file, and resolving + reading ~60 files from dist/ and node_modules
// cost more than the code itself (numbers: npm run bench:cold). `tsc` still emits dist/ per file
// (typecheck, and scripts that import dist/core/*). Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'bundle');
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  write: false,
  bundle: true,
  // Chunks keep the lazy import() boundaries: --version does not parse x509, zod or cli-progress.
  // Every chunk stays in dist/bundle/, two levels below the package root like dist/store/:
  // templates.ts finds ../../templates from its own import.meta.url.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS dependencies (cli-progress) call require() for node builtins; ESM output has none.
  banner: { js: "import { createRequire as __pkictlRequire } from 'node:module'; const require = __pkictlRequire(import.meta.url);" },
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

// Rebuilding while pkictl runs (tests, other shells) must not break a running process: every file
// is renamed into place whole, chunks (content-hashed names) before main.js, and chunks of earlier
// builds stay a while for processes that loaded the old main.js and import lazily.
mkdirSync(outdir, { recursive: true });
const files = [...result.outputFiles].sort((a, b) => Number(basename(a.path) === 'main.js') - Number(basename(b.path) === 'main.js'));
for (const file of files) {
  const temp = join(outdir, `.${basename(file.path)}.${process.pid}.tmp`);
  writeFileSync(temp, file.contents);
  renameSync(temp, file.path);
}
const current = new Set(files.map((f) => basename(f.path)));
const STALE_MS = 10 * 60 * 1000;
for (const name of readdirSync(outdir)) {
  const path = join(outdir, name);
  if (!current.has(name) && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
}
