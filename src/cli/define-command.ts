import type { Command } from 'commander';
import type { z } from 'zod/mini';
import type { OpContext } from '../ops/context.js';

/** What a command hands back for printing: data on stdout, talk on stderr. */
export interface Rendered {
  stdout?: string;
  /** The --json document (without schemaVersion): the runner writes it to stdout with toJson. */
  document?: Record<string, unknown>;
  stderr?: string;
  exitCode?: number;
}

export interface RenderOptions {
  json: boolean;
  color: boolean;
}

/** What a schema is built from: the part of zod that src/cli/zod.ts re-exports. */
export type Zod = typeof import('./zod.js');

export interface CommandSpec<Schema extends z.ZodMiniType, Result> {
  name: string;
  summary: string;
  /** commander argument syntax, e.g. "<tenant-id...>" */
  arguments?: string;
  examples: string[];
  exitCodes?: string[];
  options(command: Command): void;
  /** Built on first use so that zod is only loaded by commands that run. */
  schema(zod: Zod): Schema;
  run(options: z.output<Schema>, ctx: OpContext): Promise<Result>;
  /** `flags` are the parsed options, for the few renderers they shape (--verbose, --quiet). */
  render(result: Result, options: RenderOptions, flags: z.output<Schema>): Rendered;
}

/** Set by main.ts: runs a parsed command (validation, context, output, exit code). */
export type Runner = (spec: CommandSpec<z.ZodMiniType, unknown>, input: Record<string, unknown>) => Promise<void>;

function helpText(spec: CommandSpec<z.ZodMiniType, unknown>): string {
  let text = `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`;
  if (spec.exitCodes) text += `\nExit codes:\n${spec.exitCodes.map((e) => `  ${e}`).join('\n')}\n`;
  return text;
}

/** Adds `spec` under `parent`; positional arguments reach the schema as `args`. */
export function addCommand<Schema extends z.ZodMiniType, Result>(parent: Command, spec: CommandSpec<Schema, Result>, runner: Runner): Command {
  const command = parent.command(spec.name).description(spec.summary);
  if (spec.arguments) command.arguments(spec.arguments);
  spec.options(command);
  command.addHelpText('after', helpText(spec as unknown as CommandSpec<z.ZodMiniType, unknown>));
  command.action(async (...values: unknown[]) => {
    const self = values.at(-1) as Command;
    const positional = spec.arguments ? values[0] : undefined;
    await runner(spec as unknown as CommandSpec<z.ZodMiniType, unknown>, { ...self.optsWithGlobals(), args: positional });
  });
  return command;
}
