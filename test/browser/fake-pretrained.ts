/**
 * The pretrained area at the interface boundary, in memory, for element tests:
 * what is kept of each model, and an open() the test drives step by step (it
 * sends the progress the test gives, then resolves, fails or is cancelled when
 * the test says). Records every call.
 */
import {
  DEFAULT_PRETRAINED_SOURCES,
  type GPTConfig,
  type ModelInfo,
  type PretrainedApi,
  type PretrainedModel,
  type PretrainedModels,
  type PretrainedProgress,
  type PretrainedSource,
  ReadCancelled,
  type StorageInfo,
} from '../../workers/api/index.ts';
import { countParameters } from '../../workers/engine/params.ts';

export const MB = 1024 * 1024;
export const GB = 1024 * MB;

/** GPT-2-shaped, small: what open() answers (the elements only pass it on). */
const CONFIG: GPTConfig = { vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 2, nEmbd: 16, tied: true };

export function pretrainedInfo(source: PretrainedSource): ModelInfo {
  return {
    name: source.name,
    config: CONFIG,
    tokenizer: 'bpe',
    parameters: countParameters(CONFIG),
    vocabulary: [],
    seed: 1,
    weights: 'trained',
    step: 0,
    pretrained: source.id,
  };
}

/** An open() under way: the test sends progress and ends it. */
interface Pending {
  id: string;
  onProgress: ((progress: PretrainedProgress) => unknown) | undefined;
  resolve: (info: ModelInfo) => void;
  reject: (error: Error) => void;
}

export class FakePretrained {
  readonly calls: { method: keyof PretrainedApi; args: unknown[] }[] = [];
  sources: PretrainedSource[] = DEFAULT_PRETRAINED_SOURCES.map((source) => ({ ...source }));
  kept = new Map<string, { state: 'partial' | 'stored'; storedBytes: number }>();
  spaceProblems = new Map<string, string>();
  storage: StorageInfo = { available: true, usage: 300 * MB, quota: 2 * GB, persisted: false };
  /** Set: list() rejects with it. */
  listFailure = '';
  pending: Pending | null = null;
  /** Bytes the open under way has reported: a cancel keeps them as a partial download. */
  private reported = 0;

  called(method: keyof PretrainedApi): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  entry(id: string): PretrainedModel {
    const source = this.sources.find((entry) => entry.id === id)!;
    const kept = this.kept.get(id);
    const model: PretrainedModel = { ...source, state: kept?.state ?? 'none', storedBytes: kept?.storedBytes ?? 0 };
    const problem = this.spaceProblems.get(id);
    if (problem) model.spaceProblem = problem;
    return model;
  }

  /** Sends a progress report to the open under way. */
  progress(progress: Partial<PretrainedProgress> & Pick<PretrainedProgress, 'loaded' | 'total'>): void {
    this.reported = progress.loaded;
    this.pending!.onProgress?.({ phase: 'download', file: 'model.safetensors', resumedFrom: 0, ...progress });
  }

  /** Ends the open under way: the model is kept and in use. */
  finish(): void {
    const { id, resolve } = this.pending!;
    this.pending = null;
    const source = this.sources.find((entry) => entry.id === id)!;
    this.kept.set(id, { state: 'stored', storedBytes: source.bytes });
    resolve(pretrainedInfo(source));
  }

  /** Fails the open under way with the worker's words; `partial` bytes stay kept. */
  fail(message: string, partial = 0): void {
    const { id, reject } = this.pending!;
    this.pending = null;
    if (partial) this.kept.set(id, { state: 'partial', storedBytes: partial });
    reject(new Error(message));
  }

  readonly pretrained: PretrainedApi = {
    list: async (): Promise<PretrainedModels> => {
      this.calls.push({ method: 'list', args: [] });
      if (this.listFailure) throw new Error(this.listFailure);
      return structuredClone({ models: this.sources.map((source) => this.entry(source.id)), storage: this.storage });
    },
    setSources: async (sources) => {
      this.calls.push({ method: 'setSources', args: [sources] });
      this.sources = structuredClone(sources);
    },
    open: (id, onProgress) => {
      this.calls.push({ method: 'open', args: [id] });
      this.reported = 0;
      return new Promise<ModelInfo>((resolve, reject) => (this.pending = { id, onProgress, resolve, reject }));
    },
    cancel: async () => {
      this.calls.push({ method: 'cancel', args: [] });
      const pending = this.pending;
      if (!pending) return;
      this.pending = null;
      if (this.reported) this.kept.set(pending.id, { state: 'partial', storedBytes: this.reported });
      pending.reject(new ReadCancelled());
    },
    delete: async (id) => {
      this.calls.push({ method: 'delete', args: [id] });
      this.kept.delete(id);
    },
  };
}
