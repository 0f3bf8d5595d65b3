// RFC 5280 §6 certification path validation over @peculiar/x509's parsed certificates.
// Path building (this file): candidate issuers by subject name, AKI/SKI as a preference, every link's
// signature verified, loops and depth bounded, alternatives tried until one path passes every rule.
// The rules themselves live in verify/rules.ts, one named function each.
import { equalBytes, hex } from './verify/der.js';
import { modelOf, type CertModel } from './verify/cert-model.js';
import { checkPath, type Purpose, type RuleFailure } from './verify/rules.js';
import { signatureAlgorithmProblem, signedBy, signedByInBackground } from './verify/signature.js';
import type { CryptoProvider, x509 } from './x509.js';

export type { Purpose } from './verify/rules.js';

export interface VerifyOptions {
  /** trust anchors */
  roots: x509.X509Certificate[];
  /** untrusted pool of possible intermediates */
  intermediates: x509.X509Certificate[];
  purpose: Purpose;
  /** matched against SAN dNSName (or iPAddress if it is an IP literal); never the CN */
  hostname?: string;
  /** matched against SAN iPAddress */
  ip?: string;
  /** matched against SAN rfc822Name */
  email?: string;
  at: Date;
  crls?: x509.X509Crl[];
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
}

export interface VerifyResult {
  ok: boolean;
  /** the validated path (leaf first, anchor last), or the best candidate when none validated */
  chain: x509.X509Certificate[];
  failures: VerifyFailure[];
}

/** Hard bound on intermediates while searching, whatever --max-depth says. */
export const SEARCH_DEPTH_LIMIT = 12;
/** Work bounds for pathological pools (100 cross-signing intermediates and the like). */
const MAX_STEPS = 20_000;
const MAX_PATHS = 64;

interface Search {
  anchors: Set<string>;
  bySubject: Map<string, CertModel[]>;
  steps: number;
  paths: number;
  best?: { path: CertModel[]; failures: RuleFailure[] };
  /** why the deepest dead end ended, when no complete path was found */
  deadEnd?: { length: number; failure: VerifyFailure };
}

function noteDeadEnd(s: Search, length: number, failure: VerifyFailure) {
  if (!s.deadEnd || length > s.deadEnd.length) s.deadEnd = { length, failure };
}

/** Candidate issuers of `m`: same name; those whose SKI matches m's AKI first (anchors first among equals). */
function candidates(s: Search, m: CertModel): CertModel[] {
  return preferred(s.bySubject.get(issuerKey(m)) ?? [], m, s.anchors);
}

/** The bySubject key of m's issuer name (kept on the model: path building looks it up more than once). */
const issuerKey = (m: CertModel) => (m.issuerHex ??= hex(m.issuerDer));

function preferred(list: CertModel[], m: CertModel, anchors: Set<string>): CertModel[] {
  const want = m.aki?.keyId;
  if (!want || list.length < 2) return list;
  const score = (c: CertModel) => (c.ski && equalBytes(c.ski, want) ? 0 : c.ski ? 2 : 1);
  return [...list].sort((a, b) => score(a) - score(b) || Number(anchors.has(b.id)) - Number(anchors.has(a.id)));
}

/**
 * Starts checking, on libuv's thread pool, the leaf's signature by the issuer that path building will
 * try first (the first of `candidates`), so a caller verifying many files can parse the next ones
 * meanwhile. It only fills signedBy's cache (same node:crypto call, same answer): verdicts do not
 * change, and verifyModels checks any other link itself. Resolves when done; never rejects.
 */
export function checkLeafSignatureInBackground(leaf: CertModel, roots: CertModel[], intermediates: CertModel[]): Promise<unknown> {
  const { anchors, bySubject } = issuerIndex(roots, intermediates);
  if (anchors.has(leaf.id)) return Promise.resolve();
  const first = preferred(bySubject.get(issuerKey(leaf)) ?? [], leaf, anchors)[0];
  return first && first.id !== leaf.id ? signedByInBackground(leaf, first) : Promise.resolve();
}

interface IssuerIndex {
  anchors: Set<string>;
  /** anchors then pool, each certificate once, by the hex of its subject Name */
  bySubject: Map<string, CertModel[]>;
}

/**
 * The anchors and the issuers by name, indexed once per pair of arrays: a caller checking many leaves
 * against the same roots and pool (verify-files.ts) builds it once. The arrays are treated as
 * immutable once passed (every caller builds them before verifying and never changes them).
 */
const indexes = new WeakMap<CertModel[], WeakMap<CertModel[], IssuerIndex>>();

function issuerIndex(roots: CertModel[], pool: CertModel[]): IssuerIndex {
  let byPool = indexes.get(roots);
  const hit = byPool?.get(pool);
  if (hit) return hit;
  const index: IssuerIndex = { anchors: new Set(roots.map((a) => a.id)), bySubject: new Map() };
  const seen = new Set<string>();
  for (const m of [...roots, ...pool]) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    const key = hex(m.subjectDer);
    const list = index.bySubject.get(key) ?? [];
    list.push(m);
    index.bySubject.set(key, list);
  }
  if (!byPool) indexes.set(roots, (byPool = new WeakMap()));
  byPool.set(pool, index);
  return index;
}

type Found = { path: CertModel[]; failures: RuleFailure[] };

