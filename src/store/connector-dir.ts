import { join } from 'node:path';
import { readCertificatePem } from '../core/cert-input.js';
import { inputError } from '../core/errors.js';
import { CERT_MODE, ensureDir, KEY_DIR_MODE, KEY_MODE, writeFilesAtomically } from './atomic-write.js';
import { readFile, unreadable } from './files.js';
import { foreignLinkError } from './links.js';
import { ensureVersioned, inspectSlot, installVersion, pruneVersions, versionName, type SlotSpec } from './pair-slot.js';
import { clientSlotAt } from './slots.js';

/** Old pairs a connector keeps besides the current one (for rollback), as the CA's tree does. */
const HISTORY_KEEP = 5;

export interface ConnectorPair {
  certPem: string;
  keyPem: string;
}

/**
 * A connector's directory, the files its program already reads: ca.crt (to verify the gateway),
 * client.crt (the leaf, then its chain) and client.key (0600, made here, never sent). The pair is a
 * slot of pair-slot.ts: a renewal swaps it with the one atomic switch `rotate` uses, so a reader
 * never loads a certificate with another pair's key.
 */
export class ConnectorDir {
  readonly dir: string;
  readonly caPath: string;
  private readonly slot: SlotSpec;

  constructor(dir: string) {
    this.dir = dir;
    this.caPath = join(dir, 'ca.crt');
    this.slot = clientSlotAt(dir);
  }

  get certPath(): string {
    return this.slot.certLink;
  }

  get keyPath(): string {
    return this.slot.keyLink;
  }

  /** What the directory holds: 'absent' (no pair yet), 'pair', or a refusal for anything else. */
  state(): 'absent' | 'pair' {
    const { state, link } = inspectSlot(this.slot);
    if (link) throw foreignLinkError(link, (p) => p);
    if (state === 'absent') return 'absent';
    if (state === 'plain' || state === 'versioned') return 'pair';
    throw inputError('PAIR_INCOMPLETE', `${this.dir} holds only one of client.crt and client.key`, 'move the leftover file away, then enroll again');
  }

  private text(path: string): string {
    const read = readFile(path);
    if (!read.ok) throw unreadable(path, read);
    return Buffer.from(read.bytes).toString('utf8');
  }

  /** The current pair and trust anchors, each read through its contract path. */
  read(): ConnectorPair & { caPem: string } {
    if (this.state() === 'absent') throw inputError('NOT_ENROLLED', `${this.dir} holds no client.crt/client.key`, 'enroll first: pkictl enroll --server URL --token-file FILE --tenant ID --dir DIR --fingerprint SHA256');
    return { certPem: this.text(this.certPath), keyPem: this.text(this.keyPath), caPem: this.text(this.caPath) };
  }

  /**
   * The first pair: ca.crt, client.key and client.crt written atomically each, the certificate last
   * (its presence marks a complete enrollment). A directory that holds a pair is left alone unless
   * `replace`: then the pair is swapped in as a renewal would.
   */
  async saveFirst(pair: ConnectorPair, caPem: string, replace: boolean): Promise<void> {
    const state = this.state();
    if (state === 'pair' && !replace) throw inputError('ALREADY_EXISTS', `${this.dir} holds a pair already; nothing was written`, 'renew it with pkictl renew, or enroll again with --force');
    await ensureDir(this.dir, KEY_DIR_MODE);
    if (state === 'pair') return this.swap(pair, caPem);
    await writeFilesAtomically([
      { path: this.caPath, data: caPem, mode: CERT_MODE },
      { path: this.keyPath, data: pair.keyPem, mode: KEY_MODE },
      { path: this.certPath, data: pair.certPem, mode: CERT_MODE },
    ]);
  }

  /** A renewal: trust anchors first (a new root arrives before certificates under it), then the pair with one switch. */
  async swap(pair: ConnectorPair, caPem?: string): Promise<void> {
    if (caPem !== undefined) await writeFilesAtomically([{ path: this.caPath, data: caPem, mode: CERT_MODE }]);
    const versionOf = (pem: string) => {
      const cert = readCertificatePem(pem, this.certPath);
      return versionName(cert.notBefore, cert.serialHex);
    };
    await ensureVersioned(this.slot, versionOf);
    await installVersion(this.slot, versionOf(pair.certPem), pair);
    await pruneVersions(this.slot, HISTORY_KEEP);
  }
}
