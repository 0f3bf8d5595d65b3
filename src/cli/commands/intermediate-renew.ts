import type { IssueResult } from '../../ops/context.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderIssued } from '../render/text.js';
import { actorOption, actorSchema, dirOption, intermediateOptions, intermediateSchema, jsonOption, passphraseOption, rootKeyOption, strictOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({ dir: textSchema(zod), json: switchSchema(zod), actor: actorSchema(zod), passphraseFile: zod.optional(textSchema(zod)), strict: switchSchema(zod), rootKey: zod.optional(textSchema(zod)), ...intermediateSchema(zod) });

/** `pkictl intermediate renew`, registered under the `intermediate` group in main.ts. */
export const intermediateRenewCommand: CommandSpec<ReturnType<typeof schema>, IssueResult> = {
  name: 'renew',
  summary: 'a new issuing intermediate (new key) signed by the root; new leaves use it, ca.crt does not change',
  examples: [
    'pkictl intermediate renew                                  # root key in the tree',
    'pkictl intermediate renew --root-key /media/usb/ca.key     # root key kept offline',
    'pkictl intermediate renew --intermediate-key ec-p384 --intermediate-days 1095 --json',
  ],
  exitCodes: ['0  the new intermediate signs from now on', '1  refused (the root key is offline and --root-key not given, the root expired); nothing written', '2  bad flag, no CA, wrong key or passphrase'],
  options(c) {
    dirOption(c);
    rootKeyOption(c);
    intermediateOptions(c);
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ renewIntermediate }, { parseSubject }, { readPassphrase }] = await Promise.all([import('../../ops/intermediate-renew.js'), import('../../core/subject.js'), import('../passphrase.js')]);
    return renewIntermediate(
      {
        dir: o.dir,
        actor: o.actor,
        rootKey: o.rootKey,
        passphrase: await readPassphrase(o.passphraseFile),
        ...(o.intermediateSubject !== undefined && { subject: parseSubject(o.intermediateSubject) }),
        ...(o.intermediateDays !== undefined && { days: o.intermediateDays }),
        ...(o.intermediateKey !== undefined && { key: o.intermediateKey }),
      },
      ctx,
    );
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stderr: renderIssued(r.dir, r.issued, color) }),
};
