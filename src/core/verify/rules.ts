// The RFC 5280 §6 checks, one small named rule each, so a failure says which rule refused the chain.
// Certificate rules look at one certificate in its role on the path; chain rules look at the whole path.
import { KNOWN_EXTENSIONS, type Certificate, type Problem } from '../cert.js';
import type { Crl } from '../crl.js';
import { equalBytes } from '../der.js';
import { OID } from '../oid.js';
import type { RevocationInfo } from '../revocation.js';
import { revocationProblem } from './crl.js';
import { checkNameConstraints, cnProblem, constrainedNames, dnsMatches, emailMatches, NC_BUDGET, parseIp, sanEntryProblem } from './names.js';
import { keyProblem, signatureAlgorithmProblem, type Signatures } from './signature.js';

export type Role = 'leaf' | 'intermediate' | 'anchor';
export type Purpose = 'server' | 'client' | 'any';

export interface RuleOptions {
  purpose: Purpose;
  at: Date;
  hostname?: string;
  ip?: string;
  email?: string;
  crls?: Crl[];
  maxDepth?: number;
  expectCn?: string;
}

export interface RuleFailure extends Problem {
  /** position on the path: 0 = leaf */
  depth?: number;
  /** REVOKED: when the CRL says it was revoked. */
  revocation?: RevocationInfo;
}

type CertRule = (m: Certificate, role: Role, o: RuleOptions) => Problem | undefined;
type ChainRule = (path: Certificate[], o: RuleOptions, signatures: Signatures) => RuleFailure | undefined;

function ext(m: Certificate, oid: string) {
  for (const e of m.extensions) if (e.oid === oid) return e;
  return undefined;
}

// ---- certificate rules ----------------------------------------------------------------------------

const wellFormed: CertRule = (m) => m.problems[0];

const version3: CertRule = (m) =>
  m.version !== 3 ? { code: 'BAD_VERSION', message: `X.509 version ${m.version}; only version 3 certificates are accepted` } : undefined;

/** RFC 5280 §4.1.2.2: a positive integer of at most 20 octets. */
const serialNumber: CertRule = (m, role) => {
  if (role === 'anchor') return undefined; // trusted as configured: some long-lived roots have serial 0
  const s = m.serial;
  if (s.length === 0 || s[0]! & 0x80) return { code: 'BAD_SERIAL', message: 'the serial number is negative' };
  const value = s[0] === 0 ? s.subarray(1) : s;
  if (value.length > 20) return { code: 'BAD_SERIAL', message: `the serial number is ${value.length} octets long (RFC 5280 allows 20)` };
  if (value.every((b) => b === 0)) return { code: 'BAD_SERIAL', message: 'the serial number is zero' };
  return undefined;
};

/** RFC 5280 §4.1.1.2: signatureAlgorithm MUST equal tbsCertificate.signature. */
const signatureFieldsAgree: CertRule = (m) =>
  !equalBytes(m.outerSigAlg, m.tbsSigAlg) ? { code: 'SIGALG_MISMATCH', message: 'signatureAlgorithm differs from the signed tbsCertificate.signature' } : undefined;

/** RFC 5280 §4.1.2.4: the issuer field MUST contain a non-empty name. */
const issuerPresent: CertRule = (m) => (m.issuerEmpty ? { code: 'EMPTY_ISSUER', message: 'the issuer name is empty' } : undefined);

const noUnknownCriticalExtension: CertRule = (m) => {
  const e = m.extensions.find((x) => x.critical && !KNOWN_EXTENSIONS.has(x.oid));
  return e ? { code: 'UNKNOWN_CRITICAL_EXTENSION', message: `unknown critical extension ${e.oid}` } : undefined;
};

