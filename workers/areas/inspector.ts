/**
 * The inspector area: the questions of the panels that look inside the model
 * (engine/inspect.ts answers them), on the CPU from the weights in use, and the
 * training time-lapse. A prompt is read as its last captureLength(config)
 * tokens (blockSize for the small models, 293 for GPT-2 small). The last
 * prompt's activations are kept while they are small enough, so the questions
 * that follow an inspection (each head's update, each layer's neurons, the
 * lens at another token) do not run the model again.
 */
import type {
  ContextualSimilarity,
  EmbeddingMap,
  FactPrompt,
  HeadMatrices,
  HeadUpdate,
  Inspection,
  InspectorApi,
  Interventions,
  LensLayer,
  MatrixChoice,
  Neighbour,
  NeuronReport,
  PromptOdds,
  TimelapseFrame,
  TimelapseSettings,
  TokenAngle,
  TokenDirections,
} from '../api/inspector.ts';
import { FACTS } from '../corpus/facts.ts';
import {
  activationsOf,
  contextualSimilarity,
  embeddingMap,
  factPrompts,
  headUpdates,
  inspect,
  logitLens,
  nearestTokens,
  positionSimilarity,
  promptOdds,
  tokenAngle,
  tokenArithmetic,
  tokenDirections,
  topNeurons,
} from '../engine/inspect.ts';
import { headMatrices } from '../engine/matrices.ts';
import { type ActivationTensors, captureLength } from '../engine/model.ts';
import type { ParameterTensors } from '../engine/params.ts';
import type { Tokenizer } from '../engine/tokenizer.ts';
import { type ActiveModel, EMPTY_PROMPT_START, type LoadedModel } from './active-model.ts';
import type { TrainingArea } from './training.ts';
import { type TransferFunction, transferCopy, transferFresh } from './transfer.ts';

/** A prompt as the inspector reads it: its last captureLength tokens, and how many came before them. */
interface Read {
  ids: number[];
  dropped: number;
}

/** What an answer is computed from: the weights in use, the tokenizer, and how a prompt is read. */
type Compute<T> = (params: ParameterTensors, tokenizer: Tokenizer, read: (text: string) => Read) => T;

/**
 * Activations kept for the next question about the same prompt, when they take at most this many bytes: a 64-token
 * prompt on GPT-2 small takes 57 MB (12 layers' attention, MLP and residual rows, and the logits), its longest
 * inspected prompt (293 tokens) 338 MB, which is not kept (up to about 159 tokens are).
 */
const KEPT_ACTIVATION_BYTES = 160 * 2 ** 20;

/** A prompt's token ids as the inspector reads them. */
export function inspectedIds(model: LoadedModel, text: string): Read {
  const all = model.tokenizer.encode(text.length > 0 ? text : EMPTY_PROMPT_START);
  const ids = all.slice(-captureLength(model.config));
  return { ids, dropped: all.length - ids.length };
}

export class InspectorArea implements InspectorApi {
  constructor(
    private readonly active: ActiveModel,
    private readonly training: TrainingArea,
    private readonly transfer: TransferFunction,
  ) {
    active.onChange(() => (this.kept = null));
  }

  /** The last prompt's activations, with the weights and ids they were computed from. */
  private kept: { params: ParameterTensors; version: number; key: string; acts: ActivationTensors } | null = null;

  inspect(text: string, interventions: Interventions = {}): Promise<Inspection> {
    return this.answer((params, tokenizer, read) => {
      const { ids, dropped } = read(text);
      this.release(ids);
      const inspection = inspect(params, tokenizer, ids, interventions);
      return dropped > 0 ? { ...inspection, dropped } : inspection;
    });
  }

  odds(text: string, interventions: Interventions = {}): Promise<PromptOdds> {
    return this.answer((params, tokenizer, read) => {
      const { ids, dropped } = read(text);
      const prediction = promptOdds(params, tokenizer, ids, interventions);
      return dropped > 0 ? { ...prediction, dropped } : prediction;
    });
  }

  headUpdates(text: string, position: number): Promise<HeadUpdate[]> {
    return this.answer((params, tokenizer, read) => {
      const { ids } = read(text);
      return headUpdates(params, tokenizer, ids, position, undefined, this.activations(params, ids));
    });
  }

  topNeurons(text: string, position: number, layer: number, count: number): Promise<NeuronReport> {
    return this.answer((params, tokenizer, read) => {
      const { ids } = read(text);
      return topNeurons(params, tokenizer, ids, position, layer, count, undefined, this.activations(params, ids));
    });
  }

