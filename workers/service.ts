/**
 * The engine service: everything the page may ask of the model, as one plain
 * class. The worker (engine.worker.ts) exposes an instance through Comlink; tests
 * can also call it directly. It never touches the DOM.
 *
 * Large arrays (probabilities, logits, captured activations) are returned through
 * `transfer`, which the worker sets to Comlink.transfer so their buffers move to
 * the page instead of being copied.
 */
import { backendInfo, type BackendChoice, type BackendInfo, type BackendKind, decideBackend } from './backend-choice.ts';
import { download, fileName } from './download.ts';
import { importCheckpoint, MAX_IMPORT_BYTES, readCheckpoint, writeCheckpoint } from './engine/checkpoint.ts';
import { type GPTConfig, sameShape, validateConfig } from './engine/config.ts';
import { DEFAULT_CONFIG, DEFAULT_SEED, defaultTokenizer } from './engine/defaults.ts';
import { type GeneratedToken, generate as generateTokens } from './engine/generate.ts';
import { type Capture, forward as forwardModel, type ForwardResult } from './engine/model.ts';
import { countParameters, createParameters, initParameters, type ParameterCounts, type ParameterTensors } from './engine/params.ts';
import { nextTokenProbabilities, type SamplingOptions } from './engine/sampling.ts';
import { MODEL_PRESETS, type ModelPreset } from './engine/presets.ts';
import { CharTokenizer } from './engine/tokenizer.ts';
import { type BackendFactory, cpuBackend } from './engine/train.ts';
import { type GPUContext, GPUFailure, requestGPU } from './engine/webgpu/device.ts';
import { generateOnGPU, GPUModel } from './engine/webgpu/model.ts';
import { gpuBackend, GPUTrainer } from './engine/webgpu/trainer.ts';
import type { AppConfig } from '@mlc-ai/web-llm';
import { ChatService } from './chat/chat-service.ts';
import type { ChatLoadProgress, ChatMessage, ChatModels, ChatReply, ChatSettings, ChatToken } from './chat/types.ts';
import { FACTS } from './corpus/facts.ts';
import {
  contextualSimilarity, embeddingMap, factPrompts, headUpdates, inspect, logitLens, nearestTokens, positionSimilarity,
  tokenAngle, tokenArithmetic, topNeurons,
} from './engine/inspect.ts';
import type {
  ContextualSimilarity, EmbeddingMap, FactPrompt, HeadUpdate, Inspection, Interventions, LensLayer, Neighbour, NeuronReport,
  TimelapseFrame, TimelapseSettings, TokenAngle,
} from './inspection.ts';
import { factMlp } from './labs/fact-mlp.ts';
import { activeModelCount, knownConfigs, parameterBreakdown } from './labs/parameters.ts';
import { modelLogits, sampleCounts, softmax } from './labs/softmax.ts';
import { packVectors, randomAngles } from './labs/superposition.ts';
import type {
  ActiveModelCount, AngleHistogram, FactMlpResult, FactMlpSetup, ModelLogits, NamedConfig, PackingFrame, PackingRequest,
  ParameterBreakdown, SoftmaxResult,
} from './labs/types.ts';
import { ModelLibrary, type ModelToSave } from './model-library.ts';
import type { CheckpointRecord, CheckpointSummary, ImportSource, SavedModels } from './store/records.ts';
import {
  type CorpusSource,
  type CorpusSummary,
  type NewModelRequest,
  nextMacrotask,
  PreparedCorpus,
  readCorpus,
  TRAINING_DEFAULTS,
  type TrainingOutcome,
  type TrainingProgress as SessionProgress,
  TrainingSession,
  type TrainingState,
} from './training-session.ts';
import { messageOf } from './message-of.ts';

export type { BackendChoice, BackendInfo, BackendKind } from './backend-choice.ts';
export type { CheckpointSummary, ImportSource, SavedModels, StorageInfo } from './store/records.ts';
export type * from './inspection.ts';
export type * from './chat/types.ts';
export type * from './labs/types.ts';

export type { SamplingOptions } from './engine/sampling.ts';
export type { Capture, LayerCapture } from './engine/model.ts';
export type { ParameterCounts } from './engine/params.ts';
export type { ModelPreset } from './engine/presets.ts';
export type { TrainingSettings } from './engine/train.ts';
export type {
  CorpusSource,
  CorpusSummary,
  LossPoint,
  ModelShape,
  NewModelRequest,
  TrainingOutcome,
  TrainingPlan,
  TrainingSample,
  TrainingState,
} from './training-session.ts';

/** What an autosave did: the model as saved, or why it could not be. */
export interface AutosaveReport {
  saved?: CheckpointSummary;
  saveProblem?: string;
}

export interface TrainingProgress extends SessionProgress, AutosaveReport {
  /** Present on the first report after the backend changed by itself (the GPU failed and the CPU took over). */
  backend?: BackendInfo;
}

/** How play() ended, and the save made when it did. */
export type PlayOutcome = TrainingOutcome & AutosaveReport;