/** Criticality RFC 5280 prescribes: AKI, SKI and AIA non-critical (§4.2.1.1, .2, §4.2.2.1); policyConstraints critical (§4.2.1.11). */
const NON_CRITICAL = [[OID.authorityKeyId, 'authorityKeyIdentifier'], [OID.subjectKeyId, 'subjectKeyIdentifier'], [OID.authorityInfoAccess, 'authorityInfoAccess']] as const;
const extensionCriticality: CertRule = (m) => {
  for (const [oid, name] of NON_CRITICAL) {
    if (ext(m, oid)?.critical) return { code: 'EXTENSION_CRITICALITY', message: `${name} is marked critical, which RFC 5280 forbids` };
  }
  const pc = ext(m, OID.policyConstraints);
  if (pc && !pc.critical) return { code: 'EXTENSION_CRITICALITY', message: 'policyConstraints is not marked critical (RFC 5280 §4.2.1.11)' };
  return undefined;
};

/** RFC 5280 §4.2.1.6: SAN critical exactly when the subject is empty. */
const sanCriticality: CertRule = (m) => {
  const san = ext(m, OID.subjectAltName);
  if (m.subjectEmpty && !san) return { code: 'BAD_SAN', message: 'empty subject and no subjectAltName' };
  if (!san) return undefined;
  if (m.subjectEmpty && !san.critical) return { code: 'BAD_SAN', message: 'subjectAltName must be critical when the subject is empty' };
  if (!m.subjectEmpty && san.critical) return { code: 'BAD_SAN', message: 'subjectAltName is critical although the subject is not empty' };
  return undefined;
};

const acceptableKey: CertRule = (m) => keyProblem(m);

/** Anchors are trusted as configured; their self-signature is not what makes them trusted (RFC 5280 §6.1). */
const acceptableSignatureAlgorithm: CertRule = (m, role) => (role === 'anchor' ? undefined : signatureAlgorithmProblem(m));

/** RFC 5280 §4.1.2.5: notBefore and notAfter are inclusive, with one-second granularity. */
const withinValidity: CertRule = (m, _role, o) => {
  const at = Math.floor(o.at.getTime() / 1000) * 1000;
  if (at < m.notBefore.getTime()) return { code: 'NOT_YET_VALID', message: `not valid before ${m.notBefore.toISOString()}` };
  if (at > m.notAfter.getTime()) return { code: 'EXPIRED', message: `expired at ${m.notAfter.toISOString()}` };
  return undefined;
};

/** RFC 5280 §4.2.1.9 and §6.1.4 (k): an issuer must be a CA, and say so in a critical basicConstraints. */
const issuerIsCa: CertRule = (m, role) => {
  if (role === 'leaf') return undefined;
  if (!m.bc) return { code: 'NOT_A_CA', message: 'issuer has no basicConstraints extension' };
  if (!m.bc.ca) return { code: 'NOT_A_CA', message: 'issuer has basicConstraints cA:FALSE' };
  if (!ext(m, OID.basicConstraints)!.critical) return { code: 'NOT_A_CA', message: 'issuer\'s basicConstraints is not critical (RFC 5280 §4.2.1.9)' };
  if (m.subjectEmpty) return { code: 'EMPTY_SUBJECT', message: 'a CA certificate must have a non-empty subject' };
  return undefined;
};

/** RFC 5280 §4.2.1.9: pathLenConstraint only in CA certificates. */
const pathLenOnlyOnCa: CertRule = (m) =>
  m.bc && !m.bc.ca && m.bc.pathLen !== undefined ? { code: 'BASIC_CONSTRAINTS', message: 'pathLenConstraint set on a non-CA certificate' } : undefined;

/** RFC 5280 §6.1.4 (n): keyCertSign on issuers when keyUsage is present; §4.2.1.3: keyCertSign only with cA. */
const keyUsageConsistent: CertRule = (m, role) => {
  if (!m.ku) return undefined;
  if (role !== 'leaf' && !m.ku.has(5)) return { code: 'KEY_USAGE', message: 'issuer\'s keyUsage lacks keyCertSign' };
  if (m.bc?.ca && !m.ku.has(5)) return { code: 'KEY_USAGE', message: 'basicConstraints cA:TRUE but keyUsage lacks keyCertSign' };
  if (m.ku.has(5) && !m.bc?.ca) return { code: 'KEY_USAGE', message: 'keyUsage keyCertSign without basicConstraints cA:TRUE' };
  if (m.ku.size === 0) return { code: 'KEY_USAGE', message: 'keyUsage with no bit set' };
  return undefined;
};

