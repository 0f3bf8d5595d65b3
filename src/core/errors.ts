/** Exit status families: 1 = the operation ran and failed, 2 = the input or usage was wrong. */
export type ErrorKind = 'input' | 'failure';

/** An expected error: rendered as one line ("error: <message>") plus an optional hint, never a stack. */
export class PkiError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint?: string;
  /** The exact reason, for a log only: a server tells the client `message` and logs this (an unknown vs a used token). */
  readonly detail?: string;

  constructor(code: string, message: string, options: { kind?: ErrorKind; hint?: string; cause?: unknown; detail?: string } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PkiError';
    this.code = code;
    this.kind = options.kind ?? 'input';
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

export const inputError = (code: string, message: string, hint?: string) => new PkiError(code, message, { kind: 'input', hint });
export const failure = (code: string, message: string, hint?: string) => new PkiError(code, message, { kind: 'failure', hint });
/** A policy refusal (an input error) whose exact reason `detail` goes to a log only. */
export const refusal = (code: string, message: string, detail?: string) => new PkiError(code, message, { kind: 'input', detail });
