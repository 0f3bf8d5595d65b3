// Connectors as a load: each makes its key and PKCS#10 in-process (the bundle's own CSR encoder) and
// talks EST to `pkictl serve` on a fresh TLS connection per request, as a real connector does.
// Used by bench/est.mjs and test/connector/est-concurrency.test.ts.
import { request } from 'node:https';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const bundle = (name) => import(join(ROOT, 'dist', 'bundle', `${name}.js`));
const [{ buildCsr }, { signerFor }, { subjectDer }, { newKey }, { readCertificatePem }, { readCertsOnly }] = await Promise.all([bundle('core-csr'), bundle('core-issue'), bundle('core-subject'), bundle('core-keys'), bundle('core-cert-input'), bundle('core-pkcs7')]);

/** A connector's identity: a fresh P-256 key (in memory) and a CSR for `subject` (DER of a Name, or a tenant id). */
export async function connectorRequest(subject) {
  const key = await newKey('ec-p256', webcrypto);
  const name = typeof subject === 'string' ? subjectDer({ CN: subject }) : subject;
  const csr = await buildCsr(name, key.spki, signerFor(key.privateKey, webcrypto));
  return { keyPem: key.keyPem, csrBase64: Buffer.from(csr).toString('base64') };
}

/** The subject (DER) of a PEM certificate: what a re-enrollment must repeat. */
export const subjectOfPem = (pem) => readCertificatePem(pem, 'certificate').subjectDer;

/** One EST POST on a fresh connection: { status, body, ms }. `pair` authenticates a re-enrollment; `token` a first one. */
export function estPost(port, ca, endpoint, csrBase64, { token, pair } = {}) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `/.well-known/est/${endpoint}`,
        method: 'POST',
        ca,
        agent: false,
        servername: 'localhost',
        ...(pair && { cert: pair.cert, key: pair.key }),
        headers: { 'Content-Type': 'application/pkcs10', ...(token && { Authorization: `Basic ${Buffer.from(`:${token}`).toString('base64')}` }) },
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body, ms: performance.now() - started }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, body: error.message, ms: performance.now() - started }));
    req.end(csrBase64);
  });
}

/** The certificates (PEM, leaf first) of a 200 answer's base64 certs-only PKCS#7. */
export function pemOfAnswer(body) {
  const pem = (der) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
  return readCertsOnly(Buffer.from(body.replace(/\s/g, ''), 'base64')).map(pem).join('');
}
