/**
 * The backward kernels on the GPU: one function per backward function of
 * kernels.ts, same name, same arguments (GPUBuffers instead of arrays, a Program
 * first), each returning the Dispatches that perform it. Same rules as there:
 * they ADD into the gradient buffers, except crossEntropySoftmaxBackward (it
 * starts the pass) and attentionBackward's scratch (datt, dpreatt), which write.
 *
 * Two shapes of kernel cover everything:
 *  - gemm: a strided, batched matrix product with a 4×4 block of outputs per
 *    invocation held in registers (no workgroup memory, no barriers), which
 *    serves every matmul, unembedding and attention product and their transposes;
 *  - one invocation per index (an element, a row or a channel) looping over the
 *    rest: a gradient that many positions add into (a bias, a LayerNorm gain,
 *    an embedding row) is owned by one invocation, so no two ever race on it.
 */

import { FLAT_WORKGROUP_WGSL, type Dispatch, type Program } from './program.ts';

const WORKGROUP_SIZE = 64;

/** Packs a uniform block: the u32 fields first, then the f32 fields, in WGSL struct order. */
export function uniformBlock(words: number[], floats: number[] = []): ArrayBuffer {
  const data = new ArrayBuffer(4 * (words.length + floats.length));
  new Uint32Array(data, 0, words.length).set(words);
  new Float32Array(data, 4 * words.length, floats.length).set(floats);
  return data;
}

/** Program.dispatch, after checking each buffer fits one binding (whole buffers are bound). */
function bind(
  p: Program, pipeline: GPUComputePipeline, buffers: GPUBuffer[], uniforms: ArrayBuffer, workgroups: [number, number, number],
): Dispatch {
  const limit = p.ctx.limits.maxStorageBufferBindingSize;
  for (const buffer of buffers) {
    if (buffer.size > limit) {
      throw new Error(`A ${buffer.size}-byte buffer is larger than this GPU can bind (${limit} bytes): the model is too big for the WebGPU backend here.`);
    }
  }
  const max = p.ctx.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((n) => n > max)) throw new Error(`Dispatch of ${workgroups.join('×')} workgroups exceeds this GPU's ${max} per dimension.`);
  return p.dispatch(pipeline, buffers, uniforms, workgroups);
}

/**
 * A kernel run once for each index i < u.count (an element, a row or a
 * channel). `declarations` binds the buffers and declares `struct Uniforms`
 * (its first field `count`) at the binding after them; `body` uses i.
 */
export function perIndexWGSL(declarations: string, body: string): string {
  return /* wgsl */ `
${declarations}
${FLAT_WORKGROUP_WGSL}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flatWorkgroup(wid, nwg) * ${WORKGROUP_SIZE}u + lid;
  if (i >= u.count) { return; }
${body}
}`;
}

/** Dispatches a perIndexWGSL kernel over `count` indices (uniforms must start with count). */
export function perIndex(
  p: Program, name: string, wgsl: string, buffers: GPUBuffer[], uniforms: ArrayBuffer, count: number,
): Dispatch {
  return bind(p, p.pipeline(name, wgsl), buffers, uniforms, p.grid(Math.ceil(count / WORKGROUP_SIZE)));
}

// ---- gemm ----

/**
 * Where a matrix's element (row r, column c) of batch b, head h sits in its
 * buffer: offset + b·batch + h·head + r·row + c·col. Strides let one kernel read
 * transposes and one head's columns out of [T, 3C] rows without copies.
 */
interface View { offset: number; row: number; col: number; batch: number; head: number }

const rowMajor = (columns: number, offset = 0): View => ({ offset, row: columns, col: 1, batch: 0, head: 0 });
const transposed = (v: View): View => ({ ...v, row: v.col, col: v.row });

const BLOCK = 4; // outputs per invocation along each axis
const GEMM_TILE = 8; // invocations per workgroup along each axis

