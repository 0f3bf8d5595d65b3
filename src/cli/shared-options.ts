import { Option, type Command } from 'commander';
import type { z } from 'zod/mini';
import type { Zod } from './define-command.js';
import { KEY_TYPES } from '../core/keys.js';
import { tryParseDuration, tryParseRenewBefore, type RenewThreshold } from '../core/renewal.js';
import { REVOCATION_REASONS, type RevocationReason } from '../core/revocation.js';

/** For a repeatable flag: each use adds its value to the list. */
export const collect = (value: string, list: string[] = []) => [...list, value];

/** --dir: PKICTL_DIR when set, so a shell or a CI job names its tree once. */
export const dirOption = (c: Command) => c.option('--dir <dir>', 'CA directory (the certs/ tree; default PKICTL_DIR, else ./certs)', process.env.PKICTL_DIR || './certs');
export const jsonOption = (c: Command) => c.option('--json', 'print one JSON document on stdout');
export const forceOption = (c: Command) => c.option('--force', 'replace existing certificates and keys');
export const keyOption = (c: Command, what: string) =>
  c.addOption(new Option('--key <type>', `${what} key type (default from the tree's profile)`).choices(KEY_TYPES));
export const daysOption = (c: Command) => c.option('--days <n>', 'validity in days (default from the tree\'s profile)');
/** --template: a profile file whose `profile` field names the role it replaces (the tree's, from certs/pkictl.json). */
export const templateOption = (c: Command, roles: string) =>
  c.option('--template <file>', `a ${roles} profile (JSON, like templates/*.json) to use instead of the tree's (certs/pkictl.json); repeatable, one per role`, collect);
export const passphraseOption = (c: Command) =>
  c.option('--passphrase-file <file>', 'file whose first line is the CA key passphrase (or set PKICTL_CA_PASSPHRASE)');
/** --root-key: the root's key file when ca.key is kept offline (pkictl ca offline). */
export const rootKeyOption = (c: Command) => c.option('--root-key <file>', 'the root key (ca.key) from its offline media, when it is not in the tree');
export const strictOption = (c: Command) => c.option('--strict', 'refuse to use a CA key that group or others may read or write (default: warn)');
export const actorOption = (c: Command) => c.option('--actor <name>', 'who is acting, for the audit log (default PKICTL_ACTOR, else user@host)');
export const reasonOption = (c: Command, fallback: string = 'unspecified') => c.option('--reason <reason>', `RFC 5280 reason: ${REVOCATION_REASONS.join(', ')} (default ${fallback})`);

/** A non-empty string (commander hands every value over as a string). */
export const textSchema = (zod: Zod) => zod.string().check(zod.minLength(1));

/** A boolean flag: false when absent. */
export const switchSchema = (zod: Zod) => zod._default(zod.boolean(), false);

/** Repeatable flags and positional arguments: an empty list when absent. */
export const listSchema = <Item extends z.ZodMiniType<string, string>>(zod: Zod, item: Item) => zod._default(zod.array(item), []);

/**
 * A flag holding a whole number from `min` to `max`. Every way to miss (not a number, 0, too big) gets
 * the same sentence, which says what the flag takes: "--days must be a whole number of days from 1 to 36500".
 */
export const wholeNumberSchema = (zod: Zod, min: number, max: number, unit?: string) => {
  const message = `must be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`;
  return zod.pipe(zod.pipe(zod.string().check(zod.regex(/^\d+$/, message)), zod.transform(Number)), zod.int(message).check(zod.minimum(min, message), zod.maximum(max, message)));
};

/** A flag taking one of `values`: "--reason must be one of: unspecified, keyCompromise, …". */
export const choiceSchema = <const Values extends readonly [string, ...string[]]>(zod: Zod, values: Values, shown = values.join(', ')) =>
  zod.enum(values, { message: `must be one of: ${shown}` });

/** A number of days, 1 to `max`: validity (--days), CRL lifetime (crl --days, revoke --crl-days). */
const daysSchema = (zod: Zod, max: number) => wholeNumberSchema(zod, 1, max, 'days');

/** Days until a CRL's nextUpdate; a week unless told otherwise. */
export const crlDaysSchema = (zod: Zod) => zod._default(daysSchema(zod, 3650), 7);
/** A CRL lifetime whose default depends on the CRL (crl --root, intermediate revoke: the root's 365 days). */
export const crlDaysOrDefaultSchema = (zod: Zod) => zod.optional(daysSchema(zod, 3650));

