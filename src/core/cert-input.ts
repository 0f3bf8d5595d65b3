import { certificateBytes, firstElement, malformedCertificate } from './cert-peek.js';
import { x509 } from './x509.js';

/**
 * Every certificate in `data`: a PEM file (bundles included; other blocks are skipped) or one DER
 * certificate. Anything else is an input error that names `source`, in one line. The PEM/DER split
 * lives in cert-peek.ts, so the x509-free fast paths (inspect --field, list) reject the same files
 * with the same messages.
 */
export function readCertificates(data: Uint8Array, source: string): x509.X509Certificate[] {
  return certificateBytes(data, source).map((c) => {
    try {
      return new x509.X509Certificate(new Uint8Array(firstElement(c.der)));
    } catch {
      throw malformedCertificate(source, c);
    }
  });
}
