import { inputError } from '../core/errors.js';
import { issueLeaf, type CertificateAuthority, type LeafRole } from '../core/issue.js';
import { certFacts } from '../core/inspect.js';
import { exportPrivateKeyPem, generateKeyPair, type KeyType } from '../core/keys.js';
import { certificateToPem } from '../core/pem.js';
import { formatSan, type San } from '../core/san.js';
import { assertTenantId } from '../core/tenant-id.js';
import type { Subject } from '../core/subject.js';
import { CertStore, type PairPaths, type PemPair } from '../store/cert-store.js';
import type { IssuedPair, OpContext } from './context.js';

interface LeafProfile {
  subject: Subject;
  days: number;
  key: KeyType;
}

/** Key generation and signing, the part shared by every leaf: the key is made here, then certified. */
async function makePair(role: LeafRole, subject: Subject, sans: San[] | undefined, profile: LeafProfile, ca: CertificateAuthority, ctx: OpContext) {
  const keys = await generateKeyPair(profile.key, ctx.crypto);
  const cert = await issueLeaf({ role, subject, publicKey: keys.publicKey, sans, days: profile.days, now: ctx.now }, ca, ctx.crypto);
  const pem: PemPair = { certPem: certificateToPem(cert), keyPem: await exportPrivateKeyPem(keys.privateKey, ctx.crypto) };
  return { cert, pem };
}

async function refuseOverwrite(store: CertStore, pairs: PairPaths[], force: boolean) {
  if (force) return;
  const taken = await store.existing(pairs);
  if (taken.length > 0) {
    const shown = taken.length > 3 ? `${taken.slice(0, 3).join(', ')} and ${taken.length - 3} more` : taken.join(', ');
    throw inputError('ALREADY_EXISTS', `${shown} already exist${taken.length === 1 ? 's' : ''}; nothing was written`, 'pass --force to replace them');
  }
}

export interface IssueServerRequest extends LeafProfile {
  dir: string;
  sans: San[];
  force: boolean;
  passphrase?: string;
}

export async function issueServer(request: IssueServerRequest, ctx: OpContext): Promise<IssuedPair> {
  const store = new CertStore(request.dir);
  const ca = await store.loadCa(request.passphrase, ctx.crypto);
  await refuseOverwrite(store, [{ cert: store.layout.serverCert, key: store.layout.serverKey }], request.force);
  const { cert, pem } = await makePair('server', request.subject, request.sans, request, ca, ctx);
  const paths = await store.saveServer(pem);
  return { kind: 'server', ...paths, keyType: request.key, ...certFacts(cert), sans: request.sans.map(formatSan) };
}

export interface IssueClientsRequest extends LeafProfile {
  dir: string;
  tenantIds: string[];
  tenantIdPattern?: string;
  force: boolean;
  passphrase?: string;
}

export async function issueClients(request: IssueClientsRequest, ctx: OpContext): Promise<IssuedPair[]> {
  const ids = request.tenantIds;
  if (ids.length === 0) throw inputError('TENANT_ID_MISSING', 'no tenant id given');
  const bad = ids.flatMap((id) => {
    try { assertTenantId(id, request.tenantIdPattern); return []; } catch (error) { return [(error as Error).message]; }
  });
  if (bad.length > 0) throw inputError('TENANT_ID_INVALID', bad.length === 1 ? bad[0]! : `${bad.length} invalid tenant ids: ${bad.join('; ')}`);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw inputError('TENANT_ID_DUPLICATE', `tenant id ${duplicate} is given twice`);

  const store = new CertStore(request.dir);
  const ca = await store.loadCa(request.passphrase, ctx.crypto);
  await refuseOverwrite(store, ids.map((id) => store.clientPaths(id, request.tenantIdPattern)), request.force);
  const issued: IssuedPair[] = [];
  for (const tenantId of ids) {
    const { cert, pem } = await makePair('client', { ...request.subject, CN: tenantId }, undefined, request, ca, ctx);
    const paths = await store.saveClient(tenantId, pem, request.tenantIdPattern);
    issued.push({ kind: 'client', tenantId, ...paths, keyType: request.key, ...certFacts(cert) });
  }
  return issued;
}
