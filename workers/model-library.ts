/**
 * The worker's saved models: IndexedDB through CheckpointStore, and what the
 * model in use is saved as (its id, so the next save replaces that record).
 * When storage fails (quota, a private window) the message is kept for the
 * page and the model simply stays in memory.
 */
import { type GPTConfig, validateConfig } from './engine/config.ts';
import { createParameters, type ParameterTensors } from './engine/params.ts';
import { tokenizerFromJSON, type Tokenizer } from './engine/tokenizer.ts';
import { CheckpointStore, StorageProblem } from './store/checkpoint-store.ts';
import { SavedModelsChannel } from './store/saved-models-channel.ts';
import type { CheckpointSummary, SavedModels } from './api/library.ts';
import type { CheckpointRecord, StoredCorpus, StoredTraining, StoredTuning } from './store/records.ts';
import { excerpt, messageOf } from './api/errors.ts';

/** Training saves itself this often by default (and whenever it pauses). */
export const DEFAULT_AUTOSAVE_STEPS = 50;

/** How the store's active key marks a pretrained model (saved models' ids are UUIDs, so they never start so). */
const PRETRAINED_MARK = 'pretrained:';

/** What the model in use was last saved as. */
export interface SavedAs {
  id: string;
  name: string;
  created: number;
  updated: number;
  step: number;
}

/** A model as the service holds it, ready to be saved. */
export interface ModelToSave {
  name: string;
  config: GPTConfig;
  tokenizer: Tokenizer;
  seed: number;
  params: Float32Array;
  training: StoredTraining | null;
  corpus: StoredCorpus | null;
  source?: string;
  tuning?: StoredTuning;
}

/** A saved model's weights, shape and tokenizer, as far as reading them checks them; throws when they do not fit. */
export function savedWeights(record: CheckpointRecord): {
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer: Tokenizer;
} {
  const config = validateConfig(record.config);
  return { config, params: createParameters(config, record.params), tokenizer: tokenizerFromJSON(record.tokenizer) };
}

export class ModelLibrary {
  autosaveEvery = DEFAULT_AUTOSAVE_STEPS;
  /** The model in use as saved; null until it is. */
  active: SavedAs | null = null;
  /** Why the last save failed; cleared by the next save that works. */
  problem: string | undefined;
  private store: CheckpointStore;
  /** Tells the other engines on this database of each change here, and hears theirs. */
  private channel: SavedModelsChannel;
  private onOthersChange: () => unknown = () => {};

  constructor(store: CheckpointStore = new CheckpointStore()) {
    this.store = store;
    this.channel = new SavedModelsChannel(store.dbName);
  }

  /** Another database (tests keep theirs apart). */
  useDatabase(dbName: string): void {
    this.store = new CheckpointStore({ dbName });
    this.active = null;
    this.channel.close();
    this.channel = new SavedModelsChannel(dbName);
    this.channel.listen(this.onOthersChange);
  }

  /** `listener` runs whenever another engine on this database (another playground, another tab) changed its saved models. */
  watch(listener: () => unknown): void {
    this.onOthersChange = listener;
    this.channel.listen(listener);
  }

  setAutosave(everySteps: number): void {
    if (!Number.isInteger(everySteps) || everySteps < 0)
      throw new Error(`autosave needs a whole number of steps ≥ 0, got ${excerpt(everySteps)}`);
    this.autosaveEvery = everySteps;
  }

  /** True when training at `step` has gone autosaveEvery steps past the last save. */
  autosaveDue(step: number): boolean {
    return this.autosaveEvery > 0 && step - (this.active?.step ?? 0) >= this.autosaveEvery;
  }

