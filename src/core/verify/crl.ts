// Revocation by CRL (RFC 5280 §5 and §6.3), for the CRLs the caller supplies: pkictl never fetches.
import type { x509 } from '../x509.js';
import type { CertModel, Problem } from './cert-model.js';
import { bool, children, content, equalBytes, expect, oid, parseDer, whole, type Tlv } from './der.js';
import { checkSignature } from './signature.js';

const CRL_NUMBER = '2.5.29.20';
const AUTHORITY_KEY_ID = '2.5.29.35';
const ISSUING_DP = '2.5.29.28';
const DELTA_CRL = '2.5.29.27';
const KNOWN_CRL_EXTENSIONS = new Set([CRL_NUMBER, AUTHORITY_KEY_ID, '2.5.29.18', '2.5.29.46', '1.3.6.1.5.5.7.1.1']);
const KNOWN_ENTRY_EXTENSIONS = new Set(['2.5.29.21', '2.5.29.24']);

export interface CrlModel {
  crl: x509.X509Crl;
  tbs: Uint8Array;
  sigAlgOid: string;
  sigAlgParams?: Tlv;
  signature: Uint8Array;
  issuerDer: Uint8Array;
  revoked: Uint8Array[];
  /** defects that make the CRL unusable (checked once its issuer is known) */
  problems: string[];
}

const cache = new WeakMap<x509.X509Crl, CrlModel>();

export function crlModelOf(crl: x509.X509Crl): CrlModel {
  const hit = cache.get(crl);
  if (hit) return hit;
  const m: CrlModel = { crl, tbs: new Uint8Array(), sigAlgOid: '', signature: new Uint8Array(), issuerDer: new Uint8Array(), revoked: [], problems: [] };
  try {
    const der = new Uint8Array(crl.rawData);
    const [tbsT, algT, sigT] = children(expect(parseDer(der), 0x30, 'CertificateList'));
    m.tbs = whole(expect(tbsT, 0x30, 'TBSCertList'));
    const [algOid, params] = children(expect(algT, 0x30, 'signatureAlgorithm'));
    m.sigAlgOid = oid(algOid!);
    m.sigAlgParams = params;
    m.signature = content(expect(sigT, 0x03, 'signature')).subarray(1);
    const f = children(tbsT!);
    let i = 0;
    if (f[0]?.tag === 0x02) i++;
    i++; // signature AlgorithmIdentifier
    m.issuerDer = whole(expect(f[i++], 0x30, 'issuer'));
    i++; // thisUpdate
    if (f[i] && (f[i]!.tag === 0x17 || f[i]!.tag === 0x18)) i++;
    if (f[i]?.tag === 0x30) {
      for (const entry of children(f[i]!)) {
        const parts = children(expect(entry, 0x30, 'revokedCertificate'));
        m.revoked.push(content(expect(parts[0], 0x02, 'userCertificate')));
        if (parts[2]) for (const e of children(parts[2])) {
          const [eo, c] = children(e);
          if (c?.tag === 0x01 && bool(c) && !KNOWN_ENTRY_EXTENSIONS.has(oid(eo!))) m.problems.push(`unknown critical CRL entry extension ${oid(eo!)}`);
        }
      }
      i++;
    }
    let hasNumber = false;
    if (f[i]?.tag === 0xa0) {
      for (const e of children(children(f[i]!)[0]!)) {
        const parts = children(e);
        const eo = oid(parts[0]!);
        const critical = parts[1]?.tag === 0x01 && bool(parts[1]);
        if (eo === CRL_NUMBER) {
          hasNumber = true;
          // RFC 5280 §5.2.3: "this extension MUST be marked as non-critical"
          if (critical) m.problems.push('cRLNumber is marked critical (RFC 5280 §5.2.3)');
        } else if (eo === ISSUING_DP || eo === DELTA_CRL) {
          if (critical) m.problems.push(`${eo === DELTA_CRL ? 'delta CRLs' : 'issuingDistributionPoint'} are not supported`);
        } else if (critical && !KNOWN_CRL_EXTENSIONS.has(eo)) m.problems.push(`unknown critical CRL extension ${eo}`);
      }
    }
    // RFC 5280 §5.2.3: "conforming CRL issuers MUST include this extension in all CRLs"
    if (!hasNumber) m.problems.push('the CRL has no cRLNumber (RFC 5280 §5.2.3)');
  } catch (error) {
    m.problems.push(`malformed CRL: ${(error as Error).message}`);
  }
  cache.set(crl, m);
  return m;
}

/** Revocation status of `cert`, issued by `issuer`, under the supplied CRLs. */
export function revocationProblem(cert: CertModel, issuer: CertModel, crls: x509.X509Crl[], at: Date): Problem | undefined {
  for (const crl of crls) {
    const m = crlModelOf(crl);
    if (!equalBytes(m.issuerDer, cert.issuerDer)) continue;
    if (!checkSignature(m.tbs, m, issuer)) continue; // another key under the same name: not this issuer's CRL
    // RFC 5280 §6.3.3 (f): the CRL issuer's keyUsage, when present, must assert cRLSign.
    if (issuer.ku && !issuer.ku.has(6)) return { code: 'CRL_INVALID', message: `the CRL's issuer lacks keyUsage cRLSign` };
    if (m.problems.length) return { code: 'CRL_INVALID', message: m.problems[0]! };
    if (crl.thisUpdate > at) return { code: 'CRL_INVALID', message: `the CRL is not yet valid (thisUpdate ${crl.thisUpdate.toISOString()})` };
    if (crl.nextUpdate && crl.nextUpdate < at) return { code: 'CRL_EXPIRED', message: `the CRL expired at ${crl.nextUpdate.toISOString()}` };
    if (m.revoked.some((s) => equalBytes(s, cert.serial))) return { code: 'REVOKED', message: 'the certificate is revoked by its issuer\'s CRL' };
  }
  return undefined;
}

// readCrls (the only part that constructs @peculiar/x509 objects) lives in crl-read.ts, so the
// validator itself loads no x509 code.
