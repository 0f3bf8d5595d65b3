import { join } from 'node:path';
import type { TenantIdPattern } from '../core/tenant-id.js';
import { KEY_DIR_MODE } from './atomic-write.js';
import type { Layout } from './layout.js';
import type { SlotSpec } from './pair-slot.js';

/** The contract paths of a pair. */
export interface PairPaths {
  cert: string;
  key: string;
}

/** The gateway pair: server.crt/server.key link into server-pair/current/. */
export function serverSlot(layout: Layout): SlotSpec {
  return { base: layout.serverPairDir, certLink: layout.serverCert, keyLink: layout.serverKey, certName: 'server.crt', keyName: 'server.key', dirMode: KEY_DIR_MODE };
}

/** A tenant's pair: clients/<id>/client.crt and client.key (plain files or links into current/). */
export function clientSlot(layout: Layout, tenantId: string, pattern?: TenantIdPattern): SlotSpec {
  const base = layout.clientDir(tenantId, pattern);
  return { base, certLink: join(base, 'client.crt'), keyLink: join(base, 'client.key'), certName: 'client.crt', keyName: 'client.key', dirMode: KEY_DIR_MODE };
}

export function clientPaths(layout: Layout, tenantId: string, pattern?: TenantIdPattern): PairPaths {
  return { cert: layout.clientCert(tenantId, pattern), key: layout.clientKey(tenantId, pattern) };
}
