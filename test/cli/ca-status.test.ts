// pkictl ca status (issue 14, first step): the CA certificates in use, their end, where the key is,
// and whether a leaf issued at a given time would be cut short by the CA.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectInputError } from '../helpers/expect-cli.js';
import { runCli } from '../helpers/run-cli.js';
import { snapshot, tempDir } from '../helpers/temp-dir.js';

const ec = ['--key', 'ec-p256'];
const DAY = 86_400_000;

describe('pkictl ca status', () => {
  let base: string;
  let dir: string;
  let notAfter: Date;
  const status = async (args: string[] = [], tree = dir) => {
    const r = await runCli(['ca', 'status', '--dir', tree, '--json', ...args]);
    return { ...r, document: JSON.parse(r.stdout) };
  };

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    // A 200-day CA: a 365-day server certificate is cut short from the start, a 90-day client only later.
    expect((await runCli(['init', '--dir', dir, ...ec, '--days', '200'])).code).toBe(0);
    notAfter = new Date((await status()).document.cas[0].notAfter);
  });

  it('shows the root: validity, that it signs, its key online and unencrypted (0600); changes nothing', async () => {
    const before = await snapshot(dir);
    const r = await status();
    expect(r.code, r.stderr).toBe(0);
    expect(r.document.cas).toEqual([
      expect.objectContaining({ role: 'root', file: 'ca.crt', subject: 'C=MX, ST=CDMX, O=Luzzi, CN=Luzzi Root CA', status: 'valid', daysLeft: 199, signs: true, key: { file: 'ca.key', location: 'online', encrypted: false, mode: '0600' } }),
    ]);
    expect(await snapshot(dir)).toEqual(before);
    const text = await runCli(['ca', 'status', '--dir', dir]);
    expect(text.stdout).toMatch(/^ {2}key {6}.*ca\.key: online, not encrypted \(mode 0600\)$/m);
  });

  it('warns when a leaf issued at that time would be cut short by the CA, naming the way out', async () => {
    const now = await status();
    expect(now.document.warnings).toEqual([expect.stringMatching(/^a server certificate issued now would be valid 200 days, not 365: the CA expires on /)]);
    const late = await status(['--at', new Date(notAfter.getTime() - 30 * DAY).toISOString()]);
    expect(late.code).toBe(0);
    expect(late.document.warnings).toEqual([
      expect.stringMatching(/^a server certificate issued now would be valid 30 days, not 365/),
      expect.stringMatching(/^a client certificate issued now would be valid 30 days, not 90/),
    ]);
    const text = await runCli(['ca', 'status', '--dir', dir, '--at', new Date(notAfter.getTime() - 30 * DAY).toISOString()]);
    expect(text.stderr).toMatch(/^warning: a client certificate issued now would be valid 30 days, not 90/m);
    expect(text.stderr).toMatch(/^hint: .*pkictl ca rollover begin/m);
  });

  it('exits 1 once the CA has expired', async () => {
    const r = await status(['--at', new Date(notAfter.getTime() + DAY).toISOString()]);
    expect(r.code).toBe(1);
    expect(r.document.cas[0]).toMatchObject({ status: 'expired', daysLeft: -1 });
    expect(r.document.warnings).toEqual([expect.stringMatching(/^the root CA [0-9a-f]+ expired on .*: it signs nothing more, CRLs included$/)]);
  });

  it('says when the key is encrypted, and when it is offline (not in the tree)', async () => {
    const sealed = join(base, 'sealed');
    expect((await runCli(['init', '--dir', sealed, ...ec], { env: { PKICTL_CA_PASSPHRASE: 'correct horse battery staple' } })).code).toBe(0);
    expect((await status([], sealed)).document.cas[0].key).toMatchObject({ location: 'online', encrypted: true, mode: '0600' });
    await rename(join(sealed, 'ca.key'), join(base, 'ca.key.offline'));
    const offline = await status([], sealed);
    expect(offline.code).toBe(0);
    expect(offline.document.cas[0].key).toEqual({ file: 'ca.key', location: 'offline', encrypted: null, mode: null });
    expect((await runCli(['ca', 'status', '--dir', sealed])).stdout).toMatch(/ca\.key: offline \(not in the tree\)/);
  });

  it('exits 2 without a CA', async () => {
    expectInputError(await runCli(['ca', 'status', '--dir', join(base, 'nothing')]), /^error: no CA in .*nothing/);
  });
});
