/**
 * The typed client of the engine worker: the only thing components talk to.
 * It starts the one dedicated worker, forwards calls through Comlink, and turns a
 * worker that fails to start or crashes into rejected promises (a dead worker
 * would otherwise leave every call waiting forever).
 */
import * as Comlink from 'comlink';
import type {
  BackendChoice,
  BackendInfo,
  CorpusSource,
  CorpusSummary,
  EngineService,
  ForwardOutput,
  GenerateRequest,
  GenerateResult,
  ModelInfo,
  ModelPreset,
  NewModelRequest,
  NewModelResult,
  ParameterCounts,
  Prediction,
  PredictOptions,
  SamplingOptions,
  StreamedToken,
  Tokenization,
  TrainingOutcome,
  TrainingProgress,
  TrainingSettings,
  TrainingState,
} from '../workers/service.ts';
import type { GPTConfig } from '../workers/engine/config.ts';

export type * from '../workers/service.ts';

/**
 * The trained model the playground opens with. Bundlers see this URL and ship the
 * file with the code (the site and the library builds both copy it).
 */
export const DEFAULT_MODEL_URL = new URL('../public/default-model.safetensors?no-inline', import.meta.url).href;

export interface EngineClientOptions {
  /** Checkpoint to start from; null: random weights. Default: the shipped trained model. */
  modelUrl?: string | null;
  /** For tests; the playground always starts the engine worker. */
  worker?: Worker;
}

export class EngineClient {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<EngineService>;
  /** Rejects when the worker fails; every call races against it. */
  private readonly failure: Promise<never>;
  /** Settles once the starting model is in place; info() waits for it. */
  private readonly started: Promise<unknown>;

  constructor(options: EngineClientOptions = {}) {
    this.worker =
      options.worker ?? new Worker(new URL('../workers/engine.worker.ts', import.meta.url), { type: 'module' });
    this.remote = Comlink.wrap<EngineService>(this.worker);
    this.failure = new Promise((_, reject) => {
      this.worker.addEventListener('error', (event) => {
        event.preventDefault();
        reject(new Error(`The model's worker failed: ${event.message || 'it could not be loaded'}`));
      });
      this.worker.addEventListener('messageerror', () => {
        reject(new Error("A message from the model's worker could not be read."));
      });
    });
    // Calls nobody is waiting on must not surface as unhandled rejections.
    this.failure.catch(() => {});
    const modelUrl = options.modelUrl === undefined ? DEFAULT_MODEL_URL : options.modelUrl;
    const loading = modelUrl === null ? Promise.resolve() : this.remote.loadCheckpoint(modelUrl);
    this.started = Promise.race([loading, this.failure]);
    this.started.catch(() => {});
  }

  info(): Promise<ModelInfo> {
    return this.call((remote) => remote.info());
  }

  tokenize(text: string): Promise<Tokenization> {
    return this.call((remote) => remote.tokenize(text));
  }

  predict(text: string, options: PredictOptions): Promise<Prediction> {
    return this.call((remote) => remote.predict(text, options));
  }

  forward(input: string | readonly number[], options: { capture?: boolean } = {}): Promise<ForwardOutput> {
    return this.call((remote) => remote.forward(input, options));
  }

  step(text: string, sampling: SamplingOptions, seed: number): Promise<StreamedToken> {
    return this.call((remote) => remote.step(text, sampling, seed));
  }

  /** Streams tokens to onToken as they are drawn; a newer generate cancels this one. */
  generate(prompt: string, request: GenerateRequest, onToken: (token: StreamedToken) => void): Promise<GenerateResult> {
    const callback = Comlink.proxy(onToken);
    return this.call((remote) => remote.generate(prompt, request, callback));
  }

  cancel(): Promise<void> {
    return this.call((remote) => remote.cancel());
  }

  countParameters(config: GPTConfig): Promise<ParameterCounts> {
    return this.call((remote) => remote.countParameters(config));
  }

  modelPresets(): Promise<ModelPreset[]> {
    return this.call((remote) => remote.modelPresets());
  }

  trainingDefaults(): Promise<TrainingSettings & { sampleInterval: number }> {
    return this.call((remote) => remote.trainingDefaults());
  }

  /** Reads and checks a corpus in the worker: its size, vocabulary and split, or an Error saying what is wrong. */
  describeCorpus(source: CorpusSource): Promise<CorpusSummary> {
    const corpus = ownCopy(source);
    return this.call((remote) => remote.describeCorpus(transferring(corpus, corpus)));
  }

  /** Replaces the model with a fresh one to train on the corpus. */
  newModel(request: NewModelRequest): Promise<NewModelResult> {
    const corpus = ownCopy(request.corpus);
    return this.call((remote) => remote.newModel(transferring({ ...request, corpus }, corpus)));
  }

  /** Trains until paused, finished or diverged; progress arrives a few times a second. */
  play(onProgress: (progress: TrainingProgress) => void): Promise<TrainingOutcome> {
    const callback = Comlink.proxy(onProgress);
    return this.call((remote) => remote.play(callback));
  }

  pause(): Promise<void> {
    return this.call((remote) => remote.pause());
  }

  stepOnce(): Promise<TrainingProgress> {
    return this.call((remote) => remote.stepOnce());
  }

  reset(): Promise<ModelInfo> {
    return this.call((remote) => remote.reset());
  }

  trainingState(): Promise<TrainingState | null> {
    return this.call((remote) => remote.trainingState());
  }

  /** Which backend runs the model (CPU or WebGPU), on what adapter, and why. */
  backend(): Promise<BackendInfo> {
    return this.call((remote) => remote.backend());
  }

  /** Moves the model (and a training run, weights and optimizer state) to the chosen backend. */
  setBackend(choice: BackendChoice): Promise<BackendInfo> {
    return this.call((remote) => remote.setBackend(choice));
  }

  /** Stops the worker; the client cannot be used afterwards. */
  terminate(): void {
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }

  /** Calls wait for the starting model, so no answer comes from the model it replaces. */
  private call<T>(request: (remote: Comlink.Remote<EngineService>) => Promise<T>): Promise<T> {
    return Promise.race([this.started.then(() => request(this.remote)), this.failure]);
  }
}

/** A file's bytes travel to the worker as a copy, so the caller keeps its own. */
const ownCopy = (source: CorpusSource): CorpusSource =>
  source.kind === 'file' ? { ...source, bytes: source.bytes.slice(0) } : source;

/** Marks a file corpus's bytes to be moved with `message` (Comlink only looks at the top-level argument). */
const transferring = <T>(message: T, corpus: CorpusSource): T =>
  corpus.kind === 'file' ? Comlink.transfer(message, [corpus.bytes]) : message;