/** Marks `value` so the listed buffers are moved, not copied, when it crosses to the page. */
export type TransferFunction = <T>(value: T, transfers: Transferable[]) => T;

/**
 * 'random': freshly initialised, not trained; 'training': being trained here, part way;
 * 'trained': read from a checkpoint, or trained here to the last step.
 */
export type WeightsState = 'random' | 'training' | 'trained';

export interface ModelInfo {
  /** What the model is called (and saved as). */
  name: string;
  config: GPTConfig;
  parameters: ParameterCounts;
  /** Token strings in id order. */
  vocabulary: string[];
  /** Seed the weights were initialised from (for a checkpoint: the seed of the fallback). */
  seed: number;
  weights: WeightsState;
  /** Training steps taken in this tab. */
  step: number;
  /** File name of the checkpoint the weights came from, when they did. */
  checkpoint?: string;
  /** Name of the corpus the model is being trained on, when it is. */
  corpus?: string;
  /** The saved model this is, once saved (it reopens on reload). */
  saved?: { id: string; name: string; updated: number; step: number };
  /** Why saving failed or is off (storage full, a private window), or that another tab's save was replaced. */
  storageProblem?: string;
  /** Something the page should tell the user, e.g. why the default model did not load. */
  notice?: string;
}

export interface Tokenization {
  /** Ids of the tokens the model reads: the last blockSize tokens of the text. */
  ids: number[];
  /** Vocabulary string of each id (the unknown token for unknown characters). */
  tokens: string[];
  /** The piece of the input text each token came from. */
  pieces: string[];
  /** Distinct characters the vocabulary lacks; they are read as the unknown token. */
  unknown: string[];
  /** Tokens cut from the front because the text is longer than the context. */
  dropped: number;
  truncated: boolean;
}

export interface TokenProbability {
  id: number;
  token: string;
  prob: number;
}

export interface PredictOptions extends SamplingOptions {
  /** How many of the most likely tokens to list (default 15). */
  top?: number;
}

export interface Prediction {
  /** The most likely next tokens, most likely first. */
  top: TokenProbability[];
  /** Probability of every token not in `top`. */
  rest: number;
  /** The whole distribution [vocabSize] after temperature, top-k and top-p. */
  probs: Float32Array;
  /** Number of tokens the prediction was made from (including the start token of an empty prompt). */
  contextLength: number;
}

export interface ForwardOutput {
  ids: number[];
  /** [ids.length, vocabSize] */
  logits: Float32Array;
  capture?: Capture;
}

export interface GenerateRequest extends SamplingOptions {
  maxTokens: number;
  seed: number;
}

export interface StreamedToken {
  /** 0 for the first generated token, then 1, 2, … */
  index: number;
  id: number;
  token: string;
  /** Probability the token had in the distribution it was drawn from. */
  prob: number;
}

export interface GenerateResult {
  /** The generated text only (without the prompt). */
  text: string;
  ids: number[];
  /** True when cancelled (by cancel() or a newer generate) before maxTokens. */
  stopped: boolean;
}

export interface NewModelResult {
  corpus: CorpusSummary;
  model: ModelInfo;
}

interface ActiveModel {
  name: string;
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer: CharTokenizer;
  seed: number;
  checkpoint?: string;
}

export interface ServiceOptions {
  /** Marks buffers to move to the page (the worker passes Comlink.transfer). */
  transfer?: TransferFunction;
  /** The backend to start on (default auto). */
  backend?: BackendChoice;
  /** How to get a GPU (default requestGPU); tests pass their own to hold the device. */
  findGPU?: () => Promise<GPUContext | null>;
  /** Where models are saved (default: the IndexedDB database 'llm-playground'). */
  library?: ModelLibrary;
  /** The chat with a pretrained model (default: web-llm, loaded when first used). */
  chat?: ChatService;
}


const DEFAULT_TOP = 15;

/**
 * A character model has no "beginning of text" token, so an empty prompt is read
 * as a single line break, the way a fresh document starts; a vocabulary without
 * one falls back to the unknown token (id 0).
 */
export const EMPTY_PROMPT_START = '\n';

export class EngineService {
  private model: ActiveModel;
  private notice: string | undefined;
  /** The model being trained, once the page asked for one; it is also `model`. */
  private session: TrainingSession | null = null;
  private readonly transfer: TransferFunction;
  /** Id of the generation allowed to continue; anything else stops at its next token. */
  private activeGeneration = 0;
  private backendChoice: BackendChoice = 'auto';
  private activeBackend: BackendKind = 'cpu';
  private backendReason = '';
  /** The backend changed by itself since the last training report (which tells the page). */
  private backendNews = false;
  /** Settles once the first choice is made: until then everything runs on the CPU. */
  private readonly backendReady: Promise<void>;
  /** The GPU once looked for (null: there is none), looked for again after it is lost. */
  private gpu: Promise<GPUContext | null> | null = null;
  /** What the last look found. */
  private gpuFound: GPUContext | null = null;
  /** Inference on the GPU, for the current model's shape. */
  private gpuModel: GPUModel | null = null;
  /** Which weights gpuModel holds (see weightsKey); null: none yet. */
  private gpuWeights: string | null = null;
  /** Moves on whenever the model's weights are replaced (a new model, a checkpoint, a reset). */
  private modelVersion = 0;

