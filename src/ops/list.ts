import { peekCertificates, type CertPeek } from '../core/cert-peek.js';
import { PkiError } from '../core/errors.js';
import { daysLeft, needsRenewal, type RenewThreshold } from '../core/renewal.js';
import { scanTree, type EntryKind, type TreeEntry } from '../store/scan.js';

export type ListStatus = 'valid' | 'expiring' | 'expired' | 'invalid';

export interface ListRow {
  kind: EntryKind;
  /** The directory name under clients/ (null for ca and server). */
  tenant: string | null;
  commonName: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  daysLeft: number | null;
  status: ListStatus;
  /** Why the status is 'invalid' (or a note such as the renewal window); empty when valid. */
  problems: string[];
  /** Contract path relative to --dir, e.g. clients/<id>/client.crt. */
  path: string;
}

export interface ListRequest {
  dir: string;
  at: Date;
  threshold: RenewThreshold;
  /** Only rows that need attention (status other than valid): --expiring-within / --renew-before. */
  onlyDue: boolean;
}

export interface ListResult {
  dir: string;
  at: string;
  renewBefore: string;
  /** Where the rows came from: the tree is always read; the index adds revocation status when present. */
  source: 'tree' | 'tree+index';
  certificates: ListRow[];
  counts: Record<ListStatus, number>;
  /** Rows not shown because of the filter. */
  hidden: number;
}

/** Serial → why the issuance index says the certificate must not be used (revoked), if an index exists. */
export type RevocationLookup = (dir: string) => Promise<Map<string, string> | undefined>;

/**
 * Seam for issue 7's issuance index (src/store/cert-index.ts). Until it is wired in, list reads the
 * tree only; see `listCertificates`' `revocations` parameter.
 */
export const noIndex: RevocationLookup = async () => undefined;

function rowFor(entry: TreeEntry, caSubject: Uint8Array | undefined, request: ListRequest, rel: (p: string) => string): ListRow {
  const base = { kind: entry.kind, tenant: entry.tenant ?? null, path: rel(entry.certPath) };
  const empty = { commonName: null, serial: null, notBefore: null, notAfter: null, daysLeft: null };
  if (!entry.cert.ok) {
    const file = entry.certPath.split('/').pop();
    return { ...base, ...empty, status: 'invalid', problems: [`${file} ${entry.cert.reason}`] };
  }
  let peek: CertPeek;
  try {
    // A file may hold a chain; the first certificate is the one the contract path names.
    peek = peekCertificates(entry.cert.bytes, base.path)[0]!;
  } catch (error) {
    const message = error instanceof PkiError ? error.message.replace(`${base.path}: `, '') : String(error);
    return { ...base, ...empty, status: 'invalid', problems: [message] };
  }
  const problems: string[] = [];
  if (entry.kind === 'client' && peek.commonName !== entry.tenant) problems.push(`CN ${JSON.stringify(peek.commonName ?? null)} is not the directory name`);
  if (entry.kind !== 'ca' && caSubject && !Buffer.from(peek.issuerDer).equals(Buffer.from(caSubject))) problems.push('not issued by ca.crt (issuer name differs)');
  if (request.at < peek.notBefore) problems.push(`not valid before ${peek.notBefore.toISOString()}`);
  const decision = needsRenewal(peek, request.threshold, request.at);
  return {
    ...base,
    commonName: peek.commonName ?? null,
    serial: peek.serial,
    notBefore: peek.notBefore.toISOString(),
    notAfter: peek.notAfter.toISOString(),
    daysLeft: daysLeft(peek.notAfter, request.at),
    status: problems.length > 0 ? 'invalid' : decision.status,
    problems,
  };
}

/** The inventory of --dir: one row per certificate of the contract, with status at `request.at`. */
export async function listCertificates(request: ListRequest, revocations: RevocationLookup = noIndex): Promise<ListResult> {
  const [scan, revoked] = await Promise.all([scanTree(request.dir), revocations(request.dir)]);
  const rel = (p: string) => p.slice(scan.root.length + 1);
  const caEntry = scan.entries.find((e) => e.kind === 'ca')!;
  let caSubject: Uint8Array | undefined;
  if (caEntry.cert.ok) {
    try {
      caSubject = peekCertificates(caEntry.cert.bytes, 'ca.crt')[0]!.subjectDer;
    } catch {
      // ca.crt's own row reports it as invalid; leaves are then not checked against it.
    }
  }
  const all = scan.entries.map((entry) => {
    const row = rowFor(entry, caSubject, request, rel);
    const why = row.serial ? revoked?.get(row.serial) : undefined;
    if (why) {
      row.problems.push(why);
      row.status = 'invalid';
    }
    return row;
  });
  const counts: Record<ListStatus, number> = { valid: 0, expiring: 0, expired: 0, invalid: 0 };
  for (const row of all) counts[row.status]++;
  const certificates = request.onlyDue ? all.filter((r) => r.status !== 'valid') : all;
  return {
    dir: scan.layout.display(scan.root),
    at: request.at.toISOString(),
    renewBefore: request.threshold.text,
    source: revoked ? 'tree+index' : 'tree',
    certificates,
    counts,
    hidden: all.length - certificates.length,
  };
}
