// Bulk issuance: N client certificates (default 200) signed by an RSA-4096 CA, with RSA-2048 leaves
// and with ECDSA P-256 leaves, by
//   - pkictl:            one `pkictl issue client --from ids.txt` (process start, CA load, validation,
//                        key + signature + atomic pair write per tenant, all included);
//   - openssl loop:      the platform's recipe (docs: mtls-design.md) in a shell loop: genrsa (or
//                        ecparam -genkey) + req + x509 -req per tenant, one after the other;
//   - openssl ×2:        the same recipe, two tenants at a time (xargs -P 2);
//   - in-process floor:  a bare loop of crypto.generateKeyPair + one CA signature per certificate
//                        at pkictl's concurrency: no X.509, no files. Nothing can be faster.
// All rows of a variant run one after the other in the same invocation, so they share the load.
// Run: npm run bench:issue [-- --n 200 --variants rsa,ec --concurrency N]
import { generateKeyPair, sign, createPrivateKey, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { arg, BIN, fmt, machineLine, NODE, run, scratch, table, timed } from './lib.mjs';

const N = Number(arg('n', 200));
const variants = arg('variants', 'rsa,ec').split(',');
// pkictl's defaults (ops/issue-clients.ts concurrencyFor): one job per core for RSA leaves, sixteen per
// core for EC ones; the floor runs at the same concurrency as pkictl.
const concurrencyArg = arg('concurrency', undefined);
const cores = Math.max(2, availableParallelism());
const concurrencyFor = (leaf) => Number(concurrencyArg ?? (leaf === 'rsa' ? cores : Math.min(64, 16 * cores)));
const dir = scratch('pkictl-bench-issue-');
const genKeyPair = promisify(generateKeyPair);

console.log(`bulk issuance of ${N} client certificates, RSA-4096 CA · ${machineLine()}\n`);

// One RSA-4096 CA for every row: made by pkictl, read by openssl as is (PKCS#8 PEM).
const caDir = join(dir, 'ca');
await run(NODE, [BIN, 'init', '--dir', caDir, '--key', 'rsa-4096']);
const caKeyPem = readFileSync(join(caDir, 'ca.key'), 'utf8');
const caKey = createPrivateKey(caKeyPem);
// Roughly the size of a leaf's TBSCertificate, so the floor signs what pkictl signs.
const tbs = Buffer.alloc(600, 7);

async function floor(leaf) {
  const concurrency = concurrencyFor(leaf);
  let next = 0;
  const { ms } = await timed(() =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < N) {
          if (leaf === 'rsa') await genKeyPair('rsa', { modulusLength: 2048 });
          else await genKeyPair('ec', { namedCurve: 'P-256' });
          await promisify(sign)('sha256', tbs, caKey); // async: on the libuv pool, like WebCrypto's
        }
      }),
    ),
  );
  return ms;
}

function opensslScript(leaf, parallel) {
  const keygen = leaf === 'rsa' ? 'openssl genrsa -out "$d/client.key" 2048 2>/dev/null' : 'openssl ecparam -genkey -name prime256v1 -noout -out "$d/client.key"';
  const one = [
    'd="clients/$1"; mkdir -p "$d"',
    keygen,
    'openssl req -new -key "$d/client.key" -out "$d/client.csr" -subj "/C=MX/ST=CDMX/O=Luzzi/CN=$1"',
    // -CAserial per tenant: the recipe's shared ca.srl races when two run at once (a failed or
    // duplicate serial); a fresh serial file per tenant makes openssl pick a random serial instead.
    'openssl x509 -req -days 90 -in "$d/client.csr" -CA ca.crt -CAkey ca.key -CAserial "$d/ca.srl" -CAcreateserial -out "$d/client.crt" 2>/dev/null',
  ].join(' && ');
  writeFileSync(join(dir, 'one.sh'), `${one}\n`);
  return parallel > 1 ? `xargs -P ${parallel} -n 1 sh ${join(dir, 'one.sh')} < ids.txt` : `while read -r id; do sh ${join(dir, 'one.sh')} "$id" || exit 1; done < ids.txt`;
}