const GEMM_WGSL = /* wgsl */ `
struct Uniforms {
  M: u32, N: u32, K: u32, heads: u32,
  aOffset: u32, aRow: u32, aCol: u32, aBatch: u32, aHead: u32,
  bOffset: u32, bRow: u32, bCol: u32, bBatch: u32, bHead: u32,
  cOffset: u32, cRow: u32, cBatch: u32, cHead: u32,
  accumulate: u32, alpha: f32,
}
@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<uniform> u: Uniforms;

fn store(cBase: u32, row: u32, values: vec4f, n0: u32) {
  if (row >= u.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < u.N) {
      let index = cBase + row * u.cRow + n0 + j;
      var value = u.alpha * values[j];
      if (u.accumulate != 0u) { value += c[index]; }
      c[index] = value;
    }
  }
}

@compute @workgroup_size(${GEMM_TILE}, ${GEMM_TILE})
fn main(@builtin(global_invocation_id) id: vec3u) {
  let m0 = id.y * 4u;
  let n0 = id.x * 4u;
  if (m0 >= u.M || n0 >= u.N) { return; }
  let batch = id.z / u.heads;
  let head = id.z % u.heads;
  // Rows and columns past the edge read the last valid one (no branch in the
  // loop); store() drops their results.
  let offsets = vec4u(0u, 1u, 2u, 3u);
  let aRows = u.aOffset + batch * u.aBatch + head * u.aHead + min(m0 + offsets, vec4u(u.M - 1u)) * u.aRow;
  let bCols = u.bOffset + batch * u.bBatch + head * u.bHead + min(n0 + offsets, vec4u(u.N - 1u)) * u.bCol;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = 0u; k < u.K; k++) {
    let ak = aRows + k * u.aCol;
    let bk = bCols + k * u.bRow;
    let bRow = vec4f(b[bk.x], b[bk.y], b[bk.z], b[bk.w]);
    acc0 += a[ak.x] * bRow;
    acc1 += a[ak.y] * bRow;
    acc2 += a[ak.z] * bRow;
    acc3 += a[ak.w] * bRow;
  }
  let cBase = u.cOffset + batch * u.cBatch + head * u.cHead;
  store(cBase, m0, acc0, n0);
  store(cBase, m0 + 1u, acc1, n0);
  store(cBase, m0 + 2u, acc2, n0);
  store(cBase, m0 + 3u, acc3, n0);
}`;

interface GemmOptions {
  accumulate: boolean;
  /** Multiplies the product (before it is added). */
  alpha?: number;
  /** Independent products, indexed (batch, head): batches·heads of them in one dispatch. */
  batches?: number;
  heads?: number;
}

/**
 * c[M,N] (+)= alpha·a[M,K]·b[K,N] for every (batch, head), each matrix read
 * through its View (c's columns contiguous).
 */
function gemm(
  p: Program, c: GPUBuffer, cView: View, a: GPUBuffer, aView: View, b: GPUBuffer, bView: View,
  M: number, K: number, N: number, options: GemmOptions,
): Dispatch {
  const { accumulate, alpha = 1, batches = 1, heads = 1 } = options;
  const uniforms = uniformBlock([
    M, N, K, heads,
    aView.offset, aView.row, aView.col, aView.batch, aView.head,
    bView.offset, bView.row, bView.col, bView.batch, bView.head,
    cView.offset, cView.row, cView.batch, cView.head,
    accumulate ? 1 : 0,
  ], [alpha]);
  const span = BLOCK * GEMM_TILE;
  return bind(p, p.pipeline('gemm', GEMM_WGSL), [c, a, b], uniforms, [Math.ceil(N / span), Math.ceil(M / span), batches * heads]);
}

// ---- the backward kernels ----

