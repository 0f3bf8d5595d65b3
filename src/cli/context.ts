import { inputError } from '../core/errors.js';
import type { CryptoProvider } from '../core/x509.js';
import type { OpContext } from '../ops/context.js';

/**
 * WebCrypto for @peculiar/x509. Node's built-in provider is the default: same signing speed, but its
 * key generation runs on the libuv pool (parallel) and it loads ~140 ms faster (numbers: bench/provider.mjs).
 * PKICTL_CRYPTO_PROVIDER=peculiar selects @peculiar/webcrypto, e.g. to compare results across providers.
 */
async function cryptoProvider(name = process.env.PKICTL_CRYPTO_PROVIDER ?? 'node'): Promise<CryptoProvider> {
  if (name === 'node') return globalThis.crypto;
  if (name === 'peculiar') {
    const { Crypto } = await import('@peculiar/webcrypto');
    return new Crypto() as unknown as CryptoProvider;
  }
  throw inputError('PROVIDER_UNKNOWN', `PKICTL_CRYPTO_PROVIDER must be 'node' or 'peculiar', not '${name}'`);
}

export async function makeContext(notify: (message: string) => void): Promise<OpContext> {
  return { crypto: await cryptoProvider(), now: new Date(), notify };
}
