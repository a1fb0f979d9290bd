/**
 * The training loop (nanoGPT's train.py, one step at a time so a page can
 * show each one): sample a batch, forward and backward, clip, AdamW update,
 * and every so often measure the loss on held-out text.
 */
import {
  type ActivationTensors,
  createActivationGradients,
  createActivations,
  crossEntropy,
  forwardActivations,
  lossAndGradients,
} from './model.ts';
import { excerpt } from '../api/errors.ts';
import { type TokenDataset, sampleBatch } from './data.ts';
import { DEFAULT_SEED } from './defaults.ts';
import { AdamW, type AdamWSettings, clipGradientNorm, DEFAULT_ADAMW, learningRateAt, type Schedule } from './optimizer.ts';
import { sharedFloats } from './gemm.ts';
import { createParameters, type ParameterTensors } from './params.ts';
import { ThreadedTraining, trainingThreads } from './train-threads.ts';
import { OneAtATime } from './one-at-a-time.ts';
import { Random, type RandomState } from './random.ts';

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

/** What happened when a backend failed: training went back to step `resumedFrom` and went on on the CPU. */
export interface Fallback {
  message: string;
  resumedFrom: number;
}

/** The loss or a gradient stopped being a finite number. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

/** Weights and AdamW moments, as flat arrays in params.ts layout: what one backend hands to another. */
export interface TrainingSnapshot {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** AdamW updates made so far (its bias corrections depend on it). */
  updates: number;
}

export interface BatchPair {
  inputs: Int32Array<ArrayBuffer>;
  targets: Int32Array<ArrayBuffer>;
}

/** Where a trainer's arithmetic runs: the CPU here, or the GPU (webgpu/trainer.ts). */
export interface TrainingBackend {
  readonly kind: 'cpu' | 'webgpu';
  /**
   * Forward, backward, clipping and AdamW at learningRate on one batch. When the
   * loss or the gradient norm it returns is not finite, nothing was changed.
   */
  step(batch: BatchPair, learningRate: number): Promise<{ loss: number; gradNorm: number }>;
  /** Mean loss over the batches; the weights unchanged. */
  evaluate(batches: BatchPair[]): Promise<number>;
  /** The current weights (params.ts layout). */
  parameters(): Promise<Float32Array>;
  snapshot(): Promise<TrainingSnapshot>;
  /** Takes weights and moments over from another backend. */
  restore(snapshot: TrainingSnapshot): void;
  destroy(): void;
}

/** Makes a backend training `params` (its start weights) with these settings. */
export type BackendFactory = (params: ParameterTensors, settings: TrainingSettings) => TrainingBackend;

/** Training on the CPU, in place on `params`: the kernels of model.ts and the AdamW of optimizer.ts. */
export class CPUTrainingBackend implements TrainingBackend {
  readonly kind = 'cpu';
  readonly optimizer: AdamW;
  /** The last step's gradient, as the update used it (after clipping). */
  readonly grads: ParameterTensors;
  private readonly acts: ActivationTensors;
  private readonly dacts: ActivationTensors;

  constructor(
    readonly params: ParameterTensors,
    readonly settings: TrainingSettings,
  ) {
    const { config } = params;
    const { batchSize: B, seqLen: T } = settings;
    this.optimizer = new AdamW(config, settings);
    // Shared where it can be: with more than one CPU thread, threads sum into it (train-threads.ts).
    this.grads = createParameters(config, sharedFloats(params.data.length));
    this.acts = createActivations(config, B, T);
    this.dacts = createActivationGradients(config, B, T);
  }

  /** The step across threads, made when more than one runs (the count may change between steps). */
  private threaded: ThreadedTraining | null = null;

  private onThreads(): ThreadedTraining | null {
    if (trainingThreads(this.settings.batchSize) < 2) return null;
    this.threaded ??= new ThreadedTraining(this.params, this.grads, this.optimizer);
    return this.threaded;
  }

  async step({ inputs, targets }: BatchPair, learningRate: number): Promise<{ loss: number; gradNorm: number }> {
    const { batchSize: B, seqLen: T, gradClip } = this.settings;
    const threads = this.onThreads();
    if (threads) return threads.step(inputs, targets, B, T, learningRate, gradClip);
    const loss = lossAndGradients(this.params, inputs, targets, B, T, this.grads, this.acts, this.dacts);
    if (!Number.isFinite(loss)) return { loss, gradNorm: NaN };
    const gradNorm = clipGradientNorm(this.grads.data, gradClip);
    if (Number.isFinite(gradNorm)) this.optimizer.update(this.params, this.grads, learningRate);
    return { loss, gradNorm };
  }

