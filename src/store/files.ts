import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { stdin } from 'node:process';
import { getSystemErrorMap } from 'node:util';
import { inputError, type PkiError } from '../core/errors.js';

/*
 * The one file reader: every read of certs/ (scan.ts) and of a file the user pointed at (a
 * certificate, a CRL, a tenant list, a passphrase file, stdin), with one cap per kind of input and
 * one wording of what went wrong.
 *
 * Every read counts bytes as it goes and stops at its cap: fstat's size is 0 for devices, FIFOs,
 * /dev/stdin and procfs, so it cannot be trusted to bound a read (`inspect /dev/zero` must end).
 *
 * Regular files are read synchronously on purpose: measured on a 10,000-tenant tree (bench/scan.mjs,
 * a 2-core box), open+fstat+read+close done synchronously took 0.5-0.9 s where the same calls through
 * the libuv pool took 1.2-2.7 s at 8 or 64 in flight, and for `verify` of 1,000 files four promise
 * round trips per file were most of the time: each file is a few hundred bytes, so the thread
 * hand-offs cost more than the reads. A CLI has nothing else to do meanwhile. The fstat of the open
 * handle gives size and mode for free. Streams (stdin, FIFOs, devices) are read asynchronously, so a
 * slow writer does not block Ctrl-C.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The caps, one per kind of input (README "Limits"). `file`: certificates, keys, CRLs, templates and
 * every file under certs/ (a PEM bundle of thousands of certificates is far below it; a planted 100 MB
 * file is reported, not read). `tenantList`: --from, room for well over a million UUIDs (37 bytes a
 * line). `passphrase`: --passphrase-file.
 */
