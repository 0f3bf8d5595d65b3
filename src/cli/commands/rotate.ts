import type { RotateResult } from '../../ops/rotate.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from '../exit-codes.js';
import { renderPlan, renderRotate } from '../render/lifecycle.js';
import { actorOption, atSchema, templateOption, collect, concurrencySchema, daysOption, dirOption, jsonOption, listSchema, passphraseOption, strictOption, renewBeforeSchema, sharedSchema, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod
    .object({
      ...sharedSchema(zod),
      tenant: listSchema(zod, zod.string()),
      all: switchSchema(zod),
      oldCa: switchSchema(zod),
      at: atSchema(zod),
      dryRun: switchSchema(zod),
      verbose: switchSchema(zod),
      force: switchSchema(zod),
      reuseKey: switchSchema(zod),
      includeServer: switchSchema(zod),
      exec: zod.optional(textSchema(zod)),
      concurrency: concurrencySchema(zod),
      renewBefore: renewBeforeSchema(zod),
    })
    .check(
      zod.refine((o) => !(o.reuseKey && o.key !== undefined), { message: "flag '--reuse-key' is incompatible with '--key'", path: ['reuseKey'] }),
      // A real rotation at another time renews what is due then, not what is due now: a second flag for that.
      zod.refine((o) => !(o.at && !o.dryRun && !o.force), { message: '--at without --dry-run rotates as if it were that time; add --force to do that, or --dry-run to see the plan' }),
    );

export const rotateCommand: CommandSpec<ReturnType<typeof schema>, RotateResult> = {
  name: 'rotate',
  summary: 'renew client certificates (and --include-server) that are due, swapping each pair in one atomic step',
  examples: [
    'pkictl rotate --dry-run                       # the plan: tenant, serial, notAfter, action, why (of what is due; --verbose: of every pair)',
    'pkictl rotate                                 # renew pairs with less than a third of their lifetime left',
    "pkictl rotate --renew-before 30d --include-server --exec 'systemctl reload connector@$PKICTL_TENANT_ID'   # single quotes: the hook expands it",
    'pkictl rotate --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc --all --reuse-key',
    'pkictl rotate --old-ca --include-server      # move every pair onto the intermediate that signs now',
    'pkictl rotate --at 2027-01-31T00:00:00Z --dry-run --json   # what would be due on that day',
    '# daily from cron: 15 3 * * * cd /srv/pki && pkictl rotate --json >> rotate.jsonl && pkictl crl',
  ],
  exitCodes: [
    '0    every due pair rotated (or nothing due)',
    '1    a pair failed to rotate or an --exec command failed (the others are done; rerun to retry)',
    '2    bad flag, unknown tenant, no CA (nothing written)',
    `${EXIT_INTERRUPTED}  interrupted: every pair is complete; rerun to finish`,
  ],
  options(c) {
    dirOption(c);
    c.option('--tenant <id>', 'only this tenant; repeatable', collect);
    c.option('--all', 'rotate every selected pair whatever its remaining lifetime (revoked ones are still skipped)');
    c.option('--old-ca', 'rotate the pairs the CA signing now did not sign (after intermediate renew or a rollover switch), whatever their lifetime');
    c.option('--renew-before <when>', 'renew when less than this is left: a share of the lifetime (33%) or a duration (30d, 12h, 2w, 3mo; m is minutes); default one third of the lifetime');
    c.option('--at <time>', 'evaluate the renewal window as of this ISO 8601 time instead of now (without --dry-run, needs --force)');
    c.option('--dry-run', 'print the plan of what is due and change nothing');
    c.option('--verbose', 'with --dry-run: list every pair, the skipped ones too');
    c.option('--force', 'with --at: really rotate what is due at that time');
    c.option('--reuse-key', 'keep the current key (default: a new key per rotation)');
    c.option('--key <type>', 'key type of the new keys: rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384 (default: the type of the key being replaced)');
    daysOption(c);
    c.option('--include-server', 'also renew server.crt with the same subject and SANs');
    c.option('--exec <cmd>', 'run after each new pair is in place (sh -c), with PKICTL_KIND, PKICTL_TENANT_ID, PKICTL_CERT, PKICTL_KEY, PKICTL_SERIAL, PKICTL_OLD_SERIAL, PKICTL_NOT_AFTER and PKICTL_DIR added to pkictl\'s environment, from which PKICTL_CA_PASSPHRASE is removed');
    templateOption(c, 'client or server');
    c.option('--concurrency <n>', 'pairs in flight at once (default: one per CPU core, at least 2)');
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ rotate }, { profilesFor }, { readPassphrase }, { DEFAULT_RENEW_BEFORE }, { withBulkProgress }] = await Promise.all([
      import('../../ops/rotate.js'),
      import('../../store/templates.js'),
      import('../passphrase.js'),
      import('../../core/renewal.js'),
      import('../render/progress.js'),
    ]);
    const { client, server } = await profilesFor(o.dir, o.template, ['client', 'server']);
    const passphrase = o.dryRun ? undefined : await readPassphrase(o.passphraseFile);
    const note = 'interrupted: finishing the pairs in flight, starting no more (Ctrl-C again to quit now; every pair stays complete)';
    return withBulkProgress('rotating', note, (hooks) =>
      rotate(
        {
          dir: o.dir,
          actor: o.actor,
          tenants: o.tenant,
          all: o.all,
          oldCa: o.oldCa,
          renewBefore: o.renewBefore ?? DEFAULT_RENEW_BEFORE,
          at: o.at,
          dryRun: o.dryRun,
          reuseKey: o.reuseKey,
          includeServer: o.includeServer,
          exec: o.exec,
          clientProfile: { subject: client.subject, days: client.days, tenantIdPattern: client.tenantIdPattern },
          serverDays: server.days,
          key: o.key,
          days: o.days,
          passphrase,
          concurrency: o.concurrency,
          ...hooks,
        },
        ctx,
      ),
    );
  },
  render(r, { json, color }, o) {
    const exitCode = r.interrupted ? EXIT_INTERRUPTED : r.failed.length > 0 || r.execFailed.length > 0 ? EXIT_FAILED : EXIT_OK;
    if (json) return { document: { rotation: r }, exitCode };
    return { stdout: r.dryRun ? renderPlan(r.plan, o.verbose) : '', stderr: renderRotate(r, color), exitCode };
  },
};
