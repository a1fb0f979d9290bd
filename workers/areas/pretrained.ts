/**
 * The pretrained area: GPT-2 (or a host page's GPT-2-family sources) downloaded
 * once into this browser (workers/pretrained/store.ts says how and why there),
 * parsed as it arrives straight into the weights (workers/pretrained/loader.ts),
 * and opened from there afterwards, offline too.
 */
import { cut, excerpt, messageOf } from '../api/errors.ts';
import type { StorageInfo } from '../api/library.ts';
import type { ModelInfo } from '../api/model.ts';
import {
  DEFAULT_PRETRAINED_SOURCES,
  PRETRAINED_FILES,
  type PretrainedApi,
  type PretrainedModel,
  type PretrainedModels,
  type PretrainedProgress,
  type PretrainedSource,
} from '../api/pretrained.ts';
import { ReadCancelled } from '../api/reading.ts';
import { FETCH_TIMEOUT_MS } from '../download.ts';
import type { ModelLibrary } from '../model-library.ts';
import { freeSpace, loadPretrained, sourceBytes, spaceMessage } from '../pretrained/loader.ts';
import { type Manifest, PretrainedStore, storedBytes } from '../pretrained/store.ts';
import type { ActiveModel } from './active-model.ts';

export class PretrainedArea implements PretrainedApi {
  private sources: PretrainedSource[] = DEFAULT_PRETRAINED_SOURCES.map((source) => ({ ...source }));
  /** Aborts the open under way (cancel, or a newer open). */
  private opening = new AbortController();
  /** The open under way, settled or not: the next one waits for it to let go of the store. */
  private pending: Promise<unknown> = Promise.resolve();
  /** The source the open under way is for. */
  private openingId: string | undefined;

  constructor(
    private readonly active: ActiveModel,
    private readonly saves: ModelLibrary,
    /** The model in use as the model area describes it. */
    private readonly describe: () => ModelInfo,
    readonly store: PretrainedStore = new PretrainedStore(),
    /** How long a download waits for an answer, or for more of the file (tests shorten it). */
    private readonly fetchTimeoutMs = FETCH_TIMEOUT_MS,
  ) {}

  async list(): Promise<PretrainedModels> {
    const storage: StorageInfo = { available: true };
    let manifests: Manifest[] = [];
    try {
      manifests = await this.store.manifests();
    } catch (error) {
      storage.available = false;
      storage.problem = `This browser does not let the page store data here (${messageOf(error)}): a pretrained model is downloaded again each time.`;
    }
    try {
      const { usage, quota } = await this.store.estimate();
      if (usage !== undefined) storage.usage = usage;
      if (quota !== undefined) storage.quota = quota;
      storage.persisted = await navigator.storage.persisted();
    } catch {
      // The browser does not say: no figures.
    }
    const free = await freeSpace(this.store);
    const models = this.sources.map((source): PretrainedModel => {
      const found = manifests.find((manifest) => manifest.id === source.id);
      const manifest = found?.baseUrl === source.baseUrl ? found : undefined;
      const stored = storedBytes(manifest);
      const complete = manifest !== undefined && PRETRAINED_FILES.every((file) => manifest.files[file]?.complete);
      const model: PretrainedModel = {
        ...source,
        bytes: sourceBytes(source, manifest),
        state: complete ? 'stored' : stored > 0 ? 'partial' : 'none',
        storedBytes: stored,
      };
      const needed = complete ? 0 : model.bytes - stored;
      if (free !== undefined && needed > free) model.spaceProblem = spaceMessage(source.name, needed, free);
      return model;
    });
    return { models, storage };
  }

  async setSources(sources: PretrainedSource[]): Promise<void> {
    const ids = new Set<string>();
    for (const source of sources) {
      const { id, name, baseUrl, bytes, parameters } = source ?? {};
      const which = `pretrained source ${excerpt(id)}`;
      if (typeof id !== 'string' || !id || ids.has(id)) throw new Error(`${which}: each source needs an id of its own`);
      if (typeof name !== 'string' || !name.trim()) throw new Error(`${which}: name must be a text`);
      if (typeof baseUrl !== 'string' || !baseUrl.endsWith('/')) throw new Error(`${which}: baseUrl must end with "/"`);
      if (!Number.isFinite(bytes) || bytes < 0 || !Number.isFinite(parameters) || parameters < 0) {
        throw new Error(`${which}: bytes and parameters must be numbers ≥ 0`);
      }
      ids.add(id);
    }
    this.sources = sources.map((source) => ({ ...source }));
  }

  async open(id: string, onProgress?: (progress: PretrainedProgress) => unknown): Promise<ModelInfo> {
    const source = this.source(id);
    if (this.active.model.pretrained === id) return this.describe();
    this.opening.abort(); // one open at a time: a new one stops the last
    const opening = (this.opening = new AbortController());
    this.openingId = id;
    const before = this.pending;
    const work = before
      .catch(() => {})
      .then(() => {
        if (opening.signal.aborted) throw new ReadCancelled();
        return this.locked(source, opening.signal, () =>
          loadPretrained(source, { store: this.store, signal: opening.signal, timeoutMs: this.fetchTimeoutMs, onProgress }),
        );
      });
    this.pending = work;
    let loaded;
    try {
      loaded = await work;
    } catch (error) {
      if (error instanceof ReadCancelled) throw error;
      throw new Error(`${source.name} could not be opened: ${messageOf(error)}`, { cause: error });
    }
    if (opening.signal.aborted) throw new ReadCancelled();
    this.use(source, loaded);
    await this.saves.usePretrained(id);
    return this.describe();
  }

  /**
   * Reopens `id` on start (the model in use when the page was last here), from
   * this browser only: no download.
   */
  async reopen(id: string): Promise<void> {
    const source = this.source(id);
    const opening = (this.opening = new AbortController());
    const loaded = await this.locked(source, opening.signal, () =>
      loadPretrained(source, { store: this.store, signal: opening.signal, timeoutMs: this.fetchTimeoutMs, keptOnly: true }),
    );
    this.use(source, loaded);
  }

  async cancel(): Promise<void> {
    this.opening.abort();
  }

  async delete(id: string): Promise<void> {
    if (this.openingId === id) {
      // Its open stops first, so nothing is written after the delete.
      this.opening.abort();
      await this.pending.catch(() => {});
    }
    await this.store.delete(id);
  }

  /**
   * `work` while holding this model's Web Lock: two playgrounds or tabs opening
   * the same model take turns, so the second finds it kept instead of writing the
   * same chunks at once. Cancelling while waiting for the lock is a ReadCancelled.
   */
  private async locked<T>(source: PretrainedSource, signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (typeof navigator.locks?.request !== 'function') return work();
    try {
      return await navigator.locks.request(`${this.store.dbName}/${source.id}`, { signal }, work);
    } catch (error) {
      if (signal.aborted) throw new ReadCancelled();
      throw error;
    }
  }

  private source(id: string): PretrainedSource {
    const source = this.sources.find((candidate) => candidate.id === id);
    if (!source) {
      const known = this.sources.map((candidate) => candidate.id).join(', ');
      throw new Error(`There is no pretrained model "${cut(String(id))}" here${known ? ` (there are: ${known})` : ''}.`);
    }
    return source;
  }

  private use(source: PretrainedSource, loaded: Awaited<ReturnType<typeof loadPretrained>>): void {
    const { seed } = this.active.model;
    this.active.replace({
      ...loaded,
      name: source.name,
      seed,
      checkpoint: `${source.baseUrl}model.safetensors`,
      pretrained: source.id,
    });
  }
}
