/**
 * AdamW (llm.c's gpt2_update, nanoGPT's settings), gradient-norm clipping and
 * the learning-rate schedule: linear warm-up, then cosine decay.
 */
import type { GPTConfig } from './config.ts';
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

export class AdamW {
  readonly settings: AdamWSettings;
  /** Running mean of the gradients (first moment), one per parameter. */
  readonly m: ParameterTensors;
  /** Running mean of the squared gradients (second moment). */
  readonly v: ParameterTensors;
  /** Updates made so far. */
  step = 0;
  /** [start, end) ranges of the flat buffer and whether each gets weight decay. */
  private readonly segments: { start: number; end: number; decay: boolean }[];

  constructor(config: GPTConfig, settings: Partial<AdamWSettings> = {}) {
    this.settings = { ...DEFAULT_ADAMW, ...settings };
    this.m = createParameters(config);
    this.v = createParameters(config);
    const { offsets, sizes } = parameterLayout(config);
    this.segments = PARAMETER_NAMES.map((name) => ({
      start: offsets[name],
      end: offsets[name] + sizes[name],
      decay: DECAYED_PARAMETERS.includes(name),
    }));
  }

  /**
   * One update of every parameter from its gradient:
   *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
   *   p ← p − lr·(m̂ / (√v̂ + eps) + decay·p)   with m̂, v̂ corrected for starting at 0.
   */
  update(params: ParameterTensors, grads: ParameterTensors, learningRate: number): void {
    const { beta1, beta2, eps, weightDecay } = this.settings;
    this.step++;
    // Multiplying by the inverse corrections saves two divisions per parameter.
    const mScale = 1 / (1 - beta1 ** this.step);
    const vScale = 1 / (1 - beta2 ** this.step);
    const p = params.data;
    const g = grads.data;
    const m = this.m.data;
    const v = this.v.data;
    for (const { start, end, decay } of this.segments) {
      const decayRate = decay ? weightDecay : 0;
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
