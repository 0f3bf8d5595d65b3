import type { CommandSpec, Zod } from '../define-command.js';
import { collect, dirOption, durationSchema, listSchema, passphraseOption, switchSchema, templateOption, textSchema, wholeNumberSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({
    dir: textSchema(zod),
    template: listSchema(zod, textSchema(zod)),
    passphraseFile: zod.optional(textSchema(zod)),
    listen: zod._default(textSchema(zod), '127.0.0.1:8443'),
    cert: zod.optional(textSchema(zod)),
    key: zod.optional(textSchema(zod)),
    san: listSchema(zod, textSchema(zod)),
    rateLimit: zod._default(wholeNumberSchema(zod, 0, 100_000), 30),
    timeout: zod.optional(durationSchema(zod)),
    allowRenewalAfterExpiry: zod.optional(durationSchema(zod)),
    requireNewKey: switchSchema(zod),
  });

export interface ServeResult {
  dir: string;
  url: string;
  stoppedBy: string;
}

/** The days of serve's in-memory TLS certificate; it is renewed every day while serving. */
const IDENTITY_DAYS = 7;
const IDENTITY_RENEW_MS = 24 * 3_600_000;

export const serveCommand: CommandSpec<ReturnType<typeof schema>, ServeResult> = {
  name: 'serve',
  summary: 'an EST enrollment server (RFC 7030): connectors enroll with a one-time token, then re-enroll with their current certificate',
  examples: [
    'pkictl serve                                    # https://127.0.0.1:8443/.well-known/est/, access log (JSON lines) on stdout',
    'pkictl serve --listen 0.0.0.0:8443 --san DNS:ca.internal.luzzi.com',
    'pkictl serve --cert est.crt --key est.key --rate-limit 10 --require-new-key',
    'pkictl serve --allow-renewal-after-expiry 7d    # a connector that was offline may still renew for a week',
    'curl --cacert certs/ca.crt https://127.0.0.1:8443/.well-known/est/cacerts | base64 -d | openssl pkcs7 -inform DER -print_certs',
  ],
  exitCodes: ['0  stopped by SIGTERM or SIGINT (requests in flight finished)', '1  could not start (port in use, CA unusable)', '2  bad flag, no CA'],
  options(c) {
    dirOption(c);
    c.option('--listen <host:port>', 'address to listen on (default 127.0.0.1:8443; port 0 picks a free one)');
    c.option('--cert <file>', "the server's TLS certificate (PEM, chain after it); default: one issued at start by the tree's CA, its key in memory only");
    c.option('--key <file>', 'the key of --cert');
    c.option('--san <type:value>', 'names of the issued TLS certificate (DNS:name or IP:address); repeatable; default: the --listen host, localhost, 127.0.0.1 and this host name', collect);
    c.option('--rate-limit <n>', 'requests per minute per tenant (default 30; 0 = none)');
    c.option('--timeout <duration>', 'a whole request must arrive within this (default 30s; headers within 10s at most)');
    c.option('--allow-renewal-after-expiry <duration>', 're-enrollment with a certificate expired less than this long ago (default: never)');
    c.option('--require-new-key', 'refuse re-enrollment with the same key');
    templateOption(c, 'client');
    passphraseOption(c);
  },
  schema: (zod) => schema(zod),
  async run(o, ctx) {
    const [{ EnrollmentService }, { startEstServer }, { profilesFor }, { readPassphrase }, { readUserText }, { parseSans }, { inputError }, { hostname }] = await Promise.all([
      import('../../ops/est.js'),
      import('../../est/server.js'),
      import('../../store/templates.js'),
      import('../passphrase.js'),
      import('../../store/files.js'),
      import('../../core/san.js'),
      import('../../core/errors.js'),
      import('node:os'),
    ]);
    const listen = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(o.listen);
    if (!listen || Number(listen[2]) > 65535) throw inputError('USAGE', `invalid value for --listen: '${o.listen}' is not HOST:PORT`);
    const host = listen[1]!.replace(/^\[|\]$/g, '');
    if ((o.cert === undefined) !== (o.key === undefined)) throw inputError('USAGE', "flags '--cert' and '--key' go together");
    const profile = (await profilesFor(o.dir, o.template, ['client'])).client;
    const service = await EnrollmentService.open(
      {
        dir: o.dir,
        passphrase: await readPassphrase(o.passphraseFile),
        policy: { subject: profile.subject, days: profile.days, tenantIdPattern: profile.tenantIdPattern, requireNewKey: o.requireNewKey, renewalAfterExpiryMs: o.allowRenewalAfterExpiry ?? 0 },
      },
      ctx,
    );
    const wildcard = host === '0.0.0.0' || host === '::';
    const sans = parseSans(o.san.length > 0 ? o.san : [...new Set([...(wildcard || host === 'localhost' ? [] : [`${host.includes(':') || /^\d+(\.\d+){3}$/.test(host) ? 'IP' : 'DNS'}:${host}`]), 'DNS:localhost', 'IP:127.0.0.1', `DNS:${hostname()}`])]);
    const identity = o.cert !== undefined ? { certPem: await readUserText(o.cert), keyPem: await readUserText(o.key!) } : await service.tlsIdentity(sans, IDENTITY_DAYS);
    const server = await startEstServer({
      host,
      port: Number(listen[2]),
      tls: { cert: identity.certPem, key: identity.keyPem, ca: await service.trustAnchorsPem() },
      service,
      ratePerMinute: o.rateLimit,
      requestTimeoutMs: o.timeout ?? 30_000,
      log: (entry) => process.stdout.write(JSON.stringify(entry) + '\n'),
    });
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${server.port}${'/.well-known/est/'}`;
    ctx.notify(`pkictl serve: listening on ${url} for ${service.dir} (stop with SIGTERM or Ctrl-C)`);
    // Daily: a new in-memory identity (unless --cert), and ca.crt's roots as the client trust anchors again (a rollover since).
    const renewal = setInterval(async () => {
      try {
        const id = o.cert === undefined ? await service.tlsIdentity(sans, IDENTITY_DAYS) : identity;
        server.setIdentity(id.certPem, id.keyPem, await service.trustAnchorsPem());
      } catch (error) {
        ctx.notify(`warning: could not renew the TLS certificate: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, IDENTITY_RENEW_MS);
    const stoppedBy = await new Promise<string>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        ctx.notify(`pkictl serve: ${signal}: finishing the requests in flight`);
        clearInterval(renewal);
        void server.close().then(() => resolve(signal));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return { dir: service.dir, url, stoppedBy };
  },
  render: (r) => ({ stderr: `pkictl serve: stopped (${r.stoppedBy})\n` }),
};
