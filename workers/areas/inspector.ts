/**
 * The inspector area: the questions of the panels that look inside the model
 * (engine/inspect.ts answers them), on the CPU from the weights in use, and the
 * training time-lapse.
 */
import type {
  ContextualSimilarity,
  EmbeddingMap,
  FactPrompt,
  HeadUpdate,
  Inspection,
  InspectorApi,
  Interventions,
  LensLayer,
  Neighbour,
  NeuronReport,
  TimelapseFrame,
  TimelapseSettings,
  TokenAngle,
  TokenDirections,
} from '../api/inspector.ts';
import { FACTS } from '../corpus/facts.ts';
import {
  contextualSimilarity,
  embeddingMap,
  factPrompts,
  headUpdates,
  inspect,
  logitLens,
  nearestTokens,
  positionSimilarity,
  tokenAngle,
  tokenArithmetic,
  tokenDirections,
  topNeurons,
} from '../engine/inspect.ts';
import type { ParameterTensors } from '../engine/params.ts';
import type { Tokenizer } from '../engine/tokenizer.ts';
import { type ActiveModel, contextIds } from './active-model.ts';
import type { TrainingArea } from './training.ts';
import { type TransferFunction, transferCopy } from './transfer.ts';

/** What an answer is computed from: the weights in use, the tokenizer, and a prompt's token ids. */
type Compute<T> = (params: ParameterTensors, tokenizer: Tokenizer, ids: (text: string) => number[]) => T;

export class InspectorArea implements InspectorApi {
  constructor(
    private readonly active: ActiveModel,
    private readonly training: TrainingArea,
    private readonly transfer: TransferFunction,
  ) {}

  inspect(text: string, interventions: Interventions = {}): Promise<Inspection> {
    return this.answer((params, tokenizer, ids) => inspect(params, tokenizer, ids(text), interventions));
  }

  headUpdates(text: string, position: number): Promise<HeadUpdate[]> {
    return this.answer((params, tokenizer, ids) => headUpdates(params, tokenizer, ids(text), position));
  }

  topNeurons(text: string, position: number, layer: number, count: number): Promise<NeuronReport> {
    return this.answer((params, tokenizer, ids) => topNeurons(params, tokenizer, ids(text), position, layer, count));
  }

  async factPrompts(): Promise<FactPrompt[]> {
    const { tokenizer, config } = this.active.model;
    return factPrompts(tokenizer, FACTS, config.blockSize);
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

  embeddingMap(): Promise<EmbeddingMap> {
    return this.answer((params, tokenizer) => embeddingMap(params, tokenizer));
  }

  positionSimilarity(): Promise<Float32Array> {
    return this.answer((params) => positionSimilarity(params));
  }

  contextualSimilarity(
    first: { text: string; position: number },
    second: { text: string; position: number },
  ): Promise<ContextualSimilarity> {
    return this.answer((params, tokenizer, ids) =>
      contextualSimilarity(
        params,
        tokenizer,
        { ids: ids(first.text), position: first.position },
        { ids: ids(second.text), position: second.position },
      ),
    );
  }

  logitLens(text: string, position: number, count: number): Promise<LensLayer[]> {
    return this.answer((params, tokenizer, ids) => logitLens(params, tokenizer, ids(text), position, count));
  }

  async timelapse(): Promise<TimelapseFrame[]> {
    return transferCopy(this.transfer, this.training.timelapse());
  }

  setTimelapse(settings: TimelapseSettings): Promise<void> {
    return this.training.setTimelapse(settings);
  }

  /** An answer from the model in use (its weights on the CPU); its arrays are copied to the page. */
  private async answer<T>(compute: Compute<T>): Promise<T> {
    const { model, params } = await this.active.use();
    return transferCopy(
      this.transfer,
      compute(params, model.tokenizer, (text) => contextIds(model, text)),
    );
  }
}