  private readonly findGPU: () => Promise<GPUContext | null>;
  private readonly library: ModelLibrary;
  private readonly chatService: ChatService;
  /** What the time-lapse watches: given to each model trained here. */
  private timelapseSettings: TimelapseSettings | null = null;

  constructor(options: ServiceOptions = {}) {
    this.transfer = options.transfer ?? ((value) => value);
    this.findGPU = options.findGPU ?? requestGPU;
    this.library = options.library ?? new ModelLibrary();
    this.chatService = options.chat ?? new ChatService();
    this.model = {
      name: 'untrained model',
      config: DEFAULT_CONFIG,
      params: initParameters(DEFAULT_CONFIG, DEFAULT_SEED),
      tokenizer: defaultTokenizer(),
      seed: DEFAULT_SEED,
    };
    // A forced WebGPU with no adapter leaves the CPU running; backend() says why.
    this.backendReady = this.choose(options.backend ?? 'auto').catch((error: unknown) => {
      this.backendReason = error instanceof Error ? error.message : String(error);
    });
  }

  info(): ModelInfo {
    const { name, config, tokenizer, seed, checkpoint } = this.model;
    const session = this.session;
    const step = session?.step ?? 0;
    const info: ModelInfo = {
      name,
      config: { ...config },
      parameters: countParameters(config),
      vocabulary: [...tokenizer.vocab],
      seed,
      weights: this.weightsState(),
      step,
    };
    if (session) info.corpus = session.corpus.name;
    else if (checkpoint) info.checkpoint = checkpoint;
    const saved = this.library.active;
    if (saved) info.saved = { id: saved.id, name: saved.name, updated: saved.updated, step: saved.step };
    if (this.library.problem) info.storageProblem = this.library.problem;
    if (this.notice) info.notice = this.notice;
    return info;
  }

  /** Which backend runs the model (CPU or WebGPU), on what adapter, and why. */
  async backend(): Promise<BackendInfo> {
    await this.backendReady;
    return this.describeBackend();
  }

  /**
   * Runs the model (inference and training) on the backend chosen: 'auto' (WebGPU
   * on a hardware adapter, else the CPU), 'cpu' or 'webgpu'. Mid-training the
   * weights and optimizer state move across between two steps and the loss
   * curve goes on. Rejects, the backend unchanged, when WebGPU is forced and
   * there is none.
   */
  async setBackend(choice: BackendChoice): Promise<BackendInfo> {
    await this.backendReady;
    await this.choose(choice);
    return this.describeBackend();
  }

  /** Parameter counts by category for any config (the panel shows them for each model size). */
  countParameters(config: GPTConfig): ParameterCounts {
    return countParameters(validateConfig(config));
  }

  modelPresets(): ModelPreset[] {
    return MODEL_PRESETS.map((preset) => ({ ...preset }));
  }

  /** The training settings a new model gets unless the page sets them. */
  trainingDefaults(): typeof TRAINING_DEFAULTS {
    return { ...TRAINING_DEFAULTS };
  }

  /** Reads and checks a corpus without training on it: its size, vocabulary and split. */
  async describeCorpus(source: CorpusSource): Promise<CorpusSummary> {
    const { name, text } = await readCorpus(source);
    return new PreparedCorpus(name, text).summary;
  }

  /**
   * Replaces the model with a freshly initialised one to train on a corpus. The
   * running training, if any, stops. Everything else (predict, generate, …) then
   * uses the new model.
   */
  async newModel(request: NewModelRequest): Promise<NewModelResult> {
    const { name, text } = await readCorpus(request.corpus);
    await this.backendReady;
    const corpus = new PreparedCorpus(name, text);
    const session = await TrainingSession.create(corpus, request.size, request.seed, request.training, await this.activeBackendFactory());
    if (this.timelapseSettings) await session.setTimelapse(this.timelapseSettings);
    this.cancel();
    this.session?.destroy();
    this.session = session;
    const size = typeof request.size === 'string' ? request.size : 'custom';
    this.model = {
      name: `${size} model on ${corpus.name}`, config: session.config, params: session.params, tokenizer: session.corpus.tokenizer, seed: session.seed,
    };
    this.replacedModel();
    return { corpus: session.corpus.summary, model: this.info() };
  }

  /**
   * Trains until pause(), reset(), a new model, the last step, or a loss that is
   * not finite. Progress goes to onProgress (a few times a second, and whenever
   * a validation loss or a sample is new); between steps other requests are answered.
   */
  async play(onProgress: (progress: TrainingProgress) => unknown): Promise<PlayOutcome> {
    const session = this.training();
    const outcome = await session.play(async (progress) => {
      const report: TrainingProgress = this.withBackend(progress);
      if (this.library.autosaveDue(session.step)) Object.assign(report, await this.autosave(session));
      return onProgress(report);
    }, (step) => this.library.autosaveDue(step));
    // Pausing (or finishing) saves, unless nothing was trained since the last save.
    const due = this.library.autosaveEvery > 0 && session.step !== (this.library.active?.step ?? 0);
    return due && this.session === session ? { ...outcome, ...(await this.autosave(session)) } : outcome;
  }

