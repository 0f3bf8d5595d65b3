import { inputError } from '../core/errors.js';
import { tenantIdProblem } from '../core/tenant-id.js';
import { printable } from '../core/visible-text.js';
import type { Role, TreeProfiles } from '../store/templates.js';
import type { OpContext } from './context.js';

export interface ProfilesReport {
  /** --dir as shown; config (pkictl.json) is relative to it. */
  dir: string;
  config: string;
  /** false: the tree has no pkictl.json and issues with the shipped templates. */
  recorded: boolean;
  profiles: TreeProfiles;
}

/** The profiles a tree issues with; exit 2 where there is no CA. */
export async function showProfiles(dir: string, profiles: TreeProfiles, ctx: OpContext): Promise<ProfilesReport> {
  const store = await ctx.openStore(dir);
  await store.assertCa();
  return { dir: store.layout.display(store.layout.root), config: store.layout.inTree(store.layout.config), recorded: profiles.recorded, profiles };
}

export interface RecordProfilesRequest {
  dir: string;
  actor?: string;
  /** The tree's profiles with the new ones in place (templates.ts profilesFor, recording). */
  profiles: TreeProfiles;
  /** Record a client profile whose tenant id rule no longer matches some tenant directories. */
  force: boolean;
}

export interface RecordProfilesResult extends ProfilesReport {
  replaced: Role[];
  /** Tenant directories the new client profile does not recognise (only with force). */
  strangers: string[];
}

/**
 * Records new profiles in the tree (pkictl.json), with an audit line. A client profile whose tenant
 * id rule would turn existing tenants into strangers (skipped by nothing, refused by rotate, reported
 * by audit) is refused unless forced.
 */
export async function recordProfiles(request: RecordProfilesRequest, ctx: OpContext): Promise<RecordProfilesResult> {
  const { profiles } = request;
  if (profiles.replaced.length === 0) throw inputError('USAGE', 'give the profiles to record with --template FILE (repeatable, one per role)');
  const store = await ctx.openStore(request.dir, { actor: request.actor });
  await store.assertCa();
  return store.withLock(async () => {
    const pattern = profiles.client.tenantIdPattern;
    const strangers = profiles.replaced.includes('client') ? (await store.tenantDirs()).filter((id) => tenantIdProblem(id, pattern) !== undefined) : [];
    if (strangers.length > 0 && !request.force) {
      const shown = strangers.slice(0, 3).map((id) => `'${printable(id)}'`).join(', ') + (strangers.length > 3 ? ` and ${strangers.length - 3} more` : '');
      throw inputError('CONFIG_STRANDS_TENANTS', `the new client profile does not recognise ${strangers.length} tenant${strangers.length === 1 ? '' : 's'} in ${store.layout.display(store.layout.clientsDir)} (${shown}); nothing was changed`, 'widen its tenantIdPattern, or pass --force and offboard those tenants');
    }
    const path = await store.saveConfig(profiles.documents, profiles.replaced);
    return { dir: store.layout.display(store.layout.root), config: store.layout.inTree(path), recorded: true, profiles, replaced: profiles.replaced, strangers };
  });
}
