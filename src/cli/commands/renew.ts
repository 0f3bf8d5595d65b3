import type { ConnectorResult } from '../../ops/connector.js';
import type { OpContext } from '../../ops/context.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes.js';
import { renderConnector } from '../render/connector.js';
import { choiceSchema, durationSchema, jsonOption, renewBeforeSchema, switchSchema, textSchema } from '../shared-options.js';
import { KEY_TYPES } from '../../core/keys.js';

const schema = (zod: Zod) =>
  zod.object({
    server: textSchema(zod),
    dir: textSchema(zod),
    renewBefore: renewBeforeSchema(zod),
    daemon: switchSchema(zod),
    exec: zod.optional(textSchema(zod)),
    signal: zod.optional(zod.string().check(zod.regex(/^\d+:(HUP|USR1|USR2|TERM|INT)$/, 'use PID:SIGNAL, e.g. 1234:HUP (HUP, USR1, USR2, TERM or INT)'))),
    retry: zod._default(durationSchema(zod), 30_000),
    key: zod.optional(choiceSchema(zod, KEY_TYPES)),
    force: switchSchema(zod),
    json: switchSchema(zod),
  });

type Options = ReturnType<ReturnType<typeof schema>['parse']>;

/** The longest the daemon sleeps before looking again (a clock change or a lost timer costs at most this). */
const MAX_SLEEP_MS = 3_600_000;

export const renewCommand: CommandSpec<ReturnType<typeof schema>, ConnectorResult> = {
  name: 'renew',
  summary: "re-enroll a connector's pair with pkictl serve when due (new key by default) and swap it in atomically; --daemon keeps doing it",
  examples: [
    'pkictl renew --server https://ca.internal:8443 --dir /etc/connector/certs          # cron-safe: exit 0 and says so when nothing is due',
    'pkictl renew --server https://ca.internal:8443 --dir ./certs --exec "systemctl reload connector"',
    'pkictl renew --server https://ca.internal:8443 --dir ./certs --daemon --signal "$(cat /run/connector.pid):HUP"',
    'kill -HUP <daemon pid>                                                         # the daemon renews at once',
  ],
  exitCodes: ['0  renewed, or nothing was due (the message says which); the daemon: stopped by SIGTERM/SIGINT', '1  the server refused or could not be reached (nothing was changed), or the hook failed', '2  bad flag, DIR holds no pair'],
  options(c) {
    c.requiredOption('--server <url>', 'the EST server: https://host:port (pkictl serve)');
    c.requiredOption('--dir <dir>', 'the connector directory (ca.crt, client.crt, client.key)');
    c.option('--renew-before <window>', 'renew within this share of the lifetime left (33%, the default) or this long before expiry (30d)');
    c.option('--daemon', 'keep running: renew at the window (with random jitter), retry with backoff, renew at once on SIGHUP; one log line per event');
    c.option('--exec <command>', 'run after each swap (sh -c), with PKICTL_CERT, PKICTL_KEY, PKICTL_CA, PKICTL_TENANT, PKICTL_SERIAL');
    c.option('--signal <pid:signal>', 'send a signal after each swap, e.g. 1234:HUP');
    c.option('--retry <duration>', 'first wait after a failure, doubled each time up to 1h (default 30s)');
    c.option('--key <type>', 'key type of the new pair (default: the type of the current key)');
    c.option('--force', 'renew now even if not due');
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const { renew } = await import('../../ops/connector.js');
    const { DEFAULT_RENEW_BEFORE } = await import('../../core/renewal.js');
    const request = { server: o.server, dir: o.dir, renewBefore: o.renewBefore ?? DEFAULT_RENEW_BEFORE, force: o.force, key: o.key };
    if (!o.daemon) return afterSwap(await renew(request, ctx), o, ctx);
    return daemon(o, request, ctx);
  },
  render: (r, { json }) => {
    const exitCode = r.hook && !r.hook.ok ? EXIT_FAILED : EXIT_OK;
    return json ? { document: { ...r }, exitCode } : { stderr: renderConnector(r), exitCode };
  },
};

