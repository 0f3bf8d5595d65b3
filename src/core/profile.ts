// A namespace import, not `{ z }`: esbuild then bundles only the zod code in use (~130 of ~590 KB; src/cli/zod.ts).
import * as z from 'zod';
import { KEY_TYPES } from './keys.js';
import { parseSan, type San } from './san.js';
import { SUBJECT_ATTRIBUTES, checkSubjectValue, type Subject } from './subject.js';

const subjectValue = (attribute: (typeof SUBJECT_ATTRIBUTES)[number]) =>
  z.string().superRefine((value, ctx) => {
    const problem = checkSubjectValue(attribute, value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const SubjectSchema = z.strictObject(
  Object.fromEntries(SUBJECT_ATTRIBUTES.map((a) => [a, subjectValue(a).optional()])) as Record<
    (typeof SUBJECT_ATTRIBUTES)[number],
    z.ZodOptional<z.ZodString>
  >,
) satisfies z.ZodType<Subject>;

export const SanSchema = z.string().transform((text, ctx): San => {
  try {
    return parseSan(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

export const DaysSchema = z.number().int().min(1).max(36500);

const base = {
  days: DaysSchema,
  key: z.enum(KEY_TYPES),
  subject: SubjectSchema,
};

/** An issuance profile: templates/{root,server,client}.json. The role fixes the extensions. */
export const ProfileSchema = z.discriminatedUnion('profile', [
  z.strictObject({ profile: z.literal('root'), ...base }),
  z.strictObject({ profile: z.literal('server'), ...base, sans: z.array(SanSchema).min(1) }),
  z.strictObject({
    profile: z.literal('client'),
    ...base,
    // The CN is always the tenant id; a template cannot set it.
    subject: SubjectSchema.refine((s) => s.CN === undefined, { message: 'a client template cannot set CN: the CN is the tenant id' }),
    /** Widens the accepted tenant ids (default: lowercase UUID); the hard path-safety rules still apply. */
    tenantIdPattern: z
      .string()
      .refine((p) => { try { new RegExp(p, 'u'); return true; } catch { return false; } }, { message: 'not a valid regular expression' })
      .optional(),
  }),
]);

export type Profile = z.output<typeof ProfileSchema>;
export type RootProfile = Extract<Profile, { profile: 'root' }>;
export type ServerProfile = Extract<Profile, { profile: 'server' }>;
export type ClientProfile = Extract<Profile, { profile: 'client' }>;
