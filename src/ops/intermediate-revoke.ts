import { failure, inputError } from '../core/errors.js';
import type { RevocationReason } from '../core/revocation.js';
import type { OpContext } from './context.js';
import { regenerateRootCrl, ROOT_CRL_DAYS, type CrlResult } from './crl.js';
import { certificateRecord, type CertificateRecord } from './records.js';
import { loadRootCa } from './root-ca.js';

export interface IntermediateRevokeRequest {
  dir: string;
  actor?: string;
  serial: string;
  reason: RevocationReason;
  rootKey?: string;
  passphrase?: string;
  /** Revoke the intermediate that signs now (issuance stops until a new one exists). */
  force: boolean;
  /** Days until root-crl.pem's nextUpdate. */
  crlDays?: number;
}

export interface IntermediateRevokeResult {
  dir: string;
  revoked: CertificateRecord[];
  crl: CrlResult;
}

/**
 * Revokes an intermediate in the index and publishes root-crl.pem, signed by the root: relying parties
 * that load it refuse every leaf the intermediate signed. The current intermediate only with `force`:
 * revoking it stops issuance (the compromise drill makes its replacement first).
 */
export async function revokeIntermediate(request: IntermediateRevokeRequest, ctx: OpContext): Promise<IntermediateRevokeResult> {
  const serial = request.serial.toLowerCase().replace(/:/g, '');
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  const root = await loadRootCa(store, request.rootKey, request.passphrase, ctx);
  const { layout } = store;
  return store.withLock(async () => {
    await store.index.load();
    const matches = store.index.entries().filter((e) => e.kind === 'intermediate' && e.serial.startsWith(serial));
    if (matches.length !== 1 || serial.length < 8) {
      throw inputError(matches.length > 1 ? 'SERIAL_AMBIGUOUS' : 'SERIAL_UNKNOWN', `serial ${request.serial} ${matches.length > 1 ? 'matches several intermediates' : 'is not an intermediate of this tree'}${serial.length < 8 ? ' (give at least 8 hex digits)' : ''}; nothing was revoked`, 'pkictl ca status lists the intermediates');
    }
    const entry = matches[0]!;
    if (entry.serial === (await store.currentIntermediate())?.serialHex && !request.force) {
      throw failure('INTERMEDIATE_IN_USE', `${entry.serial} is the intermediate that signs now: revoking it stops all issuance and cuts off every pair it signed; nothing was revoked`, 'make its replacement first (pkictl intermediate renew, then rotate --all), or run the compromise drill: pkictl ca compromised --scope intermediate; --force revokes it anyway');
    }
    const revoked = await store.revoke([entry.serial], request.reason, ctx.now);
    const crl = await regenerateRootCrl(store, root, request.crlDays ?? ROOT_CRL_DAYS, ctx);
    return { dir: layout.display(layout.root), revoked: revoked.map(certificateRecord), crl };
  });
}
