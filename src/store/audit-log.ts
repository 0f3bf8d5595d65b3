import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { appendDurably, openJournal, readJournal } from './group-commit.js';

/**
 * certs/audit.log: append-only JSON lines, one per event, never key material. Each line carries
 * `seq` (its 1-based line number), `prev` (the hash of the line before; 64 zeros for the first) and
 * `hash` = SHA-256 of the line's JSON without `hash`. The index records the latest {seq, hash}, so
 * an edit, a deleted line and a truncation are all detectable; appending forged lines at the end is
 * not (that needs a signing key, which an operator with write access to certs/ would hold anyway).
 */

export const GENESIS = '0'.repeat(64);

export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditEvent {
  action: string;
  result: 'ok' | 'failed';
  kind?: 'ca' | 'intermediate' | 'server' | 'client' | 'crl';
  serial?: string;
  tenant?: string;
  cn?: string;
  sha256?: string;
  /** e.g. the serial this one supersedes, a revocation reason, an error message. */
  detail?: Record<string, string | number>;
}

export interface AuditContext {
  actor: string;
  command: string;
}

export interface AuditLine extends AuditEvent, AuditContext {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The hash a line must carry: over its JSON without the `hash` field, keys in written order. */
function hashOf(line: Record<string, unknown>): string {
  const { hash: _hash, ...rest } = line;
  return sha256(JSON.stringify(rest));
}

/** Builds the next lines of the chain (text without newline) and the new head. */
export function chainLines(head: AuditHead | undefined, events: AuditEvent[], context: AuditContext, time: Date): { texts: string[]; head: AuditHead | undefined } {
  let current = head;
  const texts: string[] = [];
  for (const event of events) {
    const body = {
      seq: (current?.seq ?? 0) + 1,
      time: time.toISOString(),
      actor: context.actor,
      command: context.command,
      ...event,
      prev: current?.hash ?? GENESIS,
    };
    const hash = hashOf(body);
    texts.push(JSON.stringify({ ...body, hash }));
    current = { seq: body.seq, hash };
  }
  return { texts, head: current };
}

/** Appends whole lines, all or nothing (appendDurably), then fsync. */
export async function appendLines(path: string, texts: string[]): Promise<void> {
  if (texts.length > 0) await appendDurably(path, texts.map((t) => `${t}\n`).join(''));
}

/**
 * A crash (power loss) during an append can leave a last line without its newline. Under the lock,
 * before anything is appended, that torn tail is cut off: the file is back at its last whole line,
 * however long the torn line is (one revocation of thousands of certificates writes megabytes).
 * Returns the number of bytes removed.
 */
export async function cutTornTail(path: string): Promise<number> {
  const handle = await openJournal(path, constants.O_RDWR);
  if (!handle) return 0;
  try {
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    if (size === 0 || ((await handle.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] === 0x0a)) return 0;
    // Search backwards, a chunk at a time, for the newline that ends the last whole line.
    const chunk = Buffer.alloc(Math.min(size, 1 << 20));
    let keep = 0;
    for (let end = size; end > 0 && keep === 0; ) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline >= 0) keep = start + newline + 1;
      end = start;
    }
    await handle.truncate(keep);
    await handle.sync();
    return size - keep;
  } finally {
    await handle.close();
  }
}

/** The last whole line's {seq, hash}, reading only the end of the file. */
export async function readLastHead(path: string): Promise<AuditHead | undefined> {
  const handle = await openJournal(path, constants.O_RDONLY);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    const chunk = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(chunk);
    await handle.read(buffer, 0, chunk, size - chunk);
    const lines = buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    const last = lines.at(-1);
    if (!last) return undefined;
    try {
      const parsed = JSON.parse(last) as AuditLine;
      return { seq: parsed.seq, hash: parsed.hash };
    } catch {
      return undefined;
    }
  } finally {
    await handle.close();
  }
}

export interface AuditProblem {
  /** 1-based line number in the file; absent when the log or index as a whole falls short of the tree. */
  line?: number;
  message: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  lines: number;
  head?: AuditHead;
  /** The first broken line (tampering, deletion, truncation), when not ok. */
  problem?: AuditProblem;
  /** Not errors: e.g. lines committed in the index that an interrupted run did not append yet. */
  notes: string[];
}

