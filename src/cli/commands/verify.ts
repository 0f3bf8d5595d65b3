import type { z } from 'zod';
import type { Purpose } from '../../core/verify.js';
import type { VerifyReport } from '../../ops/verify-files.js';
import type { OpContext } from '../../ops/context.js';
import type { CommandSpec, Runner } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { toJson } from '../render/json.js';
import { renderVerify } from '../render/verify.js';
import { atSchema, dirOption, jsonOption } from '../shared-options.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

// RFC 3339 with a zone: 2024-03-01T00:00:00Z, 2024-03-01T00:00:00.5+01:00

const schema = (zod: typeof z) =>
  zod
    .object({
      dir: zod.string().min(1),
      json: zod.boolean().default(false),
      all: zod.boolean().default(false),
      ca: zod.array(zod.string().min(1)).default([]),
      untrusted: zod.array(zod.string().min(1)).default([]),
      crl: zod.array(zod.string().min(1)).default([]),
      purpose: zod.enum(['server', 'client', 'any']).default('any'),
      hostname: zod.string().min(1).optional(),
      ip: zod.ipv4().or(zod.ipv6()).optional(),
      email: zod.string().regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address').optional(),
      at: atSchema(zod).optional(),
      maxDepth: zod.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(zod.number().int().max(100_000)).optional(),
      expectCn: zod.string().min(1).optional(),
      args: zod.array(zod.string()).default([]),
    })
    .refine((o) => !(o.all && o.args.length), { message: 'give either --all or certificate files, not both', path: ['all'] })
    .refine((o) => o.all || o.args.length > 0, { message: 'give at least one certificate file (or --all)', path: ['args'] })
    .refine((o) => !(o.all && (o.hostname || o.ip || o.email || o.expectCn)), {
      message: '--all takes the names from the tree; it cannot be combined with --hostname, --ip, --email or --expect-cn',
      path: ['all'],
    });

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
    '1  at least one chain failed (each line says why; --json lists failures[].code)',
    '2  usage or input error: unreadable file, not a certificate, bad flag (nothing verified)',
  ],
  options(c) {
    dirOption(c);
    c.option('--ca <file>', 'trust anchor(s), PEM bundle or DER; repeatable (default <dir>/ca.crt)', collect);
    c.option('--untrusted <file>', 'intermediate certificates to build the chain from; repeatable', collect);
    c.option('--crl <file>', 'CRL(s) to check revocation against; repeatable', collect);
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
    await tuneForFiles(o.args.length);
    const { verifyFiles } = await import('../../ops/verify-files.js');
    return verifyFiles({ ...o, files: o.args, chain: o.json }, ctx);
  },
  render: (report, { json, color }) => ({
    stdout: json ? toJson({ ok: report.ok, at: report.at, files: report.files }) : renderVerify(report, color),
    exitCode: report.ok ? EXIT_OK : EXIT_FAILED,
  }),
};

/**
 * For a batch of files (not one, not tens of thousands) V8's optimizing compiler costs more than it
 * saves: pkictl exits before much compiled code runs, and the compiler threads take the second core
 * that checks the signatures. Measured with 1,000 RSA-4096-signed files (bench/verify.mjs, load ~1):
 * 424 ms wall and 106 ms of CPU off the main thread without it, 524 ms and 325 ms with it. With 10,000
 * files the two are even (1.72 s vs 1.75 s), so from there on V8 keeps its defaults. Only this process.
 */
async function tuneForFiles(count: number): Promise<void> {
  if (count < 64 || count >= 10_000) return;
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--no-opt');
}

const PURPOSES = new Set(['server', 'client', 'any']);
const names = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== ''));
const text = (v: unknown) => v === undefined || (typeof v === 'string' && v !== '');

/**
 * `pkictl verify [--ca F] [--untrusted F] [--crl F] [--purpose P] [--hostname H] [--expect-cn CN] FILE…`
 * (text output) skips zod and the crypto context, so checking one file starts about as fast as node.
 * It accepts only inputs the schema would accept unchanged; everything else (--json, --all, --at, --ip,
 * --email, --max-depth, odd values) goes to the normal runner, which validates and reports as before.
 */
export const verifyRunner =
  (fallback: Runner): Runner =>
  async (spec, input) => {
    const o = input as Record<string, unknown>;
    const args = o.args;
    const simple =
      o.json === undefined && o.all === undefined && o.at === undefined && o.ip === undefined && o.email === undefined && o.maxDepth === undefined &&
      typeof o.dir === 'string' && o.dir !== '' && typeof o.purpose === 'string' && PURPOSES.has(o.purpose) &&
      names(o.ca) && names(o.untrusted) && names(o.crl) && text(o.hostname) && text(o.expectCn) &&
      Array.isArray(args) && args.length > 0 && args.every((a) => typeof a === 'string');
    if (!simple) return fallback(spec, input);
    await tuneForFiles((args as string[]).length);
    const [{ verifyFiles }, { processContext }] = await Promise.all([import('../../ops/verify-files.js'), import('../context.js')]);
    // verifyFiles checks signatures with node:crypto itself: no WebCrypto provider to set up.
    const ctx: OpContext = { crypto: undefined as unknown as OpContext['crypto'], ...processContext((message) => void process.stderr.write(`${message}\n`)) };
    const report = await verifyFiles(
      {
        files: args as string[], dir: o.dir as string, ca: (o.ca as string[]) ?? [], untrusted: (o.untrusted as string[]) ?? [], crl: (o.crl as string[]) ?? [],
        purpose: o.purpose as Purpose, hostname: o.hostname as string | undefined, expectCn: o.expectCn as string | undefined, all: false, chain: false,
      },
      ctx,
    );
    const out = verifyCommand.render(report, { json: false, color: !('NO_COLOR' in process.env) && process.stderr.isTTY === true });
    if (out.stdout) process.stdout.write(out.stdout);
    if (out.stderr) process.stderr.write(out.stderr);
    process.exitCode = out.exitCode ?? 0;
  };