/** --concurrency of the bulk commands. */
export const concurrencySchema = (zod: Zod) => zod.optional(wholeNumberSchema(zod, 1, 256));

export const actorSchema = (zod: Zod) => zod.optional(textSchema(zod));

/** zod fragments matching the flags above. */
export const sharedSchema = (zod: Zod) => ({
  dir: textSchema(zod),
  json: switchSchema(zod),
  template: listSchema(zod, textSchema(zod)),
  passphraseFile: zod.optional(textSchema(zod)),
  key: zod.optional(choiceSchema(zod, KEY_TYPES)),
  days: zod.optional(daysSchema(zod, 36500)),
  strict: switchSchema(zod),
  actor: actorSchema(zod),
});

/** The issuing intermediate's own profile (init --intermediate, intermediate renew): defaults from the root. */
export const intermediateOptions = (c: Command) => {
  c.addOption(new Option('--intermediate-key <type>', 'the intermediate\'s key type (default: the root\'s)').choices(KEY_TYPES));
  c.option('--intermediate-days <n>', 'the intermediate\'s validity in days (default 1825, 5 years; never past the root\'s end)');
  c.option('--intermediate-subject <dn>', 'the intermediate\'s subject (default: the root\'s, CN "<root CN> Issuing CA")');
};
export const intermediateSchema = (zod: Zod) => ({
  intermediateKey: zod.optional(choiceSchema(zod, KEY_TYPES)),
  intermediateDays: zod.optional(daysSchema(zod, 36500)),
  intermediateSubject: zod.optional(textSchema(zod)),
});

export const reasonSchema = (zod: Zod, fallback: RevocationReason = 'unspecified') => zod._default(choiceSchema(zod, REVOCATION_REASONS), fallback);

/** A zod transform from a parser that says what is wrong instead of throwing. */
const parsedBy = <T>(zod: Zod, parse: (text: string) => { ok: true; value: T } | { ok: false; message: string }) =>
  zod.pipe(
    zod.string(),
    zod.transform((text: string, ctx) => {
      const parsed = parse(text);
      if (parsed.ok) return parsed.value;
      ctx.issues.push({ code: 'custom', message: parsed.message, input: text });
      return zod.NEVER;
    }),
  );

/** A duration flag ("24h", "30d"): milliseconds. */
export const durationSchema = (zod: Zod) => parsedBy(zod, tryParseDuration);

/** --renew-before: a share of the lifetime left ("33%") or a duration before notAfter ("30d"). */
export const renewBeforeSchema = (zod: Zod) => zod.optional(parsedBy(zod, tryParseRenewBefore));

/** --expiring-within: a duration ("30d"), as a threshold that keeps its text for display. */
export const expiringWithinSchema = (zod: Zod) =>
  zod.optional(
    parsedBy(zod, (text): { ok: true; value: RenewThreshold } | { ok: false; message: string } => {
      const parsed = tryParseDuration(text);
      return parsed.ok ? { ok: true, value: { kind: 'duration', ms: parsed.value, text: text.trim() } } : parsed;
    }),
  );

/** A real calendar day: 2027-02-30 is refused instead of rolling over into March. */
const isCalendarDate = (text: string) => {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

/** --at: RFC 3339 (2027-01-01T00:00:00Z, offsets allowed) or a plain UTC date (2027-01-01). */
export const atSchema = (zod: Zod) => zod.optional(timeSchema(zod));

/** --since: a time as --at takes it, or a duration back from now (24h, 7d). */
export const sinceSchema = (zod: Zod) =>
  zod.optional(
    parsedBy(zod, (text): { ok: true; value: { at: Date } | { ago: number } } | { ok: false; message: string } => {
      const ago = tryParseDuration(text);
      if (ago.ok) return { ok: true, value: { ago: ago.value } };
      const at = timeSchema(zod).safeParse(text);
      if (at.success) return { ok: true, value: { at: at.data } };
      return { ok: false, message: `'${text}' is neither a time (2027-01-01, 2027-01-01T00:00:00Z) nor a duration back from now (24h, 7d)` };
    }),
  );

const timeSchema = (zod: Zod) =>
    zod
      .pipe(
        zod.string().check(
          zod.regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/i, 'use an RFC 3339 time such as 2027-01-01T00:00:00Z, or a date such as 2027-01-01'),
          zod.refine(isCalendarDate, 'not a real date'),
        ),
        zod.transform((text: string) => new Date(/T|\s/i.test(text) ? text : `${text}T00:00:00Z`)),
      )
      .check(zod.refine((date: Date) => !Number.isNaN(date.getTime()), 'not a real date'));
