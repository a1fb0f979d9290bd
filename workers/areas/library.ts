/** The library area: the models saved in this browser, opened, renamed, exported and imported. */
import { cut, messageOf } from '../api/errors.ts';
import type { CheckpointSummary, ImportSource, LibraryApi, SavedModels } from '../api/library.ts';
import type { ModelInfo } from '../api/model.ts';
import { MAX_IMPORT_BYTES, megabytes, ReadCancelled, type ReadProgress } from '../api/reading.ts';
import { download, FETCH_TIMEOUT_MS, readFile } from '../download.ts';
import { type Checkpoint, importCheckpoint, writeCheckpoint } from '../engine/checkpoint.ts';
import { type ModelLibrary, type ModelToSave, savedWeights } from '../model-library.ts';
import type { CheckpointRecord } from '../store/records.ts';
import type { ActiveModel, LoadedModel } from './active-model.ts';
import type { TrainingArea } from './training.ts';
import { type TransferFunction, transferFresh } from './transfer.ts';

export class LibraryArea implements LibraryApi {
  /** Aborts the import under way (cancelImport, or a newer import). */
  private importing = new AbortController();
  /** Reopens a pretrained model from this browser (the pretrained area's reopen); set by the engine. */
  reopenPretrained: ((id: string) => Promise<void>) | undefined;

  constructor(
    private readonly active: ActiveModel,
    private readonly saves: ModelLibrary,
    private readonly training: TrainingArea,
    /** The model in use as the model area describes it. */
    private readonly describe: () => ModelInfo,
    private readonly transfer: TransferFunction,
    /** How long a URL import waits for an answer, or for more of the file (tests shorten it). */
    private readonly fetchTimeoutMs = FETCH_TIMEOUT_MS,
  ) {}

  list(): Promise<SavedModels> {
    return this.saves.list();
  }

  async save(name?: string): Promise<CheckpointSummary> {
    const model = this.active.model;
    if (model.pretrained !== undefined) throw new Error(notSaved(model.name));
    const toSave = await toSaveFrom(model);
    if (name !== undefined && name.trim()) toSave.name = name.trim();
    const summary = await this.saves.save(toSave);
    model.name = summary.name;
    if (model.tuning && toSave.tuning) model.tuning.savedStep = toSave.tuning.history.length;
    return summary;
  }

  async open(id: string): Promise<ModelInfo> {
    const record = await this.saves.read(id);
    try {
      this.active.replace(await this.training.loadedFrom(record));
    } catch (error) {
      throw new Error(`The saved model ${quoted(record.name)} could not be opened: ${reasonOf(error)}.`, { cause: error });
    }
    await this.saves.opened(record);
    return this.describe();
  }

  /**
   * A save that cannot be opened (unreadable, or weights whose forward pass is
   * not finite, saved before such weights were refused) must not trap the page on
   * every start: the model stays as it is (the page then loads its starting
   * model), the notice names the save and says why, and the save stays listed
   * but no longer reopens on start.
   */
  async restoreActive(): Promise<ModelInfo | null> {
    const pretrained = await this.saves.activePretrained();
    if (pretrained !== null && this.reopenPretrained) {
      try {
        await this.reopenPretrained(pretrained);
        return this.describe();
      } catch (error) {
        await this.saves.notReopened();
        this.active.notice = `The pretrained model ${quoted(pretrained)} could not be reopened: ${reasonOf(error)}. The playground started without it.`;
        return null;
      }
    }
    let record: CheckpointRecord | null = null;
    try {
      record = await this.saves.activeRecord();
      if (!record) return null;
      this.active.replace(await this.training.loadedFrom(record));
      this.saves.reopened(record);
      return this.describe();
    } catch (error) {
      await this.saves.notReopened();
      const which = record ? `Your saved model ${quoted(record.name)}` : 'Your saved model';
      this.active.notice =
        `${which} could not be reopened: ${reasonOf(error)}. The playground started without it; ` +
        'it stays in Saved models, where you can download or delete it.';
      return null;
    }
  }

  async rename(id: string, name: string): Promise<CheckpointSummary> {
    const summary = await this.saves.rename(id, name);
    if (this.saves.active?.id === id) this.active.model.name = summary.name;
    return summary;
  }