/** The hooks after a swap: --exec, then --signal. */
async function afterSwap(result: ConnectorResult, o: Options, ctx: OpContext): Promise<ConnectorResult> {
  if (!result.renewed) return result;
  let hook: ConnectorResult['hook'];
  if (o.exec !== undefined) {
    const { join } = await import('node:path');
    const ran = await ctx.runHook(o.exec, { PKICTL_CERT: join(o.dir, 'client.crt'), PKICTL_KEY: join(o.dir, 'client.key'), PKICTL_CA: join(o.dir, 'ca.crt'), PKICTL_TENANT: result.tenantId, PKICTL_SERIAL: result.serial });
    hook = { ...ran, ok: ran.code === 0 };
  }
  if (o.signal !== undefined) {
    const [pid, name] = o.signal.split(':');
    try {
      process.kill(Number(pid), `SIG${name}` as NodeJS.Signals);
      hook ??= { code: 0, signal: null, ok: true };
    } catch (error) {
      hook = { code: 1, signal: null, ok: false };
      ctx.notify(`warning: could not signal ${pid}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  }
  return hook ? { ...result, hook } : result;
}

/**
 * The renew agent: sleeps until the renewal window opens (plus up to a tenth of the window, at most
 * an hour, of random jitter, so thousands of connectors issued together do not renew together),
 * renews, runs the hooks; after a failure retries with doubling waits (jittered, at most an hour).
 * SIGHUP renews at once; SIGTERM/SIGINT stop it between renewals. One line per event on stderr.
 */
async function daemon(o: Options, request: Parameters<typeof import('../../ops/connector.js').renew>[0], ctx: OpContext): Promise<ConnectorResult> {
  const { renew, renewalState } = await import('../../ops/connector.js');
  const log = (message: string) => process.stderr.write(`${new Date().toISOString()} pkictl renew: ${message}\n`);
  let wake: (() => void) | undefined;
  let stopBy: string | undefined;
  let renewNow = false;
  const onHup = () => {
    renewNow = true;
    log('SIGHUP: renewing now');
    wake?.();
  };
  const onStop = (signal: NodeJS.Signals) => {
    stopBy = signal;
    wake?.();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  log(`started for ${o.dir} against ${o.server}`);
  let failures = 0;
  let last: ConnectorResult | undefined;
  try {
    while (stopBy === undefined) {
      let waitMs: number;
      let attempting = false;
      try {
        const now = new Date();
        const { cert, decision } = renewalState(o.dir, request.renewBefore, now);
        if (decision.due || renewNow) {
          attempting = true;
          last = await afterSwap(await renew({ ...request, force: renewNow }, { ...ctx, now }), o, ctx);
          renewNow = false;
          log(renderConnector(last).trim());
          failures = 0;
          continue;
        }
        const window = cert.notAfter.getTime() - decision.renewAt.getTime();
        const jitter = Math.random() * Math.min(window / 10, MAX_SLEEP_MS);
        waitMs = Math.min(decision.renewAt.getTime() + jitter - now.getTime(), MAX_SLEEP_MS);
        if (failures === 0 && !last) log(`next renewal from ${decision.renewAt.toISOString()} (${decision.reason})`);
        last ??= { dir: o.dir, server: o.server, renewed: false, reason: decision.reason, tenantId: cert.commonName ?? '', serial: cert.serialHex, notAfter: cert.notAfter.toISOString() };
      } catch (error) {
        // A renewal that failed (due, or asked for with SIGHUP) is tried again after the wait.
        if (attempting) renewNow = true;
        failures++;
        waitMs = Math.min(o.retry * 2 ** (failures - 1), MAX_SLEEP_MS) * (0.5 + Math.random());
        log(`failed (${failures} in a row): ${error instanceof Error ? error.message : String(error)}; retrying in ${Math.round(waitMs / 1000)} s`);
      }
      if (stopBy === undefined) await sleep(Math.max(waitMs, 0)); // a SIGTERM during a renewal: stop now
    }
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
  }
  log(`stopped (${stopBy})`);
  return { ...last!, reason: `daemon stopped by ${stopBy}` };
}
