// Certificate input: bytes or PEM text to certificate models, with the one-line input errors.
import { Certificate } from './cert.js';
import { DerError } from './der.js';
import { inputError } from './errors.js';
import { certificateBytes, malformedCertificate } from './pem.js';

/** The model of `der`, or `malformed()` when it is not a certificate. */
function parseCertificate(der: Uint8Array, malformed: () => Error = () => new Error('not a DER certificate')): Certificate {
  try {
    return new Certificate(der);
  } catch (error) {
    if (error instanceof DerError || error instanceof RangeError) throw malformed();
    throw error;
  }
}

/**
 * Every certificate in `data`: a PEM file (bundles included; other blocks are skipped) or one DER
 * certificate. Anything else is an input error that names `source`, in one line.
 */
export function readCertificates(data: Uint8Array, source: string): Certificate[] {
  return certificateBytes(data, source).map((c) => parseCertificate(c.der, () => malformedCertificate(source, c)));
}

/** The first certificate of a PEM file pkictl wrote (ca.crt, a pair's cert); `what` names it in errors. */
export function readCertificatePem(pem: string, what: string): Certificate {
  const malformed = () => inputError('CERT_MALFORMED', `${what} holds a malformed certificate`);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw inputError('CERT_MALFORMED', `${what} holds no PEM certificate`);
  let der: Uint8Array;
  try {
    der = certificateBytes(Buffer.from(pem, 'latin1'), what)[0]!.der;
  } catch {
    throw malformed();
  }
  return parseCertificate(der, malformed);
}
