import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readCertificatePem } from '../core/cert-input.js';
import { failure, inputError, PkiError } from '../core/errors.js';
import type { CertificateAuthority } from '../core/issue.js';
import { importPrivateKeyPem, publicKeyOf } from '../core/keys.js';
import type { CryptoProvider } from '../core/x509.js';
import { exists } from './atomic-write.js';
import { readUserText } from './files.js';
import type { Layout } from './layout.js';
import { foreignLinkError, linkAt } from './links.js';

/** Refuses to make a CA where ca.crt or ca.key exists: pkictl never replaces a CA. */
export async function assertNoCa(layout: Layout): Promise<void> {
  for (const path of [layout.caCert, layout.caKey]) {
    if (await exists(path)) {
      throw inputError('CA_EXISTS', `${layout.display(path)} already exists; pkictl never replaces a CA`, 'use another --dir, or move the old CA away yourself');
    }
  }
}

/**
 * The one wording of "there is no CA here" (exit 2), for every command that reads or writes a tree:
 * the directory is missing, or holds no ca.crt.
 */
export function noCaError(layout: Layout, rootMissing: boolean): PkiError {
  const root = layout.display(layout.root);
  const why = rootMissing ? `${root}: no such directory` : `${layout.display(layout.caCert)} not found`;
  return inputError('CA_MISSING', `no CA in ${root} (${why})`, `create one with: pkictl init --dir ${root} (or pass --dir with an existing certs/ tree)`);
}

/** Throws noCaError unless --dir holds a ca.crt. */
export async function assertCa(layout: Layout): Promise<void> {
  if (!(await exists(layout.caCert))) throw noCaError(layout, !(await exists(layout.root)));
}

/** What to do with a ca.key that group or others may read or replace. */
export interface CaKeyPolicy {
  /** Refuse to load it (--strict). */
  strict?: boolean;
  /** Otherwise told, once per call, in one line (the store prints nothing). */
  onExposed?(message: string): void;
}

/**
 * ca.key and its directory, each when group or others may read or write it. A readable key can be
 * copied; a writable directory lets ca.key be replaced. The execute bit alone (a directory others
 * may pass through) opens nothing.
 */
async function caKeyExposure(layout: Layout): Promise<Array<{ path: string; mode: number; dir: boolean }>> {
  const open: Array<{ path: string; mode: number; dir: boolean }> = [];
  for (const path of [layout.caKey, dirname(layout.caKey)]) {
    const info = await stat(path).catch(() => undefined); // a missing key is reported when it is read
    if (info && (info.mode & 0o066) !== 0) open.push({ path: layout.display(path), mode: info.mode & 0o777, dir: info.isDirectory() });
  }
  return open;
}

/** Loads the CA and proves that ca.key is the key of ca.crt before anything is signed with it. */
export async function loadCa(layout: Layout, passphrase: string | undefined, crypto: CryptoProvider, policy: CaKeyPolicy = {}): Promise<CertificateAuthority> {
  const { caCert, caKey } = layout;
  await assertCa(layout);
  for (const path of [caCert, caKey]) {
    const link = linkAt(path);
    if (link) throw foreignLinkError(link, (p) => layout.display(p));
  }
  const exposed = await caKeyExposure(layout);
  if (exposed.length > 0) {
    const what = `${exposed.map((e) => `${e.dir ? 'its directory ' : ''}${e.path} (mode ${e.mode.toString(8).padStart(4, '0')})`).join(' and ')} ${exposed.length > 1 ? 'are' : 'is'} readable or writable by group or others`;
    const fix = `chmod go-rwx ${exposed.map((e) => e.path).join(' ')}`;
    if (policy.strict) throw failure('CA_KEY_EXPOSED', `${what}; refusing to use the CA key (--strict): ${fix}`);
    policy.onExposed?.(`warning: ${what}: ${fix}`);
  }
  const cert = readCertificatePem(await readUserText(caCert, layout.display(caCert)), layout.display(caCert));
  const keyPem = await readUserText(caKey, layout.display(caKey));
  let privateKey: CryptoKey;
  try {
    privateKey = await importPrivateKeyPem(keyPem, crypto, passphrase);
  } catch (error) {
    if (error instanceof PkiError) throw inputError(error.code, `${layout.display(caKey)}: ${error.message}`, error.hint);
    throw error;
  }
  const publicKey = await publicKeyOf(privateKey, crypto);
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey));
  if (!spki.equals(cert.spki)) {
    throw inputError('CA_KEY_MISMATCH', `${layout.display(caKey)} is not the key of ${layout.display(caCert)}`);
  }
  return { der: cert.der, privateKey };
}
