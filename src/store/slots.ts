import { basename, dirname, join } from 'node:path';
import type { TenantIdPattern } from '../core/tenant-id.js';
import { KEY_DIR_MODE } from './atomic-write.js';
import type { Layout } from './layout.js';
import { linkAt, type ForeignLink } from './links.js';
import { foreignLinkInSlot, type SlotSpec } from './pair-slot.js';

/** The contract paths of a pair. */
export interface PairPaths {
  cert: string;
  key: string;
}

/** The gateway pair: server.crt/server.key link into server-pair/current/. */
export function serverSlot(layout: Layout): SlotSpec {
  return { base: layout.serverPairDir, certLink: layout.serverCert, keyLink: layout.serverKey, certName: 'server.crt', keyName: 'server.key', dirMode: KEY_DIR_MODE };
}

/** The slot of a directory under clients/, whatever its name (the scans report names that are not tenant ids). */
export function clientSlotAt(base: string): SlotSpec {
  return { base, certLink: join(base, 'client.crt'), keyLink: join(base, 'client.key'), certName: 'client.crt', keyName: 'client.key', dirMode: KEY_DIR_MODE };
}

/** A tenant's pair: clients/<id>/client.crt and client.key (plain files or links into current/). */
export function clientSlot(layout: Layout, tenantId: string, pattern?: TenantIdPattern): SlotSpec {
  return clientSlotAt(layout.clientDir(tenantId, pattern));
}

export function clientPaths(layout: Layout, tenantId: string, pattern?: TenantIdPattern): PairPaths {
  return { cert: layout.clientCert(tenantId, pattern), key: layout.clientKey(tenantId, pattern) };
}

/**
 * Is the contract path `path` in its shape? A pair's certificate or key is checked with its whole
 * slot (it may be a link into its own current/); any other path of the tree must not be a link.
 * Returns the first foreign link found.
 */
export function contractLink(layout: Layout, path: string): ForeignLink | undefined {
  if (path === layout.serverCert || path === layout.serverKey) return foreignLinkInSlot(serverSlot(layout));
  const name = basename(path);
  if ((name === 'client.crt' || name === 'client.key') && dirname(dirname(path)) === layout.clientsDir) return foreignLinkInSlot(clientSlotAt(dirname(path)));
  return linkAt(path);
}
