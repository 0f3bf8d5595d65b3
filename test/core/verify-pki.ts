// A tiny certificate factory for validator tests: real EC P-256 keys, real signatures, fixed dates.
import { webcrypto } from 'node:crypto';
import { Certificate } from '../../src/core/cert.js';
import { Crl } from '../../src/core/crl.js';
import { Verifier, type VerifyOptions as ModelOptions } from '../../src/core/verify.js';
import { x509 } from '../../src/core/x509.js';

export const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

export const T0 = new Date('2025-01-01T00:00:00Z');
export const T1 = new Date('2030-01-01T00:00:00Z');
export const NOW = new Date('2026-06-01T00:00:00Z');

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface CertSpec {
  cn: string;
  issuer?: Issued;
  keys?: CryptoKeyPair;
  ca?: boolean;
  pathLen?: number;
  /** keyUsage flags; null = no keyUsage extension */
  ku?: number | null;
  eku?: string[] | null;
  sans?: x509.JsonGeneralName[];
  notBefore?: Date;
  notAfter?: Date;
  hash?: 'SHA-256' | 'SHA-1';
  extra?: x509.Extension[];
  /** no basicConstraints at all */
  noBc?: boolean;
}

let serial = 1;
const newKeys = () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

export async function make(spec: CertSpec): Promise<Issued> {
  const keys = spec.keys ?? (await newKeys());
  const ca = spec.ca ?? false;
  const extensions: x509.Extension[] = [];
  if (!spec.noBc) extensions.push(new x509.BasicConstraintsExtension(ca, spec.pathLen, true));
  const ku = spec.ku === undefined ? (ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature) : spec.ku;
  if (ku !== null) extensions.push(new x509.KeyUsagesExtension(ku, true));
  const eku = spec.eku === undefined ? (ca ? null : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]) : spec.eku;
  if (eku) extensions.push(new x509.ExtendedKeyUsageExtension(eku, false));
  const ski = await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto);
  extensions.push(ski);
  const signer = spec.issuer ?? { keys, cert: undefined };
  const akiId = spec.issuer ? spec.issuer.cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId : ski.keyId;
  extensions.push(new x509.AuthorityKeyIdentifierExtension(akiId));
  if (spec.sans) extensions.push(new x509.SubjectAlternativeNameExtension(spec.sans, false));
  extensions.push(...(spec.extra ?? []));
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: (serial++).toString(16).padStart(4, '0').replace(/^[89a-f]/, '7'),
      subject: `CN=${spec.cn}`,
      issuer: spec.issuer ? spec.issuer.cert.subject : `CN=${spec.cn}`,
      notBefore: spec.notBefore ?? T0,
      notAfter: spec.notAfter ?? T1,
      publicKey: keys.publicKey,
      signingKey: signer.keys.privateKey,
      signingAlgorithm: { name: 'ECDSA', hash: spec.hash ?? 'SHA-256' },
      extensions,
    },
    crypto,
  );
  return { cert, keys };
}

/** DER of a nameConstraints value permitting (or excluding) DNS subtrees. */
export function dnsConstraints(kind: 'permitted' | 'excluded', names: string[]): x509.Extension {
  const tlv = (tag: number, body: Uint8Array) => {
    if (body.length > 127) throw new Error('test helper handles short forms only');
    return Uint8Array.from([tag, body.length, ...body]);
  };
  const subtrees = names.map((n) => tlv(0x30, tlv(0x82, new TextEncoder().encode(n))));
  const list = tlv(kind === 'permitted' ? 0xa0 : 0xa1, Uint8Array.from(subtrees.flatMap((s) => [...s])));
  return new x509.Extension('2.5.29.30', true, tlv(0x30, list));
}

/** The same certificate with one byte of its signature flipped. */
export function tamper(cert: x509.X509Certificate): x509.X509Certificate {
  const der = new Uint8Array(cert.rawData).slice();
  der[der.length - 5]! ^= 0x01;
  return new x509.X509Certificate(der);
}

/** The model of a test certificate (the factory above makes them with @peculiar/x509). */
export const model = (c: x509.X509Certificate) => new Certificate(new Uint8Array(c.rawData));

export interface VerifyOptions extends Omit<ModelOptions, 'crls'> {
  roots: x509.X509Certificate[];
  intermediates: x509.X509Certificate[];
  crls?: x509.X509Crl[];
}

/** One Verifier run over test certificates: the path as models, the failures as the validator gives them. */
export async function verifyChain(leaf: x509.X509Certificate, o: VerifyOptions, provider?: Crypto) {
  const verifier = new Verifier(o.roots.map(model), o.intermediates.map(model), provider);
  const r = await verifier.verify(model(leaf), { ...o, crls: o.crls?.map((c) => new Crl(new Uint8Array(c.rawData))) });
  return { ok: r.ok, chain: r.path, failures: r.failures };
}
