/**
 * Opening a pretrained model: its four files read from this browser when kept,
 * else downloaded (resuming a stopped download with an HTTP Range request when
 * the server can and the file is the same, restarting it cleanly otherwise),
 * kept chunk by chunk as they arrive, and parsed as they come: config.json,
 * vocab.json and merges.txt whole (each under its limit below), the weights as a
 * stream straight into the model (weights-stream.ts).
 *
 * Limits, each step's: config.json 1 MB (GPT-2's is 0.7 kB), vocab.json and
 * merges.txt 16 MB each (GPT-2's are 1.0 MB and 0.5 MB), the safetensors header
 * 100 MB (the spec's cap), the weights MAX_PRETRAINED_PARAMETERS values (the
 * 512 MB limit of imports does not apply: nothing holds the file whole).
 */
import { messageOf } from '../api/errors.ts';
import { PRETRAINED_FILES, type PretrainedFile, type PretrainedProgress, type PretrainedSource } from '../api/pretrained.ts';
import { megabytes, ReadCancelled } from '../api/reading.ts';
import { HttpStatusError, openDownload, type OpenedDownload } from '../download.ts';
import { BpeTokenizer } from '../engine/bpe.ts';
import { configFromHF, type HFConfigJSON } from '../engine/checkpoint.ts';
import type { GPTConfig } from '../engine/config.ts';
import type { ParameterTensors } from '../engine/params.ts';
import { ProgressTracker } from './progress.ts';
import { emptyFile, type Manifest, type PretrainedStore, storedBytes, type StoredFile } from './store.ts';
import { WeightsStream } from './weights-stream.ts';

const MB = 2 ** 20;
export const MAX_CONFIG_BYTES = MB;
export const MAX_VOCAB_BYTES = 16 * MB;
export const MAX_MERGES_BYTES = 16 * MB;

/**
 * A file that is wrong (missing, a web page, not of this model): trying again
 * would fetch the same, so what is kept of the model is removed.
 */
export class Refused extends Error {
  override name = 'Refused';
}

/** Storage is too small, before or during the download; what was kept of the model is removed. */
export class NoSpace extends Error {
  override name = 'NoSpace';
}

export interface LoadOptions {
  store: PretrainedStore;
  signal: AbortSignal;
  timeoutMs: number;
  onProgress?: (progress: PretrainedProgress) => unknown;
  /** Only from this browser, never the network (reopening on start): a model not kept whole is refused. */
  keptOnly?: boolean;
}

export interface Pretrained {
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer: BpeTokenizer;
}

/** Space this site may still use, when the browser says. */
export async function freeSpace(store: PretrainedStore): Promise<number | undefined> {
  try {
    const { usage, quota } = await store.estimate();
    return usage === undefined || quota === undefined ? undefined : Math.max(0, quota - usage);
  } catch {
    return undefined;
  }
}

/** 1.9 MB: one decimal, rounded down, so space left never reads as more than it is. */
const megabytesDown = (bytes: number): string => `${Math.floor((bytes / MB) * 10) / 10} MB`;

/** What the page says when `needed` more bytes will not fit in `free`. */
export const spaceMessage = (name: string, needed: number, free: number): string =>
  `${name} needs ${megabytes(needed)} more storage, but this browser lets this site store only ${megabytesDown(free)} more. ` +
  'Delete saved models, or free space on this computer, and try again.';

/** The whole size of `source` as kept or known: the server's sizes once all four are known. */
export function sourceBytes(source: PretrainedSource, manifest: Manifest | undefined): number {
  const sizes = PRETRAINED_FILES.map((file) => manifest?.files[file]?.size);
  return sizes.every((size) => size !== undefined) ? sizes.reduce((a, b) => a! + b!, 0)! : source.bytes;
}

const isQuota = (error: unknown): boolean => error instanceof DOMException && error.name === 'QuotaExceededError';

