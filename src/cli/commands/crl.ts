import type { WriteCrlResult } from '../../ops/crl.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderCrl } from '../render/lifecycle.js';
import { shown } from '../render/text.js';
import { actorOption, actorSchema, crlDaysOrDefaultSchema, dirOption, jsonOption, passphraseOption, rootKeyOption, strictOption, switchSchema, textSchema } from '../shared-options.js';

const schema = (zod: Zod) =>
  zod.object({ dir: textSchema(zod), json: switchSchema(zod), passphraseFile: zod.optional(textSchema(zod)), strict: switchSchema(zod), actor: actorSchema(zod), days: crlDaysOrDefaultSchema(zod), root: switchSchema(zod), rootKey: zod.optional(textSchema(zod)) });

export const crlCommand: CommandSpec<ReturnType<typeof schema>, WriteCrlResult> = {
  name: 'crl',
  summary: 'write certs/crl.pem: a v2 CRL of every revoked certificate, signed by the CA',
  examples: [
    'pkictl crl                       # nextUpdate in 7 days; run it daily (cron) so the CRL never goes stale',
    'pkictl crl --days 30 --json',
    'openssl crl -in certs/crl.pem -CAfile certs/ca.crt -noout -verify',
    'pkictl crl --root --root-key /media/usb/ca.key  # root-crl.pem (revoked intermediates), signed by the root; nextUpdate in 365 days',
  ],
  exitCodes: ['0  written', '1  unexpected failure', '2  bad flag, no CA, wrong passphrase'],
  options(c) {
    dirOption(c);
    c.option('--days <n>', 'days until nextUpdate (default 7; 365 with --root)');
    c.option('--root', 'write root-crl.pem instead: what the root revoked (its intermediates), signed by the root key');
    rootKeyOption(c);
    passphraseOption(c);
    strictOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ writeCrl, writeRootCrl }, { readPassphrase }] = await Promise.all([import('../../ops/crl.js'), import('../passphrase.js')]);
    const request = { dir: o.dir, actor: o.actor, passphrase: await readPassphrase(o.passphraseFile) };
    if (o.root) return writeRootCrl({ ...request, days: o.days, rootKey: o.rootKey }, ctx);
    if (o.rootKey !== undefined) throw (await import('../../core/errors.js')).inputError('USAGE', '--root-key goes with --root: crl.pem is signed by the CA that signs the leaves');
    return writeCrl({ ...request, days: o.days ?? 7 }, ctx);
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stdout: `${shown(r.dir, r.crl.path)}\n`, stderr: renderCrl(r.dir, r.crl, color) }),
};
