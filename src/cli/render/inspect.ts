import type { InspectedCertificate, InspectedCrl, InspectResult } from '../../ops/inspect.js';
import type { Rendered, RenderOptions } from '../define-command.js';
import { painter } from './text.js';

export { INSPECT_FIELDS } from '../../ops/inspect-fields.js';

/**
 * Control characters in a certificate field or a directory name (a CN may hold anything) are shown
 * escaped, so one value is always one line and a hostile certificate cannot forge extra lines in a
 * script's input; bidi and other format characters too, so it cannot reorder what the terminal shows.
 */
export const oneLine = (text: string) =>
  text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\\]/gu, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });

function days(n: number): string {
  if (n < 0) return `expired ${-n} day${n === -1 ? '' : 's'} ago`;
  return `${n} day${n === 1 ? '' : 's'} left`;
}

function renderOne(c: InspectedCertificate, many: boolean, color: boolean): string {
  const p = painter(color);
  const rows: [string, string][] = [
    ['Subject', c.subject],
    ['Issuer', c.issuer + (c.selfIssued ? ' (self-issued)' : '')],
    ['Serial', c.serial],
    ['Not before', c.notBefore],
    ['Not after', `${c.notAfter} (${c.validity === 'not-yet-valid' ? 'not yet valid' : days(c.daysLeft)})`],
    ['SANs', c.sans.length ? c.sans.join(', ') : '(none)'],
    ['Public key', [c.publicKey.type, c.publicKey.curve ?? (c.publicKey.size ? `${c.publicKey.size} bits` : '')].filter(Boolean).join(' ')],
    ['Signature', c.signatureAlgorithm],
    ['Key usage', c.keyUsage ? `${c.keyUsage.usages.join(', ') || '(none)'}${c.keyUsage.critical ? ' (critical)' : ''}` : '(absent)'],
    ['Extended key usage', c.extendedKeyUsage ? `${c.extendedKeyUsage.usages.join(', ')}${c.extendedKeyUsage.critical ? ' (critical)' : ''}` : '(absent)'],
    [
      'Basic constraints',
      c.basicConstraints
        ? `CA:${c.basicConstraints.ca ? 'TRUE' : 'FALSE'}${c.basicConstraints.pathLength !== null ? `, pathlen:${c.basicConstraints.pathLength}` : ''}${c.basicConstraints.critical ? ' (critical)' : ''}`
        : '(absent)',
    ],
    ['Subject key ID', c.subjectKeyId ?? '(absent)'],
    ['Authority key ID', c.authorityKeyId ?? '(absent)'],
    ['SHA-256', c.fingerprints.sha256],
    ['Public key SHA-256', c.fingerprints.spkiSha256],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const status = c.validity === 'valid' ? (c.daysLeft < 30 ? p.yellow : (s: string) => s) : p.red;
  const header = p.bold(oneLine(c.file) + (many ? ` [${c.index}]` : ''));
  return [
    header,
    ...rows.map(([k, v]) => `  ${(k + ':').padEnd(width)}${k === 'Not after' ? status(oneLine(v)) : oneLine(v)}`),
  ].join('\n');
}

/** A CRL: its header fields, then one line per revoked serial (date, reason). */
function renderCrl(c: InspectedCrl, many: boolean, color: boolean): string {
  const p = painter(color);
  const rows: [string, string][] = [
    ['Issuer', c.issuer],
    ['CRL number', c.number === null ? '(absent)' : String(c.number)],
    ['This update', c.thisUpdate],
    ['Next update', c.nextUpdate === null ? '(absent)' : `${c.nextUpdate}${c.status === 'expired' ? ' (expired: relying parties reject this CRL)' : ''}`],
    ['Revoked', c.revoked.length === 0 ? '(none)' : String(c.revoked.length)],
    ...c.problems.map((problem): [string, string] => ['Problem', problem]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return [
    p.bold(`${oneLine(c.file)}${many ? ` [${c.index}]` : ''} (CRL)`),
    ...rows.map(([k, v]) => `  ${(k + ':').padEnd(width)}${k === 'Next update' && c.status === 'expired' ? p.red(oneLine(v)) : oneLine(v)}`),
    ...c.revoked.map((r) => `    ${r.serial}  ${r.revokedAt}  ${r.reason}`),
  ].join('\n');
}

export function renderInspect(result: InspectResult, { json, color }: RenderOptions, { withFilename }: { withFilename: boolean }): Rendered {
  if (result.kind === 'field') {
    const { fields, rows } = result;
    // One field keeps its flat list of values; several give one list per certificate, in --field order.
    if (json) return { document: fields.length === 1 ? { field: fields[0], values: rows.map((r) => r.values[0]) } : { fields, values: rows.map((r) => r.values) } };
    return { stdout: rows.map((r) => `${[...(withFilename ? [r.file] : []), ...r.values].map(oneLine).join('\t')}\n`).join('') };
  }
  if (json) return { document: { certificates: result.certificates, ...(result.crls.length > 0 && { crls: result.crls }) } };
  const bundles = new Set([...result.certificates, ...result.crls].filter((c) => c.index > 1).map((c) => c.file));
  const blocks = [...result.certificates.map((c) => renderOne(c, bundles.has(c.file), color)), ...result.crls.map((c) => renderCrl(c, bundles.has(c.file), color))];
  return { stdout: blocks.join('\n\n') + '\n' };
}
