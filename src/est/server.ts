// The HTTP side of `pkictl serve`: RFC 7030 EST over TLS (with RFC 8951's clarifications), the
// health check, the access log, and the limits that keep one bad or slow client from hurting the
// others. What an enrollment does is ops/est.ts; this file speaks HTTP only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readCsr, type CertificationRequest } from '../core/csr.js';
import { PkiError } from '../core/errors.js';
import { certificateBytes } from '../core/pem.js';
import { certsOnly } from '../core/pkcs7.js';
import type { EnrollmentService } from '../ops/est.js';

export const EST_PREFIX = '/.well-known/est/';
/** RFC 7030 bodies are a CSR: a few KB. Anything larger is refused before it is read. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AccessLogEntry {
  time: string;
  remote: string;
  method: string;
  path: string;
  endpoint: string;
  status: number;
  latencyMs: number;
  tenant?: string;
  serial?: string;
  /** Why a request was refused (never a token, key or certificate). */
  reason?: string;
}

export interface EstServerOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string; ca: string };
  service: EnrollmentService;
  /** Requests per minute per tenant (a token bucket of that size); 0 = no limit. */
  ratePerMinute: number;
  /** Whole request (headers and body) must arrive within this; headers within min(this, 10 s). */
  requestTimeoutMs: number;
  log(entry: AccessLogEntry): void;
}

export interface RunningServer {
  port: number;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
  /** Replaces the TLS certificate (and the client trust anchors) for new connections: the in-memory identity is renewed while serving. */
  setIdentity(cert: string, key: string, ca?: string): void;
}

/** An answer other than 200: status, a short text/plain reason for the client, and the log's reason. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason = message,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What a refusal from the ops layer becomes: 400 for a malformed request, 401 without credentials, 403 for policy, 503 when the store cannot serve. */
function httpErrorOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof PkiError) {
    const reason = [error.message, error.detail].filter(Boolean).join(': ');
    if (error.code === 'CSR_INVALID') return new HttpError(400, error.message, reason);
    if (error.code === 'CLIENT_CERT_REQUIRED') return new HttpError(401, error.message, reason);
    if (error.kind === 'input') return new HttpError(403, error.message, reason);
    const unavailable = ['LOCK_TIMEOUT', 'WRITE_FAILED', 'INDEX_CORRUPT', 'INDEX_LOST', 'DIR_UNREADABLE', 'CA_EXPIRED', 'JOURNAL_NOT_FILE'];
    if (unavailable.includes(error.code)) return new HttpError(503, 'the CA is unavailable; try again later', reason, { 'Retry-After': '30' });
    return new HttpError(500, 'internal error', reason);
  }
  return new HttpError(500, 'internal error', error instanceof Error ? error.message : String(error));
}

/** A per-tenant token bucket: `perMinute` requests, refilled continuously. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perMinute: number) {}

  take(key: string, now: number): boolean {
    if (this.perMinute <= 0) return true;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
    bucket.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear(); // bounded memory: forgetting only lets tenants in
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/**
 * The request body, refused (413) past MAX_BODY_BYTES without reading the rest, and cut off (408, the
 * connection closed) when it has not all arrived `deadlineMs` after the request began: a client that
 * trickles its body holds no connection for longer.
 */
