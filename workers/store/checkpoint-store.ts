/**
 * Saved models in IndexedDB (idb-keyval over one object store, 'models'):
 *
 *   ['data', id, revision]  one whole CheckpointRecord per save, never changed after it is written
 *   'index'                 { [id]: { revision, summary } }: which revision of each model counts, and its list line
 *   'active'                the id the playground reopens on reload
 *
 * A save writes its record under a new revision first, then switches the
 * index entry to it, then deletes the revision it replaced. Each step is its
 * own transaction, so a worker killed between any two leaves the index on a
 * complete record: the old one or the new one. The index switch is one
 * read-modify-write transaction, so two tabs saving at once never drop each
 * other's entries; the later switch wins, whole.
 */
import { del, delMany, get, keys, promisifyRequest, set, update, type UseStore } from 'idb-keyval';
import { type CheckpointRecord, migrateRecord, SCHEMA_VERSION, summarize } from './records.ts';
import type { CheckpointSummary, StorageInfo } from '../api/library.ts';
import { messageOf } from '../api/errors.ts';

export const DEFAULT_DB_NAME = 'llm-playground';
const STORE_NAME = 'models';
const INDEX_KEY = 'index';
const ACTIVE_KEY = 'active';

/**
 * A revision nobody points to and this old was left by a save that never
 * finished (a tab closed mid-save). A younger one may be another tab's save
 * that has not switched the index yet, so it stays.
 */
export const ORPHAN_AGE_MS = 10 * 60 * 1000;

interface IndexEntry {
  /** `${time the save started}:${random}`. */
  revision: string;
  summary: CheckpointSummary;
}
type Index = Record<string, IndexEntry>;

const dataKey = (id: string, revision: string): IDBValidKey => ['data', id, revision];
const revisionTime = (revision: string): number => Number.parseInt(revision, 10);

/** What a caller saves: the store stamps the schema and the times. */
export type CheckpointInput = Omit<CheckpointRecord, 'schema' | 'created' | 'updated'> & { created?: number };

export interface SaveResult {
  summary: CheckpointSummary;
  /** Set when the stored copy had been saved after `baseUpdated` (by another tab): this save replaced it. */
  replaced?: { updated: number };
}

export interface CheckpointStoreOptions {
  /** One database per origin by default; tests use their own. */
  dbName?: string;
  /** Where IndexedDB comes from; tests pass one that throws as a blocked browser does. */
  indexedDB?: () => IDBFactory;
}

export type StorageProblemKind = 'quota' | 'unavailable' | 'failed';

/** Saving or reading failed; the message is for the user. */
export class StorageProblem extends Error {
  override name = 'StorageProblem';
  readonly kind: StorageProblemKind;

  constructor(kind: StorageProblemKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

const UNAVAILABLE_MESSAGE =
  'This browser does not let the page store data here (private window or blocked storage): ' +
  'models stay in memory until the tab closes.';

/** Names of the errors a browser gives when it keeps IndexedDB from a page. */
const BLOCKED_ERRORS = new Set(['SecurityError', 'InvalidStateError']);

const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;

async function estimate(): Promise<StorageEstimate | undefined> {
  try {
    return await navigator.storage?.estimate();
  } catch {
    return undefined; // the browser does not say; the page shows no figures
  }
}

/**
 * idb-keyval's createStore, but on an injected IDBFactory, and letting go of
 * the connection when another one wants to upgrade or delete the database.
 */
function openStore(dbName: string, factory: () => IDBFactory): UseStore {
  let database: Promise<IDBDatabase> | undefined;
  const open = (): Promise<IDBDatabase> => {
    database ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory().open(dbName);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE_NAME);
      promisifyRequest(request).then(resolve, reject);
    }).then(
      (db) => {
        db.onversionchange = () => {
          db.close();
          database = undefined;
        };
        db.onclose = () => (database = undefined);
        return db;
      },
      (error: unknown) => {
        database = undefined;
        if (errorName(error) === 'QuotaExceededError') throw error;
        throw new StorageProblem('unavailable', UNAVAILABLE_MESSAGE, { cause: error });
      },
    );
    return database;
  };
  return (mode, callback) => open().then((db) => callback(db.transaction(STORE_NAME, mode).objectStore(STORE_NAME)));
}

