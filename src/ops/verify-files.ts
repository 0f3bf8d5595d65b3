import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { readCrls, type Crl } from '../core/crl.js';
import { inputError } from '../core/errors.js';
import { Verifier, type Purpose, type VerifyFailure, type VerifyResult } from '../core/verify.js';
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
  /** Fill FileVerdict.chain for verified files (default true; the text output does not print it). */
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
 * through libuv's thread pool were most of the time for 1,000 files) with open, fstat, read and close
 * only; undefined for anything else (stdin, directories, missing, unreadable, too large), which then
 * goes through readInput for its one-line errors.
 */
function readRegularFile(path: string): Uint8Array | undefined {
  if (path === '-') return undefined;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const info = fstatSync(fd);
    if (!info.isFile() || info.size > MAX_INPUT_BYTES) return undefined;
    const size = info.size;
    // A size of 0 may still have content (procfs and the like): readFileSync reads those to the end.
    if (size === 0) return readFileSync(fd);
    const data = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, data, done, size - done, null);
      if (n === 0) break;
      done += n;
    }
    return done === size ? data : data.subarray(0, done);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) try { closeSync(fd); } catch { /* read already done or failed */ }
  }
}

/** The certificates in `path` (the strict DER reader; input errors name the file). */
async function certsOf(path: string): Promise<Certificate[]> {
  return readCertificates(readRegularFile(path) ?? (await readInput(path)), path);
}

/**
 * Files read and parsed ahead of the one being validated (their signatures checked meanwhile). Small:
 * enough to keep the thread pool busy, while few models stay alive across garbage collections.
 */
const WINDOW = 16;
/** Fewer files than this are checked on the main thread alone: the hand-over to the pool is not worth it. */
const BACKGROUND_FROM = 8;

interface Pending { job: Job; leaf: Certificate; intermediates: Certificate[]; signature?: Promise<unknown> }

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
  const crls: Crl[] = (await Promise.all(crlFiles.map(async (p) => readCrls(await readInput(p), p)))).flat();
  const wantChain = request.chain !== false;
  const verifier = new Verifier(roots, pool, ctx.crypto);
  const at = request.at ?? ctx.now;
  const jobs: Job[] = request.all
    ? await treeJobs(layout)
    : request.files.map((file) => ({ file, display: file, purpose: request.purpose, hostname: request.hostname, ip: request.ip, email: request.email, expectCn: request.expectCn }));

  // A pipeline: each leaf's signature is checked on libuv's thread pool (the other core) while the next
  // files are read and parsed here; a file is validated up to WINDOW files later, by then usually from
  // the verifier's signature cache. Verdicts are the verifier's alone: only where the RSA/ECDSA
  // arithmetic runs changes.
  const files: FileVerdict[] = [];
  const pending: Pending[] = [];
  const validate = async ({ job, leaf, intermediates, signature }: Pending) => {
    if (signature) await signature;
    const result: VerifyResult = await verifier.verify(
      leaf,
      { purpose: job.purpose, hostname: job.hostname, ip: job.ip, email: job.email, at, crls, maxDepth: request.maxDepth, expectCn: job.expectCn },
      intermediates,
    );
    files.push({
      file: job.display,
      ok: result.ok,
      purpose: job.purpose,
      chain: result.ok && !wantChain ? [] : result.path.map((m) => ({ subject: m.subject, issuer: m.issuer, serial: m.serialHex })),
      failures: result.failures,
    });
  };
  const background = jobs.length >= BACKGROUND_FROM;
  for (const job of jobs) {
    const certs = await certsOf(job.file);
    const item: Pending = { job, leaf: certs[0]!, intermediates: certs.slice(1) };
    if (background) {
      // Settled when the thread pool's answer has been delivered (the event loop runs at each await).
      const signature = verifier.checkLeafSignatureInBackground(item.leaf, item.intermediates);
      item.signature = signature;
      void signature.then(() => (item.signature = undefined));
    }
    pending.push(item);
    if (pending.length >= WINDOW) await validate(pending.shift()!);
  }
  for (const item of pending) await validate(item);
  return { ok: files.every((f) => f.ok), at: at.toISOString(), files };
}
