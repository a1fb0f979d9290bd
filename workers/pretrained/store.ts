/**
 * Pretrained models' files kept in this browser: IndexedDB, in chunks.
 *
 * Why IndexedDB in chunks and not the Cache API: a download of 550 MB must
 * survive a closed tab or a dropped connection and go on from where it stopped.
 * Chunks written one transaction at a time are exactly what has arrived, so a
 * resumed download asks the server (HTTP Range) for the rest from the last
 * whole chunk; a Cache API entry is one whole Response, written only once its
 * body has arrived in full. Reading back, one chunk at a time goes straight
 * into the weights, never a second copy of the file; and a full disk fails the
 * one transaction that did not fit (QuotaExceededError), so the download stops
 * there with a clear message and what it stored is removed.
 *
 * One database for every playground of the origin (the files are the same for
 * all), with two object stores:
 *
 *   manifests  [id] → Manifest: where the files come from and how much of each is kept
 *   chunks     [id, file, index] → Uint8Array of up to chunkBytes bytes
 *
 * A chunk and the manifest that counts it are written in one transaction, so
 * the manifest never counts a chunk that is not there.
 */
import type { PretrainedFile } from '../api/pretrained.ts';

export const PRETRAINED_DB_NAME = 'llm-playground-pretrained';

/**
 * Bytes per stored chunk: what a download holds before writing it away, what
 * is read back at a time, and what an interrupted download loses at most.
 * 8 MB: GPT-2 small's weights are 63 chunks, one transaction each.
 */
export const CHUNK_BYTES = 8 * 2 ** 20;

const MANIFESTS = 'manifests';
const CHUNKS = 'chunks';

/** One of a model's four files as kept here. */
export interface StoredFile {
  /** The whole file's size, when the server said it. */
  size?: number;
  /** The server's ETag, when it gave one: a resume checks the file did not change. */
  etag?: string;
  /** Bytes kept: `chunks` chunks, all of chunkBytes but the last of a complete file. */
  stored: number;
  chunks: number;
  complete: boolean;
}

export interface Manifest {
  id: string;
  /** Where the files came from: files from another address are not these. */
  baseUrl: string;
  files: Partial<Record<PretrainedFile, StoredFile>>;
  updated: number;
}

export const emptyFile = (): StoredFile => ({ stored: 0, chunks: 0, complete: false });

/** Bytes of `manifest`'s files kept here. */
export const storedBytes = (manifest: Manifest | undefined): number =>
  Object.values(manifest?.files ?? {}).reduce((sum, file) => sum + file.stored, 0);

const request = <T>(req: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

const done = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
  });

/** Every chunk key of model `id` (and of one of its files). */
const chunkRange = (id: string, file?: PretrainedFile): IDBKeyRange =>
  file === undefined ? IDBKeyRange.bound([id], [id, []]) : IDBKeyRange.bound([id, file], [id, file, []]);

export class PretrainedStore {
  readonly dbName: string;
  readonly chunkBytes: number;
  /** The browser's figures for this site's storage (navigator.storage.estimate; tests give their own). */
  readonly estimate: () => Promise<StorageEstimate>;
  private database: Promise<IDBDatabase> | undefined;

  constructor(options: { dbName?: string; chunkBytes?: number; estimate?: () => Promise<StorageEstimate> } = {}) {
    this.dbName = options.dbName ?? PRETRAINED_DB_NAME;
    this.chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    this.estimate = options.estimate ?? (() => navigator.storage.estimate());
  }

  async manifest(id: string): Promise<Manifest | undefined> {
    const db = await this.open();
    return request<Manifest | undefined>(db.transaction(MANIFESTS).objectStore(MANIFESTS).get(id));
  }

  async manifests(): Promise<Manifest[]> {
    const db = await this.open();
    return request<Manifest[]>(db.transaction(MANIFESTS).objectStore(MANIFESTS).getAll());
  }

  /** Writes `manifest` with `file` starting again as `record`: the file's chunks go. */
  async restartFile(manifest: Manifest, file: PretrainedFile, record: StoredFile): Promise<void> {
    manifest.files[file] = record;
    manifest.updated = Date.now();
    const db = await this.open();
    const tx = db.transaction([MANIFESTS, CHUNKS], 'readwrite');
    tx.objectStore(CHUNKS).delete(chunkRange(manifest.id, file));
    tx.objectStore(MANIFESTS).put(manifest);
    await done(tx);
  }

  /**
   * Appends a chunk to `file` and counts it in the manifest, in one transaction.
   * Rejects with the browser's QuotaExceededError when storage is full; the
   * manifest object is only changed once the chunk is written.
   */
  async appendChunk(manifest: Manifest, file: PretrainedFile, bytes: Uint8Array, complete: boolean): Promise<void> {
    const previous = manifest.files[file] ?? emptyFile();
    const record: StoredFile = { ...previous, stored: previous.stored + bytes.length, chunks: previous.chunks + 1, complete };
    const next: Manifest = { ...manifest, files: { ...manifest.files, [file]: record }, updated: Date.now() };
    const db = await this.open();
    const tx = db.transaction([MANIFESTS, CHUNKS], 'readwrite');
    tx.objectStore(CHUNKS).put(bytes, [manifest.id, file, previous.chunks]);
    tx.objectStore(MANIFESTS).put(next);
    await done(tx);
    manifest.files = next.files;
    manifest.updated = next.updated;
  }

  /** Chunk `index` of `file`; rejects when it is not there (storage cleared under us). */
  async readChunk(id: string, file: PretrainedFile, index: number): Promise<Uint8Array> {
    const db = await this.open();
    const chunk = await request<unknown>(db.transaction(CHUNKS).objectStore(CHUNKS).get([id, file, index]));
    if (!(chunk instanceof Uint8Array)) throw new Error(`part ${index + 1} of ${file} is missing from this browser's storage`);
    return chunk;
  }

  /** Removes everything kept of `id`. */
  async delete(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction([MANIFESTS, CHUNKS], 'readwrite');
    tx.objectStore(CHUNKS).delete(chunkRange(id));
    tx.objectStore(MANIFESTS).delete(id);
    await done(tx);
  }

  private open(): Promise<IDBDatabase> {
    this.database ??= new Promise<IDBDatabase>((resolve, reject) => {
      const opening = indexedDB.open(this.dbName, 1);
      opening.onupgradeneeded = () => {
        opening.result.createObjectStore(MANIFESTS, { keyPath: 'id' });
        opening.result.createObjectStore(CHUNKS);
      };
      opening.onsuccess = () => {
        const db = opening.result;
        // Another connection wants to delete or upgrade the database: let it.
        db.onversionchange = () => {
          db.close();
          this.database = undefined;
        };
        db.onclose = () => (this.database = undefined);
        resolve(db);
      };
      opening.onerror = () => {
        this.database = undefined;
        reject(opening.error ?? new Error('IndexedDB could not be opened'));
      };
    });
    return this.database;
  }
}
