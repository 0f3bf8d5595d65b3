// Reading CRL files: PEM bundles or one DER CRL, parsed with @peculiar/x509 (kept apart from crl.ts
// so verifying without --crl never loads x509).
import { inputError } from '../errors.js';
import { x509 } from '../x509.js';

const CRL_BLOCK = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g;

/** Every CRL in `data` (PEM, several allowed, or one DER CRL); an input error naming `source` otherwise. */
export function readCrls(data: Uint8Array, source: string): x509.X509Crl[] {
  if (data.length === 0) throw inputError('CRL_EMPTY', `${source}: the file is empty`);
  const text = Buffer.from(data).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(CRL_BLOCK)];
    if (blocks.length === 0) throw inputError('CRL_MALFORMED', `${source}: no "X509 CRL" PEM block in it`);
    return blocks.map((b, i) => {
      try {
        return new x509.X509Crl(Buffer.from(b[1]!.replace(/\s+/g, ''), 'base64'));
      } catch {
        throw inputError('CRL_MALFORMED', `${source}: CRL ${i + 1} is not valid DER inside its PEM block`);
      }
    });
  }
  try {
    return [new x509.X509Crl(new Uint8Array(data))];
  } catch {
    throw inputError('CRL_MALFORMED', `${source}: not a CRL (neither PEM nor DER)`);
  }
}
