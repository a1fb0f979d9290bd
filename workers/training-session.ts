/**
 * Training in the worker: a corpus, a fresh model and its Trainer, run step by
 * step so the page can play, pause, single-step and reset, and watch the loss,
 * the speed and a sample of the model's writing as it learns.
 *
 * The play loop yields to the worker's event loop after every step, so a pause,
 * a reset, or any other request (a prediction for the page's chart, say) is
 * answered between two steps.
 */
import { type GPTConfig, validateConfig } from './engine/config.ts';
import { generate } from './engine/generate.ts';
import { type Memorising, memorising } from './engine/memorising.ts';
import { initParameters, type ParameterTensors } from './engine/params.ts';
import { presetConfig } from './engine/presets.ts';
import { timelapseFrame } from './engine/inspect.ts';
import type { TimelapseFrame, TimelapseSettings } from './api/inspector.ts';
import type { PreparedCorpus } from './prepared-corpus.ts';
import type {
  LossPoint,
  ModelShape,
  StepProgress,
  TrainingOutcome,
  TrainingPlan,
  TrainingSample,
  TrainingState,
} from './api/training.ts';
import type { StoredCorpus, StoredTraining } from './store/records.ts';
import {
  type BackendFactory,
  cpuBackend,
  DEFAULT_TRAINING,
  type Fallback,
  type StepReport,
  Trainer,
  TrainingDivergedError,
  type TrainingSettings,
} from './engine/train.ts';

/** The defaults the panel starts from: enough steps to see the tiny model learn words in a minute or two. */
export const TRAINING_DEFAULTS: TrainingSettings & { sampleInterval: number } = {
  ...DEFAULT_TRAINING,
  sampleInterval: 50,
};

/** Length of each sample, in tokens. */
const SAMPLE_TOKENS = 120;
/** Low enough to show what the model has learnt, above 0 so it does not loop on one word. */
const SAMPLE_TEMPERATURE = 0.6;
/** While playing, progress goes to the page at most this often (plus on every validation and sample). */
const REPORT_INTERVAL_MS = 100;
/** Next tokens each time-lapse frame keeps. */
const TIMELAPSE_TOP = 8;
/** Weight of the newest step in the smoothed speed. */
const SPEED_SMOOTHING = 0.2;

/** The config of a preset id or a custom shape for a vocabulary. */
export function modelConfig(size: string | ModelShape, vocabSize: number): GPTConfig {
  if (typeof size === 'string') return presetConfig(size, vocabSize);
  const { nLayer, nHead, nEmbd, blockSize } = size;
  return validateConfig({ vocabSize, blockSize, nLayer, nHead, nEmbd, tied: true });
}

export class TrainingSession {
  readonly config: GPTConfig;
  readonly params: ParameterTensors;
  readonly settings: TrainingSettings;
  readonly sampleInterval: number;
  readonly samplePrompt: string;
  // Set by restart(): everything that a reset starts afresh.
  private trainer!: Trainer;
  /** Where the next Trainer (after a reset) runs: the backend in use. */
  private backendFactory: BackendFactory;
  /** A fallback the page has not been told of yet. */
  private fallback: Fallback | null = null;
  private lastStep: StepReport | undefined;
  private latestValidationLoss: number | undefined;
  private samples!: TrainingSample[];
  /** What the time-lapse watches, and the frames recorded (since the last settings, reset or new model). */
  private timelapseSettings: TimelapseSettings | null = null;
  private frames: TimelapseFrame[] = [];
  /** Points of trainer.history and samples already sent to the page. */
  private reportedPoints = 0;
  private reportedSamples = 0;
  private secondsPerStep = 0;
  private diverged: string | undefined;
  /** What memorising() found at the latest validation. */
  private memorisingFound: Memorising | undefined;
  /** Id of the play loop allowed to run; pause() and reset() move it on. */
  private activeRun = 0;
  /** Id of the play loop still running (0: none); it may lag activeRun until that loop notices. */
  private runningLoop = 0;

  private constructor(
    readonly corpus: PreparedCorpus,
    config: GPTConfig,
    readonly seed: number,
    plan: TrainingPlan = {},
    backend: BackendFactory = cpuBackend,
  ) {
    this.backendFactory = backend;
    this.config = config;
    const { sampleInterval, ...settings } = { ...TRAINING_DEFAULTS, ...plan, seed };
    // One sequence fills the model's whole context.
    this.settings = { ...settings, seqLen: this.config.blockSize };
    this.sampleInterval = sampleInterval;
    this.samplePrompt = corpus.samplePrompt();
    this.params = initParameters(this.config, seed);
    this.restart();
  }

