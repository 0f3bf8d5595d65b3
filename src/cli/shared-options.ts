import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { KEY_TYPES } from '../core/keys.js';

export const dirOption = (c: Command) => c.option('--dir <dir>', 'CA directory (the certs/ tree)', './certs');
export const jsonOption = (c: Command) => c.option('--json', 'print one JSON document on stdout');
export const forceOption = (c: Command) => c.option('--force', 'replace existing certificates and keys');
export const keyOption = (c: Command, what: string) =>
  c.addOption(new Option('--key <type>', `${what} key type (default from the template)`).choices(KEY_TYPES));
export const daysOption = (c: Command) => c.option('--days <n>', 'validity in days (default from the template)');
export const templateOption = (c: Command, file: string) => c.option('--template <file>', `issuance profile (default templates/${file})`);
export const passphraseOption = (c: Command) =>
  c.option('--passphrase-file <file>', 'file whose first line is the CA key passphrase (or set PKICTL_CA_PASSPHRASE)');

/** zod fragments matching the flags above (commander hands over strings). */
export const sharedSchema = (zod: typeof z) => ({
  dir: zod.string().min(1),
  json: zod.boolean().default(false),
  template: zod.string().min(1).optional(),
  passphraseFile: zod.string().min(1).optional(),
  key: zod.enum(KEY_TYPES).optional(),
  days: zod
    .string()
    .regex(/^\d+$/, 'must be a whole number of days')
    .transform(Number)
    .pipe(zod.number().int().min(1).max(36500))
    .optional(),
});
