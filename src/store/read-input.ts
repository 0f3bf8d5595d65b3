import { open } from 'node:fs/promises';
import { inputError } from '../core/errors.js';

/** Far above any certificate bundle; stops a 100 MB file from being read into memory by mistake. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/** Reads a file ('-' = stdin) the user pointed at, with one-line errors naming it. */
export async function readInput(path: string): Promise<Uint8Array> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_INPUT_BYTES) throw inputError('INPUT_TOO_LARGE', `stdin: larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB, not a certificate file`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
  let handle;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (info.isDirectory()) throw inputError('INPUT_IS_DIRECTORY', `${path}: is a directory, not a file`);
    if (info.size > MAX_INPUT_BYTES) throw inputError('INPUT_TOO_LARGE', `${path}: ${Math.round(info.size / 1024 / 1024)} MiB is too large for a certificate file (limit ${MAX_INPUT_BYTES / 1024 / 1024} MiB)`);
    return await handle.readFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw inputError('INPUT_MISSING', `${path}: no such file`);
    if (code === 'EACCES') throw inputError('INPUT_UNREADABLE', `${path}: permission denied`);
    if (code === 'EISDIR') throw inputError('INPUT_IS_DIRECTORY', `${path}: is a directory, not a file`);
    throw error;
  } finally {
    await handle?.close();
  }
}
