import { createHash, randomUUID } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { openssl, publicKeyOf } from '../helpers/openssl.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

/** Shared by the store, rotate/revoke/crl/audit-log and stress tests: a real CA tree made by the CLI. */

export const EC = ['--key', 'ec-p256'];

export async function cli(args: string[], env?: Record<string, string | undefined>): Promise<CliResult> {
  return runCli(args, { env });
}

export async function initCa(dir: string): Promise<void> {
  const r = await cli(['init', '--dir', dir, ...EC]);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
}

export const uuids = (n: number) => Array.from({ length: n }, () => randomUUID());

export async function issueClients(dir: string, ids: string[], extra: string[] = []): Promise<void> {
  const r = await cli(['issue', 'client', '--dir', dir, ...EC, ...extra, ...ids]);
  if (r.code !== 0) throw new Error(`issue client failed: ${r.stderr}`);
}

/** Every entry under root: type, mode, link target or content hash. Equal digests = nothing changed. */
export async function treeDigest(root: string): Promise<string> {
  const lines: string[] = [];
  async function walk(dir: string) {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await lstat(path);
      const rel = relative(root, path);
      if (info.isSymbolicLink()) lines.push(`L ${rel} -> ${await readlink(path)}`);
      else if (info.isDirectory()) {
        lines.push(`D ${rel} ${(info.mode & 0o777).toString(8)}`);
        await walk(path);
      } else lines.push(`F ${rel} ${(info.mode & 0o777).toString(8)} ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
    }
  }
  await walk(root);
  return lines.join('\n');
}

/** openssl's view: the key is the certificate's key, and the certificate verifies against the CA. */
export async function pairProblem(dir: string, cert: string, key: string): Promise<string | undefined> {
  let c: string, k: string;
  try {
    [c, k] = await Promise.all([publicKeyOf(cert, 'cert'), publicKeyOf(key, 'key')]);
  } catch (error) {
    return (error as Error).message;
  }
  if (c !== k) return `${cert}: key does not match`;
  const v = await openssl(['verify', '-CAfile', join(dir, 'ca.crt'), cert]);
  if (v.code !== 0) return `${cert}: ${v.stderr || v.stdout}`;
  return undefined;
}

export const clientPaths = (dir: string, id: string) => ({ cert: join(dir, 'clients', id, 'client.crt'), key: join(dir, 'clients', id, 'client.key') });

export async function serialOf(cert: string): Promise<string> {
  const r = await openssl(['x509', '-in', cert, '-noout', '-serial']);
  return r.stdout.trim().replace(/^serial=/, '').toLowerCase();
}

export interface IndexTxn {
  intend?: Array<{ entry: { serial: string; kind: string; tenantId?: string } }>;
  abandon?: string[];
  add?: Array<{ serial: string; kind: string; tenantId?: string; status: string }>;
  set?: Array<{ serial: string; status: string; reason?: string }>;
}

export interface IndexRecord {
  kind: string;
  tenantId?: string;
  /** valid, superseded, revoked, or pending: recorded as about to be installed, not settled yet (a killed run). */
  status: string;
  /** The revocation reason, for status 'revoked'. */
  reason?: string;
}

/** The index folded the way the store does: serial → {kind, tenantId, status, reason}. */
export async function readIndex(dir: string): Promise<Map<string, IndexRecord>> {
  const text = await readFile(join(dir, 'index.jsonl'), 'utf8');
  const map = new Map<string, IndexRecord>();
  for (const line of text.split('\n').filter(Boolean)) {
    const txn = JSON.parse(line) as IndexTxn;
    for (const { entry: e } of txn.intend ?? []) map.set(e.serial, { kind: e.kind, tenantId: e.tenantId, status: 'pending' });
    for (const serial of txn.abandon ?? []) map.delete(serial);
    for (const e of txn.add ?? []) map.set(e.serial, { kind: e.kind, tenantId: e.tenantId, status: e.status });
    for (const s of txn.set ?? []) Object.assign(map.get(s.serial)!, { status: s.status }, s.reason && { reason: s.reason });
  }
  return map;
}
