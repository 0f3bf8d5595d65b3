import { readCertificates } from '../core/cert-input.js';
import { cutShortBy } from '../core/issue.js';
import { isEncryptedKeyPem } from '../core/keys.js';
import { daysLeft } from '../core/renewal.js';
import type { OpContext } from './context.js';

/** Where a CA's private key is: in the tree (online) or not (offline), and whether it is encrypted. */
export interface CaKeyState {
  /** Relative to --dir. */
  file: string;
  location: 'online' | 'offline';
  /** PKCS#8 encrypted with a passphrase; null when the key is not in the tree or cannot be read. */
  encrypted: boolean | null;
  /** e.g. "0600"; null when absent. */
  mode: string | null;
  /** Why the key could not be read, when it is there but unreadable (a link, a permission). */
  problem?: string;
}

export interface CaCertificateStatus {
  role: 'root';
  /** Relative to --dir. */
  file: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  status: 'valid' | 'expired' | 'not yet valid';
  /** This CA signs new leaves and the CRL now. */
  signs: boolean;
  key: CaKeyState;
}

export interface CaStatusRequest {
  dir: string;
  at: Date;
  /** The lifetimes of the tree's profiles, to say whether a leaf issued now outlives the CA. */
  leafDays: { server: number; client: number };
}

export interface CaStatusResult {
  dir: string;
  at: string;
  cas: CaCertificateStatus[];
  /** A leaf issued now cut short by its CA's end, or a CA past its end: with what to do. */
  warnings: string[];
}

/**
 * The CA certificates the tree uses, their lifetimes and keys, and what their end means for a leaf
 * issued today. Read-only; today a tree has one CA, the root, which signs everything.
 */
export async function caStatus(request: CaStatusRequest, ctx: OpContext): Promise<CaStatusResult> {
  const store = await ctx.openStore(request.dir);
  await store.assertCa();
  const { layout } = store;
  const cert = readCertificates(new TextEncoder().encode(await store.readText(layout.caCert)), layout.display(layout.caCert))[0]!;
  const at = request.at;
  const status = at > cert.notAfter ? 'expired' : at < cert.notBefore ? 'not yet valid' : 'valid';
  const keyRead = store.readTreeFile(layout.caKey);
  const key: CaKeyState = keyRead.ok
    ? { file: layout.inTree(layout.caKey), location: 'online', encrypted: isEncryptedKeyPem(Buffer.from(keyRead.bytes).toString('latin1')), mode: (keyRead.mode & 0o777).toString(8).padStart(4, '0') }
    : keyRead.missing
      ? { file: layout.inTree(layout.caKey), location: 'offline', encrypted: null, mode: null }
      : { file: layout.inTree(layout.caKey), location: 'online', encrypted: null, mode: null, problem: keyRead.reason };
  const warnings: string[] = [];
  if (status === 'expired') warnings.push(`the CA expired on ${cert.notAfter.toISOString()}: it signs nothing more, CRLs included`);
  else {
    for (const kind of ['server', 'client'] as const) {
      const short = cutShortBy(request.leafDays[kind], at, cert.notAfter);
      if (short) warnings.push(`a ${kind} certificate issued now would be ${short}`);
    }
  }
  return {
    dir: layout.display(layout.root),
    at: at.toISOString(),
    cas: [{ role: 'root', file: layout.inTree(layout.caCert), subject: cert.subject, serial: cert.serialHex, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(), daysLeft: daysLeft(cert.notAfter, at), status, signs: true, key }],
    warnings,
  };
}