/** Opens `source`: its weights, config and tokenizer, checked. Rejects with a message for the user. */
export async function loadPretrained(source: PretrainedSource, options: LoadOptions): Promise<Pretrained> {
  const { store } = options;
  let manifest = await store.manifest(source.id);
  if (manifest && manifest.baseUrl !== source.baseUrl) {
    // Files from another address are not this model's.
    await store.delete(source.id);
    manifest = undefined;
  }
  manifest ??= { id: source.id, baseUrl: source.baseUrl, files: {}, updated: Date.now() };
  const kept = PRETRAINED_FILES.every((file) => manifest.files[file]?.complete);
  if (!kept && options.keptOnly) throw new Error(`${source.name} is no longer kept whole in this browser`);
  const loader = new Loader(source, manifest, options, kept);
  try {
    if (!kept) {
      const needed = sourceBytes(source, manifest) - storedBytes(manifest);
      const free = await freeSpace(store);
      if (free !== undefined && needed > free) throw new NoSpace(spaceMessage(source.name, needed, free));
    }
    return await loader.load();
  } catch (error) {
    if (error instanceof ReadCancelled || options.signal.aborted) throw new ReadCancelled();
    if (isQuota(error)) {
      const message =
        `This browser's storage is full: it refused to keep more of ${source.name} after ${megabytes(storedBytes(manifest))} ` +
        `of ${megabytes(loader.progress.total)}. What was kept of it is removed. Delete saved models, or free space on this computer, and try again.`;
      await store.delete(source.id).catch(() => {});
      throw new NoSpace(message, { cause: error });
    }
    if (error instanceof Refused || error instanceof NoSpace) {
      await store.delete(source.id).catch(() => {});
      throw error;
    }
    throw error;
  }
}

class Loader {
  readonly progress: ProgressTracker;

  constructor(
    private readonly source: PretrainedSource,
    private readonly manifest: Manifest,
    private readonly options: LoadOptions,
    kept: boolean,
  ) {
    this.progress = new ProgressTracker(sourceBytes(source, manifest), kept ? 0 : storedBytes(manifest), options.onProgress);
    this.progress.phase = kept ? 'open' : 'download';
    for (const file of PRETRAINED_FILES) {
      this.progress.start(file, kept ? 0 : (manifest.files[file]?.stored ?? 0), manifest.files[file]?.size);
    }
    this.progress.file = 'config.json';
  }

  async load(): Promise<Pretrained> {
    this.progress.report(true);
    const hf = this.json<HFConfigJSON>('config.json', await this.text('config.json', MAX_CONFIG_BYTES));
    try {
      configFromHF(hf, false);
    } catch (error) {
      throw new Refused(`config.json is not a GPT-2 config: ${reason(error)}.`, { cause: error });
    }
    const vocab = this.json<Record<string, number>>('vocab.json', await this.text('vocab.json', MAX_VOCAB_BYTES));
    const size = Object.keys(vocab).length;
    if (size !== hf.vocab_size) {
      throw new Refused(
        `vocab.json has ${size.toLocaleString('en-US')} tokens but config.json says vocab_size ${hf.vocab_size.toLocaleString('en-US')}: they are not the files of one model.`,
      );
    }
    const merges = await this.text('merges.txt', MAX_MERGES_BYTES);
    let tokenizer: BpeTokenizer;
    try {
      tokenizer = BpeTokenizer.fromGpt2(vocab, merges);
    } catch (error) {
      throw new Refused(`The tokenizer files do not make GPT-2's tokenizer: ${reason(error)}.`, { cause: error });
    }
    let stream: WeightsStream | undefined;
    await this.read('model.safetensors', undefined, (size) => {
      stream = new WeightsStream(size, hf);
      return (part) => stream!.push(part);
    });
    const { config, params } = checked('model.safetensors', () => stream!.finish());
    this.progress.report(true);
    return { config, params, tokenizer };
  }

  private json<T>(file: PretrainedFile, text: string): T {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Refused(`${file} is not JSON (${reason(error)}).`, { cause: error });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Refused(`${file} is not a JSON object.`);
    return value as T;
  }

