import { failure } from '../core/errors.js';
import type { OpContext } from './context.js';
import { offlineKeyPath } from './root-ca.js';

export interface CaOfflineRequest {
  dir: string;
  actor?: string;
  /** The directory on removable media that receives ca.key. */
  to: string;
}

export interface CaOfflineResult {
  dir: string;
  /** Where the root key is now (absolute). */
  key: string;
}

/**
 * Takes the root key out of the tree (the design note: ca.key offline if possible). Only a tree with an
 * issuing intermediate can: there the root signs nothing day to day.
 */
export async function takeRootOffline(request: CaOfflineRequest, ctx: OpContext): Promise<CaOfflineResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const { layout } = store;
  const dest = offlineKeyPath(store, request.to);
  if (!(await store.hasIntermediate())) {
    throw failure('NO_INTERMEDIATE', `${layout.display(layout.root)} has no intermediate: the root signs every leaf and CRL, so without ca.key nothing could be issued; nothing was moved`, 'create an issuing intermediate first: pkictl intermediate renew');
  }
  if (!(await store.hasCaKey())) throw failure('ROOT_KEY_OFFLINE', `${layout.display(layout.caKey)} is not in the tree: the root key is offline already`);
  await store.moveCaKeyOut(dest);
  ctx.notify(`the root key is now ${dest}: keep it there (removable media, a safe); commands that need it say so and take --root-key ${dest}`);
  return { dir: layout.display(layout.root), key: dest };
}