  get step(): number {
    return this.trainer.stepCount;
  }

  get finished(): boolean {
    return this.step >= this.settings.totalSteps;
  }

  /** The trainer's backend (the GPU's buffers, for GPU inference from the same weights). */
  get trainingBackend(): Trainer['backend'] {
    return this.trainer.backend;
  }

  /** Weights back to their initial values (same seed, same start), the optimizer and history cleared; the planned steps only. */
  async reset(): Promise<void> {
    this.pause();
    if (this.settings.decaySteps !== undefined) {
      this.settings.totalSteps = this.settings.decaySteps;
      delete this.settings.decaySteps;
    }
    this.params.data.set(initParameters(this.config, this.seed).data);
    this.restart();
    await this.drawSample();
    if (this.timelapseSettings) await this.recordFrame();
  }

  /** Moves training to another backend between two steps; weights, optimizer state and history carry over. */
  async useBackend(factory: BackendFactory): Promise<void> {
    await this.trainer.useBackend(factory);
    this.noteFallback(); // the backend in use may have failed on the way
    this.backendFactory = factory;
  }

  /** The weights as they are now, on the CPU (read back from the GPU when it trains). */
  async currentParameters(): Promise<ParameterTensors> {
    await this.trainer.syncParameters();
    this.noteFallback();
    return this.params;
  }

  destroy(): void {
    this.pause();
    this.trainer.destroy();
  }

  pause(): void {
    this.activeRun++;
  }

  /**
   * Trains until paused, finished or diverged, sending progress to onProgress
   * (and waiting for the page to take it, which keeps the page in step): a few
   * times a second, and after every step for which reportAfter is true.
   */
  async play(onProgress: (progress: StepProgress) => unknown, reportAfter?: (step: number) => boolean): Promise<TrainingOutcome> {
    const run = ++this.activeRun;
    this.runningLoop = run;
    let lastReport = performance.now();
    try {
      while (!this.finished && !this.diverged) {
        await nextMacrotask();
        if (run !== this.activeRun) {
          // Steps since the last report still reach the page, so it shows where training paused.
          if (this.trainer.history.length !== this.reportedPoints || this.fallback)
            await onProgress(this.takeReport(this.latestProgress()));
          return { reason: 'paused', step: this.step };
        }
        const { progress, notable } = await this.advance();
        const now = performance.now();
        if (notable || reportAfter?.(this.step) || now - lastReport >= REPORT_INTERVAL_MS) {
          lastReport = now;
          await onProgress(this.takeReport(progress));
        }
      }
    } finally {
      if (this.runningLoop === run) this.runningLoop = 0;
    }
    if (this.diverged) return { reason: 'diverged', step: this.step, message: this.diverged };
    return { reason: 'finished', step: this.step };
  }

  /** Trains `moreSteps` past the planned end (see Trainer.keepGoing); the new last step. */
  keepGoing(moreSteps: number): number {
    if (this.diverged) throw new Error(`${this.diverged} Reset to train again.`);
    this.trainer.keepGoing(moreSteps);
    const { totalSteps, decaySteps } = this.trainer.settings;
    Object.assign(this.settings, { totalSteps, decaySteps });
    return totalSteps;
  }

  /** One training step (pausing a running loop first). */
  async stepOnce(): Promise<StepProgress> {
    this.pause();
    if (this.finished || this.diverged) return this.takeReport(this.latestProgress());
    return this.takeReport((await this.advance()).progress);
  }

  state(): TrainingState {
    const state: TrainingState = {
      corpus: this.corpus.summary,
      config: { ...this.config },
      settings: { ...this.settings },
      sampleInterval: this.sampleInterval,
      step: this.step,
      playing: this.runningLoop !== 0 && this.runningLoop === this.activeRun,
      finished: this.finished,
      history: this.trainer.history.map(lossPoint),
      samples: [...this.samples],
    };
    if (this.diverged) state.diverged = this.diverged;
    if (this.memorisingFound) state.memorising = this.memorisingFound;
    return state;
  }

