/**
 * The typed client of the engine worker: the only thing components talk to.
 * It starts the one dedicated worker and forwards calls through Comlink.
 *
 * A worker that fails to start rejects every call. One that dies later
 * (crashed, out of memory, terminated) is noticed at once through a Web Lock it
 * holds while alive: calls in flight reject with a clear error (a dead worker
 * would otherwise leave them waiting forever), a new worker starts and reopens
 * the last saved model, and a 'restart' event says what happened.
 */
import * as Comlink from 'comlink';
import type {
  BackendChoice,
  BackendInfo,
  CheckpointSummary,
  CorpusSource,
  CorpusSummary,
  EngineService,
  ForwardOutput,
  GenerateRequest,
  GenerateResult,
  ImportSource,
  ModelInfo,
  ModelPreset,
  NewModelRequest,
  NewModelResult,
  ParameterCounts,
  PlayOutcome,
  Prediction,
  PredictOptions,
  SavedModels,
  SamplingOptions,
  StreamedToken,
  Tokenization,
  TrainingProgress,
  TrainingSettings,
  TrainingState,
} from '../workers/service.ts';
import type { AppConfig } from '@mlc-ai/web-llm';
import type {
  ChatClient, ChatLoadProgress, ChatMessage, ChatModels, ChatReply, ChatSettings, ChatToken,
} from '../workers/chat/types.ts';
import type { GPTConfig } from '../workers/engine/config.ts';
import type {
  ActiveModelCount, AngleHistogram, FactMlpResult, FactMlpSetup, LabsClient, ModelLogits, NamedConfig, PackingFrame,
  PackingRequest, ParameterBreakdown, SoftmaxResult,
} from '../workers/labs/types.ts';
import type {
  ContextualSimilarity, EmbeddingMap, FactPrompt, HeadUpdate, Inspection, InspectorClient, Interventions, LensLayer, Neighbour,
  NeuronReport, TimelapseFrame, TimelapseSettings, TokenAngle,
} from '../workers/inspection.ts';

export type * from '../workers/service.ts';

/**
 * The trained model the playground opens with. Bundlers see this URL and ship the
 * file with the code (the site and the library builds both copy it).
 */
export const DEFAULT_MODEL_URL = new URL('../public/default-model.safetensors?no-inline', import.meta.url).href;

export interface EngineClientOptions {
  /** Checkpoint to start from when no saved model is reopened; null: random weights. Default: the shipped trained model. */
  modelUrl?: string | null;
  /** Reopen the model saved last (default true). */
  restore?: boolean;
  /** IndexedDB database for saved models (default 'llm-playground'; tests use their own). */
  database?: string;
  /** Makes the worker; the playground's default starts engine.worker.ts (tests count the workers made). */
  createWorker?: () => Worker;
}

/** The 'restart' event's detail: what happened, in words for the user. */
export type RestartEvent = CustomEvent<{ message: string; model: ModelInfo | null }>;

/** More restarts than this within RESTART_WINDOW_MS and the client gives up (a worker that dies at once would loop). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

const startEngineWorker = (): Worker =>
  new Worker(new URL('../workers/engine.worker.ts', import.meta.url), { type: 'module' });

/** One worker and what the client knows of it. */
interface Connection {
  worker: Worker;
  remote: Comlink.Remote<EngineService>;
  /** Rejects when the worker fails to start or dies; every call races against it. */
  failure: Promise<never>;
  /** Settles once the starting model is in place; calls wait for it. */
  started: Promise<ModelInfo | null>;
  /** Stops watching for this worker's death (when the client ends it on purpose). */
  stopWatching: AbortController;
}

export class EngineClient extends EventTarget implements InspectorClient, ChatClient, LabsClient {
  private connection: Connection;
  private readonly options: EngineClientOptions;
  private readonly restarts: number[] = [];
  private ended = false;
  /** Settings the page made, applied again to a restarted worker. */
  private backendChoice: BackendChoice | null = null;
  private autosaveEvery: number | null = null;
  private timelapseSettings: TimelapseSettings | null = null;
  private chatAppConfig: AppConfig | null = null;
  private persistenceAsked: Promise<boolean> | null = null;

