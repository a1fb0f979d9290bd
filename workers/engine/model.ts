/**
 * The GPT-2 forward pass built from the kernels: embeddings, nLayer pre-LayerNorm
 * blocks (attention, then MLP, each added to the residual stream), final
 * LayerNorm, unembedding. Also the per-layer "insides" the page shows, and a
 * KV cache for generating one token at a time.
 */
import { type GPTConfig, headSize, sameShape } from './config.ts';
import {
  attendForward,
  attentionBackward,
  attentionForward,
  crossEntropyForward,
  crossEntropySoftmaxBackward,
  encoderBackward,
  encoderForward,
  geluBackward,
  geluForward,
  layernormBackward,
  layernormForward,
  matmulBackward,
  matmulForward,
  residualBackward,
  residualForward,
  unembedBackward,
  unembedForward,
} from './kernels.ts';
import { type Capture, keepInto, type LayerCapture, newCapture } from './capture.ts';
import { layerView, type ParameterTensors, product, unembedding } from './params.ts';
import type { Interventions } from '../api/inspector.ts';

export { causalMask } from './capture.ts';
export type { Capture, LayerCapture } from './capture.ts';

/** The activations one block writes; stacked over layers with a leading nLayer axis. */
export const LAYER_ACTIVATION_NAMES = [
  'ln1',
  'ln1Mean',
  'ln1Rstd',
  'qkv',
  'atty',
  'preatt',
  'att',
  'attproj',
  'residual2',
  'ln2',
  'ln2Mean',
  'ln2Rstd',
  'fch',
  'fchGelu',
  'fcproj',
  'residual3',
] as const;

/** Named activations of one forward pass (llm.c's ActivationTensors). */
export const ACTIVATION_NAMES = ['encoded', ...LAYER_ACTIVATION_NAMES, 'lnf', 'lnfMean', 'lnfRstd', 'logits'] as const;
export type ActivationName = (typeof ACTIVATION_NAMES)[number];
export type LayerActivationName = (typeof LAYER_ACTIVATION_NAMES)[number];
export type LayerActivations = Record<LayerActivationName, Float32Array>;

/** Shapes of the activations for B sequences of T tokens. */
export function activationShapes(config: GPTConfig, B: number, T: number): Record<ActivationName, number[]> {
  const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C } = config;
  return {
    encoded: [B, T, C],
    ln1: [L, B, T, C],
    ln1Mean: [L, B, T],
    ln1Rstd: [L, B, T],
    qkv: [L, B, T, 3 * C],
    atty: [L, B, T, C],
    preatt: [L, B, NH, T, T],
    att: [L, B, NH, T, T],
    attproj: [L, B, T, C],
    residual2: [L, B, T, C],
    ln2: [L, B, T, C],
    ln2Mean: [L, B, T],
    ln2Rstd: [L, B, T],
    fch: [L, B, T, 4 * C],
    fchGelu: [L, B, T, 4 * C],
    fcproj: [L, B, T, C],
    residual3: [L, B, T, C],
    lnf: [B, T, C],
    lnfMean: [B, T],
    lnfRstd: [B, T],
    logits: [B, T, V],
  };
}

/** Every activation of a forward pass, each in its own array. */
export interface ActivationTensors extends Record<ActivationName, Float32Array> {
  /** The config the arrays are sized for; nLayer is 1 for a one-layer scratch set. */
  readonly config: GPTConfig;
  readonly B: number;
  readonly T: number;
}

/**
 * Fresh activation buffers for B sequences of T tokens. With `lastOnly` the
 * logits hold one row per sequence, [B, 1, V] (a forward with lastOnly fills
 * only that): a 1,024-token prefill of GPT-2 small then allocates 200 KB of
 * logits instead of 206 MB.
 */
export function createActivations(config: GPTConfig, B: number, T: number, lastOnly = false): ActivationTensors {
  const shapes = activationShapes(config, B, T);
  if (lastOnly) shapes.logits = [B, 1, config.vocabSize];
  const arrays = {} as Record<ActivationName, Float32Array>;
  for (const name of ACTIVATION_NAMES) arrays[name] = new Float32Array(product(shapes[name]));
  return { ...arrays, config, B, T };
}

/** One layer's slice of each stacked activation. */
export function layerActivations(acts: ActivationTensors, layer: number): LayerActivations {
  const views = {} as LayerActivations;
  for (const name of LAYER_ACTIVATION_NAMES) views[name] = layerView(acts[name], layer, acts.config.nLayer);
  return views;
}

