import type { ConnectorResult } from '../../ops/connector.js';
import type { CommandSpec, Zod } from '../define-command.js';
import { renderConnector } from '../render/connector.js';
import { choiceSchema, forceOption, jsonOption, switchSchema, textSchema } from '../shared-options.js';
import { KEY_TYPES } from '../../core/keys.js';

const schema = (zod: Zod) =>
  zod
    .object({
      server: textSchema(zod),
      tenant: textSchema(zod),
      dir: textSchema(zod),
      tokenFile: zod.optional(textSchema(zod)),
      token: zod.optional(zod.string()),
      ca: zod.optional(textSchema(zod)),
      fingerprint: zod.optional(textSchema(zod)),
      key: zod._default(choiceSchema(zod, KEY_TYPES), 'ec-p256'),
      force: switchSchema(zod),
      json: switchSchema(zod),
    })
    .check(
      zod.refine((o) => o.token === undefined, { message: 'a token on the command line is visible to every user (ps); pass it with --token-file FILE or PKICTL_TOKEN', path: ['token'] }),
      zod.refine((o) => (o.ca === undefined) !== (o.fingerprint === undefined), { message: 'give the root to trust: --ca FILE or --fingerprint SHA256 (one of them)', path: ['ca'] }),
    );

export const enrollCommand: CommandSpec<ReturnType<typeof schema>, ConnectorResult> = {
  name: 'enroll',
  summary: "a connector's first pair from pkictl serve (EST): the key is made here and never sent; DIR/ca.crt, client.crt, client.key",
  examples: [
    'PKICTL_TOKEN=… pkictl enroll --server https://ca.internal:8443 --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc --dir /etc/connector/certs --fingerprint 5e:3a:…',
    'pkictl enroll --server https://ca.internal:8443 --token-file /run/secrets/token --tenant bf935f05-bf2e-4138-bfec-f4baaf99fecc --dir ./certs --ca root.crt',
    'openssl x509 -in certs/ca.crt -noout -fingerprint -sha256     # on the CA host: the fingerprint to give the connector',
  ],
  exitCodes: ['0  enrolled: DIR/ca.crt, client.crt and client.key written', '1  the server refused (the reason is shown), could not be reached, or its root does not match --fingerprint', '2  bad flag, no token, DIR holds a pair already without --force'],
  options(c) {
    c.requiredOption('--server <url>', 'the EST server: https://host:port (pkictl serve)');
    c.requiredOption('--tenant <id>', 'this connector\'s tenant id (the certificate\'s CN)');
    c.requiredOption('--dir <dir>', 'where the connector reads ca.crt, client.crt and client.key');
    c.option('--token-file <file>', "the one-time enrollment token ('-' = stdin; or set PKICTL_TOKEN)");
    c.option('--token <token>', 'refused: a command line is visible to every user; use --token-file or PKICTL_TOKEN');
    c.option('--ca <file>', 'the root certificate to trust the server with');
    c.option('--fingerprint <sha256>', 'or the SHA-256 of that root: it is fetched from the server and checked before anything is sent');
    c.option('--key <type>', 'key to make: ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096');
    forceOption(c);
    jsonOption(c);
  },
  schema,
  async run(o, ctx) {
    const [{ enroll }, { readUserText }, { inputError }] = await Promise.all([import('../../ops/connector.js'), import('../../store/files.js'), import('../../core/errors.js')]);
    const token = (o.tokenFile !== undefined ? await readUserText(o.tokenFile, o.tokenFile === '-' ? 'stdin' : o.tokenFile, 'passphrase') : (process.env.PKICTL_TOKEN ?? '')).trim();
    if (token === '') throw inputError('TOKEN_MISSING', 'no enrollment token: pass --token-file FILE or set PKICTL_TOKEN', 'the CA operator makes one with pkictl token create <tenant-id>');
    const ca = o.ca !== undefined ? await readUserText(o.ca) : undefined;
    return enroll({ server: o.server, token, tenant: o.tenant, dir: o.dir, ca, fingerprint: o.fingerprint, key: o.key, force: o.force }, ctx);
  },
  render: (r, { json }) => (json ? { document: { ...r } } : { stderr: renderConnector(r) }),
};