  constructor(options: EngineClientOptions = {}) {
    super();
    this.options = options;
    this.connection = this.connect();
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
  play(onProgress: (progress: TrainingProgress) => void): Promise<PlayOutcome> {
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
  async setBackend(choice: BackendChoice): Promise<BackendInfo> {
    const info = await this.call((remote) => remote.setBackend(choice));
    this.backendChoice = choice;
    return info;
  }

  /** The saved models, the one in use, the autosave interval and the storage used. */
  listModels(): Promise<SavedModels> {
    return this.call((remote) => remote.listModels());
  }

  /** Saves the model in use; rejects with a message for the user when storage fails (the model stays in memory). */
  saveModel(name?: string): Promise<CheckpointSummary> {
    return this.call((remote) => remote.saveModel(name));
  }

  openModel(id: string): Promise<ModelInfo> {
    return this.call((remote) => remote.openModel(id));
  }

  renameModel(id: string, name: string): Promise<CheckpointSummary> {
    return this.call((remote) => remote.renameModel(id, name));
  }

  duplicateModel(id: string): Promise<CheckpointSummary> {
    return this.call((remote) => remote.duplicateModel(id));
  }

  deleteModel(id: string): Promise<void> {
    return this.call((remote) => remote.deleteModel(id));
  }

  /** The model in use as a .safetensors file. */
  exportModel(): Promise<{ fileName: string; bytes: Uint8Array }> {
    return this.call((remote) => remote.exportModel());
  }

  /** Checks a .safetensors file in the worker; only a valid one replaces the model (and is saved). */
  importModel(source: ImportSource): Promise<ModelInfo> {
    if (source.kind === 'url') return this.call((remote) => remote.importModel(source));
    const copy = { ...source, bytes: source.bytes.slice(0) };
    return this.call((remote) => remote.importModel(Comlink.transfer(copy, [copy.bytes])));
  }

  /** Training saves itself every this many steps and when it pauses; 0: only when asked. */
  async setAutosave(everySteps: number): Promise<void> {
    await this.call((remote) => remote.setAutosave(everySteps));
    this.autosaveEvery = everySteps;
  }

  /**
   * Asks the browser not to evict saved models (navigator.storage.persist(), on
   * the page: workers can't). Asked once; true when granted.
   */
  requestPersistence(): Promise<boolean> {
    this.persistenceAsked ??= navigator.storage?.persist ? navigator.storage.persist().catch(() => false) : Promise.resolve(false);
    return this.persistenceAsked;
  }

  // The inspector's questions (workers/inspection.ts says what each answers).

  inspect(text: string, interventions: Interventions = {}): Promise<Inspection> {
    return this.call((remote) => remote.inspect(text, interventions));
  }

  headUpdates(text: string, position: number): Promise<HeadUpdate[]> {
    return this.call((remote) => remote.headUpdates(text, position));
  }

  topNeurons(text: string, position: number, layer: number, count: number): Promise<NeuronReport> {
    return this.call((remote) => remote.topNeurons(text, position, layer, count));
  }

  factPrompts(): Promise<FactPrompt[]> {
    return this.call((remote) => remote.factPrompts());
  }

  nearestTokens(token: number, count: number): Promise<Neighbour[]> {
    return this.call((remote) => remote.nearestTokens(token, count));
  }

  tokenArithmetic(a: number, b: number, c: number, count: number): Promise<Neighbour[]> {
    return this.call((remote) => remote.tokenArithmetic(a, b, c, count));
  }

  tokenAngle(a: number, b: number): Promise<TokenAngle> {
    return this.call((remote) => remote.tokenAngle(a, b));
  }

  embeddingMap(): Promise<EmbeddingMap> {
    return this.call((remote) => remote.embeddingMap());
  }

  positionSimilarity(): Promise<Float32Array> {
    return this.call((remote) => remote.positionSimilarity());
  }

  contextualSimilarity(first: { text: string; position: number }, second: { text: string; position: number }): Promise<ContextualSimilarity> {
    return this.call((remote) => remote.contextualSimilarity(first, second));
  }

  logitLens(text: string, position: number, count: number): Promise<LensLayer[]> {
    return this.call((remote) => remote.logitLens(text, position, count));
  }

  timelapse(): Promise<TimelapseFrame[]> {
    return this.call((remote) => remote.timelapse());
  }

  /** Watches a prompt while training; applied again to a restarted worker. */
  async setTimelapse(settings: TimelapseSettings): Promise<void> {
    await this.call((remote) => remote.setTimelapse(settings));
    this.timelapseSettings = settings;
  }

  // The concept labs (workers/labs/types.ts says what each answers).

  softmax(logits: number[], temperature: number): Promise<SoftmaxResult> {
    return this.call((remote) => remote.softmax(logits, temperature));
  }

  sampleCounts(logits: number[], temperature: number, draws: number, seed: number): Promise<number[]> {
    return this.call((remote) => remote.sampleCounts(logits, temperature, draws, seed));
  }

  modelLogits(text: string, count: number): Promise<ModelLogits> {
    return this.call((remote) => remote.modelLogits(text, count));
  }

  knownConfigs(): Promise<NamedConfig[]> {
    return this.call((remote) => remote.knownConfigs());
  }

  parameterBreakdown(config: GPTConfig): Promise<ParameterBreakdown> {
    return this.call((remote) => remote.parameterBreakdown(config));
  }

  activeModelCount(): Promise<ActiveModelCount> {
    return this.call((remote) => remote.activeModelCount());
  }

  randomAngles(dimension: number, count: number, seed: number, bins: number): Promise<AngleHistogram> {
    return this.call((remote) => remote.randomAngles(dimension, count, seed, bins));
  }

  packVectors(request: PackingRequest, onFrame: (frame: PackingFrame) => void): Promise<PackingFrame> {
    const callback = Comlink.proxy(onFrame);
    return this.call((remote) => remote.packVectors(request, callback));
  }

  factMlp(setup: FactMlpSetup): Promise<FactMlpResult> {
    return this.call((remote) => remote.factMlp(setup));
  }

  // The chat with a pretrained model (workers/chat/types.ts says what each answers).

  chatModels(): Promise<ChatModels> {
    return this.call((remote) => remote.chatModels());
  }

  /** The host page's own model list (null: the default one); applied again to a restarted worker. */
  async setChatAppConfig(appConfig: AppConfig | null): Promise<void> {
    await this.call((remote) => remote.setChatAppConfig(appConfig));
    this.chatAppConfig = appConfig;
  }

  loadChatModel(id: string, onProgress: (progress: ChatLoadProgress) => void): Promise<void> {
    const callback = Comlink.proxy(onProgress);
    return this.call((remote) => remote.loadChatModel(id, callback));
  }

  chatPrompt(messages: ChatMessage[]): Promise<string> {
    return this.call((remote) => remote.chatPrompt(messages));
  }

  chat(messages: ChatMessage[], settings: ChatSettings, onToken: (token: ChatToken) => void): Promise<ChatReply> {
    const callback = Comlink.proxy(onToken);
    return this.call((remote) => remote.chat(messages, settings, callback));
  }

  stopChat(): Promise<void> {
    return this.call((remote) => remote.stopChat());
  }

  deleteChatModel(id: string): Promise<void> {
    return this.call((remote) => remote.deleteChatModel(id));
  }

  /** Stops the worker; the client cannot be used afterwards. */
  terminate(): void {
    this.ended = true;
    this.end(this.connection);
  }

  /** Calls wait for the starting model, so no answer comes from the model it replaces. */
  private call<T>(request: (remote: Comlink.Remote<EngineService>) => Promise<T>): Promise<T> {
    const { started, remote, failure } = this.connection;
    return Promise.race([started.then(() => request(remote)), failure]);
  }

  /** Starts a worker, watches for its death, and puts the starting model in place. */
  private connect(): Connection {
    const worker = (this.options.createWorker ?? startEngineWorker)();
    const remote = Comlink.wrap<EngineService>(worker);
    const stopWatching = new AbortController();
    let fail!: (error: Error) => void;
    const failure = new Promise<never>((_, reject) => {
      fail = reject;
    });
    // Calls nobody is waiting on must not surface as unhandled rejections.
    failure.catch(() => {});
    let running = false;
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      if (!running) fail(new Error(`The model's worker failed: ${event.message || 'it could not be loaded'}`));
    });
    worker.addEventListener('messageerror', () => fail(new Error("A message from the model's worker could not be read.")));
    const connection: Connection = { worker, remote, failure, started: Promise.resolve(null), stopWatching };
    const starting = (async () => {
      await this.watch(connection, () => {
        fail(new Error("The model's worker stopped (it crashed, ran out of memory or was ended) while this was running."));
      });
      running = true;
      return this.startModel(remote);
    })();
    connection.started = Promise.race([starting, failure]);
    connection.started.catch(() => {});
    return connection;
  }