const ENCODER_BACKWARD_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, positions: u32, T: u32 }
@group(0) @binding(0) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(1) var<storage, read_write> dwpe: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> tokens: array<u32>;
@group(0) @binding(4) var<uniform> u: Uniforms;`, /* wgsl */ `
  // i is a channel: this invocation alone writes column i of dwte and dwpe,
  // so repeated tokens add up without races.
  let C = u.count;
  for (var n = 0u; n < u.positions; n++) {
    let d = dout[n * C + i];
    dwte[tokens[n] * C + i] += d;
    dwpe[(n % u.T) * C + i] += d;
  }`);

/** Scatters dout [B,T,C] back onto the rows of wte [V,C] and wpe [T,C] (tokens: a u32/i32 buffer [B·T]). */
export function encoderBackward(
  p: Program, dwte: GPUBuffer, dwpe: GPUBuffer, dout: GPUBuffer, tokens: GPUBuffer, B: number, T: number, C: number,
): Dispatch[] {
  return [perIndex(p, 'encoderBackward', ENCODER_BACKWARD_WGSL, [dwte, dwpe, dout, tokens], uniformBlock([C, B * T, T]), C)];
}

const LAYERNORM_BACKWARD_INPUT_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, C: u32 }
@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<uniform> u: Uniforms;`, /* wgsl */ `
  // i is a row.
  let off = i * u.C;
  let m = mean[i];
  let s = rstd[i];
  var gMean = 0.0;
  var gNormMean = 0.0;
  for (var c = 0u; c < u.C; c++) {
    let g = weight[c] * dout[off + c];
    gMean += g;
    gNormMean += g * (inp[off + c] - m) * s;
  }
  gMean /= f32(u.C);
  gNormMean /= f32(u.C);
  for (var c = 0u; c < u.C; c++) {
    let norm = (inp[off + c] - m) * s;
    dinp[off + c] += s * (weight[c] * dout[off + c] - gMean - norm * gNormMean);
  }`);

const LAYERNORM_BACKWARD_PARAMS_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, N: u32 }
@group(0) @binding(0) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<uniform> u: Uniforms;`, /* wgsl */ `
  // i is a channel; the sums over rows are this invocation's alone.
  let C = u.count;
  var weightSum = 0.0;
  var biasSum = 0.0;
  for (var n = 0u; n < u.N; n++) {
    let d = dout[n * C + i];
    weightSum += (inp[n * C + i] - mean[n]) * rstd[n] * d;
    biasSum += d;
  }
  dweight[i] += weightSum;
  dbias[i] += biasSum;`);

/** LayerNorm backward from the saved mean and rstd [N]: one pass per row for dinp, one per channel for dweight and dbias. */
export function layernormBackward(
  p: Program, dinp: GPUBuffer, dweight: GPUBuffer, dbias: GPUBuffer, dout: GPUBuffer,
  inp: GPUBuffer, weight: GPUBuffer, mean: GPUBuffer, rstd: GPUBuffer, N: number, C: number,
): Dispatch[] {
  return [
    perIndex(p, 'layernormBackwardInput', LAYERNORM_BACKWARD_INPUT_WGSL, [dinp, dout, inp, weight, mean, rstd], uniformBlock([N, C]), N),
    perIndex(p, 'layernormBackwardParams', LAYERNORM_BACKWARD_PARAMS_WGSL, [dweight, dbias, dout, inp, mean, rstd], uniformBlock([C, N]), C),
  ];
}

const COLUMN_SUMS_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, N: u32 }
@group(0) @binding(0) var<storage, read_write> sums: array<f32>;
@group(0) @binding(1) var<storage, read> matrix: array<f32>;
@group(0) @binding(2) var<uniform> u: Uniforms;`, /* wgsl */ `
  var sum = 0.0;
  for (var n = 0u; n < u.N; n++) { sum += matrix[n * u.count + i]; }
  sums[i] += sum;`);

/**
 * Backward of out = inp·weight + bias (inp [N,C], weight [C,OC]):
 * dinp += dout·weightᵀ, dweight += inpᵀ·dout, dbias += column sums of dout.
 */
