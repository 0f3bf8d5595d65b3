import { join } from 'node:path';
import type { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { failure, PkiError } from '../core/errors.js';
import { readCrls, type Crl } from '../core/crl.js';
import { equalBytes } from '../core/der.js';
import { Verifier, type Purpose, type VerifyFailure, type VerifyResult } from '../core/verify.js';
import type { CertStore } from '../store/cert-store.js';
import { readUserFile } from '../store/files.js';
import type { OpContext } from './context.js';
import { offboardHint } from './list.js';
import { missingTenants } from './missing-tenants.js';

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
  /** A file named on the command line: as given; with --all: relative to --dir. */
  file: string;
  ok: boolean;
  purpose: Purpose;
  chain: ChainEntry[];
  failures: VerifyFailure[];
  /** Whether a CRL of the leaf's issuer, signed by it, was checked for the leaf (--crl, or the tree's crl.pem). */
  revocationChecked: boolean;
  /** The file of that CRL. */
  crl?: string;
}

export interface VerifyReport {
  /** With --all: --dir as shown, which the files are relative to. */
  dir?: string;
  ok: boolean;
  at: string;
  files: FileVerdict[];
}

/** The certificates in `path` (the strict DER reader; input errors name the file). */
async function certsOf(path: string): Promise<Certificate[]> {
  return readCertificates(await readUserFile(path), path);
}

/**
 * Files read and parsed ahead of the one being validated (their signatures checked meanwhile). Small:
 * enough to keep the thread pool busy, while few models stay alive across garbage collections.
 */
const WINDOW = 16;
/** Fewer files than this are checked on the main thread alone: the hand-over to the pool is not worth it. */
const BACKGROUND_FROM = 8;

/** A file read and parsed ahead of validation, or why it could not be (--all: a finding, not an abort). */
interface Pending { job: Job; leaf?: Certificate; intermediates: Certificate[]; signature?: Promise<unknown>; unreadable?: VerifyFailure }

/** inTree: a file --all expects in the tree (missing or unreadable is a finding about the tree). */
interface Job { file: string; display: string; purpose: Purpose; hostname?: string; ip?: string; email?: string; expectCn?: string; inTree?: boolean }

/** The --all jobs: the server certificate as a server, each tenant's certificate as a client with CN = tenant id. */
async function treeJobs(store: CertStore): Promise<Job[]> {
  const { layout } = store;
  const jobs: Job[] = [{ file: layout.serverCert, display: layout.inTree(layout.serverCert), purpose: 'server', inTree: true }];
  for (const id of await store.allTenantDirs()) {
    const file = join(layout.clientsDir, id, 'client.crt');
    jobs.push({ file, display: layout.inTree(file), purpose: 'client', expectCn: id, inTree: true });
  }
  return jobs;
}

/**
 * A job's file read and parsed. A file the user named that cannot be is an input error (exit 2); a
 * file the tree lacks or holds broken is a finding about the tree (exit 1), and the rest is still checked.
 */
async function readJob(job: Job, tree: CertStore | undefined): Promise<Pending> {
  if (!job.inTree || !tree) {
    const [leaf, ...intermediates] = await certsOf(job.file);
    return { job, leaf, intermediates };
  }
  const refused = tree.foreignLink(job.file);
  if (refused) return { job, intermediates: [], unreadable: { code: 'FOREIGN_LINK', message: refused } };
  const read = tree.readTreeFile(job.file);
  if (!read.ok) return { job, intermediates: [], unreadable: { code: read.missing ? 'FILE_MISSING' : 'FILE_UNREADABLE', message: read.missing ? 'missing from the tree' : read.reason } };
  try {
    const [leaf, ...intermediates] = readCertificates(read.bytes, job.display);
    return { job, leaf, intermediates };
  } catch (error) {
    if (!(error instanceof PkiError)) throw error;
    return { job, intermediates: [], unreadable: { code: 'CERT_MALFORMED', message: error.message } };
  }
}

