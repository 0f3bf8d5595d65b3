// In-process shim for ../shared/limbo's pkictl-module adapter: the core validator without a process per
// case (the whole suite in well under a minute). The CLI adapter (npm run conformance) is the reference.
//   PKICTL_LIMBO_MODULE=test/conformance/limbo-shim.mjs node ../shared/limbo/run-limbo.mjs --adapter pkictl-module
import { verifyChainSync } from '../../dist/bundle/core-verify.js';
import { x509 } from '../../dist/bundle/core-x509.js';

/** Feature classes pkictl deliberately does not support (see README "Conformance"). */
export const SKIP_FEATURES = (process.env.PKICTL_SKIP_FEATURES ?? 'pedantic-public-suffix-wildcard,pedantic-rfc5280').split(',').filter(Boolean);

export async function verify(input) {
  const skip = input.features.find((f) => SKIP_FEATURES.includes(f));
  if (skip) return { verdict: 'SKIP', reason: `feature ${skip}` };
  let leaf;
  try {
    leaf = new x509.X509Certificate(input.leafPem);
  } catch (e) {
    return { verdict: 'FAILURE', reason: `input: leaf does not parse: ${e.message}` };
  }
  const parse = (pems) => pems.flatMap((p) => { try { return [new x509.X509Certificate(p)]; } catch { return []; } });
  const crls = input.crlPems.map((p) => new x509.X509Crl(p));
  return verifyChainSync(leaf, {
    roots: parse(input.trustedPems), intermediates: parse(input.untrustedPems), purpose: input.purpose, at: input.at,
    hostname: input.hostname, ip: input.ip, email: input.email, crls, maxDepth: input.maxDepth ?? undefined,
  });
}