  /** A small file's text, at most `limit` bytes. */
  private async text(file: PretrainedFile, limit: number): Promise<string> {
    const parts: Uint8Array[] = [];
    let length = 0;
    await this.read(file, limit, () => (part) => {
      length += part.length;
      if (length > limit)
        throw new Refused(`${file} is more than ${megabytes(limit)}, its limit: it is not ${file} of a GPT-2 model.`);
      parts.push(part);
    });
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return new TextDecoder().decode(bytes);
  }

  /**
   * Reads `file` in order into the sink `begin(size)` makes: from this browser
   * when kept whole; else what was kept, then the rest from the network, kept
   * chunk by chunk as it comes.
   */
  private async read(
    file: PretrainedFile,
    limit: number | undefined,
    begin: (size: number | undefined) => (part: Uint8Array) => void,
  ): Promise<void> {
    const { store, signal } = this.options;
    const url = `${this.source.baseUrl}${file}`;
    this.progress.file = file;
    let record: StoredFile = this.manifest.files[file] ?? emptyFile();
    if (!record.complete && record.size !== undefined && record.stored === record.size) {
      // Every byte was kept but the end was not marked (the tab closed in between): nothing to fetch.
      await store.appendChunk(this.manifest, file, new Uint8Array(0), true);
      record = this.manifest.files[file]!;
    }
    if (record.complete) {
      const sink = begin(record.size);
      for (let index = 0; index < record.chunks; index++) {
        const chunk = await store.readChunk(this.source.id, file, index);
        if (signal.aborted) throw new ReadCancelled();
        checked(file, () => sink(chunk));
        if (this.progress.phase === 'open') this.progress.add(file, chunk.length);
      }
      return;
    }
    const download = await this.connect(url, file, record);
    try {
      if (download.from === 0) {
        record = { ...emptyFile(), ...(download.size === undefined ? {} : { size: download.size }) };
        if (download.etag !== undefined) record.etag = download.etag;
        const restarted = (this.manifest.files[file]?.stored ?? 0) > 0;
        await store.restartFile(this.manifest, file, record);
        this.progress.start(file, 0, download.size);
        // What was kept of it is gone: the bar goes back at once.
        if (restarted) this.progress.report(true);
        if (limit !== undefined && download.size !== undefined && download.size > limit) {
          throw new Refused(
            `${file} is ${megabytes(download.size)}, over its ${megabytes(limit)} limit: it is not ${file} of a GPT-2 model.`,
          );
        }
        await this.checkSpace(file);
      }
      const sink = begin(record.size);
      // A resumed download: what was kept goes in first.
      for (let index = 0; index < record.chunks; index++) {
        const chunk = await store.readChunk(this.source.id, file, index);
        if (signal.aborted) throw new ReadCancelled();
        checked(file, () => sink(chunk));
      }
      await this.rest(download, file, url, sink);
    } finally {
      download.close();
    }
  }

  /** The network's part of `file`: checked, parsed and kept as it comes. */
  private async rest(
    download: OpenedDownload,
    file: PretrainedFile,
    url: string,
    sink: (part: Uint8Array) => void,
  ): Promise<void> {
    const { store } = this.options;
    const { chunkBytes } = store;
    const buffer = new Uint8Array(chunkBytes);
    let filled = 0;
    let received = download.from;
    for (let first = download.from === 0; ; first = false) {
      let part: Uint8Array | undefined;
      try {
        part = await download.read();
      } catch (error) {
        if (error instanceof ReadCancelled) {
          // Everything that came is kept, so the card's "kept" is true and a resume starts exactly there.
          if (filled > 0) await store.appendChunk(this.manifest, file, buffer.slice(0, filled), false);
          throw error;
        }
        if (/stopped sending/.test(messageOf(error))) throw error;
        throw new Error(
          `The download of ${url} broke off after ${megabytes(received)} (${reason(error)}). Open it again to resume.`,
          { cause: error },
        );
      }
      if (!part) break;
      if (first) notWebPage(file, url, download.type, part);
      checked(file, () => sink(part));
      received += part.length;
      this.progress.add(file, part.length);
      for (let at = 0; at < part.length;) {
        const take = Math.min(chunkBytes - filled, part.length - at);
        buffer.set(part.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === chunkBytes) {
          await store.appendChunk(this.manifest, file, buffer, false);
          filled = 0;
        }
      }
    }
    const size = this.manifest.files[file]?.size;
    if (size !== undefined && received > size && download.from === 0) {
      // The size was that of a compressed form (a server that compresses, and a Content-Encoding this page may not read).
      this.manifest.files[file] = { ...this.manifest.files[file]!, size: received };
    } else if (size !== undefined && received !== size) {
      throw new Error(
        `The download of ${url} ended after ${megabytes(received)} of ${megabytes(size)}. Open it again to resume.`,
      );
    }
    await store.appendChunk(this.manifest, file, buffer.slice(0, filled), true);
  }

