import type { IssueResult } from '../../ops/context.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderIssued } from '../render/text.js';
import { actorOption, collect, daysOption, dirOption, forceOption, jsonOption, keyOption, passphraseOption, strictOption, sharedSchema, switchSchema, templateOption } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({ ...sharedSchema(zod), force: switchSchema(zod), san: zod.optional(zod.array(zod.string())), cn: zod.optional(zod.string()) });

export const issueServerCommand: CommandSpec<ReturnType<typeof schema>, IssueResult> = {
  name: 'server',
  summary: "issue the gateway's certificate: server.crt and server.key (serverAuth, SANs)",
  examples: [
    'pkictl issue server                          # SANs from the tree\'s server profile (pkictl.json): localhost, gateway, gateway.luzzi.com, 127.0.0.1',
    'pkictl issue server --san DNS:gw.prod.luzzi.com --san IP:10.0.0.7   # CN gw.prod.luzzi.com, from the first DNS SAN',
    'pkictl issue server --template ops/server-prod.json --force   # replace the current pair',
  ],
  exitCodes: ['0  issued', '1  unexpected failure', '2  bad flag or input, no CA, or server.crt exists without --force (nothing written)'],
  options(c) {
    dirOption(c);
    c.option('--san <type:value>', 'subject alternative name, DNS:name or IP:address; repeatable; replaces the profile\'s list',
      collect);
    c.option('--cn <name>', 'subject CN (default: the first DNS name of --san, else the profile\'s)');
    daysOption(c);
    keyOption(c, 'server');
    templateOption(c, 'server');
    passphraseOption(c);
    strictOption(c);
    forceOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ issueServer }, { profilesFor }, { parseSans }, { checkSubjectValue }, { inputError }, { readPassphrase }] = await Promise.all([
      import('../../ops/issue-leaf.js'),
      import('../../store/templates.js'),
      import('../../core/san.js'),
      import('../../core/subject.js'),
      import('../../core/errors.js'),
      import('../passphrase.js'),
    ]);
    const profile = (await profilesFor(o.dir, o.template, ['server'])).server;
    const problem = o.cn !== undefined ? checkSubjectValue('CN', o.cn) : undefined;
    if (problem) throw inputError('SUBJECT_INVALID', `invalid value for --cn: ${problem}`);
    const sans = o.san ? parseSans(o.san) : profile.sans;
    // --san names another host than the template's: without --cn, the CN follows the first DNS name
    // instead of keeping the template's (a CN naming a host the SANs do not).
    const cn = o.cn ?? (o.san ? sans.find((s) => s.type === 'dns')?.value : undefined);
    return issueServer(
      {
        dir: o.dir,
        actor: o.actor,
        subject: { ...profile.subject, ...(cn !== undefined && { CN: cn }) },
        sans,
        days: o.days ?? profile.days,
        key: o.key ?? profile.key,
        force: o.force,
        passphrase: await readPassphrase(o.passphraseFile),
      },
      ctx,
    );
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stderr: renderIssued(r.dir, r.issued, color) }),
};