  /** A new session, with a first sample of what its untrained model writes. */
  static async create(
    corpus: PreparedCorpus,
    size: string | ModelShape,
    seed: number,
    plan: TrainingPlan = {},
    backend: BackendFactory = cpuBackend,
  ): Promise<TrainingSession> {
    const session = new TrainingSession(corpus, modelConfig(size, corpus.tokenizer.size), seed, plan, backend);
    await session.drawSample();
    return session;
  }

  /** A session that goes on from a saved one: the same weights, optimizer, schedule position, history and samples. */
  static async resume(
    corpus: PreparedCorpus,
    config: GPTConfig,
    seed: number,
    saved: StoredTraining,
    params: Float32Array,
    backend: BackendFactory = cpuBackend,
  ): Promise<TrainingSession> {
    const { seqLen: _seqLen, ...settings } = saved.settings;
    const session = new TrainingSession(corpus, config, seed, { ...settings, sampleInterval: saved.sampleInterval }, backend);
    await session.trainer.resume({
      snapshot: { params, m: saved.optimizer.m, v: saved.optimizer.v, updates: saved.optimizer.updates },
      steps: saved.step,
      tokens: saved.tokensSeen,
      history: saved.history,
      random: saved.random,
    });
    session.samples = saved.samples.map((sample) => ({ ...sample }));
    // The page gets what came before from state(); reports carry what is new.
    session.reportedPoints = saved.history.length;
    session.reportedSamples = session.samples.length;
    if (saved.diverged) session.diverged = saved.diverged;
    session.memorisingFound = memorising(saved.history);
    return session;
  }

  /** Everything needed to resume this run later (weights read back from the GPU when it trains). */
  async saveState(): Promise<{ params: Float32Array; training: StoredTraining; corpus: StoredCorpus }> {
    const state = await this.trainer.state();
    this.noteFallback();
    const training: StoredTraining = {
      settings: { ...this.settings },
      sampleInterval: this.sampleInterval,
      step: state.steps,
      tokensSeen: state.tokens,
      random: state.random,
      optimizer: { m: state.snapshot.m, v: state.snapshot.v, updates: state.snapshot.updates },
      history: state.history.map(lossPoint),
      samples: this.samples.map((sample) => ({ ...sample })),
      vocabulary: [...this.corpus.tokenizer.vocab],
    };
    if (this.diverged) training.diverged = this.diverged;
    return { params: state.snapshot.params, training, corpus: this.corpus.stored() };
  }

  /** A fresh optimizer and history for the current weights (the caller draws their first sample). */
  private restart(): void {
    this.trainer?.destroy();
    this.trainer = new Trainer(this.params, this.corpus.dataset, this.settings, { backend: this.backendFactory });
    this.fallback = null;
    this.lastStep = undefined;
    this.latestValidationLoss = undefined;
    this.samples = [];
    this.frames = [];
    this.reportedPoints = 0;
    this.reportedSamples = 0;
    this.secondsPerStep = 0;
    this.diverged = undefined;
    this.memorisingFound = undefined;
  }

  /** Takes one step; notable when it measured the validation loss, drew a sample, or ended training. */
  private async advance(): Promise<{ progress: StepProgress; notable: boolean }> {
    const started = performance.now();
    try {
      this.lastStep = await this.trainer.step();
    } catch (error) {
      if (!(error instanceof TrainingDivergedError)) throw error;
      this.diverged = error.message;
      return { progress: this.latestProgress(), notable: true };
    }
    const fellBack = this.noteFallback();
    const sampled = this.step % this.sampleInterval === 0 || this.finished;
    if (sampled) await this.drawSample();
    if (this.timelapseSettings && this.step % this.timelapseSettings.every === 0) await this.recordFrame();
    const seconds = (performance.now() - started) / 1000;
    this.secondsPerStep =
      this.secondsPerStep === 0 ? seconds : this.secondsPerStep + SPEED_SMOOTHING * (seconds - this.secondsPerStep);
    const validated = this.lastStep.validationLoss !== undefined;
    if (validated) {
      this.latestValidationLoss = this.lastStep.validationLoss;
      this.memorisingFound = memorising(this.trainer.history);
    }
    return {
      progress: this.latestProgress(),
      notable: validated || sampled || this.finished || fellBack || this.fallback !== null,
    };
  }

