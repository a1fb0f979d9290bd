/**
 * AdamW and gradient-norm clipping on GPU buffers: the same formulas as
 * ../optimizer.ts, with parameters, gradients and both moments staying on the
 * GPU. Nothing is read back: clipping reduces the gradients to a norm buffer
 * that the scaling pass reads directly, and also decides there whether the
 * step is finite, a flag AdamW reads to skip a diverged update.
 */

import type { GPTConfig } from '../config.ts';
import { DECAYED_PARAMETERS, DEFAULT_ADAMW, type AdamWSettings } from '../optimizer.ts';
import { PARAMETER_NAMES, parameterLayout } from '../params.ts';
import {
  bindingFloats,
  bindingPieces,
  type Dispatch,
  type GPUTensor,
  offsetBy,
  perIndex,
  perIndexKernel,
  type Program,
} from './program.ts';

/** [start, end) of the flat parameter buffer and whether that range gets weight decay. */
export interface DecaySegment {
  start: number;
  end: number;
  decay: boolean;
}

/** The parameter layout as runs of equal decay (adjacent tensors with the same setting merged). */
export function decaySegments(config: GPTConfig): DecaySegment[] {
  const { offsets, sizes } = parameterLayout(config);
  const ranges = PARAMETER_NAMES.filter((name) => sizes[name] > 0)
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

const ADAMW = perIndexKernel(
  'adamw',
  ['params: rw', 'm: rw', 'v: rw', 'grads', 'step', 'apply'],
  [],
  ['beta1', 'beta2', 'eps', 'decay'],
  /* wgsl */ `
  // A diverged step (apply = 0) leaves parameters and moments as they were.
  if (apply[u.applyOff] == 0.0) { return; }
  // step holds what changes every step (AdamWGPU.beginUpdate): the learning
  // rate and the inverse bias corrections 1/(1 − β1^t), 1/(1 − β2^t).
  let learningRate = step[u.stepOff];
  let mScale = step[u.stepOff + 1u];
  let vScale = step[u.stepOff + 2u];
  let grad = grads[u.gradsOff + i];
  let mi = u.beta1 * m[u.mOff + i] + (1.0 - u.beta1) * grad;
  let vi = u.beta2 * v[u.vOff + i] + (1.0 - u.beta2) * grad * grad;
  m[u.mOff + i] = mi;
  v[u.vOff + i] = vi;
  let p = u.paramsOff + i;
  params[p] -= learningRate * ((mi * mScale) / (sqrt(vi * vScale) + u.eps) + u.decay * params[p]);`,
);

/**
 * AdamW over a flat parameter buffer and its gradient buffer (the layout of
 * params.ts), with weight decay on the matrices only. The dispatches are made
 * once; each step call beginUpdate(lr) and then run `dispatches`. `apply`, when
 * given, is a float on the GPU that skips the update where it is 0 (clipping's
 * finite flag); call cancelUpdate() after a skipped one.
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

  constructor(
    p: Program,
    config: GPTConfig,
    params: GPUTensor,
    grads: GPUTensor,
    settings: Partial<AdamWSettings> = {},
    apply: GPUTensor = p.upload(new Float32Array([1])),
  ) {
    this.program = p;
    this.settings = { ...DEFAULT_ADAMW, ...settings };
    const { beta1, beta2, eps, weightDecay } = this.settings;
    const { total } = parameterLayout(config);
    this.m = p.buffer(4 * total, 'adamw m');
    this.v = p.buffer(4 * total, 'adamw v');
    this.stepValues = p.buffer(16, 'adamw step');
    const step: [GPUTensor, number] = [this.stepValues, 4];
    // One dispatch per run of equal decay, in pieces that fit a binding.
    this.dispatches = decaySegments(config).flatMap(({ start, end, decay }) =>
      bindingPieces(p, end - start).map(([offset, count]) => {
        const part = (t: GPUTensor): [GPUTensor, number] => [offsetBy(t, start + offset), count];
        const uniforms = { count, floats: [beta1, beta2, eps, decay ? weightDecay : 0] };
        return perIndex(p, ADAMW, uniforms, part(params), part(this.m), part(this.v), part(grads), step, [apply, 1]);
      }),
    );
  }

  /** Advances the step count and writes this step's learning rate and bias corrections to the GPU. */
  beginUpdate(learningRate: number): void {
    const { beta1, beta2 } = this.settings;
    this.step++;
    const values = new Float32Array([learningRate, 1 / (1 - beta1 ** this.step), 1 / (1 - beta2 ** this.step), 0]);
    this.program.device.queue.writeBuffer(this.stepValues, 0, values);
  }

  /** Takes back the step count of an update the GPU skipped, so the next one uses its bias corrections. */
  cancelUpdate(): void {
    this.step--;
  }
}

