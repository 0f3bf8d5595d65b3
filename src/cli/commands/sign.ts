import type { SignCsrResult } from '../../ops/sign-csr.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderSigned } from '../render/connector.js';
import { actorOption, dirOption, forceOption, jsonOption, passphraseOption, strictOption, sharedSchema, switchSchema, templateOption, textSchema } from '../shared-options.js';

const schema = (zod: Zod) => zod.object({ ...sharedSchema(zod), csr: textSchema(zod), tenant: zod.optional(textSchema(zod)), force: switchSchema(zod) });

export const signCommand: CommandSpec<ReturnType<typeof schema>, SignCsrResult> = {
  name: 'sign',
  summary: "certify a tenant's own key from its CSR: clients/<tenant-id>/client.crt only (the key stays on the connector)",
  examples: [
    'openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -subj "/CN=bf935f05-bf2e-4138-bfec-f4baaf99fecc" -out client.csr',
    'pkictl sign --csr client.csr > client.crt            # the certificate (leaf, then chain) on stdout',
    'pkictl sign --csr - --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc < client.csr   # refuse a CSR for any other tenant',
    'pkictl sign --csr client.der --json                  # DER works too; the PEM is in the JSON document',
    'pkictl sign --csr client.csr --force                 # the tenant had a key made here: move it to the connector\'s',
  ],
  exitCodes: [
    '0  signed: clients/<tenant-id>/client.crt written and recorded',
    '1  unexpected failure (nothing recorded without its certificate)',
    '2  bad CSR (not PKCS#10, bad signature, key refused, CN not a tenant id or not --tenant), key already certified for another holder or revoked for keyCompromise, the tenant holds a key made here without --force, no CA',
  ],
  options(c) {
    dirOption(c);
    c.requiredOption('--csr <file>', "PKCS#10 request, PEM or DER ('-' = stdin)");
    c.option('--tenant <id>', 'the tenant id the CSR must be for (its Subject CN)');
    templateOption(c, 'client');
    passphraseOption(c);
    strictOption(c);
    forceOption(c);
    actorOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ signCsr }, { readCsr }, { profilesFor }, { readPassphrase }, { readUserFile }] = await Promise.all([
      import('../../ops/sign-csr.js'),
      import('../../core/csr.js'),
      import('../../store/templates.js'),
      import('../passphrase.js'),
      import('../../store/files.js'),
    ]);
    const name = o.csr === '-' ? 'stdin' : o.csr;
    const csr = readCsr(await readUserFile(o.csr, name), name);
    const profile = (await profilesFor(o.dir, o.template, ['client'])).client;
    return signCsr(
      {
        dir: o.dir,
        actor: o.actor,
        csr,
        tenant: o.tenant,
        policy: { subject: profile.subject, days: profile.days, tenantIdPattern: profile.tenantIdPattern },
        force: o.force,
        passphrase: await readPassphrase(o.passphraseFile),
      },
      ctx,
    );
  },
  render: (r, { json, color }) => (json ? { document: { ...r } } : { stdout: r.issued.map((i) => i.pem).join(''), stderr: renderSigned(r, color) }),
};
