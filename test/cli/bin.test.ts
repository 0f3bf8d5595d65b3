import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

describe('bin/pkictl.js', () => {
  it('answers --version before loading any code, with the same version commander reports', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    const fast = await runCli(['--version']);
    expect(fast).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await runCli(['-V'])).stdout).toBe(`${version}\n`);
    // With any other argument the full program runs and commander prints its own VERSION.
    const full = await runCli(['--debug', '--version']);
    expect(full).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
