import { inputError, PkiError } from '../core/errors.js';
import { tenantIdProblem, type TenantIdPattern } from '../core/tenant-id.js';
import { printable } from '../core/visible-text.js';
import type { CertStore } from '../store/cert-store.js';
import { defaultConcurrency, runBulk, type BulkProgress } from './bulk.js';
import type { IssuedPair, OpContext } from './context.js';
import { makePair, refuseOverwrite, replacedBy, type LeafProfile } from './issue-leaf.js';
import { republishIfStale } from './crl.js';
import { loadSigningCa, warnShortened } from './signing-ca.js';

/** A tenant id and where it came from ("tenants.txt:3", "argument 2"), for error messages. */
export interface TenantEntry {
  id: string;
  source: string;
}

/**
 * One tenant id per line; blank lines and comments (from '#' at the start of a line or after a
 * space) are ignored, surrounding spaces and a trailing CR are dropped. Line numbers are kept so
 * every bad line can be named.
 */
export function parseTenantList(text: string, name: string): TenantEntry[] {
  const entries: TenantEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const id = raw.replace(/(^|\s)#.*$/, '').trim();
    if (id !== '') entries.push({ id, source: `${name}:${i + 1}` });
  });
  return entries;
}

export const argumentEntries = (ids: string[]): TenantEntry[] => ids.map((id, i) => ({ id, source: `argument ${i + 1}` }));

export interface IssueClientsRequest extends LeafProfile {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  tenants: TenantEntry[];
  tenantIdPattern?: TenantIdPattern;
  /** Replace existing pairs. */
  force: boolean;
  /** Leave tenants that already have both files alone and issue the rest (for reruns). */
  skipExisting?: boolean;
  passphrase?: string;
  /** Jobs in flight; default bulk.defaultConcurrency(). */
  concurrency?: number;
  /** Abort to stop cleanly: issued tenants stay, in-flight ones finish, the rest are not started. */
  signal?: AbortSignal;
  /** Called with the tenant count once it is known (after validation and the existence check). */
  onStart?(total: number, skipped: number): void;
  onProgress?(progress: BulkProgress): void;
}

export interface IssueClientsResult {
  /** --dir as shown; the pairs' paths are relative to it. */
  dir: string;
  issued: IssuedPair[];
  /** Tenants left alone because --skip-existing found their pair. */
  skipped: string[];
  /** Tenants not started because the run was interrupted or stopped at a failure. */
  notStarted: string[];
  failed: Array<{ tenantId: string; error: string }>;
  interrupted: boolean;
  concurrency: number;
  elapsedMs: number;
}

/** Bad lines named one by one; the rest are counted (a wrong file of 100,000 lines is one screen, not 9 MB). */
const LISTED_PROBLEMS = 20;

/** Every bad line at once: a batch with one typo issues nothing and names the lines to fix. */
function validateTenants(entries: TenantEntry[], pattern?: TenantIdPattern): void {
  if (entries.length === 0) throw inputError('TENANT_ID_MISSING', 'no tenant id given', 'pass tenant ids as arguments or --from FILE (one per line)');
  const problems: string[] = [];
  const firstSeen = new Map<string, string>();
  for (const { id, source } of entries) {
    const problem = tenantIdProblem(id, pattern);
    if (problem) problems.push(`${source}: invalid tenant id '${printable(id)}': ${problem}`);
    else if (firstSeen.has(id)) problems.push(`${source}: tenant id ${id} is also at ${firstSeen.get(id)}`);
    else firstSeen.set(id, source);
  }
  if (problems.length === 1) throw inputError('TENANT_ID_INVALID', `${problems[0]}; nothing was issued`);
  if (problems.length > 1) {
    const shown = problems.slice(0, LISTED_PROBLEMS);
    if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
    throw inputError('TENANT_ID_INVALID', `${problems.length} bad tenant ids; nothing was issued\n  ${shown.join('\n  ')}`);
  }
}

type Existing = 'none' | 'complete' | 'partial';

async function existingState(store: CertStore, ids: string[], pattern?: TenantIdPattern): Promise<Existing[]> {
  const report = await runBulk(ids, async (id) => {
    const found = await store.existing([store.clientPaths(id, pattern)]);
    return found.length === 0 ? 'none' : found.length === 2 ? 'complete' : 'partial';
  }, { concurrency: 32 });
  const failure = report.results.find((r) => r.status === 'failed');
  if (failure) throw failure.error;
  return report.results.map((r) => r.value as Existing);
}

