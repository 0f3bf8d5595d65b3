import { Certificate } from './cert.js';
import { bitString, explicit, objectIdentifier, octetString, sequence, smallInteger, time, tlv, toPem, unsignedInteger, implicit, type Der } from './der-write.js';
import { assertCaCanSign, keyIdOf, signerFor, type CertificateAuthority } from './issue.js';
import { OID } from './oid.js';
import { reasonCode, type RevocationReason } from './revocation.js';
import type { CryptoProvider } from './x509.js';

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

const ENUMERATED = 0x0a;

/** One revokedCertificates entry: serial, date, and the reason code unless unspecified (§5.3.1 omits it then). */
function entryDer(e: RevokedEntry): Der {
  const reason = e.reason === 'unspecified' ? [] : [sequence(sequence(objectIdentifier(OID.crlReason), octetString(tlv(ENUMERATED, Uint8Array.of(reasonCode(e.reason))))))];
  return sequence(unsignedInteger(Buffer.from(e.serial.length % 2 ? `0${e.serial}` : e.serial, 'hex')), time(e.revokedAt), ...reason);
}

/**
 * A v2 CRL (DER) signed by the CA: the CA's subject as issuer, cRLNumber and the Authority Key
 * Identifier (both required of conforming CAs by RFC 5280 §5.2), one entry per revoked serial with
 * its reason code. Encoded here, like certificates (issue.ts): the generic generator it replaces took
 * 23 s for 10,000 entries (quadratic), which the compromise drill of 10,000 tenants hit.
 */
export async function buildCrl(request: CrlRequest, ca: CertificateAuthority, crypto: CryptoProvider): Promise<Der> {
  assertCaCanSign(ca, request.thisUpdate);
  const signer = signerFor(ca.privateKey, crypto);
  const entries = [...request.entries].sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime() || a.serial.localeCompare(b.serial));
  const extensions = sequence(
    sequence(objectIdentifier(OID.authorityKeyId), octetString(sequence(implicit(0, keyIdOf(ca))))),
    sequence(objectIdentifier(OID.crlNumber), octetString(smallInteger(request.number))),
  );
  const tbs = sequence(
    smallInteger(1), // v2
    signer.algorithm,
    new Certificate(ca.der).subjectDer,
    time(request.thisUpdate),
    time(request.nextUpdate),
    ...(entries.length > 0 ? [sequence(...entries.map(entryDer))] : []),
    explicit(0, extensions),
  );
  return sequence(tbs, signer.algorithm, bitString(await signer.sign(tbs)));
}

/** PEM with the label OpenSSL, Go and Python expect ("X509 CRL", RFC 7468 §5). */
export const crlToPem = (der: Uint8Array): string => toPem(der, 'X509 CRL');
