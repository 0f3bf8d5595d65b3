import { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { toPem } from '../core/der-write.js';
import { failure, inputError } from '../core/errors.js';
import { issueRoot, type CertificateAuthority } from '../core/issue.js';
import { keyTypeOf, newKey } from '../core/keys.js';
import { subjectOf } from '../core/subject.js';
import type { IndexEntry } from '../store/cert-index.js';
import type { CertStore } from '../store/cert-store.js';
import { drillStateText, type DrillState } from '../store/rollover-state.js';
import type { OpContext } from './context.js';
import { regenerateCrl, regenerateRootCrl, ROOT_CRL_DAYS } from './crl.js';
import { installIntermediate, signedByRoot, successorProfile } from './init-ca.js';
import { loadRootCa } from './root-ca.js';
import { nextRootSubject } from './rollover.js';
import { rotate, type RotateRequest, type RotateResult } from './rotate.js';
import { loadSigningCa } from './signing-ca.js';

/*
 * The compromise drill (the design note: "if ca.key is compromised, rotate everything immediately").
 * Steps, each recorded in rollover/compromise.json once done, so that a rerun after a crash or a kill
 * resumes at the first step not done and never makes a second new CA:
 *   intermediate  new-ca (a new intermediate under the root) → revoke-ca (the old one in root-crl.pem,
 *                 cACompromise) → reissue (every pair, new keys) → revoke-leaves (all the old one
 *                 signed, cACompromise; crl.pem) → done
 *   root          new-ca (a new root; ca.crt = new + old while pairs move; a new intermediate under it
 *                 where the tree has one) → reissue → revoke-leaves (everything under the old root, in
 *                 the index) → cut-trust (ca.crt = new root alone; CRLs by the new CAs) → done
 * At every moment each pair on disk matches and chains to a root of the ca.crt on disk.
 */

export type DrillScope = 'intermediate' | 'root';

export interface CompromiseRequest {
  dir: string;
  actor?: string;
  scope: DrillScope;
  dryRun: boolean;
  /** Start a new drill although the last one of this scope finished (its new CA is compromised too). */
  again?: boolean;
  rootKey?: string;
  passphrase?: string;
  /** How pairs are re-issued (the tree's profiles, concurrency). */
  rotation: Pick<RotateRequest, 'clientProfile' | 'serverDays' | 'renewBefore' | 'concurrency' | 'onStart' | 'onProgress' | 'signal'>;
}

export interface CompromiseResult {
  dir: string;
  scope: DrillScope;
  dryRun: boolean;
  /** The compromised CA and its replacement (absent in a dry run before it exists). */
  oldCa: string;
  newCa?: string;
  /** The steps in order, each done, done by an earlier run, or planned (dry run). */
  steps: Array<{ step: string; status: 'done' | 'done before' | 'planned'; detail: string }>;
  /** Pairs re-issued with new keys by this run (a dry run: pairs that would be). */
  reissued: number;
  /** Certificates revoked by this run (a dry run: that would be). */
  revoked: number;
  /** Pairs that could not be re-issued: the drill stops before revoking; run it again. */
  failed: RotateResult['failed'];
  finished: boolean;
  durationMs: number;
  /** What the gateway and connector operators do now. */
  next: string;
}

const STEPS: Record<DrillScope, string[]> = {
  intermediate: ['new-ca', 'revoke-ca', 'reissue', 'revoke-leaves'],
  root: ['new-ca', 'reissue', 'revoke-leaves', 'cut-trust'],
};

const NEXT: Record<DrillScope, string> = {
  intermediate: 'load root-crl.pem and crl.pem on the gateway (and connectors that check CRLs) and reload; deploy every new pair and reload. ca.crt did not change',
  root: 'deploy the new ca.crt (the new root alone) and every new pair to the gateway and the connectors, and reload: the old root is no longer trusted. Move ca.key offline again (pkictl ca offline) once done',
};

/** Deployed or live certificates signed by one of `cas`: what a compromise of those CAs revokes. */
function signedBy(store: CertStore, cas: Set<string>, legacyRoot?: string): IndexEntry[] {
  return store.index.entries().filter((e) => e.status !== 'revoked' && e.kind !== 'ca' && cas.has(e.issuer ?? legacyRoot ?? ''));
}

async function readState(store: CertStore, scope: DrillScope, again: boolean): Promise<DrillState | undefined> {
  const state = store.readDrill();
  if (state?.finishedAt && state.scope === scope && !again) {
    throw failure('DRILL_DONE', `the compromise drill of ${state.finishedAt} replaced ${state.oldCa} with ${state.newCa ?? '?'}; nothing was changed`, `if ${state.newCa ?? 'the new CA'} is compromised too, start a new drill: pkictl ca compromised --scope ${scope} --again`);
  }
  if (!state || state.finishedAt) return undefined;
  if (state.scope !== scope) throw failure('DRILL_IN_PROGRESS', `a compromise drill of scope ${state.scope} is in progress (steps done: ${state.done.join(', ') || 'none'}); nothing was changed`, `finish it first: pkictl ca compromised --scope ${state.scope}`);
  return state;
}

export async function compromised(request: CompromiseRequest, ctx: OpContext): Promise<CompromiseResult> {
  const started = ctx.now.getTime();
  const t0 = performance.now();
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const { layout } = store;
  const dir = layout.display(layout.root);
  const rollover = store.readRollover();
  if (rollover && rollover.phase !== 'finished') throw failure('ROLLOVER_IN_PROGRESS', `a root rollover is ${rollover.phase}; nothing was changed`, 'finish it (pkictl ca rollover switch, finish) before the drill, or run the drill of scope root, which replaces both roots');
  const intermediate = await store.currentIntermediate();
  if (request.scope === 'intermediate' && !intermediate) throw inputError('NO_INTERMEDIATE', `${dir} has no intermediate: the root signs every leaf`, 'use --scope root');
  await store.index.load();
  let state = await readState(store, request.scope, request.again === true);
  const roots = readCertificates(Buffer.from(await store.readText(layout.caCert)), layout.display(layout.caCert));
  let oldCa = state?.oldCa ?? (request.scope === 'intermediate' ? intermediate!.serialHex : roots[0]!.serialHex);
  const underOld = () => {
    if (request.scope === 'intermediate') return new Set([oldCa]);
    return new Set([oldCa, ...store.index.entries().filter((e) => e.kind === 'intermediate' && (e.issuer ?? oldCa) === oldCa).map((e) => e.serial)]);
  };
  const pairs = (await store.tenantDirs()).length + (store.slotState(store.serverSlot()) === 'absent' ? 0 : 1);

  if (request.dryRun) {
    const victims = signedBy(store, underOld(), roots[0]!.serialHex);
    const done = new Set(state?.done ?? []);
    const detail: Record<string, string> = {
      'new-ca': request.scope === 'intermediate' ? 'a new intermediate (new key) signed by the root' : `a new root (new key)${intermediate ? ' and a new intermediate under it' : ''}; ca.crt holds both roots while the pairs move`,
      'revoke-ca': `revoke intermediate ${oldCa} in root-crl.pem (cACompromise)`,
      reissue: `re-issue every pair (${pairs}) with new keys under the new CA`,
      'revoke-leaves': `revoke the ${victims.length} certificate(s) the compromised CA signed (cACompromise) and publish crl.pem`,
      'cut-trust': `ca.crt = the new root alone: the old root ${oldCa} is no longer trusted`,
    };
    return {
      dir, scope: request.scope, dryRun: true, oldCa, ...(state?.newCa && { newCa: state.newCa }),
      steps: STEPS[request.scope].map((step) => ({ step, status: done.has(step) ? 'done before' : 'planned', detail: detail[step]! })),
      reissued: pairs, revoked: victims.length + (request.scope === 'intermediate' && !done.has('revoke-ca') ? 1 : 0), failed: [], finished: false, durationMs: 0, next: NEXT[request.scope],
    };
  }

  // The root key: the intermediate scope needs it to sign the new intermediate and root-crl.pem.
  const root = request.scope === 'intermediate' ? await loadRootCa(store, request.rootKey, request.passphrase, ctx) : undefined;
  const steps: CompromiseResult['steps'] = [];
  let reissued = 0;
  let revoked = 0;
  const save = async (next: DrillState, step: string, detail: string) => {
    state = { ...next, done: [...next.done, step] };
    await store.changeCaFiles({ write: [{ path: layout.drillState, data: drillStateText(state) }], event: { action: 'compromise', result: 'ok', kind: request.scope === 'root' ? 'ca' : 'intermediate', serial: oldCa, detail: { scope: request.scope, step, ...(state.newCa && { newCa: state.newCa }) } } });
    steps.push({ step, status: 'done', detail });
  };
  if (!state) {
    // Recorded before anything changes (a rerun must know which CA was compromised), under the lock
    // with a second look: of two drills started at once, the second resumes the first's.
    state = await store.withLock(async () => {
      const started = await readState(store, request.scope, request.again === true);
      if (started) return started;
      const fresh: DrillState = { schemaVersion: 1, scope: request.scope, oldCa, startedAt: ctx.now.toISOString(), done: [] };
      await store.changeCaFiles({ write: [{ path: layout.drillState, data: drillStateText(fresh) }], event: { action: 'compromise', result: 'ok', kind: request.scope === 'root' ? 'ca' : 'intermediate', serial: oldCa, detail: { scope: request.scope, step: 'started' } } });
      return fresh;
    });
    oldCa = state.oldCa;
  }
  for (const step of STEPS[request.scope]) if (state.done.includes(step)) steps.push({ step, status: 'done before', detail: '' });

  if (!state.done.includes('new-ca')) {
    let newCa: string;
    if (request.scope === 'intermediate') {
      const current = await store.currentIntermediate();
      // A kill after the new intermediate was in place but before the step was recorded: it is the new one.
      if (current && current.serialHex !== oldCa) newCa = current.serialHex;
      else {
        newCa = (await installIntermediate(store, successorProfile(intermediate!), root!, request.passphrase, ctx, 'compromise', { scope: 'intermediate', replaces: oldCa })).cert.facts.serial;
      }
    } else {
      newCa = await newRootFor(store, roots, oldCa, request.passphrase, ctx);
      const b = await store.loadCaFiles({ cert: layout.caCert, key: layout.caKey }, request.passphrase, ctx.crypto);
      const current = await store.currentIntermediate();
      if (current && !signedByRoot(current, b)) await installIntermediate(store, successorProfile(current), b, request.passphrase, ctx, 'compromise', { scope: 'root', newRoot: newCa });
    }
    await save({ ...state, newCa }, 'new-ca', `new ${request.scope} ${newCa}`);
  }

  if (request.scope === 'intermediate' && !state.done.includes('revoke-ca')) {
    await store.revoke([oldCa], 'cACompromise', ctx.now);
    const crl = await regenerateRootCrl(store, root!, ROOT_CRL_DAYS, ctx);
    revoked++;
    await save(state, 'revoke-ca', `intermediate ${oldCa} revoked in ${crl.path} (number ${crl.number})`);
  }

  if (!state.done.includes('reissue')) {
    const rotation = await rotate({ ...request.rotation, dir: request.dir, actor: request.actor, tenants: [], all: false, oldCa: true, dryRun: false, reuseKey: false, includeServer: store.slotState(store.serverSlot()) !== 'absent', passphrase: request.passphrase }, ctx);
    reissued = rotation.rotated.length;
    // Revoked tenants are skipped by rotate: their old pairs are revoked below anyway.
    const failed = [...rotation.failed, ...rotation.notStarted.map((p) => ({ kind: p.kind, tenantId: p.tenantId, serial: p.serial, error: 'not started (interrupted)' }))];
    if (failed.length > 0) {
      return { dir, scope: request.scope, dryRun: false, oldCa, newCa: state.newCa, steps, reissued, revoked, failed, finished: false, durationMs: Math.round(performance.now() - t0), next: 'fix what failed (see failed), then run the same command again: it resumes at the re-issue' };
    }
    await save(state, 'reissue', `${reissued} pair(s) re-issued with new keys`);
  }

  if (!state.done.includes('revoke-leaves')) {
    await store.index.load();
    const victims = signedBy(store, underOld(), request.scope === 'root' ? oldCa : undefined);
    await store.revoke(victims.map((e) => e.serial), 'cACompromise', ctx.now);
    revoked += victims.length;
    const ca = await loadSigningCa(store, request.passphrase, ctx);
    const crl = await regenerateCrl(store, ca, 7, ctx);
    await save(state, 'revoke-leaves', `${victims.length} certificate(s) revoked (cACompromise); ${crl.path} number ${crl.number}`);
  }

  if (request.scope === 'root' && !state.done.includes('cut-trust')) {
    const newRoot = readCertificates(Buffer.from(await store.readText(layout.caCert)), layout.display(layout.caCert)).find((r) => r.serialHex === state!.newCa)!;
    await store.revoke([oldCa], 'cACompromise', ctx.now);
    await store.changeCaFiles({ write: [{ path: layout.caCert, data: toPem(newRoot.der, 'CERTIFICATE') }], event: { action: 'compromise', result: 'ok', kind: 'ca', serial: oldCa, detail: { scope: 'root', step: 'trust', trust: 'ca.crt holds the new root alone' } } });
    const b: CertificateAuthority = await store.loadCaFiles({ cert: layout.caCert, key: layout.caKey }, request.passphrase, ctx.crypto);
    await regenerateRootCrl(store, b, ROOT_CRL_DAYS, ctx);
    await save(state, 'cut-trust', `ca.crt = new root ${state.newCa} alone`);
  }

  const durationMs = Math.round(performance.now() - t0);
  const finished: DrillState = { ...state, finishedAt: new Date(started + (performance.now() - t0)).toISOString() };
  await store.changeCaFiles({
    write: [{ path: layout.drillState, data: drillStateText(finished) }],
    event: { action: 'compromise', result: 'ok', kind: request.scope === 'root' ? 'ca' : 'intermediate', serial: oldCa, detail: { scope: request.scope, step: 'finished', oldCa, newCa: state.newCa ?? '', steps: state.done.join(','), reissued, revoked, durationMs } },
  });
  return { dir, scope: request.scope, dryRun: false, oldCa, newCa: state.newCa, steps, reissued, revoked, failed: [], finished: true, durationMs, next: NEXT[request.scope] };
}

/**
 * The new root of a root compromise (or the one a killed run made): ca.key = its key, ca.crt = new +
 * old (both trusted while the pairs move), the old root kept in authorities/. Returns its serial.
 */
async function newRootFor(store: CertStore, roots: Certificate[], oldCa: string, passphrase: string | undefined, ctx: OpContext): Promise<string> {
  const { layout } = store;
  const old = roots.find((r) => r.serialHex === oldCa)!;
  const made = roots.find((r) => r.serialHex !== oldCa);
  // The new key waits in rollover/ until ca.crt names its root, then becomes ca.key: a kill anywhere
  // leaves ca.key matching a root of ca.crt, and the rerun completes the move.
  const moveKey = (keyPem: string) => store.changeCaFiles({ write: [{ path: layout.caKey, data: keyPem, key: true }], remove: [layout.nextRootKey], event: { action: 'compromise', result: 'ok', kind: 'ca', serial: made?.serialHex ?? oldCa, detail: { scope: 'root', step: 'new root key in place' } } });
  if (made) {
    if (store.readTreeFile(layout.nextRootKey).ok) await moveKey(await store.readText(layout.nextRootKey));
    return made.serialHex;
  }
  const key = await newKey(keyTypeOf(old.spki), ctx.crypto, passphrase);
  const days = Math.max(1, Math.round((old.notAfter.getTime() - old.notBefore.getTime()) / 86_400_000));
  const cert = await issueRoot({ subject: nextRootSubject(subjectOf(old)), spki: key.spki, privateKey: key.privateKey, days, now: ctx.now }, ctx.crypto);
  const oldKey = store.readTreeFile(layout.caKey);
  await store.changeCaFiles({
    write: [
      { path: layout.retiredCert(oldCa), data: toPem(old.der, 'CERTIFICATE') },
      ...(oldKey.ok ? [{ path: layout.retiredKey(oldCa), data: Buffer.from(oldKey.bytes).toString('utf8'), key: true }] : []),
      { path: layout.nextRootKey, data: key.keyPem, key: true },
      { path: layout.caCert, data: cert.pem + toPem(old.der, 'CERTIFICATE') },
    ],
    newRoot: { facts: cert.facts, path: layout.caCert },
    event: { action: 'compromise', result: 'ok', kind: 'ca', serial: cert.facts.serial, detail: { scope: 'root', step: 'new root', replaces: oldCa } },
  });
  await moveKey(key.keyPem);
  return cert.facts.serial;
}
