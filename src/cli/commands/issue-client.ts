import type { z } from 'zod';
import type { IssuedPair } from '../../ops/context.js';
import type { CommandSpec } from '../define-command.js';
import { toJson } from '../render/json.js';
import { renderIssued } from '../render/text.js';
import { daysOption, dirOption, forceOption, jsonOption, keyOption, passphraseOption, sharedSchema, templateOption } from '../shared-options.js';

const schema = (zod: typeof z) =>
  zod.object({ ...sharedSchema(zod), force: zod.boolean().default(false), args: zod.array(zod.string()).min(1, 'give at least one tenant id') });

export const issueClientCommand: CommandSpec<ReturnType<typeof schema>, IssuedPair[]> = {
  name: 'client',
  summary: 'issue one client certificate per tenant: clients/<tenant-id>/client.crt and client.key (CN = tenant id, clientAuth)',
  arguments: '<tenant-id...>',
  examples: [
    'pkictl issue client bf935f05-bf2e-4138-bfec-f4baaf99fecc',
    'pkictl issue client 0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11 5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c --json',
    'pkictl issue client --key ec-p256 --days 30 bf935f05-bf2e-4138-bfec-f4baaf99fecc --force',
  ],
  exitCodes: ['0  issued', '1  unexpected failure', '2  bad tenant id or flag, no CA, or a tenant already has a pair without --force (nothing written)'],
  options(c) {
    dirOption(c);
    daysOption(c);
    keyOption(c, 'client');
    templateOption(c, 'client.json');
    passphraseOption(c);
    forceOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ issueClients }, { loadProfile }, { readPassphrase }] = await Promise.all([
      import('../../ops/issue-clients.js'),
      import('../../store/templates.js'),
      import('../passphrase.js'),
    ]);
    const profile = await loadProfile('client', o.template);
    return issueClients(
      {
        dir: o.dir,
        tenantIds: o.args,
        tenantIdPattern: profile.tenantIdPattern,
        subject: profile.subject,
        days: o.days ?? profile.days,
        key: o.key ?? profile.key,
        force: o.force,
        passphrase: await readPassphrase(o.passphraseFile),
      },
      ctx,
    );
  },
  render: (pairs, { json, color }) => (json ? { stdout: toJson({ issued: pairs }) } : { stderr: renderIssued(pairs, color) }),
};