function readBody(req: IncomingMessage, deadlineMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return Promise.reject(new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new HttpError(408, 'the request did not arrive in time', 'slow client: body not complete in time', { Connection: 'close' }));
      req.socket.destroy();
    }, deadlineMs);
    req.on('close', () => {
      clearTimeout(timer);
      if (!req.complete) reject(new HttpError(400, 'the client closed the connection', 'client gone before the body was complete'));
    });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`));
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/**
 * The CSR of an enrollment request: Content-Type application/pkcs10 (415 otherwise), a body of base64
 * DER with or without line breaks, whatever Content-Transfer-Encoding says (RFC 8951 §3.2).
 */
async function readCsrBody(req: IncomingMessage, deadlineMs: number): Promise<CertificationRequest> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/pkcs10') throw new HttpError(415, 'the request must be Content-Type: application/pkcs10 (base64 of a DER PKCS#10)');
  const text = (await readBody(req, deadlineMs)).toString('latin1').replace(/[\r\n\t ]/g, '');
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 === 1) throw new HttpError(400, 'the body is not base64');
  return readCsr(Buffer.from(text, 'base64'), 'the request');
}

/** HTTP Basic credentials (RFC 7617); 401 with a challenge when absent. */
function basicCredentials(req: IncomingMessage): { username: string; password: string } {
  const header = req.headers.authorization ?? '';
  const challenge = { 'WWW-Authenticate': 'Basic realm="pkictl EST", charset="UTF-8"' };
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) throw new HttpError(401, 'an enrollment token is required (HTTP Basic, the token as the password)', header === '' ? 'no credentials' : 'malformed Authorization header', challenge);
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1 || decoded.length > 1024) throw new HttpError(401, 'malformed Basic credentials', 'malformed Basic credentials', challenge);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The certificate the client authenticated with over TLS (DER), if any, and whether OpenSSL verified
 * it in the handshake against ca.crt's roots for client authentication (`authorized`). Its leaf is
 * enough: the path is built from the tree's own CAs (ops/est.ts), and the detailed
 * getPeerCertificate(true) costs 0.7 ms a request (measured with bench:est).
 */
function peerOf(socket: TLSSocket): { chain: Uint8Array[]; authorized: boolean } {
  const cert = socket.getPeerX509Certificate();
  return { chain: cert ? [new Uint8Array(cert.raw)] : [], authorized: socket.authorized };
}

const PKCS7_HEADERS = { 'Content-Type': 'application/pkcs7-mime; smime-type=certs-only', 'Content-Transfer-Encoding': 'base64' };

/** Base64 in 64-character lines, as EST servers answer (RFC 7030 §4.1.3). */
const base64Lines = (der: Uint8Array) => (Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []).join('\n') + '\n';

export async function startEstServer(options: EstServerOptions): Promise<RunningServer> {
  const limiter = new RateLimiter(options.ratePerMinute);
  const service = options.service;
  let closing = false;

  const limit = (tenant: string) => {
    if (!limiter.take(tenant, Date.now())) throw new HttpError(429, 'too many requests for this tenant; try again later', 'rate limited', { 'Retry-After': '60' });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, log: Partial<AccessLogEntry>): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET', 'method', { Allow: 'GET' });
      log.endpoint = 'healthz';
      const status = closing ? 503 : 200;
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: closing ? 'stopping' : 'ok' }));
      return;
    }
    if (!path.startsWith(EST_PREFIX)) throw new HttpError(404, 'not found');
    const endpoint = path.slice(EST_PREFIX.length);
    log.endpoint = endpoint;
    const want = (method: string) => {
      if (req.method !== method) throw new HttpError(405, `use ${method}`, 'method', { Allow: method });
    };
    if (endpoint === 'cacerts') {
      want('GET');
      res.writeHead(200, PKCS7_HEADERS).end(base64Lines(await service.caCerts()));
      return;
    }
    if (endpoint === 'csrattrs') {
      want('GET');
      res.writeHead(204).end(); // no attributes required: the client profile decides the certificate
      return;
    }
    if (endpoint !== 'simpleenroll' && endpoint !== 'simplereenroll') throw new HttpError(404, 'not found');
    want('POST');
    let issued;
    if (endpoint === 'simpleenroll') {
      const credentials = basicCredentials(req);
      const csr = await readCsrBody(req, options.requestTimeoutMs);
      log.tenant = credentials.username || csr.commonNames[0];
      limit(`tenant:${log.tenant ?? ''}`);
      issued = await service.enroll(csr, credentials);
    } else {
      const peer = peerOf(req.socket as TLSSocket);
      const csr = await readCsrBody(req, options.requestTimeoutMs);
      log.tenant = peer.chain.length > 0 ? csr.commonNames[0] : undefined;
      limit(`tenant:${log.tenant ?? ''}`);
      issued = await service.reenroll(csr, peer.chain, peer.authorized);
    }
    log.tenant = issued.tenantId;
    log.serial = issued.serial;
    // The leaf, then its chain, as written to clients/<id>/client.crt.
    const certs = certificateBytes(Buffer.from(issued.pem), 'the new certificate').map((c) => c.der);
    res.writeHead(200, PKCS7_HEADERS).end(base64Lines(certsOnly(certs)));
  }

  const server: Server = createServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: false, // a first enrollment has no certificate; re-enrollment checks it (ops/est.ts)
      minVersion: 'TLSv1.2',
      handshakeTimeout: Math.min(options.requestTimeoutMs, 10_000),
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(options.requestTimeoutMs, 10_000),
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      const started = performance.now();
      const log: Partial<AccessLogEntry> = { endpoint: '' };
      const finish = (status: number, reason?: string) =>
        options.log({ time: new Date().toISOString(), remote: req.socket.remoteAddress ?? '', method: req.method ?? '', path: (req.url ?? '').slice(0, 200), ...log, status, latencyMs: Math.round((performance.now() - started) * 10) / 10, ...(reason && { reason }) } as AccessLogEntry);
      handle(req, res, log).then(
        () => finish(res.statusCode),
        (error: unknown) => {
          const e = httpErrorOf(error);
          if (!res.headersSent) {
            // A refused request may leave its body unread: the connection is not reused.
            res.writeHead(e.status, { 'Content-Type': 'text/plain; charset=utf-8', ...e.headers, Connection: 'close' }).end(`${e.message}\n`);
            res.on('finish', () => req.socket.destroy());
          } else res.destroy();
          finish(e.status, e.reason);
        },
      );
    },
  );
  server.maxConnections = 1024;
  // A connection silent for twice the request timeout is closed (no 'timeout' listener: Node destroys
  // it); a request in progress meets its own deadline first (readBody).
  server.timeout = 2 * options.requestTimeoutMs;
  // A client that never finishes its handshake or request is cut off by the timeouts above; a TLS
  // error from one connection never reaches the others.
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    setIdentity(cert, key, ca = options.tls.ca) {
      server.setSecureContext({ cert, key, ca });
    },
    close(graceMs = 20_000) {
      closing = true;
      return new Promise((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
