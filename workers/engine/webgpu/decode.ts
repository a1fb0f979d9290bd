/**
 * The kernels of one generated token with a KV cache, and the embedding and
 * unembedding over a vocabulary split into row blocks (weights.ts).
 *
 * A cached step computes one position. Which token and which position is read
 * from a small `step` buffer (int32 [token, position]) written before each
 * step, so the step's dispatches are built once and replayed at any position:
 * the keys and values of layer l live in the rows of its qkv cache [blockSize,
 * 3C] (a forward writes rows 0..T-1 there), the step writes its own row, and
 * attention runs over rows 0..position (dispatched for blockSize keys, those
 * after the position return at once).
 *
 * The products of one row (x·W, x·Wᵀ) get their own kernels: gemm's blocks of
 * 4 to 12 rows would compute a single row 4 to 12 times over.
 */

import { layernormForward } from './forward.ts';
import { geluWGSL } from './matmul.ts';
import {
  type Dispatch,
  ENTRY_WGSL,
  type GPUTensor,
  offsetBy,
  perIndex,
  perIndexKernel,
  type Program,
  storage,
  uniforms,
} from './program.ts';
import type { RowBlock } from './weights.ts';

const ENCODER_BLOCK = perIndexKernel(
  'encoder over a row block',
  ['out: rw', 'tokens: i32', 'wte', 'wpe'],
  ['T', 'C', 'first', 'rows', 'dynamic'],
  [],
  /* wgsl */ `
  // i is an element of out; only tokens in this block's rows are written. With dynamic,
  // tokens is the step buffer [token, position]: one row at that position.
  let row = i / u.C;
  let c = i % u.C;
  let token = u32(tokens[u.tokensOff + row]);
  if (token < u.first || token >= u.first + u.rows) { return; }
  let position = select(row % u.T, u32(tokens[u.tokensOff + 1u]), u.dynamic != 0u);
  out[u.outOff + i] = wte[u.wteOff + (token - u.first) * u.C + c] + wpe[u.wpeOff + position * u.C + c];`,
);

/**
 * out[t,:] = wte[tokens[t],:] + wpe[t,:] for T tokens (int32), wte in row
 * blocks: one dispatch per block. With `step` (T = 1), tokens is the step
 * buffer and the position is the one it holds.
 */
export function encoderBlocks(
  p: Program,
  out: GPUTensor,
  tokens: GPUTensor,
  wte: RowBlock[],
  wpe: GPUTensor,
  T: number,
  C: number,
  step = false,
): Dispatch[] {
  return wte.map((block) =>
    perIndex(
      p,
      ENCODER_BLOCK,
      { count: T * C, fields: [T, C, block.firstRow, block.rows, step ? 1 : 0] },
      [out, T * C],
      [tokens, step ? 2 : T],
      [block.buffer],
      [wpe],
    ),
  );
}

/** What a one-row product does besides out = x·W + bias. */
interface MatvecOptions {
  bias?: GPUTensor | null;
  /** Added to every output (the residual stream): out = add + x·W + bias. */
  add?: GPUTensor | null;
  /** Also writes GELU of each output here (the MLP's first layer). */
  gelu?: GPUTensor | null;
  /** out moves on by the step's position × this many floats (the qkv cache's row of the step); 0 by default. */
  positionStride?: number;
  /** LayerNorm x (K wide) with this weight and bias first. */
  norm?: { weight: GPUTensor; bias: GPUTensor } | null;
}

/**
 * How a one-row product reads its operands: 'scalar' everything; 'vec4' w as
 * vec4s (along k when transposed, along n otherwise); 'unrolled' (x·W only)
 * also x as vec4s, four steps of k per iteration (on SwiftShader about 2×
 * 'vec4': a quarter of the loop's overhead).
 */
type MatvecLoad = 'scalar' | 'vec4' | 'unrolled';

