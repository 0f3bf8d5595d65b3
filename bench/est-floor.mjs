// The floor of bench:est: a bare node:https mTLS server that verifies the client certificate against
// the CA and answers 200, reading the body, without signing or storing anything.
// Usage: node bench/est-floor.mjs <ca.crt> <server.crt> <server.key>; prints "listening <port>".
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const [ca, cert, key] = process.argv.slice(2).map((f) => readFileSync(f));
const server = createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true }, (req, res) => {
  let size = 0;
  req.on('data', (d) => (size += d.length));
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${size}\n`));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
