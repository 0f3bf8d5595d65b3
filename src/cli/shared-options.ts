import { Option, type Command } from 'commander';
import type { z } from 'zod';
import type { Zod } from './define-command.js';
import { KEY_TYPES } from '../core/keys.js';
import { REVOCATION_REASONS } from '../core/revocation.js';

/** For a repeatable flag: each use adds its value to the list. */
export const collect = (value: string, list: string[] = []) => [...list, value];

export const dirOption = (c: Command) => c.option('--dir <dir>', 'CA directory (the certs/ tree)', './certs');
export const jsonOption = (c: Command) => c.option('--json', 'print one JSON document on stdout');
export const forceOption = (c: Command) => c.option('--force', 'replace existing certificates and keys');
export const keyOption = (c: Command, what: string) =>
  c.addOption(new Option('--key <type>', `${what} key type (default from the template)`).choices(KEY_TYPES));
export const daysOption = (c: Command) => c.option('--days <n>', 'validity in days (default from the template)');
export const templateOption = (c: Command, file: string) => c.option('--template <file>', `issuance profile (default templates/${file})`);
export const passphraseOption = (c: Command) =>
  c.option('--passphrase-file <file>', 'file whose first line is the CA key passphrase (or set PKICTL_CA_PASSPHRASE)');
export const actorOption = (c: Command) => c.option('--actor <name>', 'who is acting, for the audit log (default PKICTL_ACTOR, else user@host)');
export const reasonOption = (c: Command) => c.option('--reason <reason>', `RFC 5280 reason: ${REVOCATION_REASONS.join(', ')} (default unspecified)`);

/** A flag holding a whole number (commander hands over strings), then checked against `range`. */
export const wholeNumberSchema = <Range extends z.ZodType<unknown, number>>(zod: Zod, range: Range, message = 'must be a whole number') =>
  zod.string().regex(/^\d+$/, message).transform(Number).pipe(range);

/** A number of days, 1 to `max`: validity (--days), CRL lifetime (crl --days, revoke --crl-days). */
const daysSchema = (zod: Zod, max: number) => wholeNumberSchema(zod, zod.number().int().min(1).max(max), 'must be a whole number of days');

/** Days until a CRL's nextUpdate; a week unless told otherwise. */
export const crlDaysSchema = (zod: Zod) => daysSchema(zod, 3650).default(7);

/** --concurrency of the bulk commands. */
export const concurrencySchema = (zod: Zod) => wholeNumberSchema(zod, zod.number().int().min(1).max(256));

/** zod fragments matching the flags above (commander hands over strings). */
export const sharedSchema = (zod: Zod) => ({
  dir: zod.string().min(1),
  json: zod.boolean().default(false),
  template: zod.string().min(1).optional(),
  passphraseFile: zod.string().min(1).optional(),
  key: zod.enum(KEY_TYPES).optional(),
  days: daysSchema(zod, 36500).optional(),
});

export const actorSchema = (zod: Zod) => zod.string().min(1).optional();

export const reasonSchema = (zod: Zod) => zod.enum(REVOCATION_REASONS, { message: `options are ${REVOCATION_REASONS.join(', ')}` }).default('unspecified');

/** A real calendar day: 2027-02-30 is refused instead of rolling over into March. */
const isCalendarDate = (text: string) => {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

/** --at: RFC 3339 (2027-01-01T00:00:00Z, offsets allowed) or a plain UTC date (2027-01-01). */
export const atSchema = (zod: Zod) =>
  zod
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/i, 'use an RFC 3339 time such as 2027-01-01T00:00:00Z, or a date such as 2027-01-01')
    .refine(isCalendarDate, 'not a real date')
    .transform((text) => new Date(/T|\s/i.test(text) ? text : `${text}T00:00:00Z`))
    .refine((date) => !Number.isNaN(date.getTime()), 'not a real date');
