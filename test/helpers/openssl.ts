import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real openssl binary; resolves with its exit code (tests assert on it, so a non-zero exit
 * is not an error). Rejects when openssl did not run to an exit code (not installed, not on PATH,
 * killed): such a run must never count as openssl refusing something.
 */
export function openssl(args: string[], input?: string | Uint8Array): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      const { code, signal } = error as { code?: unknown; signal?: unknown };
      if (typeof code !== 'number') return reject(new Error(`openssl ${args[0] ?? ''} did not run to an exit code (${signal ? `signal ${String(signal)}` : String(code ?? error.message)})`));
      resolve({ code, stdout, stderr });
    });
    // openssl may exit without reading stdin (e.g. on a bad file): ignore the EPIPE, keep its verdict.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** The public key (PEM) inside a certificate or a private key, read by openssl: equal strings = matching pair. */
export async function publicKeyOf(file: string, kind: 'cert' | 'key'): Promise<string> {
  const r = kind === 'cert' ? await openssl(['x509', '-in', file, '-noout', '-pubkey']) : await openssl(['pkey', '-in', file, '-pubout']);
  if (r.code !== 0) throw new Error(`openssl could not read ${file}: ${r.stderr}`);
  return r.stdout;
}
