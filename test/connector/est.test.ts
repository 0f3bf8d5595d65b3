// pkictl serve (issue 15): the EST flows with plain curl + openssl as the README shows them, every
// refusal with its status code, one token racing ten clients, the connector's enroll/renew, and the
// renew daemon swapping a pair under a Python reader while the Go gateway accepts it.
import { spawn } from 'node:child_process';
import { connect } from 'node:tls';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl } from '../helpers/openssl.js';
import { buildGateway, connector, hasPeers, startGateway, type Gateway } from '../helpers/peers.js';
import { runCli, runProcess } from '../helpers/run-cli.js';
import { estRequest, startServe, type Served } from '../helpers/serve.js';
import { tempDir } from '../helpers/temp-dir.js';
import { BIN } from '../helpers/run-cli.js';

const ec = ['--key', 'ec-p256'];
const T = ['6f1d2c3b-0001-4a5b-8c6d-000000000001', '6f1d2c3b-0002-4a5b-8c6d-000000000002', '6f1d2c3b-0003-4a5b-8c6d-000000000003', '6f1d2c3b-0004-4a5b-8c6d-000000000004', '6f1d2c3b-0005-4a5b-8c6d-000000000005', '6f1d2c3b-0006-4a5b-8c6d-000000000006', '6f1d2c3b-0007-4a5b-8c6d-000000000007'] as const;
const EST = '/.well-known/est/';

async function ok(args: string[]) {
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}
const sh = (script: string, cwd: string) => runProcess('sh', ['-c', script], { cwd });

