import { inputError } from './errors.js';
import { x509 } from './x509.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Every certificate in `data`: a PEM file (bundles included; other blocks are skipped) or one DER
 * certificate. Anything else is an input error that names `source`, in one line.
 */
export function readCertificates(data: Uint8Array, source: string): x509.X509Certificate[] {
  if (data.length === 0) throw inputError('CERT_EMPTY', `${source}: the file is empty`);
  const text = Buffer.from(data).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(PEM_BLOCK)];
    const certs = blocks.filter((b) => b[1] === 'CERTIFICATE' || b[1] === 'X509 CERTIFICATE' || b[1] === 'TRUSTED CERTIFICATE');
    if (certs.length === 0) {
      if (blocks.some((b) => b[1]!.includes('PRIVATE KEY'))) throw inputError('CERT_IS_KEY', `${source}: this is a private key, not a certificate`);
      if (blocks.length === 0) throw inputError('CERT_MALFORMED', `${source}: truncated or malformed PEM (no complete BEGIN/END block)`);
      throw inputError('CERT_MALFORMED', `${source}: no certificate in it (found ${blocks.map((b) => b[1]).join(', ')})`);
    }
    return certs.map((block, i) => {
      try {
        return new x509.X509Certificate(Buffer.from(block[2]!.replace(/\s+/g, ''), 'base64'));
      } catch {
        throw inputError('CERT_MALFORMED', `${source}: certificate ${i + 1} is not valid DER inside its PEM block`);
      }
    });
  }
  try {
    return [new x509.X509Certificate(new Uint8Array(data))];
  } catch {
    throw inputError('CERT_MALFORMED', `${source}: not a certificate (neither PEM nor DER)`);
  }
}