  duplicate(id: string): Promise<CheckpointSummary> {
    return this.saves.duplicate(id);
  }

  delete(id: string): Promise<void> {
    return this.saves.delete(id);
  }

  async export(id?: string): Promise<{ fileName: string; bytes: Uint8Array }> {
    const inUse = this.active.model;
    if (id === undefined && inUse.pretrained !== undefined) {
      throw new Error(
        `${inUse.name} is not exported: its file would take another ${megabytes(inUse.params.data.byteLength)} in this tab. ` +
          `It is the model published at ${inUse.checkpoint ?? 'its source'}.`,
      );
    }
    const { name, ...weights } = id === undefined ? await this.inUse() : await this.saved(id);
    const bytes = writeCheckpoint(weights);
    return transferFresh(this.transfer, { fileName: `${safeFileName(name)}.safetensors`, bytes });
  }

  async import(source: ImportSource, onProgress?: (progress: ReadProgress) => unknown): Promise<ModelInfo> {
    this.importing.abort(); // one import at a time: a new one stops the last
    const importing = (this.importing = new AbortController());
    const reading = { maxBytes: MAX_IMPORT_BYTES, signal: importing.signal, onProgress };
    const { name, bytes } =
      source.kind === 'file'
        ? { name: source.file.name, bytes: await readFile(source.file, source.file.name, reading) }
        : await download(source.url, { ...reading, timeoutMs: this.fetchTimeoutMs });
    const imported = importCheckpoint(bytes);
    // Cancelled while the file was checked: nothing changes.
    if (importing.signal.aborted) throw new ReadCancelled();
    const { seed } = this.active.model;
    this.active.replace({ ...imported, name: name.replace(/\.safetensors$/i, ''), seed, checkpoint: name });
    try {
      await this.save();
    } catch {
      // Kept in memory; info().storageProblem says why it is not saved.
    }
    return this.describe();
  }

  async cancelImport(): Promise<void> {
    this.importing.abort();
  }

  async setAutosave(everySteps: number): Promise<void> {
    this.saves.setAutosave(everySteps);
  }

  async watch(onChange: () => void): Promise<void> {
    this.saves.watch(onChange);
  }

  async useDatabase(dbName: string): Promise<void> {
    this.saves.useDatabase(dbName);
  }

  /** The model in use with its weights on the CPU. */
  private async inUse(): Promise<Checkpoint & { name: string }> {
    const { model, params } = await this.active.use();
    return { name: model.name, config: model.config, params, tokenizer: model.tokenizer };
  }

  /** A saved model's weights, read without opening it. */
  private async saved(id: string): Promise<Checkpoint & { name: string }> {
    const record = await this.saves.read(id);
    try {
      return { name: record.name, ...savedWeights(record) };
    } catch (error) {
      throw new Error(`The saved model ${quoted(record.name)} could not be read: ${reasonOf(error)}.`, { cause: error });
    }
  }
}

/** A model as saved: with its training state when it trains here, its tuning when it is tuned here. */
async function toSaveFrom(loaded: LoadedModel): Promise<ModelToSave> {
  const { name, config, tokenizer, seed, params, checkpoint, session, tuning } = loaded;
  const model: ModelToSave = { name, config, tokenizer, seed, params: params.data, training: null, corpus: null };
  if (session) Object.assign(model, await session.saveState());
  else if (checkpoint) model.source = checkpoint;
  // The weights are copied: tuning goes on editing them in place while the save is written.
  if (tuning) Object.assign(model, { params: params.data.slice(), tuning: tuning.saveState() });
  return model;
}

/** Why a pretrained model is not saved as a model. */
const notSaved = (name: string): string =>
  `${name} is kept in this browser as the files it was downloaded as, not as a saved model: it opens again from them. ` +
  'Train a new model to save one.';

/** Why something failed, to go inside a sentence. */
const reasonOf = (error: unknown): string => messageOf(error).replace(/\.$/, '');

/** A saved model's name in a message, in quotes and cut short. */
const quoted = (name: string): string => `"${cut(name)}"`;

/** A model name as a file name: letters, digits, dashes. */
const safeFileName = (name: string): string =>
  name
    .trim()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-|-$/g, '') || 'model';