  async evaluate(batches: BatchPair[]): Promise<number> {
    const { batchSize: B, seqLen: T } = this.settings;
    let total = 0;
    const threads = this.onThreads();
    for (const { inputs, targets } of batches) {
      if (threads) {
        total += threads.loss(inputs, targets, B, T);
        continue;
      }
      forwardActivations(this.params, inputs, B, T, this.acts);
      total += crossEntropy(this.acts.logits, targets, this.params.config.vocabSize);
    }
    return total / batches.length;
  }

  async parameters(): Promise<Float32Array> {
    return this.params.data;
  }

  async snapshot(): Promise<TrainingSnapshot> {
    const { params, optimizer } = this;
    return { params: params.data.slice(), m: optimizer.m.data.slice(), v: optimizer.v.data.slice(), updates: optimizer.step };
  }

  restore({ params, m, v, updates }: TrainingSnapshot): void {
    this.params.data.set(params);
    this.optimizer.m.data.set(m);
    this.optimizer.v.data.set(v);
    this.optimizer.step = updates;
  }

  destroy(): void {}
}

export const cpuBackend: BackendFactory = (params, settings) => new CPUTrainingBackend(params, settings);

export interface TrainerOptions {
  /** Where the arithmetic runs (default: the CPU). */
  backend?: BackendFactory;
  /**
   * A backend other than the CPU's is copied back every this many steps, or
   * sooner once backupSeconds have passed since the last copy (and when it is
   * switched to), so that if it fails training goes on on the CPU from that
   * copy. Defaults: 50 steps, 5 seconds.
   */
  backupInterval?: number;
  backupSeconds?: number;
}

/** Everything a trainer needs to go back to a step: a backend's snapshot and the trainer's own counters. */
interface Backup {
  snapshot: TrainingSnapshot;
  steps: number;
  tokens: number;
  historyLength: number;
  random: RandomState;
  /** performance.now() when it was taken. */
  takenAt: number;
}

/** Where a run stands, whole: saved with a model, it lets training go on later exactly as if it had not stopped. */
export interface TrainerState {
  snapshot: TrainingSnapshot;
  steps: number;
  tokens: number;
  history: { step: number; loss: number; validationLoss?: number }[];
  random: RandomState;
}

/** Validation batches come from their own seed, the same every time, so validation losses compare. */
const VALIDATION_SEED = 0x5eed;
const DEFAULT_BACKUP_INTERVAL = 50;
const DEFAULT_BACKUP_SECONDS = 5;

function checkSettings(s: TrainingSettings, blockSize: number): void {
  const wholeNumbers = ['batchSize', 'seqLen', 'evalInterval', 'evalBatches', 'totalSteps'] as const;
  for (const key of wholeNumbers) {
    if (!Number.isInteger(s[key]) || s[key] < 1)
      throw new Error(`${key} must be a positive whole number, got ${excerpt(s[key])}`);
  }
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0)
    throw new Error(`warmupSteps must be a whole number, got ${excerpt(s.warmupSteps)}`);
  if (s.decaySteps !== undefined && !(Number.isInteger(s.decaySteps) && s.decaySteps >= 1))
    throw new Error(`decaySteps must be a positive whole number, got ${excerpt(s.decaySteps)}`);
  if (s.seqLen > blockSize) throw new Error(`seqLen ${excerpt(s.seqLen)} is longer than the model's context of ${blockSize}`);
  for (const key of ['learningRate', 'minLearningRate', 'weightDecay', 'eps'] as const) {
    if (!(s[key] >= 0 && Number.isFinite(s[key]))) throw new Error(`${key} must be a number ≥ 0, got ${excerpt(s[key])}`);
  }
  for (const key of ['beta1', 'beta2'] as const) {
    if (!(s[key] >= 0 && s[key] < 1)) throw new Error(`${key} must be in [0, 1), got ${excerpt(s[key])}`);
  }
  if (!(s.gradClip > 0)) throw new Error(`gradClip must be > 0, got ${excerpt(s.gradClip)}`);
}

/**
 * Draws the batches, follows the schedule, keeps the history, and hands the
 * arithmetic to a backend that can be swapped between steps. Calls are
 * queued: a step, an evaluation or a switch never overlaps another.
 */
