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
  StepSentence,
  StepSentences,
  TrainingStepResult,
} from '../api/labs.ts';
import { type GPTConfig, validateConfig } from '../engine/config.ts';
import {
  corpusSentences,
  STEP_LEARNING_RATE,
  StepCloseUp,
  stepCloseUpProblem,
  stepSentence,
  targetLosses,
} from '../engine/step-close-up.ts';
import { DEFAULT_TRAINING } from '../engine/train.ts';
import { factMlp } from '../labs/fact-mlp.ts';
import { activeModelCount, knownConfigs, parameterBreakdown } from '../labs/parameters.ts';
import { modelLogits, sampleCounts, softmax } from '../labs/softmax.ts';
import { packVectors, randomAngles } from '../labs/superposition.ts';
import { readCorpus } from '../prepared-corpus.ts';
import type { ActiveModel, LoadedModel } from './active-model.ts';
import { inspectedIds } from './inspector.ts';

/** The close-up's training copy, and the sentence and model it was made for. */
interface StepCopy {
  sentence: string;
  version: number;
  closeUp: StepCloseUp;
}

export class LabsArea implements LabsApi {
  private stepCopy: StepCopy | null = null;

  constructor(private readonly active: ActiveModel) {
    // A new model (or a training reset) drops the copy of the old one.
    active.onChange(() => (this.stepCopy = null));
  }

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

  async stepSentences(count: number): Promise<StepSentences> {
    const { config, tokenizer, session } = this.active.model;
    const refusal = stepCloseUpProblem(config);
    if (refusal) return { corpus: '', sentences: [], refusal };
    // A model trained here learned from its session's corpus; the shipped one (or one imported) from the built-in one.
    const { name, text } = session?.corpus ?? (await readCorpus({ kind: 'builtin' }));
    return { corpus: name, sentences: corpusSentences(text, tokenizer, config.blockSize, count) };
  }

  async trainingStep(sentence: string): Promise<TrainingStepResult> {
    const { model, params } = await this.active.use();
    const { version } = this.active;
    const ids = model.tokenizer.encode(sentence);
    const copy = this.stepCopy;
    const closeUp = copy?.sentence === sentence && copy.version === version ? copy.closeUp : new StepCloseUp(params, ids);
    this.stepCopy = { sentence, version, closeUp };
    return { ...(await closeUp.step()), tokens: tokensOf(model, ids) };
  }

  async startStep(sentence: string): Promise<StepSentence> {
    this.stepCopy = null;
    const { model, params } = await this.active.use();
    const ids = model.tokenizer.encode(sentence);
    const { inputs, targets } = stepSentence(ids, model.config);
    const { losses, probs } = targetLosses(params, inputs, targets);
    return {
      tokens: tokensOf(model, ids),
      targets,
      loss: losses,
      prob: probs,
      learningRate: STEP_LEARNING_RATE,
      trainingLearningRate: DEFAULT_TRAINING.learningRate,
    };
  }
}

const tokensOf = (model: LoadedModel, ids: readonly number[]): string[] => ids.map((id) => model.tokenizer.token(id));
