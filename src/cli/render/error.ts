import { CommanderError } from 'commander';
import { PkiError } from '../../core/errors.js';
import { isSystemError, reasonOf } from '../../store/files.js';
import { EXIT_FAILED, EXIT_USAGE } from '../exit-codes.js';

/** The --json error document: `{"schemaVersion":1,"error":{"code","message","hint"}}` on stdout. */
export interface ErrorDocument {
  code: string;
  message: string;
  hint: string | null;
}

interface RenderedError {
  /** For stderr: "error: …", "hint: …", the stack with --debug. */
  lines: string[];
  /** What --json prints on stdout; none when commander only showed help or the version. */
  error?: ErrorDocument;
  exitCode: number;
}

/** A camelCase option key back to its flag: passphraseFile → --passphrase-file. */
export const flagName = (key: string) => (key === 'args' ? 'argument' : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);

/**
 * One flag's validation problem as a line: "--days must be …" when the schema words it as what the
 * flag must be (shared-options.ts does for every number and choice), else "invalid value for --x: …".
 * A problem of no single flag (a refine over the whole command) is a sentence of its own.
 */
export function flagProblem(key: string | undefined, message: string): string {
  if (key === undefined) return message;
  return message.startsWith('must ') ? `${flagName(key)} ${message}` : `invalid value for ${flagName(key)}: ${message}`;
}

/** Any error to "error: …" (+ "hint: …") and an exit code; the stack only with --debug. */
export function renderError(error: unknown, debug: boolean): RenderedError {
  if (error instanceof PkiError) {
    const lines = [`error: ${error.message}`];
    if (error.hint) lines.push(`hint: ${error.hint}`);
    if (debug && error.stack) lines.push(error.stack);
    const document = { code: error.code, message: error.message, hint: error.hint ?? null };
    return { lines, error: document, exitCode: error.kind === 'input' ? EXIT_USAGE : EXIT_FAILED };
  }
  if (error instanceof CommanderError) {
    // commander has already printed its own message ("error: unknown option '--x'", a suggestion below it).
    if (error.exitCode === 0) return { lines: [], exitCode: 0 };
    const [message = '', ...rest] = error.message.replace(/^error: /, '').split('\n');
    return { lines: [], error: { code: 'USAGE', message, hint: rest.join(' ') || null }, exitCode: EXIT_USAGE };
  }
  // A failed system call that no layer worded: the file and the cause are the whole story, in one
  // line ("certs/ca.crt: a part of the path is not a directory (stat)", not "ENOTDIR: …, stat '…'").
  if (isSystemError(error)) {
    const message = `${error.path ? `${error.path}: ` : ''}${reasonOf(error).reason} (${error.syscall})`;
    const lines = [`error: ${message}`];
    if (debug && error.stack) lines.push(error.stack);
    return { lines, error: { code: error.code ?? 'SYSTEM_ERROR', message, hint: null }, exitCode: EXIT_FAILED };
  }
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  const hint = 'rerun with --debug for details';
  const lines = [`error: ${message}`];
  if (debug && error instanceof Error && error.stack) lines.push(error.stack);
  else lines.push(`hint: ${hint}`);
  return { lines, error: { code: 'INTERNAL', message, hint }, exitCode: EXIT_FAILED };
}