/** RFC 5280 §4.2.1.2: every CA certificate carries a subjectKeyIdentifier. */
const caHasSki: CertRule = (m, role) => (role !== 'leaf' && !m.ski ? { code: 'MISSING_SKI', message: 'CA certificate without subjectKeyIdentifier' } : undefined);

/**
 * RFC 5280 §4.2.1.1: every certificate not self-issued carries authorityKeyIdentifier.keyIdentifier.
 * A trust anchor is exempt (its issuer is not on the path), but its AKI, if any, names only its own key
 * (CA/B BR §7.1.2.1.3).
 */
const akiPresent: CertRule = (m, role) => {
  if (role !== 'anchor' && !m.selfIssued && !m.aki?.keyId) return { code: 'MISSING_AKI', message: 'no authorityKeyIdentifier keyIdentifier (required unless self-issued)' };
  if (role === 'anchor' && m.aki) {
    if (!m.aki.keyId) return { code: 'BAD_AKI', message: 'trust anchor\'s authorityKeyIdentifier lacks keyIdentifier' };
    if (m.aki.hasIssuer || m.aki.hasSerial) return { code: 'BAD_AKI', message: 'trust anchor\'s authorityKeyIdentifier carries authorityCertIssuer/SerialNumber' };
    if (m.selfIssued && m.ski && !equalBytes(m.ski, m.aki.keyId)) return { code: 'BAD_AKI', message: 'self-signed anchor whose authorityKeyIdentifier differs from its subjectKeyIdentifier' };
  }
  return undefined;
};

/** A CA certificate in leaf position is refused (CA/B BR §7.1.2.7.8): see the README for this choice. */
const leafNotCa: CertRule = (m, role) => (role === 'leaf' && m.bc?.ca ? { code: 'LEAF_IS_CA', message: 'the leaf is a CA certificate (basicConstraints cA:TRUE)' } : undefined);

/** RFC 5280 §4.2.1.10: name constraints only in CA certificates, and critical. */
const nameConstraintsPlacement: CertRule = (m, role) => {
  const nc = ext(m, OID.nameConstraints);
  if (!nc) return undefined;
  if (role === 'leaf') return { code: 'NAME_CONSTRAINTS', message: 'nameConstraints in an end-entity certificate' };
  if (!nc.critical) return { code: 'NAME_CONSTRAINTS', message: 'nameConstraints is not marked critical (RFC 5280 §4.2.1.10)' };
  return undefined;
};

const leafSansWellFormed: CertRule = (m, role) => {
  if (role !== 'leaf') return undefined;
  for (const n of m.san ?? []) {
    const p = sanEntryProblem(n);
    if (p) return p;
  }
  return cnProblem(m);
};

const EKU_OF: Record<Exclude<Purpose, 'any'>, string> = { server: OID.ekuServerAuth, client: OID.ekuClientAuth };

/**
 * The leaf must name the purpose in a non-critical EKU (no anyExtendedKeyUsage, CA/B BR §7.1.2.7.6/10:
 * pkictl always issues an explicit EKU); issuers that carry an EKU must allow the purpose.
 */
const ekuAllowsPurpose: CertRule = (m, role, o) => {
  const e = ext(m, OID.extKeyUsage);
  if (o.purpose === 'any') return undefined;
  const want = EKU_OF[o.purpose];
  if (role === 'leaf') {
    if (!e || !m.eku) return { code: 'EKU_MISMATCH', message: `the leaf has no extendedKeyUsage; ${o.purpose} use requires ${o.purpose}Auth` };
    if (m.eku.length === 0) return { code: 'EKU_MISMATCH', message: 'extendedKeyUsage is empty' };
    if (e.critical) return { code: 'EKU_MISMATCH', message: 'extendedKeyUsage is marked critical' };
    if (m.eku.includes(OID.ekuAny)) return { code: 'EKU_MISMATCH', message: 'the leaf asserts anyExtendedKeyUsage' };
    if (!m.eku.includes(want)) return { code: 'EKU_MISMATCH', message: `extendedKeyUsage does not include ${o.purpose}Auth` };
    return undefined;
  }
  if (!m.eku) return undefined;
  if (role === 'anchor' && m.selfIssued) return { code: 'EKU_MISMATCH', message: 'a root certificate must not carry extendedKeyUsage' };
  if (!m.eku.includes(want) && !m.eku.includes(OID.ekuAny)) return { code: 'EKU_MISMATCH', message: `issuer's extendedKeyUsage does not allow ${o.purpose}Auth` };
  return undefined;
};

