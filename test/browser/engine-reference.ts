/**
 * Independent reference implementations for the engine tests: the GPT-2 math
 * written the plain way, with nested number[][] arrays in float64, one loop per
 * formula and one head at a time. Slow and obvious on purpose; nothing here
 * shares code with workers/engine/kernels.ts or model.ts.
 */
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { PARAMETER_NAMES, parameterLayout, type ParameterName, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';

export type Matrix = number[][];

/** Fresh normal(0, std) values. */
export function randomArray(random: Random, length: number, std = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random.normal() * std;
  return out;
}

/** Random token ids in [0, vocabSize). */
export function randomTokens(random: Random, length: number, vocabSize: number): number[] {
  return Array.from({ length }, () => random.int(vocabSize));
}

/** The rows×cols block of a flat row-major array starting at offset, as nested arrays. */
export function toMatrix(flat: ArrayLike<number>, rows: number, cols: number, offset = 0): Matrix {
  const m: Matrix = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) row.push(flat[offset + r * cols + c]!);
    m.push(row);
  }
  return m;
}

export const flatten = (m: Matrix): number[] => m.flat();

/** Every |actual − expected| ≤ atol + rtol·|expected|; reports the first failure with its index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0): void {
  expect(actual.length, 'length').to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`index ${i}: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/** Tolerance "relative to the array's scale": atol = rtol · max|expected|. */
/** ‖actual − expected‖ / ‖expected‖: one number per tensor, so tiny entries do not dominate. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return Math.sqrt(diff / norm);
}

export function expectCloseToScale(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number): void {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  expectClose(actual, expected, rtol, rtol * scale);
}

export function refLayerNorm(x: Matrix, weight: number[], bias: number[]): { out: Matrix; mean: number[]; rstd: number[] } {
  const out: Matrix = [];
  const mean: number[] = [];
  const rstd: number[] = [];
  for (const row of x) {
    const m = row.reduce((a, b) => a + b, 0) / row.length;
    const variance = row.reduce((a, b) => a + (b - m) ** 2, 0) / row.length;
    const s = 1 / Math.sqrt(variance + 1e-5);
    out.push(row.map((v, c) => (v - m) * s * weight[c]! + bias[c]!));
    mean.push(m);
    rstd.push(s);
  }
  return { out, mean, rstd };
}

/** x [N][C] times W [C][OC] plus bias [OC] (bias may be omitted). */
export function refMatmul(x: Matrix, W: Matrix, bias?: number[]): Matrix {
  const OC = W[0]!.length;
  return x.map((row) => {
    const out: number[] = [];
    for (let o = 0; o < OC; o++) {
      let sum = bias ? bias[o]! : 0;
      for (let i = 0; i < row.length; i++) sum += row[i]! * W[i]![o]!;
      out.push(sum);
    }
    return out;
  });
}

export const transpose = (m: Matrix): Matrix => m[0]!.map((_, c) => m.map((row) => row[c]!));

export const refGelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

export const refAdd = (a: Matrix, b: Matrix): Matrix => a.map((row, r) => row.map((v, c) => v + b[r]![c]!));

