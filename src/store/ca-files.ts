import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readCertificates } from '../core/cert-input.js';
import { failure, inputError, PkiError } from '../core/errors.js';
import type { CertificateAuthority } from '../core/issue.js';
import { importPrivateKeyPem, publicKeyOf } from '../core/keys.js';
import type { CryptoProvider } from '../core/x509.js';
import { exists } from './atomic-write.js';
import { readUserText } from './files.js';
import type { Layout } from './layout.js';
import { foreignLinkError, linkAt } from './links.js';

/** Refuses to make a CA where ca.crt, ca.key or an intermediate exists: pkictl never replaces a CA. */
export async function assertNoCa(layout: Layout): Promise<void> {
  for (const path of [layout.caCert, layout.caKey, layout.intermediateCert, layout.intermediateKey]) {
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
async function caKeyExposure(layout: Layout, keyPath: string): Promise<Array<{ path: string; mode: number; dir: boolean }>> {
  const open: Array<{ path: string; mode: number; dir: boolean }> = [];
  for (const path of [keyPath, dirname(keyPath)]) {
    const info = await stat(path).catch(() => undefined); // a missing key is reported when it is read
    if (info && (info.mode & 0o066) !== 0) open.push({ path: layout.display(path), mode: info.mode & 0o777, dir: info.isDirectory() });
  }
  return open;
}

/** A CA's certificate and key files: ca.crt/ca.key, intermediate.crt/intermediate.key, or a root key kept offline (--root-key). */
export interface CaFiles {
  cert: string;
  key: string;
}

/**
 * The CA that signs leaves and crl.pem: the intermediate when the tree has one (pkictl init
 * --intermediate), else the root. Loaded with its chain (what every leaf carries after itself).
 */
export async function loadCa(layout: Layout, passphrase: string | undefined, crypto: CryptoProvider, policy: CaKeyPolicy = {}): Promise<CertificateAuthority> {
  await assertCa(layout);
  if (!(await exists(layout.intermediateCert))) return loadCaFiles(layout, { cert: layout.caCert, key: layout.caKey }, passphrase, crypto, policy);
  const ca = await loadCaFiles(layout, { cert: layout.intermediateCert, key: layout.intermediateKey }, passphrase, crypto, policy);
  return { ...ca, chain: [ca.der] };
}

/**
 * Loads a CA certificate and its key and proves that the key is the certificate's before anything
 * is signed with it. A key file open to group or others is refused (strict) or told (policy).
 */
export async function loadCaFiles(layout: Layout, files: CaFiles, passphrase: string | undefined, crypto: CryptoProvider, policy: CaKeyPolicy = {}): Promise<CertificateAuthority> {
  for (const path of [files.cert, files.key]) {
    const link = linkAt(path);
    if (link) throw foreignLinkError(link, (p) => layout.display(p));
  }
  const exposed = await caKeyExposure(layout, files.key);
  if (exposed.length > 0) {
    const what = `${exposed.map((e) => `${e.dir ? 'its directory ' : ''}${e.path} (mode ${e.mode.toString(8).padStart(4, '0')})`).join(' and ')} ${exposed.length > 1 ? 'are' : 'is'} readable or writable by group or others`;
    const fix = `chmod go-rwx ${exposed.map((e) => e.path).join(' ')}`;
    if (policy.strict) throw failure('CA_KEY_EXPOSED', `${what}; refusing to use the CA key (--strict): ${fix}`);
    policy.onExposed?.(`warning: ${what}: ${fix}`);
  }
  const certName = layout.display(files.cert);
  const keyName = layout.display(files.key);
  // ca.crt may be a bundle of roots (during a rollover): the CA is the one whose key this is.
  const certs = readCertificates(Buffer.from(await readUserText(files.cert, certName)), certName);
  const keyPem = await readUserText(files.key, keyName);
  let privateKey: CryptoKey;
  try {
    privateKey = await importPrivateKeyPem(keyPem, crypto, passphrase);
  } catch (error) {
    if (error instanceof PkiError) throw inputError(error.code, `${keyName}: ${error.message}`, error.hint);
    throw error;
  }
  const publicKey = await publicKeyOf(privateKey, crypto);
  const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey));
  const cert = certs.find((c) => spki.equals(c.spki));
  if (!cert) throw inputError('CA_KEY_MISMATCH', `${keyName} is not the key of ${certs.length > 1 ? 'any certificate in ' : ''}${certName}`);
  return { der: cert.der, privateKey };
}
