import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateBytes, firstElement } from '../core/cert-peek.js';
import { inputError } from '../core/errors.js';
import { verifyModels, type ModelResult, type Purpose, type VerifyFailure } from '../core/verify.js';
import { modelOf, modelOfDer, NamesUnavailable, useX509, type CertModel } from '../core/verify/cert-model.js';
import type { x509 } from '../core/x509.js';
import { Layout } from '../store/layout.js';
import { MAX_INPUT_BYTES, readInput } from '../store/read-input.js';
import type { OpContext } from './context.js';

export interface VerifyFilesRequest {
  /** leaf files (each may carry its intermediates after the leaf) */
  files: string[];
  dir: string;
  /** trust anchors; default <dir>/ca.crt */
  ca: string[];
  untrusted: string[];
  crl: string[];
  purpose: Purpose;
  hostname?: string;
  ip?: string;
  email?: string;
  at?: Date;
  maxDepth?: number;
  expectCn?: string;
  /** verify server.crt and every clients/{id}/client.crt in dir */
  all: boolean;
  /**
   * Fill FileVerdict.chain for verified files (default true). The text output does not print it; without
   * it, and while every file verifies, @peculiar/x509 is never loaded.
   */
  chain?: boolean;
}

export interface ChainEntry { subject: string; issuer: string; serial: string }

export interface FileVerdict {
  file: string;
  ok: boolean;
  purpose: Purpose;
  chain: ChainEntry[];
  failures: VerifyFailure[];
}

export interface VerifyReport {
  ok: boolean;
  at: string;
  files: FileVerdict[];
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * A plain file that readInput would accept, read synchronously (four promise round trips per file
 * through libuv's thread pool were most of the time for 1,000 files); undefined for anything else
 * (stdin, directories, missing, unreadable, too large), which then goes through readInput for its
 * one-line errors.
 */
function readRegularFile(path: string): Uint8Array | undefined {
  if (path === '-') return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const info = fstatSync(fd);
    return info.isFile() && info.size <= MAX_INPUT_BYTES ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* read already done or failed */ }
  }
}

/**
 * The certificates in `path` as validator models, built straight from the DER (cached per process by
 * DER hash, so a CA given once is modelled once). Bytes the x509-free reader does not understand go
 * through cert-input.ts readCertificates (@peculiar/x509) as before: same certificates, same errors.
 */
async function certsOf(path: string): Promise<CertModel[]> {
  const data = readRegularFile(path) ?? (await readInput(path));
  const models: CertModel[] = [];
  for (const c of certificateBytes(data, path)) {
    let m: CertModel | undefined;
    try {
      m = modelOfDer(firstElement(c.der));
    } catch {
      m = undefined;
    }
    if (!m) {
      const { readCertificates } = await import('../core/cert-input.js');
      return readCertificates(data, path).map(modelOf);
    }
    models.push(m);
  }
  return models;
}

let namesLoaded = false;
/** Registers @peculiar/x509 so models can name themselves (subjects in failures and chains). */
async function loadNames(): Promise<void> {
  if (namesLoaded) return;
  const { x509 } = await import('../core/x509.js');
  useX509(x509.X509Certificate);
  namesLoaded = true;
}

/** Runs `verify`; if it needed certificate names before x509 was loaded, loads it and runs again (same result, names included). */
async function withNames(verify: () => ModelResult): Promise<ModelResult> {
  try {
    return verify();
  } catch (error) {
    if (!(error instanceof NamesUnavailable)) throw error;
    await loadNames();
    return verify();
  }
}

interface Job { file: string; display: string; purpose: Purpose; hostname?: string; ip?: string; email?: string; expectCn?: string }

/** The --all jobs: the server certificate as a server, each tenant's certificate as a client with CN = tenant id. */
async function treeJobs(layout: Layout): Promise<Job[]> {
  const jobs: Job[] = [{ file: layout.serverCert, display: layout.display(layout.serverCert), purpose: 'server' }];
  let tenants: string[] = [];
  try {
    tenants = (await readdir(layout.clientsDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const id of tenants) {
    const file = join(layout.clientsDir, id, 'client.crt');
    jobs.push({ file, display: layout.display(file), purpose: 'client', expectCn: id });
  }
  return jobs;
}

/** Verifies many leaf files in one process: anchors, pool and CRLs are read and parsed once. */
export async function verifyFiles(request: VerifyFilesRequest, ctx: OpContext): Promise<VerifyReport> {
  const layout = new Layout(request.dir);
  if (request.all && request.files.length) throw inputError('USAGE', '--all verifies the whole --dir; give either --all or files, not both');
  if (!request.all && request.files.length === 0) throw inputError('USAGE', 'give at least one certificate file, or --all');
  const caFiles = request.ca.length ? request.ca : [layout.caCert];
  const roots = (await Promise.all(caFiles.map(certsOf))).flat();
  const pool = (await Promise.all(request.untrusted.map(certsOf))).flat();
  // --all checks the tree as it is served: its own CRL counts unless --crl names others.
  let crlFiles = request.crl;
  if (request.all && crlFiles.length === 0 && (await exists(layout.crl))) {
    crlFiles = [layout.crl];
    ctx.notify(`checking revocation against ${layout.display(layout.crl)}`);
  }
  let crls: x509.X509Crl[] = [];
  if (crlFiles.length) {
    const { readCrls } = await import('../core/verify/crl-read.js');
    crls = (await Promise.all(crlFiles.map(async (p) => readCrls(await readInput(p), p)))).flat();
  }
  const wantChain = request.chain !== false;
  if (wantChain) await loadNames();
  const at = request.at ?? ctx.now;
  const jobs: Job[] = request.all
    ? await treeJobs(layout)
    : request.files.map((file) => ({ file, display: file, purpose: request.purpose, hostname: request.hostname, ip: request.ip, email: request.email, expectCn: request.expectCn }));

  const files: FileVerdict[] = [];
  for (const job of jobs) {
    const [leaf, ...bundled] = await certsOf(job.file);
    const intermediates = bundled.length ? [...bundled, ...pool] : pool;
    const result = await withNames(() =>
      verifyModels(leaf!, {
        roots, intermediates, purpose: job.purpose, hostname: job.hostname, ip: job.ip, email: job.email,
        at, crls, maxDepth: request.maxDepth, expectCn: job.expectCn,
      }),
    );
    if (!result.ok || wantChain) await loadNames();
    files.push({
      file: job.display,
      ok: result.ok,
      purpose: job.purpose,
      chain: result.ok && !wantChain ? [] : result.path.map((m) => ({ subject: m.x.subject, issuer: m.x.issuer, serial: m.x.serialNumber })),
      failures: result.failures,
    });
  }
  return { ok: files.every((f) => f.ok), at: at.toISOString(), files };
}