export function matmulBackward(
  p: Program, dinp: GPUBuffer, dweight: GPUBuffer, dbias: GPUBuffer | null, dout: GPUBuffer,
  inp: GPUBuffer, weight: GPUBuffer, N: number, C: number, OC: number,
): Dispatch[] {
  const dispatches = [
    gemm(p, dinp, rowMajor(C), dout, rowMajor(OC), weight, transposed(rowMajor(OC)), N, OC, C, { accumulate: true }),
    gemm(p, dweight, rowMajor(OC), inp, transposed(rowMajor(C)), dout, rowMajor(OC), C, N, OC, { accumulate: true }),
  ];
  if (dbias) dispatches.push(perIndex(p, 'columnSums', COLUMN_SUMS_WGSL, [dbias, dout], uniformBlock([OC, N]), OC));
  return dispatches;
}

/**
 * Backward of logits = inp·weightᵀ (inp [N,C], weight [V,C]):
 * dinp += dlogits·weight, dweight += dlogitsᵀ·inp.
 */
export function unembedBackward(
  p: Program, dinp: GPUBuffer, dweight: GPUBuffer, dlogits: GPUBuffer,
  inp: GPUBuffer, weight: GPUBuffer, N: number, C: number, V: number,
): Dispatch[] {
  return [
    gemm(p, dinp, rowMajor(C), dlogits, rowMajor(V), weight, rowMajor(C), N, V, C, { accumulate: true }),
    gemm(p, dweight, rowMajor(C), dlogits, transposed(rowMajor(V)), inp, rowMajor(C), V, N, C, { accumulate: true }),
  ];
}

const SOFTMAX_BACKWARD_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, T: u32 }
@group(0) @binding(0) var<storage, read_write> datt: array<f32>;
@group(0) @binding(1) var<storage, read_write> dpreatt: array<f32>;
@group(0) @binding(2) var<storage, read> att: array<f32>;
@group(0) @binding(3) var<uniform> u: Uniforms;`, /* wgsl */ `
  // i is one query's row of one head; keys after the query are hidden.
  let t = i % u.T;
  let off = i * u.T;
  var weighted = 0.0; // Σ att·datt over the visible keys
  for (var j = 0u; j <= t; j++) { weighted += att[off + j] * datt[off + j]; }
  for (var j = 0u; j <= t; j++) { dpreatt[off + j] = att[off + j] * (datt[off + j] - weighted); }
  for (var j = t + 1u; j < u.T; j++) {
    datt[off + j] = 0.0;
    dpreatt[off + j] = 0.0;
  }`);

/**
 * Causal attention backward from the qkv [B,T,3C] and att [B,NH,T,T] the
 * forward pass kept, every head at once:
 *   datt = dout·Vᵀ, dV += attᵀ·dout; dpreatt = att·(datt − Σ_keys att·datt);
 *   dQ += dpreatt·K/√hs, dK += dpreattᵀ·Q/√hs.
 * datt and dpreatt [B,NH,T,T] are written (hidden keys' entries 0).
 */
export function attentionBackward(
  p: Program, dqkv: GPUBuffer, dpreatt: GPUBuffer, datt: GPUBuffer, dout: GPUBuffer,
  qkv: GPUBuffer, att: GPUBuffer, B: number, T: number, C: number, NH: number,
): Dispatch[] {
  const hs = C / NH;
  const C3 = 3 * C;
  const everyHead = { batches: B, heads: NH };
  // One head's [T, hs] slice of the [T, C] rows and of the q, k, v thirds of the [T, 3C] rows.
  const headOut: View = { offset: 0, row: C, col: 1, batch: T * C, head: hs };
  const query: View = { offset: 0, row: C3, col: 1, batch: T * C3, head: hs };
  const key: View = { ...query, offset: C };
  const value: View = { ...query, offset: 2 * C };
  const scores: View = { offset: 0, row: T, col: 1, batch: NH * T * T, head: T * T };
  const scale = 1 / Math.sqrt(hs);
  return [
    gemm(p, datt, scores, dout, headOut, qkv, transposed(value), T, hs, T, { accumulate: false, ...everyHead }),
    gemm(p, dqkv, value, att, transposed(scores), dout, headOut, T, T, hs, { accumulate: true, ...everyHead }),
    perIndex(p, 'softmaxBackward', SOFTMAX_BACKWARD_WGSL, [datt, dpreatt, att], uniformBlock([B * NH * T, T]), B * NH * T),
    gemm(p, dqkv, query, dpreatt, scores, qkv, key, T, T, hs, { accumulate: true, alpha: scale, ...everyHead }),
    gemm(p, dqkv, key, dpreatt, transposed(scores), qkv, query, T, T, hs, { accumulate: true, alpha: scale, ...everyHead }),
  ];
}

const GELU_BACKWARD_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<uniform> u: Uniforms;
const GELU_SCALE = 0.7978845608028654; // √(2/π)
const GELU_CUBIC = 0.044715;`, /* wgsl */ `
  // gelu = x·s with s = σ(2u), u = √(2/π)·(x + 0.044715·x³) (see kernels.ts).
  let x = inp[i];
  let s = 1.0 / (1.0 + exp(-2.0 * GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
  let grad = s + 2.0 * x * s * (1.0 - s) * GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * x * x);
  dinp[i] += grad * dout[i];`);

