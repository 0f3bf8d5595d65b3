// Revocation by CRL (RFC 5280 §5 and §6.3), for the CRLs the caller supplies: pkictl never fetches.
import type { Certificate, Problem } from '../cert.js';
import { revocationOfCrlEntry, type RevocationInfo } from '../revocation.js';
import type { Crl } from '../crl.js';
import { equalBytes } from '../der.js';
import type { Signatures } from './signature.js';

/** Revocation status of `cert`, issued by `issuer`, under the supplied CRLs. */
export function revocationProblem(cert: Certificate, issuer: Certificate, crls: Crl[], at: Date, signatures: Signatures): (Problem & { revocation?: RevocationInfo }) | undefined {
  for (const crl of crls) {
    if (!equalBytes(crl.issuerDer, cert.issuerDer)) continue;
    if (!signatures.crlSignedBy(crl, issuer)) continue; // another key under the same name: not this issuer's CRL
    // RFC 5280 §6.3.3 (f): the CRL issuer's keyUsage, when present, must assert cRLSign.
    if (issuer.ku && !issuer.ku.has(6)) return { code: 'CRL_INVALID', message: `the CRL's issuer lacks keyUsage cRLSign` };
    if (crl.problems.length) return { code: 'CRL_INVALID', message: crl.problems[0]! };
    if (crl.thisUpdate > at) return { code: 'CRL_INVALID', message: `the CRL is not yet valid (thisUpdate ${crl.thisUpdate.toISOString()})` };
    if (crl.nextUpdate && crl.nextUpdate < at) return { code: 'CRL_EXPIRED', message: `the CRL expired at ${crl.nextUpdate.toISOString()}` };
    const entry = crl.revoked.find((r) => equalBytes(r.serial, cert.serial));
    if (entry) {
      return { code: 'REVOKED', message: 'the certificate is revoked by its issuer\'s CRL', revocation: revocationOfCrlEntry(entry) };
    }
  }
  return undefined;
}