export class CheckpointStore {
  readonly dbName: string;
  private readonly store: UseStore;
  /** The last failure, shown by info() until a save works. */
  private problem: StorageProblem | undefined;

  constructor(options: CheckpointStoreOptions = {}) {
    this.dbName = options.dbName ?? DEFAULT_DB_NAME;
    this.store = openStore(this.dbName, options.indexedDB ?? (() => indexedDB));
  }

  static newId(): string {
    return crypto.randomUUID();
  }

  /** Whether saving works here, the origin's usage and quota, whether it is persisted, and the last problem. */
  async info(): Promise<StorageInfo> {
    const info: StorageInfo = { available: true };
    try {
      await get(INDEX_KEY, this.store);
    } catch (error) {
      this.problem = this.problemOf(error, 'read the saved models');
      info.available = this.problem.kind !== 'unavailable';
    }
    const figures = await estimate();
    if (figures?.usage !== undefined) info.usage = figures.usage;
    if (figures?.quota !== undefined) info.quota = figures.quota;
    try {
      info.persisted = await navigator.storage.persisted();
    } catch {
      // not said (no StorageManager here): left out
    }
    if (this.problem) info.problem = this.problem.message;
    return info;
  }

  /** The saved models, most recently updated first. Clears out revisions that failed saves left behind. */
  async list(): Promise<CheckpointSummary[]> {
    const index = await this.guard('read the saved models', () => this.readIndex());
    await this.removeOrphans();
    return Object.values(index)
      .map((entry) => entry.summary)
      .sort((a, b) => b.updated - a.updated);
  }

  /**
   * Saves a whole record under its id; the last save of an id wins.
   * `baseUpdated`: the `updated` of the copy the caller started from, to learn whether another tab saved since.
   */
  async save(record: CheckpointInput, options: { baseUpdated?: number } = {}): Promise<SaveResult> {
    try {
      const result = await this.guard(`save "${record.name}"`, () => this.write(record, options.baseUpdated));
      this.problem = undefined;
      return result;
    } catch (error) {
      if (error instanceof StorageProblem) this.problem = error;
      throw error;
    }
  }

  /** A saved model as the newest schema, with the name it has in the list; null when there is none. */
  async load(id: string): Promise<CheckpointRecord | null> {
    return this.guard('open the saved model', async () => {
      const entry = (await this.readIndex())[id];
      if (!entry) return null;
      const raw: unknown = await get(dataKey(id, entry.revision), this.store);
      if (raw === undefined) throw new Error(`the data of "${entry.summary.name}" is missing`);
      return { ...migrateRecord(raw, id), name: entry.summary.name, updated: entry.summary.updated };
    });
  }

  /** Renames in the list only (records stay as written); counts as an update, so a tab holding the old copy hears of it. */
  async rename(id: string, name: string): Promise<CheckpointSummary> {
    return this.guard(`rename "${name}"`, async () => {
      let renamed: CheckpointSummary | undefined;
      await update<Index>(
        INDEX_KEY,
        (index = {}) => {
          const entry = index[id];
          if (!entry) return index;
          renamed = { ...entry.summary, name, updated: Math.max(Date.now(), entry.summary.updated + 1) };
          return { ...index, [id]: { ...entry, summary: renamed } };
        },
        this.store,
      );
      if (!renamed) throw new Error('that saved model is gone (deleted in another tab?)');
      return renamed;
    });
  }

  /** A copy under a new id. */
  async duplicate(id: string, name?: string): Promise<CheckpointSummary> {
    const original = await this.load(id);
    if (!original)
      throw new StorageProblem('failed', 'Could not duplicate the saved model: it is gone (deleted in another tab?).');
    const { schema: _schema, created: _created, updated: _updated, ...copy } = original;
    const { summary } = await this.save({ ...copy, id: CheckpointStore.newId(), name: name ?? `${original.name} (copy)` });
    return summary;
  }