/** One layer's slice of each stacked parameter tensor. */
function layerParameters(params: ParameterTensors, layer: number) {
  const L = params.config.nLayer;
  const view = (stacked: Float32Array) => layerView(stacked, layer, L);
  return {
    ln1w: view(params.ln1w),
    ln1b: view(params.ln1b),
    qkvw: view(params.qkvw),
    qkvb: view(params.qkvb),
    attprojw: view(params.attprojw),
    attprojb: view(params.attprojb),
    ln2w: view(params.ln2w),
    ln2b: view(params.ln2b),
    fcw: view(params.fcw),
    fcb: view(params.fcb),
    fcprojw: view(params.fcprojw),
    fcprojb: view(params.fcprojb),
  };
}
type LayerParameters = ReturnType<typeof layerParameters>;

/** First half of a block: LayerNorm the residual stream, project to queries, keys, values. */
function blockQKV(p: LayerParameters, residual: Float32Array, a: LayerActivations, N: number, C: number): void {
  layernormForward(a.ln1, a.ln1Mean, a.ln1Rstd, residual, p.ln1w, p.ln1b, N, C);
  matmulForward(a.qkv, a.ln1, p.qkvw, p.qkvb, N, C, 3 * C);
}

/**
 * Second half of a block, once a.atty holds the attention output: project it,
 * add to the residual stream, then the MLP sub-block. residual may be a.residual3:
 * with one-layer buffers each layer's output is the next layer's input, and it
 * is read for the last time before residual3 is written.
 */
function blockOutput(p: LayerParameters, residual: Float32Array, a: LayerActivations, N: number, C: number): void {
  matmulForward(a.attproj, a.atty, p.attprojw, p.attprojb, N, C, C);
  residualForward(a.residual2, residual, a.attproj, N * C);
  layernormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.residual2, p.ln2w, p.ln2b, N, C);
  matmulForward(a.fch, a.ln2, p.fcw, p.fcb, N, C, 4 * C);
  geluForward(a.fchGelu, a.fch, N * 4 * C);
  matmulForward(a.fcproj, a.fchGelu, p.fcprojw, p.fcprojb, N, 4 * C, C);
  residualForward(a.residual3, a.residual2, a.fcproj, N * C);
}

/**
 * Final LayerNorm and unembedding of the last block's output [N,C] into acts.logits [N,V].
 * With lastOnly, of each sequence's last position only (acts.lnf's first B rows, acts.logits [B,V]):
 * for GPT-2 small's 64-token prompt the unembedding of every row is 4.9 of the forward's 16 GFLOP.
 */
function headForward(
  params: ParameterTensors,
  residual: Float32Array,
  acts: ActivationTensors,
  N: number,
  lastOnly = false,
): void {
  const { nEmbd: C, vocabSize: V } = params.config;
  const { B, T } = acts;
  if (!lastOnly) {
    layernormForward(acts.lnf, acts.lnfMean, acts.lnfRstd, residual, params.lnfw, params.lnfb, N, C);
    unembedForward(acts.logits, acts.lnf, unembedding(params), N, C, V);
    return;
  }
  for (let b = 0; b < B; b++) {
    const last = (b * T + T - 1) * C;
    const lnf = acts.lnf.subarray(b * C, (b + 1) * C);
    // prettier-ignore
    layernormForward(
      lnf, acts.lnfMean.subarray(b, b + 1), acts.lnfRstd.subarray(b, b + 1),
      residual.subarray(last, last + C), params.lnfw, params.lnfb, 1, C,
    );
  }
  unembedForward(acts.logits, acts.lnf, unembedding(params), B, C, V);
}

function checkTokens(tokens: ArrayLike<number>, vocabSize: number, what: string): void {
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new Error(`${what} at position ${i} is ${id}, outside the vocabulary [0, ${vocabSize})`);
    }
  }
}

/** One sequence the model can read: 1..blockSize valid token ids. */
/** A length the model reads in one pass: 1..blockSize tokens. */
export function checkLength(T: number, config: GPTConfig): void {
  if (!Number.isInteger(T) || T < 1) throw new Error('the model needs at least one token');
  if (T > config.blockSize) throw new Error(`${T} tokens do not fit the model's context of ${config.blockSize}`);
}

export function checkSequence(tokens: ArrayLike<number>, config: GPTConfig): void {
  checkLength(tokens.length, config);
  checkTokens(tokens, config.vocabSize, 'token');
}

