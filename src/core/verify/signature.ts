// Signature and key algorithms the validator accepts, and the signature checks themselves, through the
// run's crypto provider (the same parameter issuance signs with: PKICTL_CRYPTO_PROVIDER, later PKCS#11).
// With Node's own provider the checks call node:crypto's one-shot verify() directly: synchronous, the
// SPKI parsed once per certificate, DER ECDSA signatures and RSA-PSS salt lengths taken as they are,
// and runnable on libuv's thread pool (verify of 1,000 files leans on that). Any other provider gets
// WebCrypto calls (importKey per check, ECDSA signatures converted to r || s): the same answers, slower.
import { constants, verify, webcrypto, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import type { Certificate, Problem, Signed } from '../cert.js';
import { children, content, expect, oid, parseDer, smallInt, type Tlv } from '../der.js';
import { curveByNodeName, EC_CURVES } from '../oid.js';
import type { CryptoProvider } from '../x509.js';

/** What a signature check needs of the signer: its public key (a certificate, or a CSR's own key). */
export type KeyHolder = Pick<Certificate, 'publicKey' | 'spki'>;

const HASH: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.3.14.3.2.26': 'sha1',
};

type Scheme = { kind: 'rsa' | 'ecdsa' | 'eddsa' | 'pss'; hash: string | null };

const SIG_ALGS: Record<string, Scheme> = {
  '1.2.840.113549.1.1.11': { kind: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { kind: 'eddsa', hash: null },
  '1.3.101.113': { kind: 'eddsa', hash: null },
  '1.2.840.113549.1.1.10': { kind: 'pss', hash: null },
};

/** Broken digests: collisions are practical (MD5, SHA-1 since SHAttered, 2017). */
const WEAK: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
};

/** Is the algorithm that signed `m` acceptable? (Checked for every certificate whose signature we verify.) */
export function signatureAlgorithmProblem(m: Pick<Signed, 'sigAlgOid' | 'sigAlgParams'>): Problem | undefined {
  if (WEAK[m.sigAlgOid]) return { code: 'WEAK_SIGNATURE', message: `signed with ${WEAK[m.sigAlgOid]}, a broken digest` };
  if (!SIG_ALGS[m.sigAlgOid]) return { code: 'UNSUPPORTED_SIGNATURE', message: `unsupported signature algorithm ${m.sigAlgOid}` };
  try {
    pssParams(m);
  } catch (error) {
    return { code: (error as Error).message.startsWith('weak') ? 'WEAK_SIGNATURE' : 'UNSUPPORTED_SIGNATURE', message: `RSASSA-PSS parameters: ${(error as Error).message}` };
  }
  return undefined;
}

function pssParams(m: Pick<Signed, 'sigAlgOid' | 'sigAlgParams'>): { hash: string; saltLength: number } | undefined {
  if (m.sigAlgOid !== '1.2.840.113549.1.1.10') return undefined;
  const p = m.sigAlgParams;
  if (!p || p.tag !== 0x30) throw new Error('missing');
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let saltLength = 20;
  for (const f of children(p)) {
    const [inner] = children(f);
    if (f.tag === 0xa0) hash = HASH[oid(children(inner!)[0]!)] ?? 'unknown';
    else if (f.tag === 0xa1) {
      const [mgfOid, mgfAlg] = children(inner!);
      if (oid(mgfOid!) !== '1.2.840.113549.1.1.8') throw new Error('only MGF1 is supported');
      mgfHash = HASH[oid(children(mgfAlg!)[0]!)] ?? 'unknown';
    } else if (f.tag === 0xa2) saltLength = smallInt(inner!);
    else if (f.tag === 0xa3) {
      if (smallInt(inner!) !== 1) throw new Error('trailerField must be 1');
    }
  }
  if (hash === 'sha1' || mgfHash === 'sha1') throw new Error('weak digest SHA-1');
  if (hash === 'unknown' || mgfHash !== hash) throw new Error('unsupported digest combination');
  return { hash, saltLength };
}

/**
 * Keys we accept in any certificate of a path: RSA ≥ 2048 bits in whole bytes, ECDSA on a named
 * P-256/384/521 curve, Ed25519/Ed448 (CA/B Forum BR §6.1.5 and §7.1.3.1; explicit curve parameters are
 * refused because they let a certificate define its own, possibly weak, curve).
 */
