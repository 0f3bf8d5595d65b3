// The only import site of @peculiar/x509: version 2 reads decorator metadata through the Reflect
// API, which Node does not ship, so the small polyfill must load first.
import '@abraham/reflection';
import * as x509 from '@peculiar/x509';

export { x509 };
export type CryptoProvider = Crypto;