/** Checks every line's hash and link, then the end of the chain against the index's recorded head. */
export async function verifyAuditLog(path: string, recorded: AuditHead | undefined, pending: string[] = []): Promise<AuditVerifyResult> {
  const journal = await readJournal(path);
  const text = journal?.toString('utf8') ?? '';
  const notes: string[] = [];
  const raw = text === '' ? [] : text.split('\n');
  if (raw.length > 0 && raw.at(-1) === '') raw.pop();
  else if (raw.length > 0) {
    return { ok: false, lines: raw.length, problem: { line: raw.length, message: 'the last line is incomplete (no newline): the file was cut or a write was interrupted' }, notes };
  }
  let prev = GENESIS;
  let head: AuditHead | undefined;
  for (let i = 0; i < raw.length; i++) {
    const n = i + 1;
    let line: AuditLine;
    try {
      line = JSON.parse(raw[i]!) as AuditLine;
    } catch {
      return { ok: false, lines: raw.length, head, problem: { line: n, message: 'not valid JSON' }, notes };
    }
    if (typeof line !== 'object' || line === null || typeof line.hash !== 'string') {
      return { ok: false, lines: raw.length, head, problem: { line: n, message: 'not an audit record (no hash)' }, notes };
    }
    if (hashOf(line as unknown as Record<string, unknown>) !== line.hash) {
      return { ok: false, lines: raw.length, head, problem: { line: n, message: 'its content does not match its hash: the line was edited' }, notes };
    }
    if (line.prev !== prev) {
      return { ok: false, lines: raw.length, head, problem: { line: n, message: `it does not follow line ${n - 1}: a line before it was removed, inserted or rewritten` }, notes };
    }
    if (line.seq !== n) {
      return { ok: false, lines: raw.length, head, problem: { line: n, message: `it says it is line ${line.seq}: lines were removed or inserted` }, notes };
    }
    prev = line.hash;
    head = { seq: line.seq, hash: line.hash };
  }
  if (recorded) {
    if (raw.length < recorded.seq) {
      // The index is written first (it is the commit point) and carries the lines of its last
      // transaction; a run killed between the two leaves exactly those lines missing here.
      const missing = pending.map((t) => JSON.parse(t) as AuditLine).filter((l) => l.seq > raw.length);
      const interrupted = missing.length === recorded.seq - raw.length && missing[0]?.prev === (head?.hash ?? GENESIS) && missing.at(-1)?.hash === recorded.hash;
      if (!interrupted) {
        const message = journal ? `the index records ${recorded.seq} lines but the log has ${raw.length}: it was truncated` : `the file is missing, but the index records ${recorded.seq} lines: it was deleted`;
        return { ok: false, lines: raw.length, head, problem: { line: raw.length + 1, message }, notes };
      }
      notes.push(`${missing.length} line(s) committed in the index are not in the log yet (an interrupted run; the next pkictl command that changes the directory writes them)`);
    } else {
      const atHead = JSON.parse(raw[recorded.seq - 1]!) as AuditLine;
      if (atHead.hash !== recorded.hash) {
        return { ok: false, lines: raw.length, head, problem: { line: recorded.seq, message: 'it is not the line the index recorded as the latest: the log was rewritten' }, notes };
      }
      if (raw.length > recorded.seq) {
        return { ok: false, lines: raw.length, head, problem: { line: recorded.seq + 1, message: `the index records ${recorded.seq} lines; this one and any after it were appended outside pkictl` }, notes };
      }
    }
  } else if (raw.length > 0) {
    notes.push('no index in this directory: truncation cannot be checked');
  }
  return { ok: true, lines: raw.length, head, notes };
}

/** A line read back for display: parsed, or why it could not be (audit-log verify judges the chain). */
export interface ReadLine {
  /** 1-based line number. */
  n: number;
  line?: AuditLine;
  problem?: string;
}

const CHUNK = 64 * 1024;
/** Longer lines are reported, not held: pkictl writes one short line per event. */
const MAX_LINE = 1024 * 1024;

function parseAuditLine(n: number, bytes: Buffer | undefined): ReadLine {
  if (!bytes) return { n, problem: `longer than ${MAX_LINE / 1024} KiB: not a line pkictl wrote` };
  try {
    const line = JSON.parse(bytes.toString('utf8')) as AuditLine;
    if (typeof line === 'object' && line !== null && typeof line.action === 'string') return { n, line };
  } catch {
    // reported below
  }
  return { n, problem: 'not an audit record' };
}

/**
 * The log's lines one at a time, read in 64 KiB chunks: memory holds a chunk and one line, never the
 * whole log (a 10,000-tenant CA's log is tens of MB), so a filter over it costs only what it keeps.
 * A torn last line (no newline) is skipped, as every reader of the journal does.
 */
export async function* readAuditLines(path: string): AsyncGenerator<ReadLine> {
  const handle = await openJournal(path, constants.O_RDONLY);
  if (!handle) return;
  try {
    const chunk = Buffer.alloc(CHUNK);
    let parts: Buffer[] = [];
    let length = 0;
    let n = 0;
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      let data = chunk.subarray(0, bytesRead);
      for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a)) {
        const piece = data.subarray(0, newline);
        const whole = length + piece.length > MAX_LINE ? undefined : Buffer.concat([...parts, piece]);
        parts = [];
        length = 0;
        yield parseAuditLine(++n, whole);
        data = data.subarray(newline + 1);
      }
      // The start of a line that continues in the next chunk (copied: the chunk is reused).
      if (length + data.length <= MAX_LINE) parts.push(Buffer.from(data));
      length += data.length;
    }
  } finally {
    await handle.close();
  }
}
