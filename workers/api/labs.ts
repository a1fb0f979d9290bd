/**
 * The concept labs' area of the contract: what each lab element asks of the
 * worker and what comes back. The math lives in workers/labs/*.ts (served by
 * areas/labs.ts); the elements only show it.
 */
import type { GPTConfig } from '../engine/config.ts';
import type { ParameterCounts } from '../engine/params.ts';
import { excerpt } from './errors.ts';

// ---- Softmax and temperature ----

export interface SoftmaxResult {
  /** logits / T (at T = 0: the largest stays, the others are −∞), as the engine's sampling uses them. */
  scaled: number[];
  /** exp(scaled − max), the numerators. */
  exps: number[];
  /** Their sum, the denominator. */
  sum: number;
  /** The probabilities: exps / sum (at T = 0 all weight on the largest, the first among equals, as the engine samples). */
  probs: number[];
}

/** The model's real next-token logits for a prompt: the `count` largest, largest first. */
export interface ModelLogits {
  tokens: string[];
  logits: number[];
}

// ---- Counting the parameters ----

/** One row of a breakdown: a category, its count, how it is counted, and its share of the eight categories' total. */
export interface ParameterRow {
  category: 'embedding' | 'query' | 'key' | 'value' | 'output' | 'mlpUp' | 'mlpDown' | 'unembedding';
  label: string;
  count: number;
  /** In words and numbers, e.g. "96 layers × 96 heads × 128 × 12,288". */
  formula: string;
  share: number;
}

export interface ParameterBreakdown {
  config: GPTConfig;
  rows: ParameterRow[];
  /** countParameters' figures (rows' counts come from them), rest and total included. */
  counts: ParameterCounts;
  /** Sum of the eight rows. */
  categoriesTotal: number;
  /** Bytes to hold every parameter at float32, float16 and int4. */
  memory: { float32: number; float16: number; int4: number };
  /** Attention scores per head for a full context: blockSize², and for the whole model nLayer·nHead·blockSize². */
  attentionPerHead: number;
  attentionPerModel: number;
}

export interface NamedConfig {
  id: string;
  label: string;
  config: GPTConfig;
}

/** The model in use, counted, and the length of its real parameter buffer (they must agree). */
export interface ActiveModelCount {
  breakdown: ParameterBreakdown;
  bufferLength: number;
}

// ---- Superposition ----

export interface AngleHistogram {
  /** Bin edges in degrees, bins + 1 of them, from 0 to 180. */
  edges: number[];
  /** Pairs per bin. */
  counts: number[];
  pairs: number;
  meanDegrees: number;
  /** Standard deviation of the angles, degrees. */
  spreadDegrees: number;
  /** Largest |angle − 90°|. */
  maxDeviation: number;
}

export interface PackingRequest {
  dimension: number;
  count: number;
  steps: number;
  /** ε in degrees: a pair "fits" when its angle is within 90° ± ε. */
  tolerance: number;
  seed: number;
}

export interface PackingFrame {
  step: number;
  histogram: AngleHistogram;
  /** Share of pairs within 90° ± ε. */
  withinTolerance: number;
}

// ---- An MLP that stores a fact ----

export interface FactMlpSetup {
  /** Named unit-ish directions in a small embedding space (all of the same dimension). */
  directions: { michael: number[]; jordan: number[]; basketball: number[] };
  /** Which names the input vector carries (input = Σ of the chosen directions). */
  input: { michael: boolean; jordan: boolean };
  /** The neuron's up-projection row, its bias, and its down-projection column. */
  up: number[];
  bias: number;
  down: number[];
  activation: 'relu' | 'gelu';
}

export interface FactMlpResult {
  input: number[];
  /** up · input + bias, then the activation. */
  pre: number;
  post: number;
  /** post · down: what the MLP adds to the residual stream. */
  output: number[];
  /** The input plus the output. */
  residual: number[];
  /** output · basketball / |basketball|²: how much of the basketball direction was added. */
  basketball: number;
}

// ---- One training step up close ----

/** The sentences the close-up offers, from the corpus the model in use learned from. */
export interface StepSentences {
  /** The corpus they come from, e.g. "the built-in corpus". */
  corpus: string;
  sentences: string[];
  /** Why the model in use cannot take a step here (too big: GPT-2), or undefined. */
  refusal?: string;
}

/** One named parameter (one layer's share of a stacked one) after a step. */
export interface MatrixStep {
  /** Its name in params.ts, e.g. "qkvw". */
  name: string;
  /** In words, e.g. "attention qkv". */
  label: string;
  /** Its layer (0-based), or null for the embeddings and the final LayerNorm. */
  layer: number | null;
  /** A 2-D weight matrix (false: a bias or a LayerNorm gain or shift). */
  matrix: boolean;
  /** √Σ g² of the loss's gradient over its values (before clipping). */
  gradientNorm: number;
  /** √Σ (after − before)² over its values: how far the step moved it. */
  changeNorm: number;
  /** How many values it has. */
  values: number;
}

