import { smallInteger, toPem } from './der-write.js';
import { assertCaCanSign, type CertificateAuthority } from './issue.js';
import { signingAlgorithmOf } from './keys.js';
import { OID } from './oid.js';
import type { RevocationReason } from './revocation.js';
// CRL generation stays with @peculiar/x509 (its CRL generator and reason codes): a CRL is signed a few
// times a day, where the certificate encoder in issue.ts had to be fast.
import { x509, type CryptoProvider } from './x509.js';

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlRequest {
  entries: RevokedEntry[];
  /** Monotonic CRL number (RFC 5280 §5.2.3); the caller keeps the counter. */
  number: number;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * A v2 CRL signed by the CA: the CA's subject as issuer, cRLNumber and the Authority Key Identifier
 * (both required of conforming CAs by RFC 5280 §5.2), one entry per revoked serial with its reason
 * code (omitted for "unspecified", as §5.3.1 asks). Version 2 is implied by the extensions.
 */
export async function buildCrl(request: CrlRequest, ca: CertificateAuthority, crypto: CryptoProvider): Promise<x509.X509Crl> {
  assertCaCanSign(ca, request.thisUpdate);
  const caCert = new x509.X509Certificate(Buffer.from(ca.der));
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = ski ? new x509.AuthorityKeyIdentifierExtension(ski.keyId) : await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto);
  return x509.X509CrlGenerator.create(
    {
      issuer: caCert.subjectName,
      thisUpdate: request.thisUpdate,
      nextUpdate: request.nextUpdate,
      signingKey: ca.privateKey,
      signingAlgorithm: signingAlgorithmOf(ca.privateKey),
      extensions: [aki, new x509.Extension(OID.crlNumber, false, smallInteger(request.number))],
      entries: [...request.entries]
        .sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime() || a.serial.localeCompare(b.serial))
        .map((e) => ({
          serialNumber: e.serial,
          revocationDate: e.revokedAt,
          ...(e.reason !== 'unspecified' && { reason: x509.X509CrlReason[e.reason] }),
        })),
    },
    crypto,
  );
}

/** PEM with the label OpenSSL, Go and Python expect ("X509 CRL", RFC 7468 §5); the library writes "CRL". */
export function crlToPem(crl: x509.X509Crl): string {
  return toPem(crl.rawData, 'X509 CRL');
}