  pause(): void {
    this.session?.pause();
  }

  /** One training step (a running play stops first). */
  async stepOnce(): Promise<TrainingProgress> {
    const session = this.training();
    const report: TrainingProgress = this.withBackend(await session.stepOnce());
    if (this.library.autosaveDue(session.step)) Object.assign(report, await this.autosave(session));
    return report;
  }

  /** Back to the initial weights of the same seed; the history starts again (and the next save is a new saved model). */
  async reset(): Promise<ModelInfo> {
    await this.training().reset();
    this.replacedModel();
    return this.info();
  }

  /** The saved models, the one in use, the autosave interval and the storage left. */
  listModels(): Promise<SavedModels> {
    return this.library.list();
  }

  /**
   * Saves the model in use (weights, and when it trains here its optimizer,
   * schedule, history and corpus), replacing its previous save; it reopens on
   * reload. Rejects with a message for the user when storage fails; the model
   * stays as it is in memory.
   */
  async saveModel(name?: string): Promise<CheckpointSummary> {
    const model = await this.modelToSave();
    if (name !== undefined && name.trim()) model.name = name.trim();
    const summary = await this.library.save(model);
    this.model.name = summary.name;
    return summary;
  }

  /** Replaces the model in use with a saved one; a model that was training resumes exactly where it was saved. */
  async openModel(id: string): Promise<ModelInfo> {
    await this.adopt(await this.library.open(id));
    return this.info();
  }

  /**
   * Opens the saved model the page last used (on start, and after the worker
   * was restarted). Null, the model unchanged, when there is none; when it cannot
   * be read, info().notice says why.
   */
  async restoreActive(): Promise<ModelInfo | null> {
    try {
      const record = await this.library.activeRecord();
      if (!record) return null;
      await this.adopt(record);
      return this.info();
    } catch (error) {
      this.library.forget();
      this.notice = `Your saved model could not be reopened (${messageOf(error)}).`;
      return null;
    }
  }

  async renameModel(id: string, name: string): Promise<CheckpointSummary> {
    const summary = await this.library.rename(id, name);
    if (this.library.active?.id === id) this.model.name = summary.name;
    return summary;
  }

  duplicateModel(id: string): Promise<CheckpointSummary> {
    return this.library.duplicate(id);
  }

  /** Deletes a saved model; if it is the one in use, that stays in memory, unsaved. */
  deleteModel(id: string): Promise<void> {
    return this.library.delete(id);
  }

  /** The model in use as .safetensors (Hugging Face GPT-2 names, our config and tokenizer in the metadata). */
  async exportModel(): Promise<{ fileName: string; bytes: Uint8Array }> {
    const params = await this.cpuParameters();
    const bytes = writeCheckpoint({ config: this.model.config, params, tokenizer: this.model.tokenizer });
    const result = { fileName: `${safeFileName(this.model.name)}.safetensors`, bytes };
    return this.transfer(result, [bytes.buffer as ArrayBuffer]);
  }

  /**
   * Reads a .safetensors file (its bytes, or from a URL), checks all of it, and
   * only then makes it the model in use and saves it. A file that fails any
   * check is refused with a message that says what is wrong; nothing changes.
   */
  async importModel(source: ImportSource): Promise<ModelInfo> {
    const name = source.kind === 'file' ? source.name : fileName(source.url);
    const bytes = source.kind === 'file' ? new Uint8Array(source.bytes) : await download(source.url, MAX_IMPORT_BYTES);
    const imported = importCheckpoint(bytes);
    this.cancel();
    this.session?.destroy();
    this.session = null;
    this.model = { ...imported, name: name.replace(/\.safetensors$/i, ''), seed: this.model.seed, checkpoint: name };
    this.replacedModel();
    try {
      await this.saveModel();
    } catch {
      // Kept in memory; info().storageProblem says why it is not saved.
    }
    return this.info();
  }

  /** Training saves itself every this many steps and when it pauses; 0: only when asked. */
  setAutosave(everySteps: number): void {
    this.library.setAutosave(everySteps);
  }

  // The inspector's questions (see inspection.ts), answered on the CPU from the weights in use.

  /** The prompt run with capture, and with the interventions asked for (the model itself is not changed). */
  async inspect(text: string, interventions: Interventions = {}): Promise<Inspection> {
    return this.transferAll(inspect(await this.cpuParameters(), this.model.tokenizer, this.contextIds(text), interventions));
  }

  async headUpdates(text: string, position: number): Promise<HeadUpdate[]> {
    return this.transferAll(headUpdates(await this.cpuParameters(), this.model.tokenizer, this.contextIds(text), position));
  }

  async topNeurons(text: string, position: number, layer: number, count: number): Promise<NeuronReport> {
    return topNeurons(await this.cpuParameters(), this.model.tokenizer, this.contextIds(text), position, layer, count);
  }

