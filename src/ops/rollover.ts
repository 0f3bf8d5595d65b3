import { Certificate } from '../core/cert.js';
import { readCertificates } from '../core/cert-input.js';
import { toPem } from '../core/der-write.js';
import { failure } from '../core/errors.js';
import { issueRoot, type CertificateAuthority } from '../core/issue.js';
import { keyTypeOf, newKey, type KeyType } from '../core/keys.js';
import { subjectOf, type Subject } from '../core/subject.js';
import type { IndexEntry } from '../store/cert-index.js';
import type { CertStore } from '../store/cert-store.js';
import { rolloverStateText, type RolloverPhase, type RolloverState } from '../store/rollover-state.js';
import type { OpContext } from './context.js';
import { installIntermediate, signedByRoot, successorProfile } from './init-ca.js';
import { rotate, type RotateRequest, type RotateResult } from './rotate.js';

/*
 * A root rollover in three phases, each a command that is safe to rerun (it completes what a killed
 * run left, and says so when its phase is done already), each one audit line:
 *   begin   a new root B; ca.crt = A + B (consumers reload it and trust both); A still signs.
 *   switch  B signs: a new intermediate under B where the tree has one; ca.key = B's key (A's kept in
 *           authorities/); ca.crt = B + A; then every pair not signed by the CA that signs now is
 *           re-issued (rotate --old-ca --include-server). Old pairs keep working: A is still trusted.
 *   finish  ca.crt = B alone (refused while a deployed pair still chains to A, unless forced).
 * rollover/state.json records the phase; rollover/ holds B's pair until switch.
 */

export interface RolloverResult {
  dir: string;
  phase: RolloverPhase;
  /** false when the phase had been done already (a rerun). */
  changed: boolean;
  oldRoot: string;
  newRoot: string;
  /** switch: the pairs re-issued under the new root. */
  rotation?: RotateResult;
  /** finish: the pairs still under the old root when --force ended its trust. */
  strandedByForce?: string[];
  /** What each side does now. */
  next: string;
}

export interface RolloverBeginRequest {
  dir: string;
  actor?: string;
  passphrase?: string;
  subject?: Subject;
  days?: number;
  key?: KeyType;
  /** The tree's root profile lifetime, the default for the new root. */
  rootDays: number;
}

const pemOf = (certs: Certificate[]) => certs.map((c) => toPem(c.der, 'CERTIFICATE')).join('');
const readPemCerts = (pem: string, what: string) => readCertificates(Buffer.from(pem), what);

/** The next root's name: the same subject, its CN numbered ("Luzzi Root CA R2", then R3). */
export function nextRootSubject(old: Subject): Subject {
  const cn = old.CN ?? 'pkictl Root CA';
  const m = / R(\d+)$/.exec(cn);
  return { ...old, CN: m ? `${cn.slice(0, m.index)} R${Number(m[1]) + 1}` : `${cn} R2` };
}

const NEXT: Record<RolloverPhase, string> = {
  begun: 'deploy the new ca.crt (both roots) to the gateway and every connector and reload them; then: pkictl ca rollover switch',
  switched: 'deploy the new server and client pairs (rotate --exec, or your usual channel) and reload; once every connector holds a pair under the new root: pkictl ca rollover finish',
  finished: 'deploy the new ca.crt (new root alone) to the gateway and every connector and reload them: pairs under the old root are refused from then on',
};

async function rootBundle(store: CertStore): Promise<Certificate[]> {
  const { layout } = store;
  return readPemCerts(await store.readText(layout.caCert), layout.display(layout.caCert));
}

