import { webcrypto } from 'node:crypto';
import { runHook } from '../../src/cli/context.js';
import type { OpContext } from '../../src/ops/context.js';
import { CertStore } from '../../src/store/cert-store.js';

/** An operation's context for in-process tests: Node's WebCrypto, the real store and --exec launcher, no notes. */
export function testContext(overrides: Partial<OpContext> = {}): OpContext {
  return {
    crypto: webcrypto as unknown as Crypto,
    now: new Date(),
    notify: () => {},
    openStore: async (dir, options) => new CertStore(dir, { actor: options?.actor ?? 'pkictl-test', command: 'pkictl test', cwd: process.cwd() }),
    runHook,
    ...overrides,
  };
}
