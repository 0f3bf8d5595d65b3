// Names: syntax of SAN entries, matching a peer name against the leaf (SANs only, RFC 6125 §6.4),
// and RFC 5280 §4.2.1.10 name constraints.
import { isIP } from 'node:net';
import type { Certificate, GeneralName, NameConstraintsExt, Problem } from '../cert.js';
import { equalBytes } from '../der.js';
import { isDnsName } from '../san.js';

/** The problem with one SAN entry of the leaf, if any. */
export function sanEntryProblem(n: GeneralName): Problem | undefined {
  if (n.type === 'dns' && (!n.ascii || !isDnsName(n.value, true))) return { code: 'BAD_SAN', message: `malformed DNS name in subjectAltName: ${JSON.stringify(n.value)}` };
  if (n.type === 'ip' && n.bytes.length !== 4 && n.bytes.length !== 16) return { code: 'BAD_SAN', message: `iPAddress SAN of ${n.bytes.length} bytes (must be 4 or 16)` };
  if (n.type === 'email' && (!n.ascii || !isMailbox(n.value))) return { code: 'BAD_SAN', message: `malformed email address in subjectAltName: ${JSON.stringify(n.value)}` };
  return undefined;
}

function isMailbox(s: string): boolean {
  const at = s.lastIndexOf('@');
  if (at <= 0 || s.indexOf('@') !== at) return false;
  const local = s.slice(0, at);
  return /^[\x21-\x7e]+$/.test(local) && isDnsName(s.slice(at + 1), false);
}

/** RFC 6125 §6.4.3 as narrowed by CA/B: "*" only as the whole left-most label, matching exactly one label. */
export function dnsMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (!p.startsWith('*.')) return p === h;
  const rest = p.slice(1); // ".example.com"
  if (!h.endsWith(rest)) return false;
  const head = h.slice(0, h.length - rest.length);
  return head.length > 0 && !head.includes('.');
}

