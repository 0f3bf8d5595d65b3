import type { CreatedToken, ListedToken } from '../../ops/tokens.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderTokenCreated, renderTokens } from '../render/connector.js';
import { actorOption, actorSchema, dirOption, durationSchema, jsonOption, listSchema, switchSchema, templateOption, textSchema } from '../shared-options.js';

const createSchema = (zod: Zod) =>
  zod.object({ dir: textSchema(zod), json: switchSchema(zod), actor: actorSchema(zod), template: listSchema(zod, textSchema(zod)), ttl: zod.optional(durationSchema(zod)), args: textSchema(zod) });

export const tokenCreateCommand: CommandSpec<ReturnType<typeof createSchema>, CreatedToken> = {
  name: 'create',
  summary: "a one-time token for a tenant's first enrollment with pkictl serve (printed once; only its hash is kept)",
  arguments: '<tenant-id>',
  examples: [
    'pkictl token create bf935f05-bf2e-4138-bfec-f4baaf99fecc               # valid 24h; the token alone on stdout',
    'TOKEN=$(pkictl token create bf935f05-bf2e-4138-bfec-f4baaf99fecc --ttl 2h)',
    'pkictl token create bf935f05-bf2e-4138-bfec-f4baaf99fecc --json        # {"token": …, "id": …, "expiresAt": …}',
  ],
  exitCodes: ['0  created', '1  unexpected failure', '2  bad tenant id or --ttl (at most 30d), no CA'],
  options(c) {
    dirOption(c);
    c.option('--ttl <duration>', 'how long the token may be used: 30m, 24h, 7d (default 24h, at most 30d)');
    templateOption(c, 'client');
    actorOption(c);
    jsonOption(c);
  },
  schema: createSchema,
  async run(o, ctx) {
    const [{ createToken, DEFAULT_TOKEN_TTL_MS }, { profilesFor }] = await Promise.all([import('../../ops/tokens.js'), import('../../store/templates.js')]);
    const profile = (await profilesFor(o.dir, o.template, ['client'])).client;
    return createToken({ dir: o.dir, tenant: o.args, ttlMs: o.ttl ?? DEFAULT_TOKEN_TTL_MS, pattern: profile.tenantIdPattern, actor: o.actor }, ctx);
  },
  render: (r, { json }) => (json ? { document: { ...r } } : { stdout: `${r.token}\n`, stderr: renderTokenCreated(r) }),
};

const listSchemaFor = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod), all: switchSchema(zod), tenant: zod.optional(textSchema(zod)) });

export const tokenListCommand: CommandSpec<ReturnType<typeof listSchemaFor>, { dir: string; at: string; tokens: ListedToken[] }> = {
  name: 'list',
  summary: 'enrollment tokens still open (--all: used, expired and revoked ones too); never the tokens themselves',
  examples: ['pkictl token list', 'pkictl token list --all --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc', 'pkictl token list --json'],
  exitCodes: ['0  listed', '2  bad flag, no CA'],
  options(c) {
    dirOption(c);
    c.option('--all', 'also used, expired and revoked tokens');
    c.option('--tenant <id>', "only this tenant's tokens");
    jsonOption(c);
  },
  schema: listSchemaFor,
  async run(o, ctx) {
    const { listTokens } = await import('../../ops/tokens.js');
    return listTokens({ dir: o.dir, tenant: o.tenant, all: o.all }, ctx);
  },
  render: (r, { json }) => (json ? { document: { ...r } } : { stdout: renderTokens(r.tokens) }),
};

const revokeSchema = (zod: Zod) =>
  zod
    .object({ dir: textSchema(zod), json: switchSchema(zod), actor: actorSchema(zod), tenant: zod.optional(textSchema(zod)), args: listSchema(zod, textSchema(zod)) })
    .check(zod.refine((o) => o.args.length > 0 || o.tenant !== undefined, { message: 'give token ids, or --tenant ID', path: ['args'] }));

export const tokenRevokeCommand: CommandSpec<ReturnType<typeof revokeSchema>, { dir: string; revoked: ListedToken[] }> = {
  name: 'revoke',
  summary: 'make open enrollment tokens unusable, by id (from token list) or every open token of a tenant',
  arguments: '[token-id...]',
  examples: ['pkictl token revoke 3f9a0c1d2e4b5a69', 'pkictl token revoke --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc'],
  exitCodes: ['0  revoked (or nothing was open)', '1  unexpected failure', '2  unknown id, a token used or revoked already, no CA (nothing revoked)'],
  options(c) {
    dirOption(c);
    c.option('--tenant <id>', "every open token of this tenant");
    actorOption(c);
    jsonOption(c);
  },
  schema: revokeSchema,
  async run(o, ctx) {
    const { revokeTokens } = await import('../../ops/tokens.js');
    return revokeTokens({ dir: o.dir, ids: o.args, tenant: o.tenant, actor: o.actor }, ctx);
  },
  render: (r, { json }) => (json ? { document: { ...r } } : { stderr: r.revoked.length === 0 ? 'no open token to revoke\n' : r.revoked.map((t) => `revoked token ${t.id} (tenant ${t.tenantId})`).join('\n') + '\n' }),
};
