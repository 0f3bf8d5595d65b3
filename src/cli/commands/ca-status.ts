import type { CaStatusResult } from '../../ops/ca-status.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderCaStatus } from '../render/ca-status.js';
import { atSchema, dirOption, jsonOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod), at: atSchema(zod) });

/** `pkictl ca status`, registered under the `ca` group in main.ts. */
export const caStatusCommand: CommandSpec<ReturnType<typeof schema>, CaStatusResult> = {
  name: 'status',
  summary: "the CA certificates in use: expiry, which one signs, where its key is; warns when a leaf issued now would outlive its CA",
  examples: ['pkictl ca status', 'pkictl ca status --json', 'pkictl ca status --at 2036-06-01   # how it will stand then'],
  exitCodes: ['0  every CA certificate is within its validity (warnings on stderr do not change this)', '1  a CA certificate is expired or not yet valid', '2  bad flag, or --dir holds no CA'],
  options(c) {
    dirOption(c);
    c.option('--at <time>', 'evaluate as of this time (RFC 3339 or a date) instead of now');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ caStatus }, { treeProfiles }] = await Promise.all([import('../../ops/ca-status.js'), import('../../store/templates.js')]);
    const { server, client } = await treeProfiles(o.dir);
    return caStatus({ dir: o.dir, at: o.at ?? ctx.now, leafDays: { server: server.days, client: client.days } }, ctx);
  },
  render(r, { json, color }) {
    const exitCode = r.cas.every((ca) => ca.status === 'valid') ? EXIT_OK : EXIT_FAILED;
    return json ? { document: { ...r }, exitCode } : { ...renderCaStatus(r, color), exitCode };
  },
};
