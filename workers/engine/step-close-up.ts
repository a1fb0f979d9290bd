/**
 * One training step up close: the trainer's own step (CPUTrainingBackend:
 * forward, backward, clipping, AdamW) on one sentence, on a copy of the weights
 * with its own AdamW state, and what it did: each position's loss and target
 * probability before and after, and each weight matrix's gradient and change.
 */
import { excerpt } from '../api/errors.ts';
import type { MatrixStep, TrainingStepResult } from '../api/labs.ts';
import type { GPTConfig } from './config.ts';
import { crossEntropyForward } from './kernels.ts';
import { checkSequence, forward } from './model.ts';
import {
  countParameters,
  createParameters,
  layerView,
  PARAMETER_NAMES,
  type ParameterName,
  type ParameterTensors,
} from './params.ts';
import type { Tokenizer } from './tokenizer.ts';
import { CPUTrainingBackend, DEFAULT_TRAINING } from './train.ts';

/**
 * The learning rate of the close-up's steps: a third of the trainer's peak (DEFAULT_TRAINING's 0.003), larger than
 * its warm-up's first steps so that one step shows. AdamW's first step moves nearly every weight by about the rate,
 * whatever its gradient: on the shipped model at 0.003 the first step lowered the mean target probability of 2 of
 * 8 corpus sentences (0.943 → 0.870); at 0.001 it raised all 8 (0.632 → 0.821 the most). AdamW's other settings and
 * the clipping are the trainer's.
 */
export const STEP_LEARNING_RATE = DEFAULT_TRAINING.learningRate / 3;

/**
 * The largest model the close-up copies: 8M parameters. The copy holds 4 floats per parameter (the weights, their
 * gradient, AdamW's two moments) and a step 2 more (the weights before it, and its change): 192 MB at the limit. GPT-2 small's
 * 124,439,808 parameters would need 2.0 GB for the first four alone.
 */
export const STEP_PARAMETER_LIMIT = 8_000_000;

/** Bytes per parameter of a training copy: weights, gradient and AdamW's two moments, float32 each. */
const TRAINING_BYTES_PER_PARAMETER = 16;

/** Mean target probabilities the history keeps: the start and the last steps. */
const STEP_HISTORY_LIMIT = 200;

/** Why a model is too big for the close-up, or undefined when it fits. */
export function stepCloseUpProblem(config: GPTConfig): string | undefined {
  const { total } = countParameters(config);
  if (total <= STEP_PARAMETER_LIMIT) return undefined;
  const gigabytes = (total * TRAINING_BYTES_PER_PARAMETER) / 1e9;
  return (
    `A training step on a copy of this model's ${total.toLocaleString('en-US')} parameters needs their gradients and ` +
    `AdamW's two running means too: about ${gigabytes.toFixed(1)} GB. The close-up takes models up to ` +
    `${STEP_PARAMETER_LIMIT.toLocaleString('en-US')} parameters: the built-in one, or one trained here.`
  );
}

/**
 * A sentence's ids as one training example: the model reads all but the last token (inputs) and is scored on the
 * token after each one (targets). Throws, saying why, for a model too big or a sentence too short or too long.
 */
export function stepSentence(ids: readonly number[], config: GPTConfig) {
  const problem = stepCloseUpProblem(config);
  if (problem) throw new Error(problem);
  if (ids.length < 2) throw new Error('a step needs at least 2 tokens: one to read and the next one to predict');
  if (ids.length > config.blockSize + 1) {
    throw new Error(
      `the sentence is ${ids.length} tokens; this model reads at most ${config.blockSize} and predicts the next: ` +
        `use at most ${config.blockSize + 1}`,
    );
  }
  const inputs = Int32Array.from(ids.slice(0, -1));
  const targets = Int32Array.from(ids.slice(1));
  checkSequence(inputs, config);
  checkSequence(targets, config);
  return { inputs, targets };
}

/** What each named parameter is, as the close-up lists it. */
const PARAMETER_LABELS: Record<ParameterName, string> = {
  wte: 'token embedding',
  wpe: 'position embedding',
  ln1w: 'LayerNorm 1 gain',
  ln1b: 'LayerNorm 1 shift',
  qkvw: 'attention qkv',
  qkvb: 'attention qkv bias',
  attprojw: 'attention output',
  attprojb: 'attention output bias',
  ln2w: 'LayerNorm 2 gain',
  ln2b: 'LayerNorm 2 shift',
  fcw: 'MLP up',
  fcb: 'MLP up bias',
  fcprojw: 'MLP down',
  fcprojb: 'MLP down bias',
  lnfw: 'final LayerNorm gain',
  lnfb: 'final LayerNorm shift',
  lmHead: 'unembedding',
};

/** Parameters stacked over layers (params.ts): listed per layer. */
const PER_LAYER = new Set<ParameterName>(PARAMETER_NAMES.slice(PARAMETER_NAMES.indexOf('ln1w'), PARAMETER_NAMES.indexOf('lnfw')));

/** The 2-D weight matrices; the rest are biases and LayerNorm gains and shifts. */
const MATRICES = new Set<ParameterName>(['wte', 'wpe', 'qkvw', 'attprojw', 'fcw', 'fcprojw', 'lmHead']);

/** One named parameter (one layer's, for the stacked ones): its slices of the weights, gradient and change. */
interface Part {
  name: ParameterName;
  layer: number | null;
  slice: (tensors: ParameterTensors) => Float32Array;
}