/** Invocations of the first reduction pass (per piece, at most): each sums the squares of every PARTIALS-th gradient. */
const PARTIALS = 1024;

const SQUARE_SUMS = perIndexKernel(
  'squareSums',
  ['partials: rw', 'grads'],
  ['length'],
  [],
  /* wgsl */ `
  // Strided so that neighbouring invocations read neighbouring floats.
  var sum = 0.0;
  for (var j = i; j < u.length; j += u.count) { sum += grads[u.gradsOff + j] * grads[u.gradsOff + j]; }
  partials[u.partialsOff + i] = sum;`,
);

const GRADIENT_NORM = perIndexKernel(
  'gradientNorm',
  ['norm: rw', 'partials', 'loss'],
  ['partialCount'],
  ['maxNorm'],
  /* wgsl */ `
  var squares = 0.0;
  for (var j = 0u; j < u.partialCount; j++) { squares += partials[u.partialsOff + j]; }
  let n = sqrt(squares);
  norm[u.normOff] = n;
  // Finiteness from the exponent bits (all ones: ±∞ or NaN), which no
  // fast-math assumption can fold away.
  let exponent = 0x7f800000u;
  let finite = (bitcast<u32>(n) & exponent) != exponent && (bitcast<u32>(loss[u.lossOff]) & exponent) != exponent;
  // Scale only a finite step's norm above the maximum.
  norm[u.normOff + 1u] = select(1.0, u.maxNorm / n, finite && n > u.maxNorm);
  norm[u.normOff + 2u] = select(0.0, 1.0, finite);`,
);

const CLIP_SCALE = perIndexKernel(
  'clipScale',
  ['grads: rw', 'norm'],
  [],
  [],
  /* wgsl */ `
  // A diverged step's gradients are left as they came, like the CPU's.
  if (norm[u.normOff + 2u] == 0.0) { return; }
  grads[u.gradsOff + i] *= norm[u.normOff + 1u];`,
);

/**
 * Scales grads [length] so their L2 norm is at most maxNorm, as
 * ../optimizer.ts clipGradientNorm, without leaving the GPU: `norm` holds
 * [norm before clipping, the scale applied, finite flag] for whoever wants to
 * read it. The flag is 1 when both the norm and the float at `loss` are finite,
 * else 0 (and the scale is 1): AdamWGPU's `apply`. Without a loss, the
 * program's dummy buffer (a 0) stands in.
 * Gradients too many for one binding are reduced and scaled in pieces.
 */
export function clipGradientNorm(
  p: Program,
  grads: GPUTensor,
  length: number,
  maxNorm: number,
  loss: GPUTensor = p.dummy,
): { dispatches: Dispatch[]; norm: GPUBuffer } {
  const parts = bindingPieces(p, length);
  // All partial sums must fit the one binding the norm pass reads.
  const perPart = Math.min(PARTIALS, Math.floor(bindingFloats(p) / parts.length));
  const partialCount = perPart * parts.length;
  const partials = p.buffer(4 * partialCount, 'gradient norm partials');
  const norm = p.buffer(12, 'gradient norm');
  // One invocation adds the partial sums up.
  const once = { count: 1, fields: [partialCount], floats: [maxNorm] };
  const dispatches = [
    ...parts.map(([start, count], k) => {
      const sums: [GPUTensor, number] = [offsetBy(partials, k * perPart), perPart];
      return perIndex(p, SQUARE_SUMS, { count: perPart, fields: [count] }, sums, [offsetBy(grads, start), count]);
    }),
    perIndex(p, GRADIENT_NORM, once, [norm, 3], [partials, partialCount], [loss, 1]),
    ...parts.map(([start, count]) => perIndex(p, CLIP_SCALE, { count }, [offsetBy(grads, start), count], [norm, 3])),
  ];
  return { dispatches, norm };
}
