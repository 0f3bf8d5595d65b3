// The one CRL model (RFC 5280 §5), read with the strict DER reader: list and audit read its times and
// entries, the validator its signature, issuer and extensions. The outer structure and the entries'
// serials and dates must parse (else the CRL is unreadable); defects in extensions become `problems`,
// which make the CRL unusable for revocation checking once its issuer is known.
import type { Signed } from './cert.js';
import { bool, children, content, DerError, expect, isTime, oid, parseDer, serialText, smallInt, time, whole, type Tlv } from './der.js';
import { inputError } from './errors.js';
import { isPem, latin1Text, pemBlocks } from './pem.js';
import { nameText } from './name.js';
import { OID } from './oid.js';
import { reasonName } from './revocation.js';

const KNOWN_CRL_EXTENSIONS = new Set<string>([OID.crlNumber, OID.authorityKeyId, OID.issuerAltName, OID.freshestCrl, OID.authorityInfoAccess]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([OID.crlReason, OID.invalidityDate]);

export interface RevokedCertificate {
  /** INTEGER content bytes */
  serial: Uint8Array;
  date: Date;
  /** The entry's CRLReason code (RFC 5280 §5.3.1), when it carries one. */
  reasonCode?: number;
}

export class Crl implements Signed {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly sigAlgOid: string;
  readonly sigAlgParams?: Tlv;
  readonly signature: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  readonly revoked: RevokedCertificate[] = [];
  /** cRLNumber (RFC 5280 §5.2.3), when present and small enough to be a number */
  readonly number?: number;
  /** defects that make the CRL unusable (checked once its issuer is known) */
  readonly problems: string[] = [];

  /** Throws DerError when `der` is not a CRL. */
  constructor(der: Uint8Array) {
    this.der = der;
    const [tbsT, algT, sigT] = children(expect(parseDer(der), 0x30, 'CertificateList'));
    this.tbs = whole(expect(tbsT, 0x30, 'TBSCertList'));
    const [algOid, params] = children(expect(algT, 0x30, 'signatureAlgorithm'));
    this.sigAlgOid = oid(algOid!);
    this.sigAlgParams = params;
    this.signature = content(expect(sigT, 0x03, 'signature')).subarray(1);
    const f = children(tbsT!);
    let i = f[0]?.tag === 0x02 ? 1 : 0; // version
    expect(f[i++], 0x30, 'signature');
    this.issuerDer = whole(expect(f[i++], 0x30, 'issuer'));
    this.thisUpdate = time(f[i++]);
    if (isTime(f[i])) this.nextUpdate = time(f[i++]);
    if (f[i]?.tag === 0x30) {
      for (const entry of children(f[i++]!)) {
        const parts = children(expect(entry, 0x30, 'revokedCertificate'));
        const revoked: RevokedCertificate = { serial: content(expect(parts[0], 0x02, 'userCertificate')), date: time(parts[1]) };
        if (parts[2]) this.#entryExtensions(parts[2], revoked);
        this.revoked.push(revoked);
      }
    }
    let hasNumber = false;
    if (f[i]?.tag === 0xa0) {
      try {
        for (const e of children(children(f[i]!)[0]!)) {
          const parts = children(e);
          const eo = oid(parts[0]!);
          const critical = parts[1]?.tag === 0x01 && bool(parts[1]);
          if (eo === OID.crlNumber) {
            hasNumber = true;
            // RFC 5280 §5.2.3: "this extension MUST be marked as non-critical"
            if (critical) this.problems.push('cRLNumber is marked critical (RFC 5280 §5.2.3)');
            try {
              this.number = smallInt(parseDer(content(expect(parts.at(-1), 0x04, 'extnValue'))));
            } catch {
              // a number beyond 2^48 or malformed: present, but not shown
            }
          } else if (eo === OID.issuingDistributionPoint || eo === OID.deltaCrlIndicator) {
            if (critical) this.problems.push(`${eo === OID.deltaCrlIndicator ? 'delta CRLs' : 'issuingDistributionPoint'} are not supported`);
          } else if (critical && !KNOWN_CRL_EXTENSIONS.has(eo)) this.problems.push(`unknown critical CRL extension ${eo}`);
        }
      } catch (error) {
        this.problems.push(`malformed CRL: ${(error as Error).message}`);
      }
    }
    // RFC 5280 §5.2.3: "conforming CRL issuers MUST include this extension in all CRLs"
    if (!hasNumber) this.problems.push('the CRL has no cRLNumber (RFC 5280 §5.2.3)');
  }

  #entryExtensions(list: Tlv, entry: RevokedCertificate) {
    try {
      for (const e of children(list)) {
        const [eo, c] = children(e);
        if (c?.tag === 0x01 && bool(c) && !KNOWN_ENTRY_EXTENSIONS.has(oid(eo!))) this.problems.push(`unknown critical CRL entry extension ${oid(eo!)}`);
        if (oid(eo!) === OID.crlReason) {
          // CRLReason ::= ENUMERATED, inside the extension's OCTET STRING
          const value = expect(parseDer(content(expect(children(e).at(-1), 0x04, 'extnValue'))), 0x0a, 'CRLReason');
          const code = content(value);
          if (code.length !== 1) throw new DerError('CRLReason out of range');
          entry.reasonCode = code[0];
        }
      }
    } catch (error) {
      this.problems.push(`malformed CRL: ${(error as Error).message}`);
    }
  }

  /** Revoked serials (lowercase hex, as serials are shown everywhere) → their entry (date, reason code). */
  revokedBySerial(): Map<string, RevokedCertificate> {
    return new Map(this.revoked.map((r) => [serialText(r.serial), r]));
  }
}

