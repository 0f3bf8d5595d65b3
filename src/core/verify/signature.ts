// Signature and key algorithms the validator accepts. Verification uses node:crypto's one-shot
// verify() (chosen for simplicity, not benchmarked against WebCrypto): it is synchronous, takes the
// SPKI as parsed once per certificate, and accepts DER ECDSA signatures and RSA-PSS salt lengths as
// they are, where WebCrypto needs an async importKey per key plus a DER→raw signature conversion.
import { constants, verify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { publicKeyOf, type CertModel, type Problem } from './cert-model.js';
import { children, oid, smallInt, type Tlv } from './der.js';

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
export function signatureAlgorithmProblem(m: CertModel): Problem | undefined {
  if (WEAK[m.sigAlgOid]) return { code: 'WEAK_SIGNATURE', message: `signed with ${WEAK[m.sigAlgOid]}, a broken digest` };
  if (!SIG_ALGS[m.sigAlgOid]) return { code: 'UNSUPPORTED_SIGNATURE', message: `unsupported signature algorithm ${m.sigAlgOid}` };
  try {
    pssParams(m);
  } catch (error) {
    return { code: (error as Error).message.startsWith('weak') ? 'WEAK_SIGNATURE' : 'UNSUPPORTED_SIGNATURE', message: `RSASSA-PSS parameters: ${(error as Error).message}` };
  }
  return undefined;
}

function pssParams(m: CertModel): { hash: string; saltLength: number } | undefined {
  if (m.sigAlgOid !== '1.2.840.113549.1.1.10') return undefined;
  const p = m.sigAlgParams as Tlv | undefined;
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

const CURVES: Record<string, string> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};

/**
 * Keys we accept in any certificate of a path: RSA ≥ 2048 bits in whole bytes, ECDSA on a named
 * P-256/384/521 curve, Ed25519/Ed448 (CA/B Forum BR §6.1.5 and §7.1.3.1; explicit curve parameters are
 * refused because they let a certificate define its own, possibly weak, curve).
 */
export function keyProblem(m: CertModel): Problem | undefined {
  switch (m.keyAlgOid) {
    case '1.2.840.113549.1.1.1':
    case '1.2.840.113549.1.1.10': {
      const key = publicKeyOf(m);
      if (key instanceof Error) return { code: 'BAD_KEY', message: `public key does not parse: ${key.message}` };
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) return { code: 'WEAK_KEY', message: `RSA key of ${bits} bits (minimum 2048)` };
      if (bits % 8 !== 0) return { code: 'WEAK_KEY', message: `RSA modulus of ${bits} bits is not a whole number of bytes` };
      return undefined;
    }
    case '1.2.840.10045.2.1': {
      if (m.keyParams?.tag !== 0x06) return { code: 'BAD_KEY', message: 'EC key with explicit curve parameters (only named curves are accepted)' };
      const curve = CURVES[oid(m.keyParams)];
      if (!curve) return { code: 'WEAK_KEY', message: `EC key on an unsupported curve ${oid(m.keyParams)}` };
      if (canonicalP256OnCurve(m.spki)) return undefined;
      const key = publicKeyOf(m);
      if (key instanceof Error) return { code: 'BAD_KEY', message: `public key does not parse: ${key.message}` };
      return undefined;
    }
    case '1.3.101.112':
    case '1.3.101.113': {
      const key = publicKeyOf(m);
      if (key instanceof Error) return { code: 'BAD_KEY', message: `public key does not parse: ${key.message}` };
      return undefined;
    }
    default:
      return { code: 'UNSUPPORTED_KEY', message: `unsupported public key algorithm ${m.keyAlgOid}` };
  }
}

// The one SPKI encoding of an uncompressed P-256 key: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 },
// BIT STRING (0 unused bits) 0x04 || X || Y }.
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04', 'hex');
const P256_P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const P256_B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

/**
 * A fast yes for the common leaf key (pkictl issues P-256): exactly the canonical encoding and a point
 * on the curve (y² = x³ − 3x + b mod p, coordinates below p), which is what OpenSSL checks when it
 * parses the key. Only ever answers "valid"; anything else goes to createPublicKey as before, so the
 * verdicts do not change, and leaves (whose key nothing else uses) skip a KeyObject each.
 */