  /**
   * The download of `file`, from where its kept part ends when the server can
   * send the rest of the same file (a 206 for that range, same size and ETag);
   * else from the start (`from` 0), and the kept part is to be dropped.
   */
  private async connect(url: string, file: PretrainedFile, record: StoredFile): Promise<OpenedDownload> {
    const { signal, timeoutMs } = this.options;
    const open = async (from: number) => {
      try {
        return await openDownload(url, { from, timeoutMs, signal });
      } catch (error) {
        if (error instanceof HttpStatusError && (error.status === 404 || error.status === 410)) {
          throw new Refused(`${file} is missing: ${error.message}. Check the model's address.`, { cause: error });
        }
        if (error instanceof HttpStatusError && error.status >= 400 && error.status < 500) {
          throw new Refused(`${file} could not be downloaded: ${error.message}.`, { cause: error });
        }
        throw error;
      }
    };
    if (record.stored === 0) return open(0);
    let download: OpenedDownload;
    try {
      download = await open(record.stored);
    } catch (error) {
      // 416: the file is now shorter than what was kept of it, so it changed.
      if (error instanceof Refused && error.cause instanceof HttpStatusError && error.cause.status === 416) return open(0);
      throw error;
    }
    const same =
      download.status === 206 &&
      download.from === record.stored &&
      download.size === record.size &&
      (record.etag === undefined || download.etag === undefined || download.etag === record.etag);
    if (same || download.from === 0) return download;
    // A part of another version of the file: start again.
    download.close();
    return open(0);
  }

  /** Once the server gave a size: refused when the rest of the model cannot fit. */
  private async checkSpace(file: PretrainedFile): Promise<void> {
    const free = await freeSpace(this.options.store);
    if (free === undefined) return;
    const needed = this.progress.total - this.progress.loaded;
    if (needed > free) throw new NoSpace(spaceMessage(this.source.name, needed, free) + ` (seen at ${file})`);
  }
}

/** A web page where a file should be: the address is wrong, or the site wants a login. */
function notWebPage(file: PretrainedFile, url: string, type: string, first: Uint8Array): void {
  const start = new TextDecoder().decode(first.subarray(0, 64)).trimStart().toLowerCase();
  if (/^text\/html/i.test(type) || start.startsWith('<!doctype html') || start.startsWith('<html')) {
    const what = file === 'model.safetensors' ? 'weights' : file.endsWith('.json') ? 'JSON' : 'a list of merges';
    throw new Refused(`${url} is a web page (HTML), not ${what}: check the model's address (some sites ask for a login first).`);
  }
}

/** Runs a step of parsing `file`; its errors are the file's fault. */
function checked<T>(file: PretrainedFile, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof Refused || error instanceof ReadCancelled) throw error;
    throw new Refused(`${file} is refused: ${reason(error).replace(/^(safetensors|checkpoint): /, '')}.`, { cause: error });
  }
}

const reason = (error: unknown): string => messageOf(error).replace(/\.$/, '');
