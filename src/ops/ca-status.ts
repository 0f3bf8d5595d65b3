import type { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { cutShortBy } from '../core/issue.js';
import { isEncryptedKeyPem } from '../core/keys.js';
import { daysLeft } from '../core/renewal.js';
import type { CertStore } from '../store/cert-store.js';
import type { RolloverPhase } from '../store/rollover-state.js';
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
  /** root: in ca.crt (or the next root of a rollover); intermediate: intermediate.crt, or a retired one in authorities/. */
  role: 'root' | 'intermediate';
  /** Relative to --dir. */
  file: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  status: 'valid' | 'expired' | 'not yet valid';
  /** This CA signs new leaves and crl.pem now. */
  signs: boolean;
  /** Trusted by the consumers (in ca.crt); intermediates are not anchors. */
  trusted: boolean;
  /** A retired intermediate: kept to sign its leaves' CRL until they expire. */
  retired: boolean;
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
  /** A root rollover (pkictl ca rollover): its phase and roots; null when none was ever begun. */
  rollover: { phase: RolloverPhase; oldRoot: string; newRoot: string } | null;
  /** A leaf issued now cut short by its CA's end, or a CA past its end: with what to do. */
  warnings: string[];
}

function keyState(store: CertStore, path: string): CaKeyState {
  const { layout } = store;
  const read = store.readTreeFile(path);
  const file = layout.inTree(path);
  if (read.ok) return { file, location: 'online', encrypted: isEncryptedKeyPem(Buffer.from(read.bytes).toString('latin1')), mode: (read.mode & 0o777).toString(8).padStart(4, '0') };
  return read.missing ? { file, location: 'offline', encrypted: null, mode: null } : { file, location: 'online', encrypted: null, mode: null, problem: read.reason };
}

/**
 * The CA certificates the tree uses — the roots of ca.crt, the intermediate that signs, the retired
 * intermediates still signing their leaves' CRL — their lifetimes and keys, the phase of a rollover,
 * and what the signing CA's end means for a leaf issued today. Read-only.
 */
export async function caStatus(request: CaStatusRequest, ctx: OpContext): Promise<CaStatusResult> {
  const store = await ctx.openStore(request.dir);
  await store.assertCa();
  const { layout } = store;
  const at = request.at;
  const rollover = store.readRollover();
  const roots = readCertificates(new TextEncoder().encode(await store.readText(layout.caCert)), layout.display(layout.caCert));
  const intermediate = await store.currentIntermediate();
  const status = (cert: Certificate) => (at > cert.notAfter ? 'expired' : at < cert.notBefore ? 'not yet valid' : 'valid');
  const entry = (cert: Certificate, fields: Pick<CaCertificateStatus, 'role' | 'file' | 'signs' | 'trusted' | 'retired' | 'key'>): CaCertificateStatus => ({
    ...fields,
    subject: cert.subject,
    serial: cert.serialHex,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    daysLeft: daysLeft(cert.notAfter, at),
    status: status(cert),
  });
  // The first root of ca.crt is the one that signs (every rollover phase keeps it first) and its key is
  // ca.key; the next root's key waits in rollover/ until the switch, a replaced root's is in authorities/.
  const rootKey = (cert: Certificate, i: number): string =>
    i === 0 ? layout.caKey : rollover?.phase === 'begun' && cert.serialHex === rollover.newRoot ? layout.nextRootKey : layout.retiredKey(cert.serialHex);
  const cas: CaCertificateStatus[] = roots.map((root, i) =>
    entry(root, { role: 'root', file: layout.inTree(layout.caCert), signs: !intermediate && i === 0, trusted: true, retired: false, key: keyState(store, rootKey(root, i)) }),
  );
  if (intermediate) cas.push(entry(intermediate, { role: 'intermediate', file: layout.inTree(layout.intermediateCert), signs: true, trusted: false, retired: false, key: keyState(store, layout.intermediateKey) }));
  for (const retired of await store.retiredAuthorities()) {
    if (retired.notAfter <= at) continue;
    const cert = readCertificates(Buffer.from(await store.readText(retired.cert)), layout.display(retired.cert))[0]!;
    cas.push(entry(cert, { role: 'intermediate', file: layout.inTree(retired.cert), signs: false, trusted: false, retired: true, key: keyState(store, retired.key) }));
  }
  const signer = cas.find((ca) => ca.signs) ?? cas[0]!;
  const warnings: string[] = [];
  for (const ca of cas.filter((c) => c.status === 'expired' && (c.signs || c.trusted))) warnings.push(`the ${ca.role} CA ${ca.serial} expired on ${ca.notAfter}${ca.signs ? ': it signs nothing more, CRLs included' : ''}`);
  if (signer.status !== 'expired') {
    for (const kind of ['server', 'client'] as const) {
      const short = cutShortBy(request.leafDays[kind], at, new Date(signer.notAfter));
      if (short) warnings.push(`a ${kind} certificate issued now would be ${short}`);
    }
  }
  return {
    dir: layout.display(layout.root),
    at: at.toISOString(),
    cas,
    rollover: rollover ? { phase: rollover.phase, oldRoot: rollover.oldRoot, newRoot: rollover.newRoot } : null,
    warnings,
  };
}