export class Trainer {
  /** The weights on the CPU; while a GPU backend trains, up to date only after syncParameters(). */
  readonly params: ParameterTensors;
  readonly dataset: TokenDataset;
  readonly settings: TrainingSettings;
  readonly history: { step: number; loss: number; validationLoss?: number }[] = [];
  private backendInUse: TrainingBackend;
  private readonly backupInterval: number;
  private readonly backupSeconds: number;
  private backup: Backup | null = null;
  private readonly random: Random;
  private steps = 0;
  private tokens = 0;
  private fallback: Fallback | null = null;
  private readonly calls = new OneAtATime();

  /** Trains params in place. seqLen defaults to the smaller of 64 and the model's context. */
  constructor(
    params: ParameterTensors,
    dataset: TokenDataset,
    settings: Partial<TrainingSettings> = {},
    options: TrainerOptions = {},
  ) {
    const { config } = params;
    const seqLen = settings.seqLen ?? Math.min(DEFAULT_TRAINING.seqLen, config.blockSize);
    this.settings = { ...DEFAULT_TRAINING, ...settings, seqLen };
    checkSettings(this.settings, config.blockSize);
    for (const [part, tokens] of [
      ['training', dataset.train],
      ['validation', dataset.validation],
    ] as const) {
      if (tokens.length < seqLen + 1) {
        throw new Error(
          `the ${part} text has ${tokens.length} tokens; windows of ${seqLen} need at least ${seqLen + 1}: use a longer text`,
        );
      }
    }
    this.params = params;
    this.dataset = dataset;
    this.random = new Random(this.settings.seed);
    this.backupInterval = options.backupInterval ?? DEFAULT_BACKUP_INTERVAL;
    this.backupSeconds = options.backupSeconds ?? DEFAULT_BACKUP_SECONDS;
    this.backendInUse = (options.backend ?? cpuBackend)(params, this.settings);
    if (this.backendInUse.kind !== 'cpu') {
      // The start weights and zero moments: nothing needs reading back yet.
      const zeros = () => new Float32Array(params.data.length);
      this.keepBackup({ params: params.data.slice(), m: zeros(), v: zeros(), updates: 0 });
    }
  }

  get stepCount(): number {
    return this.steps;
  }

  get tokensSeen(): number {
    return this.tokens;
  }

  get backend(): TrainingBackend {
    return this.backendInUse;
  }

  /**
   * One optimisation step. Rejects with TrainingDivergedError, before touching
   * the weights, if the loss or the gradients are not finite.
   *
   * Here and in every other call: when a backend other than the CPU's fails,
   * training goes back to its last backup and on on the CPU, and takeFallback()
   * says so.
   */
  step(): Promise<StepReport> {
    return this.exclusive(() => this.withFallback(() => this.stepOn()));
  }

  /** Mean loss over evalBatches batches of the validation text (the same batches every time). */
  evaluate(): Promise<number> {
    return this.exclusive(() => this.withFallback(() => this.evaluateOn()));
  }

  /**
   * Moves the last step `moreSteps` later. The learning rate keeps the decay it
   * was planned with, and stays at minLearningRate after it.
   */
  keepGoing(moreSteps: number): void {
    if (!Number.isInteger(moreSteps) || moreSteps < 1)
      throw new Error(`the steps to add must be a positive whole number, got ${excerpt(moreSteps)}`);
    this.settings.decaySteps ??= this.settings.totalSteps;
    this.settings.totalSteps += moreSteps;
  }

  /** The last fallback to the CPU, once: null when there was none since the last call. */
  takeFallback(): Fallback | null {
    const fallback = this.fallback;
    this.fallback = null;
    return fallback;
  }

  /** Moves training to another backend, carrying the weights and AdamW's moments; the history goes on. */
  useBackend(factory: BackendFactory): Promise<void> {
    return this.exclusive(async () => {
      const snapshot = await this.withFallback(() => this.backendInUse.snapshot());
      this.params.data.set(snapshot.params);
      // Made before the old one goes: if it cannot be made, training stays where it was.
      const next = factory(this.params, this.settings);
      next.restore(snapshot);
      this.backendInUse.destroy();
      this.backendInUse = next;
      this.backup = null;
      if (next.kind !== 'cpu') this.keepBackup(snapshot);
    });
  }

  /** A copy of where training stands (read back from the backend), for saving. */
  state(): Promise<TrainerState> {
    return this.exclusive(async () => {
      const snapshot = await this.withFallback(() => this.backendInUse.snapshot());
      return {
        snapshot,
        steps: this.steps,
        tokens: this.tokens,
        history: this.history.map((point) => ({ ...point })),
        random: this.random.state(),
      };
    });
  }