  /**
   * The worker holds a Web Lock while it lives; asking for the same lock here is
   * granted when it dies. Browsers without Web Locks only learn of load failures.
   */
  private async watch(connection: Connection, died: () => void): Promise<void> {
    const locks = globalThis.navigator?.locks;
    if (!locks) return;
    const name = `llm-playground-engine-${crypto.randomUUID()}`;
    await connection.remote.holdLifeLock(name);
    locks.request(name, { signal: connection.stopWatching.signal }, () => {
      if (connection !== this.connection || this.ended) return;
      died();
      this.restart(connection);
    }).catch(() => {}); // aborted: the client ended the worker itself
  }

  /** Settings the page made, then the saved model, else the starting checkpoint. */
  private async startModel(remote: Comlink.Remote<EngineService>): Promise<ModelInfo | null> {
    const { database, restore = true } = this.options;
    if (database) await remote.useDatabase(database);
    if (this.autosaveEvery !== null) await remote.setAutosave(this.autosaveEvery);
    if (this.backendChoice) await remote.setBackend(this.backendChoice).catch(() => {});
    if (this.timelapseSettings) await remote.setTimelapse(this.timelapseSettings);
    if (this.chatAppConfig) await remote.setChatAppConfig(this.chatAppConfig);
    const restored = restore ? await remote.restoreActive() : null;
    if (restored) return restored;
    const modelUrl = this.options.modelUrl === undefined ? DEFAULT_MODEL_URL : this.options.modelUrl;
    return modelUrl === null ? null : remote.loadCheckpoint(modelUrl);
  }

