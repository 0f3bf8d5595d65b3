// Shared helpers for the benchmarks in bench/*.mjs (not a test: numbers, printed as tables).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'pkictl.js');
export const NODE = process.execPath;

/** `--name value` / `--name=value` from argv, else the default. */
export function arg(name, fallback) {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return fallback;
}

export function scratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!process.argv.includes('--keep')) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One line describing the machine and its load, printed above every table: numbers mean little without it. */
export function machineLine() {
  const [one, five] = loadavg();
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout.trim();
  return `${cpus().length} × ${cpus()[0]?.model.trim()} · load ${one.toFixed(2)} (1 min) ${five.toFixed(2)} (5 min) · node ${process.version} · ${openssl}`;
}

/** Runs a command to completion; rejects with its stderr on a non-zero exit. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}`))));
  });
}

export async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function sh(script, options = {}) {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8', ...options });
}

/**
 * CPU time (user + sys, ms) of one run of `cmd args`, from bash's `times` (the children's line): far
 * less sensitive to other load on the machine than wall time. 10 ms resolution.
 */
export function childCpuMs(cmd, args) {
  const out = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; times', 'bash', cmd, ...args], { encoding: 'utf8' }).stdout;
  const [user, sys] = out.trim().split('\n')[1].split(/\s+/).map((t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return (Number(m[1]) * 60 + Number(m[2])) * 1000;
  });
  return user + sys;
}

export const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** A plain fixed-width table (console.table adds quotes and an index column). */
export function table(rows) {
  const keys = Object.keys(rows[0]);
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(width[i]) : String(c).padStart(width[i]))).join('  ');
  return [line(keys), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(keys.map((k) => r[k])))].join('\n');
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Small async pool, for the benchmarks' own set-up work. */
export async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

/**
 * A certs/ tree with `n` tenants, made in-process and cheaply: pkictl's own core signs every
 * certificate (so they are exactly what pkictl issues), but all leaves share one ECDSA P-256 key
 * and the files are written plainly (clients/<id>/client.crt 0644 + client.key 0600 in 0700
 * directories: the contract layout, as the openssl recipe or a pre-index pkictl leaves it) without
 * the store's index, audit log or per-pair fsyncs. `expiring` of them get notAfter within 30 days
 * (issued 70 days ago for 90), so a scan has something to find. Needs `npm run build` (dist/bundle).
 */
export async function makeTree(root, n, { caKey = 'ec-p256', expiring = Math.floor(n / 10), concurrency = 8 } = {}) {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { randomUUID } = await import('node:crypto');
  const { issueRoot, issueLeaf } = await import('../dist/bundle/core-issue.js');
  const { newKey } = await import('../dist/bundle/core-keys.js');
  const crypto = globalThis.crypto;
  const now = new Date();
  const caKeys = await newKey(caKey, crypto);
  const rootCert = await issueRoot({ subject: { C: 'MX', O: 'Luzzi', CN: 'Bench Root CA' }, spki: caKeys.spki, privateKey: caKeys.privateKey, days: 3650, now }, crypto);
  const ca = { der: rootCert.der, privateKey: caKeys.privateKey };
  await mkdir(join(root, 'clients'), { recursive: true, mode: 0o700 });
  await writeFile(join(root, 'ca.crt'), rootCert.pem, { mode: 0o644 });
  await writeFile(join(root, 'ca.key'), caKeys.keyPem, { mode: 0o600 });
  const leaf = await newKey('ec-p256', crypto);
  const leafKeyPem = leaf.keyPem;
  const ids = Array.from({ length: n }, () => randomUUID());
  await pool(ids, concurrency, async (id, i) => {
    const issued = i < expiring ? new Date(now.getTime() - 70 * 86_400_000) : now;
    const cert = await issueLeaf({ role: 'client', subject: { C: 'MX', ST: 'CDMX', O: 'Luzzi', CN: id }, spki: leaf.spki, days: 90, now: issued }, ca, crypto);
    const dir = join(root, 'clients', id);
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, 'client.key'), leafKeyPem, { mode: 0o600 });
    await writeFile(join(dir, 'client.crt'), cert.pem, { mode: 0o644 });
  });
  return { ids, files: ids.map((id) => join(root, 'clients', id, 'client.crt')), caCert: join(root, 'ca.crt') };
}