  async delete(id: string): Promise<void> {
    await this.guard('delete the saved model', async () => {
      let removed: IndexEntry | undefined;
      await update<Index>(
        INDEX_KEY,
        (index = {}) => {
          const { [id]: entry, ...rest } = index;
          removed = entry;
          return rest;
        },
        this.store,
      );
      if (removed) await del(dataKey(id, removed.revision), this.store);
    });
  }

  /** The model to reopen on reload, if it is still saved. */
  async activeId(): Promise<string | null> {
    return this.guard('read the saved models', async () => {
      const [id, index] = await Promise.all([get<string>(ACTIVE_KEY, this.store), this.readIndex()]);
      return id !== undefined && index[id] ? id : null;
    });
  }

  /** What the active key holds as it is: a saved model's id, or what else was set (a pretrained model's mark). */
  async activeMark(): Promise<string | null> {
    return this.guard('read the saved models', async () => (await get<string>(ACTIVE_KEY, this.store)) ?? null);
  }

  async setActive(id: string | null): Promise<void> {
    await this.guard('remember the model in use', () =>
      id === null ? del(ACTIVE_KEY, this.store) : set(ACTIVE_KEY, id, this.store),
    );
  }

  private async readIndex(): Promise<Index> {
    return (await get<Index>(INDEX_KEY, this.store)) ?? {};
  }

  private async write(record: CheckpointInput, baseUpdated: number | undefined): Promise<SaveResult> {
    const previous = (await this.readIndex())[record.id]?.summary;
    const now = Date.now();
    const stored: CheckpointRecord = {
      ...record,
      schema: SCHEMA_VERSION,
      created: record.created ?? previous?.created ?? now,
      // After the copy it replaces even within one millisecond, so `updated` orders a model's saves.
      updated: Math.max(now, (previous?.updated ?? 0) + 1),
    };
    const summary = summarize(stored);
    const revision = `${now}:${CheckpointStore.newId()}`;
    // 1. The whole record, in its own transaction: until step 2 nobody reads it.
    await set(dataKey(record.id, revision), stored, this.store);
    // 2. The switch.
    let replacedEntry: IndexEntry | undefined;
    await update<Index>(
      INDEX_KEY,
      (index = {}) => {
        replacedEntry = index[record.id];
        return { ...index, [record.id]: { revision, summary } };
      },
      this.store,
    );
    const result: SaveResult = { summary };
    if (replacedEntry) {
      if (baseUpdated !== undefined && replacedEntry.summary.updated > baseUpdated) {
        result.replaced = { updated: replacedEntry.summary.updated };
      }
      // 3. The replaced revision. The save has happened; a revision left here is removed as an orphan later.
      await del(dataKey(record.id, replacedEntry.revision), this.store).catch(() => undefined);
    }
    await this.removeOrphans();
    return result;
  }

  /** Deletes old revisions the index does not point to. Best effort: a failure here loses nothing. */
  private async removeOrphans(): Promise<void> {
    try {
      const index = await this.readIndex();
      const cutoff = Date.now() - ORPHAN_AGE_MS;
      const orphans = (await keys(this.store)).filter((key) => {
        if (!Array.isArray(key) || key[0] !== 'data') return false;
        const [, id, revision] = key as [string, string, string];
        return index[id]?.revision !== revision && revisionTime(revision) < cutoff;
      });
      if (orphans.length > 0) await delMany(orphans, this.store);
    } catch {
      // left for the next list or save
    }
  }

  private async guard<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.problemOf(error, action);
    }
  }

  private problemOf(error: unknown, action: string): StorageProblem {
    if (error instanceof StorageProblem) return error;
    const name = errorName(error);
    if (name === 'QuotaExceededError') {
      // No figures here: what estimate() reports as the quota is not the limit that was hit.
      return new StorageProblem(
        'quota',
        `Not enough storage space to ${action}: the browser refused to store more. Delete saved models or free disk space; training goes on in memory.`,
        { cause: error },
      );
    }
    if (name !== undefined && BLOCKED_ERRORS.has(name)) {
      return new StorageProblem('unavailable', UNAVAILABLE_MESSAGE, { cause: error });
    }
    return new StorageProblem('failed', `Could not ${action}: ${messageOf(error)}.`, { cause: error });
  }
}
