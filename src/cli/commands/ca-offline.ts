import type { CaOfflineResult } from '../../ops/ca-offline.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { actorOption, actorSchema, dirOption, jsonOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod), actor: actorSchema(zod), to: textSchema(zod) });

/** `pkictl ca offline`, registered under the `ca` group in main.ts. */
export const caOfflineCommand: CommandSpec<ReturnType<typeof schema>, CaOfflineResult> = {
  name: 'offline',
  summary: 'move the root key (ca.key) out of the tree, to removable media; the intermediate keeps issuing',
  examples: [
    'pkictl ca offline --to /media/usb                 # ca.key → /media/usb/ca.key (0600), removed from certs/',
    'pkictl intermediate renew --root-key /media/usb/ca.key   # later: a CA event that needs the root',
  ],
  exitCodes: ['0  moved', '1  refused (no intermediate, the key is offline already, DIR/ca.key exists); nothing moved', '2  bad flag, no CA, --to inside the tree'],
  options(c) {
    dirOption(c);
    c.requiredOption('--to <dir>', 'where the root key goes (a directory outside the tree, e.g. removable media)');
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { takeRootOffline } = await import('../../ops/ca-offline.js');
    return takeRootOffline({ dir: o.dir, actor: o.actor, to: o.to }, ctx);
  },
  render: (r, { json }) => (json ? { document: { ...r } } : { stdout: `${r.key}\n` }),
};
