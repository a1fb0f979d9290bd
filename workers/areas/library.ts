/** The library area: the models saved in this browser, opened, renamed, exported and imported. */
import { messageOf } from '../api/errors.ts';
import type { CheckpointSummary, ImportSource, LibraryApi, SavedModels } from '../api/library.ts';
import type { ModelInfo } from '../api/model.ts';
import { download, fileName } from '../download.ts';
import { importCheckpoint, MAX_IMPORT_BYTES, writeCheckpoint } from '../engine/checkpoint.ts';
import type { ModelLibrary, ModelToSave } from '../model-library.ts';
import type { ActiveModel, LoadedModel } from './active-model.ts';
import type { TrainingArea } from './training.ts';
import { type TransferFunction, transferFresh } from './transfer.ts';

export class LibraryArea implements LibraryApi {
  constructor(
    private readonly active: ActiveModel,
    private readonly saves: ModelLibrary,
    private readonly training: TrainingArea,
    /** The model in use as the model area describes it. */
    private readonly describe: () => ModelInfo,
    private readonly transfer: TransferFunction,
  ) {}

  list(): Promise<SavedModels> {
    return this.saves.list();
  }

  async save(name?: string): Promise<CheckpointSummary> {
    const model = this.active.model;
    const toSave = await toSaveFrom(model);
    if (name !== undefined && name.trim()) toSave.name = name.trim();
    const summary = await this.saves.save(toSave);
    model.name = summary.name;
    return summary;
  }

  async open(id: string): Promise<ModelInfo> {
    const record = await this.saves.read(id);
    this.active.replace(await this.training.loadedFrom(record));
    await this.saves.opened(record);
    return this.describe();
  }

  async restoreActive(): Promise<ModelInfo | null> {
    try {
      const record = await this.saves.activeRecord();
      if (!record) return null;
      this.active.replace(await this.training.loadedFrom(record));
      this.saves.reopened(record);
      return this.describe();
    } catch (error) {
      this.saves.forget();
      this.active.notice = `Your saved model could not be reopened (${messageOf(error)}).`;
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

  async export(): Promise<{ fileName: string; bytes: Uint8Array }> {
    const { model, params } = await this.active.use();
    const bytes = writeCheckpoint({ config: model.config, params, tokenizer: model.tokenizer });
    return transferFresh(this.transfer, { fileName: `${safeFileName(model.name)}.safetensors`, bytes });
  }

  async import(source: ImportSource): Promise<ModelInfo> {
    const name = source.kind === 'file' ? source.name : fileName(source.url);
    const bytes = source.kind === 'file' ? new Uint8Array(source.bytes) : await download(source.url, MAX_IMPORT_BYTES);
    const imported = importCheckpoint(bytes);
    const { seed } = this.active.model;
    this.active.replace({ ...imported, name: name.replace(/\.safetensors$/i, ''), seed, checkpoint: name });
    try {
      await this.save();
    } catch {
      // Kept in memory; info().storageProblem says why it is not saved.
    }
    return this.describe();
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
}

/** A model as saved: with its training state when it trains here. */
async function toSaveFrom(loaded: LoadedModel): Promise<ModelToSave> {
  const { name, config, tokenizer, seed, params, checkpoint, session } = loaded;
  const model: ModelToSave = { name, config, tokenizer, seed, params: params.data, training: null, corpus: null };
  if (session) Object.assign(model, await session.saveState());
  else if (checkpoint) model.source = checkpoint;
  return model;
}

/** A model name as a file name: letters, digits, dashes. */
const safeFileName = (name: string): string =>
  name
    .trim()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-|-$/g, '') || 'model';