  /** The built-in corpus's facts as prompts for this model's vocabulary. */
  factPrompts(): FactPrompt[] {
    return factPrompts(this.model.tokenizer, FACTS, this.model.config.blockSize);
  }

  async nearestTokens(token: number, count: number): Promise<Neighbour[]> {
    return nearestTokens(await this.cpuParameters(), this.model.tokenizer, token, count);
  }

  async tokenArithmetic(a: number, b: number, c: number, count: number): Promise<Neighbour[]> {
    return tokenArithmetic(await this.cpuParameters(), this.model.tokenizer, a, b, c, count);
  }

  async tokenAngle(a: number, b: number): Promise<TokenAngle> {
    return tokenAngle(await this.cpuParameters(), a, b);
  }

  async embeddingMap(): Promise<EmbeddingMap> {
    return this.transferAll(embeddingMap(await this.cpuParameters(), this.model.tokenizer));
  }

  async positionSimilarity(): Promise<Float32Array> {
    return this.transferAll(positionSimilarity(await this.cpuParameters()));
  }

  async contextualSimilarity(
    first: { text: string; position: number }, second: { text: string; position: number },
  ): Promise<ContextualSimilarity> {
    const at = ({ text, position }: { text: string; position: number }) => ({ ids: this.contextIds(text), position });
    return contextualSimilarity(await this.cpuParameters(), this.model.tokenizer, at(first), at(second));
  }

  async logitLens(text: string, position: number, count: number): Promise<LensLayer[]> {
    return logitLens(await this.cpuParameters(), this.model.tokenizer, this.contextIds(text), position, count);
  }

  /** Frames recorded while training (none without a model being trained). */
  timelapse(): TimelapseFrame[] {
    return this.transferAll(this.session?.timelapse() ?? []);
  }

  /** Watches a prompt while training: now, for the model being trained, and for every model trained after. */
  async setTimelapse(settings: TimelapseSettings): Promise<void> {
    this.timelapseSettings = { ...settings };
    await this.session?.setTimelapse(this.timelapseSettings);
  }

  /**
   * Moves every typed array in `value` to the page rather than copying it. They
   * are copied here first: one may be a view of a larger buffer (a scratch
   * buffer, a stored time-lapse frame) that must stay in the worker.
   */
  private transferAll<T>(value: T): T {
    const copy = ownCopy(value);
    return this.transfer(copy, buffersIn(copy));
  }

  // The concept labs (labs/types.ts says what each answers).

  softmax(logits: number[], temperature: number): SoftmaxResult {
    return softmax(logits, temperature);
  }

  sampleCounts(logits: number[], temperature: number, draws: number, seed: number): number[] {
    return sampleCounts(logits, temperature, draws, seed);
  }

  /** The model in use's largest next-token logits for a prompt. */
  async modelLogits(text: string, count: number): Promise<ModelLogits> {
    return modelLogits(await this.cpuParameters(), this.model.tokenizer, this.contextIds(text), count);
  }

  knownConfigs(): NamedConfig[] {
    return knownConfigs();
  }

  parameterBreakdown(config: GPTConfig): ParameterBreakdown {
    return parameterBreakdown(validateConfig(config));
  }

  /** The model in use counted, beside the length of its real parameter buffer. */
  activeModelCount(): ActiveModelCount {
    return activeModelCount(this.model.params);
  }

  randomAngles(dimension: number, count: number, seed: number, bins: number): AngleHistogram {
    return randomAngles(dimension, count, seed, bins);
  }

  packVectors(request: PackingRequest, onFrame: (frame: PackingFrame) => unknown): Promise<PackingFrame> {
    return packVectors(request, (frame) => void onFrame(frame));
  }

  factMlp(setup: FactMlpSetup): FactMlpResult {
    return factMlp(setup);
  }

  // The chat with a real pretrained model (chat/types.ts says what each answers), through web-llm in this worker.

  chatModels(): Promise<ChatModels> {
    return this.chatService.chatModels();
  }

  setChatAppConfig(appConfig: AppConfig | null): Promise<void> {
    return this.chatService.setChatAppConfig(appConfig);
  }

  loadChatModel(id: string, onProgress: (progress: ChatLoadProgress) => unknown): Promise<void> {
    return this.chatService.loadChatModel(id, onProgress);
  }

  chatPrompt(messages: ChatMessage[]): Promise<string> {
    return this.chatService.chatPrompt(messages);
  }

  chat(messages: ChatMessage[], settings: ChatSettings, onToken: (token: ChatToken) => unknown): Promise<ChatReply> {
    return this.chatService.chat(messages, settings, onToken);
  }

  stopChat(): Promise<void> {
    return this.chatService.stopChat();
  }

  deleteChatModel(id: string): Promise<void> {
    return this.chatService.deleteChatModel(id);
  }

  /**
   * Holds a Web Lock for as long as this worker lives. The page then asks for the
   * same lock, which it is granted only once the worker is gone (terminated,
   * crashed, out of memory): how it notices.
   */
  holdLifeLock(name: string): Promise<void> {
    return new Promise((held, failed) => {
      navigator.locks.request(name, () => {
        held();
        return new Promise<never>(() => {});
      }).catch(failed);
    });
  }