export function keyProblem(m: KeyHolder & { keyAlgOid: string; keyParams?: Tlv }): Problem | undefined {
  switch (m.keyAlgOid) {
    case '1.2.840.113549.1.1.1':
    case '1.2.840.113549.1.1.10': {
      const key = m.publicKey;
      if (key instanceof Error) return { code: 'BAD_KEY', message: `public key does not parse: ${key.message}` };
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) return { code: 'WEAK_KEY', message: `RSA key of ${bits} bits (minimum 2048)` };
      if (bits % 8 !== 0) return { code: 'WEAK_KEY', message: `RSA modulus of ${bits} bits is not a whole number of bytes` };
      return undefined;
    }
    case '1.2.840.10045.2.1': {
      if (m.keyParams?.tag !== 0x06) return { code: 'BAD_KEY', message: 'EC key with explicit curve parameters (only named curves are accepted)' };
      const curve = EC_CURVES[oid(m.keyParams)];
      if (!curve) return { code: 'WEAK_KEY', message: `EC key on an unsupported curve ${oid(m.keyParams)}` };
      const key = m.publicKey;
      if (key instanceof Error) return { code: 'BAD_KEY', message: `public key does not parse: ${key.message}` };
      return undefined;
    }
    case '1.3.101.112':
    case '1.3.101.113': {
      const key = m.publicKey;
      if (key instanceof Error) return { code: 'BAD_KEY', message: `public key does not parse: ${key.message}` };
      return undefined;
    }
    default:
      return { code: 'UNSUPPORTED_KEY', message: `unsupported public key algorithm ${m.keyAlgOid}` };
  }
}

/**
 * Signature checks of one validation run, each (child, issuer) pair answered once: path building asks
 * the same question many times, and a CA signs every leaf of a run. Belongs to a Verifier.
 */
export class Signatures {
  /** undefined: Node's own provider, called through node:crypto directly (see the top of this file) */
  readonly #provider?: CryptoProvider;
  readonly #known = new Map<string, boolean | Promise<boolean>>();
  /** CRL signatures checked ahead of the (synchronous) rules, by CRL and issuer */
  readonly #crls = new WeakMap<Signed, WeakMap<Certificate, boolean>>();

  constructor(crypto?: CryptoProvider) {
    this.#provider = crypto && crypto !== (webcrypto as unknown as CryptoProvider) ? crypto : undefined;
  }

  /** Does `issuer`'s key sign `signed`? Not remembered. A boolean with Node's provider, a promise with another. */
  verify(signed: Signed, issuer: Certificate): boolean | Promise<boolean> {
    return this.#provider ? checkWithProvider(this.#provider, signed, issuer) : checkSignature(signed, issuer);
  }

