import { Certificate } from '../core/cert.js';
import { keyTypeOf, type KeyType } from '../core/keys.js';
import { subjectOf, type Subject } from '../core/subject.js';
import type { IssuedPair, IssueResult, OpContext } from './context.js';
import { INTERMEDIATE_DAYS, installIntermediate, intermediateSubject } from './init-ca.js';
import { loadRootCa } from './root-ca.js';
import { warnShortened } from './signing-ca.js';

export interface IntermediateRenewRequest {
  dir: string;
  actor?: string;
  /** The root key when it is kept offline (--root-key). */
  rootKey?: string;
  passphrase?: string;
  /** Defaults: the current intermediate's subject and key type (the root's when there is none), INTERMEDIATE_DAYS. */
  subject?: Subject;
  days?: number;
  key?: KeyType;
}

/**
 * A new issuing intermediate (new key) signed by the root: new leaves use it; the old one stays in the
 * index and in the chain of the leaves it signed, and keeps signing their CRL (authorities/). ca.crt
 * does not change, so the gateway and the connectors notice nothing. A tree without an intermediate
 * gets its first one.
 */
export async function renewIntermediate(request: IntermediateRenewRequest, ctx: OpContext): Promise<IssueResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const root = await loadRootCa(store, request.rootKey, request.passphrase, ctx);
  const { layout } = store;
  const current = await store.currentIntermediate();
  const rootCert = new Certificate(root.der);
  const profile = {
    subject: request.subject ?? (current ? subjectOf(current) : intermediateSubject(subjectOf(rootCert))),
    days: request.days ?? INTERMEDIATE_DAYS,
    key: request.key ?? keyTypeOf((current ?? rootCert).spki),
  };
  const detail: Record<string, string> = current ? { replaces: current.serialHex } : { note: 'the first intermediate of this tree' };
  const made = await installIntermediate(store, profile, root, request.passphrase, ctx, 'renew', detail);
  const paths = made.paths;
  warnShortened([{ who: 'the intermediate', shortened: made.cert.shortened }], ctx);
  if (!current) ctx.notify('this tree had no intermediate: from now on it signs every leaf and crl.pem, and ca.key can go offline (pkictl ca offline --to DIR)');
  const pair: IssuedPair = {
    kind: 'intermediate',
    cert: layout.inTree(paths.cert),
    key: layout.inTree(paths.key),
    keyType: made.key,
    ...made.cert.facts,
    ...(current && { replaced: { serial: current.serialHex, notAfter: current.notAfter.toISOString() } }),
    ...(made.cert.shortened && { warning: made.cert.shortened }),
  };
  return { dir: layout.display(layout.root), issued: [pair] };
}
