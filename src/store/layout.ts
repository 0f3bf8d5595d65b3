import { join, relative, resolve, sep } from 'node:path';
import { assertTenantId, type TenantIdPattern } from '../core/tenant-id.js';

/** The tree's record of its profiles (templates.ts). */
export const CONFIG_FILE = 'pkictl.json';

/** The certs/ contract that the gateway and the connectors read. Every path is built here. */
export class Layout {
  readonly root: string;
  /** The directory that paths are shown relative to (the caller's working directory). */
  private readonly cwd: string;

  constructor(root: string, cwd: string) {
    this.cwd = cwd;
    this.root = resolve(cwd, root);
  }

  get caCert() { return join(this.root, 'ca.crt'); }
  get caKey() { return join(this.root, 'ca.key'); }
  /** The issuing CA when the root stays offline (pkictl init --intermediate): it signs every leaf and crl.pem. */
  get intermediateCert() { return join(this.root, 'intermediate.crt'); }
  get intermediateKey() { return join(this.root, 'intermediate.key'); }
  /** The root's CRL (revoked intermediates), signed by ca.key. */
  get rootCrl() { return join(this.root, 'root-crl.pem'); }
  /** CA certificates (and keys) no longer in use but still needed: a retired intermediate signs its leaves' CRL until they expire. */
  get authoritiesDir() { return join(this.root, 'authorities'); }
  /** A root rollover in progress (pkictl ca rollover): the new root's pair until it signs, and the phase. */
  get rolloverDir() { return join(this.root, 'rollover'); }
  get nextRootCert() { return join(this.rolloverDir, 'ca.crt'); }
  get nextRootKey() { return join(this.rolloverDir, 'ca.key'); }
  get rolloverState() { return join(this.rolloverDir, 'state.json'); }
  /** Where a compromise drill stands (pkictl ca compromised), so that a rerun resumes it. */
  get drillState() { return join(this.rolloverDir, 'compromise.json'); }
  /** Where a retired CA's certificate and key are kept (authorities/<serial>.crt|key). */
  retiredCert(serial: string) { return join(this.authoritiesDir, `${serial}.crt`); }
  retiredKey(serial: string) { return join(this.authoritiesDir, `${serial}.key`); }
  get serverCert() { return join(this.root, 'server.crt'); }
  get serverKey() { return join(this.root, 'server.key'); }
  get clientsDir() { return join(this.root, 'clients'); }
  /** Versions of the server pair; server.crt/server.key link into server-pair/current/. */
  get serverPairDir() { return join(this.root, 'server-pair'); }
  get index() { return join(this.root, 'index.jsonl'); }
  get auditLog() { return join(this.root, 'audit.log'); }
  get crl() { return join(this.root, 'crl.pem'); }
  /** The profiles the tree issues with (templates.ts). */
  get config() { return join(this.root, CONFIG_FILE); }
  /** Offboarded tenants (pkictl offboard): archive/clients/<id>/<stamp>/, each a former clients/<id>/. */
  get archiveDir() { return join(this.root, 'archive'); }
  get archivedClientsDir() { return join(this.archiveDir, 'clients'); }

  /** The tenant id is validated again here, so no caller can build a path outside clients/. */
  clientDir(tenantId: string, pattern?: TenantIdPattern): string {
    const dir = join(this.clientsDir, assertTenantId(tenantId, pattern));
    if (relative(this.clientsDir, dir).includes(sep) || !dir.startsWith(this.clientsDir + sep)) {
      throw new Error(`tenant path escapes clients/: ${tenantId}`);
    }
    return dir;
  }
  /** archive/clients/<id>/: every time the tenant was offboarded, one directory. */
  archivedTenantDir(tenantId: string, pattern?: TenantIdPattern): string {
    return join(this.archivedClientsDir, assertTenantId(tenantId, pattern));
  }
  /** Where clients/<id>/ goes when the tenant is offboarded; `stamp` is made by the store (time and serial). */
  archivedClientDir(tenantId: string, stamp: string, pattern?: TenantIdPattern): string {
    return join(this.archivedTenantDir(tenantId, pattern), stamp);
  }
  clientCert(tenantId: string, pattern?: TenantIdPattern) { return join(this.clientDir(tenantId, pattern), 'client.crt'); }
  clientKey(tenantId: string, pattern?: TenantIdPattern) { return join(this.clientDir(tenantId, pattern), 'client.key'); }

  /** Paths as shown to people: relative to the working directory, e.g. certs/ca.crt. */
  display(path: string): string {
    return relative(this.cwd, path) || '.';
  }

  /** Paths in --json documents: relative to --dir, e.g. clients/<id>/client.crt (the document's `dir` is display(root)). */
  inTree(path: string): string {
    return relative(this.root, path) || '.';
  }
}
