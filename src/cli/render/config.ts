import type { ProfilesReport, RecordProfilesResult } from '../../ops/config.js';
import { formatSan } from '../../core/san.js';
import { subjectText } from '../../core/subject.js';
import { painter, shown } from './text.js';

/** One line per role: subject, lifetime, key type, and the server's SANs or the client's tenant id rule. */
export function renderProfiles(r: ProfilesReport, color: boolean): string {
  const c = painter(color);
  const { root, server, client } = r.profiles;
  const config = shown(r.dir, r.config);
  const source = r.recorded ? config : `${config} is absent: the shipped templates apply (record them with pkictl config set)`;
  const line = (role: string, p: { subject: object; days: number; key: string }, extra: string) =>
    `${c.bold(role.padEnd(7))}${subjectText(p.subject) || '(empty subject)'} · ${p.days} days · ${p.key}${extra}`;
  return [
    source,
    line('root', root, ''),
    line('server', server, ` · SANs ${server.sans.map(formatSan).join(', ')}`),
    line('client', client, ` · tenant ids: ${client.tenantIdPattern ? `pattern ${client.tenantIdPattern.source}` : 'lowercase UUIDs'}`),
  ].join('\n') + '\n';
}

export function renderRecorded(r: RecordProfilesResult, color: boolean): string {
  const c = painter(color);
  const lines = [`${c.green('✓')} Recorded the ${r.replaced.join(' and ')} profile${r.replaced.length === 1 ? '' : 's'} in ${shown(r.dir, r.config)}`];
  if (r.strangers.length > 0) lines.push(`${c.yellow('!')} ${r.strangers.length} tenant director${r.strangers.length === 1 ? 'y no longer matches' : 'ies no longer match'} the client profile: offboard them`);
  return `${lines.join('\n')}\n${renderProfiles(r, color)}`;
}

/** --json: the profiles as recorded (the template documents), not their parsed form. */
export const profilesJson = (r: ProfilesReport) => ({ dir: r.dir, config: r.config, recorded: r.recorded, profiles: r.profiles.documents });
