import { inputError } from './errors.js';
import { x509 } from './x509.js';

/** Parses exactly one PEM certificate (the CA files pkictl writes). */
export function readCertificatePem(pem: string, what: string): x509.X509Certificate {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw inputError('CERT_MALFORMED', `${what} holds no PEM certificate`);
  try {
    return new x509.X509Certificate(blocks[0]!);
  } catch {
    throw inputError('CERT_MALFORMED', `${what} holds a malformed certificate`);
  }
}
