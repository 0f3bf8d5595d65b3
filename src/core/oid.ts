// The one table of object identifiers pkictl reads or writes (RFC 5280, RFC 3279/4055/8410, CA/B).

export const OID = {
  // Name attributes (X.520, RFC 4519)
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  country: '2.5.4.6',
  locality: '2.5.4.7',
  state: '2.5.4.8',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  title: '2.5.4.12',
  givenName: '2.5.4.42',
  initials: '2.5.4.43',
  domainComponent: '0.9.2342.19200300.100.1.25',
  emailAddress: '1.2.840.113549.1.9.1',
  // Certificate extensions (RFC 5280 §4.2)
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyId: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  ctPoison: '1.3.6.1.4.1.11129.2.4.3',
  // CRL and CRL entry extensions (RFC 5280 §5.2, §5.3)
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  // Extended key usages (RFC 5280 §4.2.1.12)
  ekuAny: '2.5.29.37.0',
  ekuServerAuth: '1.3.6.1.5.5.7.3.1',
  ekuClientAuth: '1.3.6.1.5.5.7.3.2',
  // Keys and signatures
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
} as const;

/** Short names of Name attributes as @peculiar/x509 (and so inspect, list and the index) print them. */
export const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  [OID.commonName]: 'CN',
  [OID.locality]: 'L',
  [OID.state]: 'ST',
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.country]: 'C',
  [OID.domainComponent]: 'DC',
  [OID.emailAddress]: 'E',
  [OID.givenName]: 'G',
  [OID.initials]: 'I',
  [OID.surname]: 'SN',
  [OID.title]: 'T',
};

export interface EcCurve {
  /** WebCrypto and JWK name */
  name: 'P-256' | 'P-384' | 'P-521';
  /** node:crypto's (OpenSSL's) name, as in KeyObject.asymmetricKeyDetails.namedCurve */
  nodeName: string;
  bits: number;
  /** coordinate size in bytes */
  size: number;
  /** DER of a SubjectPublicKeyInfo up to its uncompressed point (0x04 || X || Y), as every encoder writes it */
  spkiPrefix: string;
}

/** The named EC curves certificates may use, by OID. */
export const EC_CURVES: Readonly<Record<string, EcCurve>> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', nodeName: 'prime256v1', bits: 256, size: 32, spkiPrefix: '3059301306072a8648ce3d020106082a8648ce3d03010703420004' },
  '1.3.132.0.34': { name: 'P-384', nodeName: 'secp384r1', bits: 384, size: 48, spkiPrefix: '3076301006072a8648ce3d020106052b8104002203620004' },
  '1.3.132.0.35': { name: 'P-521', nodeName: 'secp521r1', bits: 521, size: 66, spkiPrefix: '30819b301006072a8648ce3d020106052b810400230381860004' },
};

/** The curve of a node:crypto EC key (asymmetricKeyDetails.namedCurve), if it is one of EC_CURVES. */
export const curveByNodeName = (nodeName: string | undefined): EcCurve | undefined => Object.values(EC_CURVES).find((c) => c.nodeName === nodeName);