/** The loop of a one-row product for invocation's outputs n0..n0+3 into acc. */
function matvecLoop(transposed: boolean, load: MatvecLoad): string {
  if (transposed) {
    return load === 'scalar'
      ? /* wgsl */ `
  let rows = u.wOff + fourFrom(n0, u.N - 1u) * u.K;
  for (var k = 0u; k < u.K; k++) {
    acc += xIn(k) * vec4f(w[rows.x + k], w[rows.y + k], w[rows.z + k], w[rows.w + k]);
  }`
      : /* wgsl */ `
  let rows = (u.wOff + fourFrom(n0, u.N - 1u) * u.K) / 4u;
  for (var k = 0u; k < u.K / 4u; k++) {
    let xs = xIn(k);
    acc += vec4f(dot(xs, w[rows.x + k]), dot(xs, w[rows.y + k]), dot(xs, w[rows.z + k]), dot(xs, w[rows.w + k]));
  }`;
  }
  if (load === 'unrolled') {
    return /* wgsl */ `
  var at = (u.wOff + n0) / 4u;
  let s = u.N / 4u;
  for (var k = 0u; k < u.K / 4u; k++) {
    let xs = xIn(k);
    acc += xs.x * w[at] + xs.y * w[at + s] + xs.z * w[at + 2u * s] + xs.w * w[at + 3u * s];
    at += 4u * s;
  }`;
  }
  return load === 'vec4'
    ? /* wgsl */ `
  var at = (u.wOff + n0) / 4u;
  let stride = u.N / 4u;
  for (var k = 0u; k < u.K; k++) {
    acc += xIn(k) * w[at];
    at += stride;
  }`
    : /* wgsl */ `
  let cols = u.wOff + fourFrom(n0, u.N - 1u);
  for (var k = 0u; k < u.K; k++) {
    let at = cols + k * u.N;
    acc += xIn(k) * vec4f(w[at.x], w[at.y], w[at.z], w[at.w]);
  }`;
}

/**
 * WGSL of a one-row product: each invocation computes 4 adjacent outputs
 * n0..n0+3. `transposed`: out[n] = Σ_k x[k]·w[n,k] (w [N, K], x·Wᵀ: the
 * unembedding), else out[n] = Σ_k x[k]·w[k,n] (w [K, N], x·W). With `norm`,
 * x is LayerNormed on the way in (every invocation computes the row's mean
 * and 1/std itself: one dispatch less, which on a small model costs more
 * than the two extra passes over x).
 */
function matvecWGSL(transposed: boolean, load: MatvecLoad, gelu: boolean, norm: boolean, uniformBlock: string): string {
  const xVec4 = load === 'unrolled' || (transposed && load === 'vec4');
  const xType = xVec4 ? 'vec4f' : 'f32';
  const first = xVec4 ? 'u.xOff / 4u' : 'u.xOff';
  const count = xVec4 ? 'u.K / 4u' : 'u.K';
  const total = (v: string) => (xVec4 ? `dot(${v}, vec4f(1.0))` : v);
  const index = (offset: string) => (xVec4 ? `u.${offset} / 4u + k` : `u.${offset} + k`);
  // The optional buffers follow the six always bound, in matvec()'s order.
  const normAt = gelu ? 7 : 6;
  return /* wgsl */ `
${storage(0, 'out', 'f32', true)}
${storage(1, 'x', xType)}
${storage(2, 'w', load === 'scalar' ? 'f32' : 'vec4f')}
${storage(3, 'bias', 'f32')}
${storage(4, 'add', 'f32')}
${storage(5, 'step', 'i32')}
${gelu ? storage(6, 'geluOut', 'f32', true) : ''}
${norm ? `${storage(normAt, 'normWeight', xType)}\n${storage(normAt + 1, 'normBias', xType)}` : ''}
${uniformBlock}
${gelu ? geluWGSL('f32') : ''}
fn fourFrom(first: u32, last: u32) -> vec4u {
  return min(first + vec4u(0u, 1u, 2u, 3u), vec4u(last));
}
${
  norm
    ? /* wgsl */ `
var<private> mean: f32;
var<private> rstd: f32;

// The row's mean and 1/std, two passes as layernormForward.
fn normStats() {
  var sum = ${xType}(0.0);
  for (var k = 0u; k < ${count}; k++) { sum += x[${first} + k]; }
  mean = ${total('sum')} / f32(u.K);
  var squares = ${xType}(0.0);
  for (var k = 0u; k < ${count}; k++) { let d = x[${first} + k] - mean; squares += d * d; }
  rstd = 1.0 / sqrt(${total('squares')} / f32(u.K) + 1e-5);
}

fn xIn(k: u32) -> ${xType} {
  return (x[${first} + k] - mean) * rstd * normWeight[${index('normWeightOff')}] + normBias[${index('normBiasOff')}];
}`
    : /* wgsl */ `
fn xIn(k: u32) -> ${xType} {
  return x[${first} + k];
}`
}
${ENTRY_WGSL}
  let n0 = id * 4u;
  if (n0 >= u.N) { return; }
  ${norm ? 'normStats();' : ''}
  var acc = vec4f(0.0);
  ${matvecLoop(transposed, load)}
  let outStart = u.outOff + u32(step[u.stepOff + 1u]) * u.positionStride;
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n < u.N) {
      var value = acc[j];
      if (u.hasBias != 0u) { value += bias[u.biasOff + n]; }
      if (u.hasAdd != 0u) { value += add[u.addOff + n]; }
      out[outStart + n] = value;
      ${gelu ? 'geluOut[u.geluOff + n] = gelu(value);' : ''}
    }
  }
}`;
}

