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
