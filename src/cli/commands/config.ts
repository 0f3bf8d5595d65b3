import type { ProfilesReport, RecordProfilesResult } from '../../ops/config.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { profilesJson, renderProfiles, renderRecorded } from '../render/config.js';
import { actorOption, actorSchema, dirOption, jsonOption, listSchema, switchSchema, templateOption, textSchema } from '../shared-options.js';

const showSchema = (zod: Zod) => zod.object({ dir: textSchema(zod), json: switchSchema(zod) });

/** `pkictl config show`, registered under a `config` group in main.ts. */
export const configShowCommand: CommandSpec<ReturnType<typeof showSchema>, ProfilesReport> = {
  name: 'show',
  summary: "the profiles this tree issues with (certs/pkictl.json): subject, days, key type, SANs, tenant id rule",
  examples: ['pkictl config show', 'pkictl config show --dir /srv/pki/certs --json'],
  exitCodes: ['0  shown', '2  bad flag, no CA, or an invalid pkictl.json'],
  options(c) {
    dirOption(c);
    jsonOption(c);
  },
  schema: showSchema,
  async run(o, ctx) {
    const [{ showProfiles }, { treeProfiles }] = await Promise.all([import('../../ops/config.js'), import('../../store/templates.js')]);
    return showProfiles(o.dir, await treeProfiles(o.dir), ctx);
  },
  render: (r, { json, color }) => (json ? { document: profilesJson(r) } : { stdout: renderProfiles(r, color) }),
};

const setSchema = (zod: Zod) =>
  zod.object({ dir: textSchema(zod), json: switchSchema(zod), template: listSchema(zod, textSchema(zod)), force: switchSchema(zod), actor: actorSchema(zod) });

export const configSetCommand: CommandSpec<ReturnType<typeof setSchema>, RecordProfilesResult> = {
  name: 'set',
  summary: 'record new profiles in the tree (certs/pkictl.json): every later command issues, renews and recognises tenants by them',
  examples: [
    'pkictl config set --template ops/client-wide.json       # e.g. a tenantIdPattern for non-UUID tenant ids',
    'pkictl config set --template ops/server-prod.json --template ops/client-30d.json --actor alice',
  ],
  exitCodes: ['0  recorded (an audit line names the roles and the new file\'s SHA-256)', '1  could not be written (the old file is kept)', '2  bad flag or template, no CA, or tenants the new client profile would not recognise (without --force)'],
  options(c) {
    dirOption(c);
    templateOption(c, 'root, server or client');
    c.option('--force', 'record a client profile even if some tenant directories no longer match its tenant id rule');
    actorOption(c);
    jsonOption(c);
  },
  schema: setSchema,
  async run(o, ctx) {
    const [{ recordProfiles }, { profilesFor, ROLES }] = await Promise.all([import('../../ops/config.js'), import('../../store/templates.js')]);
    return recordProfiles({ dir: o.dir, actor: o.actor, profiles: await profilesFor(o.dir, o.template, ROLES, true), force: o.force }, ctx);
  },
  render: (r, { json, color }) => (json ? { document: { ...profilesJson(r), replaced: r.replaced, strangers: r.strangers } } : { stderr: renderRecorded(r, color) }),
};
