import type { VerifyReport } from '../../ops/verify-files.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderVerify } from '../render/verify.js';
import { atSchema, choiceSchema, collect, dirOption, jsonOption, listSchema, switchSchema, textSchema, wholeNumberSchema } from '../shared-options.js';

/** openssl verify's names for the two TLS purposes, accepted as they are typed there. */
const OPENSSL_PURPOSES: Record<string, 'server' | 'client'> = { sslserver: 'server', sslclient: 'client' };

const schema = (zod: Zod) =>
  zod
    .object({
      dir: textSchema(zod),
      json: switchSchema(zod),
      all: switchSchema(zod),
      ca: listSchema(zod, textSchema(zod)),
      untrusted: listSchema(zod, textSchema(zod)),
      crl: listSchema(zod, textSchema(zod)),
      purpose: zod._default(
        zod.pipe(choiceSchema(zod, ['server', 'client', 'any', 'sslserver', 'sslclient'], 'server, client, any (or openssl\'s sslserver, sslclient)'), zod.transform((p) => OPENSSL_PURPOSES[p] ?? (p as 'server' | 'client' | 'any'))),
        'any',
      ),
      quiet: switchSchema(zod),
      hostname: zod.optional(textSchema(zod)),
      ip: zod.optional(zod.union([zod.ipv4(), zod.ipv6()])),
      email: zod.optional(zod.string().check(zod.regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address'))),
      at: atSchema(zod),
      maxDepth: zod.optional(wholeNumberSchema(zod, 0, 100_000)),
      expectCn: zod.optional(textSchema(zod)),
      args: listSchema(zod, zod.string()),
    })
    .check(
      zod.refine((o) => !(o.all && o.args.length), { message: 'give either --all or certificate files, not both', path: ['all'] }),
      zod.refine((o) => o.all || o.args.length > 0, { message: 'give at least one certificate file (or --all)', path: ['args'] }),
      zod.refine((o) => !(o.all && (o.hostname || o.ip || o.email || o.expectCn)), {
        message: '--all takes the names from the tree; it cannot be combined with --hostname, --ip, --email or --expect-cn',
        path: ['all'],
      }),
    );

export const verifyCommand: CommandSpec<ReturnType<typeof schema>, VerifyReport> = {
  name: 'verify',
  summary: 'validate certificate chains (RFC 5280 path validation) against the CA, like openssl verify',
  arguments: '[file...]',
  examples: [
    'pkictl verify certs/server.crt --purpose server --hostname gateway.luzzi.com',
    'pkictl verify --purpose client --expect-cn bf935f05-bf2e-4138-bfec-f4baaf99fecc certs/clients/bf935f05-bf2e-4138-bfec-f4baaf99fecc/client.crt',
    'pkictl verify --all --dir certs                      # server.crt as server, every clients/<id>/client.crt as client with CN = <id>',
    'pkictl verify --all --quiet                          # cron: silent unless something fails',
    'pkictl verify --purpose sslclient certs/clients/*/client.crt   # openssl\'s purpose names work too',
    'pkictl verify --ca roots.pem --untrusted ica.pem --at 2026-01-01T00:00:00Z --json leaf.pem',
    'pkictl verify --crl certs/crl.pem certs/clients/*/client.crt',
  ],
  exitCodes: [
    '0  every file verified',
    '1  at least one chain failed (each line says why; --json lists failures[].code); with --all also a missing or broken file of the tree',
    '2  usage or input error: a named file unreadable or not a certificate, bad flag (nothing verified)',
  ],
  options(c) {
    dirOption(c);
    c.option('--ca <file>', 'trust anchor(s), PEM bundle or DER; repeatable (default <dir>/ca.crt)', collect);
    c.option('--untrusted <file>', 'intermediate certificates to build the chain from; repeatable', collect);
    c.option('--crl <file>', 'CRL(s) to check revocation against; repeatable (default <dir>/crl.pem when present, unless --ca is given without --all)', collect);
    c.option('--purpose <purpose>', 'server | client | any: the EKU the leaf must carry (openssl\'s sslserver, sslclient also work)', 'any');
    c.option('--hostname <name>', 'DNS name the leaf must carry in its SANs (the CN is never used)');
    c.option('--ip <address>', 'IP address the leaf must carry in its SANs');
    c.option('--email <address>', 'email address the leaf must carry in its SANs');
    c.option('--at <time>', 'validate at this RFC 3339 time instead of now');
    c.option('--max-depth <n>', 'most intermediate CAs allowed between the leaf and the anchor');
    c.option('--expect-cn <value>', 'the leaf\'s CN must be exactly this (e.g. the tenant id)');
    c.option('--all', 'verify server.crt and every clients/<id>/client.crt in --dir (revocation by <dir>/crl.pem when present); ends with a summary line');
    c.option('--quiet', 'print only the failures: nothing when every certificate verifies');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { verifyFiles } = await import('../../ops/verify-files.js');
    return verifyFiles({ ...o, files: o.args, chain: o.json }, ctx);
  },
  render: (report, { json, color }, o) => ({
    ...(json ? { document: { ...report } } : renderVerify(report, color, { quiet: o.quiet, summary: o.all })),
    exitCode: report.ok ? EXIT_OK : EXIT_FAILED,
  }),
};