/** Per layer, the heads whose output is zeroed; throws when a pair names no head of the model. */
function ablatedHeads(ablate: readonly (readonly [number, number])[], config: GPTConfig): number[][] {
  const { nLayer: L, nHead: NH } = config;
  const heads: number[][] = Array.from({ length: L }, () => []);
  for (const [layer, head] of ablate) {
    if (!Number.isInteger(layer) || !Number.isInteger(head) || layer < 0 || layer >= L || head < 0 || head >= NH) {
      throw new Error(`there is no head ${head} in layer ${layer}: the model has ${L} layers of ${NH} heads`);
    }
    heads[layer].push(head);
  }
  return heads;
}

/** Zeroes the listed heads' columns of atty [N,C] (heads side by side, hs wide each). */
function zeroHeads(atty: Float32Array, heads: readonly number[], N: number, C: number, hs: number): void {
  for (const h of heads) {
    for (let n = 0; n < N; n++) atty.fill(0, n * C + h * hs, n * C + (h + 1) * hs);
  }
}

interface RunOptions extends Interventions {
  /** B = 1: also store every position's keys and values here. */
  cache?: KVCache;
  /** Logits of each sequence's last position only (acts from createActivations(…, lastOnly)). */
  lastOnly?: boolean;
  /**
   * B = 1 with one-layer acts: per layer, arrays of its own that the captured
   * activations are written to in place of the shared buffers (the capture is
   * made as the forward runs, with no full set of activations and no copies).
   */
  keep?: LayerCapture[];
}

/**
 * Runs the model over B sequences of T tokens into acts. With a full set of
 * activations every layer keeps its own; with a one-layer set (acts.config.nLayer
 * 1) every layer reuses the same buffers and only the logits are meaningful.
 * Interventions (the inspector's experiments) change the attention sub-blocks.
 */
function runForward(
  params: ParameterTensors,
  tokens: ArrayLike<number>,
  acts: ActivationTensors,
  { cache, causalMask = true, ablate = [], lastOnly = false, keep }: RunOptions = {},
): ActivationTensors {
  const { config } = params;
  const { B, T } = acts;
  const { nLayer: L, nHead: NH, nEmbd: C } = config;
  const N = B * T;
  const ablated = ablate.length > 0 ? ablatedHeads(ablate, config) : null;
  encoderForward(acts.encoded, tokens, params.wte, params.wpe, B, T, C);
  let residual = acts.encoded;
  for (let l = 0; l < L; l++) {
    const p = layerParameters(params, l);
    const a = layerActivations(acts, acts.config.nLayer === L ? l : 0);
    if (keep) keepInto(a, keep[l]);
    blockQKV(p, residual, a, N, C);
    cache?.store(l, a.qkv, 0, T);
    attentionForward(a.atty, a.preatt, a.att, a.qkv, B, T, C, NH, causalMask);
    if (ablated) zeroHeads(a.atty, ablated[l], N, C, headSize(config));
    blockOutput(p, residual, a, N, C);
    residual = a.residual3;
  }
  headForward(params, residual, acts, N, lastOnly);
  return acts;
}

/**
 * The full forward pass over B sequences of T tokens (tokens [B,T]), keeping every
 * layer's activations: what a backward pass needs. Pass `acts` to reuse buffers.
 */
export function forwardActivations(
  params: ParameterTensors,
  tokens: ArrayLike<number>,
  B: number,
  T: number,
  acts: ActivationTensors = createActivations(params.config, B, T),
): ActivationTensors {
  const { config } = params;
  if (!Number.isInteger(T) || T < 1 || T > config.blockSize) {
    throw new Error(`sequence length ${T} must be between 1 and the block size ${config.blockSize}`);
  }
  if (tokens.length !== B * T) throw new Error(`expected ${B}×${T} tokens, got ${tokens.length}`);
  if (acts.B !== B || acts.T !== T || !sameShape(acts.config, config)) {
    throw new Error('activation buffers were sized for a different batch, length or model');
  }
  checkTokens(tokens, config.vocabSize, 'token');
  return runForward(params, tokens, acts);
}

export interface ForwardResult {
  /** [T, V]; with lastOnly [V], the last position's row. */
  logits: Float32Array;
  capture?: Capture;
}

/**
 * Bytes a forward with capture may fill. GPT-2 small captured over its whole
 * 1,024-token context would take more than a gigabyte (12 layers × 12 heads ×
 * 1,024² scores and as many pattern weights): its inspected context is cut instead.
 */
