/**
 * AdamW (llm.c's gpt2_update, nanoGPT's settings), gradient-norm clipping and
 * the learning-rate schedule: linear warm-up, then cosine decay.
 */
import type { GPTConfig } from './config.ts';
import { sharedFloats } from './gemm.ts';
import { createParameters, PARAMETER_NAMES, parameterLayout, type ParameterName, type ParameterTensors } from './params.ts';

export interface AdamWSettings {
  /** How much of the running mean of gradients carries over each step. */
  beta1: number;
  /** The same for the running mean of squared gradients. */
  beta2: number;
  /** Keeps the step finite where a gradient has been ~0 all along. */
  eps: number;
  /** Pull of each weight matrix towards 0, per unit of learning rate. */
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/**
 * The 2-D matrices: they get weight decay. Biases and LayerNorm gains and
 * shifts do not; shrinking them towards 0 would only fight the normalisation.
 */
export const DECAYED_PARAMETERS: readonly ParameterName[] = ['wte', 'wpe', 'qkvw', 'attprojw', 'fcw', 'fcprojw', 'lmHead'];

/** A [start, end) range of the flat parameters and whether it gets weight decay. */
export interface Segment {
  start: number;
  end: number;
  decay: boolean;
}

/** The parameters' ranges in params.ts's layout, each with its weight decay. */
export function decaySegments(config: GPTConfig): Segment[] {
  const { offsets, sizes } = parameterLayout(config);
  return PARAMETER_NAMES.map((name) => ({
    start: offsets[name],
    end: offsets[name] + sizes[name],
    decay: DECAYED_PARAMETERS.includes(name),
  }));
}

/** One update's numbers: the step's bias corrections (1 / (1 − β^t)) and the factor clipping puts on the gradient. */
export interface UpdateNumbers {
  settings: AdamWSettings;
  learningRate: number;
  gradScale: number;
  mScale: number;
  vScale: number;
}

/**
 * AdamW over [start, end) of flat buffers (parameters p, gradient g, moments m, v):
 * the gradient is first scaled by gradScale and kept so (clipping), then
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   p ← p − lr·(m̂ / (√v̂ + eps) + decay·p)   with m̂, v̂ corrected for starting at 0.
 * CPU threads each run a range (threads.ts).
 */
export function adamwRange(
  buffers: { p: Float32Array; g: Float32Array; m: Float32Array; v: Float32Array },
  segments: readonly Segment[],
  { settings, learningRate, gradScale, mScale, vScale }: UpdateNumbers,
  from: number,
  to: number,
): void {
  const { beta1, beta2, eps, weightDecay } = settings;
  const { p, g, m, v } = buffers;
  for (const segment of segments) {
    const start = Math.max(from, segment.start);
    const end = Math.min(to, segment.end);
    const decayRate = segment.decay ? weightDecay : 0;
    if (gradScale !== 1) for (let i = start; i < end; i++) g[i] *= gradScale;
    for (let i = start; i < end; i++) {
      const grad = g[i];
      const mi = beta1 * m[i] + (1 - beta1) * grad;
      const vi = beta2 * v[i] + (1 - beta2) * grad * grad;
      m[i] = mi;
      v[i] = vi;
      p[i] -= learningRate * ((mi * mScale) / (Math.sqrt(vi * vScale) + eps) + decayRate * p[i]);
    }
  }
}

export class AdamW {
  readonly settings: AdamWSettings;
  /** Running mean of the gradients (first moment), one per parameter. */
  readonly m: ParameterTensors;
  /** Running mean of the squared gradients (second moment). */
  readonly v: ParameterTensors;
  /** Updates made so far. */
  step = 0;
  /** Ranges of the flat buffer and whether each gets weight decay. */
  readonly segments: Segment[];

  constructor(config: GPTConfig, settings: Partial<AdamWSettings> = {}) {
    this.settings = { ...DEFAULT_ADAMW, ...settings };
    // Shared where it can be, so CPU threads update their ranges in place (threads.ts).
    const total = parameterLayout(config).total;
    this.m = createParameters(config, sharedFloats(total));
    this.v = createParameters(config, sharedFloats(total));
    this.segments = decaySegments(config);
  }

  /** The numbers of the next update (its bias corrections), counting it as made. */
  nextUpdate(learningRate: number, gradScale = 1): UpdateNumbers {
    const { beta1, beta2 } = this.settings;
    this.step++;
    // Multiplying by the inverse corrections saves two divisions per parameter.
    const mScale = 1 / (1 - beta1 ** this.step);
    const vScale = 1 / (1 - beta2 ** this.step);
    return { settings: this.settings, learningRate, gradScale, mScale, vScale };
  }

  /** One update of every parameter from its gradient (adamwRange over all of them). */
  update(params: ParameterTensors, grads: ParameterTensors, learningRate: number): void {
    const buffers = { p: params.data, g: grads.data, m: this.m.data, v: this.v.data };
    adamwRange(buffers, this.segments, this.nextUpdate(learningRate), 0, params.data.length);
  }
}

/**
 * Scales the gradients down so their overall (L2) norm is at most maxNorm: one
 * unlucky batch cannot throw the weights far. Returns the norm before clipping
 * (NaN or Infinity if a gradient is, and then nothing is scaled).
 */
export function clipGradientNorm(grads: Float32Array, maxNorm: number): number {
  let squares = 0;
  for (let i = 0; i < grads.length; i++) squares += grads[i] * grads[i];
  const norm = Math.sqrt(squares);
  if (norm > maxNorm && Number.isFinite(norm)) {
    const scale = maxNorm / norm;
    for (let i = 0; i < grads.length; i++) grads[i] *= scale;
  }
  return norm;
}

export interface Schedule {
  /** Peak learning rate, reached at the end of warm-up. */
  learningRate: number;
  /** Where the cosine decay ends. */
  minLearningRate: number;
  warmupSteps: number;
  /** The last step of training. */
  totalSteps: number;
  /**
   * The step at which the decay reaches minLearningRate (it stays there after):
   * totalSteps, unless training was made to go on past its planned end.
   */
  decaySteps?: number;
}

/**
 * Learning rate for step `step` (0-based): rises linearly over the warm-up steps
 * (step 0 gets learningRate/warmupSteps, so the first update is already a small
 * one), then follows half a cosine from learningRate down to minLearningRate
 * at decaySteps (totalSteps unless set). Small steps first let Adam's moment
 * estimates settle.
 */
export function learningRateAt(step: number, schedule: Schedule): number {
  const { learningRate, minLearningRate, warmupSteps, totalSteps, decaySteps = totalSteps } = schedule;
  if (step < warmupSteps) return (learningRate * (step + 1)) / warmupSteps;
  if (step >= decaySteps) return minLearningRate;
  const progress = (step - warmupSteps) / (decaySteps - warmupSteps);
  return minLearningRate + 0.5 * (1 + Math.cos(Math.PI * progress)) * (learningRate - minLearningRate);
}
