import type { AuditShowResult } from '../../ops/audit-log.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderAuditShow } from '../render/history.js';
import { dirOption, jsonOption, sinceSchema, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod), tenant: zod.optional(textSchema(zod)), since: sinceSchema(zod) });

/** `pkictl audit-log show`, registered under the `audit-log` group in main.ts. */
export const auditLogShowCommand: CommandSpec<ReturnType<typeof schema>, AuditShowResult> = {
  name: 'show',
  summary: 'print certs/audit.log readably, oldest first: time, action, tenant or CN, serial, actor, details',
  examples: [
    'pkictl audit-log show',
    'pkictl audit-log show --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc',
    'pkictl audit-log show --since 24h            # or --since 2026-12-01, --since 2026-12-01T08:00:00Z',
    'pkictl audit-log show --since 7d --json',
  ],
  exitCodes: ['0  printed (also when nothing matched the filters)', '2  bad flag, unknown tenant, or --dir holds no CA'],
  options(c) {
    dirOption(c);
    c.option('--tenant <id>', "only this tenant's events");
    c.option('--since <time>', 'only events at or after this time (RFC 3339 or a date), or this long ago (24h, 7d)');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { showAuditLog } = await import('../../ops/audit-log.js');
    const since = o.since && ('at' in o.since ? o.since.at : new Date(ctx.now.getTime() - o.since.ago));
    return showAuditLog({ dir: o.dir, tenant: o.tenant, since }, ctx);
  },
  render: renderAuditShow,
};
