import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { inputError } from '../core/errors.js';
import { ProfileSchema, type ClientProfile, type Profile, type RootProfile, type ServerProfile } from '../core/profile.js';
import { readFile, readUserText, unreadable } from './files.js';
import { CONFIG_FILE } from './layout.js';
import { foreignLinkError, linkAt } from './links.js';

/*
 * Issuance profiles. A template file (templates/*.json, or the operator's) holds one profile; its
 * `profile` field names the role it is for. A tree records the three profiles it was made with in
 * certs/pkictl.json (written by `init`, changed only by `pkictl config set`), so that every command
 * on that tree issues, renews and recognises tenants by the same rules. A tree made before that file
 * existed uses the shipped templates until `pkictl config set` records its profiles.
 */

export const ROLES = ['root', 'server', 'client'] as const;
export type Role = (typeof ROLES)[number];

interface ProfileSet {
  root: RootProfile;
  server: ServerProfile;
  client: ClientProfile;
}

/** A tree's profiles, with the JSON they were read from (what `config set` writes back). */
export interface TreeProfiles extends ProfileSet {
  documents: Record<Role, unknown>;
  /** false: the tree has no pkictl.json and these are the shipped templates. */
  recorded: boolean;
  /** The roles a --template file replaced. */
  replaced: Role[];
}

/** A template as read: its JSON, kept to be recorded in a tree, and its validated profile. */
interface Template {
  file: string;
  document: unknown;
  profile: Profile;
}

const CONFIG_VERSION = 1;

const ConfigSchema = z.strictObject({
  schemaVersion: z.literal(CONFIG_VERSION),
  profiles: z.strictObject({ root: z.unknown(), server: z.unknown(), client: z.unknown() }),
});

/** The profiles shipped with pkictl: <package>/templates/{root,server,client}.json. */
const shippedTemplatePath = (role: Role) => fileURLToPath(new URL(`../../templates/${role}.json`, import.meta.url));

const firstIssue = (error: z.core.$ZodError) => {
  const issue = error.issues[0]!;
  return `field ${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`;
};

function parseJson(text: string, where: string, code: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw inputError(code, `${where}: not valid JSON (${(error as Error).message})`);
  }
}

/** Validates one profile's JSON; errors name `where` and the field. */
async function parseProfile(document: unknown, where: string, code: string): Promise<Profile> {
  const parsed = await ProfileSchema.safeParseAsync(document);
  if (!parsed.success) throw inputError(code, `${where}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

/** Reads and validates a template file; errors name the file and the field. */
async function readTemplate(file: string): Promise<Template> {
  const where = `template ${file}`;
  const document = parseJson(await readUserText(file, where), where, 'TEMPLATE_INVALID');
  return { file, document, profile: await parseProfile(document, where, 'TEMPLATE_INVALID') };
}

function requireRole<R extends Role>(profile: Profile, role: R, where: string, code: string): Extract<Profile, { profile: R }> {
  if (profile.profile !== role) throw inputError(code, `${where}: field profile: is '${profile.profile}', this needs a '${role}' profile`);
  return profile as Extract<Profile, { profile: R }>;
}

/** The shipped templates: what a tree without pkictl.json is issued with. */
async function shippedProfiles(): Promise<TreeProfiles> {
  const templates = await Promise.all(ROLES.map((role) => readTemplate(shippedTemplatePath(role))));
  const [root, server, client] = templates.map((t, i) => requireRole(t.profile, ROLES[i]!, `template ${t.file}`, 'TEMPLATE_INVALID')) as [RootProfile, ServerProfile, ClientProfile];
  return { root, server, client, documents: { root: templates[0]!.document, server: templates[1]!.document, client: templates[2]!.document }, recorded: false, replaced: [] };
}

/** certs/pkictl.json when the tree has one (a link is refused, as everywhere in the tree), else the shipped templates. */
export async function treeProfiles(dir: string): Promise<TreeProfiles> {
  const path = join(dir, CONFIG_FILE);
  const link = linkAt(path);
  if (link) throw foreignLinkError(link, (p) => p);
  const read = readFile(path);
  if (!read.ok && read.missing) return shippedProfiles();
  if (!read.ok) throw unreadable(path, read);
  const outer = ConfigSchema.safeParse(parseJson(Buffer.from(read.bytes).toString('utf8'), path, 'CONFIG_INVALID'));
  if (!outer.success) throw inputError('CONFIG_INVALID', `${path}: ${firstIssue(outer.error)}`);
  const { profiles } = outer.data;
  const profile = async <R extends Role>(role: R) => requireRole(await parseProfile(profiles[role], `${path} profiles.${role}`, 'CONFIG_INVALID'), role, `${path} profiles.${role}`, 'CONFIG_INVALID');
  const [root, server, client] = await Promise.all([profile('root'), profile('server'), profile('client')]);
  return { root, server, client, documents: profiles, recorded: true, replaced: [] };
}

/** The text of certs/pkictl.json holding these documents. */
export function configText(documents: Record<Role, unknown>): string {
  return `${JSON.stringify({ schemaVersion: CONFIG_VERSION, profiles: documents }, null, 2)}\n`;
}

const patternOf = (profile: ClientProfile) => profile.tenantIdPattern?.source;

/**
 * `tree` with each template in place of its role's profile, each role at most once and only the
 * roles in `roles`. Unless `recording` (init, config set), the tenant id rule stays the tree's: a
 * client template may restate the tree's tenantIdPattern but not change it, or the tenants issued
 * with it would be strangers to every other command.
 */
function withTemplates(tree: TreeProfiles, templates: Template[], roles: readonly Role[], options: { recording: boolean; configPath: string }): TreeProfiles {
  const result: TreeProfiles = { ...tree, documents: { ...tree.documents }, replaced: [] };
  for (const { file, document, profile } of templates) {
    const where = `template ${file}`;
    if (!roles.includes(profile.profile)) {
      throw inputError('TEMPLATE_ROLE', `${where}: field profile: is '${profile.profile}', this command takes ${roles.map((r) => `'${r}'`).join(' or ')} profiles`);
    }
    if (result.replaced.includes(profile.profile)) throw inputError('TEMPLATE_ROLE', `${where}: a second '${profile.profile}' template; give one per role`);
    if (!options.recording && profile.profile === 'client' && profile.tenantIdPattern !== undefined && patternOf(profile) !== patternOf(tree.client)) {
      const treeRule = tree.client.tenantIdPattern ? `the pattern ${tree.client.tenantIdPattern.source}` : 'lowercase UUIDs';
      throw inputError('TEMPLATE_PATTERN', `${where}: its tenantIdPattern differs from the tree's (${treeRule}), so other commands would not recognise these tenants`, `record it in the tree first: pkictl config set --template ${file} (it updates ${options.configPath})`);
    }
    Object.assign(result, { [profile.profile]: profile });
    result.documents[profile.profile] = document;
    result.replaced.push(profile.profile);
  }
  return result;
}

/**
 * What a command runs with: the tree's profiles (treeProfiles), each role replaced by a --template file
 * of that role; for this run only, unless `recording`.
 */
export async function profilesFor(dir: string, templateFiles: string[], roles: readonly Role[], recording = false): Promise<TreeProfiles> {
  const [tree, templates] = await Promise.all([treeProfiles(dir), Promise.all(templateFiles.map(readTemplate))]);
  return withTemplates(tree, templates, roles, { recording, configPath: join(dir, CONFIG_FILE) });
}
