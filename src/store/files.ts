import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { stdin } from 'node:process';
import { inputError, type PkiError } from '../core/errors.js';

/*
 * The one file reader: every read of certs/ (scan.ts) and of a file the user pointed at (a
 * certificate, a CRL, a tenant list, a passphrase file), with one size cap and one wording of
 * what went wrong.
 *
 * Synchronous on purpose: measured on a 10,000-tenant tree (bench/scan.mjs, a 2-core box),
 * open+fstat+read+close done synchronously took 0.5-0.9 s where the same calls through the libuv
 * pool took 1.2-2.7 s at 8 or 64 in flight, and for `verify` of 1,000 files four promise round trips
 * per file were most of the time: each file is a few hundred bytes, so the thread hand-offs cost more
 * than the reads. A CLI has nothing else to do meanwhile. The fstat of the open handle gives size
 * and mode for free.
 */

/** Far above any certificate bundle or tenant list; a planted 100 MB file is reported, not read. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

export type FileRead =
  | { ok: true; bytes: Uint8Array; mode: number }
  | { ok: false; missing: boolean; reason: string; mode?: number };

const MiB = 1024 * 1024;
const tooLarge = (size: number) => `${Math.ceil(size / MiB)} MiB is too large (limit ${MAX_FILE_BYTES / MiB} MiB)`;

/** The one wording of a failed file-system call ("no such file", "permission denied", …). */
export function reasonOf(error: unknown): { missing: boolean; reason: string } {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { missing: true, reason: 'no such file' };
  if (code === 'EACCES' || code === 'EPERM') return { missing: false, reason: 'permission denied' };
  if (code === 'EISDIR') return { missing: false, reason: 'is a directory, not a file' };
  if (code === 'ELOOP') return { missing: false, reason: 'symbolic link loop' };
  return { missing: false, reason: code ?? (error as Error).message };
}

/** One regular file with its mode; never throws for the usual file-system problems. */
export function readFile(path: string): FileRead {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const info = fstatSync(fd);
    const mode = info.mode & 0o777;
    if (info.isDirectory()) return { ok: false, missing: false, reason: 'is a directory, not a file', mode };
    if (!info.isFile()) return { ok: false, missing: false, reason: 'is not a regular file', mode };
    if (info.size > MAX_FILE_BYTES) return { ok: false, missing: false, reason: tooLarge(info.size), mode };
    // A size of 0 may still have content (procfs and the like): readFileSync reads those to the end.
    if (info.size === 0) return { ok: true, bytes: readFileSync(fd), mode };
    // allocUnsafe draws small files from Buffer's shared slab: 10,000 separate ArrayBuffers made
    // garbage collection a quarter of a list run.
    const bytes = Buffer.allocUnsafe(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const n = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return { ok: true, bytes: filled === bytes.length ? bytes : bytes.subarray(0, filled), mode };
  } catch (error) {
    return { ok: false, ...reasonOf(error) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The one-line input error for a file that could not be read: "<what>: <reason>". */
export function unreadable(what: string, read: Extract<FileRead, { ok: false }>): PkiError {
  return inputError(read.missing ? 'INPUT_MISSING' : 'INPUT_UNREADABLE', `${what}: ${read.reason}`);
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_FILE_BYTES) throw inputError('INPUT_UNREADABLE', `stdin: larger than ${MAX_FILE_BYTES / MiB} MiB, not a certificate file`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A file the user pointed at ('-' = stdin); every failure is one input error naming it as `what`. */
export async function readUserFile(path: string, what = path): Promise<Uint8Array> {
  if (path === '-') return readStdin();
  const read = readFile(path);
  if (!read.ok) throw unreadable(what, read);
  return read.bytes;
}

/** readUserFile as UTF-8 text. */
export async function readUserText(path: string, what = path): Promise<string> {
  return Buffer.from(await readUserFile(path, what)).toString('utf8');
}
