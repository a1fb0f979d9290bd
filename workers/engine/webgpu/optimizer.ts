/**
 * AdamW and gradient-norm clipping on GPU buffers: the same formulas as
 * ../optimizer.ts, with parameters, gradients and both moments staying on the
 * GPU. Nothing is read back: clipping reduces the gradients to a norm buffer
 * that the scaling pass reads directly.
 */

import type { GPTConfig } from '../config.ts';
import { DECAYED_PARAMETERS, DEFAULT_ADAMW, type AdamWSettings } from '../optimizer.ts';
import { PARAMETER_NAMES, parameterLayout } from '../params.ts';
import { perIndex, perIndexWGSL, uniformBlock } from './backward.ts';
import type { Dispatch, Program } from './program.ts';

/** [start, end) of the flat parameter buffer and whether that range gets weight decay. */
export interface DecaySegment { start: number; end: number; decay: boolean }

/** The parameter layout as runs of equal decay (adjacent tensors with the same setting merged). */
export function decaySegments(config: GPTConfig): DecaySegment[] {
  const { offsets, sizes } = parameterLayout(config);
  const ranges = PARAMETER_NAMES
    .filter((name) => sizes[name] > 0)
    .map((name) => ({ start: offsets[name], end: offsets[name] + sizes[name], decay: DECAYED_PARAMETERS.includes(name) }))
    .sort((a, b) => a.start - b.start);
  const runs: DecaySegment[] = [];
  for (const range of ranges) {
    const last = runs[runs.length - 1];
    if (last && last.decay === range.decay && last.end === range.start) last.end = range.end;
    else runs.push({ ...range });
  }
  return runs;
}

const ADAMW_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, offset: u32, beta1: f32, beta2: f32, eps: f32, decay: f32 }
// What changes every step, written by AdamWGPU.beginUpdate: learning rate and
// the inverse bias corrections 1/(1 − β1^t), 1/(1 − β2^t).
struct Step { learningRate: f32, mScale: f32, vScale: f32 }
@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read> grads: array<f32>;
@group(0) @binding(4) var<storage, read> step: Step;
@group(0) @binding(5) var<uniform> u: Uniforms;`, /* wgsl */ `
  let j = u.offset + i;
  let grad = grads[j];
  let mj = u.beta1 * m[j] + (1.0 - u.beta1) * grad;
  let vj = u.beta2 * v[j] + (1.0 - u.beta2) * grad * grad;
  m[j] = mj;
  v[j] = vj;
  params[j] -= step.learningRate * ((mj * step.mScale) / (sqrt(vj * step.vScale) + u.eps) + u.decay * params[j]);`);

/**
 * AdamW over a flat parameter buffer and its gradient buffer (the layout of
 * params.ts), with weight decay on the matrices only. The dispatches are made
 * once; each step call beginUpdate(lr) and then run `dispatches`.
 */
export class AdamWGPU {
  readonly settings: AdamWSettings;
  /** Running means of the gradients and of their squares, one per parameter (start at 0). */
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  /** Updates begun so far (set it when carrying moments over from another backend). */
  step = 0;
  readonly dispatches: Dispatch[];
  private readonly program: Program;
  private readonly stepValues: GPUBuffer;

  constructor(p: Program, config: GPTConfig, params: GPUBuffer, grads: GPUBuffer, settings: Partial<AdamWSettings> = {}) {
    this.program = p;
    this.settings = { ...DEFAULT_ADAMW, ...settings };
    const { beta1, beta2, eps, weightDecay } = this.settings;
    const { total } = parameterLayout(config);
    this.m = p.buffer(4 * total, 'adamw m');
    this.v = p.buffer(4 * total, 'adamw v');
    this.stepValues = p.buffer(16, 'adamw step');
    this.dispatches = decaySegments(config).map(({ start, end, decay }) => perIndex(
      p, 'adamw', ADAMW_WGSL, [params, this.m, this.v, grads, this.stepValues],
      uniformBlock([end - start, start], [beta1, beta2, eps, decay ? weightDecay : 0]), end - start,
    ));
  }

  /** Advances the step count and writes this step's learning rate and bias corrections to the GPU. */
  beginUpdate(learningRate: number): void {
    const { beta1, beta2 } = this.settings;
    this.step++;
    const values = new Float32Array([learningRate, 1 / (1 - beta1 ** this.step), 1 / (1 - beta2 ** this.step), 0]);
    this.program.device.queue.writeBuffer(this.stepValues, 0, values);
  }
}

/** Invocations of the first reduction pass: each sums the squares of every PARTIALS-th gradient. */
const PARTIALS = 1024;

const SQUARE_SUMS_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, length: u32 }
@group(0) @binding(0) var<storage, read_write> partials: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<uniform> u: Uniforms;`, /* wgsl */ `
  // Strided so that neighbouring invocations read neighbouring floats.
  var sum = 0.0;
  for (var j = i; j < u.length; j += u.count) { sum += grads[j] * grads[j]; }
  partials[i] = sum;`);

const NORM_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, partials: u32, maxNorm: f32 }
@group(0) @binding(0) var<storage, read_write> norm: array<f32>;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<uniform> u: Uniforms;`, /* wgsl */ `
  var squares = 0.0;
  for (var j = 0u; j < u.partials; j++) { squares += partials[j]; }
  let n = sqrt(squares);
  norm[0] = n;
  // Scale only a finite norm above the maximum; finiteness from the exponent
  // bits, which no fast-math assumption can fold away.
  let finite = (bitcast<u32>(n) & 0x7f800000u) != 0x7f800000u;
  norm[1] = select(1.0, u.maxNorm / n, finite && n > u.maxNorm);`);

const SCALE_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<storage, read_write> grads: array<f32>;
@group(0) @binding(1) var<storage, read> norm: array<f32>;
@group(0) @binding(2) var<uniform> u: Uniforms;`, /* wgsl */ `
  grads[i] *= norm[1];`);

/**
 * Scales grads [length] so their L2 norm is at most maxNorm, as
 * ../optimizer.ts clipGradientNorm, without leaving the GPU: `norm` holds
 * [norm before clipping, the scale applied] for whoever wants to read it.
 */
export function clipGradientNorm(
  p: Program, grads: GPUBuffer, length: number, maxNorm: number,
): { dispatches: Dispatch[]; norm: GPUBuffer } {
  const partials = p.buffer(4 * PARTIALS, 'gradient norm partials');
  const norm = p.buffer(8, 'gradient norm');
  const dispatches = [
    perIndex(p, 'squareSums', SQUARE_SUMS_WGSL, [partials, grads], uniformBlock([PARTIALS, length]), PARTIALS),
    perIndex(p, 'gradientNorm', NORM_WGSL, [norm, partials], uniformBlock([1, PARTIALS], [maxNorm]), 1),
    perIndex(p, 'clipScale', SCALE_WGSL, [grads, norm], uniformBlock([length]), length),
  ];
  return { dispatches, norm };
}