export const CAPTURE_BUDGET_BYTES = 256 * 2 ** 20;

/**
 * The most tokens a forward with capture reads for this config (its last tokens
 * when the text is longer): blockSize for the small models, 293 for GPT-2
 * small, so that what a capture holds (logits, scores and pattern, MLP and
 * residual rows) stays within CAPTURE_BUDGET_BYTES.
 */
export function captureLength(config: GPTConfig): number {
  const { vocabSize: V, blockSize, nLayer: L, nHead: NH, nEmbd: C } = config;
  const perSquare = 4 * L * NH * 2; // scores and pattern, per (query, key) pair
  const perToken = 4 * (V + 2 * C + L * (2 * 4 * C + 2 * C)) + L * NH; // logits, embeddings, MLP and residual rows, mask row
  const fits = (T: number) => perSquare * T * T + perToken * T <= CAPTURE_BUDGET_BYTES;
  if (fits(blockSize)) return blockSize;
  let T = 1;
  while (fits(T + 1)) T++;
  return T;
}

export interface ForwardOptions extends Interventions {
  /** Keep the per-layer insides (Capture). */
  capture?: boolean;
  /**
   * Only the last position's logits, [V]: what a prediction of the next token
   * needs. Skips the unembedding of every other row (for GPT-2 small's 64-token
   * prompt 4.9 of 16 GFLOP) and its [T, 50257] buffer. The capture, if asked for, is whole.
   */
  lastOnly?: boolean;
}

/**
 * Logits [T,V] for one sequence: row t predicts the token after position t.
 * Every layer reuses one layer's worth of buffers; with `capture`, the per-layer
 * insides are written straight into the capture's own arrays. causalMask and ablate are
 * the inspector's experiments (see Interventions); training never uses them.
 */
export function forward(params: ParameterTensors, tokens: ArrayLike<number>, options: ForwardOptions = {}): ForwardResult {
  const { config } = params;
  const T = tokens.length;
  const { capture, causalMask: causal = true, ablate, lastOnly = false } = options;
  checkSequence(tokens, config);
  const interventions = { causalMask: causal, ablate, lastOnly };
  // One layer's worth of buffers, shared by every layer; with capture, what it keeps goes to arrays of its own.
  const scratch = createActivations({ ...config, nLayer: 1 }, 1, T, lastOnly);
  if (!capture) return { logits: runForward(params, tokens, scratch, interventions).logits };
  const kept = newCapture(params, tokens, causal);
  runForward(params, tokens, scratch, { ...interventions, keep: kept.layers });
  return { logits: scratch.logits, capture: kept };
}

/** Mean over positions of −log p(target) under softmax(logits); logits [N,V], targets [N]. */
export function crossEntropy(logits: Float32Array, targets: ArrayLike<number>, vocabSize: number): number {
  const N = targets.length;
  if (N === 0 || logits.length !== N * vocabSize) {
    throw new Error(`cross-entropy needs ${N}×${vocabSize} logits for ${N} targets, got ${logits.length}`);
  }
  checkTokens(targets, vocabSize, 'target');
  const losses = new Float32Array(N);
  crossEntropyForward(losses, logits, targets, N, vocabSize);
  let sum = 0;
  for (let n = 0; n < N; n++) sum += losses[n];
  return sum / N;
}

/**
 * Buffers for the gradients of one layer's activations (and the head's), reused
 * by every layer on the way back down: the backward pass needs one layer's
 * worth at a time, which keeps them small enough to stay in cache.
 */
export function createActivationGradients(config: GPTConfig, B: number, T: number): ActivationTensors {
  return createActivations({ ...config, nLayer: 1 }, B, T);
}

/** The activation gradients a block's backward pass adds into (the rest are written or unused). */
const SUMMED_LAYER_GRADIENTS = [
  'ln1',
  'qkv',
  'atty',
  'attproj',
  'residual2',
  'ln2',
  'fch',
  'fchGelu',
  'fcproj',
] as const satisfies readonly LayerActivationName[];

/**
 * One training step's forward and backward pass over B sequences of T tokens
 * (tokens and targets [B,T], targets[i] the token that follows tokens[i]).
 * Zeroes grads, then fills it with the gradient of the returned loss: the mean
 * cross-entropy over all B·T positions, each one a next-token example.
 * Pass acts (full, from createActivations) and dacts (createActivationGradients)
 * to reuse buffers from step to step.
 */
