import { createHash } from 'node:crypto';
import { x509 } from './x509.js';

/** The facts every command reports about a certificate it wrote or read. */
export interface CertFacts {
  subject: string;
  commonName: string | undefined;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, lowercase hex (what `openssl x509 -fingerprint -sha256` shows). */
  sha256: string;
}

export function commonNameOf(cert: x509.X509Certificate): string | undefined {
  return cert.subjectName.getField('CN')[0];
}

export function certFacts(cert: x509.X509Certificate): CertFacts {
  return {
    subject: cert.subject,
    commonName: commonNameOf(cert),
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sha256: createHash('sha256').update(new Uint8Array(cert.rawData)).digest('hex'),
  };
}
