import type { CryptoProvider } from '../core/x509.js';
import type { CertStore } from '../store/cert-store.js';

/** What rotate's --exec hook ended with. */
export interface HookResult {
  code: number | null;
  signal: string | null;
}

/**
 * What every operation receives from its caller (the CLI): no globals, so tests and future callers
 * (a server) can supply their own. Operations touch neither the disk nor the process themselves.
 */
export interface OpContext {
  crypto: CryptoProvider;
  now: Date;
  /** A note for the operator (stderr in the CLI). */
  notify(message: string): void;
  /**
   * The store of a certs/ directory: the only way an operation reads or writes it. The CLI's records
   * its actor and command line and says through notify() when it waits for the lock; a test may
   * give it another CertIndex. `actor` overrides the caller's default (--actor); `lockLingerMs` is
   * for a long-running holder (serve).
   */
  openStore(dir: string, options?: { actor?: string; lockLingerMs?: number }): Promise<CertStore>;
  /** Runs rotate's --exec hook (the CLI: `sh -c command`, its environment plus `env`); never rejects. */
  runHook(command: string, env: Record<string, string>): Promise<HookResult>;
}

export type IssuedKind = 'ca' | 'intermediate' | 'server' | 'client';

export interface IssuedPair {
  kind: IssuedKind;
  tenantId?: string;
  /** Relative to --dir, as every path in a --json document. */
  cert: string;
  key: string;
  keyType: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  sans?: string[];
  /** Set when the CA's end cut the certificate short: "valid 29 days, not 90: the CA expires on …". */
  warning?: string;
  /** With --force: the certificate this pair replaced, which stays valid until its notAfter unless revoked. */
  replaced?: { serial: string; notAfter: string };
}

/** What init and issue server hand back: `dir` is --dir as shown (relative to the working directory). */
export interface IssueResult {
  dir: string;
  issued: IssuedPair[];
}
