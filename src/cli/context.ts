import { spawn } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import { inputError } from '../core/errors.js';
import type { CryptoProvider } from '../core/x509.js';
import type { HookResult, OpContext } from '../ops/context.js';

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

/** Who is acting, for the audit log: PKICTL_ACTOR, else user@host (--actor overrides both). */
function defaultActor(): string {
  if (process.env.PKICTL_ACTOR) return process.env.PKICTL_ACTOR;
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry (containers) */
  }
  return `${user}@${hostname()}`;
}

/** "pkictl issue client", "pkictl rotate": the leading command words, without ids or flags. */
function commandWords(): string {
  const words: string[] = [];
  for (const arg of process.argv.slice(2)) {
    if (arg.startsWith('-') || !/^[a-z][a-z-]*$/.test(arg) || words.length === 2) break;
    words.push(arg);
  }
  return ['pkictl', ...words].join(' ');
}

/** PKICTL_LOCK_TIMEOUT (seconds) when set; else the store's default. */
function lockTimeoutMs(): number | undefined {
  const text = process.env.PKICTL_LOCK_TIMEOUT;
  const seconds = Number(text);
  return text !== undefined && text !== '' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * The variables pkictl reads that hold secrets (passphrase.ts): never passed to a child process. A
 * hook is someone else's program (the README's cron line pushes pairs with one); it gets the key it
 * is handed, not the CA's passphrase.
 */
const SECRET_VARIABLES = ['PKICTL_CA_PASSPHRASE'];

/** This process's environment without SECRET_VARIABLES: the base of every child's environment. */
function childEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of SECRET_VARIABLES) delete env[name];
  return env;
}

/** rotate --exec: `sh -c command` with childEnvironment() plus `env`; its stdout goes to our stderr. */
export function runHook(command: string, env: Record<string, string>): Promise<HookResult> {
  return new Promise((resolve) => {
    // stdout stays the plan/result (--json) alone.
    const child = spawn('sh', ['-c', command], { env: { ...childEnvironment(), ...env }, stdio: ['ignore', 2, 2] });
    child.on('error', () => resolve({ code: 127, signal: null }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}

/** The context every command runs with: this process's crypto provider, clock, store options (--strict) and hook launcher. */
export async function makeContext(notify: (message: string) => void, flags: { strict?: boolean } = {}): Promise<OpContext> {
  const command = commandWords();
  const cwd = process.cwd();
  const timeout = lockTimeoutMs();
  return {
    crypto: await cryptoProvider(),
    now: new Date(),
    notify,
    // Loaded on first use: verify --ca and inspect never read a tree, and start faster without the store.
    openStore: async (dir, options) => {
      const { CertStore } = await import('../store/cert-store.js');
      return new CertStore(dir, { actor: options?.actor ?? defaultActor(), command, cwd, onLockWait: notify, lockTimeoutMs: timeout, caKey: { strict: flags.strict, onExposed: notify }, lockLingerMs: options?.lockLingerMs });
    },
    runHook,
  };
}
