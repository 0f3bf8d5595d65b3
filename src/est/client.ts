// The connector's side of EST (RFC 7030): what `pkictl enroll` and `pkictl renew` send to
// `pkictl serve` (or any EST server). The server is trusted only through a root the caller gives (a
// file, or a fingerprint checked against what /cacerts returns): never without one.
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { Certificate } from '../core/cert.js';
import { failure } from '../core/errors.js';
import { readCertsOnly } from '../core/pkcs7.js';
import { printable } from '../core/visible-text.js';

const MAX_RESPONSE_BYTES = 1024 * 1024;
const EST_PATH = '/.well-known/est/';

/** How the client authenticates: the server's trust anchors (PEM), and the current pair for re-enrollment. */
export interface EstTrust {
  ca?: string;
  cert?: string;
  key?: string;
}

/** https://host:port[/.well-known/est/] → the base URL of the EST endpoints. */
export function estBase(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw failure('EST_URL', `'${printable(server)}' is not a URL; use https://host:port`);
  }
  if (url.protocol !== 'https:') throw failure('EST_URL', `'${printable(server)}': EST runs over https only`);
  const path = url.pathname.includes(EST_PATH) ? url.pathname.slice(0, url.pathname.indexOf(EST_PATH) + EST_PATH.length) : `${url.pathname.replace(/\/$/, '')}${EST_PATH}`;
  return new URL(path, url);
}

interface Answer {
  status: number;
  type: string;
  body: Buffer;
}

/** One request on a fresh connection, bounded in time and size. `verify: false` only for the fingerprint bootstrap. */
function send(base: URL, endpoint: string, trust: EstTrust, options: { method: string; body?: string; headers?: Record<string, string>; verify?: boolean; timeoutMs: number }): Promise<Answer> {
  const url = new URL(endpoint, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        ...(trust.ca !== undefined && { ca: trust.ca }),
        ...(trust.cert !== undefined && { cert: trust.cert, key: trust.key }),
        rejectUnauthorized: options.verify !== false,
        agent: false,
        headers: { ...options.headers, ...(options.body !== undefined && { 'Content-Length': String(Buffer.byteLength(options.body)) }) },
        timeout: options.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(failure('EST_RESPONSE', `${url.host} answered more than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(failure('EST_UNREACHABLE', `${url.host} did not answer within ${Math.round(options.timeoutMs / 1000)} s`)));
    req.on('error', (error: NodeJS.ErrnoException) => reject(error.name === 'PkiError' ? error : failure('EST_UNREACHABLE', `cannot reach ${url.host}: ${error.code ?? ''} ${error.message}`.replace(/\s+/g, ' ').trim())));
    req.end(options.body);
  });
}

/** The certificates of a 200 answer (base64 certs-only PKCS#7), or a one-line refusal naming the status and the server's reason. */
function certificatesOf(answer: Answer, what: string): Uint8Array[] {
  if (answer.status !== 200) {
    const reason = printable(answer.body.toString('utf8').split('\n')[0]!.slice(0, 300)).trim();
    throw failure('EST_REFUSED', `${what}: the server answered ${answer.status}${reason ? `: ${reason}` : ''}`);
  }
  try {
    return readCertsOnly(Buffer.from(answer.body.toString('latin1').replace(/\s/g, ''), 'base64'));
  } catch (error) {
    throw failure('EST_RESPONSE', `${what}: the answer is not a base64 certs-only PKCS#7 (${error instanceof Error ? error.message : String(error)})`);
  }
}

const csrRequest = (csr: Uint8Array) => ({ method: 'POST', body: Buffer.from(csr).toString('base64'), headers: { 'Content-Type': 'application/pkcs10' } });

export class EstClient {
  constructor(
    private readonly base: URL,
    private readonly trust: EstTrust,
    private readonly timeoutMs = 30_000,
  ) {}

  /** /cacerts: the CA certificates the server publishes (DER). */
  async caCerts(): Promise<Uint8Array[]> {
    return certificatesOf(await send(this.base, 'cacerts', this.trust, { method: 'GET', timeoutMs: this.timeoutMs }), 'cacerts');
  }

  /** First enrollment, authenticated by a one-time token (HTTP Basic: the tenant id and the token). */
  async simpleEnroll(csr: Uint8Array, tenant: string, token: string): Promise<Uint8Array[]> {
    const request = csrRequest(csr);
    const authorization = `Basic ${Buffer.from(`${tenant}:${token}`).toString('base64')}`;
    return certificatesOf(await send(this.base, 'simpleenroll', this.trust, { ...request, headers: { ...request.headers, Authorization: authorization }, timeoutMs: this.timeoutMs }), 'simpleenroll');
  }

  /** Re-enrollment, authenticated by the current pair over TLS (EstTrust cert/key). */
  async simpleReenroll(csr: Uint8Array): Promise<Uint8Array[]> {
    return certificatesOf(await send(this.base, 'simplereenroll', this.trust, { ...csrRequest(csr), timeoutMs: this.timeoutMs }), 'simplereenroll');
  }

  /**
   * `step ca bootstrap` for EST: /cacerts fetched once without checking the server, and only the root
   * whose SHA-256 equals `fingerprint` kept; everything after that (the token first) goes over TLS
   * verified with that root. A root that does not match is refused: nothing is sent.
   */
  static async bootstrap(base: URL, fingerprint: string, timeoutMs = 30_000): Promise<Certificate> {
    const wanted = fingerprint.replace(/[:\s]/g, '').toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(wanted)) throw failure('FINGERPRINT_INVALID', `--fingerprint must be the SHA-256 of the root certificate (64 hex digits, colons allowed), as openssl x509 -fingerprint -sha256 prints it`);
    const answer = await send(base, 'cacerts', {}, { method: 'GET', verify: false, timeoutMs });
    const root = certificatesOf(answer, 'cacerts').map((der) => new Certificate(der)).find((c) => createHash('sha256').update(c.der).digest('hex') === wanted);
    if (!root || !root.selfIssued) throw failure('FINGERPRINT_MISMATCH', `${base.host} publishes no root certificate with SHA-256 ${wanted}; nothing was sent (check the fingerprint, and that this is your CA)`);
    return root;
  }
}
