import { createHash } from 'node:crypto';
import { inputError, refusal } from '../core/errors.js';
import { assertTenantId, type TenantIdPattern } from '../core/tenant-id.js';
import type { TokenRecord } from '../store/cert-index.js';
import type { OpContext } from './context.js';

/**
 * One-time enrollment tokens (pkictl token create; presented to pkictl serve as the HTTP Basic
 * password of a first enrollment). 32 random bytes: guessing one is as hopeless as guessing a key, so
 * a plain SHA-256 is the right way to keep it (a slow hash protects low-entropy passwords, which these
 * are not). Only the hash is stored; the token is shown once.
 */
const TOKEN_BYTES = 32;
export const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;
/** A token never lives longer than this: it is a bearer credential. */
export const MAX_TOKEN_TTL_MS = 30 * 24 * 3_600_000;

export const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** What a token's state is at `now`, for listings. */
export type TokenState = 'open' | 'used' | 'expired' | 'revoked';
export function tokenState(t: TokenRecord, now: Date): TokenState {
  if (t.usedAt) return 'used';
  if (t.revokedAt) return 'revoked';
  return new Date(t.expiresAt) <= now ? 'expired' : 'open';
}

export interface CreatedToken {
  dir: string;
  /** The token itself: shown once, never stored. */
  token: string;
  id: string;
  tenantId: string;
  expiresAt: string;
}

export async function createToken(request: { dir: string; tenant: string; ttlMs: number; pattern?: TenantIdPattern; actor?: string }, ctx: OpContext): Promise<CreatedToken> {
  const tenantId = assertTenantId(request.tenant, request.pattern);
  if (request.ttlMs > MAX_TOKEN_TTL_MS) throw inputError('TTL_INVALID', `invalid value for --ttl: a token lives at most 30d (it is a bearer credential)`);
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const token = Buffer.from(ctx.crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString('base64url');
  const sha256 = tokenHash(token);
  const record: TokenRecord = { id: sha256.slice(0, 16), sha256, tenantId, createdAt: ctx.now.toISOString(), expiresAt: new Date(ctx.now.getTime() + request.ttlMs).toISOString() };
  await store.addToken(record);
  return { dir: store.layout.display(store.layout.root), token, id: record.id, tenantId, expiresAt: record.expiresAt };
}

export interface ListedToken {
  id: string;
  tenantId: string;
  state: TokenState;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
}

export async function listTokens(request: { dir: string; tenant?: string; all: boolean }, ctx: OpContext): Promise<{ dir: string; at: string; tokens: ListedToken[] }> {
  const store = await ctx.openStore(request.dir);
  await store.assertCa();
  await store.index.load();
  const tokens = store.index
    .tokens()
    .filter((t) => request.tenant === undefined || t.tenantId === request.tenant)
    .map((t) => ({ id: t.id, tenantId: t.tenantId, state: tokenState(t, ctx.now), createdAt: t.createdAt, expiresAt: t.expiresAt, usedAt: t.usedAt ?? null, revokedAt: t.revokedAt ?? null }))
    .filter((t) => request.all || t.state === 'open');
  return { dir: store.layout.display(store.layout.root), at: ctx.now.toISOString(), tokens };
}

/** Revokes open tokens by id (or every open token of a tenant); ids that are not open are named. */
export async function revokeTokens(request: { dir: string; ids: string[]; tenant?: string; actor?: string }, ctx: OpContext): Promise<{ dir: string; revoked: ListedToken[] }> {
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  const revoked = await store.withLock(async () => {
    const all = store.index.tokens();
    const ids = [...request.ids.map((id) => id.toLowerCase()), ...(request.tenant === undefined ? [] : all.filter((t) => t.tenantId === request.tenant).map((t) => t.id))];
    for (const id of request.ids) {
      const found = all.find((t) => t.id === id.toLowerCase());
      if (!found) throw inputError('TOKEN_UNKNOWN', `no token with id ${id}; nothing was revoked`, 'pkictl token list --all shows every token');
      const state = tokenState(found, ctx.now);
      if (state !== 'open') throw inputError('TOKEN_NOT_OPEN', `token ${found.id} is ${state} already; nothing was revoked`);
    }
    return store.revokeTokens(ids, ctx.now);
  });
  return { dir: store.layout.display(store.layout.root), revoked: revoked.map((t) => ({ id: t.id, tenantId: t.tenantId, state: 'revoked' as const, createdAt: t.createdAt, expiresAt: t.expiresAt, usedAt: null, revokedAt: t.revokedAt ?? null })) };
}

/**
 * The token check of a first enrollment, run by the store under the lock on the record the hash
 * finds: unknown, used, revoked, expired or for another tenant are refused alike for the client
 * (TOKEN_REFUSED), with the exact reason kept for the log.
 */
export function tokenChecker(tenantId: string, now: Date) {
  return (record: TokenRecord | undefined): TokenRecord => {
    const why = !record ? 'unknown token' : record.tenantId !== tenantId ? `token for tenant ${record.tenantId}` : tokenState(record, now) !== 'open' ? `token ${tokenState(record, now)}` : undefined;
    if (why) throw refusal('TOKEN_REFUSED', 'the enrollment token is unknown, used, expired, revoked or for another tenant', why);
    return record!;
  };
}
