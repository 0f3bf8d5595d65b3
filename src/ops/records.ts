import type { RevocationInfo } from '../core/revocation.js';
import type { IndexEntry, IndexKind, IndexStatus, Revocation } from '../store/cert-index.js';

export type { RevocationInfo };

/*
 * The shapes that several --json documents share, written once: how a revocation is reported, and
 * an issued certificate as the index records it (the index's own field names, `cn` and
 * `revocationReason`, are its file format; documents use `commonName` and a `revocation` object).
 */

export const revocationFromIndex = (r: Revocation): RevocationInfo => ({ reason: r.reason, revokedAt: r.at === 'unknown time' ? null : r.at, source: 'index' });


/** The revocation an index entry records; undefined when it is not revoked. */
export function entryRevocation(e: IndexEntry): RevocationInfo | undefined {
  return e.status === 'revoked' ? { reason: e.revocationReason ?? 'unspecified', revokedAt: e.revokedAt ?? null, source: 'index' } : undefined;
}

/** For people: "revoked (keyCompromise) at 2027-01-02T…", "listed in crl.pem (revoked 2027-01-02T…)". */
export function revocationText(r: RevocationInfo): string {
  if (r.source === 'crl') return `listed in crl.pem (revoked ${r.revokedAt ?? 'at an unknown time'})`;
  return `revoked (${r.reason ?? 'unspecified'}) at ${r.revokedAt ?? 'an unknown time'}`;
}

/** A certificate the CA issued, from its index entry. */
export interface CertificateRecord {
  serial: string;
  kind: IndexKind;
  /** Absent for the CA and the server. */
  tenantId?: string;
  commonName: string | null;
  subject: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  status: IndexStatus;
  issuedAt: string;
  /** Contract path relative to --dir. */
  path: string;
  supersededAt?: string;
  supersededBy?: string;
  /** Set when status is revoked. */
  revocation?: RevocationInfo;
}

export function certificateRecord(e: IndexEntry): CertificateRecord {
  return {
    serial: e.serial,
    kind: e.kind,
    ...(e.tenantId !== undefined && { tenantId: e.tenantId }),
    commonName: e.cn ?? null,
    subject: e.subject,
    notBefore: e.notBefore,
    notAfter: e.notAfter,
    sha256: e.sha256,
    status: e.status,
    issuedAt: e.issuedAt,
    path: e.path,
    ...(e.supersededAt !== undefined && { supersededAt: e.supersededAt }),
    ...(e.supersededBy !== undefined && { supersededBy: e.supersededBy }),
    ...(e.status === 'revoked' && { revocation: entryRevocation(e) }),
  };
}