export function parseIp(text: string): Uint8Array | undefined {
  const family = isIP(text);
  if (family === 4) return Uint8Array.from(text.split('.').map(Number));
  if (family !== 6) return undefined;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  // an embedded IPv4 tail, e.g. ::ffff:1.2.3.4
  const fix = (g: string[]) => {
    const last = g.at(-1);
    if (last?.includes('.')) {
      const v4 = last.split('.').map(Number);
      g.splice(-1, 1, ((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16));
    }
  };
  if (tail === undefined) fix(h);
  else fix(t);
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  const all = [...h, ...fill, ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Canonical text of an IP address (IPv4 dotted quad, IPv6 per RFC 5952), as CA/B requires in a CN. */
export function ipText(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hexs = g.map((x) => x.toString(16));
  if (best < 0) return hexs.join(':');
  return `${hexs.slice(0, best).join(':')}::${hexs.slice(best + bestLen).join(':')}`;
}

export function emailMatches(san: string, wanted: string): boolean {
  const a = san.lastIndexOf('@');
  const b = wanted.lastIndexOf('@');
  if (a < 0 || b < 0) return false;
  return san.slice(0, a) === wanted.slice(0, b) && san.slice(a + 1).toLowerCase() === wanted.slice(b + 1).toLowerCase();
}

/** A CN that reads like a host name or an IP address (as opposed to "EE" or a tenant UUID). */
export function cnLooksLikeName(cn: string): boolean {
  return cn.includes('.') || cn.includes(':') || /^0x[0-9a-f]+$/i.test(cn);
}

/**
 * A host-like CN must be written the one way every reader parses alike (CA/B BR §7.1.4.3): IPv4 as a
 * plain dotted quad, IPv6 in RFC 5952 form, a DNS name in ASCII (A-labels) and, when it repeats a SAN,
 * character for character. pkictl never matches a host against the CN, but other verifiers may, and
 * an ambiguous spelling is how a name slips past constraints that check the SANs.
 */
export function cnProblem(leaf: Certificate): Problem | undefined {
  for (const cn of leaf.commonNames.filter(cnLooksLikeName)) {
    const bad = (why: string): Problem => ({ code: 'BAD_CN', message: `subject CN ${JSON.stringify(cn)}: ${why}` });
    if (/^0x[0-9a-f]+$/i.test(cn)) return bad('an IP address in hexadecimal notation');
    const ip = parseIp(cn);
    if (ip) {
      if (ipText(ip) !== cn) return bad(`an IP address not in canonical form (${ipText(ip)})`);
      continue;
    }
    if (/^[0-9.]+$/.test(cn)) return bad('an IPv4 address not in canonical dotted-quad form');
    if (/^[0-9a-f:.]+$/i.test(cn) && cn.includes(':')) return bad('a malformed IPv6 address');
    if (!/^[\x20-\x7e]+$/.test(cn)) return bad('a host name that is not ASCII (use the A-label form)');
    const twin = (leaf.san ?? []).find((n) => n.type === 'dns' && n.value.toLowerCase() === cn.toLowerCase() && n.value !== cn);
    if (twin) return bad(`differs from the subjectAltName ${JSON.stringify((twin as { value: string }).value)} in letter case`);
  }
  return undefined;
}

// ---- name constraints --------------------------------------------------------------------------

/** Is a DNS name constraint itself well formed? (no wildcard, no leading dot; RFC 5280 §4.2.1.10) */
function constraintProblem(c: GeneralName): string | undefined {
  if (c.type === 'dns') {
    if (c.value === '') return undefined; // the empty name: every DNS name
    if (!c.ascii || !isDnsName(c.value, false)) return `malformed dNSName constraint ${JSON.stringify(c.value)}`;
  }
  if (c.type === 'ip') {
    if (c.bytes.length !== 8 && c.bytes.length !== 32) return `iPAddress constraint of ${c.bytes.length} bytes (must be address + mask)`;
    const mask = c.bytes.subarray(c.bytes.length / 2);
    let seenZero = false;
    for (const byte of mask) for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && seenZero) return 'iPAddress constraint with a non-contiguous mask';
      if (!set) seenZero = true;
    }
  }
  if (c.type === 'email') {
    const v = c.value;
    const ok = !c.ascii ? false : v.includes('@') ? isMailbox(v) : v.startsWith('.') ? isDnsName(v.slice(1), false) : isDnsName(v, false);
    if (!ok) return `malformed rfc822Name constraint ${JSON.stringify(v)}`;
  }
  return undefined;
}

/** Name of `name` within the DNS subtree `base`: equal, or under it at a label boundary. */
function dnsInSubtree(name: string, base: string): boolean {
  if (base === '') return true;
  const n = name.toLowerCase();
  const b = base.toLowerCase();
  return n === b || n.endsWith('.' + b);
}

/**
 * Does a (possibly wildcard) DNS SAN fall inside the subtree? For "*.x", every name it can match must:
 * that holds when x itself is inside the subtree. `partial` answers "could any match fall inside" (for
 * excluded subtrees): also when the subtree root sits directly under x.
 */
function dnsWithin(name: string, base: string, partial: boolean): boolean {
  if (!name.startsWith('*.')) return dnsInSubtree(name, base);
  const parent = name.slice(2);
  if (dnsInSubtree(parent, base)) return true; // every name the wildcard can match is inside
  if (!partial) return false;
  // some match may be inside: the subtree root lies under the wildcard's parent (conservative)
  return base.toLowerCase().endsWith('.' + parent.toLowerCase());
}

function ipWithin(addr: Uint8Array, c: Uint8Array): boolean {
  const n = c.length / 2;
  if (addr.length !== n) return false;
  for (let i = 0; i < n; i++) if ((addr[i]! & c[n + i]!) !== (c[i]! & c[n + i]!)) return false;
  return true;
}

function emailWithin(addr: string, c: string): boolean {
  const at = addr.lastIndexOf('@');
  const host = addr.slice(at + 1).toLowerCase();
  if (c.includes('@')) return emailMatches(addr, c);
  if (c.startsWith('.')) return host.endsWith(c.toLowerCase());
  return host === c.toLowerCase();
}

function dnWithin(rdns: Uint8Array[], base: Uint8Array[]): boolean {
  if (base.length > rdns.length) return false;
  return base.every((r, i) => equalBytes(r, rdns[i]!));
}

type Kind = GeneralName['type'];

function within(name: GeneralName, c: GeneralName, partial: boolean): boolean {
  if (name.type !== c.type) return false;
  switch (name.type) {
    case 'dns': return dnsWithin(name.value, (c as typeof name).value, partial);
    case 'ip': return ipWithin(name.bytes, (c as typeof name).bytes);
    case 'email': return emailWithin(name.value, (c as typeof name).value);
    case 'dn': return dnWithin(name.rdns, (c as typeof name).rdns);
    default: return false;
  }
}

/** Names of `cert` that constraints apply to: SANs, the subject DN, subject emails, and host-like CNs. */
export function constrainedNames(cert: Certificate): GeneralName[] {
  const names: GeneralName[] = [...(cert.san ?? [])];
  if (!cert.subjectEmpty) names.push({ type: 'dn', rdns: cert.subjectRdns });
  for (const e of cert.subjectEmails) names.push({ type: 'email', value: e, ascii: /^[\x00-\x7f]*$/.test(e) });
  // Verifiers that still read a CN as a host name do so only without SANs (RFC 6125 §6.4.4); then the
  // CN must not escape the constraints either.
  for (const cn of cert.san ? [] : cert.commonNames) {
    if (!cnLooksLikeName(cn)) continue;
    const ip = parseIp(cn);
    if (ip) names.push({ type: 'ip', bytes: ip });
    else names.push({ type: 'dns', value: cn, ascii: /^[\x00-\x7f]*$/.test(cn) });
  }
  return names;
}

/** Above this many name × constraint comparisons a chain is refused instead of checked (denial of service). */
export const NC_BUDGET = 250_000;

/** Checks `names` of one certificate against one CA's constraints; returns the first violation. */
export function checkNameConstraints(names: GeneralName[], nc: NameConstraintsExt): string | undefined {
  for (const c of [...nc.permitted, ...nc.excluded]) {
    const p = constraintProblem(c);
    if (p) return p;
  }
  const supported = new Set<Kind>(['dns', 'ip', 'email', 'dn']);
  const permittedKinds = new Set(nc.permitted.map((c) => c.type));
  const excludedKinds = new Set(nc.excluded.map((c) => c.type));
  for (const name of names) {
    // RFC 5280 §4.2.1.10: a constraint of a form we cannot process must reject a name of that form.
    if (!supported.has(name.type) && (permittedKinds.has(name.type) || excludedKinds.has(name.type))) {
      return `a ${name.type} name meets a ${name.type} constraint, which pkictl does not process`;
    }
    if (name.type === 'other' || name.type === 'uri') continue;
    if (name.type === 'dns' && (!name.ascii || !isDnsName(name.value, true))) {
      if (permittedKinds.has('dns') || excludedKinds.has('dns')) return `malformed DNS name ${JSON.stringify(name.value)} cannot be checked against the constraints`;
      continue;
    }
    if (name.type === 'ip' && name.bytes.length !== 4 && name.bytes.length !== 16) {
      if (permittedKinds.has('ip') || excludedKinds.has('ip')) return 'malformed iPAddress cannot be checked against the constraints';
      continue;
    }
    if (name.type === 'email' && (!name.ascii || !isMailbox(name.value))) {
      if (permittedKinds.has('email') || excludedKinds.has('email')) return `malformed email ${JSON.stringify(name.value)} cannot be checked against the constraints`;
      continue;
    }
    for (const c of nc.excluded) if (within(name, c, true)) return `${describe(name)} is in an excluded subtree (${describe(c)})`;
    if (permittedKinds.has(name.type) && !nc.permitted.some((c) => within(name, c, false))) {
      return `${describe(name)} is outside the permitted ${name.type} subtrees`;
    }
  }
  return undefined;
}

export function describe(n: GeneralName): string {
  switch (n.type) {
    case 'dns': return `DNS:${n.value}`;
    case 'email': return `email:${n.value}`;
    case 'ip': return n.bytes.length === 4 || n.bytes.length === 16 ? `IP:${ipText(n.bytes)}` : n.bytes.length === 8 || n.bytes.length === 32 ? `IP:${ipText(n.bytes.subarray(0, n.bytes.length / 2))}/${ipText(n.bytes.subarray(n.bytes.length / 2))}` : 'IP:(malformed)';
    case 'dn': return 'DirName';
    case 'uri': return `URI:${n.value}`;
    default: return 'otherName';
  }
}
