import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inputError, PkiError } from '../core/errors.js';
import type { CertificateAuthority } from '../core/issue.js';
import { importPrivateKeyPem, publicKeyOf } from '../core/keys.js';
import { readCertificatePem } from '../core/pem.js';
import type { CryptoProvider } from '../core/x509.js';
import { CERT_MODE, createDirAtomically, ensureDir, exists, KEY_DIR_MODE, KEY_MODE, writeFilesAtomically } from './atomic-write.js';
import { Layout } from './layout.js';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface PairPaths {
  cert: string;
  key: string;
}

/** Reads a file the user pointed at; every failure becomes one line that names the file. */
export async function readUserFile(path: string, what = path): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : code;
    throw inputError('FILE_UNREADABLE', `cannot read ${what}: ${why}`);
  }
}

/** The certs/ directory: the only code that reads the CA or writes certificates and keys. */
export class CertStore {
  readonly layout: Layout;

  constructor(root: string) {
    this.layout = new Layout(root);
  }

  async assertNoCa(): Promise<void> {
    for (const path of [this.layout.caCert, this.layout.caKey]) {
      if (await exists(path)) {
        throw inputError('CA_EXISTS', `${this.layout.display(path)} already exists; pkictl never replaces a CA`, 'use another --dir, or move the old CA away yourself');
      }
    }
  }

  async saveCa(pair: PemPair): Promise<PairPaths> {
    await ensureDir(this.layout.root, KEY_DIR_MODE);
    await this.assertNoCa();
    const paths = { cert: this.layout.caCert, key: this.layout.caKey };
    await writeFilesAtomically([
      { path: paths.key, data: pair.keyPem, mode: KEY_MODE },
      { path: paths.cert, data: pair.certPem, mode: CERT_MODE },
    ]);
    return paths;
  }

  /** Loads the CA and proves that ca.key is the key of ca.crt before anything is signed with it. */
  async loadCa(passphrase: string | undefined, crypto: CryptoProvider): Promise<CertificateAuthority> {
    const { caCert, caKey } = this.layout;
    if (!(await exists(caCert))) {
      throw inputError('CA_MISSING', `no CA in ${this.layout.display(this.layout.root)} (${this.layout.display(caCert)} not found)`, 'create one with: pkictl init --dir ' + this.layout.display(this.layout.root));
    }
    const cert = readCertificatePem(await readUserFile(caCert, this.layout.display(caCert)), this.layout.display(caCert));
    let privateKey: CryptoKey;
    try {
      privateKey = await importPrivateKeyPem(await readUserFile(caKey, this.layout.display(caKey)), crypto, passphrase);
    } catch (error) {
      if (error instanceof PkiError) throw inputError(error.code, `${this.layout.display(caKey)}: ${error.message}`, error.hint);
      throw error;
    }
    const publicKey = await publicKeyOf(privateKey, crypto);
    const spki = Buffer.from(await crypto.subtle.exportKey('spki', publicKey));
    if (!spki.equals(Buffer.from(cert.publicKey.rawData))) {
      throw inputError('CA_KEY_MISMATCH', `${this.layout.display(caKey)} is not the key of ${this.layout.display(caCert)}`);
    }
    return { cert, privateKey };
  }

  /** Lists the files of `pairs` that exist already, for a single up-front refusal. */
  async existing(pairs: PairPaths[]): Promise<string[]> {
    const found: string[] = [];
    for (const { cert, key } of pairs) {
      for (const path of [key, cert]) if (await exists(path)) found.push(this.layout.display(path));
    }
    return found;
  }

  async saveServer(pair: PemPair): Promise<PairPaths> {
    const paths = { cert: this.layout.serverCert, key: this.layout.serverKey };
    await writeFilesAtomically([
      { path: paths.key, data: pair.keyPem, mode: KEY_MODE },
      { path: paths.cert, data: pair.certPem, mode: CERT_MODE },
    ]);
    return paths;
  }

  clientPaths(tenantId: string, pattern?: string): PairPaths {
    return { cert: this.layout.clientCert(tenantId, pattern), key: this.layout.clientKey(tenantId, pattern) };
  }

  /** A new tenant directory appears whole (both files) or not at all; --force replaces file by file. */
  async saveClient(tenantId: string, pair: PemPair, pattern?: string): Promise<PairPaths> {
    const paths = this.clientPaths(tenantId, pattern);
    const dir = dirname(paths.cert);
    await ensureDir(this.layout.clientsDir, KEY_DIR_MODE);
    if (await exists(dir)) {
      await writeFilesAtomically([
        { path: paths.key, data: pair.keyPem, mode: KEY_MODE },
        { path: paths.cert, data: pair.certPem, mode: CERT_MODE },
      ]);
    } else {
      await createDirAtomically(dir, [
        { name: 'client.key', data: pair.keyPem, mode: KEY_MODE },
        { name: 'client.crt', data: pair.certPem, mode: CERT_MODE },
      ], KEY_DIR_MODE);
    }
    return paths;
  }
}