  async factPrompts(): Promise<FactPrompt[]> {
    const { tokenizer, config } = this.active.model;
    return factPrompts(tokenizer, FACTS, captureLength(config));
  }

  nearestTokens(token: number, count: number): Promise<Neighbour[]> {
    return this.answer((params, tokenizer) => nearestTokens(params, tokenizer, token, count));
  }

  tokenArithmetic(a: number, b: number, c: number, count: number): Promise<Neighbour[]> {
    return this.answer((params, tokenizer) => tokenArithmetic(params, tokenizer, a, b, c, count));
  }

  tokenAngle(a: number, b: number): Promise<TokenAngle> {
    return this.answer((params) => tokenAngle(params, a, b));
  }

  tokenDirections(a: number, b: number, c: number, d: number, count: number): Promise<TokenDirections> {
    return this.answer((params, tokenizer) => tokenDirections(params, tokenizer, [a, b, c, d], count));
  }

  embeddingMap(ids?: number[]): Promise<EmbeddingMap> {
    return this.answer((params, tokenizer) => embeddingMap(params, tokenizer, ids));
  }

  positionSimilarity(): Promise<Float32Array> {
    return this.answer((params) => positionSimilarity(params));
  }

  contextualSimilarity(
    first: { text: string; position: number },
    second: { text: string; position: number },
  ): Promise<ContextualSimilarity> {
    // Positions count in the tokens tokenize() gives (the last blockSize); the inspector reads the last captureLength.
    const placed = (read: (text: string) => Read, { text, position }: { text: string; position: number }) => {
      const { ids, dropped } = read(text);
      const cut = Math.min(ids.length + dropped, this.active.model.config.blockSize) - ids.length;
      if (position < cut) {
        throw new Error(`token ${position} is before the last ${ids.length} tokens, the most the inspector reads of this model`);
      }
      return { ids, position: position - cut };
    };
    return this.answer((params, tokenizer, read) =>
      contextualSimilarity(params, tokenizer, placed(read, first), placed(read, second)),
    );
  }

  logitLens(text: string, position: number, count: number): Promise<LensLayer[]> {
    return this.answer((params, tokenizer, read) => {
      const { ids } = read(text);
      return logitLens(params, tokenizer, ids, position, count, this.activations(params, ids));
    });
  }

  headMatrices(text: string, choice: MatrixChoice): Promise<HeadMatrices> {
    return this.answer((params, tokenizer, read) => {
      const { ids, dropped } = read(text);
      const matrices = headMatrices(params, tokenizer, ids, choice, this.activations(params, ids));
      return dropped > 0 ? { ...matrices, dropped } : matrices;
    });
  }

  async timelapse(): Promise<TimelapseFrame[]> {
    return transferCopy(this.transfer, this.training.timelapse());
  }

  setTimelapse(settings: TimelapseSettings): Promise<void> {
    return this.training.setTimelapse(settings);
  }

  /**
   * An answer from the model in use (its weights on the CPU). Its arrays are made for it, so they move to the page
   * (a view into a bigger buffer is copied first): GPT-2 small's captured insides are not held twice.
   */
  private async answer<T>(compute: Compute<T>): Promise<T> {
    const { model, params } = await this.active.use();
    return transferFresh(
      this.transfer,
      compute(params, model.tokenizer, (text) => inspectedIds(model, text)),
    );
  }

  /**
   * Lets the kept activations go unless they are of these ids: an inspection of another prompt must not hold them
   * beside its own (GPT-2 small: 498 MB of weights, up to 338 MB of activations and 256 MB of capture).
   */
  private release(ids: number[]): void {
    if (this.kept && this.kept.key !== ids.join(',')) this.kept = null;
  }

  /** The prompt's activations: the kept ones when they are of the same weights and ids, else computed (and kept when small). */
  private activations(params: ParameterTensors, ids: number[]): ActivationTensors {
    const key = ids.join(',');
    const { version, model } = this.active;
    const kept = this.kept;
    // Weights that train here change in place: never kept.
    if (kept && !model.session && kept.params === params && kept.version === version && kept.key === key) return kept.acts;
    this.kept = null; // the old ones can go while the new ones are made
    const acts = activationsOf(params, ids);
    const bytes = Object.values(acts).reduce(
      (total: number, value) => total + (ArrayBuffer.isView(value) ? value.byteLength : 0),
      0,
    );
    this.kept = !model.session && bytes <= KEPT_ACTIVATION_BYTES ? { params, version, key, acts } : null;
    return acts;
  }
}
