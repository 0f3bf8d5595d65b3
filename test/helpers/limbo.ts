import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

// The x509-limbo suite's checkout: PKICTL_LIMBO_DIR, else ../shared/limbo next to the repository.
const LIMBO = join(resolve(process.env.PKICTL_LIMBO_DIR ?? fileURLToPath(new URL('../../../shared/limbo', import.meta.url))), 'limbo.json.gz');

/** Whether the suite is here. Tests that need it skip without it locally; CI (PKICTL_REQUIRE_PEERS=1) fails instead. */
export const limboPresent = existsSync(LIMBO);
if (process.env.PKICTL_REQUIRE_PEERS === '1' && !limboPresent) {
  throw new Error(`x509-limbo is required (PKICTL_REQUIRE_PEERS=1) but ${LIMBO} does not exist: set PKICTL_LIMBO_DIR to the suite's directory`);
}

/** The suite's test cases (the whole JSON document, decompressed). */
export function readLimbo<T>(): { testcases: T[] } {
  return JSON.parse(gunzipSync(readFileSync(LIMBO)).toString('utf8')) as { testcases: T[] };
}
