import { directoryString, objectIdentifier, sequence, set, type Der } from './der-write.js';
import { inputError } from './errors.js';
import { escapeValue } from './name.js';
import { OID } from './oid.js';

/** Attributes pkictl writes, in the order OpenSSL's recipe encodes them (most general first). */
export const SUBJECT_ATTRIBUTES = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;
export type SubjectAttribute = (typeof SUBJECT_ATTRIBUTES)[number];
export type Subject = Partial<Record<SubjectAttribute, string>>;

export const ATTRIBUTE_OIDS: Record<SubjectAttribute, string> = { C: OID.country, ST: OID.state, L: OID.locality, O: OID.organization, OU: OID.organizationalUnit, CN: OID.commonName };

/** Upper bounds from RFC 5280 Appendix A (ub-common-name 64, ub-organization-name 64, ...). */
const MAX_LENGTH: Record<SubjectAttribute, number> = { C: 2, ST: 128, L: 128, O: 64, OU: 64, CN: 64 };

const present = (subject: Subject) => SUBJECT_ATTRIBUTES.filter((a) => subject[a] !== undefined);

/** The Name (DER): one RDN per attribute, in SUBJECT_ATTRIBUTES order. */
export function subjectDer(subject: Subject): Der {
  return sequence(...present(subject).map((a) => set(sequence(objectIdentifier(ATTRIBUTE_OIDS[a]), directoryString(subject[a]!)))));
}

/** "C=MX, ST=CDMX, O=Luzzi, CN=…": RFC 4514 escaping, the form inspect and the index show. */
export function subjectText(subject: Subject): string {
  return present(subject).map((a) => `${a}=${escapeValue(subject[a]!)}`).join(', ');
}

export function checkSubjectValue(attribute: SubjectAttribute, value: string): string | undefined {
  if (value.length === 0) return `${attribute} is empty`;
  if (value.length > MAX_LENGTH[attribute]) return `${attribute} is longer than ${MAX_LENGTH[attribute]} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${attribute} contains a control character`;
  return undefined;
}

/**
 * Parses `/C=MX/ST=CDMX/O=Luzzi/CN=Name` (openssl -subj) or `C=MX, ST=CDMX, O=Luzzi, CN=Name`.
 * A value may not contain the separator; that keeps the grammar free of escapes.
 */
export function parseSubject(text: string): Subject {
  const trimmed = text.trim();
  const parts = trimmed.startsWith('/') ? trimmed.slice(1).split('/') : trimmed.split(',');
  const subject: Subject = {};
  for (const part of parts) {
    const eq = part.indexOf('=');
    const attribute = part.slice(0, eq).trim() as SubjectAttribute;
    const value = part.slice(eq + 1).trim();
    if (eq < 0 || !SUBJECT_ATTRIBUTES.includes(attribute)) {
      throw inputError('SUBJECT_INVALID', `invalid subject '${text}': '${part.trim()}' is not one of ${SUBJECT_ATTRIBUTES.join(', ')}=value`);
    }
    const problem = checkSubjectValue(attribute, value) ?? (subject[attribute] !== undefined ? `${attribute} appears twice` : undefined);
    if (problem) throw inputError('SUBJECT_INVALID', `invalid subject '${text}': ${problem}`);
    subject[attribute] = value;
  }
  return subject;
}