  /** Saves in another IndexedDB database (tests use their own). */
  useDatabase(dbName: string): void {
    this.library.useDatabase(dbName);
  }

  /** Everything the training panel shows, to redraw it. */
  trainingState(): TrainingState | null {
    return this.session?.state() ?? null;
  }

  private weightsState(): WeightsState {
    const session = this.session;
    if (!session) return this.model.checkpoint ? 'trained' : 'random';
    if (session.step === 0) return 'random';
    return session.finished ? 'trained' : 'training';
  }

  private training(): TrainingSession {
    if (!this.session) throw new Error('There is no model to train yet: create one first.');
    return this.session;
  }

  /**
   * Replaces the model with the checkpoint at `url` (one with our config and
   * tokenizer in its metadata). When it cannot be fetched or read, the current
   * model stays and info().notice says why.
   */
  async loadCheckpoint(url: string): Promise<ModelInfo> {
    const name = fileName(url);
    try {
      const checkpoint = readCheckpoint(await download(url));
      if (!checkpoint.tokenizer) throw new Error('it has no tokenizer in its metadata');
      this.model = { ...checkpoint, name: name.replace(/\.safetensors$/i, ''), tokenizer: checkpoint.tokenizer, seed: this.model.seed, checkpoint: name };
      this.session?.destroy();
      this.session = null;
      this.replacedModel();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.notice = `The trained model ${name} could not be loaded (${reason}), so this model starts from random weights.`;
    }
    return this.info();
  }

  tokenize(text: string): Tokenization {
    const { tokenizer, config } = this.model;
    const { ids, unknown } = tokenizer.encodeWithReport(text);
    const pieces = [...text];
    const dropped = Math.max(0, ids.length - config.blockSize);
    const kept = ids.slice(dropped);
    return {
      ids: kept,
      tokens: kept.map((id) => tokenizer.token(id)),
      pieces: pieces.slice(dropped),
      unknown,
      dropped,
      truncated: dropped > 0,
    };
  }

  /** The next-token distribution after the prompt's last token. */
  async predict(text: string, options: PredictOptions): Promise<Prediction> {
    const ids = this.contextIds(text);
    const { logits } = await this.run(ids, { lastOnly: true });
    const probs = nextTokenProbabilities(logits, options);
    const top = this.mostLikely(probs, options.top ?? DEFAULT_TOP);
    const rest = Math.max(0, 1 - top.reduce((sum, entry) => sum + entry.prob, 0));
    const prediction = { top, rest, probs: ownedArray(probs), contextLength: ids.length };
    return this.transfer(prediction, [prediction.probs.buffer as ArrayBuffer]);
  }

  /** Logits for every position (and, with capture, the model's insides) for text or token ids. */
  async forward(input: string | readonly number[], options: { capture?: boolean } = {}): Promise<ForwardOutput> {
    const ids = typeof input === 'string' ? this.contextIds(input) : [...input];
    const result = await this.run(ids, { capture: options.capture ?? false });
    const output: ForwardOutput = { ids, logits: ownedArray(result.logits) };
    if (result.capture) output.capture = ownCapture(result.capture);
    return this.transfer(output, transferList(output));
  }

  /** Samples one next token; the same prompt, options and seed always give the same token. */
  async step(text: string, sampling: SamplingOptions, seed: number): Promise<StreamedToken> {
    for await (const drawn of this.sample(this.contextIds(text), { ...sampling, maxTokens: 1, seed })) {
      return this.describe(0, drawn.id, drawn.probs);
    }
    throw new Error('no token was drawn');
  }

  /**
   * Streams up to maxTokens tokens to onToken, in order, waiting for each call to
   * finish (a Comlink proxy answers once the page has run it). Between tokens it yields
   * to the event loop so a cancel() (or a newer generate, which cancels this one)
   * can arrive; it then returns what it has with stopped: true.
   */
  async generate(
    prompt: string,
    request: GenerateRequest,
    onToken: (token: StreamedToken) => unknown,
  ): Promise<GenerateResult> {
    const generation = ++this.activeGeneration;
    const tokens = this.sample(this.contextIds(prompt), request);
    const ids: number[] = [];
    let stopped = false;
    while (ids.length < request.maxTokens) {
      await nextMacrotask();
      if (generation !== this.activeGeneration) {
        stopped = true;
        break;
      }
      const next = await tokens.next();
      if (next.done) break;
      ids.push(next.value.id);
      // Waiting for the page to take each token keeps it in step, and every token is
      // delivered before the result (callbacks and results travel on different ports).
      await onToken(this.describe(ids.length - 1, next.value.id, next.value.probs));
    }
    await tokens.return(undefined);
    return { text: this.model.tokenizer.decode(ids), ids, stopped };
  }

  /** Stops the running generation, if any, before its next token. */
  cancel(): void {
    this.activeGeneration++;
  }