export const CERT_RULES: Array<[string, CertRule]> = [
  ['wellFormed', wellFormed],
  ['version3', version3],
  ['serialNumber', serialNumber],
  ['signatureFieldsAgree', signatureFieldsAgree],
  ['issuerPresent', issuerPresent],
  ['noUnknownCriticalExtension', noUnknownCriticalExtension],
  ['extensionCriticality', extensionCriticality],
  ['sanCriticality', sanCriticality],
  ['acceptableKey', acceptableKey],
  ['acceptableSignatureAlgorithm', acceptableSignatureAlgorithm],
  ['withinValidity', withinValidity],
  ['issuerIsCa', issuerIsCa],
  ['pathLenOnlyOnCa', pathLenOnlyOnCa],
  ['keyUsageConsistent', keyUsageConsistent],
  ['caHasSki', caHasSki],
  ['akiPresent', akiPresent],
  ['leafNotCa', leafNotCa],
  ['nameConstraintsPlacement', nameConstraintsPlacement],
  ['leafSansWellFormed', leafSansWellFormed],
  ['ekuAllowsPurpose', ekuAllowsPurpose],
];

// ---- chain rules ----------------------------------------------------------------------------------

/** RFC 5280 §6.1.4 (l)(m): pathLenConstraint counts the non-self-issued intermediates below the CA. */
const pathLength: ChainRule = (path) => {
  for (let i = 1; i < path.length; i++) {
    const limit = path[i]!.bc?.pathLen;
    if (limit === undefined) continue;
    let below = 0;
    for (let j = 1; j < i; j++) if (!path[j]!.selfIssued) below++;
    if (below > limit) return { code: 'PATH_LEN_EXCEEDED', message: `pathLenConstraint ${limit} allows ${limit} intermediate CA(s) below, found ${below}`, depth: i };
  }
  return undefined;
};

/** --max-depth: how many intermediates (not counting self-issued ones) the caller accepts. */
const maxDepth: ChainRule = (path, o) => {
  if (o.maxDepth === undefined) return undefined;
  const intermediates = path.slice(1, -1).filter((m) => !m.selfIssued).length;
  return intermediates > o.maxDepth ? { code: 'DEPTH_EXCEEDED', message: `${intermediates} intermediate(s), more than --max-depth ${o.maxDepth}` } : undefined;
};

/** RFC 5280 §6.1.3 (b)(c): each CA's constraints bind every certificate below it (self-issued intermediates excepted). */
const nameConstraints: ChainRule = (path) => {
  for (let i = path.length - 1; i >= 1; i--) {
    const nc = path[i]!.nc;
    if (!nc) continue;
    const size = nc.permitted.length + nc.excluded.length;
    for (let j = i - 1; j >= 0; j--) {
      const m = path[j]!;
      if (j > 0 && m.selfIssued) continue;
      const names = constrainedNames(m);
      if (names.length * size > NC_BUDGET) {
        return { code: 'NAME_CONSTRAINTS', message: `${names.length} names against ${size} constraints: too many to check`, depth: j };
      }
      const problem = checkNameConstraints(names, nc);
      if (problem) return { code: 'NAME_CONSTRAINTS', message: `${problem} (constraint at depth ${i})`, depth: j };
    }
  }
  return undefined;
};