/**
 * One row: out [N] = x [K]·W (+ bias, + add), W [K, N]; or with `transposed`,
 * x·Wᵀ with W [N, K]. `step` is the step buffer (always bound; read only with
 * a positionStride). See MatvecOptions for the rest.
 */
export function matvec(
  p: Program,
  out: GPUTensor,
  x: GPUTensor,
  w: GPUTensor,
  K: number,
  N: number,
  step: GPUTensor,
  { bias = null, add = null, gelu = null, positionStride = 0, norm = null }: MatvecOptions = {},
  transposed = false,
): Dispatch {
  const wBound = p.bind(w, K * N);
  const xBound = p.bind(x, K);
  const normBound = norm ? [p.bind(norm.weight, K), p.bind(norm.bias, K)] : [];
  const xVec4 = K % 4 === 0 && [xBound, ...normBound].every((b) => b.offset % 4 === 0);
  const wVec4 = (transposed ? K % 4 === 0 : N % 4 === 0) && wBound.offset % 4 === 0;
  const load: MatvecLoad = !wVec4 ? 'scalar' : transposed ? (xVec4 ? 'vec4' : 'scalar') : xVec4 ? 'unrolled' : 'vec4';
  const outBound = positionStride ? p.bind(out) : p.bind(out, N);
  const none = { binding: { buffer: p.dummy }, offset: 0 };
  const biasBound = bias ? p.bind(bias, N) : none;
  const addBound = add ? p.bind(add, N) : none;
  const stepBound = p.bind(step, 2);
  const geluBound = gelu ? [p.bind(gelu, N)] : [];
  const bindings = [outBound, xBound, wBound, biasBound, addBound, stepBound, ...geluBound, ...normBound].map((b) => b.binding);
  const u = uniforms(bindings.length, {
    N,
    K,
    outOff: outBound.offset,
    xOff: xBound.offset,
    wOff: wBound.offset,
    biasOff: biasBound.offset,
    addOff: addBound.offset,
    stepOff: stepBound.offset,
    geluOff: geluBound[0]?.offset ?? 0,
    normWeightOff: normBound[0]?.offset ?? 0,
    normBiasOff: normBound[1]?.offset ?? 0,
    hasBias: bias ? 1 : 0,
    hasAdd: add ? 1 : 0,
    positionStride,
  });
  const name = `matvec${transposed ? ' transposed' : ''} ${load}${gelu ? ' gelu' : ''}${norm ? ' norm' : ''}`;
  const pipeline = p.pipeline(name, () => matvecWGSL(transposed, load, gelu !== null, norm !== null, u.wgsl()));
  return p.dispatch(pipeline, bindings, u.data, p.grid(Math.ceil(N / 4)));
}

const LAYERNORM_ROW = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(1) var<storage, read> inp: array<vec4f>;
@group(0) @binding(2) var<storage, read> weight: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<vec4f>;
struct Uniforms { C: u32, outOff: u32, inpOff: u32, weightOff: u32, biasOff: u32 }
@group(0) @binding(4) var<uniform> u: Uniforms;