/** A sentence as the close-up reads it: the model reads all but the last token; position t is scored on targets[t]. */
export interface StepSentence {
  /** The vocabulary's string of each token of the sentence (one more than the positions). */
  tokens: string[];
  /** The true next token at each position: the sentence's ids but the first. */
  targets: Int32Array;
  /** −log p(target) and p(target) per position, on the model in use. */
  loss: Float32Array;
  prob: Float32Array;
  /** The learning rate a step takes. */
  learningRate: number;
  /** The trainer's peak learning rate, for comparison. */
  trainingLearningRate: number;
}

/** One trainer step on a sentence, on a copy of the model in use. */
export interface TrainingStepResult {
  /** As in StepSentence. */
  tokens: string[];
  targets: Int32Array;
  /** −log p(target) per position, before and after the step. */
  lossBefore: Float32Array;
  lossAfter: Float32Array;
  /** p(target) per position, before and after the step. */
  probBefore: Float32Array;
  probAfter: Float32Array;
  meanLossBefore: number;
  meanLossAfter: number;
  /** The loss the trainer's step reported (its mean over the positions, before the update). */
  trainerLoss: number;
  /** The whole gradient's norm before clipping; the update used it scaled down to gradClip when larger. */
  gradientNorm: number;
  gradClip: number;
  /** Every named parameter, per layer, in params.ts order. */
  matrices: MatrixStep[];
  learningRate: number;
  /** Steps the copy has taken, this one included. */
  steps: number;
  /** Mean p(target) before the first step, then after each step (the last 200 steps). */
  history: number[];
}

export interface LabsApi {
  softmax(logits: number[], temperature: number): Promise<SoftmaxResult>;
  /** Draws `draws` tokens from softmax(logits / T) with a seed; counts per token. Same seed, same counts. */
  sampleCounts(logits: number[], temperature: number, draws: number, seed: number): Promise<number[]>;
  modelLogits(text: string, count: number): Promise<ModelLogits>;
  /** GPT-2 small/medium/large/XL and GPT-3 175B. */
  knownConfigs(): Promise<NamedConfig[]>;
  parameterBreakdown(config: GPTConfig): Promise<ParameterBreakdown>;
  activeModelCount(): Promise<ActiveModelCount>;
  randomAngles(dimension: number, count: number, seed: number, bins: number): Promise<AngleHistogram>;
  /** Gradient descent pushing `count` unit vectors toward orthogonality; a frame every few steps, and the last. */
  packVectors(request: PackingRequest, onFrame: (frame: PackingFrame) => unknown): Promise<PackingFrame>;
  factMlp(setup: FactMlpSetup): Promise<FactMlpResult>;
  /** A few sentences of the model in use's corpus (a session's own, else the built-in one), or why it is refused. */
  stepSentences(count: number): Promise<StepSentences>;
  /**
   * One trainer step (forward, backward, clipping, AdamW at the learning rate 0.001) on the sentence, on a copy of the
   * model in use with its own AdamW state: the same sentence again steps the same copy further; another sentence, a
   * new model or resetStep() starts a new copy. The model in use never changes. Models over 8M parameters
   * (GPT-2 small: 124M, ≈ 2 GB for weights, gradient and AdamW's two moments) are refused.
   */
  trainingStep(sentence: string): Promise<TrainingStepResult>;
  /** The sentence's tokens and per-position loss on the model in use; drops the copy (the next step starts anew). */
  startStep(sentence: string): Promise<StepSentence>;
}

/**
 * The packing lab's starting point: three times as many vectors as dimensions.
 * On this seed the largest deviation from 90° falls from 27.5° to 8.9° and
 * 99.5% of the 18,336 pairs end within 90° ± 8° (random vectors: 73%).
 */
export const DEFAULT_PACKING: PackingRequest = { dimension: 64, count: 192, steps: 200, tolerance: 8, seed: 1 };

/**
 * Michael, Jordan and basketball along the first three axes (orthonormal, so
 * each is read without the others leaking in); the neuron sums the two names,
 * so with the bias of −1 only both together get past the ReLU.
 */
export function defaultFactMlp(dimension = 6): FactMlpSetup {
  if (!Number.isInteger(dimension) || dimension < 3)
    throw new Error(`the fact needs at least 3 dimensions, got ${excerpt(dimension)}`);
  const axis = (index: number): number[] => Array.from({ length: dimension }, (_, i) => (i === index ? 1 : 0));
  const [michael, jordan, basketball] = [axis(0), axis(1), axis(2)];
  return {
    directions: { michael, jordan, basketball },
    input: { michael: true, jordan: true },
    up: michael.map((x, i) => x + jordan[i]),
    bias: -1,
    down: basketball,
    activation: 'relu',
  };
}
