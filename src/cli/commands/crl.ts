import type { WriteCrlResult } from '../../ops/crl.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderCrl } from '../render/lifecycle.js';
import { shown } from '../render/text.js';
import { actorOption, actorSchema, crlDaysSchema, dirOption, jsonOption, passphraseOption, strictOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({ dir: textSchema(zod), json: switchSchema(zod), passphraseFile: zod.optional(textSchema(zod)), strict: switchSchema(zod), actor: actorSchema(zod), days: crlDaysSchema(zod) });

export const crlCommand: CommandSpec<ReturnType<typeof schema>, WriteCrlResult> = {
  name: 'crl',
  summary: 'write certs/crl.pem: a v2 CRL of every revoked certificate, signed by the CA',
  examples: [
    'pkictl crl                       # nextUpdate in 7 days; run it daily (cron) so the CRL never goes stale',
    'pkictl crl --days 30 --json',
    'openssl crl -in certs/crl.pem -CAfile certs/ca.crt -noout -verify',
  ],
  exitCodes: ['0  written', '1  unexpected failure', '2  bad flag, no CA, wrong passphrase'],
  options(c) {
    dirOption(c);
    c.option('--days <n>', 'days until nextUpdate (default 7)');
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ writeCrl }, { readPassphrase }] = await Promise.all([import('../../ops/crl.js'), import('../passphrase.js')]);
    return writeCrl({ dir: o.dir, days: o.days, actor: o.actor, passphrase: await readPassphrase(o.passphraseFile) }, ctx);
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stdout: `${shown(r.dir, r.crl.path)}\n`, stderr: renderCrl(r.dir, r.crl, color) }),
};
