import { execFile } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real openssl binary; never throws on a non-zero exit (tests assert on it). */
export function openssl(args: string[], input?: string | Uint8Array): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile('openssl', args, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
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