function search(s: Search, path: CertModel[], evaluate: (path: CertModel[]) => RuleFailure[]): Found | undefined {
  const current = path.at(-1)!;
  const depth = path.length - 1;
  const list = candidates(s, current);
  if (list.length === 0) {
    noteDeadEnd(s, path.length, { code: 'UNKNOWN_ISSUER', message: `issuer not found among the trusted and untrusted certificates`, depth, subject: current.x.subject });
    return undefined;
  }
  for (const issuer of list) {
    if (++s.steps > MAX_STEPS || s.paths >= MAX_PATHS) {
      noteDeadEnd(s, Infinity, { code: 'PATH_SEARCH_LIMIT', message: 'gave up building a path: too many candidate chains' });
      return undefined;
    }
    // Loop detection: the same certificate, or the same name and key again, makes no progress.
    if (path.some((p) => p.id === issuer.id || (equalBytes(p.subjectDer, issuer.subjectDer) && equalBytes(p.spki, issuer.spki)))) {
      noteDeadEnd(s, path.length, { code: 'UNKNOWN_ISSUER', message: 'only a loop back into the chain found', depth, subject: current.x.subject });
      continue;
    }
    if (!signedBy(current, issuer)) {
      const weak = signatureAlgorithmProblem(current);
      const otherKey = current.aki?.keyId && issuer.ski && !equalBytes(current.aki.keyId, issuer.ski);
      if (weak) noteDeadEnd(s, path.length, { ...weak, depth, subject: current.x.subject });
      else if (otherKey) {
        noteDeadEnd(s, path.length, {
          code: 'UNKNOWN_ISSUER',
          message: `a CA named ${issuer.x.subject || '(empty)'} is known, but not the key that signed this certificate (authorityKeyIdentifier differs)`,
          depth,
          subject: current.x.subject,
        });
      } else noteDeadEnd(s, path.length, { code: 'BAD_SIGNATURE', message: `signature does not verify with the key of ${issuer.x.subject || 'its issuer'}`, depth, subject: current.x.subject });
      continue;
    }
    const next = [...path, issuer];
    if (s.anchors.has(issuer.id)) {
      s.paths++;
      const failures = evaluate(next);
      if (failures.length === 0) return { path: next, failures };
      if (!s.best || failures.length < s.best.failures.length) s.best = { path: next, failures };
      continue;
    }
    if (next.length - 1 > SEARCH_DEPTH_LIMIT) {
      noteDeadEnd(s, next.length, { code: 'DEPTH_EXCEEDED', message: `no trust anchor within ${SEARCH_DEPTH_LIMIT} intermediates`, depth, subject: current.x.subject });
      continue;
    }
    const found = search(s, next, evaluate);
    if (found) return found;
  }
  return undefined;
}

/**
 * Validates `leaf` for `options.purpose` at `options.at` against `options.roots`, building the path
 * through `options.intermediates`. Failures are results, never exceptions.
 *
 * `crypto` is accepted for symmetry with the rest of the core; signatures are verified with node:crypto
 * (synchronous one-shot verify, DER ECDSA signatures as-is; see verify/signature.ts).
 */
export async function verifyChain(leaf: x509.X509Certificate, options: VerifyOptions, _crypto?: CryptoProvider): Promise<VerifyResult> {
  return verifyChainSync(leaf, options);
}

export function verifyChainSync(leaf: x509.X509Certificate, options: VerifyOptions): VerifyResult {
  const r = verifyModels(modelOf(leaf), { ...options, roots: options.roots.map(modelOf), intermediates: options.intermediates.map(modelOf) });
  return { ok: r.ok, chain: r.path.map((m) => m.x), failures: r.failures };
}

export interface ModelOptions extends Omit<VerifyOptions, 'roots' | 'intermediates'> {
  roots: CertModel[];
  intermediates: CertModel[];
}

export interface ModelResult {
  ok: boolean;
  /** the validated path (leaf first, anchor last), or the best candidate when none validated */
  path: CertModel[];
  failures: VerifyFailure[];
}

/**
 * verifyChainSync over validator models (verify/cert-model.ts modelOf, or modelOfDer for callers that
 * only hold bytes). Models made from DER read names (`.x`) only to describe failures; a caller that
 * has not registered @peculiar/x509 gets NamesUnavailable then, and retries after useX509.
 */
export function verifyModels(leafModel: CertModel, options: ModelOptions): ModelResult {
  const { anchors, bySubject } = issuerIndex(options.roots, options.intermediates);
  const s: Search = { anchors, bySubject, steps: 0, paths: 0 };
  const ruleOptions = {
    purpose: options.purpose, at: options.at, hostname: options.hostname, ip: options.ip, email: options.email,
    crls: options.crls, maxDepth: options.maxDepth, expectCn: options.expectCn,
  };
  const evaluate = (path: CertModel[]) => checkPath(path, ruleOptions);

  let found: Found | undefined;
  if (s.anchors.has(leafModel.id)) {
    // The leaf itself is trusted: the path is just the leaf.
    const failures = evaluate([leafModel]);
    found = failures.length === 0 ? { path: [leafModel], failures } : undefined;
    if (!found) s.best = { path: [leafModel], failures };
  } else {
    found = search(s, [leafModel], evaluate);
  }
  const describeAt = (path: CertModel[], f: RuleFailure): VerifyFailure => ({
    code: f.code,
    message: f.message,
    depth: f.depth,
    subject: f.depth !== undefined ? path[f.depth]?.x.subject : undefined,
  });
  if (found) return { ok: true, path: found.path, failures: [] };
  if (s.best) return { ok: false, path: s.best.path, failures: s.best.failures.map((f) => describeAt(s.best!.path, f)) };
  const dead = s.deadEnd?.failure ?? { code: 'UNKNOWN_ISSUER', message: 'no path to a trust anchor', depth: 0, subject: leafModel.x.subject };
  return { ok: false, path: [leafModel], failures: [dead] };
}
