import type { VerifyReport } from '../../ops/verify-files.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { toJson } from '../render/json.js';
import { renderVerify } from '../render/verify.js';
import { atSchema, collect, dirOption, jsonOption, listSchema, switchSchema, textSchema, wholeNumberSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod
    .object({
      dir: textSchema(zod),
      json: switchSchema(zod),
      all: switchSchema(zod),
      ca: listSchema(zod, textSchema(zod)),
      untrusted: listSchema(zod, textSchema(zod)),
      crl: listSchema(zod, textSchema(zod)),
      purpose: zod._default(zod.enum(['server', 'client', 'any']), 'any'),
      hostname: zod.optional(textSchema(zod)),
      ip: zod.optional(zod.union([zod.ipv4(), zod.ipv6()])),
      email: zod.optional(zod.string().check(zod.regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address'))),
      at: atSchema(zod),
      maxDepth: zod.optional(wholeNumberSchema(zod, zod.int().check(zod.maximum(100_000)))),
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
    c.option('--purpose <purpose>', 'server | client | any: the EKU the leaf must carry', 'any');
    c.option('--hostname <name>', 'DNS name the leaf must carry in its SANs (the CN is never used)');
    c.option('--ip <address>', 'IP address the leaf must carry in its SANs');
    c.option('--email <address>', 'email address the leaf must carry in its SANs');
    c.option('--at <time>', 'validate at this RFC 3339 time instead of now');
    c.option('--max-depth <n>', 'most intermediate CAs allowed between the leaf and the anchor');
    c.option('--expect-cn <value>', 'the leaf\'s CN must be exactly this (e.g. the tenant id)');
    c.option('--all', 'verify server.crt and every clients/<id>/client.crt in --dir (revocation by <dir>/crl.pem when present)');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { verifyFiles } = await import('../../ops/verify-files.js');
    return verifyFiles({ ...o, files: o.args, chain: o.json }, ctx);
  },
  render: (report, { json, color }) => ({
    stdout: json ? toJson({ ok: report.ok, at: report.at, files: report.files }) : renderVerify(report, color),
    exitCode: report.ok ? EXIT_OK : EXIT_FAILED,
  }),
};
