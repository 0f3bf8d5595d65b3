import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCertIndex, type IndexEntry, type IndexTransaction } from '../../src/store/cert-index.js';
import { tempDir } from '../helpers/temp-dir.js';

const entry = (serial: string, status: IndexEntry['status'] = 'valid', more: Partial<IndexEntry> = {}): IndexEntry => ({
  serial, kind: 'client', tenantId: `t-${serial}`, subject: `CN=t-${serial}`, notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z',
  sha256: serial.repeat(8), status, issuedAt: '2026-01-01T00:00:00.000Z', path: `clients/t-${serial}/client.crt`, ...more,
});
const line = (txn: Omit<IndexTransaction, 'audit'>) => JSON.stringify({ time: '2026-01-01T00:00:00.000Z', audit: [], ...txn }) + '\n';

describe('FileCertIndex.revocations: the revoked-lines read gives what the full load gives', () => {
  it('latest status wins across lines; a torn last line is skipped; no index is undefined', async () => {
    const dir = await tempDir('pkictl-index-rev-');
    const index = new FileCertIndex(dir);
    expect(await index.revocations()).toBeUndefined();
    const journal = [
      line({ add: [entry('aa'), entry('bb'), entry('cc')] }),
      line({ set: [{ serial: 'aa', status: 'revoked', at: '2026-02-01T00:00:00.000Z', reason: 'keyCompromise' }] }),
      // Adopted already revoked (a line whose only "revoked" is inside the entry).
      line({ add: [entry('dd', 'revoked', { revokedAt: '2026-02-02T00:00:00.000Z', revocationReason: 'affiliationChanged' })] }),
      line({ set: [{ serial: 'bb', status: 'superseded', at: '2026-02-03T00:00:00.000Z', by: 'ee' }], add: [entry('ee')] }),
      line({ set: [{ serial: 'cc', status: 'revoked', at: '2026-02-04T00:00:00.000Z' }] }),
    ].join('');
    // A write cut short by a crash: never applied, by either reader.
    const torn = '{"set":[{"serial":"ee","status":"revoked","at":"2026-02-05T00:00:00.000Z"';
    await writeFile(join(dir, 'index.jsonl'), journal + torn);

    const fast = await index.revocations();
    await index.load();
    const folded = new Map(index.entries().filter((e) => e.status === 'revoked').map((e) => [e.serial, { reason: e.revocationReason, at: e.revokedAt }]));
    expect(fast).toEqual(folded);
    expect(fast).toEqual(new Map([
      ['aa', { reason: 'keyCompromise', at: '2026-02-01T00:00:00.000Z' }],
      ['dd', { reason: 'affiliationChanged', at: '2026-02-02T00:00:00.000Z' }],
      ['cc', { reason: 'unspecified', at: '2026-02-04T00:00:00.000Z' }],
    ]));
  });
});
