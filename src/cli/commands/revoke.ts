import type { RevokeResult } from '../../ops/revoke.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderRevoke } from '../render/lifecycle.js';
import { actorOption, actorSchema, collect, crlDaysSchema, dirOption, jsonOption, listSchema, passphraseOption, strictOption, reasonOption, reasonSchema, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod
    .object({
      dir: textSchema(zod),
      json: switchSchema(zod),
      passphraseFile: zod.optional(textSchema(zod)),
      strict: switchSchema(zod),
      actor: actorSchema(zod),
      tenant: listSchema(zod, zod.string()),
      reason: reasonSchema(zod),
      crlDays: crlDaysSchema(zod),
      dryRun: switchSchema(zod),
      args: listSchema(zod, zod.string()),
    })
    .check(
      zod.refine((o) => o.args.length > 0 || o.tenant.length > 0, {
        message: 'revoke needs what to revoke: serial numbers (whole, or unique prefixes of 8+ hex digits, see pkictl list) or --tenant ID',
      }),
      zod.refine((o) => !(o.args.length > 0 && o.tenant.length > 0), { message: 'give serials or --tenant, not both' }),
    );

export const revokeCommand: CommandSpec<ReturnType<typeof schema>, RevokeResult> = {
  name: 'revoke',
  summary: 'revoke certificates by serial, or every live certificate of a tenant, and regenerate certs/crl.pem',
  arguments: '[serial...]',
  examples: [
    'pkictl revoke 4a1b2c3d --reason keyCompromise   # a unique prefix (8+ hex digits); an earlier, milder reason becomes keyCompromise',
    'pkictl revoke --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc --dry-run   # what would be revoked; writes nothing',
    'pkictl revoke --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc --reason cessationOfOperation   # the files stay in clients/: pkictl offboard also archives them',
    'openssl verify -crl_check -CRLfile certs/crl.pem -CAfile certs/ca.crt certs/clients/<id>/client.crt   # now fails: certificate revoked',
  ],
  exitCodes: ['0  revoked and CRL written (or already revoked: nothing written)', '1  unexpected failure', '2  unknown or ambiguous serial, unknown tenant, bad flag, no CA (nothing written)'],
  options(c) {
    dirOption(c);
    c.option('--tenant <id>', 'revoke every live certificate of this tenant (current and superseded, not yet expired); repeatable',
      collect);
    reasonOption(c);
    c.option('--crl-days <n>', 'days until nextUpdate of the regenerated CRL (default 7)');
    c.option('--dry-run', 'say what would be revoked and write nothing');
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ revoke }, { treeProfiles }, { readPassphrase }] = await Promise.all([import('../../ops/revoke.js'), import('../../store/templates.js'), import('../passphrase.js')]);
    const { client: profile } = await treeProfiles(o.dir);
    return revoke(
      { dir: o.dir, actor: o.actor, serials: o.args, tenants: o.tenant, tenantIdPattern: profile.tenantIdPattern, reason: o.reason, crlDays: o.crlDays, dryRun: o.dryRun, passphrase: o.dryRun ? undefined : await readPassphrase(o.passphraseFile) },
      ctx,
    );
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stdout: r.revoked.map((e) => `${e.serial}\n`).join(''), stderr: renderRevoke(r, color) }),
};