export function lossAndGradients(
  params: ParameterTensors,
  tokens: ArrayLike<number>,
  targets: ArrayLike<number>,
  B: number,
  T: number,
  grads: ParameterTensors,
  acts: ActivationTensors = createActivations(params.config, B, T),
  dacts: ActivationTensors = createActivationGradients(params.config, B, T),
): number {
  forwardActivations(params, tokens, B, T, acts);
  const loss = crossEntropy(acts.logits, targets, params.config.vocabSize);
  backward(params, tokens, targets, 1 / (B * T), grads, acts, dacts);
  return loss;
}

/**
 * The backward pass of Σ_n scale[n]·(−log p(targets[n])) (scale one number or
 * one per position of [B,T]) after forwardActivations filled acts: zeroes grads,
 * then fills it with that sum's gradient. lossAndGradients uses 1/N (the mean);
 * fine-tuning weighs the answer's positions only.
 */
export function backward(
  params: ParameterTensors,
  tokens: ArrayLike<number>,
  targets: ArrayLike<number>,
  scale: number | ArrayLike<number>,
  grads: ParameterTensors,
  acts: ActivationTensors,
  dacts: ActivationTensors,
): void {
  const { config } = params;
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = config;
  const { B, T } = acts;
  const N = B * T;
  if (!sameShape(grads.config, config) || grads.config.tied !== config.tied) {
    throw new Error('gradient buffers were made for a model of a different shape');
  }
  if (dacts.B !== B || dacts.T !== T || !sameShape({ ...config, nLayer: 1 }, dacts.config)) {
    throw new Error('activation-gradient buffers were sized for a different batch, length or model');
  }
  if (typeof scale !== 'number' && scale.length !== N) throw new Error(`expected ${N} position weights, got ${scale.length}`);
  checkTokens(targets, V, 'target');
  grads.data.fill(0);
  const d = layerActivations(dacts, 0);
  // dresidual: the gradient of the residual stream where the walk down has reached.
  const dresidual = d.residual3;
  crossEntropySoftmaxBackward(dacts.logits, acts.logits, targets, N, V, scale);
  dacts.lnf.fill(0);
  unembedBackward(dacts.lnf, unembedding(grads), dacts.logits, acts.lnf, unembedding(params), N, C, V);
  dresidual.fill(0);
  const lastOutput = layerActivations(acts, L - 1).residual3;
  layernormBackward(dresidual, grads.lnfw, grads.lnfb, dacts.lnf, lastOutput, params.lnfw, acts.lnfMean, acts.lnfRstd, N, C);

  for (let l = L - 1; l >= 0; l--) {
    const p = layerParameters(params, l);
    const g = layerParameters(grads, l);
    const a = layerActivations(acts, l);
    const input = l === 0 ? acts.encoded : layerActivations(acts, l - 1).residual3;
    for (const name of SUMMED_LAYER_GRADIENTS) d[name].fill(0);

    // MLP sub-block: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2)))).
    residualBackward(d.residual2, d.fcproj, dresidual, N * C);
    matmulBackward(d.fchGelu, g.fcprojw, g.fcprojb, d.fcproj, a.fchGelu, p.fcprojw, N, 4 * C, C);
    geluBackward(d.fch, a.fch, d.fchGelu, N * 4 * C);
    matmulBackward(d.ln2, g.fcw, g.fcb, d.fch, a.ln2, p.fcw, N, C, 4 * C);
    layernormBackward(d.residual2, g.ln2w, g.ln2b, d.ln2, a.residual2, p.ln2w, a.ln2Mean, a.ln2Rstd, N, C);

    // Attention sub-block: residual2 = input + attproj(attention(qkv(ln1(input)))).
    // dresidual is read for the last time above, so it now collects the block input's gradient.
    dresidual.fill(0);
    residualBackward(dresidual, d.attproj, d.residual2, N * C);
    matmulBackward(d.atty, g.attprojw, g.attprojb, d.attproj, a.atty, p.attprojw, N, C, C);
    attentionBackward(d.qkv, d.preatt, d.att, d.atty, a.qkv, a.att, B, T, C, NH);
    matmulBackward(d.ln1, g.qkvw, g.qkvb, d.qkv, a.ln1, p.qkvw, N, C, 3 * C);
    layernormBackward(dresidual, g.ln1w, g.ln1b, d.ln1, input, p.ln1w, a.ln1Mean, a.ln1Rstd, N, C);
  }
  encoderBackward(grads.wte, grads.wpe, dresidual, tokens, B, T, C);
}