function canonicalP256OnCurve(spki: Uint8Array): boolean {
  if (spki.length !== P256_SPKI_PREFIX.length + 64 || !P256_SPKI_PREFIX.equals(spki.subarray(0, P256_SPKI_PREFIX.length))) return false;
  const xy = Buffer.from(spki.buffer, spki.byteOffset + P256_SPKI_PREFIX.length, 64).toString('hex');
  const x = BigInt(`0x${xy.slice(0, 64)}`);
  const y = BigInt(`0x${xy.slice(64)}`);
  if (x >= P256_P || y >= P256_P) return false;
  return (y * y - (x * x * x - 3n * x + P256_B)) % P256_P === 0n;
}

const sigCache = new Map<string, boolean>();
const SIG_CACHE_LIMIT = 50_000;

function remember(cacheKey: string, ok: boolean): boolean {
  if (sigCache.size > SIG_CACHE_LIMIT) sigCache.clear();
  sigCache.set(cacheKey, ok);
  return ok;
}

/** Did `issuer`'s key sign `child`? Cached per pair: path building asks the same question many times. */
export function signedBy(child: CertModel, issuer: CertModel): boolean {
  const cacheKey = `${child.id}:${issuer.id}`;
  const hit = sigCache.get(cacheKey);
  if (hit !== undefined) return hit;
  return remember(cacheKey, checkSignature(child.tbs, child, issuer));
}

/**
 * signedBy computed on libuv's thread pool (node:crypto verify with a callback: the same OpenSSL call
 * with the same arguments, so the same answer), stored in signedBy's cache. Lets a caller holding many
 * leaves check their signatures on another core while it parses the next ones; signedBy then answers
 * from the cache. Never rejects: a check that cannot run is `false`, as in signedBy.
 */
export function signedByInBackground(child: CertModel, issuer: CertModel): Promise<boolean> {
  const cacheKey = `${child.id}:${issuer.id}`;
  const hit = sigCache.get(cacheKey);
  if (hit !== undefined) return Promise.resolve(hit);
  const args = verifyArgs(child.tbs, child, issuer);
  if (!args) return Promise.resolve(remember(cacheKey, false));
  return new Promise<boolean>((resolve) => {
    try {
      verify(args[0], args[1], args[2], args[3], (error, ok) => resolve(remember(cacheKey, !error && ok)));
    } catch {
      resolve(remember(cacheKey, false));
    }
  });
}

type VerifyArgs = [algorithm: string | null, data: Uint8Array, key: KeyObject | VerifyKeyObjectInput, signature: Uint8Array];

/** The node:crypto verify() arguments for a signature over `data` described by `signed` under `issuer`'s key; undefined when it cannot verify. */
function verifyArgs(data: Uint8Array, signed: { sigAlgOid: string; sigAlgParams?: Tlv; signature: Uint8Array }, issuer: CertModel): VerifyArgs | undefined {
  const scheme = SIG_ALGS[signed.sigAlgOid];
  const key = publicKeyOf(issuer);
  if (!scheme || key instanceof Error) return undefined;
  try {
    const keyType = key.asymmetricKeyType;
    if (scheme.kind === 'rsa') {
      if (keyType !== 'rsa') return undefined;
      return [scheme.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signed.signature];
    }
    if (scheme.kind === 'pss') {
      if (keyType !== 'rsa' && keyType !== 'rsa-pss') return undefined;
      const p = pssParams(signed as CertModel)!;
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

/** Verifies a signature over `data` described by `signed` (a certificate or CRL) with `issuer`'s key. */
export function checkSignature(data: Uint8Array, signed: { sigAlgOid: string; sigAlgParams?: Tlv; signature: Uint8Array }, issuer: CertModel): boolean {
  const args = verifyArgs(data, signed, issuer);
  if (!args) return false;
  try {
    return verify(...args);
  } catch {
    return false;
  }
}
