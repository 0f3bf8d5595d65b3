/** Exit status families: 1 = the operation ran and failed, 2 = the input or usage was wrong. */
export type ErrorKind = 'input' | 'failure';

/** An expected error: rendered as one line ("error: <message>") plus an optional hint, never a stack. */
export class PkiError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint?: string;

  constructor(code: string, message: string, options: { kind?: ErrorKind; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PkiError';
    this.code = code;
    this.kind = options.kind ?? 'input';
    this.hint = options.hint;
  }
}

export const inputError = (code: string, message: string, hint?: string) => new PkiError(code, message, { kind: 'input', hint });
export const failure = (code: string, message: string, hint?: string) => new PkiError(code, message, { kind: 'failure', hint });
