import type { HistoryResult } from '../../ops/history.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderHistory } from '../render/history.js';
import { dirOption, jsonOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod), args: textSchema(zod) });

export const historyCommand: CommandSpec<ReturnType<typeof schema>, HistoryResult> = {
  name: 'history',
  summary: "every certificate a tenant has had: status, serial, validity, when and by whom issued, revoked, archived",
  arguments: '<tenant-id>',
  examples: [
    'pkictl history bf935f05-bf2e-4138-bfec-f4baaf99fecc',
    'pkictl history bf935f05-bf2e-4138-bfec-f4baaf99fecc --json',
    'pkictl audit-log show --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc    # the raw events',
  ],
  exitCodes: ['0  printed', '2  unknown tenant, bad flag, or --dir holds no CA'],
  options(c) {
    dirOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { tenantHistory } = await import('../../ops/history.js');
    return tenantHistory({ dir: o.dir, tenantId: o.args }, ctx);
  },
  render: renderHistory,
};
