// The one build: esbuild bundles src/ (node_modules included) into dist/bundle/. `tsc` only
// typechecks (noEmit). Entries:
//   main.js        src/cli/main.ts: what bin/pkictl.js runs
//   store-lock.js  src/store/lock.ts: test/store/lock.test.ts holds the lock from another process
//   core-verify.js, core-cert-input.js, core-crl.js (src/core/…): test/conformance/limbo-shim.mjs
//   core-issue.js  src/core/issue.ts, core-keys.js src/core/keys.ts: bench/lib.mjs makes its trees
//   core-csr.js, core-subject.js, core-pkcs7.js: bench/est-load.mjs makes the connectors' requests (bench:est, tests)
// Code shared between entries lands in chunks, so every caller runs the same code as the CLI.
// Why a bundle: CI calls pkictl once per file, and resolving + reading ~60 files from a per-file
// build and node_modules cost more than the code itself (numbers: npm run bench:cold).
// The version comes from package.json (PKICTL_VERSION in src/cli/main.ts). Run by `npm run build`.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'bundle');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = {
  main: 'src/cli/main.ts',
  'store-lock': 'src/store/lock.ts',
  'core-verify': 'src/core/verify.ts',
  'core-cert-input': 'src/core/cert-input.ts',
  'core-crl': 'src/core/crl.ts',
  'core-issue': 'src/core/issue.ts',
  'core-keys': 'src/core/keys.ts',
  'core-csr': 'src/core/csr.ts',
  'core-subject': 'src/core/subject.ts',
  'core-pkcs7': 'src/core/pkcs7.ts',
};
const result = await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir,
  write: false,
  bundle: true,
  define: { PKICTL_VERSION: JSON.stringify(version) },
  // Chunks keep the lazy import() boundaries: --version does not parse x509, zod or cli-progress.
  // Every file stays in dist/bundle/, two levels below the package root as in src/store/:
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
// is renamed into place whole, chunks (content-hashed names) before the entries, and chunks of
// earlier builds stay a while for processes that loaded an older entry and import lazily.
mkdirSync(outdir, { recursive: true });
const isEntry = (file) => Object.hasOwn(entries, basename(file.path, '.js'));
const files = [...result.outputFiles].sort((a, b) => Number(isEntry(a)) - Number(isEntry(b)));
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
