// zod/mini, the API the CLI's flag schemas use too (src/cli/zod.ts): functions instead of methods, so
// that the bundle holds only the zod code in use, which every command loads before it runs.
import * as z from 'zod/mini';
import { KEY_TYPES } from './keys.js';
import { parseSans } from './san.js';
import { SUBJECT_ATTRIBUTES, checkSubjectValue, type Subject } from './subject.js';
import { compileTenantIdPattern } from './tenant-id.js';

const subjectValue = (attribute: (typeof SUBJECT_ATTRIBUTES)[number]) =>
  z.string().check(
    z.superRefine((value, ctx) => {
      const problem = checkSubjectValue(attribute, value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  );

const SubjectSchema = z.strictObject(
  Object.fromEntries(SUBJECT_ATTRIBUTES.map((a) => [a, z.optional(subjectValue(a))])) as Record<
    (typeof SUBJECT_ATTRIBUTES)[number],
    z.ZodMiniOptional<z.ZodMiniString>
  >,
) satisfies z.ZodMiniType<Subject>;

/** A parser's error becomes the field's issue: loadProfile names the file and the field. */
const parsedBy = <I, T>(parse: (input: I) => T | Promise<T>) =>
  z.transform(async (input: I, ctx): Promise<T> => {
    try {
      return await parse(input);
    } catch (error) {
      ctx.issues.push({ code: 'custom', message: (error as Error).message, input });
      return z.NEVER;
    }
  });

const SansSchema = z.pipe(z.array(z.string()).check(z.minLength(1)), parsedBy((texts: string[]) => parseSans(texts)));

const base = {
  days: z.number().check(z.int(), z.minimum(1), z.maximum(36500)),
  key: z.enum(KEY_TYPES),
  subject: SubjectSchema,
};

/** An issuance profile: templates/{root,server,client}.json. The role fixes the extensions. Parse with safeParseAsync. */
export const ProfileSchema = z.discriminatedUnion('profile', [
  z.strictObject({ profile: z.literal('root'), ...base }),
  z.strictObject({ profile: z.literal('server'), ...base, sans: SansSchema }),
  z.strictObject({
    profile: z.literal('client'),
    ...base,
    // The CN is always the tenant id; a template cannot set it.
    subject: SubjectSchema.check(z.refine((s) => s.CN === undefined, { message: 'a client template cannot set CN: the CN is the tenant id' })),
    /** Widens the accepted tenant ids (default: lowercase UUID); the hard rules still apply. Compiled for a linear-time engine. */
    tenantIdPattern: z.optional(z.pipe(z.string(), parsedBy(compileTenantIdPattern))),
  }),
]);

export type Profile = z.output<typeof ProfileSchema>;
export type RootProfile = Extract<Profile, { profile: 'root' }>;
export type ServerProfile = Extract<Profile, { profile: 'server' }>;
export type ClientProfile = Extract<Profile, { profile: 'client' }>;
