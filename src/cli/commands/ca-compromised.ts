import type { CompromiseResult } from '../../ops/compromise.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderCompromise } from '../render/ca-status.js';
import { actorOption, actorSchema, choiceSchema, concurrencySchema, dirOption, jsonOption, passphraseOption, rootKeyOption, strictOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    dir: textSchema(zod),
    json: switchSchema(zod),
    actor: actorSchema(zod),
    passphraseFile: zod.optional(textSchema(zod)),
    strict: switchSchema(zod),
    rootKey: zod.optional(textSchema(zod)),
    scope: choiceSchema(zod, ['intermediate', 'root'] as const),
    dryRun: switchSchema(zod),
    again: switchSchema(zod),
    concurrency: concurrencySchema(zod),
  });

/** `pkictl ca compromised`, registered under the `ca` group in main.ts. */
export const caCompromisedCommand: CommandSpec<ReturnType<typeof schema>, CompromiseResult> = {
  name: 'compromised',
  summary: 'the compromise drill: replace a compromised CA, re-issue every pair with new keys, revoke all it signed',
  examples: [
    'pkictl ca compromised --scope intermediate --dry-run          # the plan; nothing changes',
    'pkictl ca compromised --scope intermediate --root-key /media/usb/ca.key',
    'pkictl ca compromised --scope root --json                     # a new root, no overlap; rerun it after a crash to resume',
  ],
  exitCodes: ['0  the drill finished (or the dry run planned it)', '1  refused, or pairs could not be re-issued (fix, then run it again: it resumes)', '2  bad flag, no CA, wrong key'],
  options(c) {
    dirOption(c);
    c.requiredOption('--scope <scope>', 'what is compromised: intermediate (the issuing CA) or root');
    c.option('--dry-run', 'print the plan and change nothing');
    c.option('--again', 'start a new drill although the last one of this scope finished (its replacement is compromised too)');
    rootKeyOption(c);
    c.option('--concurrency <n>', 'pairs re-issued at once (default: one per CPU core, at least 2)');
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ compromised }, { profilesFor }, { readPassphrase }, { DEFAULT_RENEW_BEFORE }, { withBulkProgress }] = await Promise.all([
      import('../../ops/compromise.js'),
      import('../../store/templates.js'),
      import('../passphrase.js'),
      import('../../core/renewal.js'),
      import('../render/progress.js'),
    ]);
    const { client, server } = await profilesFor(o.dir, [], ['client', 'server']);
    const passphrase = o.dryRun ? undefined : await readPassphrase(o.passphraseFile);
    const note = 'interrupted: finishing the pairs in flight; run the same command again to resume the drill';
    return withBulkProgress('re-issuing', note, (hooks) =>
      compromised(
        {
          dir: o.dir,
          actor: o.actor,
          scope: o.scope,
          dryRun: o.dryRun,
          again: o.again,
          rootKey: o.rootKey,
          passphrase,
          rotation: { clientProfile: { subject: client.subject, days: client.days, tenantIdPattern: client.tenantIdPattern }, serverDays: server.days, renewBefore: DEFAULT_RENEW_BEFORE, concurrency: o.concurrency, ...hooks },
        },
        ctx,
      ),
    );
  },
  render(r, { json, color }) {
    const exitCode = r.dryRun || r.finished ? EXIT_OK : EXIT_FAILED;
    return json ? { document: { ...r }, exitCode } : { ...(r.dryRun && { stdout: r.steps.map((s) => `${s.step}\t${s.status}\t${s.detail}`).join('\n') + '\n' }), stderr: renderCompromise(r, color), exitCode };
  },
};
