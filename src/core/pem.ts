// The one PEM splitter (RFC 7468) for certificates and CRLs, and the one-line input errors for bad input.
import { inputError, type PkiError } from './errors.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);

export interface PemBlock {
  label: string;
  /** base64 text between the BEGIN and END lines, whitespace included */
  body: string;
}

export const latin1Text = (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');

/** Does the input look like PEM (rather than DER)? */
export const isPem = (text: string) => text.includes('-----BEGIN');

/** Every complete BEGIN/END block of `text`, in order. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, body: m[2]! }));
}

/**
 * The block's bytes. Buffer.from(…, 'base64') silently skips junk characters (and whitespace, which is
 * fine); a damaged block must not parse "fine": undefined then. One scan, no copy without whitespace.
 */
function pemBytes(block: PemBlock): Uint8Array | undefined {
  return /[^A-Za-z0-9+/=\s]|=[^=\s]/.test(block.body) ? undefined : Buffer.from(block.body, 'base64');
}

export interface CertificateBytes {
  der: Uint8Array;
  /** 1-based position in the file, for error messages. */
  index: number;
  pem: boolean;
}

/** The error for a certificate whose DER does not parse: wording depends on how it was wrapped. */
export function malformedCertificate(source: string, cert: Pick<CertificateBytes, 'index' | 'pem'>): PkiError {
  return cert.pem
    ? inputError('CERT_MALFORMED', `${source}: certificate ${cert.index} is not valid DER inside its PEM block`)
    : inputError('CERT_MALFORMED', `${source}: not a certificate (neither PEM nor DER)`);
}

/**
 * The DER of every certificate in `data`: a PEM file (bundles included; other blocks are skipped) or
 * one DER certificate. Empty input, a private key, and truncated PEM are one-line input errors.
 */
export function certificateBytes(data: Uint8Array, source: string): CertificateBytes[] {
  if (data.length === 0) throw inputError('CERT_EMPTY', `${source}: the file is empty`);
  const text = latin1Text(data);
  if (!isPem(text)) return [{ der: data, index: 1, pem: false }];
  const blocks = pemBlocks(text);
  const certs = blocks.filter((b) => CERT_LABELS.has(b.label));
  if (certs.length === 0) {
    if (blocks.some((b) => b.label.includes('PRIVATE KEY'))) throw inputError('CERT_IS_KEY', `${source}: this is a private key, not a certificate`);
    if (blocks.length === 0) throw inputError('CERT_MALFORMED', `${source}: truncated or malformed PEM (no complete BEGIN/END block)`);
    throw inputError('CERT_MALFORMED', `${source}: no certificate in it (found ${blocks.map((b) => b.label).join(', ')})`);
  }
  // A bundle whose last certificate lost its END line would otherwise be read as a shorter bundle.
  let begins = 0;
  for (let at = text.indexOf('-----BEGIN '); at !== -1; at = text.indexOf('-----BEGIN ', at + 11)) begins++;
  if (begins > blocks.length) {
    throw inputError('CERT_MALFORMED', `${source}: truncated PEM (${begins} BEGIN lines, only ${blocks.length} complete block${blocks.length === 1 ? '' : 's'})`);
  }
  return certs.map((block, i) => {
    const der = pemBytes(block);
    if (!der) throw inputError('CERT_MALFORMED', `${source}: certificate ${i + 1} has characters that are not base64 inside its PEM block`);
    return { der, index: i + 1, pem: true };
  });
}
