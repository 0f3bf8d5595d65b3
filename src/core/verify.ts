// RFC 5280 §6 certification path validation over the certificate model (core/cert.ts).
// Path building (this file): candidate issuers by subject name, AKI/SKI as a preference, every link's
// signature verified, loops and depth bounded, alternatives tried until one path passes every rule.
// The rules themselves live in verify/rules.ts, one named function each. State that lives for one run
// (the issuer index, the signature and rule caches) sits on a Verifier, made by the caller per run.
import { Certificate } from './cert.js';
import type { Crl } from './crl.js';
import { equalBytes, hex } from './der.js';
import type { RevocationInfo } from './revocation.js';
import { checkPath, type CertRuleCache, type Purpose, type RuleFailure } from './verify/rules.js';
import { signatureAlgorithmProblem, Signatures } from './verify/signature.js';
import type { CryptoProvider } from './x509.js';

export type { Purpose } from './verify/rules.js';

export interface VerifyOptions {
  purpose: Purpose;
  /** matched against SAN dNSName (or iPAddress if it is an IP literal); never the CN */
  hostname?: string;
  /** matched against SAN iPAddress */
  ip?: string;
  /** matched against SAN rfc822Name */
  email?: string;
  at: Date;
  crls?: Crl[];
  /** most intermediates accepted (self-issued ones not counted) */
  maxDepth?: number;
  expectCn?: string;
}

export interface VerifyFailure {
  code: string;
  message: string;
  /** 0 = the leaf */
  depth?: number;
  subject?: string;
  /** REVOKED: when the CRL says it was revoked. */
  revocation?: RevocationInfo;
}

export interface VerifyResult {
  ok: boolean;
  /** the validated path (leaf first, anchor last), or the best candidate when none validated */
  path: Certificate[];
  failures: VerifyFailure[];
}

/** Hard bound on intermediates while searching, whatever --max-depth says. */
const SEARCH_DEPTH_LIMIT = 12;
/** Work bounds for pathological pools (100 cross-signing intermediates and the like). */
const MAX_STEPS = 20_000;
const MAX_PATHS = 64;

interface Search extends IssuerIndex {
  signatures: Signatures;
  steps: number;
  paths: number;
  best?: { path: Certificate[]; failures: RuleFailure[] };
  /** why the deepest dead end ended, when no complete path was found */
  deadEnd?: { length: number; failure: VerifyFailure };
}

function noteDeadEnd(s: Search, length: number, failure: VerifyFailure) {
  if (!s.deadEnd || length > s.deadEnd.length) s.deadEnd = { length, failure };
}

/** Candidate issuers of `m`: same name; those whose SKI matches m's AKI first (anchors first among equals). */
function candidates(s: IssuerIndex, m: Certificate): Certificate[] {
  const list = s.bySubject.get(hex(m.issuerDer)) ?? [];
  const want = m.aki?.keyId;
  if (!want || list.length < 2) return list;
  const score = (c: Certificate) => (c.ski && equalBytes(c.ski, want) ? 0 : c.ski ? 2 : 1);
  return [...list].sort((a, b) => score(a) - score(b) || Number(s.anchors.has(b.sha256)) - Number(s.anchors.has(a.sha256)));
}

interface IssuerIndex {
  anchors: Set<string>;
  /** anchors then pool, each certificate once, by the hex of its subject Name */
  bySubject: Map<string, Certificate[]>;
}

function issuerIndex(roots: Certificate[], pool: Certificate[]): IssuerIndex {
  const index: IssuerIndex = { anchors: new Set(roots.map((a) => a.sha256)), bySubject: new Map() };
  const seen = new Set<string>();
  for (const m of [...roots, ...pool]) {
    if (seen.has(m.sha256)) continue;
    seen.add(m.sha256);
    const key = hex(m.subjectDer);
    const list = index.bySubject.get(key) ?? [];
    list.push(m);
    index.bySubject.set(key, list);
  }
  return index;
}

type Found = { path: Certificate[]; failures: RuleFailure[] };

async function search(s: Search, path: Certificate[], evaluate: (path: Certificate[]) => RuleFailure[]): Promise<Found | undefined> {
  const current = path.at(-1)!;
  const depth = path.length - 1;
  const list = candidates(s, current);
  if (list.length === 0) {
    noteDeadEnd(s, path.length, { code: 'UNKNOWN_ISSUER', message: `issuer not found among the trusted and untrusted certificates`, depth, subject: current.subject });
    return undefined;
  }
  for (const issuer of list) {
    if (++s.steps > MAX_STEPS || s.paths >= MAX_PATHS) {
      noteDeadEnd(s, Infinity, { code: 'PATH_SEARCH_LIMIT', message: 'gave up building a path: too many candidate chains' });
      return undefined;
    }
    // Loop detection: the same certificate, or the same name and key again, makes no progress.
    if (path.some((p) => p.sha256 === issuer.sha256 || (equalBytes(p.subjectDer, issuer.subjectDer) && equalBytes(p.spki, issuer.spki)))) {
      noteDeadEnd(s, path.length, { code: 'UNKNOWN_ISSUER', message: 'only a loop back into the chain found', depth, subject: current.subject });
      continue;
    }
    if (!(await s.signatures.signedBy(current, issuer))) {
      const weak = signatureAlgorithmProblem(current);
      const otherKey = current.aki?.keyId && issuer.ski && !equalBytes(current.aki.keyId, issuer.ski);
      if (weak) noteDeadEnd(s, path.length, { ...weak, depth, subject: current.subject });
      else if (otherKey) {
        noteDeadEnd(s, path.length, {
          code: 'UNKNOWN_ISSUER',
          message: `a CA named ${issuer.subject || '(empty)'} is known, but not the key that signed this certificate (authorityKeyIdentifier differs)`,
          depth,
          subject: current.subject,
        });
      } else noteDeadEnd(s, path.length, { code: 'BAD_SIGNATURE', message: `signature does not verify with the key of ${issuer.subject || 'its issuer'}`, depth, subject: current.subject });
      continue;
    }
    const next = [...path, issuer];
    if (s.anchors.has(issuer.sha256)) {
      s.paths++;
      const failures = evaluate(next);
      if (failures.length === 0) return { path: next, failures };
      if (!s.best || failures.length < s.best.failures.length) s.best = { path: next, failures };
      continue;
    }
    if (next.length - 1 > SEARCH_DEPTH_LIMIT) {
      noteDeadEnd(s, next.length, { code: 'DEPTH_EXCEEDED', message: `no trust anchor within ${SEARCH_DEPTH_LIMIT} intermediates`, depth, subject: current.subject });
      continue;
    }
    const found = await search(s, next, evaluate);
    if (found) return found;
  }
  return undefined;
}