describe.skipIf(!hasPeers)('pkictl serve: EST enrollment', () => {
  let base: string;
  let dir: string;
  let serve: Served;
  let gateway: Gateway;
  const tokens: string[] = [];
  /** Processes a test starts: killed at the end even when the test fails half-way. */
  const children: Array<{ kill(): boolean }> = [];
  const token = async (tenant: string, ttl = '1h') => (await ok(['token', 'create', '--dir', dir, tenant, '--ttl', ttl])).stdout.trim();
  /** An openssl P-256 key and a CSR (DER, base64 body) for `subject`. */
  const csrFor = async (name: string, subject: string, newkey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']) => {
    const key = join(base, `${name}.key`);
    const der = join(base, `${name}.der`);
    const r = await openssl(['req', '-new', ...newkey, '-nodes', '-keyout', key, '-subj', subject, '-outform', 'DER', '-out', der]);
    expect(r.code, r.stderr).toBe(0);
    return { key, der, body: (await readFile(der)).toString('base64') };
  };
  const post = (endpoint: string, body: string, headers: Record<string, string> = {}, pair?: { cert: string; key: string }) =>
    estRequest(serve.port, dir, EST + endpoint, { method: 'POST', body, headers: { 'Content-Type': 'application/pkcs10', ...headers }, ...(pair && { pair }) });
  const basic = (user: string, password: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  /** A 200 answer's certificates as PEM, through openssl pkcs7. */
  const certsOf = async (body: string) => {
    const r = await openssl(['pkcs7', '-inform', 'DER', '-print_certs'], Buffer.from(body.replace(/\s/g, ''), 'base64'));
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.replace(/^(subject|issuer)=.*\n/gm, '').replace(/\n\n/g, '\n');
  };
  const enrolled = async (name: string, tenant: string) => {
    const csr = await csrFor(name, `/CN=${tenant}`);
    const tok = await token(tenant);
    tokens.push(tok);
    const answer = await post('simpleenroll', csr.body, basic('', tok));
    expect(answer.status, answer.body).toBe(200);
    const cert = join(base, `${name}.crt`);
    await writeFile(cert, await certsOf(answer.body));
    return { cert, key: csr.key };
  };

  beforeAll(async () => {
    base = await tempDir();
    dir = join(base, 'certs');
    await ok(['init', '--dir', dir, ...ec, '--intermediate']);
    await ok(['issue', 'server', '--dir', dir, ...ec]);
    serve = await startServe(dir, ['--timeout', '3s']);
    gateway = await startGateway(await buildGateway(base), dir);
  }, 120_000);
  afterAll(async () => {
    for (const child of children) child.kill();
    gateway?.stop();
    if (serve) expect(await serve.stop('SIGTERM')).toBe(0);
  });

  it('the README recipe with curl and openssl: cacerts, enroll with a token, re-enroll with the pair; openssl and the Go gateway accept both', async () => {
    const tenant = T[0];
    const url = serve.url + EST;
    const cacerts = await sh(`curl -sf --cacert certs/ca.crt ${url}cacerts | base64 -d | openssl pkcs7 -inform DER -print_certs`, base);
    expect(cacerts.code, cacerts.stderr).toBe(0);
    expect(cacerts.stdout).toMatch(/subject=.*CN ?= ?Luzzi Root CA/);
    expect(cacerts.stdout).toMatch(/subject=.*CN ?= ?Luzzi Root CA Issuing CA/);
    const tok = await token(tenant);
    tokens.push(tok);
    const enrollRun = await runProcess('sh', ['-c', [
      `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client.key -subj "/CN=${tenant}" -outform DER -out client.der 2>/dev/null`,
      `base64 client.der > client.b64`,
      `curl -sf --cacert certs/ca.crt -u ":$TOKEN" -H "Content-Type: application/pkcs10" --data-binary @client.b64 ${url}simpleenroll | base64 -d | openssl pkcs7 -inform DER -print_certs > client.crt`,
      `openssl verify -x509_strict -purpose sslclient -CAfile certs/ca.crt -untrusted certs/intermediate.crt client.crt`,
    ].join(' && ')], { cwd: base, env: { ...process.env, TOKEN: tok } });
    expect(enrollRun.code, enrollRun.stderr).toBe(0);
    expect(enrollRun.stdout).toMatch(/client.crt: OK/);
    expect(await connector(gateway.port, 'localhost', join(dir, 'ca.crt'), { cert: join(base, 'client.crt'), key: join(base, 'client.key') }, tenant)).toEqual({ code: 0, out: `ok ${tenant}` });
    // Re-enroll: a new key, the current certificate's subject, authenticated by the current pair.
    const reenroll = await sh([
      `SUBJECT=$(openssl x509 -in client.crt -noout -subject -nameopt compat | sed 's/^subject=//')`,
      `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout new.key -subj "$SUBJECT" -outform DER -out new.der 2>/dev/null`,
      `base64 new.der | curl -sf --cacert certs/ca.crt --cert client.crt --key client.key -H "Content-Type: application/pkcs10" --data-binary @- ${url}simplereenroll | base64 -d | openssl pkcs7 -inform DER -print_certs > new.crt`,
      `openssl verify -x509_strict -purpose sslclient -CAfile certs/ca.crt -untrusted certs/intermediate.crt new.crt`,
    ].join(' && '), base);
    expect(reenroll.code, reenroll.stderr).toBe(0);
    expect(await connector(gateway.port, 'localhost', join(dir, 'ca.crt'), { cert: join(base, 'new.crt'), key: join(base, 'new.key') }, tenant)).toEqual({ code: 0, out: `ok ${tenant}` });
    const list = JSON.parse((await ok(['list', '--dir', dir, '--json'])).stdout) as { certificates: Array<{ tenantId: string | null; keyAt?: string; serial: string }> };
    const row = list.certificates.find((c) => c.tenantId === tenant)!;
    expect(row.keyAt).toBe('connector');
    expect((await openssl(['x509', '-in', join(base, 'new.crt'), '-noout', '-serial'])).stdout.trim().toLowerCase()).toBe(`serial=${row.serial}`);
    await serve.logged((l) => l.tenant === tenant && l.endpoint === 'simplereenroll');
    expect(serve.log.filter((l) => l.tenant === tenant).map((l) => [l.endpoint, l.status])).toEqual([['simpleenroll', 200], ['simplereenroll', 200]]);
  });

  it('refuses what it must, each with its status code, and keeps serving', async () => {
    const [a, b] = [T[1], T[2]];
    const good = await csrFor('good-a', `/CN=${a}`);
    const noCreds = await post('simpleenroll', good.body);
    expect(noCreds.status).toBe(401);
    expect(noCreds.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await post('simpleenroll', good.body, { ...basic('', 'x'), 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post('simpleenroll', 'not base64!!', basic('', 'x'))).status).toBe(400);
    expect((await post('simpleenroll', 'A'.repeat(70_000), basic('', 'x'))).status).toBe(413);
    const tampered = Buffer.from(good.body, 'base64');
    tampered[tampered.length - 8]! ^= 1;
    const tokA = await token(a);
    expect((await post('simpleenroll', tampered.toString('base64'), basic('', tokA))).status).toBe(400);
    const weak = await csrFor('weak', `/CN=${a}`, ['-newkey', 'rsa:1024']);
    expect((await post('simpleenroll', weak.body, basic('', tokA))).status).toBe(403);
    // A's token for B's CSR, or under B's name: refused; the token is not spent by a refusal before it.
    const forB = await csrFor('for-b', `/CN=${b}`);
    expect((await post('simpleenroll', forB.body, basic('', tokA))).status).toBe(403);
    expect((await post('simpleenroll', good.body, basic(b, tokA))).status).toBe(403);
    // With line breaks and a Content-Transfer-Encoding header (RFC 8951): accepted.
    const wrapped = (good.body.match(/.{1,64}/g) ?? []).join('\r\n');
    const first = await post('simpleenroll', wrapped, { ...basic(a, tokA), 'Content-Transfer-Encoding': 'base64' });
    expect(first.status, first.body).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/pkcs7-mime; smime-type=certs-only/);
    const reused = await post('simpleenroll', (await csrFor('good-a2', `/CN=${a}`)).body, basic('', tokA));
    expect(reused.status).toBe(403);
    expect(reused.body).toMatch(/unknown, used, expired, revoked/);
    const short = await token(b, '1s');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await post('simpleenroll', forB.body, basic('', short))).status).toBe(403);
    const revokedToken = await token(b);
    await ok(['token', 'revoke', '--dir', dir, '--tenant', b]);
    expect((await post('simpleenroll', forB.body, basic('', revokedToken))).status).toBe(403);
    // Re-enrollment refusals.
    const pair = await enrolled('c-1', T[3]);
    expect((await post('simplereenroll', (await csrFor('c-2', `/CN=${T[3]}`)).body)).status).toBe(401); // no client certificate
    const subjectOf = async (cert: string) => (await openssl(['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'compat'])).stdout.replace(/^subject=/, '').trim();
    const same = await subjectOf(pair.cert);
    expect((await post('simplereenroll', (await csrFor('c-moved', `/CN=${T[4]}`)).body, {}, pair)).status).toBe(403); // another tenant id
    expect((await post('simplereenroll', (await csrFor('c-changed', same.replace('O=Luzzi', 'O=Other'))).body, {}, pair)).status).toBe(403);
    const renewed = await post('simplereenroll', (await csrFor('c-3', same)).body, {}, pair);
    expect(renewed.status, renewed.body).toBe(200);
    const superseded = await post('simplereenroll', (await csrFor('c-4', same)).body, {}, pair);
    expect(superseded.status).toBe(403);
    expect(superseded.body).toMatch(/may not re-enroll/);
    // A pair from another CA, with the same tenant id.
    const other = join(base, 'other');
    await ok(['init', '--dir', other, ...ec]);
    await ok(['issue', 'client', '--dir', other, ...ec, T[3]]);
    const foreign = { cert: join(other, 'clients', T[3], 'client.crt'), key: join(other, 'clients', T[3], 'client.key') };
    expect((await post('simplereenroll', (await csrFor('c-5', same)).body, {}, foreign)).status).toBe(403);
    // A revocation made with the CLI takes effect at the next request.
    const current = { cert: join(base, 'c-3.crt'), key: join(base, 'c-3.key') };
    await writeFile(current.cert, await certsOf(renewed.body));
    const serial = (await openssl(['x509', '-in', current.cert, '-noout', '-serial'])).stdout.trim().split('=')[1]!.toLowerCase();
    await ok(['revoke', '--dir', dir, serial, '--reason', 'keyCompromise']);
    const afterRevoke = await post('simplereenroll', (await csrFor('c-6', same)).body, {}, current);
    expect(afterRevoke.status).toBe(403);
    expect(afterRevoke.body).toMatch(/revoked|may not re-enroll/);
    // Wrong methods and paths; csrattrs.
    expect((await estRequest(serve.port, dir, `${EST}simpleenroll`)).status).toBe(405);
    expect((await estRequest(serve.port, dir, `${EST}nothing`)).status).toBe(404);
    expect((await estRequest(serve.port, dir, `${EST}csrattrs`)).status).toBe(204);
    // The access log says why, and never holds a token.
    await serve.logged((l) => /keyCompromise/.test(String(l.reason)));
    const reasons = serve.log.filter((l) => l.status !== 200).map((l) => `${l.status} ${String(l.reason)}`);
    expect(reasons.some((r) => /^403 .*token used/.test(r))).toBe(true);
    expect(reasons.some((r) => /^403 .*token expired/.test(r))).toBe(true);
    expect(reasons.some((r) => /^403 .*token revoked/.test(r))).toBe(true);
    expect(reasons.some((r) => /^403 .*revoked \(keyCompromise\)/.test(r))).toBe(true);
    const everything = JSON.stringify(serve.log) + serve.stderr() + (await readFile(join(dir, 'audit.log'), 'utf8')) + (await readFile(join(dir, 'index.jsonl'), 'utf8'));
    for (const t of [...tokens, tokA, short, revokedToken]) expect(everything).not.toContain(t);
    expect((await estRequest(serve.port, dir, '/healthz')).status).toBe(200);
  });

  it('slow clients are cut off (headers or body trickling in); the others are served meanwhile', async () => {
    /** Opens a TLS connection, sends `text`, then nothing: resolves with how long until the server closed it. */
    const trickle = (text: string) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = connect({ host: '127.0.0.1', port: serve.port, rejectUnauthorized: false }, () => socket.write(text));
        socket.on('error', () => {});
        socket.on('data', () => {});
        socket.on('close', () => resolve(Date.now() - started));
      });
    const auth = `Authorization: Basic ${Buffer.from(':not-a-token').toString('base64')}\r\n`;
    const slowHeaders = trickle('POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: x\r\nContent-Type: appl');
    const slowBody = trickle(`POST /.well-known/est/simpleenroll HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/pkcs10\r\nContent-Length: 100\r\n\r\nMIIB`);
    const meanwhile = await estRequest(serve.port, dir, `${EST}cacerts`);
    expect(meanwhile.status).toBe(200);
    for (const closedAfter of await Promise.all([slowHeaders, slowBody])) {
      expect(closedAfter).toBeGreaterThanOrEqual(2_500); // --timeout 3s
      expect(closedAfter).toBeLessThan(10_000);
    }
    expect(await serve.logged((l) => l.status === 408)).toBeDefined();
    expect((await estRequest(serve.port, dir, '/healthz')).status).toBe(200);
  });

  it('rate limit (429), an unavailable store (503), and a graceful stop that finishes the request in flight', async () => {
    const limited = await startServe(dir, ['--rate-limit', '2'], { PKICTL_LOCK_TIMEOUT: '2' });
    const tenant = '6f1d2c3b-0008-4a5b-8c6d-000000000008';
    const csr = await csrFor('limited', `/CN=${tenant}`);
    const send = (tok: string) => estRequest(limited.port, dir, `${EST}simpleenroll`, { method: 'POST', body: csr.body, headers: { 'Content-Type': 'application/pkcs10', ...basic(tenant, tok) } });
    expect((await send('wrong')).status).toBe(403);
    expect((await send('wrong')).status).toBe(403);
    const third = await send('wrong');
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
    expect(await limited.stop()).toBe(0);
    // The lock held by another process for longer than serve waits: 503, nothing recorded.
    const busy = await startServe(dir, [], { PKICTL_LOCK_TIMEOUT: '1' });
    const { acquireLock } = await import('../../src/store/lock.js');
    const held = await acquireLock(dir, { command: 'test holding the lock' });
    const cli = await runCli(['token', 'create', '--dir', dir, tenant], { env: { PKICTL_LOCK_TIMEOUT: '1' } });
    expect(cli.code).toBe(1); // the CLI waits for the lock as serve does, then gives up in one line
    expect(cli.stderr).toMatch(/held by .*test holding the lock/);
    const unavailable = await estRequest(busy.port, dir, `${EST}simpleenroll`, { method: 'POST', body: csr.body, headers: { 'Content-Type': 'application/pkcs10', ...basic('', 'x') } });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('30');
    await held.release();
    // A request waiting for the lock when SIGTERM arrives is finished, then serve exits 0.
    const open = await token(tenant);
    const graceful = await startServe(dir, [], { PKICTL_LOCK_TIMEOUT: '30' });
    const again = await acquireLock(dir, { command: 'test holding the lock' });
    const inFlight = estRequest(graceful.port, dir, `${EST}simpleenroll`, { method: 'POST', body: csr.body, headers: { 'Content-Type': 'application/pkcs10', ...basic('', open) } });
    await new Promise((r) => setTimeout(r, 500));
    const exited = graceful.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await again.release();
    expect((await inFlight).status).toBe(200);
    expect(await exited).toBe(0);
    expect(await busy.stop()).toBe(0);
  }, 60_000);

  it('ten clients racing with one token get exactly one certificate', async () => {
    const tenant = T[5];
    const tok = await token(tenant);
    const bodies = await Promise.all(Array.from({ length: 10 }, (_, i) => csrFor(`race-${i}`, `/CN=${tenant}`)));
    const answers = await Promise.all(bodies.map((b) => post('simpleenroll', b.body, basic('', tok))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array(9).fill(403)]);
    const list = JSON.parse((await ok(['list', '--dir', dir, '--all', '--json'])).stdout) as { certificates: Array<{ tenantId: string | null }> };
    expect(list.certificates.filter((c) => c.tenantId === tenant)).toHaveLength(1);
  });

  it('enroll pins the root by fingerprint; renew is cron-safe; the daemon swaps the pair under a Python reader while the gateway accepts it', async () => {
    const tenant = T[6];
    const conn = join(base, 'connector');
    const tokenFile = join(base, 'token.txt');
    await writeFile(tokenFile, await token(tenant), { mode: 0o600 });
    const fingerprint = (await openssl(['x509', '-in', join(dir, 'ca.crt'), '-noout', '-fingerprint', '-sha256'])).stdout.trim().split('=')[1]!;
    // The token never on the command line; a root to trust is required; no token at all is one line.
    const common = ['enroll', '--server', serve.url, '--tenant', tenant, '--dir', conn];
    for (const [args, message] of [
      [[...common, '--token', 'abc', '--fingerprint', 'ab'.repeat(32)], /--token: a token on the command line is visible to every user/],
      [[...common, '--token-file', tokenFile], /give the root to trust: --ca FILE or --fingerprint SHA256/],
      [[...common, '--fingerprint', 'ab'.repeat(32)], /no enrollment token: pass --token-file FILE or set PKICTL_TOKEN/],
    ] as const) {
      const r = await runCli([...args], { env: { PKICTL_TOKEN: undefined } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // A wrong fingerprint: nothing is sent (the token stays open), nothing is written.
    const wrong = await runCli(['enroll', '--server', serve.url, '--tenant', tenant, '--dir', conn, '--token-file', tokenFile, '--fingerprint', 'ab'.repeat(32)]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: .*publishes no root certificate with SHA-256 abab.*nothing was sent/);
    await expect(readdir(conn)).rejects.toThrow(/ENOENT/);
    const enrolledRun = await ok(['enroll', '--server', serve.url, '--tenant', tenant, '--dir', conn, '--token-file', tokenFile, '--fingerprint', fingerprint]);
    expect(enrolledRun.stderr).toMatch(new RegExp(`enrolled tenant ${tenant}`));
    expect((await readdir(conn)).sort()).toEqual(['ca.crt', 'client.crt', 'client.key']);
    expect((await import('node:fs')).statSync(join(conn, 'client.key')).mode & 0o777).toBe(0o600);
    const pair = { cert: join(conn, 'client.crt'), key: join(conn, 'client.key') };
    expect(await connector(gateway.port, 'localhost', join(conn, 'ca.crt'), pair, tenant)).toEqual({ code: 0, out: `ok ${tenant}` });
    const notDue = await ok(['renew', '--server', serve.url, '--dir', conn]);
    expect(notDue.stderr).toMatch(/not due: expires in 89 days/);
    const serialOf = async () => (await openssl(['x509', '-in', pair.cert, '-noout', '-serial'])).stdout.trim();
    const before = await serialOf();
    // The daemon under a reader that loads the pair over and over.
    const stop = join(base, 'stop-reader');
    const reader = runProcess('python3', ['-c', READER, conn, stop]);
    const daemon = spawn(process.execPath, [BIN, 'renew', '--server', serve.url, '--dir', conn, '--daemon'], { env: { ...process.env, NO_COLOR: '1' } });
    children.push(daemon);
    let log = '';
    daemon.stderr.on('data', (d) => (log += String(d)));
    const waitFor = async (pattern: RegExp, count: number) => {
      for (let i = 0; i < 200 && (log.match(pattern) ?? []).length < count; i++) await new Promise((r) => setTimeout(r, 100));
      expect((log.match(pattern) ?? []).length, log).toBeGreaterThanOrEqual(count);
    };
    await waitFor(/next renewal from/g, 1);
    const serials = [before];
    for (let i = 1; i <= 3; i++) {
      daemon.kill('SIGHUP');
      await waitFor(/renewed \(serial/g, i);
      serials.push(await serialOf());
      expect(await connector(gateway.port, 'localhost', join(conn, 'ca.crt'), pair, tenant)).toEqual({ code: 0, out: `ok ${tenant}` });
    }
    expect(new Set(serials).size).toBe(4);
    daemon.kill('SIGTERM');
    expect(await new Promise((resolve) => daemon.once('exit', resolve))).toBe(0);
    // The hooks after a swap: --exec with the new pair's variables, then --signal.
    const py = spawn('python3', ['-c', "import signal; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1]); print('ready', flush=True); signal.sigwait([signal.SIGUSR1]); print('got USR1', flush=True)"]);
    children.push(py);
    const pyClosed = new Promise((resolve) => py.once('close', resolve));
    let said = '';
    py.stdout.on('data', (d) => (said += String(d)));
    for (let i = 0; i < 100 && !said.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
    const hooked = await ok(['renew', '--server', serve.url, '--dir', conn, '--force', '--exec', `echo "$PKICTL_TENANT $PKICTL_SERIAL" > ${join(base, 'hook.txt')}`, '--signal', `${py.pid}:USR1`, '--json']);
    const renewed = JSON.parse(hooked.stdout) as { serial: string; hook: { ok: boolean } };
    expect(renewed.hook.ok).toBe(true);
    expect((await readFile(join(base, 'hook.txt'), 'utf8')).trim()).toBe(`${tenant} ${renewed.serial}`);
    await pyClosed;
    expect(said).toContain('got USR1');
    serials.push(await serialOf());
    expect(serials.at(-1)).toBe(`serial=${renewed.serial.toUpperCase()}`);
    // A server that cannot be reached: the daemon says so, retries with backoff, and the pair stays.
    const offline = spawn(process.execPath, [BIN, 'renew', '--server', 'https://127.0.0.1:1', '--dir', conn, '--daemon', '--retry', '1s'], { env: { ...process.env, NO_COLOR: '1' } });
    children.push(offline);
    log = '';
    offline.stderr.on('data', (d) => (log += String(d)));
    await waitFor(/next renewal from/g, 1);
    offline.kill('SIGHUP');
    await waitFor(/failed \(2 in a row\): cannot reach 127\.0\.0\.1:1.*retrying in \d+ s/g, 1);
    offline.kill('SIGTERM');
    expect(await new Promise((resolve) => offline.once('exit', resolve))).toBe(0);
    expect(await serialOf()).toBe(serials.at(-1));
    await writeFile(stop, '');
    const stats = JSON.parse((await reader).stdout) as { loads: number; failedTwice: number; missing: number };
    expect(stats.loads).toBeGreaterThan(50);
    expect(stats).toMatchObject({ failedTwice: 0, missing: 0 });
    // The CA side: the tenant's certificate is the one on the connector, its key is not in the tree.
    expect((await runCli(['audit', '--dir', dir])).stderr).toMatch(/keep their key on their connector/);
  }, 120_000);

  it('a certificate under a revoked intermediate cannot re-enroll (renewed and revoked with the CLI while serve runs)', async () => {
    const tenant = '6f1d2c3b-0009-4a5b-8c6d-000000000009';
    const pair = await enrolled('under-old', tenant);
    const status = JSON.parse((await ok(['ca', 'status', '--dir', dir, '--json'])).stdout) as { cas: Array<{ role: string; serial: string }> };
    const old = status.cas.find((c) => c.role === 'intermediate')!.serial;
    await ok(['intermediate', 'renew', '--dir', dir]);
    await ok(['intermediate', 'revoke', '--dir', dir, old]);
    const subject = (await openssl(['x509', '-in', pair.cert, '-noout', '-subject', '-nameopt', 'compat'])).stdout.replace(/^subject=/, '').trim();
    const answer = await post('simplereenroll', (await csrFor('under-old-2', subject)).body, {}, pair);
    expect(answer.status).toBe(403);
    expect(await serve.logged((l) => l.endpoint === 'simplereenroll' && l.tenant === tenant && l.status === 403)).toMatchObject({ reason: expect.stringMatching(new RegExp(`its issuing CA ${old} is revoked`)) });
    // A new enrollment is signed by the new intermediate, which serve picked up without a restart.
    const fresh = await enrolled('under-new', '6f1d2c3b-000a-4a5b-8c6d-00000000000a');
    const issuer = (await openssl(['x509', '-in', fresh.cert, '-noout', '-issuer'])).stdout;
    expect(issuer).toMatch(/Issuing CA/);
    expect((await openssl(['verify', '-purpose', 'sslclient', '-CAfile', join(dir, 'ca.crt'), '-untrusted', join(dir, 'intermediate.crt'), fresh.cert])).code).toBe(0);
  });
});

/** A connector's loop: load_cert_chain(client.crt, client.key) until `stop` exists; a failed load is retried once. */
const READER = String.raw`
import json, os, ssl, sys
d, stop = sys.argv[1], sys.argv[2]
stats = {'loads': 0, 'straddled': 0, 'failedTwice': 0, 'missing': 0}
def load():
    ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(os.path.join(d, 'client.crt'), os.path.join(d, 'client.key'))
parent = os.getppid()
# Also stop when the test is gone: its temp dir removed, or this process orphaned (a killed test run).
while not os.path.exists(stop) and os.path.isdir(d) and os.getppid() == parent:
    stats['loads'] += 1
    try:
        load()
    except FileNotFoundError:
        stats['missing'] += 1
    except (ssl.SSLError, OSError):
        stats['straddled'] += 1
        try:
            load()
        except Exception:
            stats['failedTwice'] += 1
print(json.dumps(stats))
`;
