import type { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { readCrls, summarizeCrl, type Crl, type CrlSummary } from '../core/crl.js';
import { isPem, latin1Text, pemBlocks } from '../core/pem.js';
import { inputError } from '../core/errors.js';
import type { CertSummary } from '../core/inspect.js';
import { readUserFile } from '../store/files.js';

import type { InspectField } from './inspect-fields.js';

export { INSPECT_FIELDS, type InspectField } from './inspect-fields.js';

export interface InspectRequest {
  /** Paths as given; '-' is stdin. */
  files: string[];
  /** --field, in the order given (empty: the full summary). */
  fields: InspectField[];
  now: Date;
}

export interface InspectedCertificate extends CertSummary {
  /** The file as given ("stdin" for '-'). */
  file: string;
  /** 1-based position in the file (bundles hold several). */
  index: number;
}

export interface InspectedCrl extends CrlSummary {
  /** The file as given ("stdin" for '-'). */
  file: string;
  index: number;
}

export type InspectResult =
  /** One row per certificate: the file it came from and its values of `fields`, in that order. */
  | { kind: 'field'; fields: InspectField[]; rows: Array<{ file: string; values: string[] }> }
  | { kind: 'full'; certificates: InspectedCertificate[]; crls: InspectedCrl[] };

const sourceName = (file: string) => (file === '-' ? 'stdin' : file);

async function readAll(files: string[]): Promise<Uint8Array[]> {
  if (files.length === 0) throw inputError('INPUT_MISSING', 'no file given', "pass one or more certificate files, or '-' for stdin");
  if (files.filter((f) => f === '-').length > 1) throw inputError('USAGE', "stdin ('-') can be read only once");
  // One after the other: the reads are synchronous (store/files.ts), and the first bad file in
  // argument order is the one reported.
  const data: Uint8Array[] = [];
  for (const file of files) data.push(await readUserFile(file));
  return data;
}

/**
 * Every certificate of every file, or one field of each. All files are read and parsed before any
 * output, so a bad file fails the run (exit 2) without half a listing on stdout.
 */
export async function inspectFiles(request: InspectRequest): Promise<InspectResult> {
  const data = await readAll(request.files);
  const { fields } = request;
  const inputs = data.map((bytes, i) => ({ file: sourceName(request.files[i]!), ...readInput(bytes, sourceName(request.files[i]!)) }));
  const crlFile = inputs.find((f) => f.crls.length > 0);
  if (fields.length > 0 && crlFile) {
    throw inputError('USAGE', `${crlFile.file} is a CRL: --field reads certificates`, `pkictl inspect ${crlFile.file} (or with --json) shows the CRL: issuer, number, thisUpdate/nextUpdate, revoked serials`);
  }
  const certs = inputs.filter((f) => f.certs.length > 0);
  const quick = fields.map(modelField);
  if (fields.length > 0 && quick.every((f) => f !== undefined)) {
    // The CI path (`inspect --field cn FILE`, once per file): the model answers, no summary, no @peculiar/x509.
    return { kind: 'field', fields, rows: certs.flatMap((f) => f.certs.map((cert) => ({ file: f.file, values: quick.map((get) => get!(cert)) }))) };
  }
  const { summarize } = await import('../core/inspect.js');
  const certificates = certs.flatMap((f) => f.certs.map((cert, j) => ({ file: f.file, index: j + 1, ...summarize(cert, request.now) })));
  if (fields.length > 0) return { kind: 'field', fields, rows: certificates.map((c) => ({ file: c.file, values: fields.map((field) => summaryField(c, field)) })) };
  const crls = inputs.flatMap((f) => f.crls.map((crl, j) => ({ file: f.file, index: j + 1, ...summarizeCrl(crl, request.now) })));
  return { kind: 'full', certificates, crls };
}

/** A file's certificates, or its CRLs: PEM by its labels; DER as a certificate first, else as a CRL (the certificate's error wins). */
function readInput(bytes: Uint8Array, name: string): { certs: Certificate[]; crls: Crl[] } {
  const text = latin1Text(bytes);
  if (isPem(text)) {
    return pemBlocks(text).some((b) => b.label === 'X509 CRL') ? { certs: [], crls: readCrls(bytes, name) } : { certs: readCertificates(bytes, name), crls: [] };
  }
  try {
    return { certs: readCertificates(bytes, name), crls: [] };
  } catch (error) {
    try {
      return { certs: [], crls: readCrls(bytes, name) };
    } catch {
      throw error;
    }
  }
}

/** The fields the certificate model prints itself, exactly as the same field of the full summary. */
function modelField(field: InspectField): ((cert: Certificate) => string) | undefined {
  switch (field) {
    case 'cn': return (c) => c.commonName ?? '';
    case 'subject': return (c) => c.subject;
    case 'issuer': return (c) => c.issuer;
    case 'serial': return (c) => c.serialHex;
    case 'not-before': return (c) => c.notBefore.toISOString();
    case 'not-after': return (c) => c.notAfter.toISOString();
    case 'fingerprint': return (c) => c.sha256;
    default: return undefined;
  }
}

export function summaryField(summary: CertSummary, field: InspectField): string {
  switch (field) {
    case 'cn':
      return summary.commonName ?? '';
    case 'subject':
      return summary.subject;
    case 'issuer':
      return summary.issuer;
    case 'serial':
      return summary.serial;
    case 'not-before':
      return summary.notBefore;
    case 'not-after':
      return summary.notAfter;
    case 'sans':
      return summary.sans.join(', ');
    case 'fingerprint':
      return summary.fingerprints.sha256;
  }
}