/** Verifies many leaf files in one process: anchors, pool and CRLs are read and parsed once. */
export async function verifyFiles(request: VerifyFilesRequest, ctx: OpContext): Promise<VerifyReport> {
  // The tree is only opened when it is read: files checked against a --ca need no store.
  const tree = request.all || request.ca.length === 0 ? await ctx.openStore(request.dir) : undefined;
  const caFiles = tree ? (request.ca.length ? request.ca : [tree.layout.caCert]) : request.ca;
  // The tree's own files are not read through a link pkictl did not make.
  const refuse = (path: string) => {
    const refused = tree?.foreignLink(path);
    if (refused) throw failure('FOREIGN_LINK', refused);
  };
  if (tree && request.ca.length === 0) {
    await tree.assertCa();
    refuse(tree.layout.caCert);
  }
  const roots = (await Promise.all(caFiles.map(certsOf))).flat();
  const pool = (await Promise.all(request.untrusted.map(certsOf))).flat();
  // The tree as it is served: its own CRL counts unless --crl names others, for --all and for files
  // checked against <dir>/ca.crt (a revoked tenant must fail the per-tenant CI gate). It only applies
  // to certificates its issuer signed: a foreign certificate is not affected by it.
  // root-crl.pem (revoked intermediates) counts too: a revoked intermediate takes its leaves with it.
  let crlFiles = request.crl;
  const treeCrls = tree ? [tree.layout.crl, tree.layout.rootCrl] : [];
  if (tree && crlFiles.length === 0) {
    crlFiles = [];
    for (const path of treeCrls) {
      const read = tree.readTreeFile(path);
      if (read.ok || !read.missing) {
        refuse(path);
        crlFiles.push(path);
      }
    }
  }
  const crlSources = await Promise.all(crlFiles.map(async (p) => ({ file: treeCrls.includes(p) ? tree!.layout.display(p) : p, lists: readCrls(await readUserFile(p), p) })));
  const crls: Crl[] = crlSources.flatMap((s) => s.lists);
  const wantChain = request.chain !== false;
  const verifier = new Verifier(roots, pool, ctx.crypto);
  /** Whether a CRL is signed by an issuer, checked once per pair (a tree's 10,000 leaves share one issuer). */
  const crlSigned = new Map<Crl, Map<string, Promise<boolean>>>();
  const signedBy = (crl: Crl, issuer: Certificate) => {
    const byIssuer = crlSigned.get(crl) ?? crlSigned.set(crl, new Map()).get(crl)!;
    return byIssuer.get(issuer.sha256) ?? byIssuer.set(issuer.sha256, verifier.signedBy(crl, issuer)).get(issuer.sha256)!;
  };
  /** The file of the CRL that covers `leaf`: its issuer's on the path, signed by that issuer (as core/verify/crl.ts picks it). */
  const leafCrl = async (leaf: Certificate, path: Certificate[]): Promise<string | undefined> => {
    const issuer = path[1];
    if (!issuer || crls.length === 0) return undefined;
    for (const { file, lists } of crlSources) {
      for (const crl of lists) if (equalBytes(crl.issuerDer, leaf.issuerDer) && (await signedBy(crl, issuer))) return file;
    }
    return undefined;
  };
  const at = request.at ?? ctx.now;
  const jobs: Job[] = request.all
    ? await treeJobs(tree!)
    : request.files.map((file) => ({ file, display: file, purpose: request.purpose, hostname: request.hostname, ip: request.ip, email: request.email, expectCn: request.expectCn }));

  // A pipeline: each leaf's signature is checked on libuv's thread pool (the other core) while the next
  // files are read and parsed here; a file is validated up to WINDOW files later, by then usually from
  // the verifier's signature cache. Verdicts are the verifier's alone: only where the RSA/ECDSA
  // arithmetic runs changes.
  const files: FileVerdict[] = [];
  const pending: Pending[] = [];
  const validate = async ({ job, leaf, intermediates, signature, unreadable }: Pending) => {
    if (!leaf) {
      files.push({ file: job.display, ok: false, purpose: job.purpose, chain: [], failures: [unreadable!], revocationChecked: false });
      return;
    }
    if (signature) await signature;
    const result: VerifyResult = await verifier.verify(
      leaf,
      { purpose: job.purpose, hostname: job.hostname, ip: job.ip, email: job.email, at, crls, maxDepth: request.maxDepth, expectCn: job.expectCn },
      intermediates,
    );
    const crl = await leafCrl(leaf, result.path);
    files.push({
      file: job.display,
      ok: result.ok,
      purpose: job.purpose,
      chain: result.ok && !wantChain ? [] : result.path.map((m) => ({ subject: m.subject, issuer: m.issuer, serial: m.serialHex })),
      // A tenant revoked but still in clients/: say how to take it out of the tree.
      failures: job.inTree && job.expectCn ? result.failures.map((f) => (f.code === 'REVOKED' ? { ...f, message: f.message + offboardHint(job.expectCn!) } : f)) : result.failures,
      revocationChecked: crl !== undefined,
      ...(crl !== undefined && { crl }),
    });
  };
  const background = jobs.length >= BACKGROUND_FROM;
  for (const job of jobs) {
    const item = await readJob(job, tree);
    if (background && item.leaf) {
      // Settled when the thread pool's answer has been delivered (the event loop runs at each await).
      const signature = verifier.checkLeafSignatureInBackground(item.leaf, item.intermediates);
      item.signature = signature;
      void signature.then(() => (item.signature = undefined));
    }
    pending.push(item);
    if (pending.length >= WINDOW) await validate(pending.shift()!);
  }
  for (const item of pending) await validate(item);
  if (request.all) {
    // Tenants the index lists as valid whose directory is gone: no file to check, and a failure (issue 13).
    const present = jobs.flatMap((j) => (j.expectCn !== undefined ? [j.expectCn] : []));
    for (const m of await missingTenants(tree!, present)) {
      files.push({ file: `${m.path}/client.crt`, ok: false, purpose: 'client', chain: [], failures: [{ code: m.code, message: m.message }], revocationChecked: false });
    }
  }
  // Said once all is read: an input error stays the one line on stderr.
  const treeCrl = tree && crlFiles[0] === tree.layout.crl ? tree.layout.display(tree.layout.crl) : undefined;
  if (treeCrl && files.some((f) => f.crl === treeCrl)) ctx.notify(`revocation checked against ${treeCrl}`);
  return { ...(request.all && { dir: tree!.layout.display(tree!.layout.root) }), ok: files.every((f) => f.ok), at: at.toISOString(), files };
}
