import { inputError } from './errors.js';
import { printable, visibleTextProblem } from './visible-text.js';

/** The default tenant id: a canonical lowercase UUID (RFC 9562 text form, 8-4-4-4-12 hex). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Longest tenant id: it is the certificate's CN (ub-common-name = 64, RFC 5280 Appendix A). */
const MAX_LENGTH = 64;

/** A template's tenantIdPattern, compiled for a linear-time engine when the template is loaded. */
export interface TenantIdPattern {
  readonly source: string;
  test(id: string): boolean;
}

/**
 * Compiles a template's tenantIdPattern with RE2 (re2js, pure JavaScript): matching takes time linear
 * in the id whatever the pattern, where a backtracking engine (JavaScript's RegExp) spends seconds per
 * id on patterns such as ^(a+)+$, and `rotate` tests every name under clients/. RE2 syntax is
 * JavaScript's for everything a name pattern needs; it has no lookaround or backreferences (those are
 * what cannot run in linear time), and writes code points as \x{e9}. Loaded only for a template that
 * sets a pattern. Throws with RE2's reason when the pattern does not compile.
 */
export async function compileTenantIdPattern(source: string): Promise<TenantIdPattern> {
  const { RE2JS } = await import('re2js');
  try {
    const re = RE2JS.compile(source);
    return { source, test: (id) => re.test(id) };
  } catch (error) {
    throw inputError('TEMPLATE_INVALID', `not a pattern pkictl can run (RE2 syntax: no lookaround or backreferences): ${(error as Error).message}`);
  }
}

/**
 * Returns why `id` cannot be a tenant id, or undefined when it can. The hard rules come first, whatever
 * pattern a template sets: a visible name (no controls, bidi or other hidden characters, no space at
 * either end), a single path segment under clients/, and a valid CN.
 */
export function tenantIdProblem(id: string, pattern?: TenantIdPattern): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} characters (the X.509 CN limit)`;
  const hidden = visibleTextProblem(id);
  if (hidden) return hidden;
  if (/[/\\]/.test(id)) return "it contains '/' or '\\'";
  if (id.includes('..')) return "it contains '..'";
  if (id.startsWith('.')) return "it starts with '.'";
  if (pattern) return pattern.test(id) ? undefined : `it does not match the client profile's pattern ${printable(pattern.source)}`;
  if (UUID.test(id)) return undefined;
  return UUID.test(id.toLowerCase()) ? `tenant ids are lowercase UUIDs; use '${id.toLowerCase()}'` : 'it is not a UUID (8-4-4-4-12 lowercase hex)';
}

export function assertTenantId(id: string, pattern?: TenantIdPattern): string {
  const problem = tenantIdProblem(id, pattern);
  if (problem) throw inputError('TENANT_ID_INVALID', `invalid tenant id '${printable(id)}': ${problem}`);
  return id;
}
