import { fileURLToPath } from 'node:url';
import { inputError } from '../core/errors.js';
import { ProfileSchema, type Profile } from '../core/profile.js';
import { readUserText } from './files.js';

/** The profiles shipped with pkictl: <package>/templates/{root,server,client}.json. */
const defaultTemplatePath = (name: Profile['profile']) => fileURLToPath(new URL(`../../templates/${name}.json`, import.meta.url));

/** Reads and validates a template; errors name the file and the field. */
export async function loadProfile<K extends Profile['profile']>(kind: K, path = defaultTemplatePath(kind)): Promise<Extract<Profile, { profile: K }>> {
  const text = await readUserText(path, `template ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw inputError('TEMPLATE_INVALID', `template ${path}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = await ProfileSchema.safeParseAsync(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw inputError('TEMPLATE_INVALID', `template ${path}: field ${field}: ${issue.message}`);
  }
  if (parsed.data.profile !== kind) {
    throw inputError('TEMPLATE_INVALID', `template ${path}: field profile: is '${parsed.data.profile}', this command needs a '${kind}' profile`);
  }
  return parsed.data as Extract<Profile, { profile: K }>;
}
