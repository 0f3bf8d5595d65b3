import { isIP } from 'node:net';
import { inputError } from './errors.js';

export type San = { type: 'dns'; value: string } | { type: 'ip'; value: string };

// RFC 1123 host name labels; a leading "*." wildcard label is allowed for server certificates.
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

function isDnsName(name: string): boolean {
  const labels = (name.startsWith('*.') ? name.slice(2) : name).split('.');
  return name.length <= 253 && labels.every((label) => DNS_LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}

/** Parses `DNS:name` or `IP:address` (the forms of openssl's subjectAltName and of --san). */
export function parseSan(text: string): San {
  const colon = text.indexOf(':');
  const type = text.slice(0, colon).toUpperCase();
  const value = text.slice(colon + 1);
  if (type === 'DNS' && isDnsName(value)) return { type: 'dns', value: value.toLowerCase() };
  if (type === 'IP' && isIP(value)) return { type: 'ip', value };
  throw inputError('SAN_INVALID', `invalid SAN '${text}': expected DNS:<host name> or IP:<IPv4 or IPv6 address>`);
}

export const formatSan = (san: San) => `${san.type === 'dns' ? 'DNS' : 'IP'}:${san.value}`;
