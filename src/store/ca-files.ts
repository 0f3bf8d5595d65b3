import { inputError, PkiError } from '../core/errors.js';
import { readCertificatePem } from '../core/cert-input.js';
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

/** Loads the CA and proves that ca.key is the key of ca.crt before anything is signed with it. */
export async function loadCa(layout: Layout, passphrase: string | undefined, crypto: CryptoProvider): Promise<CertificateAuthority> {
  const { caCert, caKey } = layout;
  if (!(await exists(caCert))) {
    throw inputError('CA_MISSING', `no CA in ${layout.display(layout.root)} (${layout.display(caCert)} not found)`, 'create one with: pkictl init --dir ' + layout.display(layout.root));
  }
  for (const path of [caCert, caKey]) {
    const link = linkAt(path);
    if (link) throw foreignLinkError(link, (p) => layout.display(p));
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