  /** Did `issuer`'s key sign `child`? Remembered. */
  signedBy(child: Certificate, issuer: Certificate): boolean | Promise<boolean> {
    const key = `${child.sha256}:${issuer.sha256}`;
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    const result = this.verify(child, issuer);
    this.#known.set(key, result);
    if (typeof result !== 'boolean') void result.then((ok) => this.#known.set(key, ok));
    return result;
  }

  /** Checks `crl` against each of `issuers` now, so that crlSignedBy can answer synchronously in the rules. */
  async prepareCrl(crl: Signed, issuers: Certificate[]): Promise<void> {
    let byIssuer = this.#crls.get(crl);
    if (!byIssuer) this.#crls.set(crl, (byIssuer = new WeakMap()));
    for (const issuer of issuers) if (!byIssuer.has(issuer)) byIssuer.set(issuer, await this.verify(crl, issuer));
  }

  /** Does `issuer`'s key sign `crl`? From prepareCrl; with Node's provider computed here when not prepared. */
  crlSignedBy(crl: Signed, issuer: Certificate): boolean {
    const known = this.#crls.get(crl)?.get(issuer);
    if (known !== undefined) return known;
    return this.#provider ? false : checkSignature(crl, issuer);
  }

  /**
   * signedBy computed on libuv's thread pool (node:crypto verify with a callback: the same OpenSSL call
   * with the same arguments, so the same answer) and remembered, so a caller holding many leaves checks
   * their signatures on another core while it parses the next ones. Never rejects: a check that cannot
   * run is `false`, as in signedBy. Another provider is asynchronous already: signedBy as is.
   */
  signedByInBackground(child: Certificate, issuer: Certificate): Promise<boolean> {
    if (this.#provider) return Promise.resolve(this.signedBy(child, issuer));
    const key = `${child.sha256}:${issuer.sha256}`;
    const known = this.#known.get(key);
    if (known !== undefined) return Promise.resolve(known);
    const remember = (ok: boolean) => (this.#known.set(key, ok), ok);
    const args = verifyArgs(child, issuer);
    if (!args) return Promise.resolve(remember(false));
    return new Promise<boolean>((resolve) => {
      try {
        verify(args[0], args[1], args[2], args[3], (error, ok) => resolve(remember(!error && ok)));
      } catch {
        resolve(remember(false));
      }
    });
  }
}

const WEBCRYPTO_HASH: Record<string, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

/** ECDSA-Sig-Value (DER) as WebCrypto's r || s, each `size` bytes. */
function ecdsaRaw(signature: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(2 * size);
  const parts = children(expect(parseDer(signature), 0x30, 'ECDSA-Sig-Value'));
  if (parts.length !== 2) throw new Error('ECDSA-Sig-Value must hold r and s');
  parts.forEach((t, i) => {
    let v = content(expect(t, 0x02, 'INTEGER'));
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new Error('ECDSA integer too long');
    out.set(v, (i + 1) * size - v.length);
  });
  return out;
}

/** The check of verifyArgs/checkSignature, through a WebCrypto provider. Never rejects. */
async function checkWithProvider(crypto: CryptoProvider, signed: Signed, issuer: KeyHolder): Promise<boolean> {
  const scheme = SIG_ALGS[signed.sigAlgOid];
  const key = issuer.publicKey;
  if (!scheme || key instanceof Error) return false;
  try {
    const keyType = key.asymmetricKeyType;
    let keyAlg: Algorithm & Record<string, unknown>;
    let sigAlg: Algorithm & Record<string, unknown>;
    let signature = signed.signature;
    if (scheme.kind === 'rsa') {
      if (keyType !== 'rsa') return false;
      keyAlg = sigAlg = { name: 'RSASSA-PKCS1-v1_5', hash: WEBCRYPTO_HASH[scheme.hash!] };
    } else if (scheme.kind === 'pss') {
      if (keyType !== 'rsa' && keyType !== 'rsa-pss') return false;
      const p = pssParams(signed)!;
      keyAlg = { name: 'RSA-PSS', hash: WEBCRYPTO_HASH[p.hash] };
      sigAlg = { name: 'RSA-PSS', saltLength: p.saltLength };
    } else if (scheme.kind === 'ecdsa') {
      const curve = curveByNodeName(key.asymmetricKeyDetails?.namedCurve);
      if (keyType !== 'ec' || !curve) return false;
      keyAlg = { name: 'ECDSA', namedCurve: curve.name };
      sigAlg = { name: 'ECDSA', hash: WEBCRYPTO_HASH[scheme.hash!] };
      signature = ecdsaRaw(signature, curve.size);
    } else {
      const want = signed.sigAlgOid === '1.3.101.112' ? 'ed25519' : 'ed448';
      if (keyType !== want) return false;
      keyAlg = sigAlg = { name: want === 'ed25519' ? 'Ed25519' : 'Ed448' };
    }
    const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(issuer.spki), keyAlg, false, ['verify']);
    return await crypto.subtle.verify(sigAlg, publicKey, new Uint8Array(signature), new Uint8Array(signed.tbs));
  } catch {
    return false;
  }
}

type VerifyArgs = [algorithm: string | null, data: Uint8Array, key: KeyObject | VerifyKeyObjectInput, signature: Uint8Array];

/** The node:crypto verify() arguments for `signed` under `issuer`'s key; undefined when it cannot verify. */
function verifyArgs(signed: Signed, issuer: KeyHolder): VerifyArgs | undefined {
  const data = signed.tbs;
  const scheme = SIG_ALGS[signed.sigAlgOid];
  const key = issuer.publicKey;
  if (!scheme || key instanceof Error) return undefined;
  try {
    const keyType = key.asymmetricKeyType;
    if (scheme.kind === 'rsa') {
      if (keyType !== 'rsa') return undefined;
      return [scheme.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signed.signature];
    }
    if (scheme.kind === 'pss') {
      if (keyType !== 'rsa' && keyType !== 'rsa-pss') return undefined;
      const p = pssParams(signed)!;
      return [p.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }, signed.signature];
    }
    if (scheme.kind === 'ecdsa') {
      if (keyType !== 'ec') return undefined;
      return [scheme.hash, data, key, signed.signature];
    }
    const want = signed.sigAlgOid === '1.3.101.112' ? 'ed25519' : 'ed448';
    if (keyType !== want) return undefined;
    return [null, data, key, signed.signature];
  } catch {
    return undefined;
  }
}

/** Verifies the signature of `signed` (a certificate, a CRL or a CSR) with `issuer`'s key. */
export function checkSignature(signed: Signed, issuer: KeyHolder): boolean {
  const args = verifyArgs(signed, issuer);
  if (!args) return false;
  try {
    return verify(...args);
  } catch {
    return false;
  }
}
