import { Option } from 'commander';
import type { z } from 'zod';
import type { InspectResult } from '../../ops/inspect.js';
import type { CommandSpec, Runner } from '../define-command.js';
import { INSPECT_FIELDS, renderInspect } from '../render/inspect.js';
import { jsonOption } from '../shared-options.js';

const schema = (zod: typeof z) =>
  zod.object({
    json: zod.boolean().default(false),
    field: zod.enum(INSPECT_FIELDS).optional(),
    args: zod.array(zod.string().min(1, 'a file name cannot be empty')).min(1, "give at least one file, or '-' for stdin"),
  });

export const inspectCommand: CommandSpec<ReturnType<typeof schema>, InspectResult> = {
  name: 'inspect',
  summary: 'show certificates (PEM bundles, DER or stdin): subject, issuer, serial, validity, SANs, key, usages, fingerprints',
  arguments: '<file...>',
  examples: [
    'pkictl inspect certs/server.crt',
    'pkictl inspect --field cn certs/clients/*/client.crt      # one CN per line',
    'pkictl inspect --field not-after --json certs/ca.crt',
    'cat bundle.pem | pkictl inspect -',
  ],
  exitCodes: ['0  every file held certificates', '2  a file is missing, unreadable, too large, empty, a key, or not a certificate (nothing printed)'],
  options(c) {
    c.addOption(new Option('--field <name>', 'print only this value, one line per certificate').choices(INSPECT_FIELDS));
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { inspectFiles } = await import('../../ops/inspect.js');
    return inspectFiles({ files: o.args, field: o.field, now: ctx.now });
  },
  render: renderInspect,
};

/**
 * `inspect --field cn FILE` runs once per file in CI, so its start-up must stay close to bare node:
 * this runner skips zod (commander's .choices() has already checked --field) and the crypto context,
 * and hands every other invocation to the normal runner.
 */
export const inspectRunner =
  (fallback: Runner): Runner =>
  async (spec, input) => {
    const { field, json, args } = input as { field?: (typeof INSPECT_FIELDS)[number]; json?: boolean; args?: string[] };
    if (field === undefined || json === true || !Array.isArray(args) || args.length === 0 || args.some((a) => typeof a !== 'string' || a === '')) {
      return fallback(spec, input);
    }
    const { inspectFiles } = await import('../../ops/inspect.js');
    const out = renderInspect(await inspectFiles({ files: args, field, now: new Date() }), { json: false, color: false });
    if (out.stdout) process.stdout.write(out.stdout);
    process.exitCode = out.exitCode ?? 0;
  };
