/**
 * Reading a file or a download in the worker, as both sides of the contract see
 * it: how far it got (for a progress bar), the size limits (the page checks
 * them too, before it reads or sends anything), and a cancelled read.
 */

/** How far a file or a download has been read. */
export interface ReadProgress {
  /** Bytes read so far. */
  loaded: number;
  /** The whole size, when it is known (a file's size, a download's Content-Length). */
  total?: number;
}

/** Models bigger than this are refused before they are read: they would not fit a tab's memory next to training. */
export const MAX_IMPORT_BYTES = 512 * 2 ** 20;

/** A corpus (a file, a download or pasted text) bigger than this takes too long to read and tokenize in a tab. */
export const MAX_CORPUS_BYTES = 20 * 2 ** 20;

const MB = 2 ** 20;

/** 20 MB, 21.3 MB: one decimal, rounded up so a size just over a limit never reads as equal to it. */
export const megabytes = (bytes: number): string => `${(Math.ceil((bytes / MB) * 10) / 10).toString()} MB`;

/**
 * Why `name` is refused: its size (when known; else only that it is bigger)
 * against `limit`, in MB, and what to do.
 */
export const overLimit = (name: string, size: number | undefined, limit: number, advice = 'Use a smaller file.'): string =>
  size === undefined
    ? `"${name}" is more than ${megabytes(limit)}, the limit. ${advice}`
    : `"${name}" is ${megabytes(size)}, over the ${megabytes(limit)} limit. ${advice}`;

/** The size of `text` in UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: one code point, four bytes.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Why pasted text is refused: its size in UTF-8 is over the corpus limit, as for a file. Null when it is not. */
export function pastedTextOverLimit(text: string, name: string): string | null {
  // Never more than 3 UTF-8 bytes per UTF-16 code unit: most texts need no count.
  if (text.length <= MAX_CORPUS_BYTES / 3) return null;
  const bytes = utf8Length(text);
  return bytes > MAX_CORPUS_BYTES ? overLimit(name, bytes, MAX_CORPUS_BYTES, 'Paste less text.') : null;
}

/** The error a read stopped by its cancel method rejects with. */
export class ReadCancelled extends Error {
  override name = 'ReadCancelled';

  constructor() {
    super('Cancelled.');
  }
}

/** True for a ReadCancelled error, also after it crossed from the worker. */
export const isReadCancelled = (error: unknown): boolean => error instanceof Error && error.name === 'ReadCancelled';
