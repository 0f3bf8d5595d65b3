import { appendFile, cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli, runProcess, BIN } from '../helpers/run-cli.js';
import { startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';

/*
 * Every command's --json output against the JSON Schema published for it in schemas/ (README:
 * "JSON output"), error documents included. The rows run in order over one tree, from init onwards;
 * a new command is one row here and one schema file there.
 */

const SCHEMAS = fileURLToPath(new URL('../../schemas/', import.meta.url));
const A = 'bf935f05-bf2e-4138-bfec-f4baaf99fecc';
const B = '0d1c1b8e-6a49-4a6e-9f5e-2f5d0a3b9c11';
const C = '5b0e1c57-3f0a-4f4e-8d7c-0c3e6f1a2b3c';
const D = '7d1e2f30-0000-4000-8000-000000000001';
const E = '7d1e2f30-0000-4000-8000-000000000002';
let served: Served | undefined;

interface Row {
  /** The command line after `pkictl`, without --json (added); run in the temp dir, so `--dir certs` is relative. */
  args: string[];
  /** schemas/<schema>.schema.json */
  schema: string;
  exit: number;
  /** Prepares the tree (in `base`) before the command runs. */
  setup?: (base: string) => Promise<void>;
  /** What the document must also say (beyond its schema). */
  check?: (document: Record<string, any>) => void;
}

const EC = ['--key', 'ec-p256'];
const dir = ['--dir', 'certs'];

const ROWS: Row[] = [
  { args: ['init', ...dir, ...EC], schema: 'init', exit: 0, check: (d) => expect(d.issued[0]).toMatchObject({ cert: 'ca.crt', key: 'ca.key' }) },
  { args: ['init', ...dir, ...EC], schema: 'error', exit: 2 },
  {
    args: ['init', '--dir', 'with-intermediate', ...EC, '--intermediate'],
    schema: 'init',
    exit: 0,
    check: (d) => expect(d.issued.map((p: { kind: string; cert: string }) => `${p.kind} ${p.cert}`)).toEqual(['ca ca.crt', 'intermediate intermediate.crt']),
  },
  { args: ['issue', 'server', ...dir, ...EC], schema: 'issue-server', exit: 0, check: (d) => expect(d.issued[0]).toMatchObject({ cert: 'server.crt', commonName: 'gateway.luzzi.com' }) },
  {
    args: ['issue', 'client', A, B, C, ...dir, ...EC],
    schema: 'issue-client',
    exit: 0,
    check: (d) => expect(d.issued.find((p: { tenantId: string }) => p.tenantId === A)).toMatchObject({ cert: `clients/${A}/client.crt`, commonName: A }),
  },
  { args: ['issue', 'client', 'not-a-tenant', ...dir, ...EC], schema: 'error', exit: 2, check: (d) => expect(d.error.code).toBe('TENANT_ID_INVALID') },
  { args: ['issue', 'client', A, '--days', '0', ...dir], schema: 'error', exit: 2, check: (d) => expect(d.error).toMatchObject({ code: 'USAGE', message: '--days must be a whole number of days from 1 to 36500' }) },
  { args: ['issue', 'client', A, '--no-such-flag', ...dir], schema: 'error', exit: 2, check: (d) => expect(d.error).toEqual({ code: 'USAGE', message: "unknown option '--no-such-flag'", hint: null }) },
  { args: ['verify', 'certs/server.crt', ...dir], schema: 'verify', exit: 0, check: (d) => expect(d.files[0].file).toBe('certs/server.crt') },
  { args: ['verify', '--all', ...dir], schema: 'verify', exit: 0, check: (d) => expect(d).toMatchObject({ dir: 'certs', files: expect.arrayContaining([expect.objectContaining({ file: 'server.crt' })]) }) },
  { args: ['verify', 'certs/missing.crt', ...dir], schema: 'error', exit: 2 },
  { args: ['rotate', '--dry-run', '--include-server', ...dir], schema: 'rotate', exit: 0 },
  {
    args: ['rotate', '--all', '--tenant', A, ...dir],
    schema: 'rotate',
    exit: 0,
    check: (d) => expect(d.rotation.rotated[0]).toMatchObject({ tenantId: A, cert: `clients/${A}/client.crt`, key: `clients/${A}/client.key` }),
  },
  { args: ['rotate', '--tenant', '9a9a9a9a-0000-4000-8000-000000000000', ...dir], schema: 'error', exit: 2 },
  {
    args: ['revoke', '--tenant', B, '--reason', 'keyCompromise', ...dir],
    schema: 'revoke',
    exit: 0,
    check: (d) => {
      expect(d.revoked[0]).toMatchObject({ tenantId: B, commonName: B, status: 'revoked', revocation: { reason: 'keyCompromise', source: 'index' } });
      expect(d.crl.path).toBe('crl.pem');
    },
  },
  { args: ['revoke', 'ffff0000ffff', ...dir], schema: 'error', exit: 2, check: (d) => expect(d.error.code).toBe('SERIAL_UNKNOWN') },
  { args: ['revoke', '--tenant', C, '--dry-run', '--dir', 'nowhere'], schema: 'error', exit: 2, check: (d) => expect(d.error.code).toBe('CA_MISSING') },
  { args: ['revoke', '--tenant', C, '--dry-run', ...dir], schema: 'revoke', exit: 0, check: (d) => expect(d).toMatchObject({ dryRun: true, revoked: [{ tenantId: C, status: 'revoked' }], reasonChanged: {} }) },
  { args: ['issue', 'client', C, '--force', ...dir, ...EC], schema: 'issue-client', exit: 0, check: (d) => expect(d.issued[0].replaced).toMatchObject({ serial: expect.stringMatching(/^[0-9a-f]+$/) }) },
  { args: ['crl', ...dir], schema: 'crl', exit: 0, check: (d) => expect(d).toMatchObject({ dir: 'certs', crl: { path: 'crl.pem' } }) },
  { args: ['audit-log', 'verify', ...dir], schema: 'audit-log-verify', exit: 0, check: (d) => expect(d.auditLog).toMatchObject({ ok: true, path: 'audit.log' }) },
  { args: ['inspect', 'certs/ca.crt', `certs/clients/${A}/client.crt`], schema: 'inspect', exit: 0 },
  { args: ['inspect', '--field', 'serial', 'certs/ca.crt'], schema: 'inspect', exit: 0 },
  { args: ['inspect', '--field', 'serial', '--field', 'cn', 'certs/ca.crt'], schema: 'inspect', exit: 0, check: (d) => expect(d).toMatchObject({ fields: ['serial', 'cn'], values: [[expect.any(String), 'Luzzi Root CA']] }) },
  { args: ['inspect', 'certs/index.jsonl'], schema: 'error', exit: 2 },
  {
    args: ['list', ...dir],
    schema: 'list',
    exit: 0,
    check: (d) => {
      const row = d.certificates.find((r: { tenantId: string }) => r.tenantId === B);
      expect(row).toMatchObject({ status: 'revoked', problems: [], revocation: { reason: 'keyCompromise', source: 'index' } });
      expect(d.counts.revoked).toBe(1);
    },
  },
  { args: ['list', '--check', ...dir], schema: 'list', exit: 1, check: (d) => expect(d.check).toEqual({ ok: false }) },
  { args: ['list', '--dir', 'nowhere'], schema: 'error', exit: 2, check: (d) => expect(d.error).toMatchObject({ code: 'CA_MISSING', message: 'no CA in nowhere (nowhere: no such directory)' }) },
  {
    args: ['audit', ...dir],
    schema: 'audit',
    exit: 1,
    check: (d) => expect(d.findings).toContainEqual(expect.objectContaining({ code: 'REVOKED', path: `clients/${B}/client.crt`, revocation: expect.objectContaining({ reason: 'keyCompromise' }) })),
  },
  {
    args: ['verify', '--all', ...dir],
    schema: 'verify',
    exit: 1,
    check: (d) => expect(d.files.find((f: { ok: boolean }) => !f.ok)).toMatchObject({ file: `clients/${B}/client.crt`, failures: [{ code: 'REVOKED', revocation: { reason: 'keyCompromise', source: 'crl' } }] }),
  },
  {
    args: ['rotate', '--all', ...dir],
    schema: 'rotate',
    exit: 0,
    check: (d) => expect(d.rotation.skipped).toContainEqual(expect.objectContaining({ tenantId: B, revocation: expect.objectContaining({ reason: 'keyCompromise' }) })),
  },
  { args: ['ca', 'status', ...dir], schema: 'ca-status', exit: 0, check: (d) => expect(d.cas).toEqual([expect.objectContaining({ role: 'root', file: 'ca.crt', signs: true, key: { file: 'ca.key', location: 'online', encrypted: false, mode: '0600' } })]) },
  { args: ['ca', 'status', '--at', '2099-01-01', ...dir], schema: 'ca-status', exit: 1, check: (d) => expect(d.cas[0].status).toBe('expired') },
  // The lifecycle of a tree with an intermediate (made by the init row above): renew, offline, revoke the old one.
  { args: ['intermediate', 'renew', '--dir', 'with-intermediate'], schema: 'intermediate-renew', exit: 0, check: (d) => expect(d.issued[0]).toMatchObject({ kind: 'intermediate', cert: 'intermediate.crt', replaced: { serial: expect.any(String) } }) },
  { args: ['ca', 'offline', '--dir', 'with-intermediate', '--to', 'usb'], schema: 'ca-offline', exit: 0, setup: async (base) => void (await mkdir(join(base, 'usb'))), check: (d) => expect(d.key).toMatch(/\/usb\/ca\.key$/) },
  { args: ['crl', '--root', '--dir', 'with-intermediate'], schema: 'error', exit: 1, check: (d) => expect(d.error.code).toBe('ROOT_KEY_OFFLINE') },
  { args: ['crl', '--root', '--dir', 'with-intermediate', '--root-key', 'usb/ca.key'], schema: 'crl', exit: 0, check: (d) => expect(d.crl).toMatchObject({ path: 'root-crl.pem', revoked: 0 }) },
  {
    args: ['intermediate', 'revoke', '--dir', 'with-intermediate', '--root-key', 'usb/ca.key', 'SERIAL'],
    schema: 'intermediate-revoke',
    exit: 0,
    setup: async (base) => {
      // The retired intermediate: the one authorities/ keeps.
      const [name] = (await readdir(join(base, 'with-intermediate', 'authorities'))).filter((n) => n.endsWith('.crt'));
      ROWS.find((r) => r.args.includes('SERIAL'))!.args.splice(-1, 1, name!.replace('.crt', ''));
    },
    check: (d) => expect(d).toMatchObject({ revoked: [{ kind: 'intermediate', revocation: { reason: 'cACompromise' } }], crl: { path: 'root-crl.pem', revoked: 1 } }),
  },
  { args: ['ca', 'rollover', 'begin', '--dir', 'with-intermediate'], schema: 'ca-rollover', exit: 0, check: (d) => expect(d).toMatchObject({ phase: 'begun', changed: true }) },
  { args: ['ca', 'rollover', 'finish', '--dir', 'with-intermediate'], schema: 'error', exit: 1, check: (d) => expect(d.error.code).toBe('ROLLOVER_NOT_SWITCHED') },
  { args: ['ca', 'status', '--dir', 'with-intermediate'], schema: 'ca-status', exit: 0, check: (d) => expect(d.rollover).toMatchObject({ phase: 'begun' }) },
  { args: ['ca', 'rollover', 'switch', '--dir', 'with-intermediate'], schema: 'ca-rollover', exit: 0, check: (d) => expect(d).toMatchObject({ phase: 'switched', rotation: { failed: [] } }) },
  { args: ['ca', 'rollover', 'finish', '--dir', 'with-intermediate'], schema: 'ca-rollover', exit: 0, check: (d) => expect(d).toMatchObject({ phase: 'finished', changed: true }) },
  { args: ['ca', 'compromised', '--scope', 'intermediate', '--dry-run', '--dir', 'with-intermediate'], schema: 'ca-compromised', exit: 0, check: (d) => expect(d).toMatchObject({ dryRun: true, finished: false }) },
  { args: ['ca', 'compromised', '--scope', 'intermediate', '--dir', 'with-intermediate'], schema: 'ca-compromised', exit: 0, check: (d) => expect(d).toMatchObject({ finished: true, failed: [], newCa: expect.any(String) }) },
  { args: ['ca', 'compromised', '--scope', 'root', '--dir', 'with-intermediate'], schema: 'ca-compromised', exit: 0, check: (d) => expect(d.steps.map((s: { step: string }) => s.step)).toEqual(['new-ca', 'reissue', 'revoke-leaves', 'cut-trust']) },
  { args: ['ca', 'compromised', '--scope', 'root', '--dir', 'with-intermediate'], schema: 'error', exit: 1, check: (d) => expect(d.error.code).toBe('DRILL_DONE') },
  { args: ['config', 'show', ...dir], schema: 'config-show', exit: 0, check: (d) => expect(d).toMatchObject({ dir: 'certs', config: 'pkictl.json', recorded: true, profiles: { client: { days: 90 } } }) },
  {
    args: ['config', 'set', '--template', 'client-30d.json', ...dir],
    schema: 'config-set',
    exit: 0,
    setup: async (base) => writeFile(join(base, 'client-30d.json'), JSON.stringify({ profile: 'client', subject: { O: 'Luzzi' }, days: 30, key: 'ec-p256' })),
    check: (d) => expect(d).toMatchObject({ replaced: ['client'], strangers: [], profiles: { client: { days: 30 } } }),
  },
  { args: ['config', 'set', ...dir], schema: 'error', exit: 2 },
  { args: ['inspect', 'certs/crl.pem'], schema: 'inspect', exit: 0, check: (d) => expect(d.crls[0].revoked).toContainEqual(expect.objectContaining({ reason: 'keyCompromise' })) },
  { args: ['audit-log', 'show', '--tenant', A, ...dir], schema: 'audit-log-show', exit: 0, check: (d) => expect(d.events.map((e: { action: string }) => e.action)).toEqual(['issue', 'rotate', 'rotate']) },
  { args: ['offboard', C, ...dir], schema: 'offboard', exit: 0, check: (d) => expect(d.tenants[0]).toMatchObject({ tenantId: C, keys: 'kept', archive: expect.stringMatching(new RegExp(`^archive/clients/${C}/`)) }) },
  {
    args: ['history', C, ...dir],
    schema: 'history',
    exit: 0,
    check: (d) => expect(d.certificates.at(-1)).toMatchObject({ status: 'revoked', revocation: { reason: 'cessationOfOperation', source: 'index' }, archive: { path: expect.stringMatching(/^archive\/clients\//) } }),
  },
  { args: ['history', '9a9a9a9a-0000-4000-8000-000000000000', ...dir], schema: 'error', exit: 2, check: (d) => expect(d.error.code).toBe('TENANT_UNKNOWN') },
  // Connectors that keep their own keys (issue 15): sign, tokens, and enroll/renew against a running serve.
  {
    args: ['sign', '--csr', 'd.csr', ...dir],
    schema: 'sign',
    exit: 0,
    setup: async (base) => void (await runProcess('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(base, 'd.key'), '-subj', `/CN=${D}`, '-out', join(base, 'd.csr')])),
    check: (d) => expect(d.issued[0]).toMatchObject({ tenantId: D, cert: `clients/${D}/client.crt`, keyAt: 'connector', keyType: 'ec-p256' }),
  },
  { args: ['token', 'create', E, ...dir], schema: 'token-create', exit: 0, check: (d) => expect(d).toMatchObject({ tenantId: E, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) }) },
  { args: ['token', 'list', '--all', ...dir], schema: 'token-list', exit: 0, check: (d) => expect(d.tokens).toEqual([expect.objectContaining({ tenantId: E, state: 'open', usedAt: null })]) },
  { args: ['token', 'revoke', '--tenant', E, ...dir], schema: 'token-revoke', exit: 0, check: (d) => expect(d.revoked).toEqual([expect.objectContaining({ tenantId: E, state: 'revoked' })]) },
  { args: ['token', 'revoke', 'ffffffffffffffff', ...dir], schema: 'error', exit: 2, check: (d) => expect(d.error.code).toBe('TOKEN_UNKNOWN') },
  {
    args: ['enroll', '--server', 'SERVER', '--tenant', E, '--dir', 'connector', '--token-file', 'token.txt', '--ca', 'certs/ca.crt'],
    schema: 'connector',
    exit: 0,
    setup: async (base) => {
      served = await startServe(join(base, 'certs'));
      for (const row of ROWS) row.args = row.args.map((a) => (a === 'SERVER' ? served!.url : a));
      await writeFile(join(base, 'token.txt'), (await runCli(['token', 'create', E, '--dir', join(base, 'certs')])).stdout);
    },
    check: (d) => expect(d).toMatchObject({ renewed: true, reason: 'enrolled', tenantId: E }),
  },
  { args: ['renew', '--server', 'SERVER', '--dir', 'connector'], schema: 'connector', exit: 0, check: (d) => expect(d).toMatchObject({ renewed: false, reason: expect.stringMatching(/^not due/) }) },
  { args: ['renew', '--server', 'SERVER', '--dir', 'connector', '--force'], schema: 'connector', exit: 0, check: (d) => expect(d).toMatchObject({ renewed: true, previous: { serial: expect.any(String) } }) },
  { args: ['enroll', '--server', 'SERVER', '--tenant', E, '--dir', 'connector-2', '--token-file', 'token.txt', '--ca', 'certs/ca.crt'], schema: 'error', exit: 1, check: (d) => expect(d.error.code).toBe('EST_REFUSED') },
  // A failure (exit 1), not an input error: the index has a line that is not a record.
  {
    args: ['crl', '--dir', 'broken'],
    schema: 'error',
    exit: 1,
    setup: async (base) => {
      // serve keeps the lock a moment after each request: stopped first, so the copy holds no live lock.
      await served?.stop();
      served = undefined;
      await cp(join(base, 'certs'), join(base, 'broken'), { recursive: true, verbatimSymlinks: true });
      await appendFile(join(base, 'broken', 'index.jsonl'), 'not a record\n');
    },
    check: (d) => expect(d.error).toMatchObject({ code: 'INDEX_CORRUPT', hint: expect.any(String) }),
  },
];

let base: string;
const validators = new Map<string, ValidateFunction>();

beforeAll(async () => {
  base = await tempDir();
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  for (const file of (await readdir(SCHEMAS)).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(await readFile(join(SCHEMAS, file), 'utf8')));
  }
  for (const file of (await readdir(SCHEMAS)).filter((f) => f.endsWith('.schema.json'))) validators.set(file.replace('.schema.json', ''), ajv.getSchema(file)!);
});

afterAll(async () => {
  await served?.stop();
});

describe('--json documents match the published JSON Schemas', () => {
  test.each(ROWS.map((row, i) => [`${i + 1}. pkictl ${row.args.join(' ')} --json → ${row.schema}`, row] as const))('%s', async (_title, row) => {
    await row.setup?.(base);
    const r = await runCli([...row.args, '--json'], { cwd: base });
    expect(r.code, r.stderr).toBe(row.exit);
    // stdout is a pipe here: the document is exactly one line (JSON Lines when appended to a file).
    expect(r.stdout.endsWith('\n') && r.stdout.indexOf('\n') === r.stdout.length - 1, r.stdout).toBe(true);
    const document = JSON.parse(r.stdout);
    const validate = validators.get(row.schema)!;
    expect(validate(document) ? [] : validate.errors, JSON.stringify(document, null, 2)).toEqual([]);
    if (row.schema === 'error') expect(r.stderr).toMatch(/^error: /);
    row.check?.(document);
  });

  test('every schema file has a row, and every row a schema file', () => {
    const used = new Set(ROWS.map((r) => r.schema));
    expect([...validators.keys()].filter((name) => name !== 'common' && !used.has(name))).toEqual([]);
    expect([...used].filter((name) => !validators.has(name))).toEqual([]);
  });
});

describe('--json layout follows stdout', () => {
  test('on a terminal the document is indented; through a pipe it is one line', async () => {
    const args = ['list', '--json', '--dir', join(base, 'certs'), '--at', '2027-01-01T00:00:00Z'];
    const piped = await runCli(args);
    expect(piped.stdout.trim().split('\n')).toHaveLength(1);
    // script(1) gives the child a pseudo-terminal as stdout.
    const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const tty = await runProcess('script', ['-qec', command, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
    expect(tty.code, tty.stderr).toBe(0);
    const lines = tty.stdout.replace(/\r/g, '').trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(lines[1]).toBe('  "schemaVersion": 1,');
    expect(JSON.parse(lines.join('\n'))).toEqual(JSON.parse(piped.stdout));
  });
});
