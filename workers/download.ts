/**
 * Reading files for the worker (the default model, imports, corpora from a file
 * or a URL), with progress, a size limit, cancelling, timeouts and plain-words
 * errors.
 */
import { statusOf } from './api/errors.ts';
import { megabytes, overLimit, ReadCancelled, type ReadProgress } from './api/reading.ts';

/** A download gives up when its server sends no answer, or nothing more of the file, for this long. */
export const FETCH_TIMEOUT_MS = 30_000;

/** Progress goes to the page at most this often (and once at the end): each report crosses to the page. */
const PROGRESS_INTERVAL_MS = 100;

export interface ReadOptions {
  /** A file bigger than this is refused: before reading when its size is known, else as soon as reading passes it. */
  maxBytes?: number;
  /** Cancels the read: it rejects with ReadCancelled. */
  signal?: AbortSignal;
  onProgress?: (progress: ReadProgress) => unknown;
}

export interface DownloadOptions extends ReadOptions {
  /** How long to wait for the server's answer, and then for each next part of the file (default FETCH_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface Downloaded {
  bytes: Uint8Array;
  /** The file's name as the server gives it (Content-Disposition), else the last part of the address it came from. */
  name: string;
  /** The Content-Type, '' when none. */
  type: string;
}

/** A server's answer that is not a success (404, 500, …); the message says which. */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  readonly status: number;

  constructor(url: string, response: Response) {
    super(`${url} answered ${statusOf(response)}`);
    this.status = response.status;
  }
}

/** The file at `url`. Rejects with a message that names the address and what went wrong. */
export async function download(url: string, options: DownloadOptions = {}): Promise<Downloaded> {
  const { timeoutMs = FETCH_TIMEOUT_MS, signal } = options;
  const connection = new AbortController();
  try {
    const response = await answerOf(url, { signal: connection.signal }, timeoutMs, signal);
    const name = nameOf(response, url);
    if (!response.body) return { bytes: new Uint8Array(0), name, type: '' };
    const stalled = (loaded: number) =>
      new Error(
        `${url} stopped sending after ${megabytes(loaded)}: nothing more came for ${duration(timeoutMs)}. Try again later.`,
      );
    const { body } = response;
    const bytes = await readStream(() => body, name, declaredLength(response), { ...options, stallMs: timeoutMs, stalled });
    return { bytes, name, type: response.headers.get('content-type') ?? '' };
  } finally {
    // Closes the connection when reading stopped early (too big, timed out, cancelled); a no-op after a full read.
    connection.abort();
  }
}

/** A download opened for reading part by part (openDownload). */
export interface OpenedDownload {
  /** 200: the whole file; 206: the part from `from` on, as asked. */
  status: number;
  /** The file offset the body starts at (0 unless the server sent a part). */
  from: number;
  /** The whole file's size, when the server says (Content-Length, or the total of Content-Range). */
  size?: number;
  /** The server's ETag for the file, when it gives one: a resumed download checks the file is the same. */
  etag?: string;
  /** The Content-Type, '' when none. */
  type: string;
  /** The next part of the body; undefined at its end. Rejects when nothing comes for the timeout, or when cancelled. */
  read(): Promise<Uint8Array | undefined>;
  /** Stops reading and closes the connection (also after the end: a no-op then). */
  close(): void;
}

/**
 * The file at `url`, opened to be read part by part with download()'s timeouts:
 * for a file too big to hold whole (pretrained weights, written away as they
 * come). With `from` > 0 it asks for the rest of the file from there (an HTTP
 * Range request); a server that cannot answers 200 with the whole file, which
 * `status` and `from` then say. Rejects with download()'s messages.
 */
