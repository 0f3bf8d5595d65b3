import { Command } from 'commander';
import type { z } from 'zod/mini';
import { inputError } from '../core/errors.js';
import { makeContext } from './context.js';
import { addCommand, type CommandSpec, type Runner } from './define-command.js';
import { initCommand } from './commands/init.js';
import { issueClientCommand } from './commands/issue-client.js';
import { issueServerCommand } from './commands/issue-server.js';
import { verifyCommand } from './commands/verify.js';
import { rotateCommand } from './commands/rotate.js';
import { revokeCommand } from './commands/revoke.js';
import { offboardCommand } from './commands/offboard.js';
import { historyCommand } from './commands/history.js';
import { crlCommand } from './commands/crl.js';
import { auditLogVerifyCommand } from './commands/audit-log.js';
import { auditLogShowCommand } from './commands/audit-log-show.js';
import { inspectCommand } from './commands/inspect.js';
import { listCommand } from './commands/list.js';
import { auditCommand } from './commands/audit.js';
import { caStatusCommand } from './commands/ca-status.js';
import { caOfflineCommand } from './commands/ca-offline.js';
import { caCompromisedCommand } from './commands/ca-compromised.js';
import { rolloverBeginCommand, rolloverFinishCommand, rolloverSwitchCommand } from './commands/ca-rollover.js';
import { intermediateRenewCommand } from './commands/intermediate-renew.js';
import { intermediateRevokeCommand } from './commands/intermediate-revoke.js';
import { configSetCommand, configShowCommand } from './commands/config.js';
import { signCommand } from './commands/sign.js';
import { serveCommand } from './commands/serve.js';
import { enrollCommand } from './commands/enroll.js';
import { renewCommand } from './commands/renew.js';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './commands/token.js';
import { flagProblem, renderError } from './render/error.js';
import { toJson } from './render/json.js';
import { colorFor } from './render/text.js';
import { reasonOf } from '../store/files.js';

/** package.json's version, put in by scripts/bundle.mjs (esbuild `define`). */
declare const PKICTL_VERSION: string;

/** A --json document on stdout: indented on a terminal, one line otherwise (JSON Lines when appended to a file). */
const printJson = (document: Record<string, unknown>) => process.stdout.write(toJson(document, { pretty: process.stdout.isTTY === true }));

/** Every command runs here: flags through its zod schema, one context, its renderer, its exit code. */
const runCommand: Runner = async (spec: CommandSpec<z.ZodMiniType, unknown>, input) => {
  // zod is loaded only once a command runs: --help and usage errors never pay for it.
  const zod = await import('./zod.js');
  const parsed = spec.schema(zod).safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw inputError('USAGE', flagProblem(issue.path[0] === undefined ? undefined : String(issue.path[0]), issue.message));
  }
  // --quiet (verify): nothing but the failures, so the notes along the way are dropped too.
  const quiet = (parsed.data as { quiet?: boolean }).quiet === true;
  const ctx = await makeContext((message) => void (quiet || process.stderr.write(`${message}\n`)), { strict: (parsed.data as { strict?: boolean }).strict === true });
  const result = await spec.run(parsed.data, ctx);
  const json = (parsed.data as { json?: boolean }).json === true;
  const out = spec.render(result, { json, color: colorFor(json ? process.stdout : process.stderr) }, parsed.data);
  if (out.document) printJson(out.document);
  if (out.stdout) process.stdout.write(out.stdout);
  if (out.stderr) process.stderr.write(out.stderr);
  process.exitCode = out.exitCode ?? 0;
};

