import type { IntermediateRevokeResult } from '../../ops/intermediate-revoke.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderCrl } from '../render/lifecycle.js';
import { actorOption, actorSchema, crlDaysOrDefaultSchema, dirOption, jsonOption, passphraseOption, reasonOption, reasonSchema, rootKeyOption, strictOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    dir: textSchema(zod),
    json: switchSchema(zod),
    actor: actorSchema(zod),
    passphraseFile: zod.optional(textSchema(zod)),
    strict: switchSchema(zod),
    rootKey: zod.optional(textSchema(zod)),
    reason: reasonSchema(zod, 'cACompromise'),
    force: switchSchema(zod),
    crlDays: crlDaysOrDefaultSchema(zod),
    args: textSchema(zod),
  });

/** `pkictl intermediate revoke`, registered under the `intermediate` group in main.ts. */
export const intermediateRevokeCommand: CommandSpec<ReturnType<typeof schema>, IntermediateRevokeResult> = {
  name: 'revoke',
  arguments: '<serial>',
  summary: 'revoke an intermediate CA in root-crl.pem (signed by the root): every leaf it signed stops verifying',
  examples: [
    'pkictl intermediate revoke 4a1b2c3d --root-key /media/usb/ca.key                 # a retired intermediate',
    'pkictl intermediate revoke 4a1b2c3d --reason superseded --json',
    'pkictl ca compromised --scope intermediate --dry-run   # the current one: replace it first, with the drill',
  ],
  exitCodes: ['0  revoked, root-crl.pem written', '1  refused (the current intermediate without --force, the root key offline without --root-key)', '2  bad flag, unknown serial, wrong key'],
  options(c) {
    dirOption(c);
    rootKeyOption(c);
    reasonOption(c, 'cACompromise');
    c.option('--force', 'revoke the intermediate that signs now (issuance stops until a new one exists)');
    c.option('--crl-days <n>', "days until root-crl.pem's nextUpdate (default 365)");
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ revokeIntermediate }, { readPassphrase }] = await Promise.all([import('../../ops/intermediate-revoke.js'), import('../passphrase.js')]);
    return revokeIntermediate({ dir: o.dir, actor: o.actor, serial: o.args, reason: o.reason, rootKey: o.rootKey, force: o.force, crlDays: o.crlDays, passphrase: await readPassphrase(o.passphraseFile) }, ctx);
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stderr: `${r.revoked.map((e) => `✓ revoked intermediate ${e.serial}: ${e.revocation?.reason ?? ''}`).join('\n')}\n${renderCrl(r.dir, r.crl, color)}` }),
};
