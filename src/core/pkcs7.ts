// The certs-only PKCS#7 (CMS SignedData without signers, RFC 5652 §5 / RFC 7030 §4.1.3) that EST
// answers with: a bag of certificates, nothing signed. Written by `serve`, read by `enroll`/`renew`.
import { children, DerError, expect, oid, parseDer, whole } from './der.js';
import { explicit, objectIdentifier, sequence, set, smallInteger, tlv, type Der } from './der-write.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const DATA = '1.2.840.113549.1.7.1';

/** ContentInfo { signedData { version 1, no digests, data without content, certificates, no signers } }. */
export function certsOnly(certificates: Uint8Array[]): Der {
  // certificates [0] IMPLICIT SET OF, in the order given, as `openssl crl2pkcs7` writes them: EST
  // clients read them as a list (trust anchor and chain), and every reader accepts that order.
  const signedData = sequence(smallInteger(1), set(), sequence(objectIdentifier(DATA)), tlv(0xa0, ...certificates), set());
  return sequence(objectIdentifier(SIGNED_DATA), explicit(0, signedData));
}

/** The certificates (DER) of a certs-only PKCS#7; throws DerError when it is not one. */
export function readCertsOnly(der: Uint8Array): Uint8Array[] {
  const [type, body] = children(expect(parseDer(der), 0x30, 'ContentInfo'));
  if (oid(type!) !== SIGNED_DATA) throw new DerError('not a PKCS#7 SignedData');
  const fields = children(expect(children(expect(body, 0xa0, 'content'))[0], 0x30, 'SignedData'));
  const certs = fields.find((f) => f.tag === 0xa0);
  if (!certs) throw new DerError('the PKCS#7 holds no certificates');
  return children(certs).map(whole);
}
