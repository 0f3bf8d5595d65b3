import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { toPem } from './der-write.js';
import { inputError } from './errors.js';
import type { CryptoProvider } from './x509.js';

export const KEY_TYPES = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** The type pkictl makes closest to a certified key (from its SubjectPublicKeyInfo): to renew like for like. */
export function keyTypeOf(spki: Uint8Array): KeyType {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType === 'ec') return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ec-p384' : 'ec-p256';
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 2048;
  return bits >= 4096 ? 'rsa-4096' : bits >= 3072 ? 'rsa-3072' : 'rsa-2048';
}

/** SHA-256 of a SubjectPublicKeyInfo (lowercase hex): how the index names a certified key (IndexEntry.keySha256). */
export const spkiSha256 = (spki: Uint8Array) => createHash('sha256').update(spki).digest('hex');

const RSA_EXPONENT = new Uint8Array([1, 0, 1]);

/** WebCrypto parameters used both to generate/import a key and to sign with it. */
export function algorithmFor(type: KeyType): RsaHashedKeyGenParams | (EcKeyGenParams & { hash: string }) {
  switch (type) {
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: RSA_EXPONENT, modulusLength: Number(type.slice(4)) };
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    case 'ec-p384':
      // SHA-384 matches P-384's security level (CA/B Forum BR 7.1.3.2.2 allows exactly this pair).
      return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' };
  }
}

/** The signature algorithm a CA key of this shape signs with. */
export function signingAlgorithmOf(key: CryptoKey): Algorithm & { hash: string } {
  const alg = key.algorithm as RsaHashedKeyAlgorithm | EcKeyAlgorithm;
  if (alg.name === 'ECDSA') {
    const curve = (alg as EcKeyAlgorithm).namedCurve;
    return { name: 'ECDSA', hash: curve === 'P-384' || curve === 'P-521' ? 'SHA-384' : 'SHA-256' };
  }
  return { name: alg.name, hash: 'SHA-256' };
}


export async function generateKeyPair(type: KeyType, crypto: CryptoProvider): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(algorithmFor(type), true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** A new key: its SubjectPublicKeyInfo (what gets certified) and its PKCS#8 PEM (what gets written). */
export async function newKey(type: KeyType, crypto: CryptoProvider, passphrase?: string): Promise<{ privateKey: CryptoKey; spki: Uint8Array; keyPem: string }> {
  const keys = await generateKeyPair(type, crypto);
  const [spki, keyPem] = await Promise.all([crypto.subtle.exportKey('spki', keys.publicKey), exportPrivateKeyPem(keys.privateKey, crypto, passphrase)]);
  return { privateKey: keys.privateKey, spki: new Uint8Array(spki), keyPem };
}

/**
 * PKCS#8 PEM. With a passphrase the key is wrapped as PBES2 (PBKDF2-HMAC-SHA256 + AES-256-CBC),
 * the form `openssl pkcs8 -topk8 -v2 aes256` writes and every consumer of encrypted PKCS#8 reads.
 */
export async function exportPrivateKeyPem(key: CryptoKey, crypto: CryptoProvider, passphrase?: string): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  if (passphrase === undefined) return toPem(der, 'PRIVATE KEY');
  const keyObject = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  return keyObject.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }) as string;
}

function importAlgorithm(keyObject: KeyObject): RsaHashedImportParams | EcKeyImportParams {
  const details = keyObject.asymmetricKeyDetails;
  switch (keyObject.asymmetricKeyType) {
    case 'rsa':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    case 'ec': {
      const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
      const namedCurve = curves[details?.namedCurve ?? ''];
      if (namedCurve) return { name: 'ECDSA', namedCurve };
      break;
    }
  }
  throw inputError('KEY_UNSUPPORTED', `unsupported key type ${keyObject.asymmetricKeyType ?? 'unknown'}${details?.namedCurve ? ` (${details.namedCurve})` : ''}`);
}

/** A passphrase-protected PEM key: encrypted PKCS#8, or legacy PKCS#1 with a Proc-Type header. */
export const isEncryptedKeyPem = (pem: string) => /-----BEGIN (ENCRYPTED PRIVATE KEY|RSA PRIVATE KEY-----\r?\nProc-Type: 4,ENCRYPTED)/.test(pem);

/**
 * Reads a private key in any PEM form OpenSSL writes (PKCS#8, encrypted PKCS#8, PKCS#1 "RSA PRIVATE KEY",
 * SEC1 "EC PRIVATE KEY"), so a CA made with the platform's old openssl recipe can be adopted as is.
 */
export async function importPrivateKeyPem(pem: string, crypto: CryptoProvider, passphrase?: string): Promise<CryptoKey> {
  const encrypted = isEncryptedKeyPem(pem);
  if (encrypted && passphrase === undefined) {
    throw inputError('PASSPHRASE_REQUIRED', 'the key is encrypted and no passphrase was given', 'pass --passphrase-file FILE or set PKICTL_CA_PASSPHRASE');
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem', passphrase: encrypted ? passphrase : undefined });
  } catch {
    if (encrypted) throw inputError('PASSPHRASE_WRONG', 'wrong passphrase for the encrypted key');
    throw inputError('KEY_MALFORMED', 'not a PEM private key');
  }
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  return crypto.subtle.importKey('pkcs8', der, importAlgorithm(keyObject), true, ['sign']);
}

/** The public half of a private CryptoKey (WebCrypto cannot derive it, node:crypto can). */
export async function publicKeyOf(privateKey: CryptoKey, crypto: CryptoProvider): Promise<CryptoKey> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', privateKey));
  const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return crypto.subtle.importKey('spki', spki, privateKey.algorithm as RsaHashedImportParams | EcKeyImportParams, true, ['verify']);
}
