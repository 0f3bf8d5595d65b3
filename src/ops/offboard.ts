import { inputError } from '../core/errors.js';
import { assertTenantId, type TenantIdPattern } from '../core/tenant-id.js';
import type { RevocationReason } from '../store/cert-index.js';
import type { OpContext } from './context.js';
import type { CrlResult } from './crl.js';
import { loadSigningCa } from './signing-ca.js';
import { isLive, revokeAndPublish, tenantCertificates } from './revoke.js';

export interface OffboardRequest {
  dir: string;
  actor?: string;
  tenants: string[];
  tenantIdPattern?: TenantIdPattern;
  reason: RevocationReason;
  crlDays: number;
  passphrase?: string;
  /** Destroy the private keys in the archive instead of keeping them (0600). */
  purgeKeys: boolean;
}

export interface OffboardedTenant {
  tenantId: string;
  /** Serials revoked by this run (the tenant's live certificates). */
  revoked: string[];
  /** Where clients/<id>/ went, relative to --dir (null: there was no directory left). */
  archive: string | null;
  /** 'kept' (mode 0600 in the archive), 'destroyed', 'not destroyed: <why>', or 'none' (no directory was left). */
  keys: string;
  /** Offboarded by an earlier run: nothing changed. */
  alreadyOffboarded: boolean;
}

export interface OffboardResult {
  /** --dir as shown; paths below are relative to it. */
  dir: string;
  tenants: OffboardedTenant[];
  /** The CRL written after the revocations; null when nothing needed revoking. */
  crl: CrlResult | null;
}

/**
 * Takes tenants out of service for good, under one lock: revokes their live certificates and
 * publishes the CRL (only then is the CA key needed), then moves each clients/<id>/ into
 * archive/clients/<id>/<stamp>/ (store.archiveClient), recorded in the index and the audit log.
 * Afterwards list, audit and verify --all no longer see the tenant, and `issue client <id>` may issue
 * the id again. Running it again is a no-op; unknown tenants are input errors and nothing is written.
 */
export async function offboard(request: OffboardRequest, ctx: OpContext): Promise<OffboardResult> {
  for (const t of request.tenants) assertTenantId(t, request.tenantIdPattern);
  const tenants = [...new Set(request.tenants)];
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  return store.withLock(async () => {
    const plans = [];
    for (const tenantId of tenants) {
      store.refuseArchiveLinks(tenantId, request.tenantIdPattern); // before anything is revoked or moved
      const entries = await tenantCertificates(store, tenantId, request.tenantIdPattern);
      const deployed = await store.tenantDirExists(tenantId, request.tenantIdPattern);
      if (entries.length === 0 && !deployed) {
        throw inputError('TENANT_UNKNOWN', `tenant ${tenantId} has no certificate in ${store.layout.display(store.layout.root)}; nothing was offboarded`, 'pkictl list shows the tenants of this CA');
      }
      const live = entries.filter((e) => isLive(e, ctx.now)).map((e) => e.serial);
      // Offboarded before: archived after its newest certificate was issued, and not deployed since.
      const newest = entries.map((e) => e.issuedAt).sort().at(-1) ?? '';
      const archived = store.index.archives(tenantId).filter((r) => r.state === 'done' && r.at >= newest).at(-1);
      const done = archived !== undefined && !deployed && live.length === 0;
      plans.push({ tenantId, live, done, archived });
    }
    const serials = plans.flatMap((p) => p.live);
    let crl: CrlResult | null = null;
    if (serials.length > 0) {
      const ca = await loadSigningCa(store, request.passphrase, ctx);
      crl = (await revokeAndPublish(store, ca, serials, request, ctx)).crl ?? null;
    }
    const result: OffboardedTenant[] = [];
    for (const plan of plans) {
      if (plan.done) {
        result.push({ tenantId: plan.tenantId, revoked: [], archive: plan.archived?.path ?? null, keys: plan.archived?.keys ?? 'kept', alreadyOffboarded: true });
        continue;
      }
      const record = await store.archiveClient(plan.tenantId, request.tenantIdPattern, { purgeKeys: request.purgeKeys });
      result.push({ tenantId: plan.tenantId, revoked: plan.live, archive: record.path ?? null, keys: record.keys ?? 'kept', alreadyOffboarded: false });
    }
    return { dir: store.layout.display(store.layout.root), tenants: result, crl };
  });
}
