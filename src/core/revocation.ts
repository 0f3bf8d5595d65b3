/**
 * RFC 5280 §5.3.1 reason codes pkictl offers (certificateHold/removeFromCRL are not: no suspension),
 * by their ASN.1 names. Dependency-free: the CLI lists them in --help without loading x509.
 */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** RFC 5280 §5.3.1 CRLReason codes, all of them: a CRL read may come from another CA (7 is unused). */
const REASON_CODES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', undefined, 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

/** The CRLReason code of a reason pkictl writes. */
export const reasonCode = (reason: RevocationReason): number => REASON_CODES.indexOf(reason);

/** The name of a CRL entry's reason code; no code means unspecified (§5.3.1: the code is then omitted). */
export const reasonName = (code: number | undefined): string => (code === undefined ? 'unspecified' : (REASON_CODES[code] ?? `unknown reason code ${code}`));

/** Why and when a certificate was revoked, as every --json document reports it. */
export interface RevocationInfo {
  /** null when only a CRL lists it with a reason pkictl does not issue (certificateHold, removeFromCRL, aACompromise). */
  reason: RevocationReason | null;
  /** ISO 8601; null when the index did not record the time. */
  revokedAt: string | null;
  /** Where the revocation is recorded: the issuance index, or only a CRL. */
  source: 'index' | 'crl';
}

/** A CRL entry's revocation (the CRL alone says so): its reason by name, null for one pkictl does not issue. */
export function revocationOfCrlEntry(entry: { date: Date; reasonCode?: number }): RevocationInfo {
  const name = reasonName(entry.reasonCode);
  const reason = (REVOCATION_REASONS as readonly string[]).includes(name) ? (name as RevocationReason) : null;
  return { reason, revokedAt: entry.date.toISOString(), source: 'crl' };
}
