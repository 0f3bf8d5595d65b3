// The real consumers of a certs/ tree, for interop tests: the Go gateway stand-in (crypto/tls,
// CN → tenant, crl.pem/root-crl.pem, SIGHUP reload) and the Python connector stand-in (ssl,
// load_cert_chain, hostname check). CI installs both and sets PKICTL_REQUIRE_PEERS=1, so a missing
// peer fails there instead of skipping.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEERS = fileURLToPath(new URL('../interop/peers/', import.meta.url));

export const hasPeers = spawnSync('go', ['version']).status === 0 && spawnSync('python3', ['--version']).status === 0;
if (process.env.PKICTL_REQUIRE_PEERS === '1' && !hasPeers) throw new Error('go and python3 are required (PKICTL_REQUIRE_PEERS=1)');

/** Compiles gateway.go into `base` (its own Go cache and path there); returns the binary. */
export async function buildGateway(base: string): Promise<string> {
  const binary = join(base, 'gateway');
  const cache = join(base, 'go-cache');
  await mkdir(cache, { recursive: true });
  const env = { ...process.env, GOCACHE: process.env.GOCACHE ?? cache, GOPATH: join(base, 'go'), GO111MODULE: 'off' };
  const build = spawnSync('go', ['build', '-o', binary, join(PEERS, 'gateway.go')], { env, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`go build gateway.go failed: ${build.stderr}`);
  return binary;
}

export interface Gateway {
  port: number;
  /** Every line the gateway printed: "tenant: <id>", "rejected: <why>", "reloaded". */
  log: string[];
  /** SIGHUP, resolved once it says "reloaded" (rejects on "reload error"). */
  reload(): Promise<void>;
  stop(): void;
}

/** Starts the gateway on the tree `dir`, resolved once it listens. */
export function startGateway(binary: string, dir: string): Promise<Gateway> {
  const child: ChildProcess = spawn(binary, [dir]);
  const log: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let buffered = '';
  child.stdout!.on('data', (d) => {
    buffered += String(d);
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      log.push(line);
      for (const w of waiters.splice(0)) w(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => waiters.push(resolve));
  const waitFor = async (pattern: RegExp): Promise<string> => {
    for (;;) {
      const line = await nextLine();
      if (pattern.test(line)) return line;
    }
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${log.join(' | ')}`)));
    void waitFor(/^(listening \d+|error: )/).then((line) => {
      const m = /^listening (\d+)/.exec(line);
      if (!m) return reject(new Error(`gateway did not start: ${line}`));
      resolve({
        port: Number(m[1]),
        log,
        async reload() {
          const said = waitFor(/^(reloaded|reload error)/);
          child.kill('SIGHUP');
          const line = await said;
          if (line !== 'reloaded') throw new Error(`gateway: ${line}`);
        },
        stop: () => child.kill(),
      });
    });
  });
}

/** The connector's outcome: exit 0 and the gateway's reply ("ok <id>"), or exit 1 and "error: …". */
export interface ConnectorResult {
  code: number;
  out: string;
}

/**
 * Runs connector.py: presents `pair` (client.crt may carry its chain), verifies the gateway as
 * `host` against `ca`, registers as `tenantId`.
 */
export function connector(port: number, host: string, ca: string, pair: { cert: string; key: string }, tenantId: string): Promise<ConnectorResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', [join(PEERS, 'connector.py'), String(port), host, ca, pair.cert, pair.key, tenantId], (error, stdout) => {
      // A connector that did not run (spawn error, signal) must not pass for a refused connection.
      if (error && typeof error.code !== 'number') reject(new Error(`connector.py did not run to an exit code: ${error.message}`));
      else resolve({ code: error ? (error.code as number) : 0, out: stdout.trim() });
    });
  });
}

/** clients/<id>/client.crt and client.key of the tree `dir`. */
export const clientPair = (dir: string, id: string) => ({ cert: join(dir, 'clients', id, 'client.crt'), key: join(dir, 'clients', id, 'client.key') });
