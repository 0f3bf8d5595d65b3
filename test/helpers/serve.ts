// `pkictl serve` as a child process on a free loopback port, stopped by PID (issue 15).
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './run-cli.js';

export interface Served {
  port: number;
  url: string;
  pid: number;
  /** The access log so far: one parsed JSON line per request. */
  log: Array<Record<string, unknown>>;
  stderr(): string;
  /** The first access log line matching `match`, waited for (the log arrives through a pipe); undefined after 5 s. */
  logged(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startServe(dir: string, args: string[] = [], env: Record<string, string> = {}): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--dir', dir, '--listen', '127.0.0.1:0', ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
  const log: Array<Record<string, unknown>> = [];
  let stderr = '';
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) if (line.trim()) log.push(JSON.parse(line) as Record<string, unknown>);
  });
  // 'close', not 'exit': the access log (stdout) is complete then.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += String(d);
      const m = /listening on (https:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stderr);
      if (m && !(child as { started?: boolean }).started) {
        (child as { started?: boolean }).started = true;
        resolve({
          port: Number(m[2]),
          url: `https://127.0.0.1:${m[2]}`,
          pid: child.pid!,
          log,
          stderr: () => stderr,
          async logged(match) {
            for (let i = 0; i < 100 && !log.some(match); i++) await new Promise((r) => setTimeout(r, 50));
            return log.find(match);
          },
          async stop(signal = 'SIGTERM') {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`pkictl serve exited (${code}): ${stderr}`)));
  });
}

export interface EstAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to serve on a fresh connection, trusting `dir`'s ca.crt; `pair` for re-enrollment. */
export function estRequest(port: number, dir: string, path: string, options: { method?: string; body?: string | Buffer; headers?: Record<string, string>; pair?: { cert: string; key: string } } = {}): Promise<EstAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        ca: readFileSync(join(dir, 'ca.crt')),
        ...(options.pair && { cert: readFileSync(options.pair.cert), key: readFileSync(options.pair.key) }),
        agent: false,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += String(d)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
