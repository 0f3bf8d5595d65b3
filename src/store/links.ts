import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { failure, type PkiError } from '../core/errors.js';

/*
 * Planted links. pkictl makes certs/ of regular files and real directories, plus the links of a pair
 * slot (pair-slot.ts), each pointing exactly into the slot's own current/. Any other link there (a
 * tenant directory, client.key, ca.key or crl.pem pointing elsewhere) would make a write land, or a
 * report read, somewhere pkictl does not own: writers refuse it and scans report it, with one wording
 * (foreignLinkProblem), and nothing follows it. Synchronous lstat/readlink, like inspectSlot: a dry run
 * asks about 10,000 slots.
 */

/** A link in certs/ that pkictl did not make. */
export interface ForeignLink {
  /** The link itself (absolute). */
  path: string;
  /** What the link holds (readlink). */
  target: string;
}

/** lstat that finds nothing where a path, or one of its parents, is missing or is a file. */
export function lstatQuiet(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** `path` when it is a symbolic link; undefined when it is anything else or absent. */
export function linkAt(path: string): ForeignLink | undefined {
  return lstatQuiet(path)?.isSymbolicLink() ? { path, target: readlinkSync(path) } : undefined;
}

/** The one wording, without the path (audit prints the path in its own column). */
export function foreignLinkProblem(link: ForeignLink): string {
  return `is a link to ${link.target}, where pkictl does not write: replace the link with a copy of what it points to, or remove it, then run again`;
}

/** "<path> is a link to …": what a refusing writer and list print. */
export function foreignLinkMessage(link: ForeignLink, display: (path: string) => string): string {
  return `${display(link.path)} ${foreignLinkProblem(link)}`;
}

export function foreignLinkError(link: ForeignLink, display: (path: string) => string): PkiError {
  return failure('FOREIGN_LINK', foreignLinkMessage(link, display));
}