export async function rolloverBegin(request: RolloverBeginRequest, ctx: OpContext): Promise<RolloverResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const { layout } = store;
  return store.withLock(async () => {
    const state = store.readRollover();
    const dir = layout.display(layout.root);
    if (state && state.phase !== 'finished') return { dir, phase: state.phase, changed: false, oldRoot: state.oldRoot, newRoot: state.newRoot, next: NEXT[state.phase] };
    const roots = await rootBundle(store);
    // ca.crt = A + B already, B in rollover/, without the state: a begin killed before its last write.
    const next = store.readTreeFile(layout.nextRootCert).ok ? readPemCerts(await store.readText(layout.nextRootCert), layout.display(layout.nextRootCert))[0]! : undefined;
    const old = roots.find((r) => r.serialHex !== next?.serialHex)!;
    if (roots.length > 1 && !next) throw failure('ROLLOVER_STATE_INVALID', `${layout.display(layout.caCert)} holds ${roots.length} roots but no rollover is recorded; nothing was changed`, 'keep the root that signs alone in ca.crt, then begin again');
    let newRootPem: string;
    let facts;
    if (next) {
      newRootPem = toPem(next.der, 'CERTIFICATE');
    } else {
      const key = await newKey(request.key ?? keyTypeOf(old.spki), ctx.crypto, request.passphrase);
      const cert = await issueRoot({ subject: request.subject ?? nextRootSubject(subjectOf(old)), spki: key.spki, privateKey: key.privateKey, days: request.days ?? request.rootDays, now: ctx.now }, ctx.crypto);
      newRootPem = cert.pem;
      facts = cert.facts;
      await store.changeCaFiles({
        write: [{ path: layout.nextRootKey, data: key.keyPem, key: true }, { path: layout.nextRootCert, data: cert.pem }],
        newRoot: { facts: cert.facts, path: layout.nextRootCert },
        event: { action: 'rollover-begin', result: 'ok', kind: 'ca', serial: cert.facts.serial, detail: { step: 'new root made', replaces: old.serialHex } },
      });
    }
    const newRoot = readPemCerts(newRootPem, 'the new root')[0]!;
    const begun: RolloverState = { schemaVersion: 1, phase: 'begun', oldRoot: old.serialHex, newRoot: newRoot.serialHex, begunAt: ctx.now.toISOString() };
    await store.changeCaFiles({
      write: [{ path: layout.caCert, data: pemOf([old, newRoot]) }, { path: layout.rolloverState, data: rolloverStateText(begun) }],
      event: { action: 'rollover-begin', result: 'ok', kind: 'ca', serial: newRoot.serialHex, detail: { phase: 'begun', oldRoot: old.serialHex, trust: 'ca.crt holds both roots', ...(facts ? {} : { note: 'completed an interrupted begin' }) } },
    });
    return { dir, phase: 'begun', changed: true, oldRoot: old.serialHex, newRoot: newRoot.serialHex, next: NEXT.begun };
  });
}

export interface RolloverSwitchRequest {
  dir: string;
  actor?: string;
  passphrase?: string;
  /** How the pairs are re-issued (the tree's profiles, concurrency, --exec). */
  rotation: Omit<RotateRequest, 'dir' | 'actor' | 'tenants' | 'all' | 'oldCa' | 'dryRun' | 'reuseKey' | 'includeServer' | 'passphrase' | 'renewBefore'> & { renewBefore: RotateRequest['renewBefore'] };
}

export async function rolloverSwitch(request: RolloverSwitchRequest, ctx: OpContext): Promise<RolloverResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const { layout } = store;
  const dir = layout.display(layout.root);
  const state = await store.withLock(async () => {
    const state = store.readRollover();
    if (!state || state.phase === 'finished') throw failure('ROLLOVER_NOT_BEGUN', 'no root rollover in progress; nothing was changed', 'start one with: pkictl ca rollover begin');
    if (state.phase === 'switched') return state;
    const roots = await rootBundle(store);
    const oldRoot = roots.find((r) => r.serialHex === state.oldRoot);
    const newRoot = roots.find((r) => r.serialHex === state.newRoot);
    if (!oldRoot || !newRoot) throw failure('ROLLOVER_STATE_INVALID', `${layout.display(layout.caCert)} does not hold both roots of the rollover (${state.oldRoot}, ${state.newRoot})`, 'put both roots back in ca.crt (the new one is in rollover/ca.crt)');
    // B's key: in rollover/ until this step moves it to ca.key (a rerun after that finds it there).
    const keyFile = store.readTreeFile(layout.nextRootKey).ok ? layout.nextRootKey : layout.caKey;
    const b: CertificateAuthority = await store.loadCaFiles({ cert: layout.caCert, key: keyFile }, request.passphrase, ctx.crypto);
    if (new Certificate(b.der).serialHex !== newRoot.serialHex) throw failure('ROLLOVER_STATE_INVALID', `${layout.display(keyFile)} is not the new root's key`);
    const intermediate = await store.currentIntermediate();
    if (intermediate && !signedByRoot(intermediate, b)) await installIntermediate(store, successorProfile(intermediate), b, request.passphrase, ctx, 'rollover-switch', { newRoot: newRoot.serialHex });
    const oldKey = store.readTreeFile(layout.caKey);
    const keyPem = await store.readText(keyFile);
    // ca.key is A's unless a killed switch already put B's there (or A's key is offline).
    const oldKeyIsA = oldKey.ok && !Buffer.from(oldKey.bytes).equals(Buffer.from(keyPem));
    const switched: RolloverState = { ...state, phase: 'switched', switchedAt: ctx.now.toISOString() };
    await store.changeCaFiles({
      write: [
        { path: layout.retiredCert(oldRoot.serialHex), data: toPem(oldRoot.der, 'CERTIFICATE') },
        ...(oldKeyIsA ? [{ path: layout.retiredKey(oldRoot.serialHex), data: Buffer.from(oldKey.bytes).toString('utf8'), key: true }] : []),
        { path: layout.caKey, data: keyPem, key: true },
        { path: layout.caCert, data: pemOf([newRoot, oldRoot]) },
        { path: layout.rolloverState, data: rolloverStateText(switched) },
      ],
      remove: [layout.nextRootKey],
      event: { action: 'rollover-switch', result: 'ok', kind: 'ca', serial: newRoot.serialHex, detail: { phase: 'switched', oldRoot: oldRoot.serialHex, signs: intermediate ? 'a new intermediate under the new root' : 'the new root' } },
    });
    return switched;
  });
  // Every pair the CA signing now did not sign, re-issued one by one (each an atomic switch); a rerun
  // re-issues only what is left.
  const includeServer = store.slotState(store.serverSlot()) !== 'absent';
  const rotation = await rotate({ ...request.rotation, dir: request.dir, actor: request.actor, tenants: [], all: false, oldCa: true, dryRun: false, reuseKey: false, includeServer, passphrase: request.passphrase }, ctx);
  return { dir, phase: 'switched', changed: true, oldRoot: state.oldRoot, newRoot: state.newRoot, rotation, next: NEXT.switched };
}