export async function openDownload(
  url: string,
  options: { from?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<OpenedDownload> {
  const { from = 0, timeoutMs = FETCH_TIMEOUT_MS, signal } = options;
  const connection = new AbortController();
  const close = () => connection.abort();
  try {
    const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-` } : {};
    // no-store: the browser's HTTP cache would keep a second copy of a file that is kept anyway.
    const response = await answerOf(url, { signal: connection.signal, headers, cache: 'no-store' }, timeoutMs, signal);
    const range = response.status === 206 ? /^bytes (\d+)-\d+\/(\d+)$/.exec(response.headers.get('content-range') ?? '') : null;
    if (response.status === 206 && !range) {
      // A part it does not say the place of (Content-Range not readable from another site): ask for the whole file.
      close();
      return await openDownload(url, { timeoutMs, ...(signal ? { signal } : {}) });
    }
    const start = range ? Number(range[1]) : 0;
    const size = range ? Number(range[2]) : declaredLength(response);
    const reader = response.body?.getReader();
    let loaded = 0;
    const stalled = () =>
      new Error(
        `${url} stopped sending after ${megabytes(start + loaded)}: nothing more came for ${duration(timeoutMs)}. Try again later.`,
      );
    const opened: OpenedDownload = {
      status: range ? 206 : 200,
      from: start,
      type: response.headers.get('content-type') ?? '',
      async read() {
        if (!reader) return undefined;
        try {
          const { done, value } = await within(reader.read(), timeoutMs, stalled, signal);
          if (done) return undefined;
          loaded += value.length;
          return value;
        } catch (error) {
          reader.cancel().catch(() => {});
          close();
          throw error;
        }
      },
      close,
    };
    if (size !== undefined) opened.size = size;
    const etag = response.headers.get('etag');
    if (etag) opened.etag = etag;
    return opened;
  } catch (error) {
    close();
    throw error;
  }
}

/** The server's answer for `url`, when it is a success; rejects with what went wrong, in words for the user. */
async function answerOf(url: string, init: RequestInit, timeoutMs: number, signal?: AbortSignal): Promise<Response> {
  const answer = fetch(url, init).catch(() => {
    throw new Error(
      `${url} could not be reached: check the address and the network (the site must also allow other pages to read it)`,
    );
  });
  const noAnswer = () => new Error(`No answer from ${url} after ${duration(timeoutMs)}. Check the address, or try again later.`);
  const response = await within(answer, timeoutMs, noAnswer, signal);
  if (!response.ok) throw new HttpStatusError(url, response);
  return response;
}

/** A File's (or Blob's) bytes, read in the worker: its size is checked before anything is read. */
export function readFile(file: Blob, name: string, options: ReadOptions = {}): Promise<Uint8Array> {
  return readStream(() => file.stream(), name, file.size, options);
}

/** The last part of a URL's path, for messages. */
export function fileName(url: string): string {
  const path = new URL(url, 'file:///').pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
}

interface StreamOptions extends ReadOptions {
  /** Gives up when no part of the file came for this long, with the error `stalled` makes. */
  stallMs?: number;
  stalled?: (loaded: number) => Error;
}

/** Reads a whole stream of `total` bytes (undefined: unknown), reporting progress; opens it only if the size fits. */
async function readStream(
  open: () => ReadableStream<Uint8Array>,
  name: string,
  total: number | undefined,
  { maxBytes = Infinity, signal, onProgress, stallMs = Infinity, stalled }: StreamOptions,
): Promise<Uint8Array> {
  if (total !== undefined && total > maxBytes) throw new Error(overLimit(name, total, maxBytes));
  const reader = open().getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let reportedAt = -Infinity;
  const report = (force: boolean) => {
    if (!onProgress || (!force && performance.now() - reportedAt < PROGRESS_INTERVAL_MS)) return;
    reportedAt = performance.now();
    // A compressed download's Content-Length counts what crossed the network: past it, the size is unknown.
    void Promise.resolve(onProgress(total !== undefined && loaded <= total ? { loaded, total } : { loaded })).catch(() => {});
  };
  try {
    report(true);
    for (;;) {
      const { done, value } = await within(reader.read(), stallMs, () => stalled!(loaded), signal);
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      // The real size is only known when the server said it; reading stops here either way.
      if (loaded > maxBytes)
        throw new Error(overLimit(name, total !== undefined && total > loaded ? total : undefined, maxBytes));
      report(false);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  }
  report(true);
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** `work`, unless `ms` pass first (rejects with `late()`) or `signal` cancels it (rejects with ReadCancelled). */
function within<T>(work: Promise<T>, ms: number, late: () => Error, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(new ReadCancelled());
    const cancel = () => settle(() => reject(new ReadCancelled()));
    const timer = Number.isFinite(ms) ? setTimeout(() => settle(() => reject(late())), ms) : undefined;
    const settle = (how: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      how();
    };
    signal?.addEventListener('abort', cancel, { once: true });
    work.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

/** "30 s", "0.2 s". */
const duration = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/** Content-Length, when the server gave one that counts the file's own bytes (not a compressed form of them). */
function declaredLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  const length = response.headers.get('content-length');
  if (length === null || (encoding && encoding !== 'identity')) return undefined;
  const bytes = Number(length);
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : undefined;
}

/**
 * The name a server gives its file (Content-Disposition), else the last part of
 * the address it finally came from: after a redirect, that is the file's, not
 * the one asked for (an address like …/download/30 names no file).
 */
function nameOf(response: Response, url: string): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (encoded) {
    try {
      return decodeURIComponent(encoded.trim());
    } catch {
      // Not valid percent-encoding: the plain filename, or the address, names it.
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/i.exec(disposition);
  const named = (plain?.[1] ?? plain?.[2])?.trim();
  return named || fileName(response.url || url);
}
