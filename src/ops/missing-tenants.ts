import type { CertStore } from '../store/cert-store.js';

/**
 * A tenant the issuance index lists as holding a valid certificate while its directory under
 * clients/ is gone (deleted by hand, or lost): its connector has no pair, and nothing in the tree says
 * so. `audit`, `list --check`, `verify --all` and `rotate` all report it, from this one detector.
 */
export interface MissingTenant {
  code: 'MISSING_TENANT';
  tenantId: string;
  /** The certificate the index lists as valid. */
  serial: string;
  /** clients/<id>, relative to --dir. */
  path: string;
  /** The finding and what to do, in one line. */
  message: string;
}

/** Both ways out: the tenant stays (re-issue) or goes (offboard: revoked, recorded as archived). */
const missingMessage = (tenantId: string, serial: string) =>
  `the index lists serial ${serial} as this tenant's valid certificate, but its directory is gone; re-issue it (pkictl issue client ${tenantId} --force) or offboard it (pkictl offboard ${tenantId})`;

/**
 * The tenants of the index missing from `present` (the directory names under clients/). `loaded`: the
 * caller has loaded or refreshed the index; otherwise it is loaded here only when it names a tenant
 * that is not present (CertIndex.tenantIds(), a partial read), so a healthy tree's report does not
 * pay for folding the whole index.
 */
export async function missingTenants(store: CertStore, present: Iterable<string>, loaded = false): Promise<MissingTenant[]> {
  const here = new Set(present);
  if (!loaded) {
    const known = await store.index.tenantIds();
    if (!known || [...known].every((id) => here.has(id))) return [];
    await store.index.load();
  }
  return store.index
    .entries()
    .filter((e) => e.kind === 'client' && e.status === 'valid' && e.tenantId !== undefined && !here.has(e.tenantId))
    .map((e) => ({ code: 'MISSING_TENANT' as const, tenantId: e.tenantId!, serial: e.serial, path: `clients/${e.tenantId}`, message: missingMessage(e.tenantId!, e.serial) }))
    .sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
}