async function opensslRun(leaf, parallel, name) {
  const work = join(dir, name);
  mkdirSync(join(work, 'clients'), { recursive: true });
  writeFileSync(join(work, 'ca.crt'), readFileSync(join(caDir, 'ca.crt')));
  writeFileSync(join(work, 'ca.key'), caKeyPem);
  writeFileSync(join(work, 'ids.txt'), Array.from({ length: N }, () => randomUUID()).join('\n') + '\n');
  const { ms } = await timed(() => run('sh', ['-c', opensslScript(leaf, parallel)], { cwd: work }));
  return ms;
}

async function pkictlRun(leaf, name) {
  const work = join(dir, name);
  mkdirSync(work, { recursive: true });
  // A copy of the CA tree without clients, so every run starts empty.
  for (const f of ['ca.crt', 'ca.key']) writeFileSync(join(work, f), readFileSync(join(caDir, f)), { mode: f.endsWith('.key') ? 0o600 : 0o644 });
  const ids = join(dir, `${name}.txt`);
  writeFileSync(ids, Array.from({ length: N }, () => randomUUID()).join('\n') + '\n');
  const { ms } = await timed(() =>
    run(NODE, [BIN, 'issue', 'client', '--dir', work, '--from', ids, '--key', leaf === 'rsa' ? 'rsa-2048' : 'ec-p256', '--concurrency', String(concurrencyFor(leaf))]),
  );
  return ms;
}

const summary = [];
for (const leaf of variants) {
  const label = leaf === 'rsa' ? 'RSA-2048 leaves' : 'ECDSA P-256 leaves';
  const rows = [];
  // Order: floor first (warms nothing pkictl uses: it is another process), pkictl, then openssl.
  rows.push({ method: `in-process floor (keygen + 1 signature, ${concurrencyFor(leaf)} at a time)`, ms: await floor(leaf) });
  rows.push({ method: `pkictl issue client --from (${concurrencyFor(leaf)} at a time)`, ms: await pkictlRun(leaf, `pkictl-${leaf}`) });
  rows.push({ method: 'openssl recipe, shell loop', ms: await opensslRun(leaf, 1, `openssl-${leaf}-1`) });
  rows.push({ method: 'openssl recipe, 2 at a time (xargs -P 2)', ms: await opensslRun(leaf, 2, `openssl-${leaf}-2`) });
  const rate = (r) => (N * 1000) / r.ms;
  const [fl, pk, loop, two] = rows;
  console.log(`${label} (${N} certificates)`);
  console.log(
    table(
      rows.map((r) => ({
        method: r.method,
        's total': fmt(r.ms / 1000, 2),
        'ms/cert': fmt(r.ms / N, 1),
        'certs/s': fmt(rate(r), 1),
        '× openssl loop': fmt(rate(r) / rate(loop), 2),
        '× openssl ×2': fmt(rate(r) / rate(two), 2),
        '× floor': fmt(rate(r) / rate(fl), 2),
      })),
    ),
  );
  const vsFloor = rate(pk) / rate(fl);
  const vsLoop = rate(pk) / rate(loop);
  const vsTwo = rate(pk) / rate(two);
  if (leaf === 'rsa') {
    summary.push(`RSA-2048: pkictl = ${fmt(vsFloor, 2)}× the floor (target ≥ 0.8: ${vsFloor >= 0.8 ? 'met' : 'MISSED'}), ${fmt(vsLoop, 2)}× the openssl loop (≥ 2: ${vsLoop >= 2 ? 'met' : 'MISSED'}), ${fmt(vsTwo, 2)}× openssl ×2 (≥ 1.2: ${vsTwo >= 1.2 ? 'met' : 'MISSED'})`);
  } else {
    summary.push(`ECDSA P-256: pkictl = ${fmt(vsLoop, 2)}× the openssl loop (target ≥ 10: ${vsLoop >= 10 ? 'met' : 'MISSED'}), ${fmt(vsFloor, 2)}× the floor`);
  }
  console.log('');
}
console.log(summary.join('\n'));