  /** Saves the model in use (replacing its previous save) and makes it the one reopened on reload. */
  async save(model: ModelToSave): Promise<CheckpointSummary> {
    const previous = this.active;
    const record: Omit<CheckpointRecord, 'schema' | 'created' | 'updated'> & { created?: number } = {
      id: previous?.id ?? CheckpointStore.newId(),
      name: model.name,
      config: { ...model.config },
      tokenizer: model.tokenizer.toJSON(),
      params: model.params,
      seed: model.seed,
      training: model.training,
      corpus: model.corpus,
    };
    if (model.source !== undefined) record.source = model.source;
    if (model.tuning) record.tuning = model.tuning;
    if (previous) record.created = previous.created;
    try {
      const { summary, replaced } = await this.store.save(record, previous ? { baseUpdated: previous.updated } : {});
      await this.store.setActive(summary.id);
      this.active = {
        id: summary.id,
        name: summary.name,
        created: summary.created,
        updated: summary.updated,
        step: summary.step,
      };
      this.problem = replaced
        ? `Another tab had saved "${summary.name}" at ${new Date(replaced.updated).toLocaleTimeString()}; this save replaced it.`
        : undefined;
      this.channel.changed();
      return summary;
    } catch (error) {
      this.problem = messageOf(error);
      throw new Error(this.problem, { cause: error });
    }
  }

  async list(): Promise<SavedModels> {
    const storage = await this.store.info();
    if (this.problem && !storage.problem) storage.problem = this.problem;
    if (!storage.available) return { models: [], activeId: null, autosaveEvery: this.autosaveEvery, storage };
    // The saved model held here, not the database's: another playground on the same database holds its own.
    return { models: await this.store.list(), activeId: this.active?.id ?? null, autosaveEvery: this.autosaveEvery, storage };
  }

  /** A saved model's record; rejects when it is gone. */
  async read(id: string): Promise<CheckpointRecord> {
    const record = await this.store.load(id);
    if (!record) throw new Error('That saved model is gone (deleted in another tab?).');
    return record;
  }

  /** The saved model to reopen on start, if there is one and storage works. */
  async activeRecord(): Promise<CheckpointRecord | null> {
    try {
      const id = await this.store.activeId();
      return id ? await this.read(id) : null;
    } catch (error) {
      if (error instanceof StorageProblem) return null;
      throw error;
    }
  }

  /** A saved model is now the one in use here: the next save replaces its record, and it reopens on reload. */
  async opened(record: CheckpointRecord): Promise<void> {
    this.reopened(record);
    await this.store.setActive(record.id);
  }

  /** The saved model reopened on start is in use here (the store points at it already). */
  reopened(record: CheckpointRecord): void {
    const { id, name, created, updated } = record;
    this.active = { id, name, created, updated, step: record.training?.step ?? 0 };
  }

  async rename(id: string, name: string): Promise<CheckpointSummary> {
    const summary = await this.store.rename(id, name);
    if (this.active?.id === id) this.active = { ...this.active, name: summary.name, updated: summary.updated };
    this.channel.changed();
    return summary;
  }

  async duplicate(id: string): Promise<CheckpointSummary> {
    const copy = await this.store.duplicate(id);
    this.channel.changed();
    return copy;
  }

  async delete(id: string): Promise<void> {
    await this.store.delete(id);
    this.channel.changed();
    if (this.active?.id === id) {
      this.active = null;
      await this.store.setActive(null);
    }
  }

  /**
   * The saved model to reopen on start could not be opened: the model in use is
   * not it, and nothing reopens on start until a model is saved or opened. A
   * storage problem here changes nothing worse than it already is.
   */
  async notReopened(): Promise<void> {
    this.active = null;
    await this.store.setActive(null).catch(() => {});
  }

  /**
   * Pretrained model `id` is now the one in use here: it reopens on reload (from
   * its downloaded files; it is never saved as a model). A storage problem only
   * means it will not reopen.
   */
  async usePretrained(id: string): Promise<void> {
    this.active = null;
    await this.store.setActive(`${PRETRAINED_MARK}${id}`).catch(() => {});
  }

  /** The pretrained model to reopen on start, when it was the one in use. */
  async activePretrained(): Promise<string | null> {
    try {
      const mark = await this.store.activeMark();
      return mark?.startsWith(PRETRAINED_MARK) ? mark.slice(PRETRAINED_MARK.length) : null;
    } catch {
      return null;
    }
  }

  /** The model in use is a new one: its next save is a new record. */
  forget(): void {
    this.active = null;
  }
}
