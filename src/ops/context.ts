import type { CryptoProvider } from '../core/x509.js';

/** What every operation receives from the CLI: no globals, so tests and future callers can supply their own. */
export interface OpContext {
  crypto: CryptoProvider;
  now: Date;
  /** A note for the operator (stderr in the CLI). */
  notify(message: string): void;
}

export type IssuedKind = 'ca' | 'server' | 'client';

export interface IssuedPair {
  kind: IssuedKind;
  tenantId?: string;
  cert: string;
  key: string;
  keyType: string;
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  sans?: string[];
}