  /** The weights were replaced: caches move on, and the next save is a new saved model. */
  private replacedModel(): void {
    this.modelVersion++;
    this.notice = undefined;
    this.library.forget();
  }

  /** Saves during or after training; a failure is reported, never thrown into the training loop. */
  private async autosave(session: TrainingSession): Promise<AutosaveReport> {
    if (this.session !== session) return {};
    try {
      return { saved: await this.saveModel() };
    } catch (error) {
      return { saveProblem: messageOf(error) };
    }
  }

  /** The model in use, with its training state when it trains here. */
  private async modelToSave(): Promise<ModelToSave> {
    const { name, config, tokenizer, seed, checkpoint } = this.model;
    const model: ModelToSave = { name, config, tokenizer, seed, params: this.model.params.data, training: null, corpus: null };
    if (this.session) Object.assign(model, await this.session.saveState());
    else if (checkpoint) model.source = checkpoint;
    return model;
  }

  /** Makes a saved record the model in use; one saved while training resumes its training. */
  private async adopt(record: CheckpointRecord): Promise<void> {
    const config = validateConfig(record.config);
    const tokenizer = CharTokenizer.fromJSON(record.tokenizer);
    const params = createParameters(config, record.params);
    let session: TrainingSession | null = null;
    if (record.training && record.corpus) {
      await this.backendReady;
      const corpus = PreparedCorpus.fromStored(record.corpus);
      session = await TrainingSession.resume(corpus, config, record.seed, record.training, record.params, await this.activeBackendFactory());
      if (this.timelapseSettings) await session.setTimelapse(this.timelapseSettings);
    }
    this.cancel();
    this.session?.destroy();
    this.session = session;
    this.model = { name: record.name, config, params: session?.params ?? params, tokenizer, seed: record.seed };
    if (record.source) this.model.checkpoint = record.source;
    this.modelVersion++;
    this.notice = undefined;
  }

  /** Token ids the model reads for a prompt: its last blockSize tokens, or the start token when empty. */
  private contextIds(text: string): number[] {
    const { tokenizer, config } = this.model;
    const ids = text.length > 0 ? tokenizer.encode(text) : tokenizer.encode(EMPTY_PROMPT_START);
    return ids.slice(-config.blockSize);
  }

  /**
   * One forward pass on the active backend: all logits [T, V], or with lastOnly
   * the last row [V]. When the GPU fails, the CPU takes over and answers.
   */
  private async run(ids: readonly number[], options: { capture?: boolean; lastOnly?: boolean }): Promise<ForwardResult> {
    await this.backendReady;
    if (this.activeBackend === 'webgpu') {
      try {
        return await (await this.inferenceOnGPU()).forward(ids, options);
      } catch (error) {
        if (!(error instanceof GPUFailure)) throw error;
        await this.fallBackToCPU(error.message);
      }
    }
    const result = forwardModel(await this.cpuParameters(), ids, { capture: options.capture ?? false });
    if (!options.lastOnly) return result;
    const { vocabSize } = this.model.config;
    return { logits: result.logits.subarray((ids.length - 1) * vocabSize) };
  }

  /** Sampled tokens after ids, on the active backend; a GPU failure part way hands the rest to the CPU. */
  private async *sample(ids: readonly number[], request: GenerateRequest): AsyncGenerator<GeneratedToken> {
    await this.backendReady;
    const drawn: number[] = [];
    if (this.activeBackend === 'webgpu') {
      try {
        for await (const token of generateOnGPU(await this.inferenceOnGPU(), ids, request)) {
          drawn.push(token.id);
          yield token;
        }
        return;
      } catch (error) {
        if (!(error instanceof GPUFailure)) throw error;
        await this.fallBackToCPU(error.message);
      }
    }
    const context = [...ids, ...drawn].slice(-this.model.config.blockSize);
    yield* generateTokens(await this.cpuParameters(), context, { ...request, maxTokens: request.maxTokens - drawn.length });
  }

  /** The weights on the CPU: the trainer's, read back first if the GPU trains them. */
  private async cpuParameters(): Promise<ParameterTensors> {
    return this.session ? this.session.currentParameters() : this.model.params;
  }

  /** The GPU inference model for the current shape, holding the current weights. */
  private async inferenceOnGPU(): Promise<GPUModel> {
    const gpu = await this.gpuContext();
    if (!gpu) throw new GPUFailure('the GPU is no longer available');
    const { config } = this.model;
    if (!this.gpuModel || !(sameShape(this.gpuModel.config, config) && this.gpuModel.config.tied === config.tied)) {
      this.gpuModel?.destroy();
      this.gpuModel = new GPUModel(gpu, config);
      this.gpuWeights = null;
    }
    const key = `${this.modelVersion}:${this.session?.step ?? 0}`;
    if (this.gpuWeights !== key) {
      const trainer = this.session?.trainingBackend;
      // Weights the GPU trains are copied on the GPU; nothing comes back to the CPU.
      if (trainer instanceof GPUTrainer) this.gpuModel.copyParametersFrom(trainer.params);
      else this.gpuModel.setParameters((await this.cpuParameters()).data);
      this.gpuWeights = key;
    }
    return this.gpuModel;
  }

