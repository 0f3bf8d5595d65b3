import { join } from 'node:path';
import { certificateBytes, firstElement } from '../core/cert-peek.js';
import { checkLeafSignatureInBackground, verifyModels, type ModelResult, type Purpose, type VerifyFailure } from '../core/verify.js';
import { modelOf, modelOfDer, NamesUnavailable, useX509, type CertModel } from '../core/verify/cert-model.js';
import type { x509 } from '../core/x509.js';
import type { CertStore } from '../store/cert-store.js';
import { readUserFile } from '../store/files.js';
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

/**
 * The certificates in `path` as validator models, built straight from the DER (cached per process by
 * DER hash, so a CA given once is modelled once; `remember: false` for leaves). Bytes the x509-free
 * reader does not understand go through cert-input.ts readCertificates (@peculiar/x509) as before:
 * same certificates, same errors.
 */
async function certsOf(path: string, remember = true): Promise<CertModel[]> {
  const data = await readUserFile(path);
  return modelsOf(data, path, remember) ?? slowCertsOf(data, path, remember);
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
async function treeJobs(store: CertStore): Promise<Job[]> {
  const { layout } = store;
  const jobs: Job[] = [{ file: layout.serverCert, display: layout.display(layout.serverCert), purpose: 'server' }];
  for (const id of await store.allTenantDirs()) {
    const file = join(layout.clientsDir, id, 'client.crt');
    jobs.push({ file, display: layout.display(file), purpose: 'client', expectCn: id });
  }
  return jobs;
}

/** Verifies many leaf files in one process: anchors, pool and CRLs are read and parsed once. */
export async function verifyFiles(request: VerifyFilesRequest, ctx: OpContext): Promise<VerifyReport> {
  // The tree is only opened when it is read: files checked against a --ca need no store.
  let opened: CertStore | undefined;
  const store = () => (opened ??= ctx.openStore(request.dir));
  const caFiles = request.ca.length ? request.ca : [store().layout.caCert];
  const roots = (await Promise.all(caFiles.map((p) => certsOf(p)))).flat();
  const pool = (await Promise.all(request.untrusted.map((p) => certsOf(p)))).flat();
  // --all checks the tree as it is served: its own CRL counts unless --crl names others.
  let crlFiles = request.crl;
  const treeCrl = request.all && crlFiles.length === 0 ? store().readTreeFile(store().layout.crl) : undefined;
  if (treeCrl && (treeCrl.ok || !treeCrl.missing)) {
    const { layout } = store();
    crlFiles = [layout.crl];
    ctx.notify(`checking revocation against ${layout.display(layout.crl)}`);
  }
  let crls: x509.X509Crl[] = [];
  if (crlFiles.length) {
    const { readCrls } = await import('../core/verify/crl-read.js');
    crls = (await Promise.all(crlFiles.map(async (p) => readCrls(await readUserFile(p), p)))).flat();
  }
  const wantChain = request.chain !== false;
  if (wantChain) await loadNames();
  const at = request.at ?? ctx.now;
  const jobs: Job[] = request.all
    ? await treeJobs(store())
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
    const data = await readUserFile(job.file);
    const certs = modelsOf(data, job.file, false) ?? (await slowCertsOf(data, job.file, false));
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
