import type { ListResult } from '../../ops/list.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderList } from '../render/list.js';
import { atSchema, dirOption, expiringWithinSchema, jsonOption, renewBeforeSchema, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    dir: textSchema(zod),
    json: switchSchema(zod),
    check: switchSchema(zod),
    all: switchSchema(zod),
    at: atSchema(zod),
    renewBefore: renewBeforeSchema(zod),
    expiringWithin: expiringWithinSchema(zod),
  });

export const listCommand: CommandSpec<ReturnType<typeof schema>, ListResult & { check: boolean }> = {
  name: 'list',
  summary: 'inventory of --dir: kind, tenant/CN, serial, expiry and status (valid / expiring / expired / revoked / invalid) of every certificate',
  examples: [
    'pkictl list',
    'pkictl list --expiring-within 30d            # only what expires within 30 days (or is expired/revoked/invalid)',
    'pkictl list --renew-before 33% --check       # monitoring: exit 1 when anything needs attention',
    'pkictl list --json --at 2027-01-01T00:00:00Z',
    'pkictl list --all                             # also rotated-out certificates that still authenticate until their notAfter',
  ],
  exitCodes: [
    '0  listed (with --check: every certificate is valid and outside the renewal window)',
    '1  with --check: something is expiring, expired, revoked or invalid, or crl.pem is past its nextUpdate',
    '2  bad flag, or --dir holds no CA',
  ],
  options(c) {
    dirOption(c);
    c.option('--expiring-within <duration>', 'show only certificates expiring within this time (30d, 12h, 2w, 3mo; m is minutes), plus expired, revoked and invalid ones');
    c.option('--renew-before <threshold>', 'renewal window: a fraction of the lifetime left (33%) or a duration (30d); shows only what falls in it');
    c.option('--check', 'exit 1 when anything is expiring, expired, revoked or invalid');
    c.option('--all', 'also list superseded certificates that have not expired yet (from the index): they still authenticate');
    c.option('--at <time>', 'evaluate as of this time (RFC 3339) instead of now');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ listCertificates }, { DEFAULT_RENEW_BEFORE }, { inputError }] = await Promise.all([
      import('../../ops/list.js'),
      import('../../core/renewal.js'),
      import('../../core/errors.js'),
    ]);
    if (o.expiringWithin && o.renewBefore) throw inputError('USAGE', "--expiring-within and --renew-before can't be used together: pick one renewal window");
    const threshold = o.expiringWithin ?? o.renewBefore;
    const result = await listCertificates({ dir: o.dir, at: o.at ?? ctx.now, threshold: threshold ?? DEFAULT_RENEW_BEFORE, onlyDue: threshold !== undefined, all: o.all }, ctx);
    return { ...result, check: o.check };
  },
  render: ({ check, ...result }, options) => renderList(result, options, check),
};