/** GELU backward: dinp += gelu′(inp)·dout over N floats. */
export function geluBackward(p: Program, dinp: GPUBuffer, inp: GPUBuffer, dout: GPUBuffer, N: number): Dispatch[] {
  return [perIndex(p, 'geluBackward', GELU_BACKWARD_WGSL, [dinp, inp, dout], uniformBlock([N]), N)];
}

const RESIDUAL_BACKWARD_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32 }
@group(0) @binding(0) var<storage, read_write> da: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<uniform> u: Uniforms;`, /* wgsl */ `
  da[i] += dout[i];
  db[i] += dout[i];`);

/** A sum passes its gradient unchanged to both terms. */
export function residualBackward(p: Program, da: GPUBuffer, db: GPUBuffer, dout: GPUBuffer, N: number): Dispatch[] {
  return [perIndex(p, 'residualBackward', RESIDUAL_BACKWARD_WGSL, [da, db, dout], uniformBlock([N]), N)];
}

const CROSS_ENTROPY_SOFTMAX_BACKWARD_WGSL = perIndexWGSL(/* wgsl */ `
struct Uniforms { count: u32, V: u32, scale: f32 }
@group(0) @binding(0) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<u32>;
@group(0) @binding(3) var<uniform> u: Uniforms;`, /* wgsl */ `
  // i is a row (a position).
  let off = i * u.V;
  var maxLogit = logits[off];
  for (var v = 1u; v < u.V; v++) { maxLogit = max(maxLogit, logits[off + v]); }
  var sum = 0.0;
  for (var v = 0u; v < u.V; v++) {
    let e = exp(logits[off + v] - maxLogit);
    dlogits[off + v] = e;
    sum += e;
  }
  let norm = u.scale / sum;
  for (var v = 0u; v < u.V; v++) { dlogits[off + v] *= norm; }
  dlogits[off + targets[i]] -= u.scale;`);

/**
 * dlogits [N,V] = (softmax(logits) − onehot(targets))·scale per row: WRITES (it
 * starts the backward pass). targets: a u32/i32 buffer [N].
 */
export function crossEntropySoftmaxBackward(
  p: Program, dlogits: GPUBuffer, logits: GPUBuffer, targets: GPUBuffer, N: number, V: number, scale: number,
): Dispatch[] {
  return [perIndex(p, 'crossEntropySoftmaxBackward', CROSS_ENTROPY_SOFTMAX_BACKWARD_WGSL, [dlogits, logits, targets], uniformBlock([N, V], [scale]), N)];
}