export const INPUT_LIMITS = {
  file: { bytes: 8 * MiB, noun: 'a certificate, key, CRL or template file' },
  tenantList: { bytes: 64 * MiB, noun: 'a tenant list' },
  passphrase: { bytes: 64 * KiB, noun: 'a passphrase file' },
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

export type FileRead =
  | { ok: true; bytes: Uint8Array; mode: number }
  | { ok: false; missing: boolean; reason: string; mode?: number };

const size = (bytes: number) => (bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`);
/** "is 9 MiB, over the 8 MiB limit for …"; of a stream only "is over …" is known. */
const tooLarge = (kind: InputKind, actual?: number) => {
  const { bytes, noun } = INPUT_LIMITS[kind];
  return `is ${actual === undefined ? '' : `${Math.ceil(actual / MiB)} MiB, `}over the ${size(bytes)} limit for ${noun}`;
};

/** Friendlier than the C library's wording, for the causes an operator meets. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ELOOP: 'symbolic link loop',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files (raise ulimit -n)',
  ENFILE: 'too many open files on the system',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error (a failing disk or a lost network mount)',
  EFBIG: 'file too large for the file system',
  ENXIO: 'no such device (a socket or a device without a driver)',
  EBUSY: 'busy',
  EEXIST: 'already exists',
  EXDEV: 'on another file system',
};

/**
 * The one wording of a failed file-system call ("no such file", "read-only file system", …): the
 * table above, else the system's own message for the code, never a bare errno name alone.
 */
export function reasonOf(error: unknown): { missing: boolean; reason: string } {
  const { code, errno, message } = error as NodeJS.ErrnoException;
  if (code === undefined) return { missing: false, reason: message ?? String(error) };
  const known = REASONS[code] ?? (errno !== undefined ? getSystemErrorMap().get(errno)?.[1] : undefined);
  return { missing: code === 'ENOENT', reason: known ? known : code };
}

/** Whether `error` is a failed system call (it has an errno code), which reasonOf can word. */
export const isSystemError = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';

/** Chunks added up to the cap of their kind: the one count every read goes through. */
class Counted {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  constructor(private readonly kind: InputKind) {}
  /** False once the input is past its cap (the chunk is dropped). */
  add(chunk: Buffer): boolean {
    this.total += chunk.length;
    if (this.total > INPUT_LIMITS[this.kind].bytes) return false;
    this.chunks.push(chunk);
    return true;
  }
  bytes = () => Buffer.concat(this.chunks, this.total);
  tooLarge = () => tooLarge(this.kind);
}

const CHUNK = 64 * KiB;

/** A regular file whose size says nothing (procfs and the like), read to its end or its cap. */
function readRest(fd: number, kind: InputKind, mode: number): FileRead {
  const counted = new Counted(kind);
  for (;;) {
    const chunk = Buffer.allocUnsafe(CHUNK);
    const n = readSync(fd, chunk, 0, CHUNK, null);
    if (n === 0) return { ok: true, bytes: counted.bytes(), mode };
    if (!counted.add(chunk.subarray(0, n))) return { ok: false, missing: false, reason: counted.tooLarge(), mode };
  }
}

/** What readOpen found: a stream (FIFO, device) is left to the caller, who may read it or refuse it. */
const STREAM = Symbol('stream');

/** The file open as `fd`, a regular one read synchronously up to the cap of its kind. */
function readOpen(fd: number, kind: InputKind): FileRead | typeof STREAM {
  const info = fstatSync(fd);
  const mode = info.mode & 0o777;
  if (info.isDirectory()) return { ok: false, missing: false, reason: 'is a directory, not a file', mode };
  if (info.isFIFO() || info.isCharacterDevice() || info.isBlockDevice()) return STREAM;
  if (!info.isFile()) return { ok: false, missing: false, reason: 'is not a regular file', mode };
  if (info.size > INPUT_LIMITS[kind].bytes) return { ok: false, missing: false, reason: tooLarge(kind, info.size), mode };
  if (info.size === 0) return readRest(fd, kind, mode);
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
}

/**
 * One regular file of certs/ with its mode; never throws for the usual file-system problems. Anything
 * else (a FIFO, a device, a socket) is refused without waiting for it: opened with O_NONBLOCK, so a
 * FIFO planted in certs/ cannot stall a scan.
 */
export function readFile(path: string, kind: InputKind = 'file'): FileRead {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const read = readOpen(fd, kind);
    return read === STREAM ? { ok: false, missing: false, reason: 'is not a regular file' } : read;
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

/** A stream (stdin, a FIFO, a device) read as it comes, up to the cap of its kind. */
async function readStream(chunks: AsyncIterable<Buffer>, kind: InputKind, what: string): Promise<Uint8Array> {
  const counted = new Counted(kind);
  for await (const chunk of chunks) {
    if (!counted.add(chunk)) throw inputError('INPUT_TOO_LARGE', `${what}: ${counted.tooLarge()}`);
  }
  return counted.bytes();
}

/**
 * A file the user pointed at ('-' = stdin), up to the cap of its kind; every failure is one input
 * error naming it as `what`. Opened blocking, like cat: a FIFO waits for its writer. FIFOs and
 * devices (`<(cmd)`, /dev/stdin) are read as streams on the libuv pool.
 */
export async function readUserFile(path: string, what = path, kind: InputKind = 'file'): Promise<Uint8Array> {
  if (path === '-') return readStream(stdin, kind, what === '-' ? 'stdin' : what);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const read = readOpen(fd, kind);
    if (read !== STREAM) {
      if (!read.ok) throw unreadable(what, read);
      return read.bytes;
    }
    // The stream owns the descriptor from here: it closes it once no read is pending on it.
    const stream = createReadStream('', { fd, highWaterMark: CHUNK });
    fd = undefined;
    return await readStream(stream, kind, what);
  } catch (error) {
    if (isSystemError(error)) throw unreadable(what, { ok: false, ...reasonOf(error) });
    throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** readUserFile as UTF-8 text. */
export async function readUserText(path: string, what = path, kind: InputKind = 'file'): Promise<string> {
  return Buffer.from(await readUserFile(path, what, kind)).toString('utf8');
}