export function refSoftmax(row: number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export interface RefAttention {
  out: Matrix; // [T][C]
  scores: Matrix[]; // [NH][T][T] before masking
  pattern: Matrix[]; // [NH][T][T]
}

/** Causal self-attention of one sequence, one head at a time, from qkv [T][3C]. */
export function refAttention(qkv: Matrix, NH: number): RefAttention {
  const T = qkv.length;
  const C = qkv[0]!.length / 3;
  const hs = C / NH;
  const out: Matrix = qkv.map(() => new Array<number>(C).fill(0));
  const scores: Matrix[] = [];
  const pattern: Matrix[] = [];
  for (let h = 0; h < NH; h++) {
    const q = qkv.map((row) => row.slice(h * hs, (h + 1) * hs));
    const k = qkv.map((row) => row.slice(C + h * hs, C + (h + 1) * hs));
    const v = qkv.map((row) => row.slice(2 * C + h * hs, 2 * C + (h + 1) * hs));
    const headScores: Matrix = [];
    const headPattern: Matrix = [];
    for (let t = 0; t < T; t++) {
      const row: number[] = [];
      for (let s = 0; s < T; s++) {
        let dot = 0;
        for (let i = 0; i < hs; i++) dot += q[t]![i]! * k[s]![i]!;
        row.push(dot / Math.sqrt(hs));
      }
      headScores.push(row);
      const visible = refSoftmax(row.slice(0, t + 1));
      const weights = row.map((_, s) => (s <= t ? visible[s]! : 0));
      headPattern.push(weights);
      for (let i = 0; i < hs; i++) {
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += weights[s]! * v[s]![i]!;
        out[t]![h * hs + i] = sum;
      }
    }
    scores.push(headScores);
    pattern.push(headPattern);
  }
  return { out, scores, pattern };
}

export interface RefLayer {
  attention: RefAttention;
  mlpPre: Matrix;
  mlpPost: Matrix;
  residAfterAttn: Matrix;
  residAfterMlp: Matrix;
}

/** Named parameter tensors in float32 (the engine's) or float64 (for finite differences). */
export type RefParameters = { config: GPTConfig } & Record<ParameterName, Float32Array | Float64Array>;

/** GPT-2 forward of one sequence, straight from the formulas. */
export function refForward(params: RefParameters, tokens: number[]): { logits: Matrix; layers: RefLayer[] } {
  const { vocabSize: V, nLayer: L, nHead: NH, nEmbd: C, tied } = params.config;
  const row = (flat: Float32Array | Float64Array, index: number, width: number) =>
    Array.from(flat.subarray(index * width, (index + 1) * width));
  let x: Matrix = tokens.map((token, t) => row(params.wte, token, C).map((v, c) => v + params.wpe[t * C + c]!));
  const layers: RefLayer[] = [];
  for (let l = 0; l < L; l++) {
    const ln1 = refLayerNorm(x, row(params.ln1w, l, C), row(params.ln1b, l, C)).out;
    const qkv = refMatmul(ln1, toMatrix(params.qkvw, C, 3 * C, l * C * 3 * C), row(params.qkvb, l, 3 * C));
    const attention = refAttention(qkv, NH);
    const attproj = refMatmul(attention.out, toMatrix(params.attprojw, C, C, l * C * C), row(params.attprojb, l, C));
    const residAfterAttn = refAdd(x, attproj);
    const ln2 = refLayerNorm(residAfterAttn, row(params.ln2w, l, C), row(params.ln2b, l, C)).out;
    const mlpPre = refMatmul(ln2, toMatrix(params.fcw, C, 4 * C, l * C * 4 * C), row(params.fcb, l, 4 * C));
    const mlpPost = mlpPre.map((r) => r.map(refGelu));
    const fcproj = refMatmul(mlpPost, toMatrix(params.fcprojw, 4 * C, C, l * 4 * C * C), row(params.fcprojb, l, C));
    const residAfterMlp = refAdd(residAfterAttn, fcproj);
    layers.push({ attention, mlpPre, mlpPost, residAfterAttn, residAfterMlp });
    x = residAfterMlp;
  }
  const lnf = refLayerNorm(x, Array.from(params.lnfw), Array.from(params.lnfb)).out;
  const unembedding = toMatrix(tied ? params.wte : params.lmHead, V, C);
  return { logits: refMatmul(lnf, transpose(unembedding)), layers };
}

/** Every parameter drawn fresh (not GPT-2's init: LayerNorm gains and biases must not be 1 and 0). */
export function randomizeParameters(params: ParameterTensors, random: Random, std = 0.5): ParameterTensors {
  params.data.set(randomArray(random, params.data.length, std));
  return params;
}

/** Central differences of f (evaluated in float64) at x, entry by entry. */
export function numericGradient(f: (x: Float64Array) => number, at: ArrayLike<number>, h = 1e-5): Float64Array {
  const x = Float64Array.from(at);
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i]!;
    x[i] = saved + h;
    const up = f(x);
    x[i] = saved - h;
    const down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** A float64 copy of the parameters with the same named views. */
export function float64Parameters(params: ParameterTensors): RefParameters & { data: Float64Array } {
  const data = Float64Array.from(params.data);
  const { offsets, sizes } = parameterLayout(params.config);
  const views = Object.fromEntries(
    PARAMETER_NAMES.map((name) => [name, data.subarray(offsets[name], offsets[name] + sizes[name])]),
  );
  return { ...views, config: params.config, data } as RefParameters & { data: Float64Array };
}

/**
 * Every parameter's gradient in `grads` against central differences of `lossAt`, which reads `reference` (a
 * float64Parameters copy): each view is moved, then put back. A tied model's empty lmHead is skipped.
 */
export function expectGradientsMatch(
  grads: ParameterTensors,
  reference: RefParameters,
  lossAt: () => number,
  tolerance = 1e-3,
): void {
  for (const name of PARAMETER_NAMES) {
    if (grads[name].length === 0) continue;
    const view = reference[name];
    const at = view.slice();
    const numeric = numericGradient((x) => {
      view.set(x);
      return lossAt();
    }, at);
    view.set(at);
    const error = relativeError(grads[name], numeric);
    expect(error, `${name}: relative error ${error.toExponential(2)}`).to.be.below(tolerance);
  }
}