  /** A new worker for a dead one, with the last saved model; gives up after a few in a row. */
  private restart(dead: Connection): void {
    this.end(dead);
    const now = Date.now();
    this.restarts.push(now);
    while (this.restarts[0]! < now - RESTART_WINDOW_MS) this.restarts.shift();
    if (this.restarts.length > MAX_RESTARTS) {
      this.ended = true;
      this.dispatchRestart(`The model's worker stopped ${this.restarts.length} times in a minute, so it was not started again. Reload the page to try again.`, null);
      return;
    }
    this.connection = this.connect();
    void this.connection.started.then(
      (model) => this.dispatchRestart(model?.saved
        ? `The model's worker stopped unexpectedly and was restarted; "${model.name}" was reopened as saved at step ${model.saved.step}.`
        : "The model's worker stopped unexpectedly and was restarted; there was no saved model to reopen, so it starts from the default model.", model),
      (error: Error) => this.dispatchRestart(`The model's worker stopped and could not be restarted: ${error.message}`, null),
    );
  }

  private dispatchRestart(message: string, model: ModelInfo | null): void {
    this.dispatchEvent(new CustomEvent('restart', { detail: { message, model } }));
  }

  private end(connection: Connection): void {
    if (connection.stopWatching.signal.aborted) return; // ended already
    connection.stopWatching.abort();
    connection.remote[Comlink.releaseProxy]();
    connection.worker.terminate();
  }
}

/** A file's bytes travel to the worker as a copy, so the caller keeps its own. */
const ownCopy = (source: CorpusSource): CorpusSource =>
  source.kind === 'file' ? { ...source, bytes: source.bytes.slice(0) } : source;

/** Marks a file corpus's bytes to be moved with `message` (Comlink only looks at the top-level argument). */
const transferring = <T>(message: T, corpus: CorpusSource): T =>
  corpus.kind === 'file' ? Comlink.transfer(message, [corpus.bytes]) : message;
