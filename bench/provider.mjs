// Compares the two WebCrypto providers @peculiar/x509 can use: Node's built-in crypto.webcrypto
// and @peculiar/webcrypto. Run: npm run bench:provider
import '@abraham/reflection';
import { webcrypto } from 'node:crypto';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import * as x509 from '@peculiar/x509';

const providers = { 'node:crypto.webcrypto': webcrypto, '@peculiar/webcrypto': new PeculiarCrypto() };
const rsa = (bits) => ({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits });
const ec = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function time(n, fn) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - t0) / n;
}

const rows = [];
for (const [name, crypto] of Object.entries(providers)) {
  const caKeys = await crypto.subtle.generateKey(rsa(4096), true, ['sign', 'verify']);
  const leafKeys = await crypto.subtle.generateKey(ec, true, ['sign', 'verify']);
  const row = { provider: name };
  row['RSA-2048 keygen ms'] = await time(10, () => crypto.subtle.generateKey(rsa(2048), true, ['sign', 'verify']));
  row['P-256 keygen ms'] = await time(200, () => crypto.subtle.generateKey(ec, true, ['sign', 'verify']));
  row['cert signed by RSA-4096 ms'] = await time(50, (i) => x509.X509CertificateGenerator.create({
    serialNumber: (0x4000 + i).toString(16), subject: 'CN=leaf', issuer: 'CN=ca', notBefore: new Date(), notAfter: new Date(Date.now() + 864e5),
    publicKey: leafKeys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: rsa(4096),
  }, crypto));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=ca', keys: caKeys, signingAlgorithm: rsa(4096) }, crypto);
  row['verify RSA-4096 sig ms'] = await time(200, () => cert.verify({ publicKey: caKeys.publicKey, signatureOnly: true }, crypto));
  rows.push(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? +v.toFixed(2) : v])));
}
console.table(rows);

// Bulk issuance overlaps key generation on the libuv pool; a provider that generates keys
// synchronously cannot. Eight RSA-2048 keys requested at once:
const par = [];
for (const [name, crypto] of Object.entries(providers)) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => crypto.subtle.generateKey(rsa(2048), true, ['sign', 'verify'])));
  par.push({ provider: name, '8 RSA-2048 keys in parallel, ms/key': +((performance.now() - t0) / 8).toFixed(1) });
}
console.table(par);