/** Every CRL in `data` (PEM "X509 CRL" blocks, several allowed, or one DER CRL); an input error naming `source` otherwise. */
export function readCrls(data: Uint8Array, source: string): Crl[] {
  if (data.length === 0) throw inputError('CRL_EMPTY', `${source}: the file is empty`);
  const text = latin1Text(data);
  const parse = (der: Uint8Array, error: () => Error) => {
    try {
      return new Crl(der);
    } catch (e) {
      if (e instanceof DerError || e instanceof RangeError) throw error();
      throw e;
    }
  };
  if (isPem(text)) {
    const blocks = pemBlocks(text).filter((b) => b.label === 'X509 CRL');
    if (blocks.length === 0) throw inputError('CRL_MALFORMED', `${source}: no "X509 CRL" PEM block in it`);
    return blocks.map((b, i) => parse(Buffer.from(b.body, 'base64'), () => inputError('CRL_MALFORMED', `${source}: CRL ${i + 1} is not valid DER inside its PEM block`)));
  }
  return [parse(data, () => inputError('CRL_MALFORMED', `${source}: not a CRL (neither PEM nor DER)`))];
}

/** A CRL as `pkictl inspect` shows it. */
export interface CrlSummary {
  issuer: string;
  /** cRLNumber; null when absent or too large to show. */
  number: number | null;
  thisUpdate: string;
  nextUpdate: string | null;
  /** current, or expired: past nextUpdate (relying parties reject it). */
  status: 'current' | 'expired';
  revoked: Array<{ serial: string; revokedAt: string; reason: string }>;
  /** What makes it unusable for revocation checking (RFC 5280 clauses). */
  problems: string[];
}

export function summarizeCrl(crl: Crl, now: Date): CrlSummary {
  return {
    issuer: nameText(parseDer(crl.issuerDer)),
    number: crl.number ?? null,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate?.toISOString() ?? null,
    status: crl.nextUpdate && crl.nextUpdate < now ? 'expired' : 'current',
    revoked: crl.revoked.map((r) => ({ serial: serialText(r.serial), revokedAt: r.date.toISOString(), reason: reasonName(r.reasonCode) })),
    problems: [...crl.problems],
  };
}