  private latestProgress(): StepProgress {
    const tokensPerStep = this.settings.batchSize * this.settings.seqLen;
    const progress: StepProgress = {
      step: this.step,
      totalSteps: this.settings.totalSteps,
      loss: this.lastStep?.loss ?? NaN,
      learningRate: this.lastStep?.learningRate ?? 0,
      tokensSeen: this.trainer.tokensSeen,
      tokensPerSecond: this.secondsPerStep > 0 ? tokensPerStep / this.secondsPerStep : 0,
      secondsLeft: (this.settings.totalSteps - this.step) * this.secondsPerStep,
      points: [],
      samples: [],
    };
    if (this.latestValidationLoss !== undefined) progress.validationLoss = this.latestValidationLoss;
    if (this.diverged) progress.diverged = this.diverged;
    if (this.memorisingFound) progress.memorising = this.memorisingFound;
    return progress;
  }

  /**
   * Takes the trainer's fallback, if it had one: training went back to an earlier
   * step, so later samples go, and the next report tells the page. True if it had.
   */
  private noteFallback(): boolean {
    const fallback = this.trainer.takeFallback();
    if (!fallback) return false;
    this.fallback = fallback;
    this.backendFactory = cpuBackend;
    this.samples = this.samples.filter((sample) => sample.step <= fallback.resumedFrom);
    this.reportedPoints = Math.min(this.reportedPoints, fallback.resumedFrom);
    this.reportedSamples = Math.min(this.reportedSamples, this.samples.length);
    this.memorisingFound = memorising(this.trainer.history);
    return true;
  }

  /** Adds the points and the samples the page has not had yet. */
  private takeReport(progress: StepProgress): StepProgress {
    if (this.fallback) {
      progress.fellBack = this.fallback;
      this.fallback = null;
    }
    const { history } = this.trainer;
    progress.points = history.slice(this.reportedPoints).map(lossPoint);
    this.reportedPoints = history.length;
    progress.samples = this.samples.slice(this.reportedSamples);
    this.reportedSamples = this.samples.length;
    return progress;
  }

  /**
   * Watches a prompt while training: a frame (its next-token odds and attention
   * patterns) now and every `every` steps. New settings start the frames afresh.
   */
  async setTimelapse(settings: TimelapseSettings): Promise<void> {
    this.timelapseSettings = checkTimelapse(settings);
    this.frames = [];
    await this.recordFrame();
  }

  /** The frames recorded so far, oldest first. */
  timelapse(): TimelapseFrame[] {
    return [...this.frames];
  }

  private async recordFrame(): Promise<void> {
    const { prompt } = this.timelapseSettings!;
    const params = await this.currentParameters();
    const ids = this.corpus.tokenizer.encode(prompt || '\n').slice(-this.config.blockSize);
    if (this.frames.at(-1)?.step === this.step) this.frames.pop();
    this.frames.push(timelapseFrame(params, this.corpus.tokenizer, ids, this.step, TIMELAPSE_TOP));
  }

  /** A sample of the current weights' writing, drawn on the CPU (from weights read back when the GPU trains). */
  private async drawSample(): Promise<void> {
    const params = await this.currentParameters();
    const promptIds = this.corpus.tokenizer.encode(this.samplePrompt).slice(-this.config.blockSize);
    const ids: number[] = [];
    for (const token of generate(params, promptIds, {
      temperature: SAMPLE_TEMPERATURE,
      maxTokens: SAMPLE_TOKENS,
      seed: this.seed,
    })) {
      ids.push(token.id);
    }
    this.samples.push({ step: this.step, prompt: this.samplePrompt, text: this.corpus.tokenizer.decode(ids) });
  }
}

/** A copy of time-lapse settings; throws when they cannot be followed. */
export function checkTimelapse(settings: TimelapseSettings): TimelapseSettings {
  if (!Number.isInteger(settings.every) || settings.every < 1)
    throw new Error(`a time-lapse frame every ${settings.every} steps is not a whole number ≥ 1`);
  return { ...settings };
}

/** A history entry without an undefined validationLoss key (the page tests `in`, and it is smaller). */
function lossPoint({ step, loss, validationLoss }: LossPoint): LossPoint {
  return validationLoss === undefined ? { step, loss } : { step, loss, validationLoss };
}

/**
 * Resolves on a new task. A MessageChannel message is used rather than
 * setTimeout(0), which browsers clamp to 4 ms once calls nest.
 */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