  /** Looks for a GPU once, and again after the one found was lost. */
  private async gpuContext(): Promise<GPUContext | null> {
    this.gpu ??= this.findGPU();
    let gpu = await this.gpu;
    if (gpu?.lostReason) {
      this.gpu = this.findGPU();
      this.gpuModel = null;
      gpu = await this.gpu;
    }
    this.gpuFound = gpu;
    return gpu;
  }

  /** Applies a choice: decides the backend and moves inference and training there. */
  private async choose(choice: BackendChoice): Promise<void> {
    const gpu = await this.gpuContext();
    const { active, reason } = decideBackend(choice, gpu);
    if (active !== this.activeBackend) {
      if (this.session) await this.session.useBackend(active === 'webgpu' ? gpuBackend(gpu!) : cpuBackend);
      this.activeBackend = active;
      this.gpuWeights = null;
    }
    this.backendChoice = choice;
    this.backendReason = reason;
  }

  /** Where a new model trains: the active backend. */
  private async activeBackendFactory(): Promise<BackendFactory> {
    const gpu = this.activeBackend === 'webgpu' ? await this.gpuContext() : null;
    return gpu ? gpuBackend(gpu) : cpuBackend;
  }

  /** The GPU failed: the CPU takes over inference, and training from its last backup. */
  private async fallBackToCPU(message: string): Promise<void> {
    if (this.activeBackend === 'cpu') return;
    this.activeBackend = 'cpu';
    this.backendReason = `${capitalize(message)}; the CPU took over.`;
    this.backendNews = true;
    this.gpuModel = null;
    this.gpuWeights = null;
    await this.session?.useBackend(cpuBackend);
  }

  /** Adds what the page must know about the backend to a training report. */
  private withBackend(progress: SessionProgress): TrainingProgress {
    if (progress.fellBack) {
      this.activeBackend = 'cpu';
      this.backendReason = `${capitalize(progress.fellBack.message)}.`;
      this.backendNews = true;
    }
    if (!this.backendNews) return progress;
    this.backendNews = false;
    return { ...progress, backend: this.describeBackend() };
  }

  private describeBackend(): BackendInfo {
    return backendInfo(this.backendChoice, this.activeBackend, this.backendReason, this.gpuFound);
  }

  private mostLikely(probs: Float32Array, count: number): TokenProbability[] {
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
    return order.slice(0, count).map((id) => ({ id, token: this.model.tokenizer.token(id), prob: probs[id]! }));
  }

  private describe(index: number, id: number, probs: Float32Array): StreamedToken {
    return { index, id, token: this.model.tokenizer.token(id), prob: probs[id]! };
  }
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);


/** A model name as a file name: letters, digits, dashes. */
const safeFileName = (name: string): string => name.trim().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-|-$/g, '') || 'model';

/**
 * A transferable copy of `array` unless it already owns its whole buffer:
 * transferring a view would hand over (and detach) the larger buffer behind it.
 */
function ownedArray<T extends Float32Array | Uint8Array>(array: T): T {
  const ownsBuffer = array.byteOffset === 0 && array.byteLength === array.buffer.byteLength;
  return ownsBuffer ? array : (array.slice() as T);
}

function ownCapture(capture: Capture): Capture {
  return {
    tokenEmbedding: ownedArray(capture.tokenEmbedding),
    positionEmbedding: ownedArray(capture.positionEmbedding),
    layers: capture.layers.map((layer) => ({
      scores: ownedArray(layer.scores),
      mask: ownedArray(layer.mask),
      pattern: ownedArray(layer.pattern),
      mlpPre: ownedArray(layer.mlpPre),
      mlpPost: ownedArray(layer.mlpPost),
      residAfterAttn: ownedArray(layer.residAfterAttn),
      residAfterMlp: ownedArray(layer.residAfterMlp),
    })),
  };
}

/** A deep copy in which every typed array has a buffer of its own. */
function ownCopy<T>(value: T): T {
  if (ArrayBuffer.isView(value)) return (value as unknown as Float32Array).slice() as T;
  if (Array.isArray(value)) return value.map(ownCopy) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, ownCopy(item)])) as T;
  return value;
}

/** Every distinct buffer behind the typed arrays in a value (listing a buffer twice makes postMessage throw). */
function buffersIn(value: unknown, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) found.add(value.buffer as ArrayBuffer);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) buffersIn(item, found);
  return [...found];
}

/** Every distinct buffer in a forward output (listing a buffer twice makes postMessage throw). */
export function transferList(output: ForwardOutput): ArrayBuffer[] {
  const arrays: (Float32Array | Uint8Array)[] = [output.logits];
  if (output.capture) {
    const { tokenEmbedding, positionEmbedding, layers } = output.capture;
    arrays.push(tokenEmbedding, positionEmbedding);
    for (const layer of layers) arrays.push(...Object.values(layer));
  }
  return [...new Set(arrays.map((array) => array.buffer as ArrayBuffer))];
}
