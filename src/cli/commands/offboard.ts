import type { OffboardResult } from '../../ops/offboard.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderOffboard } from '../render/lifecycle.js';
import { actorOption, actorSchema, crlDaysSchema, dirOption, jsonOption, passphraseOption, reasonOption, reasonSchema, strictOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    dir: textSchema(zod),
    json: switchSchema(zod),
    passphraseFile: zod.optional(textSchema(zod)),
    strict: switchSchema(zod),
    actor: actorSchema(zod),
    reason: reasonSchema(zod, 'cessationOfOperation'),
    crlDays: crlDaysSchema(zod),
    purgeKeys: switchSchema(zod),
    args: zod.array(zod.string()),
  });

export const offboardCommand: CommandSpec<ReturnType<typeof schema>, OffboardResult> = {
  name: 'offboard',
  summary: 'take tenants out of service: revoke their live certificates, publish the CRL, move clients/<id>/ into archive/clients/<id>/<time>-<serial>/',
  arguments: '<tenant-id...>',
  examples: [
    'pkictl offboard bf935f05-bf2e-4138-bfec-f4baaf99fecc                  # keys kept in the archive, mode 0600',
    'pkictl offboard bf935f05-bf2e-4138-bfec-f4baaf99fecc --purge-keys     # keys overwritten and deleted',
    'pkictl offboard bf935f05-bf2e-4138-bfec-f4baaf99fecc --reason keyCompromise --json',
    'pkictl history bf935f05-bf2e-4138-bfec-f4baaf99fecc                   # what it had, and where it went',
  ],
  exitCodes: [
    '0  offboarded (or offboarded before: nothing changed)',
    '1  failure: the CRL could not be written (the tenant stays in clients/), keys that could not be destroyed, a link pkictl does not follow',
    '2  unknown tenant, bad flag, no CA (nothing written)',
  ],
  options(c) {
    dirOption(c);
    reasonOption(c, 'cessationOfOperation');
    c.option('--purge-keys', 'destroy the private keys in the archive (overwritten, then deleted) instead of keeping them');
    c.option('--crl-days <n>', 'days until nextUpdate of the regenerated CRL (default 7)');
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ offboard }, { treeProfiles }, { readPassphrase }] = await Promise.all([import('../../ops/offboard.js'), import('../../store/templates.js'), import('../passphrase.js')]);
    const { client: profile } = await treeProfiles(o.dir);
    return offboard(
      { dir: o.dir, actor: o.actor, tenants: o.args, tenantIdPattern: profile.tenantIdPattern, reason: o.reason, crlDays: o.crlDays, purgeKeys: o.purgeKeys, passphrase: await readPassphrase(o.passphraseFile) },
      ctx,
    );
  },
  render: (r, { json, color }) => {
    const exitCode = r.tenants.some((t) => t.keys.startsWith('not destroyed')) ? EXIT_FAILED : EXIT_OK;
    return json ? { document: { ...r }, exitCode } : { stdout: r.tenants.map((t) => `${t.tenantId}\n`).join(''), stderr: renderOffboard(r, color), exitCode };
  },
};