  /** Goes on from a saved state: weights, AdamW's moments, the schedule's position, the history and the batch order. */
  resume(state: TrainerState): Promise<void> {
    return this.exclusive(async () => {
      this.params.data.set(state.snapshot.params);
      this.backendInUse.restore(state.snapshot);
      this.steps = state.steps;
      this.tokens = state.tokens;
      this.history.length = 0;
      this.history.push(...state.history.map((point) => ({ ...point })));
      this.random.restore(state.random);
      this.backup = null;
      if (this.backendInUse.kind !== 'cpu') this.keepBackup(state.snapshot);
    });
  }

  /** Brings this.params up to date with the backend's weights (a no-op on the CPU). */
  syncParameters(): Promise<ParameterTensors> {
    return this.exclusive(async () => {
      const weights = await this.withFallback(() => this.backendInUse.parameters());
      if (weights !== this.params.data) this.params.data.set(weights);
      return this.params;
    });
  }

  /** Frees what the backend holds (GPU buffers) once the call in flight, if any, is done; the trainer is not used after. */
  destroy(): void {
    void this.exclusive(async () => this.backendInUse.destroy());
  }

  private async stepOn(): Promise<StepReport> {
    const backend = this.backendInUse;
    const started = performance.now();
    const { batchSize: B, seqLen: T, evalInterval, totalSteps } = this.settings;
    const stepNumber = this.steps + 1;
    const batch = this.batch(this.dataset.train, this.random);
    const learningRate = learningRateAt(this.steps, this.settings);
    const { loss, gradNorm } = await backend.step(batch, learningRate);
    if (!Number.isFinite(loss)) this.diverged(`the loss became ${loss}`, stepNumber);
    if (!Number.isFinite(gradNorm)) this.diverged(`the gradients became ${gradNorm}`, stepNumber);
    this.steps = stepNumber;
    this.tokens += B * T;
    const report: StepReport = {
      step: stepNumber,
      loss,
      learningRate,
      gradNorm,
      tokensSeen: this.tokens,
      milliseconds: performance.now() - started,
    };
    if (stepNumber % evalInterval === 0 || stepNumber === totalSteps) report.validationLoss = await this.evaluateOn();
    this.history.push({ step: stepNumber, loss, validationLoss: report.validationLoss });
    if (backend.kind !== 'cpu' && this.backupDue()) this.keepBackup(await backend.snapshot());
    return report;
  }

  private evaluateOn(): Promise<number> {
    const random = new Random(VALIDATION_SEED);
    const batches = Array.from({ length: this.settings.evalBatches }, () => this.batch(this.dataset.validation, random));
    return this.backendInUse.evaluate(batches);
  }

  private batch(tokens: Uint16Array, random: Random): BatchPair {
    const { batchSize: B, seqLen: T } = this.settings;
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    sampleBatch(tokens, B, T, random, inputs, targets);
    return { inputs, targets };
  }

  private backupDue(): boolean {
    const age = (performance.now() - (this.backup?.takenAt ?? -Infinity)) / 1000;
    return this.steps % this.backupInterval === 0 || age >= this.backupSeconds;
  }

  private keepBackup(snapshot: TrainingSnapshot): void {
    this.backup = {
      snapshot,
      steps: this.steps,
      tokens: this.tokens,
      historyLength: this.history.length,
      random: this.random.state(),
      takenAt: performance.now(),
    };
  }

  /** Runs work; if the backend fails, falls back to the CPU and runs it again there. */
  private async withFallback<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const canFallBack = this.backendInUse.kind !== 'cpu' && this.backup !== null && !(error instanceof TrainingDivergedError);
      if (!canFallBack) throw error;
      this.fallBack(error);
      return work();
    }
  }

  /** The failed backend is dropped; the CPU takes over from the last backup. */
  private fallBack(error: unknown): void {
    const backup = this.backup!;
    try {
      this.backendInUse.destroy();
    } catch {
      // A lost device may refuse even that; its buffers go with it.
    }
    const cpu = new CPUTrainingBackend(this.params, this.settings);
    cpu.restore(backup.snapshot);
    this.backendInUse = cpu;
    this.backup = null;
    this.steps = backup.steps;
    this.tokens = backup.tokens;
    this.history.length = backup.historyLength;
    this.random.restore(backup.random);
    const reason = error instanceof Error ? error.message : String(error);
    this.fallback = { message: `${reason}; training went on on the CPU from step ${backup.steps}`, resumedFrom: backup.steps };
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.calls.run(work);
  }

  private diverged(what: string, step: number): never {
    throw new TrainingDivergedError(
      `training stopped at step ${step}: ${what}. The weights are kept as they were before this step; try a lower learning rate.`,
    );
  }
}
