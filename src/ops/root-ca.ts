import { isAbsolute, relative, resolve } from 'node:path';
import { assertCaCanSign, type CertificateAuthority } from '../core/issue.js';
import { failure, inputError } from '../core/errors.js';
import type { CertStore } from '../store/cert-store.js';
import type { OpContext } from './context.js';

/**
 * The root's key for a CA event (a new intermediate, the root's CRL, a rollover): ca.key in the tree,
 * or `rootKeyFile` (--root-key) once it is kept offline. Proven to be the key of a root in ca.crt, and
 * refused once that root has expired.
 */
export async function loadRootCa(store: CertStore, rootKeyFile: string | undefined, passphrase: string | undefined, ctx: OpContext): Promise<CertificateAuthority> {
  const { layout } = store;
  await store.assertCa();
  if (rootKeyFile === undefined && !(await store.hasCaKey())) {
    throw failure('ROOT_KEY_OFFLINE', `this needs the root key, and ${layout.display(layout.caKey)} is not in the tree (kept offline)`, 'pass --root-key FILE with the key from its offline media (e.g. --root-key /media/usb/ca.key)');
  }
  const key = rootKeyFile === undefined ? layout.caKey : resolve(rootKeyFile);
  const root = await store.loadCaFiles({ cert: layout.caCert, key }, passphrase, ctx.crypto);
  assertCaCanSign(root, ctx.now);
  return root;
}

/** Where `pkictl ca offline --to DIR` puts the key: DIR/ca.key; DIR must be outside the tree. */
export function offlineKeyPath(store: CertStore, dir: string): string {
  const target = resolve(dir);
  const inside = relative(store.layout.root, target);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw inputError('OFFLINE_IN_TREE', `${dir} is inside ${store.layout.display(store.layout.root)}: the root key would still be in the tree`, 'give a directory on removable media, e.g. --to /media/usb');
  }
  return resolve(target, 'ca.key');
}
