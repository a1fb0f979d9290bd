/**
 * The training area of the contract: a corpus, a fresh model to train on it,
 * and play, pause, step and reset while the loss falls. areas/training.ts
 * implements it.
 */
import type { GPTConfig } from '../engine/config.ts';
import type { Memorising } from '../engine/memorising.ts';
import type { MergeStep } from '../engine/bpe.ts';
import type { TokenizerChoice, TokenizerType } from '../engine/tokenizer.ts';
import type { Fallback, TrainingSettings } from '../engine/train.ts';
import type { BackendInfo } from './backend.ts';
import type { CheckpointSummary } from './library.ts';
import type { ModelInfo } from './model.ts';
import type { ReadProgress } from './reading.ts';

export type { Memorising } from '../engine/memorising.ts';
export type { TrainingSettings } from '../engine/train.ts';
export type { MergeStep } from '../engine/bpe.ts';
export type { TokenizerChoice, TokenizerType } from '../engine/tokenizer.ts';

/**
 * Where the training text comes from. A file (a File: the page hands it over
 * unread) and a download are read and checked in the worker. A source that looks
 * like a web page is refused with CorpusIsWebPage unless `htmlToText` asks for
 * its text.
 */
export type CorpusSource =
  | { kind: 'builtin' }
  | (({ kind: 'text'; text: string; name: string } | { kind: 'file'; file: File } | { kind: 'url'; url: string }) & {
      htmlToText?: boolean;
    });

/** A corpus that looks like a web page (HTML): the page may offer to train on its text (CorpusSource's htmlToText). */
export class CorpusIsWebPage extends Error {
  override name = 'CorpusIsWebPage';

  constructor(source: string) {
    super(`${source} looks like a web page (HTML), not plain text: a model trained on it would learn its tags.`);
  }
}

/** True for a CorpusIsWebPage error, also after it crossed from the worker. */
export const isCorpusWebPage = (error: unknown): boolean => error instanceof Error && error.name === 'CorpusIsWebPage';

/**
 * A tokenizer that cannot be made from the corpus (too small for the vocabulary size asked for):
 * the corpus itself was read fine.
 */
export class TokenizerProblem extends Error {
  override name = 'TokenizerProblem';
}

/** True for a TokenizerProblem, also after it crossed from the worker. */
export const isTokenizerProblem = (error: unknown): boolean => error instanceof Error && error.name === 'TokenizerProblem';

/** One family of the built-in corpus's paragraphs, and how much of the text it makes. */
export interface CorpusFamilySummary {
  id: string;
  name: string;
  example: string;
  paragraphs: number;
  characters: number;
}

export interface CorpusSummary {
  name: string;
  /** Length in characters (Unicode code points) and in UTF-8 bytes. */
  characters: number;
  bytes: number;
  /** How the text becomes tokens: one per character, or word pieces (BPE). */
  tokenizer: TokenizerType;
  /** Length in tokens of that tokenizer. */
  tokens: number;
  /** The tokens a model of this corpus knows, in id order (id 0 is the unknown token of a character vocabulary). */
  vocabulary: string[];
  /** Tokens in the training split and in the held-out validation split. */
  trainTokens: number;
  validationTokens: number;
  /** The kinds of paragraph the built-in corpus is made of (empty for any other text). */
  families: CorpusFamilySummary[];
}

/** Word-piece vocabulary sizes the training panel offers. */
export interface VocabularySizes {
  /** What the built-in model uses: the panel's starting value. */
  default: number;
  min: number;
  max: number;
}

/** The settings a new model gets unless the page sets them, and the vocabulary sizes a BPE tokenizer may have. */
export type TrainingDefaults = TrainingSettings & { sampleInterval: number; vocabularySizes: VocabularySizes };

/** How far learning a BPE tokenizer has got: sent a few times a second while it learns, and once at the end. */
export interface TokenizerLearning {
  /** Merges learned since the previous report, in order. */
  merges: MergeStep[];
  /** The vocabulary size asked for. */
  vocabSize: number;
  /** Tokens the vocabulary starts from (bytes, and the unknown token below 257), before any merge. */
  baseTokens: number;
  /** The corpus's length in UTF-8 bytes, what it is in tokens before any merge. */
  corpusBytes: number;
  /** True on the last report: the vocabulary is complete. */
  done: boolean;
}

/** A custom model size; the vocabulary comes from the corpus. */
export interface ModelShape {
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
}

/** Everything the training panel sets; anything left out takes its default. */
export interface TrainingPlan extends Partial<TrainingSettings> {
  /** A sample of the model's writing every this many steps. */
  sampleInterval?: number;
}

export interface NewModelRequest {
  corpus: CorpusSource;
  /** A preset id from MODEL_PRESETS, or a custom shape. */
  size: string | ModelShape;
  /** Seeds the initial weights and the order of the training batches. */
  seed: number;
  training?: TrainingPlan;
  /** How the corpus becomes tokens (default: one token per character). */
  tokenizer?: TokenizerChoice;
}

