import type { Certificate } from './cert.js';
import { directoryString, objectIdentifier, sequence, set, type Der } from './der-write.js';
import { inputError } from './errors.js';
import { escapeValue } from './name.js';
import { OID } from './oid.js';
import { printable, visibleTextProblem } from './visible-text.js';

/** The attributes pkictl writes, as a certificate holds them: to issue again with the same subject. */
export function subjectOf(cert: Certificate): Subject {
  const subject: Subject = {};
  for (const attr of SUBJECT_ATTRIBUTES) {
    const value = cert.subjectAttribute(ATTRIBUTE_OIDS[attr]);
    if (value !== undefined) subject[attr] = value;
  }
  return subject;
}

/** Attributes pkictl writes, in the order OpenSSL's recipe encodes them (most general first). */
export const SUBJECT_ATTRIBUTES = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const;
export type SubjectAttribute = (typeof SUBJECT_ATTRIBUTES)[number];
export type Subject = Partial<Record<SubjectAttribute, string>>;

export const ATTRIBUTE_OIDS: Record<SubjectAttribute, string> = { C: OID.country, ST: OID.state, L: OID.locality, O: OID.organization, OU: OID.organizationalUnit, CN: OID.commonName };

/**
 * Upper bounds in characters, RFC 5280 Appendix A: ub-country-name-alpha-length 2, ub-state-name 128,
 * ub-locality-name 128, ub-organization-name 64, ub-organizational-unit-name 64, ub-common-name 64.
 */
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

/**
 * Why `value` cannot be the subject's `attribute`, naming both (the value escaped), or undefined.
 * countryName is a PrintableString of exactly two letters (an ISO 3166 code, RFC 5280 Appendix A);
 * every other attribute a visible name (core/visible-text.ts) within its upper bound.
 */
export function checkSubjectValue(attribute: SubjectAttribute, value: string): string | undefined {
  const problem = subjectValueProblem(attribute, value);
  return problem && `${attribute} '${printable(value)}': ${problem}`;
}

function subjectValueProblem(attribute: SubjectAttribute, value: string): string | undefined {
  if (value.length === 0) return 'it is empty';
  if (attribute === 'C') return /^[A-Za-z]{2}$/.test(value) ? undefined : 'a country is two letters A-Z, its ISO 3166 code (MX, US, DE)';
  const length = [...value].length;
  if (length > MAX_LENGTH[attribute]) return `it is ${length} characters long, the limit is ${MAX_LENGTH[attribute]} (RFC 5280)`;
  return visibleTextProblem(value);
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
      throw inputError('SUBJECT_INVALID', `invalid subject '${printable(text)}': '${printable(part.trim())}' is not one of ${SUBJECT_ATTRIBUTES.join(', ')}=value`);
    }
    const problem = checkSubjectValue(attribute, value) ?? (subject[attribute] !== undefined ? `${attribute} appears twice` : undefined);
    if (problem) throw inputError('SUBJECT_INVALID', `invalid subject '${printable(text)}': ${problem}`);
    subject[attribute] = value;
  }
  return subject;
}