/**
 * Keys and values [L, blockSize, C] of the positions seen so far, so that each new
 * token costs one position's work instead of the whole sequence's.
 */
export class KVCache {
  readonly config: GPTConfig;
  readonly keys: Float32Array;
  readonly values: Float32Array;
  private filled = 0;
  /** One position's activations, reused by every layer and every step. */
  readonly scratch: ActivationTensors;
  /** One row of scores and weights per head, [NH, blockSize]. */
  readonly scores: Float32Array;
  readonly pattern: Float32Array;

  constructor(config: GPTConfig) {
    const { nLayer: L, nHead: NH, nEmbd: C, blockSize } = config;
    this.config = config;
    this.keys = new Float32Array(L * blockSize * C);
    this.values = new Float32Array(L * blockSize * C);
    this.scratch = createActivations({ ...config, nLayer: 1 }, 1, 1);
    this.scores = new Float32Array(NH * blockSize);
    this.pattern = new Float32Array(NH * blockSize);
  }

  /** Number of positions cached: the position the next token will take. */
  get length(): number {
    return this.filled;
  }

  reset(): void {
    this.filled = 0;
  }

  /** Copies the keys and values of `count` positions from qkv [count, 3C] into layer `layer` from `position` on. */
  store(layer: number, qkv: Float32Array, position: number, count: number): void {
    const { nEmbd: C, blockSize } = this.config;
    for (let i = 0; i < count; i++) {
      const from = i * 3 * C;
      const to = (layer * blockSize + position + i) * C;
      this.keys.set(qkv.subarray(from + C, from + 2 * C), to);
      this.values.set(qkv.subarray(from + 2 * C, from + 3 * C), to);
    }
  }

  /** Marks `count` more positions as stored (in every layer). */
  grow(count: number): void {
    this.filled += count;
  }
}

function checkCacheFits(params: ParameterTensors, cache: KVCache): void {
  if (!sameShape(cache.config, params.config)) throw new Error('the KV cache was made for a model of a different shape');
}

/**
 * Empties the cache and feeds a whole sequence at once (faster than one token at
 * a time), storing its keys and values. Returns the logits [V] after its last token.
 */
export function prefill(params: ParameterTensors, cache: KVCache, tokens: ArrayLike<number>): Float32Array {
  const { config } = params;
  const T = tokens.length;
  checkCacheFits(params, cache);
  checkSequence(tokens, config);
  cache.reset();
  const acts = runForward(params, tokens, createActivations({ ...config, nLayer: 1 }, 1, T, true), { cache, lastOnly: true });
  cache.grow(T);
  return acts.logits;
}

/**
 * Feeds one more token: computes its position only, attending to the cached keys
 * and values, appends its own, and returns the logits [V] for the next token.
 */
export function forwardCached(params: ParameterTensors, cache: KVCache, token: number): Float32Array {
  const { config } = params;
  const { nLayer: L, nHead: NH, nEmbd: C, blockSize } = config;
  checkCacheFits(params, cache);
  const position = cache.length;
  if (position >= blockSize) {
    throw new Error(`the KV cache is full (${blockSize} positions): reset it and feed the last tokens again`);
  }
  checkTokens([token], config.vocabSize, 'token');
  const hs = headSize(config);
  const acts = cache.scratch;
  const a = layerActivations(acts, 0);
  encoderForward(acts.encoded, [token], params.wte, params.wpe.subarray(position * C), 1, 1, C);
  let residual = acts.encoded;
  for (let l = 0; l < L; l++) {
    const p = layerParameters(params, l);
    blockQKV(p, residual, a, 1, C);
    cache.store(l, a.qkv, position, 1);
    const layerOff = l * blockSize * C;
    for (let h = 0; h < NH; h++) {
      // A line for the outputs (head output, scores, pattern), one for the query, keys and values, one for the sizes.
      // prettier-ignore
      attendForward(
        a.atty, h * hs, cache.scores, cache.pattern, h * blockSize,
        a.qkv, h * hs, cache.keys, layerOff + h * hs, cache.values, layerOff + h * hs,
        C, position + 1, position + 1, hs,
      );
    }
    blockOutput(p, residual, a, 1, C);
    residual = a.residual3;
  }
  cache.grow(1);
  headForward(params, residual, acts, 1);
  return acts.logits.slice();
}
