import { issueRoot } from '../core/issue.js';
import { exportPrivateKeyPem, generateKeyPair, type KeyType } from '../core/keys.js';
import { certFacts } from '../core/inspect.js';
import { certificateToPem } from '../core/pem.js';
import type { Subject } from '../core/subject.js';
import { CertStore } from '../store/cert-store.js';
import type { IssuedPair, OpContext } from './context.js';

export interface InitCaRequest {
  dir: string;
  subject: Subject;
  days: number;
  key: KeyType;
  passphrase?: string;
}

export async function initCa(request: InitCaRequest, ctx: OpContext): Promise<IssuedPair> {
  const store = new CertStore(request.dir, { onLockWait: ctx.notify });
  await store.assertNoCa(); // before the slow key generation
  const keys = await generateKeyPair(request.key, ctx.crypto);
  const cert = await issueRoot({ subject: request.subject, keys, days: request.days, now: ctx.now }, ctx.crypto);
  const keyPem = await exportPrivateKeyPem(keys.privateKey, ctx.crypto, request.passphrase);
  if (request.passphrase === undefined) {
    ctx.notify('ca.key is written unencrypted: pass --passphrase-file FILE or set PKICTL_CA_PASSPHRASE to encrypt it');
  }
  const paths = await store.saveCa({ certPem: certificateToPem(cert), keyPem });
  return { kind: 'ca', cert: paths.cert, key: paths.key, keyType: request.key, ...certFacts(cert) };
}
