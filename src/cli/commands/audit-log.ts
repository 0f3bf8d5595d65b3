import type { AuditVerifyReport } from '../../ops/audit-log.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderAuditVerify } from '../render/lifecycle.js';
import { dirOption, jsonOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod) });

/** `pkictl audit-log verify`, registered under an `audit-log` group in main.ts. */
export const auditLogVerifyCommand: CommandSpec<ReturnType<typeof schema>, AuditVerifyReport> = {
  name: 'verify',
  summary: 'check the hash chain of certs/audit.log and its end against the index; report the first broken line',
  examples: ['pkictl audit-log verify', 'pkictl audit-log verify --dir /srv/pki/certs --json'],
  exitCodes: [
    '0  intact',
    '1  tampered: a line edited, removed or inserted, the log truncated, or the log or index missing or short of what the tree holds (certificates, crl.pem)',
    '2  bad flag, or --dir holds no CA',
  ],
  options(c) {
    dirOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { verifyAudit } = await import('../../ops/audit-log.js');
    return verifyAudit(o.dir, ctx);
  },
  render: (r, { json, color }) => {
    const exitCode = r.ok ? EXIT_OK : EXIT_FAILED;
    return json ? { document: { auditLog: r }, exitCode } : { stderr: renderAuditVerify(r, color), exitCode };
  },
};
