import { isIP } from 'node:net';
import { inputError } from './errors.js';
import { parseIp } from './verify/names.js';
import { printable } from './visible-text.js';

export type San = { type: 'dns'; value: string } | { type: 'ip'; value: string };

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * The one DNS-name rule, for what pkictl issues and what its validator accepts (a SAN, a name
 * constraint, the domain of an email address): RFC 1034 §3.5 preferred syntax as RFC 5280 §4.2.1.6
 * requires (letters, digits and inner hyphens, 63 characters a label, 253 in all; no "_", no trailing
 * dot), and not all digits in the last label (RFC 3696 §2: no top-level domain is; "192.0.2.1" is an
 * IP address and belongs in iPAddress). With `wildcard`, "*" may be the whole left-most label, above
 * at least two labels: "*.example.com" (RFC 6125 §6.4.3; a wildcard over one label would cover a whole
 * top-level domain, which CA/B BR §3.2.2.6 forbids and verifiers refuse).
 */
export function isDnsName(name: string, wildcard: boolean): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  const first = wildcard && labels[0] === '*' && labels.length >= 3 ? 1 : 0;
  for (let i = first; i < labels.length; i++) if (!LABEL.test(labels[i]!)) return false;
  return !/^[0-9]+$/.test(labels.at(-1)!);
}

/** Parses `DNS:name` or `IP:address` (the forms of openssl's subjectAltName and of --san). */
export function parseSan(text: string): San {
  const colon = text.indexOf(':');
  const type = text.slice(0, colon).toUpperCase();
  const value = text.slice(colon + 1);
  if (type === 'DNS' && isDnsName(value, true)) return { type: 'dns', value: value.toLowerCase() };
  if (type === 'DNS' && /^\*\.[^.]+$/.test(value)) {
    throw inputError('SAN_INVALID', `invalid SAN '${printable(text)}': a wildcard must stand above at least two labels (DNS:*.example.com), or verifiers refuse it`);
  }
  // A zone (fe80::1%eth0) names an interface of one host; a certificate holds the 4 or 16 bytes only.
  if (type === 'IP' && isIP(value) && !value.includes('%')) return { type: 'ip', value };
  throw inputError('SAN_INVALID', `invalid SAN '${printable(text)}': expected DNS:<host name> or IP:<IPv4 or IPv6 address>`);
}

/**
 * Most SANs one certificate may hold. The gateway needs a handful; 100 is the largest list public CAs
 * issue (Let's Encrypt's limit). Far larger lists make certificates that TLS stacks refuse to receive
 * (a 10,000-name certificate is ~200 KB against OpenSSL's 100 KiB and Go's 64 KiB handshake-message
 * limits) and that every verifier checks name by name.
 */
export const MAX_SANS = 100;

/** Parses a certificate's SAN list: each entry with parseSan, no entry twice, at most MAX_SANS. */
export function parseSans(texts: readonly string[]): San[] {
  if (texts.length > MAX_SANS) throw inputError('SAN_INVALID', `too many SANs: ${texts.length}, a certificate holds at most ${MAX_SANS}`);
  const seen = new Map<string, string>();
  return texts.map((text) => {
    const san = parseSan(text);
    // Names compare as verifiers match them: DNS without case (parseSan lowercased it), IPs by their bytes (::1 = 0:0:0:0:0:0:0:1).
    const key = san.type === 'dns' ? `dns:${san.value}` : `ip:${parseIp(san.value)!.join('.')}`;
    const first = seen.get(key);
    if (first !== undefined) {
      const same = first === text ? '' : ` (the same as '${printable(first)}')`;
      throw inputError('SAN_INVALID', `duplicate SAN '${printable(text)}'${same}: give each name once`);
    }
    seen.set(key, text);
    return san;
  });
}

export const formatSan = (san: San) => `${san.type === 'dns' ? 'DNS' : 'IP'}:${san.value}`;