/** Deployed pairs (status valid, unexpired) whose chain ends at `oldRoot`: signed by it or by an intermediate it signed. */
function underOldRoot(store: CertStore, oldRoot: string, now: Date): IndexEntry[] {
  const entries = store.index.entries();
  const cas = new Set([oldRoot, ...entries.filter((e) => e.kind === 'intermediate' && e.issuer === oldRoot).map((e) => e.serial)]);
  return entries.filter((e) => (e.kind === 'server' || e.kind === 'client') && e.status === 'valid' && new Date(e.notAfter) > now && cas.has(e.issuer ?? oldRoot));
}

export async function rolloverFinish(request: { dir: string; actor?: string; force: boolean }, ctx: OpContext): Promise<RolloverResult> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const { layout } = store;
  const dir = layout.display(layout.root);
  return store.withLock(async () => {
    const state = store.readRollover();
    if (!state) throw failure('ROLLOVER_NOT_BEGUN', 'no root rollover in progress; nothing was changed', 'start one with: pkictl ca rollover begin');
    if (state.phase === 'finished') return { dir, phase: 'finished', changed: false, oldRoot: state.oldRoot, newRoot: state.newRoot, next: NEXT.finished };
    if (state.phase === 'begun') throw failure('ROLLOVER_NOT_SWITCHED', 'the old root still signs: finishing now would cut off every pair; nothing was changed', 'run pkictl ca rollover switch first');
    await store.index.load();
    const stranded = underOldRoot(store, state.oldRoot, ctx.now);
    if (stranded.length > 0 && !request.force) {
      const shown = stranded.slice(0, 3).map((e) => e.tenantId ?? e.kind).join(', ');
      throw failure('ROLLOVER_PAIRS_LEFT', `${stranded.length} deployed pair(s) still chain to the old root (${shown}${stranded.length > 3 ? ', …' : ''}); nothing was changed`, 'pkictl rotate --old-ca --include-server (or pkictl ca rollover switch again), or --force to cut them off');
    }
    const newRoot = (await rootBundle(store)).find((r) => r.serialHex === state.newRoot);
    if (!newRoot) throw failure('ROLLOVER_STATE_INVALID', `${layout.display(layout.caCert)} does not hold the new root ${state.newRoot}`);
    const finished: RolloverState = { ...state, phase: 'finished', finishedAt: ctx.now.toISOString() };
    await store.changeCaFiles({
      write: [{ path: layout.caCert, data: pemOf([newRoot]) }, { path: layout.rolloverState, data: rolloverStateText(finished) }],
      remove: [layout.nextRootCert],
      event: { action: 'rollover-finish', result: 'ok', kind: 'ca', serial: newRoot.serialHex, detail: { phase: 'finished', oldRoot: state.oldRoot, trust: 'ca.crt holds the new root alone', ...(stranded.length > 0 && { forced: stranded.length }) } },
    });
    return { dir, phase: 'finished', changed: true, oldRoot: state.oldRoot, newRoot: state.newRoot, ...(stranded.length > 0 && { strandedByForce: stranded.map((e) => e.tenantId ?? e.kind) }), next: NEXT.finished };
  });
}
