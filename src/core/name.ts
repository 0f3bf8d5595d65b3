// X.501 Names read from DER: RFC 4514 text (the form @peculiar/x509, inspect, list and the index show)
// and the attribute walk the validator and the certificate model share.
import { children, DerError, expect, hex, oid, stringValue, whole, type Tlv } from './der.js';
import { ATTRIBUTE_NAMES } from './oid.js';

/** RFC 4514 §2.4 escaping, exactly as @peculiar/x509 applies it (only the first CR/LF/TAB becomes \XX). */
export function escapeValue(value: string): string {
  return value
    .replace(/[,+"\\<>;]/g, '\\$&')
    .replace(/^[ #]/, '\\$&')
    .replace(/ $/, '\\ ')
    .replace(/[\r\n\t]/, (c) => `\\${Buffer.from(c, 'utf8').toString('hex').toUpperCase()}`);
}

/** Every attribute of a Name, RDN by RDN: [rdn index, type OID, value]. Throws DerError on bad structure. */
export function* attributes(name: Tlv): Generator<[number, string, Tlv]> {
  const rdns = children(expect(name, 0x30, 'Name'));
  for (let i = 0; i < rdns.length; i++) {
    for (const atv of children(expect(rdns[i], 0x31, 'RelativeDistinguishedName'))) {
      const [type, value] = children(expect(atv, 0x30, 'AttributeTypeAndValue'));
      if (!type || !value) throw new DerError('AttributeTypeAndValue incomplete');
      yield [i, oid(type), value];
    }
  }
}

/** String types shown as text; any other value is shown as #hex of its DER (RFC 4514 §2.4). */
const TEXT_TAGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1c, 0x1e]);

/** "C=MX, O=Luzzi, CN=gw": RDNs joined by ", ", multi-valued RDNs by "+", known types by short name. */
export function nameText(name: Tlv): string {
  const rdns: string[][] = [];
  for (const [i, type, value] of attributes(name)) {
    const text = TEXT_TAGS.has(value.tag) ? escapeValue(stringValue(value, true)) : `#${hex(whole(value))}`;
    (rdns[i] ??= []).push(`${ATTRIBUTE_NAMES[type] ?? type}=${text}`);
  }
  return rdns.map((rdn) => rdn.join('+')).join(', ');
}
