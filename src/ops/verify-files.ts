import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readCertificates } from '../core/cert-input.js';
import { inputError } from '../core/errors.js';
import { verifyChain, type Purpose, type VerifyFailure } from '../core/verify.js';
import { readCrls } from '../core/verify/crl.js';
import type { x509 } from '../core/x509.js';
import { Layout } from '../store/layout.js';
import { readInput } from '../store/read-input.js';
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

async function certsOf(path: string): Promise<x509.X509Certificate[]> {
  return readCertificates(await readInput(path), path);
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
  const crls = (await Promise.all(crlFiles.map(async (p) => readCrls(await readInput(p), p)))).flat();
  const at = request.at ?? ctx.now;
  const jobs: Job[] = request.all
    ? await treeJobs(layout)
    : request.files.map((file) => ({ file, display: file, purpose: request.purpose, hostname: request.hostname, ip: request.ip, email: request.email, expectCn: request.expectCn }));

  const files: FileVerdict[] = [];
  for (const job of jobs) {
    const [leaf, ...bundled] = await certsOf(job.file);
    const result = await verifyChain(
      leaf!,
      {
        roots, intermediates: [...bundled, ...pool], purpose: job.purpose, hostname: job.hostname, ip: job.ip, email: job.email,
        at, crls, maxDepth: request.maxDepth, expectCn: job.expectCn,
      },
      ctx.crypto,
    );
    files.push({
      file: job.display,
      ok: result.ok,
      purpose: job.purpose,
      chain: result.chain.map((c) => ({ subject: c.subject, issuer: c.issuer, serial: c.serialNumber })),
      failures: result.failures,
    });
  }
  return { ok: files.every((f) => f.ok), at: at.toISOString(), files };
}
