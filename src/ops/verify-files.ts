import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { certificateBytes, firstElement } from '../core/cert-peek.js';
import { checkLeafSignatureInBackground, verifyModels, type ModelResult, type Purpose, type VerifyFailure } from '../core/verify.js';
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

/**
 * The certificates in `path` as validator models, built straight from the DER (cached per process by
 * DER hash, so a CA given once is modelled once; `remember: false` for leaves). Bytes the x509-free
 * reader does not understand go through cert-input.ts readCertificates (@peculiar/x509) as before:
 * same certificates, same errors.
 */
async function certsOf(path: string, remember = true): Promise<CertModel[]> {
  const data = readRegularFile(path);
  return (data && modelsOf(data, path, remember)) ?? slowCertsOf(data ?? (await readInput(path)), path, remember);
}

/** The models of every certificate in `data`; undefined when one needs @peculiar/x509 (slowCertsOf). Input errors throw. */
function modelsOf(data: Uint8Array, path: string, remember: boolean): CertModel[] | undefined {
  const models: CertModel[] = [];
  for (const c of certificateBytes(data, path)) {
    let m: CertModel | undefined;
    try {
      m = modelOfDer(firstElement(c.der), { remember });
    } catch {
      m = undefined;
    }
    if (!m) return undefined;
    models.push(m);
  }
  return models;
}

async function slowCertsOf(data: Uint8Array, path: string, remember: boolean): Promise<CertModel[]> {
  const models = modelsOf(data, path, remember);
  if (models) return models;
  const { readCertificates } = await import('../core/cert-input.js');
  return readCertificates(data, path).map(modelOf);
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

/**
 * Files read and parsed ahead of the one being validated (their signatures checked meanwhile). Small:
 * enough to keep the thread pool busy, while few models stay alive across garbage collections.
 */
const WINDOW = 16;
/** Fewer files than this are checked on the main thread alone: the hand-over to the pool is not worth it. */
const BACKGROUND_FROM = 8;

interface Pending { job: Job; leaf: CertModel; intermediates: CertModel[]; signature?: Promise<unknown> }

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
  const caFiles = request.ca.length ? request.ca : [layout.caCert];
  const roots = (await Promise.all(caFiles.map((p) => certsOf(p)))).flat();
  const pool = (await Promise.all(request.untrusted.map((p) => certsOf(p)))).flat();
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

  // A pipeline: each leaf's signature is checked on libuv's thread pool (the other core) while the next
  // files are read and parsed here; a file is validated up to WINDOW files later, by then usually from
  // signedBy's cache. Verdicts are verifyModels' alone: only where the RSA/ECDSA arithmetic runs changes.
  const files: FileVerdict[] = [];
  const pending: Pending[] = [];
  const check = ({ job, leaf, intermediates }: Pending) =>
    verifyModels(leaf, {
      roots, intermediates, purpose: job.purpose, hostname: job.hostname, ip: job.ip, email: job.email,
      at, crls, maxDepth: request.maxDepth, expectCn: job.expectCn,
    });
  const record = (job: Job, result: ModelResult) =>
    files.push({
      file: job.display,
      ok: result.ok,
      purpose: job.purpose,
      chain: result.ok && !wantChain ? [] : result.path.map((m) => ({ subject: m.x.subject, issuer: m.x.issuer, serial: m.x.serialNumber })),
      failures: result.failures,
    });
  /** The common case without a promise: signature already checked, verified, no names needed. */
  const validateNow = (item: Pending): boolean => {
    if (item.signature) return false;
    let result: ModelResult;
    try {
      result = check(item);
    } catch (error) {
      if (error instanceof NamesUnavailable) return false;
      throw error;
    }
    if ((!result.ok || wantChain) && !namesLoaded) return false;
    record(item.job, result);
    return true;
  };
  /** Everything else: waits for the signature, loads @peculiar/x509 for names when needed (same result). */
  const validateLater = async (item: Pending) => {
    await item.signature;
    const result = await withNames(() => check(item));
    if (!result.ok || wantChain) await loadNames();
    record(item.job, result);
  };
  const background = jobs.length >= BACKGROUND_FROM;
  for (const job of jobs) {
    const data = readRegularFile(job.file);
    const certs = (data && modelsOf(data, job.file, false)) ?? (await slowCertsOf(data ?? (await readInput(job.file)), job.file, false));
    const leaf = certs[0]!;
    const item: Pending = { job, leaf, intermediates: certs.length > 1 ? [...certs.slice(1), ...pool] : pool };
    if (background) {
      // Settled when the thread pool's answer has been delivered (the event loop runs at each await).
      const signature = checkLeafSignatureInBackground(leaf, roots, item.intermediates);
      item.signature = signature;
      void signature.then(() => (item.signature = undefined));
    }
    pending.push(item);
    if (pending.length >= WINDOW) {
      const head = pending.shift()!;
      if (!validateNow(head)) await validateLater(head);
    }
  }
  for (const item of pending) if (!validateNow(item)) await validateLater(item);
  return { ok: files.every((f) => f.ok), at: at.toISOString(), files };
}
