import type { InspectResult } from '../../ops/inspect.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { INSPECT_FIELDS, renderInspect } from '../render/inspect.js';
import { choiceSchema, collect, jsonOption, listSchema, switchSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    json: switchSchema(zod),
    field: listSchema(zod, choiceSchema(zod, INSPECT_FIELDS)),
    withFilename: switchSchema(zod),
    args: zod.array(zod.string().check(zod.minLength(1, 'a file name cannot be empty'))).check(zod.minLength(1, "give at least one file, or '-' for stdin")),
  });

export const inspectCommand: CommandSpec<ReturnType<typeof schema>, InspectResult> = {
  name: 'inspect',
  summary: 'show certificates (PEM bundles, DER or stdin): subject, issuer, serial, validity, SANs, key, usages, fingerprints; and CRLs: issuer, number, this/next update, revoked serials with reasons',
  arguments: '<file...>',
  examples: [
    'pkictl inspect certs/server.crt',
    'pkictl inspect --field cn certs/clients/*/client.crt      # one CN per line',
    'pkictl inspect --field not-after --json certs/ca.crt',
    'pkictl inspect --with-filename --field cn --field not-after certs/clients/*/client.crt   # file, CN, notAfter (tab-separated)',
    'cat bundle.pem | pkictl inspect -',
    'pkictl inspect certs/crl.pem                # issuer, CRL number, this/next update, revoked serials with dates and reasons',
  ],
  exitCodes: ['0  every file held certificates or CRLs', '2  a file is missing, unreadable, too large, empty, a key, or neither a certificate nor a CRL; --field with a CRL (nothing printed)'],
  options(c) {
    c.option('--field <name>', `print only this value, one line per certificate; repeatable: the values tab-separated in the order given (${INSPECT_FIELDS.join(', ')})`, collect);
    c.option('--with-filename', 'with --field: start each line with the file name and a tab (as grep -H)');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { inspectFiles } = await import('../../ops/inspect.js');
    return inspectFiles({ files: o.args, fields: o.field, now: ctx.now });
  },
  render: renderInspect,
};