const notRevoked: ChainRule = (path, o, signatures) => {
  if (!o.crls?.length) return undefined;
  for (let j = 0; j < path.length - 1; j++) {
    const p = revocationProblem(path[j]!, path[j + 1]!, o.crls, o.at, signatures);
    if (p) return { ...p, depth: j };
  }
  return undefined;
};

/** The peer's name is matched against the leaf's SANs only, never the CN (RFC 6125 §6.4.4, CA/B). */
const peerNameMatches: ChainRule = (path, o) => {
  const leaf = path[0]!;
  const sans = leaf.san ?? [];
  if (o.hostname !== undefined) {
    const host = o.hostname.replace(/\.$/, '');
    const ip = parseIp(host);
    const ok = ip ? sans.some((n) => n.type === 'ip' && equalBytes(n.bytes, ip)) : sans.some((n) => n.type === 'dns' && n.ascii && dnsMatches(n.value, host));
    if (!ok) return { code: 'HOSTNAME_MISMATCH', message: `no subjectAltName matches host name ${o.hostname}`, depth: 0 };
  }
  if (o.ip !== undefined) {
    const ip = parseIp(o.ip);
    if (!ip || !sans.some((n) => n.type === 'ip' && equalBytes(n.bytes, ip))) return { code: 'IP_MISMATCH', message: `no subjectAltName matches IP address ${o.ip}`, depth: 0 };
  }
  if (o.email !== undefined) {
    if (!sans.some((n) => n.type === 'email' && emailMatches(n.value, o.email!))) return { code: 'EMAIL_MISMATCH', message: `no subjectAltName matches email ${o.email}`, depth: 0 };
  }
  return undefined;
};

const expectedCn: ChainRule = (path, o) => {
  if (o.expectCn === undefined) return undefined;
  const cns = path[0]!.commonNames;
  return cns.length === 1 && cns[0] === o.expectCn ? undefined : { code: 'CN_MISMATCH', message: `CN is ${cns.length ? JSON.stringify(cns.join(', ')) : 'missing'}, expected "${o.expectCn}"`, depth: 0 };
};

export const CHAIN_RULES: Array<[string, ChainRule]> = [
  ['pathLength', pathLength],
  ['maxDepth', maxDepth],
  ['nameConstraints', nameConstraints],
  ['notRevoked', notRevoked],
  ['peerNameMatches', peerNameMatches],
  ['expectedCn', expectedCn],
];

const certRules = CERT_RULES.map(([, rule]) => rule);
const chainRules = CHAIN_RULES.map(([, rule]) => rule);
/** The certificate rules' findings per CA and role/purpose/time: CAs recur on every path of a run. */
export type CertRuleCache = WeakMap<Certificate, Map<string, Problem[]>>;

/** Every failure of `path` (leaf first, anchor last), each with the rule's code and the depth. */
export function checkPath(path: Certificate[], o: RuleOptions, cache: CertRuleCache, signatures: Signatures): RuleFailure[] {
  const failures: RuleFailure[] = [];
  path.forEach((m, depth) => {
    const role: Role = depth === 0 ? 'leaf' : depth === path.length - 1 ? 'anchor' : 'intermediate';
    // A leaf is usually checked once, so it is not cached: a WeakMap entry per leaf costs the garbage
    // collector more than the rules cost to run again.
    let perCert: Map<string, Problem[]> | undefined;
    let key = '';
    let found: Problem[] | undefined;
    if (role !== 'leaf') {
      key = `${role}|${o.purpose}|${o.at.getTime()}`;
      perCert = cache.get(m);
      if (!perCert) cache.set(m, (perCert = new Map()));
      found = perCert.get(key);
    }
    if (!found) {
      found = [];
      for (let i = 0; i < certRules.length; i++) {
        const p = certRules[i]!(m, role, o);
        if (p) found.push(p);
      }
      perCert?.set(key, found);
    }
    for (const p of found) failures.push({ ...p, depth });
  });
  for (let i = 0; i < chainRules.length; i++) {
    const f = chainRules[i]!(path, o, signatures);
    if (f) failures.push(f);
  }
  return failures;
}
