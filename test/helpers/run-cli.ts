import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp-dir.js';

export const BIN = fileURLToPath(new URL('../../bin/pkictl.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args`, collecting its output; stdin gets `input` (or nothing) and is closed. */
export function runProcess(command: string, args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the real CLI as a child process (the compiled build), without colour. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  return runProcess(process.execPath, [BIN, ...args], { ...options, env: { ...process.env, NO_COLOR: '1', PKICTL_CA_PASSPHRASE: undefined, ...options.env } });
}

/**
 * A certs/ tree made by the CLI with EC P-256 keys: CA, gateway pair and one client pair per tenant,
 * in a fresh temp dir (`base`, which tests may fill with other files).
 */
export async function cliTree(tenants: string[]): Promise<{ base: string; dir: string; server: string }> {
  const base = await tempDir();
  const dir = join(base, 'certs');
  for (const command of [['init'], ['issue', 'server'], ['issue', 'client', ...tenants]]) {
    const r = await runCli([...command, '--dir', dir, '--key', 'ec-p256']);
    if (r.code !== 0) throw new Error(`pkictl ${command.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  }
  return { base, dir, server: join(dir, 'server.crt') };
}
