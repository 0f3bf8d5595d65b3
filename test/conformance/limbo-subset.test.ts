// Regression guard in the default test run: every non-BetterTLS x509-limbo case (~290, in-process through
// the same shim as `npm run conformance:fast`). The full suite stays in `npm run conformance`.
import { describe, expect, it } from 'vitest';
import { limboPresent, readLimbo } from '../helpers/limbo.js';

/** The documented false rejects: one side of each contradicting pair (see test/conformance/README.md). */
const EXPECTED_FALSE_REJECTS = [
  'pathlen::validation-ignores-pathlen-in-leaf',
  'rfc5280::ca-as-leaf',
  'rfc5280::eku::ee-without-eku',
  'webpki::nc::permitted-dns-match-noncritical',
];
/** Known false accepts: CA/B "CN must repeat a SAN", which the rest of the suite contradicts (README). */
const KNOWN_FALSE_ACCEPTS = ['webpki::cn::not-in-san', 'webpki::cn::punycode-not-in-san'];

interface Tc {
  id: string; features?: string[]; expected_result: 'SUCCESS' | 'FAILURE'; validation_kind: string; extended_key_usage?: string[];
  peer_certificate: string; trusted_certs: string[]; untrusted_intermediates: string[]; crls?: string[];
  validation_time: string | null; expected_peer_name?: { kind: string; value: string } | null; max_chain_depth?: number | null;
}

describe.skipIf(!limboPresent)('x509-limbo, non-BetterTLS cases (in-process)', () => {
  it('no false accepts beyond the known ones; false rejects only the documented ones', { timeout: 120_000 }, async () => {
    const { verify } = await import('./limbo-shim.mjs' as string);
    const suite = readLimbo<Tc>();
    const falseAccepts: string[] = [];
    const falseRejects: string[] = [];
    let ran = 0;
    // The denial-of-service cases (2048-name constraints, 100-certificate pools) take seconds each: conformance:fast has them.
    for (const tc of suite.testcases.filter((t) => !t.id.startsWith('bettertls::') && !(t.features ?? []).includes('denial-of-service'))) {
      const purpose = tc.validation_kind === 'CLIENT' || (tc.extended_key_usage ?? []).includes('clientAuth') ? 'client' : 'server';
      const peer = tc.expected_peer_name;
      const r = await verify({
        id: tc.id, leafPem: tc.peer_certificate, trustedPems: tc.trusted_certs, untrustedPems: tc.untrusted_intermediates, crlPems: tc.crls ?? [],
        at: tc.validation_time ? new Date(tc.validation_time) : new Date(), purpose, maxDepth: tc.max_chain_depth ?? null, features: tc.features ?? [],
        hostname: peer?.kind === 'DNS' ? peer.value : undefined, ip: peer?.kind === 'IP' ? peer.value : undefined, email: peer?.kind === 'RFC822' ? peer.value : undefined,
      });
      if (r.verdict === 'SKIP') continue;
      ran++;
      const accepted = r.ok === true;
      if (accepted && tc.expected_result === 'FAILURE') falseAccepts.push(tc.id);
      if (!accepted && tc.expected_result === 'SUCCESS') falseRejects.push(tc.id);
    }
    expect(ran).toBeGreaterThan(190);
    expect(falseAccepts.sort()).toEqual([...KNOWN_FALSE_ACCEPTS].sort());
    expect(falseRejects.sort()).toEqual([...EXPECTED_FALSE_REJECTS].sort());
  });
});
