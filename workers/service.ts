/**
 * The engine service: everything the page may ask of the model, as one plain
 * class. The worker (engine.worker.ts) exposes an instance through Comlink; tests
 * can also call it directly. It never touches the DOM.
 *
 * Large arrays (probabilities, logits, captured activations) are returned through
 * `transfer`, which the worker sets to Comlink.transfer so their buffers move to
 * the page instead of being copied.
 */
import { download, fileName } from './download.ts';
import { readCheckpoint } from './engine/checkpoint.ts';
import { type GPTConfig, validateConfig } from './engine/config.ts';
import { DEFAULT_CONFIG, DEFAULT_SEED, defaultTokenizer } from './engine/defaults.ts';
import { generate as generateTokens } from './engine/generate.ts';
import { type Capture, forward as forwardModel } from './engine/model.ts';
import { countParameters, initParameters, type ParameterCounts, type ParameterTensors } from './engine/params.ts';
import { nextTokenProbabilities, type SamplingOptions } from './engine/sampling.ts';
import { MODEL_PRESETS, type ModelPreset } from './engine/presets.ts';
import type { CharTokenizer } from './engine/tokenizer.ts';
import {
  type CorpusSource,
  type CorpusSummary,
  type NewModelRequest,
  nextMacrotask,
  PreparedCorpus,
  readCorpus,
  TRAINING_DEFAULTS,
  type TrainingOutcome,
  type TrainingProgress,
  TrainingSession,
  type TrainingState,
} from './training-session.ts';

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
  TrainingProgress,
  TrainingSample,
  TrainingState,
} from './training-session.ts';

/** Marks `value` so the listed buffers are moved, not copied, when it crosses to the page. */
export type TransferFunction = <T>(value: T, transfers: Transferable[]) => T;

/**
 * 'random': freshly initialised, not trained; 'training': being trained here, part way;
 * 'trained': read from a checkpoint, or trained here to the last step.
 */
export type WeightsState = 'random' | 'training' | 'trained';

export interface ModelInfo {
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
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer: CharTokenizer;
  seed: number;
  checkpoint?: string;
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

  constructor(options: { transfer?: TransferFunction } = {}) {
    this.transfer = options.transfer ?? ((value) => value);
    this.model = {
      config: DEFAULT_CONFIG,
      params: initParameters(DEFAULT_CONFIG, DEFAULT_SEED),
      tokenizer: defaultTokenizer(),
      seed: DEFAULT_SEED,
    };
  }

  info(): ModelInfo {
    const { config, tokenizer, seed, checkpoint } = this.model;
    const session = this.session;
    const step = session?.step ?? 0;
    const info: ModelInfo = {
      config: { ...config },
      parameters: countParameters(config),
      vocabulary: [...tokenizer.vocab],
      seed,
      weights: this.weightsState(),
      step,
    };
    if (session) info.corpus = session.corpus.name;
    else if (checkpoint) info.checkpoint = checkpoint;
    if (this.notice) info.notice = this.notice;
    return info;
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
    const session = new TrainingSession(new PreparedCorpus(name, text), request.size, request.seed, request.training);
    this.session?.pause();
    this.cancel();
    this.session = session;
    this.model = { config: session.config, params: session.params, tokenizer: session.corpus.tokenizer, seed: session.seed };
    this.notice = undefined;
    return { corpus: session.corpus.summary, model: this.info() };
  }

  /**
   * Trains until pause(), reset(), a new model, the last step, or a loss that is
   * not finite. Progress goes to onProgress (a few times a second, and whenever
   * a validation loss or a sample is new); between steps other requests are answered.
   */
  play(onProgress: (progress: TrainingProgress) => unknown): Promise<TrainingOutcome> {
    return this.training().play(onProgress);
  }

  pause(): void {
    this.session?.pause();
  }

  /** One training step (a running play stops first). */
  stepOnce(): TrainingProgress {
    return this.training().stepOnce();
  }

  /** Back to the initial weights of the same seed; the history starts again. */
  reset(): ModelInfo {
    this.training().reset();
    return this.info();
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
      this.model = { ...checkpoint, tokenizer: checkpoint.tokenizer, seed: this.model.seed, checkpoint: name };
      this.notice = undefined;
      this.session?.pause();
      this.session = null;
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
  predict(text: string, options: PredictOptions): Prediction {
    const ids = this.contextIds(text);
    const probs = nextTokenProbabilities(this.lastLogits(ids), options);
    const top = this.mostLikely(probs, options.top ?? DEFAULT_TOP);
    const rest = Math.max(0, 1 - top.reduce((sum, entry) => sum + entry.prob, 0));
    const prediction = { top, rest, probs: ownedArray(probs), contextLength: ids.length };
    return this.transfer(prediction, [prediction.probs.buffer as ArrayBuffer]);
  }

  /** Logits for every position (and, with capture, the model's insides) for text or token ids. */
  forward(input: string | readonly number[], options: { capture?: boolean } = {}): ForwardOutput {
    const ids = typeof input === 'string' ? this.contextIds(input) : [...input];
    const result = forwardModel(this.model.params, ids, { capture: options.capture ?? false });
    const output: ForwardOutput = { ids, logits: ownedArray(result.logits) };
    if (result.capture) output.capture = ownCapture(result.capture);
    return this.transfer(output, transferList(output));
  }

  /** Samples one next token; the same prompt, options and seed always give the same token. */
  step(text: string, sampling: SamplingOptions, seed: number): StreamedToken {
    const ids = this.contextIds(text);
    const [drawn] = generateTokens(this.model.params, ids, { ...sampling, maxTokens: 1, seed });
    return this.describe(0, drawn!.id, drawn!.probs);
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
    const tokens = generateTokens(this.model.params, this.contextIds(prompt), request);
    const ids: number[] = [];
    let stopped = false;
    while (ids.length < request.maxTokens) {
      await nextMacrotask();
      if (generation !== this.activeGeneration) {
        stopped = true;
        break;
      }
      const next = tokens.next();
      if (next.done) break;
      ids.push(next.value.id);
      // Waiting for the page to take each token keeps it in step, and every token is
      // delivered before the result (callbacks and results travel on different ports).
      await onToken(this.describe(ids.length - 1, next.value.id, next.value.probs));
    }
    tokens.return(undefined);
    return { text: this.model.tokenizer.decode(ids), ids, stopped };
  }

  /** Stops the running generation, if any, before its next token. */
  cancel(): void {
    this.activeGeneration++;
  }

  /** Token ids the model reads for a prompt: its last blockSize tokens, or the start token when empty. */
  private contextIds(text: string): number[] {
    const { tokenizer, config } = this.model;
    const ids = text.length > 0 ? tokenizer.encode(text) : tokenizer.encode(EMPTY_PROMPT_START);
    return ids.slice(-config.blockSize);
  }

  private lastLogits(ids: readonly number[]): Float32Array {
    const { vocabSize } = this.model.config;
    const { logits } = forwardModel(this.model.params, ids);
    return logits.subarray((ids.length - 1) * vocabSize, ids.length * vocabSize);
  }

  private mostLikely(probs: Float32Array, count: number): TokenProbability[] {
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
    return order.slice(0, count).map((id) => ({ id, token: this.model.tokenizer.token(id), prob: probs[id]! }));
  }

  private describe(index: number, id: number, probs: Float32Array): StreamedToken {
    return { index, id, token: this.model.tokenizer.token(id), prob: probs[id]! };
  }
}

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
