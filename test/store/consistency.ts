import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { cli, readIndex } from './fixture.js';

export interface Consistency {
  /** Lines of index.jsonl that are not JSON objects (1-based). */
  badIndexLines: number[];
  /** Tenant directories whose deployed certificate the index does not list as valid. */
  unrecorded: string[];
  /** Tenants the index lists as valid whose deployed certificate is another one, or missing. */
  phantoms: string[];
  auditLogVerify: { code: number | null; out: string };
}

/**
 * Does the index describe the tree, and does the audit log's chain hold? Read straight from the files
 * (and `pkictl audit-log verify`), not through the store under test.
 */
export async function consistency(dir: string): Promise<Consistency> {
  const text = await readFile(join(dir, 'index.jsonl'), 'utf8');
  const badIndexLines: number[] = [];
  text.split('\n').forEach((line, i, all) => {
    if (i === all.length - 1 && line === '') return;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) badIndexLines.push(i + 1);
    } catch {
      badIndexLines.push(i + 1);
    }
  });
  const index = badIndexLines.length === 0 ? await readIndex(dir) : new Map();
  const validByTenant = new Map<string, string>();
  for (const [serial, e] of index) if (e.kind === 'client' && e.status === 'valid') validByTenant.set(e.tenantId!, serial);
  const unrecorded: string[] = [];
  const phantoms: string[] = [];
  const tenants = (await readdir(join(dir, 'clients')).catch(() => [] as string[])).filter((n) => !n.startsWith('.'));
  for (const tenant of tenants) {
    const deployed = await readFile(join(dir, 'clients', tenant, 'client.crt')).then((pem) => new X509Certificate(pem).serialNumber.toLowerCase(), () => undefined);
    const recorded = validByTenant.get(tenant);
    if (deployed === undefined || recorded !== deployed) (recorded === undefined ? unrecorded : phantoms).push(tenant);
  }
  for (const tenant of validByTenant.keys()) if (!tenants.includes(tenant)) phantoms.push(tenant);
  const v = await cli(['audit-log', 'verify', '--dir', dir]);
  return { badIndexLines, unrecorded, phantoms, auditLogVerify: { code: v.code, out: (v.stdout + v.stderr).trim() } };
}
