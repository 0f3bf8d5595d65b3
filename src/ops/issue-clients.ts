import { inputError } from '../core/errors.js';
import { certFacts } from '../core/inspect.js';
import { assertTenantId } from '../core/tenant-id.js';
import { CertStore } from '../store/cert-store.js';
import type { IssuedPair, OpContext } from './context.js';
import { makePair, refuseOverwrite, type LeafProfile } from './issue-leaf.js';

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
