// pkictl verify and `openssl verify -x509_strict` must reach the same verdict on the same files.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { x509 } from '../../src/core/x509.js';
import { make, NOW, tamper, type Issued } from '../core/verify-pki.js';
import { openssl } from '../helpers/openssl.js';
import { runCli } from '../helpers/run-cli.js';
import { tempDir } from '../helpers/temp-dir.js';

const KU = x509.KeyUsageFlags;
const SERVER = [x509.ExtendedKeyUsage.serverAuth];
const san = (host: string) => [{ type: 'dns' as const, value: host }];

interface Case {
  name: string;
  /** pkictl's verdict: OK, or the failure codes it must give (openssl's exit code follows: 0 or 2). */
  want: 'OK' | string[];
  leaf: x509.X509Certificate;
  roots: x509.X509Certificate[];
  untrusted: x509.X509Certificate[];
  hostname?: string;
}

describe('interop: pkictl verify agrees with openssl verify -x509_strict', () => {
  const cases: Case[] = [];
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('pkictl-interop-');
    const root: Issued = await make({ cn: 'Interop Root', ca: true });
    const ica = await make({ cn: 'Interop ICA', ca: true, issuer: root, pathLen: 0 });
    const good = await make({ cn: 'good.example.com', issuer: ica, sans: san('good.example.com'), eku: SERVER });
    const other = await make({ cn: 'Other Root', ca: true });
    const sub = await make({ cn: 'Too Deep ICA', ca: true, issuer: ica });
    const noSign = await make({ cn: 'No keyCertSign ICA', ca: true, issuer: root, ku: KU.cRLSign });
    const notCa = await make({ cn: 'not-a-ca.example.com', issuer: ica, sans: san('not-a-ca.example.com'), eku: SERVER });
    const base = { roots: [root.cert], untrusted: [ica.cert] };
    cases.push(
      { name: 'good chain via an untrusted intermediate', want: 'OK', leaf: good.cert, ...base, hostname: 'good.example.com' },
      { name: 'missing intermediate', want: ['UNKNOWN_ISSUER'], leaf: good.cert, roots: [root.cert], untrusted: [] },
      { name: 'wrong CA', want: ['UNKNOWN_ISSUER'], leaf: good.cert, roots: [other.cert], untrusted: [ica.cert] },
      { name: 'expired leaf', want: ['EXPIRED'], leaf: (await make({ cn: 'old', issuer: ica, sans: san('old.example.com'), eku: SERVER, notAfter: new Date('2026-01-01T00:00:00Z') })).cert, ...base },
      { name: 'not yet valid leaf', want: ['NOT_YET_VALID'], leaf: (await make({ cn: 'new', issuer: ica, sans: san('new.example.com'), eku: SERVER, notBefore: new Date('2027-01-01T00:00:00Z') })).cert, ...base },
      { name: 'client-only EKU for a server', want: ['EKU_MISMATCH'], leaf: (await make({ cn: 'c', issuer: ica, sans: san('c.example.com'), eku: [x509.ExtendedKeyUsage.clientAuth] })).cert, ...base },
      { name: 'pathLen exceeded', want: ['PATH_LEN_EXCEEDED'], leaf: (await make({ cn: 'deep', issuer: sub, sans: san('deep.example.com'), eku: SERVER })).cert, roots: [root.cert], untrusted: [ica.cert, sub.cert] },
      { name: 'CA without keyCertSign', want: ['KEY_USAGE'], leaf: (await make({ cn: 'ns', issuer: noSign, sans: san('ns.example.com'), eku: SERVER })).cert, roots: [root.cert], untrusted: [noSign.cert] },
      { name: 'leaf acting as CA', want: ['NOT_A_CA', 'KEY_USAGE', 'PATH_LEN_EXCEEDED'], leaf: (await make({ cn: 'child', issuer: notCa, sans: san('child.example.com'), eku: SERVER })).cert, roots: [root.cert], untrusted: [ica.cert, notCa.cert] },
      { name: 'tampered signature', want: ['BAD_SIGNATURE'], leaf: tamper(good.cert), ...base },
      { name: 'host name mismatch', want: ['HOSTNAME_MISMATCH'], leaf: good.cert, ...base, hostname: 'evil.example.com' },
      { name: 'unknown critical extension', want: ['UNKNOWN_CRITICAL_EXTENSION'], leaf: (await make({ cn: 'x', issuer: ica, sans: san('x.example.com'), eku: SERVER, extra: [new x509.Extension('1.3.6.1.4.1.55738.666.1', true, Uint8Array.from([5, 0]))] })).cert, ...base },
    );
  });

  it('same verdict on every case, with the exit codes and failure codes of that verdict', { timeout: 180_000 }, async () => {
    const at = String(Math.floor(NOW.getTime() / 1000));
    const pem = (certs: x509.X509Certificate[]) => certs.map((x) => x.toString('pem')).join('\n') + '\n';
    const opensslCodes: number[] = [];
    // pkictl takes the intermediates after the leaf in its file, so cases sharing roots and host name
    // go through one process (what CI does with many files).
    const groups = new Map<string, { roots: string; hostname?: string; files: Array<{ i: number; file: string }> }>();
    for (const [i, c] of cases.entries()) {
      const roots = join(dir, `${i}-roots.pem`);
      const untrusted = join(dir, `${i}-untrusted.pem`);
      const leaf = join(dir, `${i}-leaf.pem`);
      const bundle = join(dir, `${i}-bundle.pem`);
      await writeFile(roots, pem(c.roots));
      await writeFile(untrusted, pem(c.untrusted));
      await writeFile(leaf, pem([c.leaf]));
      await writeFile(bundle, pem([c.leaf, ...c.untrusted]));
      const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-attime', at, '-CAfile', roots];
      if (c.untrusted.length) args.push('-untrusted', untrusted);
      if (c.hostname) args.push('-verify_hostname', c.hostname);
      opensslCodes.push((await openssl([...args, leaf])).code);
      const key = `${pem(c.roots)}|${c.hostname ?? ''}`;
      if (!groups.has(key)) groups.set(key, { roots, hostname: c.hostname, files: [] });
      groups.get(key)!.files.push({ i, file: bundle });
    }
    const ours = new Array<'OK' | string[]>(cases.length);
    for (const g of groups.values()) {
      const args = ['verify', '--ca', g.roots, '--purpose', 'server', '--at', NOW.toISOString(), '--json'];
      if (g.hostname) args.push('--hostname', g.hostname);
      const r = await runCli([...args, ...g.files.map((f) => f.file)]);
      // Exit 0 only when every file of the run verified, 1 when one failed (README "Exit codes").
      expect(r.code, r.stderr).toBe(g.files.every((f) => cases[f.i]!.want === 'OK') ? 0 : 1);
      const doc = JSON.parse(r.stdout) as { files: Array<{ ok: boolean; failures: Array<{ code: string }> }> };
      g.files.forEach((f, k) => {
        const file = doc.files[k]!;
        ours[f.i] = file.ok && file.failures.length === 0 ? 'OK' : file.failures.map((x) => x.code);
      });
    }
    // openssl verify exits 0 on success and 2 when a certificate fails verification.
    const got = cases.map((c, i) => `${c.name}: openssl exit ${opensslCodes[i]}, pkictl ${ours[i]}`);
    const want = cases.map((c) => `${c.name}: openssl exit ${c.want === 'OK' ? 0 : 2}, pkictl ${c.want}`);
    expect(got).toEqual(want);
  });
});
