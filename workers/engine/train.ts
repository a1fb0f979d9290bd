/**
 * The training loop (nanoGPT's train.py, one step at a time so a page can
 * show each one): sample a batch, forward and backward, clip, AdamW update,
 * and every so often measure the loss on held-out text.
 */
import {
  type ActivationTensors, createActivationGradients, createActivations, crossEntropy, forwardActivations, lossAndGradients,
} from './model.ts';
import { type TokenDataset, sampleBatch } from './data.ts';
import { DEFAULT_SEED } from './defaults.ts';
import { AdamW, type AdamWSettings, clipGradientNorm, DEFAULT_ADAMW, learningRateAt, type Schedule } from './optimizer.ts';
import { createParameters, type ParameterTensors } from './params.ts';
import { Random } from './random.ts';

export interface TrainingSettings extends Schedule, AdamWSettings {
  /** Sequences per step. */
  batchSize: number;
  /** Tokens per sequence (at most the model's blockSize); each one is a training example. */
  seqLen: number;
  /** Largest gradient norm an update may use (Infinity: no clipping). */
  gradClip: number;
  /** Measure the validation loss every this many steps. */
  evalInterval: number;
  /** Batches the validation loss averages over. */
  evalBatches: number;
  /** Seeds the batch sampling: the same seed and start weights give the same run. */
  seed: number;
}

/** Defaults that train every preset on the built-in corpus. */
export const DEFAULT_TRAINING: TrainingSettings = {
  learningRate: 3e-3,
  minLearningRate: 3e-4,
  warmupSteps: 50,
  totalSteps: 2000,
  ...DEFAULT_ADAMW,
  batchSize: 12,
  seqLen: 64,
  gradClip: 1,
  evalInterval: 100,
  evalBatches: 8,
  seed: DEFAULT_SEED,
};

export interface StepReport {
  /** Steps done, this one included (1-based). */
  step: number;
  /** Mean training loss of this step's batch, before its update. */
  loss: number;
  learningRate: number;
  /** Gradient norm before clipping. */
  gradNorm: number;
  tokensSeen: number;
  /** Time the step took (the validation pass, if any, not included). */
  milliseconds: number;
  /** Present on steps where step % evalInterval === 0, and on step totalSteps. */
  validationLoss?: number;
}

/** The loss or a gradient stopped being a finite number. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

/** Validation batches come from their own seed, the same every time, so validation losses compare. */
const VALIDATION_SEED = 0x5eed;

function checkSettings(s: TrainingSettings, blockSize: number): void {
  const wholeNumbers = ['batchSize', 'seqLen', 'evalInterval', 'evalBatches', 'totalSteps'] as const;
  for (const key of wholeNumbers) {
    if (!Number.isInteger(s[key]) || s[key] < 1) throw new Error(`${key} must be a positive whole number, got ${s[key]}`);
  }
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) throw new Error(`warmupSteps must be a whole number, got ${s.warmupSteps}`);
  if (s.seqLen > blockSize) throw new Error(`seqLen ${s.seqLen} is longer than the model's context of ${blockSize}`);
  for (const key of ['learningRate', 'minLearningRate', 'weightDecay', 'eps'] as const) {
    if (!(s[key] >= 0 && Number.isFinite(s[key]))) throw new Error(`${key} must be a number ≥ 0, got ${s[key]}`);
  }
  for (const key of ['beta1', 'beta2'] as const) {
    if (!(s[key] >= 0 && s[key] < 1)) throw new Error(`${key} must be in [0, 1), got ${s[key]}`);
  }
  if (!(s.gradClip > 0)) throw new Error(`gradClip must be > 0, got ${s.gradClip}`);
}

export class Trainer {
  readonly params: ParameterTensors;
  readonly dataset: TokenDataset;
  readonly settings: TrainingSettings;
  readonly optimizer: AdamW;
  readonly grads: ParameterTensors;
  readonly history: { step: number; loss: number; validationLoss?: number }[] = [];
  private readonly random: Random;
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly acts: ActivationTensors;
  private readonly dacts: ActivationTensors;
  private steps = 0;
  private tokens = 0;

  /** Trains params in place. seqLen defaults to the smaller of 64 and the model's context. */
  constructor(params: ParameterTensors, dataset: TokenDataset, settings: Partial<TrainingSettings> = {}) {
    const { config } = params;
    const seqLen = settings.seqLen ?? Math.min(DEFAULT_TRAINING.seqLen, config.blockSize);
    this.settings = { ...DEFAULT_TRAINING, ...settings, seqLen };
    checkSettings(this.settings, config.blockSize);
    const { batchSize: B, seed } = this.settings;
    for (const [part, tokens] of [['training', dataset.train], ['validation', dataset.validation]] as const) {
      if (tokens.length < seqLen + 1) {
        throw new Error(`the ${part} text has ${tokens.length} tokens; windows of ${seqLen} need at least ${seqLen + 1}: use a longer text`);
      }
    }
    this.params = params;
    this.dataset = dataset;
    this.optimizer = new AdamW(config, this.settings);
    this.grads = createParameters(config);
    this.random = new Random(seed);
    this.inputs = new Int32Array(B * seqLen);
    this.targets = new Int32Array(B * seqLen);
    this.acts = createActivations(config, B, seqLen);
    this.dacts = createActivationGradients(config, B, seqLen);
  }

  get stepCount(): number {
    return this.steps;
  }

  get tokensSeen(): number {
    return this.tokens;
  }

  /**
   * One optimisation step. Throws TrainingDivergedError, before touching the
   * weights, if the loss or the gradients are not finite.
   */
  step(): StepReport {
    const started = performance.now();
    const { batchSize: B, seqLen: T, gradClip, evalInterval, totalSteps } = this.settings;
    const stepNumber = this.steps + 1;
    sampleBatch(this.dataset.train, B, T, this.random, this.inputs, this.targets);
    const loss = lossAndGradients(this.params, this.inputs, this.targets, B, T, this.grads, this.acts, this.dacts);
    if (!Number.isFinite(loss)) this.diverged(`the loss became ${loss}`, stepNumber);
    const gradNorm = clipGradientNorm(this.grads.data, gradClip);
    if (!Number.isFinite(gradNorm)) this.diverged(`the gradients became ${gradNorm}`, stepNumber);
    const learningRate = learningRateAt(this.steps, this.settings);
    this.optimizer.update(this.params, this.grads, learningRate);
    this.steps = stepNumber;
    this.tokens += B * T;
    const report: StepReport = {
      step: stepNumber, loss, learningRate, gradNorm, tokensSeen: this.tokens, milliseconds: performance.now() - started,
    };
    if (stepNumber % evalInterval === 0 || stepNumber === totalSteps) report.validationLoss = this.evaluate();
    this.history.push({ step: stepNumber, loss, validationLoss: report.validationLoss });
    return report;
  }

  /** Mean loss over evalBatches batches of the validation text (the same batches every time). */
  evaluate(): number {
    const { batchSize: B, seqLen: T, evalBatches } = this.settings;
    const random = new Random(VALIDATION_SEED);
    let total = 0;
    for (let i = 0; i < evalBatches; i++) {
      sampleBatch(this.dataset.validation, B, T, random, this.inputs, this.targets);
      forwardActivations(this.params, this.inputs, B, T, this.acts);
      total += crossEntropy(this.acts.logits, this.targets, this.params.config.vocabSize);
    }
    return total / evalBatches;
  }

  private diverged(what: string, step: number): never {
    throw new TrainingDivergedError(
      `training stopped at step ${step}: ${what}. The weights are kept as they were before this step; try a lower learning rate.`,
    );
  }
}
