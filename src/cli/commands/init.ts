import type { CommandSpec, Zod } from '../define-command.js';
import { actorOption, daysOption, dirOption, intermediateOptions, intermediateSchema, jsonOption, keyOption, passphraseOption, sharedSchema, switchSchema, templateOption } from '../shared-options.js';
import type { IssueResult } from '../../ops/context.js';
import { renderIssued } from '../render/text.js';

const schema = (zod: Zod) => zod.object({ ...sharedSchema(zod), ...intermediateSchema(zod), subject: zod.optional(zod.string()), intermediate: switchSchema(zod) });

export const initCommand: CommandSpec<ReturnType<typeof schema>, IssueResult> = {
  name: 'init',
  summary: 'create the root CA (ca.crt, ca.key), optionally an issuing intermediate, and record the tree\'s profiles (pkictl.json) in --dir',
  examples: [
    'pkictl init                                  # RSA 4096, 10 years, CN=Luzzi Root CA, in ./certs',
    'pkictl init --key ec-p384 --days 7300 --subject "/C=MX/O=Luzzi/CN=Luzzi Root CA 2"',
    'PKICTL_CA_PASSPHRASE=... pkictl init         # ca.key as encrypted PKCS#8',
    'pkictl init --passphrase-file /run/secrets/ca-pass --json',
    'pkictl init --template ops/client-wide.json  # the tree issues and recognises tenants by this client profile',
    'pkictl init --intermediate --key ec-p384 --intermediate-key ec-p256   # root + issuing CA; then: pkictl ca offline --to /media/usb',
  ],
  exitCodes: ['0  CA created', '1  unexpected failure', '2  bad flag or input, or a CA already exists (nothing written)'],
  options(c) {
    dirOption(c);
    c.option('--subject <dn>', 'CA subject, "/C=MX/O=Luzzi/CN=Name" or "C=MX, O=Luzzi, CN=Name" (default from the template)');
    daysOption(c);
    keyOption(c, 'CA');
    c.option('--intermediate', 'also create an issuing intermediate (intermediate.crt, intermediate.key) that signs every leaf, so ca.key can be kept offline');
    intermediateOptions(c);
    templateOption(c, 'root, server or client');
    passphraseOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ initCa, intermediateSubject, INTERMEDIATE_DAYS }, { profilesFor, ROLES }, { parseSubject }, { readPassphrase }, { inputError }] = await Promise.all([
      import('../../ops/init-ca.js'),
      import('../../store/templates.js'),
      import('../../core/subject.js'),
      import('../passphrase.js'),
      import('../../core/errors.js'),
    ]);
    // The tree records the shipped templates, with --template files in place of their roles.
    const profiles = await profilesFor(o.dir, o.template, ROLES, true);
    const profile = profiles.root;
    const subject = o.subject !== undefined ? parseSubject(o.subject) : profile.subject;
    const key = o.key ?? profile.key;
    if (!o.intermediate && (o.intermediateKey ?? o.intermediateDays ?? o.intermediateSubject) !== undefined) {
      throw inputError('USAGE', '--intermediate-key, --intermediate-days and --intermediate-subject need --intermediate');
    }
    return initCa(
      {
        dir: o.dir,
        actor: o.actor,
        profiles: profiles.documents,
        subject,
        days: o.days ?? profile.days,
        key,
        passphrase: await readPassphrase(o.passphraseFile),
        ...(o.intermediate && {
          intermediate: {
            subject: o.intermediateSubject !== undefined ? parseSubject(o.intermediateSubject) : intermediateSubject(subject),
            days: o.intermediateDays ?? INTERMEDIATE_DAYS,
            key: o.intermediateKey ?? key,
          },
        }),
      },
      ctx,
    );
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stderr: renderIssued(r.dir, r.issued, color) }),
};