function buildProgram(): Command {
  const program = new Command('pkictl')
    .description('Private CA for the gateway <-> connector mutual-TLS link')
    .version(PKICTL_VERSION)
    .option('--debug', 'show stack traces of unexpected errors')
    .showSuggestionAfterError()
    // Subcommands inherit exitOverride when they are created, so a usage error becomes exit 2 in one place.
    .exitOverride();
  addCommand(program, initCommand, runCommand);
  const issue = program.command('issue').description('issue the gateway server certificate or tenant client certificates');
  addCommand(issue, issueServerCommand, runCommand);
  addCommand(issue, issueClientCommand, runCommand);
  addCommand(program, signCommand, runCommand);
  addCommand(program, serveCommand, runCommand);
  addCommand(program, enrollCommand, runCommand);
  addCommand(program, renewCommand, runCommand);
  addCommand(program, verifyCommand, runCommand);
  addCommand(program, rotateCommand, runCommand);
  addCommand(program, revokeCommand, runCommand);
  addCommand(program, offboardCommand, runCommand);
  addCommand(program, crlCommand, runCommand);
  const auditLog = program.command('audit-log').description('the hash-chained audit log in certs/audit.log');
  addCommand(auditLog, auditLogVerifyCommand, runCommand);
  addCommand(auditLog, auditLogShowCommand, runCommand);
  addCommand(program, inspectCommand, runCommand);
  addCommand(program, listCommand, runCommand);
  addCommand(program, auditCommand, runCommand);
  addCommand(program, historyCommand, runCommand);
  const config = program.command('config').description("the profiles the tree issues with (certs/pkictl.json)");
  addCommand(config, configShowCommand, runCommand);
  addCommand(config, configSetCommand, runCommand);
  const ca = program.command('ca').description('the CA certificates of the tree and their lifecycle');
  addCommand(ca, caStatusCommand, runCommand);
  addCommand(ca, caOfflineCommand, runCommand);
  addCommand(ca, caCompromisedCommand, runCommand);
  const rollover = ca.command('rollover').description('replace the root in three phases: begin, switch, finish');
  addCommand(rollover, rolloverBeginCommand, runCommand);
  addCommand(rollover, rolloverSwitchCommand, runCommand);
  addCommand(rollover, rolloverFinishCommand, runCommand);
  const intermediate = program.command('intermediate').description('the issuing intermediate CA (pkictl init --intermediate)');
  addCommand(intermediate, intermediateRenewCommand, runCommand);
  addCommand(intermediate, intermediateRevokeCommand, runCommand);
  const token = program.command('token').description('one-time enrollment tokens for connectors that keep their own keys (pkictl serve)');
  addCommand(token, tokenCreateCommand, runCommand);
  addCommand(token, tokenListCommand, runCommand);
  addCommand(token, tokenRevokeCommand, runCommand);
  addHelpCommand(program);
  program.addHelpText('after', `
Examples:
  $ pkictl init                              # root CA in ./certs
  $ pkictl issue server                      # gateway certificate with the SANs of the tree's server profile
  $ pkictl issue client bf935f05-bf2e-4138-bfec-f4baaf99fecc
  $ pkictl verify --all                      # every certificate in ./certs, for its purpose
  $ pkictl rotate --dry-run                  # what is due for renewal
  $ pkictl list --check                      # exit 1 when anything is expiring, expired, revoked or invalid
  $ pkictl offboard bf935f05-bf2e-4138-bfec-f4baaf99fecc   # revoke, publish the CRL, archive clients/<id>/
  $ pkictl config show                       # the profiles this tree issues with (certs/pkictl.json)
`);
  return program;
}

/**
 * `pkictl help issue client`: commander's own help command looks at one name only (and showed the
 * help of `issue`), so this one walks the whole path of names down to the subcommand.
 */
function addHelpCommand(program: Command): void {
  program.helpCommand(false);
  program
    .command('help [command...]')
    .description('display help for a command, e.g. pkictl help issue client')
    .action((names: string[]) => {
      let command = program;
      for (const name of names) {
        const next = command.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!next) command.error(`error: unknown command '${names.join(' ')}'`);
        command = next!;
      }
      command.help();
    });
}

/**
 * A reader that went away (`pkictl list | head -1`): stdout is only written once a command has
 * finished, so stop quietly there, as cat does, instead of dying of an unhandled 'error' event. On
 * stderr (notes, progress) the run goes on: a bulk issuance is not cut short for want of an audience.
 */
function quietOnClosedPipes(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`error: cannot write the output: ${reasonOf(error).reason}\n`);
    process.exitCode = 1;
  });
  process.stderr.on('error', () => undefined);
}

/** --json among the options (not after `--`): errors are then a JSON document on stdout too. */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipes();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const { lines, error: document, exitCode } = renderError(error, argv.includes('--debug'));
    if (document && wantsJson(argv)) printJson({ error: document });
    for (const line of lines) process.stderr.write(`${line}\n`);
    process.exitCode = exitCode;
  }
}