// One row in one invocation, as layernormForward (two passes), read as vec4s.
@compute @workgroup_size(1)
fn main() {
  let n = u.C / 4u;
  let x = u.inpOff / 4u;
  var sum = vec4f(0.0);
  for (var c = 0u; c < n; c++) { sum += inp[x + c]; }
  let m = (sum.x + sum.y + sum.z + sum.w) / f32(u.C);
  var squares = vec4f(0.0);
  for (var c = 0u; c < n; c++) { let d = inp[x + c] - m; squares += d * d; }
  let s = 1.0 / sqrt((squares.x + squares.y + squares.z + squares.w) / f32(u.C) + 1e-5);
  for (var c = 0u; c < n; c++) {
    out[u.outOff / 4u + c] = (inp[x + c] - m) * s * weight[u.weightOff / 4u + c] + bias[u.biasOff / 4u + c];
  }
}`;

/**
 * LayerNorm of one row [C]: as vec4s in one invocation when C and the offsets
 * allow (a quarter of the loop of layernormForward's, whose saved mean and
 * 1/std nothing reads in a step), else layernormForward.
 */
export function layernormRow(
  p: Program,
  out: GPUTensor,
  mean: GPUTensor,
  rstd: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  bias: GPUTensor,
  C: number,
): Dispatch[] {
  const bound = [p.bind(out, C), p.bind(inp, C), p.bind(weight, C), p.bind(bias, C)];
  if (C % 4 !== 0 || bound.some((b) => b.offset % 4 !== 0)) return layernormForward(p, out, mean, rstd, inp, weight, bias, 1, C);
  const [o, i, w, b] = bound.map((t) => t.offset);
  const u = uniforms(4, { C, outOff: o!, inpOff: i!, weightOff: w!, biasOff: b! });
  const pipeline = p.pipeline('layernorm row vec4', () => LAYERNORM_ROW);
  return [
    p.dispatch(
      pipeline,
      bound.map((t) => t.binding),
      u.data,
      [1, 1, 1],
    ),
  ];
}

/** logits [V] = x [C]·Wᵀ over the unembedding's row blocks, x LayerNormed first with `norm`: one dispatch per block. */
export function unembedRow(
  p: Program,
  logits: GPUTensor,
  x: GPUTensor,
  blocks: RowBlock[],
  C: number,
  step: GPUTensor,
  norm: MatvecOptions['norm'] = null,
): Dispatch[] {
  return blocks.map((block) => matvec(p, offsetBy(logits, block.firstRow), x, block.buffer, C, block.rows, step, { norm }, true));
}

const STEP_SCORES = perIndexKernel(
  'cached attention scores',
  ['scores: rw', 'qkv', 'step: i32'],
  ['T', 'C', 'hs'],
  ['scale'],
  /* wgsl */ `
  // i is (head h, key j) over blockSize keys; the step's query attends to keys 0..position.
  let position = u32(step[u.stepOff + 1u]);
  let h = i / u.T;
  let j = i % u.T;
  if (j > position) { return; }
  let q = u.qkvOff + position * 3u * u.C + h * u.hs;
  let k = u.qkvOff + j * 3u * u.C + u.C + h * u.hs;
  var dot = 0.0;
  for (var d = 0u; d < u.hs; d++) { dot += qkv[q + d] * qkv[k + d]; }
  scores[u.scoresOff + i] = dot * u.scale;`,
);

const STEP_ATTEND = perIndexKernel(
  'cached attention output',
  ['out: rw', 'scores', 'qkv', 'step: i32'],
  ['T', 'C', 'hs'],
  [],
  /* wgsl */ `
  // i is a channel c of the output row (head c / hs): softmax of the head's scores over keys
  // 0..position folded into the weighted sum of the values at c, normalised at the end.
  let last = u32(step[u.stepOff + 1u]);
  let row = u.scoresOff + (i / u.hs) * u.T;
  var maxScore = -0x1.fffffep+127f;
  for (var j = 0u; j <= last; j++) { maxScore = max(maxScore, scores[row + j]); }
  var at = u.qkvOff + 2u * u.C + i;
  var sum = 0.0;
  var weighted = 0.0;
  for (var j = 0u; j <= last; j++) {
    let e = exp(scores[row + j] - maxScore);
    sum += e;
    weighted += e * qkv[at];
    at += 3u * u.C;
  }
  out[u.outOff + i] = weighted / sum;`,
);

/**
 * Attention of the step's query against the cached keys and values of one
 * layer (qkv [blockSize, 3C], the step's own row included): out [C], with
 * `att` [NH, blockSize] as scratch for the scores. Two dispatches: the scores,
 * then the softmax folded into the weighted sum of the values.
 */
export function cachedAttention(
  p: Program,
  out: GPUTensor,
  att: GPUTensor,
  qkv: GPUTensor,
  step: GPUTensor,
  blockSize: number,
  C: number,
  NH: number,
): Dispatch[] {
  const hs = C / NH;
  const T = blockSize;
  return [
    perIndex(
      p,
      STEP_SCORES,
      { count: NH * T, fields: [T, C, hs], floats: [1 / Math.sqrt(hs)] },
      [att, NH * T],
      [qkv, T * 3 * C],
      [step, 2],
    ),
    perIndex(p, STEP_ATTEND, { count: C, fields: [T, C, hs] }, [out, C], [att, NH * T], [qkv, T * 3 * C], [step, 2]),
  ];
}
