import type { RolloverResult } from '../../ops/rollover.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderRollover } from '../render/ca-status.js';
import { actorOption, actorSchema, concurrencySchema, daysOption, dirOption, jsonOption, keyOption, passphraseOption, sharedSchema, strictOption, switchSchema, textSchema } from '../shared-options.js';

// `pkictl ca rollover begin|switch|finish`, registered under `ca rollover` in main.ts: one spec per phase.

const render = (r: RolloverResult, { json, color }: { json: boolean; color: boolean }) => {
  const failed = (r.rotation?.failed.length ?? 0) > 0 || (r.rotation?.notStarted.length ?? 0) > 0;
  const exitCode = failed ? EXIT_FAILED : EXIT_OK;
  return json ? { document: { ...r }, exitCode } : { stderr: renderRollover(r, color), exitCode };
};

const beginSchema = (zod: Zod) => zod.object({ ...sharedSchema(zod), subject: zod.optional(textSchema(zod)) });

export const rolloverBeginCommand: CommandSpec<ReturnType<typeof beginSchema>, RolloverResult> = {
  name: 'begin',
  summary: 'phase 1 of a root rollover: a new root; ca.crt becomes both roots; the old root still signs',
  examples: ['pkictl ca rollover begin                         # new root "<CN> R2", same key type and lifetime', 'pkictl ca rollover begin --key ec-p384 --days 7300 --json'],
  exitCodes: ['0  begun (or begun already: nothing changed)', '1  refused (a rollover in another phase, an inconsistent ca.crt)', '2  bad flag, no CA'],
  options(c) {
    dirOption(c);
    c.option('--subject <dn>', "the new root's subject (default: the old one's, CN numbered R2, R3, …)");
    daysOption(c);
    keyOption(c, 'new root');
    passphraseOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema: beginSchema,
  async run(o, ctx) {
    const [{ rolloverBegin }, { treeProfiles }, { parseSubject }, { readPassphrase }] = await Promise.all([import('../../ops/rollover.js'), import('../../store/templates.js'), import('../../core/subject.js'), import('../passphrase.js')]);
    const { root } = await treeProfiles(o.dir);
    return rolloverBegin({ dir: o.dir, actor: o.actor, passphrase: await readPassphrase(o.passphraseFile), ...(o.subject !== undefined && { subject: parseSubject(o.subject) }), days: o.days, key: o.key, rootDays: root.days }, ctx);
  },
  render,
};

const switchSchemaOf = (zod: Zod) =>
  zod.object({ dir: textSchema(zod), json: switchSchema(zod), actor: actorSchema(zod), passphraseFile: zod.optional(textSchema(zod)), strict: switchSchema(zod), concurrency: concurrencySchema(zod), exec: zod.optional(textSchema(zod)) });

export const rolloverSwitchCommand: CommandSpec<ReturnType<typeof switchSchemaOf>, RolloverResult> = {
  name: 'switch',
  summary: 'phase 2: the new root signs (through a new intermediate where the tree has one); every pair is re-issued under it',
  examples: ['pkictl ca rollover switch', "pkictl ca rollover switch --exec 'deploy-pair \"$PKICTL_TENANT_ID\"'   # ship each new pair as it is made", 'pkictl ca rollover switch --json   # rerun after a kill: re-issues only what is left'],
  exitCodes: ['0  switched and every pair re-issued', '1  refused (no rollover begun), or some pairs could not be re-issued (run it again)', '2  bad flag, no CA'],
  options(c) {
    dirOption(c);
    c.option('--exec <command>', 'run after each new pair is in place (as pkictl rotate --exec)');
    c.option('--concurrency <n>', 'pairs in flight at once (default: one per CPU core, at least 2)');
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema: switchSchemaOf,
  async run(o, ctx) {
    const [{ rolloverSwitch }, { profilesFor }, { readPassphrase }, { DEFAULT_RENEW_BEFORE }] = await Promise.all([import('../../ops/rollover.js'), import('../../store/templates.js'), import('../passphrase.js'), import('../../core/renewal.js')]);
    const { client, server } = await profilesFor(o.dir, [], ['client', 'server']);
    return rolloverSwitch(
      {
        dir: o.dir,
        actor: o.actor,
        passphrase: await readPassphrase(o.passphraseFile),
        rotation: { renewBefore: DEFAULT_RENEW_BEFORE, clientProfile: { subject: client.subject, days: client.days, tenantIdPattern: client.tenantIdPattern }, serverDays: server.days, exec: o.exec, concurrency: o.concurrency },
      },
      ctx,
    );
  },
  render,
};

const finishSchema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod), actor: actorSchema(zod), force: switchSchema(zod) });

export const rolloverFinishCommand: CommandSpec<ReturnType<typeof finishSchema>, RolloverResult> = {
  name: 'finish',
  summary: 'phase 3: ca.crt becomes the new root alone; refused while a deployed pair still chains to the old root',
  examples: ['pkictl ca rollover finish', 'pkictl ca rollover finish --force   # cut off the pairs still under the old root'],
  exitCodes: ['0  finished (or finished already)', '1  refused (not switched yet, pairs still under the old root)', '2  bad flag, no CA'],
  options(c) {
    dirOption(c);
    c.option('--force', 'finish although deployed pairs still chain to the old root (they stop working)');
    actorOption(c);
    jsonOption(c);
  },
  schema: finishSchema,
  async run(o, ctx) {
    const { rolloverFinish } = await import('../../ops/rollover.js');
    return rolloverFinish({ dir: o.dir, actor: o.actor, force: o.force }, ctx);
  },
  render,
};