/**
 * RSA leaves: one job per core, since key generation saturates the cores on the libuv pool and more
 * jobs would only queue. EC leaves: the key costs nothing, so a job is mostly waiting (the CA's
 * signature on the pool, the store's fsyncs); sixteen per core keep those waits overlapped (200
 * tenants on 2 cores: 4 per core 1.36-1.52 s, 8 per core 1.25-1.37 s, 16 per core 1.17-1.45 s),
 * capped so that a big machine does not run out of file descriptors.
 */
export function concurrencyFor(key: string): number {
  return key.startsWith('rsa') ? defaultConcurrency() : Math.min(64, 16 * defaultConcurrency());
}

export async function issueClients(request: IssueClientsRequest, ctx: OpContext): Promise<IssueClientsResult> {
  validateTenants(request.tenants, request.tenantIdPattern);
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const ca = await loadSigningCa(store, request.passphrase, ctx);
  // One lock for the whole batch: the existence check and the writes it decides on cannot be
  // interleaved with another pkictl, and the lock is taken (and the index loaded) once, not per tenant.
  const { skipped, report } = await store.withLock(async () => {
    await republishIfStale(store, ca, ctx);
    let ids = request.tenants.map((t) => t.id);
    const skipped: string[] = [];
    if (request.skipExisting) {
      const state = await existingState(store, ids, request.tenantIdPattern);
      const partial = ids.filter((_, i) => state[i] === 'partial');
      if (partial.length > 0) {
        const shown = partial.slice(0, 3).map((id) => store.layout.display(store.layout.clientDir(id, request.tenantIdPattern))).join(', ');
        throw inputError('PAIR_INCOMPLETE', `${shown}${partial.length > 3 ? ` and ${partial.length - 3} more` : ''} hold only one of client.crt/client.key; nothing was issued`, 'remove the stray file, or reissue those tenants with --force');
      }
      skipped.push(...ids.filter((_, i) => state[i] === 'complete'));
      ids = ids.filter((_, i) => state[i] === 'none');
    } else {
      await refuseOverwrite(store, ids.map((id) => store.clientPaths(id, request.tenantIdPattern)), request.force).catch((error: unknown) => {
        if (error instanceof PkiError && error.code === 'ALREADY_EXISTS') {
          throw inputError(error.code, error.message, 'pass --skip-existing to issue only the missing tenants, or --force to replace them');
        }
        throw error;
      });
    }
    request.onStart?.(ids.length, skipped.length);

    const report = await runBulk(
      ids,
      async (tenantId) => {
        // Key, certificate and PEM first, all in memory; then the store's one atomic write: an
        // interrupted job leaves either the whole pair or nothing.
        const { cert, pem, keySha256 } = await makePair('client', { ...request.subject, CN: tenantId }, undefined, request, ca, ctx);
        const replaced = replacedBy(store, 'client', tenantId);
        const paths = await store.saveClient(tenantId, pem, request.tenantIdPattern, { facts: cert.facts, issuer: cert.issuer, keySha256 });
        return { kind: 'client', tenantId, cert: store.layout.inTree(paths.cert), key: store.layout.inTree(paths.key), keyType: request.key, ...cert.facts, ...(replaced && { replaced }), ...(cert.shortened && { warning: cert.shortened }) } satisfies IssuedPair;
      },
      { concurrency: request.concurrency ?? concurrencyFor(request.key), signal: request.signal, onProgress: request.onProgress },
    );
    return { skipped, report };
  });

  const issued = report.results.flatMap((r) => (r.status === 'done' ? [r.value!] : []));
  warnShortened(issued.map((p) => ({ who: `tenant ${p.tenantId}`, shortened: p.warning })), ctx);
  return {
    dir: store.layout.display(store.layout.root),
    issued,
    skipped,
    notStarted: report.results.flatMap((r) => (r.status === 'not-started' ? [r.item] : [])),
    failed: report.results.flatMap((r) => (r.status === 'failed' ? [{ tenantId: r.item, error: r.error instanceof Error ? r.error.message : String(r.error) }] : [])),
    interrupted: report.interrupted,
    concurrency: report.concurrency,
    elapsedMs: Math.round(report.elapsedMs),
  };
}
