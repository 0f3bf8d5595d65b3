import { CommanderError } from 'commander';
import { PkiError } from '../../core/errors.js';
import { isSystemError, reasonOf } from '../../store/files.js';
import { EXIT_FAILED, EXIT_USAGE } from '../exit-codes.js';

interface RenderedError {
  lines: string[];
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
    return { lines, exitCode: error.kind === 'input' ? EXIT_USAGE : EXIT_FAILED };
  }
  if (error instanceof CommanderError) {
    // commander has already printed its own one-line message.
    return { lines: [], exitCode: error.exitCode === 0 ? 0 : EXIT_USAGE };
  }
  // A failed system call that no layer worded: the file and the cause are the whole story, in one
  // line ("certs/ca.crt: a part of the path is not a directory (stat)", not "ENOTDIR: …, stat '…'").
  if (isSystemError(error)) {
    const lines = [`error: ${error.path ? `${error.path}: ` : ''}${reasonOf(error).reason} (${error.syscall})`];
    if (debug && error.stack) lines.push(error.stack);
    return { lines, exitCode: EXIT_FAILED };
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`error: ${message.split('\n')[0]}`];
  if (debug && error instanceof Error && error.stack) lines.push(error.stack);
  else lines.push('hint: rerun with --debug for details');
  return { lines, exitCode: EXIT_FAILED };
}
