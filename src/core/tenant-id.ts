import { inputError } from './errors.js';

/** Canonical lowercase UUID (RFC 9562 text form, 8-4-4-4-12 hex). */
export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/**
 * Returns why `id` cannot be a tenant id, or undefined when it can. Whatever pattern a template sets,
 * the hard rules keep the id a single, visible path segment under clients/ and a valid CN
 * (ub-common-name = 64, RFC 5280).
 */
export function tenantIdProblem(id: string, pattern = UUID_PATTERN): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > 64) return 'it is longer than 64 characters (the X.509 CN limit)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'it contains a control character';
  if (/[/\\]/.test(id)) return "it contains '/' or '\\'";
  if (id.includes('..')) return "it contains '..'";
  if (id.startsWith('.')) return "it starts with '.'";
  if (!new RegExp(pattern, 'u').test(id)) {
    if (pattern === UUID_PATTERN && new RegExp(pattern).test(id.toLowerCase())) {
      return `tenant ids are lowercase UUIDs; use '${id.toLowerCase()}'`;
    }
    return pattern === UUID_PATTERN ? 'it is not a UUID (8-4-4-4-12 lowercase hex)' : `it does not match the template's pattern ${pattern}`;
  }
  return undefined;
}

export function assertTenantId(id: string, pattern?: string): string {
  const problem = tenantIdProblem(id, pattern);
  if (problem) throw inputError('TENANT_ID_INVALID', `invalid tenant id '${printable(id)}': ${problem}`);
  return id;
}

/** Shows control characters as escapes so an error message stays on one line. */
export function printable(text: string): string {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
  return shown.slice(1, -1);
}
