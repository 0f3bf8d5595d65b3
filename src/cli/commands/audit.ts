import type { AuditResult } from '../../ops/audit.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderAudit } from '../render/audit.js';
import { atSchema, dirOption, jsonOption, passphraseOption, renewBeforeSchema, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    dir: textSchema(zod),
    json: switchSchema(zod),
    at: atSchema(zod),
    renewBefore: renewBeforeSchema(zod),
    passphraseFile: zod.optional(textSchema(zod)),
  });

export const auditCommand: CommandSpec<ReturnType<typeof schema>, AuditResult> = {
  name: 'audit',
  summary: 'check the whole --dir tree: CN = directory, chains and purposes, key/cert match, key modes, duplicate serials or keys, server SANs, expiry, stray or missing files, links pkictl did not make',
  examples: ['pkictl audit', 'pkictl audit --dir /etc/gateway/certs --json', 'pkictl audit --renew-before 30d --at 2027-01-01T00:00:00Z'],
  exitCodes: ['0  no findings', '1  at least one finding (listed on stdout, one per line)', '2  bad flag, or --dir holds no CA (nothing audited)'],
  options(c) {
    dirOption(c);
    c.option('--renew-before <threshold>', 'report certificates in this renewal window as EXPIRING: 33% of the lifetime left (default) or a duration (30d)');
    c.option('--at <time>', 'audit as of this time (RFC 3339) instead of now');
    passphraseOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ auditTree }, { DEFAULT_RENEW_BEFORE }, { readPassphrase }, { treeProfiles }] = await Promise.all([
      import('../../ops/audit.js'),
      import('../../core/renewal.js'),
      import('../passphrase.js'),
      import('../../store/templates.js'),
    ]);
    const passphrase = await readPassphrase(o.passphraseFile);
    // Tenant directory names are checked against the same rule `issue client` applies.
    const { tenantIdPattern } = (await treeProfiles(o.dir)).client;
    return auditTree({ dir: o.dir, at: o.at ?? ctx.now, threshold: o.renewBefore ?? DEFAULT_RENEW_BEFORE, passphrase, tenantIdPattern }, ctx);
  },
  render: renderAudit,
};
