import type { IssueClientsResult } from '../../ops/issue-clients.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from '../exit-codes.js';
import { renderIssueSummary, withBulkProgress } from '../render/progress.js';
import { actorOption, concurrencySchema, daysOption, dirOption, forceOption, jsonOption, keyOption, listSchema, passphraseOption, strictOption, sharedSchema, switchSchema, templateOption, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod
    .object({
      ...sharedSchema(zod),
      force: switchSchema(zod),
      skipExisting: switchSchema(zod),
      from: zod.optional(textSchema(zod)),
      concurrency: concurrencySchema(zod),
      args: listSchema(zod, zod.string()),
    })
    .check(
      zod.refine((o) => o.args.length > 0 || o.from !== undefined, { message: 'give at least one tenant id, or --from FILE', path: ['args'] }),
      zod.refine((o) => !(o.force && o.skipExisting), { message: "flag '--force' is incompatible with '--skip-existing'", path: ['skipExisting'] }),
    );

export const issueClientCommand: CommandSpec<ReturnType<typeof schema>, IssueClientsResult> = {
  name: 'client',
  summary: 'issue one client certificate per tenant: clients/<tenant-id>/client.crt and client.key (CN = tenant id, clientAuth)',
  arguments: '[tenant-id...]',
  examples: [
    'pkictl issue client bf935f05-bf2e-4138-bfec-f4baaf99fecc',
    'pkictl issue client 0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11 5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c --json',
    'pkictl issue client --from tenants.txt                  # one id per line; blank lines and # comments ignored',
    'pkictl issue client --from tenants.txt --skip-existing  # after Ctrl-C: issue only the missing ones',
    'list-tenants | pkictl issue client --from - --concurrency 4',
    'pkictl issue client --key ec-p256 --days 30 bf935f05-bf2e-4138-bfec-f4baaf99fecc --force',
  ],
  exitCodes: [
    '0    issued (or skipped as already issued)',
    '1    a tenant failed unexpectedly; the others issued so far are complete',
    '2    bad tenant id (every bad line is listed) or flag, no CA, or a tenant already has a pair without --force/--skip-existing (nothing written)',
    `${EXIT_INTERRUPTED}  interrupted (Ctrl-C): finished tenants are complete, the rest untouched`,
  ],
  options(c) {
    dirOption(c);
    c.option('--from <file>', "read tenant ids from FILE, one per line ('-' = stdin)");
    daysOption(c);
    keyOption(c, 'client');
    templateOption(c, 'client');
    passphraseOption(c);
    strictOption(c);
    c.option('--concurrency <n>', 'certificates in flight at once (default: one per CPU core (at least 2) for RSA keys, sixteen per core, at most 64, for EC)');
    c.option('--skip-existing', 'leave tenants that already have a certificate and key alone, issue the rest');
    forceOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ issueClients, parseTenantList, argumentEntries }, { profilesFor }, { readPassphrase }, { readUserText }] = await Promise.all([
      import('../../ops/issue-clients.js'),
      import('../../store/templates.js'),
      import('../passphrase.js'),
      import('../../store/files.js'),
    ]);
    let tenants = argumentEntries(o.args);
    if (o.from !== undefined) {
      const name = o.from === '-' ? 'stdin' : o.from;
      // concat, not push(...list): a list of a million ids would overflow the call stack as arguments.
      tenants = tenants.concat(parseTenantList(await readUserText(o.from, name, 'tenantList'), name));
    }
    const profile = (await profilesFor(o.dir, o.template, ['client'])).client;
    const passphrase = await readPassphrase(o.passphraseFile);
    return withBulkProgress('issuing', 'interrupted: finishing the certificates in flight, starting no more (Ctrl-C again to quit now)', (hooks) =>
      issueClients(
        {
          dir: o.dir,
          actor: o.actor,
          tenants,
          tenantIdPattern: profile.tenantIdPattern,
          subject: profile.subject,
          days: o.days ?? profile.days,
          key: o.key ?? profile.key,
          force: o.force,
          skipExisting: o.skipExisting,
          passphrase,
          concurrency: o.concurrency,
          ...hooks,
        },
        ctx,
      ),
    );
  },
  render(result, { json, color }) {
    const exitCode = result.interrupted ? EXIT_INTERRUPTED : result.failed.length > 0 ? EXIT_FAILED : EXIT_OK;
    if (json) return { document: { ...result }, exitCode };
    return { stderr: renderIssueSummary(result, color), exitCode };
  },
};
