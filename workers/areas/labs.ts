/** The labs area: the concept labs' math (labs/*.ts), and the model in use where a lab asks about it. */
import type {
  ActiveModelCount,
  AngleHistogram,
  FactMlpResult,
  FactMlpSetup,
  LabsApi,
  ModelLogits,
  NamedConfig,
  PackingFrame,
  PackingRequest,
  ParameterBreakdown,
  SoftmaxResult,
} from '../api/labs.ts';
import { type GPTConfig, validateConfig } from '../engine/config.ts';
import { factMlp } from '../labs/fact-mlp.ts';
import { activeModelCount, knownConfigs, parameterBreakdown } from '../labs/parameters.ts';
import { modelLogits, sampleCounts, softmax } from '../labs/softmax.ts';
import { packVectors, randomAngles } from '../labs/superposition.ts';
import type { ActiveModel } from './active-model.ts';
import { inspectedIds } from './inspector.ts';

export class LabsArea implements LabsApi {
  constructor(private readonly active: ActiveModel) {}

  async softmax(logits: number[], temperature: number): Promise<SoftmaxResult> {
    return softmax(logits, temperature);
  }

  async sampleCounts(logits: number[], temperature: number, draws: number, seed: number): Promise<number[]> {
    return sampleCounts(logits, temperature, draws, seed);
  }

  async modelLogits(text: string, count: number): Promise<ModelLogits> {
    const { model, params } = await this.active.use();
    // Read as the inspector reads it (GPT-2 small: its last 293 tokens), so the logits of every position stay small.
    return modelLogits(params, model.tokenizer, inspectedIds(model, text).ids, count);
  }

  async knownConfigs(): Promise<NamedConfig[]> {
    return knownConfigs();
  }

  async parameterBreakdown(config: GPTConfig): Promise<ParameterBreakdown> {
    return parameterBreakdown(validateConfig(config));
  }

  async activeModelCount(): Promise<ActiveModelCount> {
    return activeModelCount(this.active.model.params);
  }

  async randomAngles(dimension: number, count: number, seed: number, bins: number): Promise<AngleHistogram> {
    return randomAngles(dimension, count, seed, bins);
  }

  packVectors(request: PackingRequest, onFrame: (frame: PackingFrame) => unknown): Promise<PackingFrame> {
    return packVectors(request, (frame) => void onFrame(frame));
  }

  async factMlp(setup: FactMlpSetup): Promise<FactMlpResult> {
    return factMlp(setup);
  }
}