function partsOf(config: GPTConfig): Part[] {
  const parts: Part[] = [];
  for (const name of PARAMETER_NAMES) {
    if (name === 'lmHead' && config.tied) continue;
    if (!PER_LAYER.has(name)) {
      parts.push({ name, layer: null, slice: (tensors) => tensors[name] });
      continue;
    }
    for (let layer = 0; layer < config.nLayer; layer++) {
      parts.push({ name, layer, slice: (tensors) => layerView(tensors[name], layer, config.nLayer) });
    }
  }
  return parts;
}

/** √Σx², summed in float64. */
function norm(values: Float32Array): number {
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += values[i] * values[i];
  return Math.sqrt(squares);
}

/** Per position, −log p(target) (the trainer's cross-entropy kernel) and p(target), for the weights as they are. */
export function targetLosses(params: ParameterTensors, inputs: ArrayLike<number>, targets: ArrayLike<number>) {
  const { logits } = forward(params, inputs);
  const losses = new Float32Array(targets.length);
  crossEntropyForward(losses, logits, targets, targets.length, params.config.vocabSize);
  return { losses, probs: losses.map((loss) => Math.exp(-loss)) };
}

const mean = (values: Float32Array): number => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * A sentence's training copy: the weights it started from, copied, trained one step at a time on the sentence
 * as one batch (B = 1, T = tokens − 1: the model reads all but the last token and is scored on each next one).
 */
export class StepCloseUp {
  readonly params: ParameterTensors;
  readonly backend: CPUTrainingBackend;
  readonly inputs: Int32Array<ArrayBuffer>;
  readonly targets: Int32Array<ArrayBuffer>;
  /** Mean target probability before the first step, then after each step (the last STEP_HISTORY_LIMIT). */
  readonly history: number[] = [];
  private readonly parts: Part[];
  private readonly change: ParameterTensors;

  constructor(
    source: ParameterTensors,
    ids: readonly number[],
    readonly learningRate = STEP_LEARNING_RATE,
  ) {
    const { config } = source;
    const { inputs, targets } = stepSentence(ids, config);
    if (!(learningRate > 0 && Number.isFinite(learningRate)))
      throw new Error(`the learning rate must be a number > 0, got ${excerpt(learningRate)}`);
    this.params = createParameters(config, source.data.slice());
    this.inputs = inputs;
    this.targets = targets;
    this.backend = new CPUTrainingBackend(this.params, { ...DEFAULT_TRAINING, batchSize: 1, seqLen: this.inputs.length });
    this.parts = partsOf(config);
    this.change = createParameters(config);
  }

  /** Steps the copy has taken. */
  get steps(): number {
    return this.backend.optimizer.step;
  }

  /** One trainer step on the sentence, and what it changed. Throws (the copy unchanged) when the loss or gradient is not finite. */
  async step(): Promise<Omit<TrainingStepResult, 'tokens'>> {
    const { params, backend, inputs, targets } = this;
    const before = targetLosses(params, inputs, targets);
    const start = params.data.slice();
    const { loss, gradNorm } = await backend.step({ inputs, targets }, this.learningRate);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm))
      throw new Error(`the step stopped: the ${Number.isFinite(loss) ? 'gradient' : 'loss'} is not a finite number`);
    const after = targetLosses(params, inputs, targets);
    const { gradClip } = backend.settings;
    // The backend keeps the clipped gradient; scaled back, each norm is the loss's own gradient.
    const unclip = gradNorm > gradClip ? gradNorm / gradClip : 1;
    for (let i = 0; i < start.length; i++) this.change.data[i] = params.data[i] - start[i];
    const matrices: MatrixStep[] = this.parts.map(({ name, layer, slice }) => ({
      name,
      label: PARAMETER_LABELS[name],
      layer,
      matrix: MATRICES.has(name),
      gradientNorm: norm(slice(backend.grads)) * unclip,
      changeNorm: norm(slice(this.change)),
      values: slice(params).length,
    }));
    if (this.history.length === 0) this.history.push(mean(before.probs));
    this.history.push(mean(after.probs));
    if (this.history.length > STEP_HISTORY_LIMIT + 1) this.history.splice(1, 1);
    return {
      targets: this.targets.slice(),
      lossBefore: before.losses,
      lossAfter: after.losses,
      probBefore: before.probs,
      probAfter: after.probs,
      meanLossBefore: mean(before.losses),
      meanLossAfter: mean(after.losses),
      trainerLoss: loss,
      gradientNorm: gradNorm,
      gradClip,
      matrices,
      learningRate: this.learningRate,
      steps: this.steps,
      history: [...this.history],
    };
  }
}

/** Where the close-up's sentences come from: the part of the text the trainer trains on (its last 10% is held out). */
const TRAINED_SHARE = 0.8;

/**
 * Up to `count` sentences spread over the trained part of a corpus, each with 2 to blockSize + 1 tokens,
 * distinct, in the order they come.
 */
export function corpusSentences(text: string, tokenizer: Tokenizer, blockSize: number, count: number): string[] {
  const trained = text.slice(0, Math.floor(text.length * TRAINED_SHARE));
  const all = trained
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
  const picked: string[] = [];
  const stride = Math.max(1, Math.floor(all.length / count));
  for (let i = 0; i < all.length && picked.length < count; i += stride) {
    // From each stretch, the first sentence that fits and is new.
    for (let j = i; j < Math.min(all.length, i + stride); j++) {
      const sentence = all[j]!;
      const tokens = tokenizer.encode(sentence).length;
      if (tokens >= 2 && tokens <= blockSize + 1 && !picked.includes(sentence)) {
        picked.push(sentence);
        break;
      }
    }
  }
  return picked;
}
