// In-process shim for ../shared/limbo's pkictl-module adapter: the core validator without a process per
// case (the whole suite in well under a minute). The CLI adapter (npm run conformance) is the reference.
//   PKICTL_LIMBO_MODULE=test/conformance/limbo-shim.mjs node ../shared/limbo/run-limbo.mjs --adapter pkictl-module
import { readCertificates } from '../../dist/bundle/core-cert-input.js';
import { readCrls } from '../../dist/bundle/core-crl.js';
import { Verifier } from '../../dist/bundle/core-verify.js';

/** Feature classes pkictl deliberately does not support (see README "Conformance"). */
export const SKIP_FEATURES = (process.env.PKICTL_SKIP_FEATURES ?? 'pedantic-public-suffix-wildcard,pedantic-rfc5280').split(',').filter(Boolean);

const certsOf = (pem) => readCertificates(Buffer.from(pem, 'latin1'), 'input');

export async function verify(input) {
  const skip = input.features.find((f) => SKIP_FEATURES.includes(f));
  if (skip) return { verdict: 'SKIP', reason: `feature ${skip}` };
  let leaf;
  try {
    [leaf] = certsOf(input.leafPem);
  } catch (e) {
    return { verdict: 'FAILURE', reason: `input: leaf does not parse: ${e.message}` };
  }
  const parse = (pems) => pems.flatMap((p) => { try { return certsOf(p); } catch { return []; } });
  let crls;
  try {
    crls = input.crlPems.flatMap((p) => readCrls(Buffer.from(p, 'latin1'), 'crl'));
  } catch (e) {
    return { verdict: 'FAILURE', reason: `input: CRL does not parse: ${e.message}` };
  }
  const verifier = new Verifier(parse(input.trustedPems), parse(input.untrustedPems));
  const r = await verifier.verify(leaf, {
    purpose: input.purpose, at: input.at, hostname: input.hostname, ip: input.ip, email: input.email, crls, maxDepth: input.maxDepth ?? undefined,
  });
  return { ok: r.ok, chain: r.path, failures: r.failures };
}