export interface NewModelResult {
  corpus: CorpusSummary;
  model: ModelInfo;
}

export interface LossPoint {
  step: number;
  loss: number;
  validationLoss?: number;
}

export interface TrainingSample {
  step: number;
  prompt: string;
  /** What the model wrote after the prompt. */
  text: string;
}

/** Where training stands after a step, as the training run reports it. */
export interface StepProgress {
  /** Steps taken so far (the step just finished). */
  step: number;
  totalSteps: number;
  /** Training loss of the last step (mean cross-entropy, in nats). */
  loss: number;
  /** The newest validation loss, once one was measured. */
  validationLoss?: number;
  learningRate: number;
  tokensSeen: number;
  /** Smoothed over recent steps. */
  tokensPerSecond: number;
  /** At the current speed. */
  secondsLeft: number;
  /** Loss of every step since the previous report (the chart appends them). */
  points: LossPoint[];
  /** Samples drawn since the previous report (several when steps outrun the reports). */
  samples: TrainingSample[];
  /** Set when the last step's loss or gradients were not finite: why training stopped. The weights are the last good ones. */
  diverged?: string;
  /**
   * Set when the GPU failed and training went back to its last backup on the CPU:
   * the step it went back to (the page drops later points and samples) and why.
   */
  fellBack?: Fallback;
  /** Set while the validation loss climbs as the training loss falls (engine/memorising.ts states the rule). */
  memorising?: Memorising;
}

/** What an autosave did: the model as saved, or why it could not be. */
export interface AutosaveReport {
  saved?: CheckpointSummary;
  saveProblem?: string;
}

/** A report the page gets while training. */
export interface TrainingProgress extends StepProgress, AutosaveReport {
  /** Present on the first report after the backend changed by itself (the GPU failed and the CPU took over). */
  backend?: BackendInfo;
}

export interface TrainingOutcome {
  /** paused: by pause(), reset() or a new model; finished: all steps done; diverged: see message. */
  reason: 'paused' | 'finished' | 'diverged';
  step: number;
  message?: string;
}

/** How play() ended, and the save made when it did. */
export type PlayOutcome = TrainingOutcome & AutosaveReport;

/** Everything needed to redraw the panel from scratch. */
export interface TrainingState {
  corpus: CorpusSummary;
  config: GPTConfig;
  settings: TrainingSettings;
  sampleInterval: number;
  step: number;
  playing: boolean;
  finished: boolean;
  diverged?: string;
  memorising?: Memorising;
  history: LossPoint[];
  samples: TrainingSample[];
}

export interface TrainingApi {
  /** The training settings a new model gets unless the page sets them, and the BPE vocabulary sizes offered. */
  defaults(): Promise<TrainingDefaults>;
  /**
   * Reads and checks a corpus and makes its tokenizer (default: characters) without training on it: its size,
   * vocabulary and split, or an Error saying what is wrong (a TokenizerProblem when only the tokenizer fails).
   * Learning a BPE vocabulary reports its merges to onLearn as it goes; newModel on the same corpus and choice
   * then uses that tokenizer.
   */
  describeCorpus(
    source: CorpusSource,
    onProgress?: (progress: ReadProgress) => unknown,
    tokenizer?: TokenizerChoice,
    onLearn?: (learning: TokenizerLearning) => unknown,
  ): Promise<CorpusSummary>;
  /** Stops the corpus reads under way (describeCorpus, newModel): they reject with ReadCancelled. */
  cancelCorpus(): Promise<void>;
  /**
   * Replaces the model with a freshly initialised one to train on a corpus.
   * Whatever ran on the model before stops. Everything else (predict, generate,
   * …) then uses the new model.
   */
  newModel(request: NewModelRequest): Promise<NewModelResult>;
  /**
   * Trains until pause(), reset(), a new model, the last step, or a loss that is
   * not finite. Progress goes to onProgress (a few times a second, and whenever
   * a validation loss or a sample is new); between steps other requests are answered.
   */
  play(onProgress: (progress: TrainingProgress) => unknown): Promise<PlayOutcome>;
  pause(): Promise<void>;
  /**
   * Trains `moreSteps` past the planned end: the run now ends that many steps later
   * (its new last step is the answer). The learning rate keeps its planned decay and
   * stays at minLearningRate after it; a save after this keeps the longer plan.
   */
  keepGoing(moreSteps: number): Promise<number>;
  /** One training step (a running play stops first). */
  step(): Promise<TrainingProgress>;
  /**
   * Back to the initial weights of the same seed and to the planned steps (those keepGoing added go);
   * the history starts again (and the next save is a new saved model).
   */
  reset(): Promise<ModelInfo>;
  /** Everything the training panel shows, to redraw it; null when no model trains here. */
  state(): Promise<TrainingState | null>;
}
