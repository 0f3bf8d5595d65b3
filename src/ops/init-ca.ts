import { issueRoot } from '../core/issue.js';
import { newKey, type KeyType } from '../core/keys.js';
import type { Subject } from '../core/subject.js';
import type { Role } from '../store/templates.js';
import type { IssueResult, OpContext } from './context.js';

export interface InitCaRequest {
  dir: string;
  /** Who is acting, for the audit log (default: the caller's, see OpContext.openStore). */
  actor?: string;
  subject: Subject;
  days: number;
  key: KeyType;
  passphrase?: string;
  /** The profiles to record in the tree (certs/pkictl.json), as their JSON documents. */
  profiles?: Record<Role, unknown>;
}

export async function initCa(request: InitCaRequest, ctx: OpContext): Promise<IssueResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertNoCa(); // before the slow key generation
  const key = await newKey(request.key, ctx.crypto, request.passphrase);
  const cert = await issueRoot({ subject: request.subject, spki: key.spki, privateKey: key.privateKey, days: request.days, now: ctx.now }, ctx.crypto);
  if (request.passphrase === undefined) {
    ctx.notify('ca.key is written unencrypted: pass --passphrase-file FILE or set PKICTL_CA_PASSPHRASE to encrypt it');
  }
  const paths = await store.saveCa({ certPem: cert.pem, keyPem: key.keyPem }, cert.facts, request.profiles);
  const { layout } = store;
  return { dir: layout.display(layout.root), issued: [{ kind: 'ca', cert: layout.inTree(paths.cert), key: layout.inTree(paths.key), keyType: request.key, ...cert.facts }] };
}