/**
 * One validation run: trust anchors and an untrusted pool, indexed once, with the caches that let many
 * leaves share the work (signatures of the same pair, the rules of the CAs). Made by the caller for one
 * run (one command, one audit) and dropped with it: nothing is kept between runs.
 */
export class Verifier {
  readonly #roots: Certificate[];
  readonly #index: IssuerIndex;
  readonly #signatures: Signatures;
  readonly #caRules: CertRuleCache = new WeakMap();

  /** `crypto`: the run's provider (OpContext.crypto), which checks every signature; omitted: Node's own. */
  constructor(roots: Certificate[], pool: Certificate[] = [], crypto?: CryptoProvider) {
    this.#roots = roots;
    this.#index = issuerIndex(roots, pool);
    this.#signatures = new Signatures(crypto);
    this.pool = pool;
  }

  /** The untrusted pool given at construction (intermediates every leaf may use). */
  readonly pool: Certificate[];

  /**
   * Validates `leaf` for `options.purpose` at `options.at`, building the path through the pool (and
   * `intermediates`, extra ones for this leaf only: the rest of its file). Failures are results, never
   * exceptions.
   */
  async verify(leaf: Certificate, options: VerifyOptions, intermediates: Certificate[] = []): Promise<VerifyResult> {
    const index = intermediates.length ? issuerIndex(this.#roots, [...intermediates, ...this.pool]) : this.#index;
    // The rules are synchronous: a CRL's signature is checked beforehand against every CA of its name.
    for (const crl of options.crls ?? []) await this.#signatures.prepareCrl(crl, index.bySubject.get(hex(crl.issuerDer)) ?? []);
    const s: Search = { ...index, signatures: this.#signatures, steps: 0, paths: 0 };
    const ruleOptions = {
      purpose: options.purpose, at: options.at, hostname: options.hostname, ip: options.ip, email: options.email,
      crls: options.crls, maxDepth: options.maxDepth, expectCn: options.expectCn,
    };
    const evaluate = (path: Certificate[]) => checkPath(path, ruleOptions, this.#caRules, this.#signatures);

    let found: Found | undefined;
    if (s.anchors.has(leaf.sha256)) {
      // The leaf itself is trusted: the path is just the leaf.
      const failures = evaluate([leaf]);
      found = failures.length === 0 ? { path: [leaf], failures } : undefined;
      if (!found) s.best = { path: [leaf], failures };
    } else {
      found = await search(s, [leaf], evaluate);
    }
    const describeAt = (path: Certificate[], f: RuleFailure): VerifyFailure => ({
      code: f.code,
      message: f.message,
      depth: f.depth,
      subject: f.depth !== undefined ? path[f.depth]?.subject : undefined,
      ...(f.revocation && { revocation: f.revocation }),
    });
    if (found) return { ok: true, path: found.path, failures: [] };
    if (s.best) return { ok: false, path: s.best.path, failures: s.best.failures.map((f) => describeAt(s.best!.path, f)) };
    const dead = s.deadEnd?.failure ?? { code: 'UNKNOWN_ISSUER', message: 'no path to a trust anchor', depth: 0, subject: leaf.subject };
    return { ok: false, path: [leaf], failures: [dead] };
  }

  /** Does `issuer`'s key sign `signed` (a certificate, or a CRL), by the run's provider? */
  async signedBy(signed: Certificate | Crl, issuer: Certificate): Promise<boolean> {
    return signed instanceof Certificate ? this.#signatures.signedBy(signed, issuer) : this.#signatures.verify(signed, issuer);
  }

  /**
   * Starts checking, on libuv's thread pool, the leaf's signature by the issuer that path building will
   * try first, so a caller verifying many files can parse the next ones meanwhile. It only fills the
   * signature cache (same node:crypto call, same answer): verdicts do not change, and verify() checks
   * any other link itself. Resolves when done; never rejects.
   */
  checkLeafSignatureInBackground(leaf: Certificate, intermediates: Certificate[] = []): Promise<unknown> {
    const index = intermediates.length ? issuerIndex(this.#roots, [...intermediates, ...this.pool]) : this.#index;
    if (index.anchors.has(leaf.sha256)) return Promise.resolve();
    const first = candidates(index, leaf)[0];
    return first && first.sha256 !== leaf.sha256 ? this.#signatures.signedByInBackground(leaf, first) : Promise.resolve();
  }
}
