/**
 * The backward kernels on the GPU: one function per backward function of
 * kernels.ts, same name, same arguments (GPU tensors, a buffer or a float offset
 * into one, instead of arrays; a Program first), each returning the Dispatches
 * that perform it. Same rules as there: they ADD into the gradient buffers,
 * except crossEntropySoftmaxBackward (it starts the pass) and attentionBackward's
 * scratch (datt, dpreatt), which write.
 *
 * Two shapes of kernel cover everything:
 *  - gemm: a strided, batched matrix product with a 4×4 block of outputs per
 *    invocation held in registers (no workgroup memory, no barriers; vec4 loads
 *    where an operand is contiguous and aligned), which serves every matmul,
 *    unembedding and attention product and their transposes;
 *  - one invocation per index (an element, a row or a channel) looping over the
 *    rest: a gradient that many positions add into (a bias, a LayerNorm gain,
 *    an embedding row) is owned by one invocation, so no two ever race on it.
 */

import { geluGradWGSL, matmulAccumulate } from './forward.ts';
import {
  bindingFloats, type Dispatch, ENTRY_WGSL, type GPUTensor, offsetBy, packUniforms, pieces, type Program, storage, uniformsWGSL,
} from './program.ts';

/**
 * A kernel run once for each index i < u.count (an element, a row or a
 * channel). Each buffer is `name` (read-only f32), `name: rw` (written) or
 * `name: i32`; the body reads it as name[u.nameOff + …], its offset in floats
 * within the binding. `fields` (u32) and `floats` (f32) name the other uniforms.
 */
export interface PerIndexKernel { name: string; wgsl: string }

export function perIndexKernel(
  name: string, buffers: string[], fields: string[], floats: string[], body: string,
): PerIndexKernel {
  const parsed = buffers.map((spec) => {
    const [bufferName, kind] = spec.split(':').map((part) => part.trim());
    return { name: bufferName!, writable: kind === 'rw', type: kind === 'i32' ? 'i32' : 'f32' };
  });
  const wgsl = /* wgsl */ `
${parsed.map((b, i) => storage(i, b.name, b.type, b.writable)).join('\n')}
${uniformsWGSL(parsed.length, ['count', ...fields, ...parsed.map((b) => `${b.name}Off`)], floats)}
${ENTRY_WGSL}
  let i = id;
  if (i >= u.count) { return; }
${body}
}`;
  return { name, wgsl };
}

/**
 * Dispatches a perIndexKernel over `count` indices: `tensors` in the kernel's
 * buffer order, each with the number of floats it touches (what gets bound;
 * none: to the end of its buffer),
 * then the values of its u32 `fields` and f32 `floats`.
 */
export function perIndex(
  p: Program, kernel: PerIndexKernel, tensors: [GPUTensor, number?][], fields: number[], floats: number[], count: number,
): Dispatch {
  const bound = tensors.map(([tensor, length]) => p.bind(tensor, length));
  const uniforms = packUniforms([count, ...fields, ...bound.map((b) => b.offset)], floats);
  return p.dispatch(
    p.pipeline(kernel.name, kernel.wgsl), bound.map((b) => b.binding), uniforms, p.grid(count),
  );
}

// ---- gemm ----

/**
 * Where a matrix's element (row r, column c) of batch b, head h sits in its
 * tensor: offset + b·batch + h·head + r·row + c·col. Strides let one kernel read
 * transposes and one head's columns out of [T, 3C] rows without copies.
 */
export interface View { offset: number; row: number; col: number; batch: number; head: number }

export const rowMajor = (columns: number, offset = 0): View => ({ offset, row: columns, col: 1, batch: 0, head: 0 });
export const transposed = (v: View): View => ({ ...v, row: v.col, col: v.row });

const BLOCK = 4; // outputs per invocation along each axis
const GEMM_TILE = 8; // invocations per workgroup along each axis

/**
 * How the gemm reads an operand: as vec4s of four adjacent, aligned floats
 * along k ('k'), or along the block's rows of a / columns of b ('mn'), or as
 * scalars through the strides ('scalar').
 */
type OperandLoad = 'k' | 'mn' | 'scalar';

/**
 * Rows and columns of c per invocation: 8×8 when both operands are read as
 * vec4s across the block (4 vec4 loads per 64 multiply-adds: on SwiftShader,
 * where each load costs several multiply-adds, this runs in about half the
 * time of a 4×4 block), 4×4 otherwise (a larger block there keeps more vec4s
 * live than the CPU has registers and is no faster).
 */
const blockSize = (aLoad: OperandLoad, bLoad: OperandLoad): number => (aLoad === 'mn' && bLoad === 'mn' ? 8 : BLOCK);

/**
 * The gemm's WGSL. Each invocation keeps a block of c in registers (see
 * blockSize). When an operand is contiguous along k, the loop steps k by 4 and
 * multiplies 4×4 tiles (8 vec4 loads for 64 multiply-adds); otherwise it steps
 * k by 1 with a column of a times a row of b (an outer product).
 */
function gemmWGSL(aLoad: OperandLoad, bLoad: OperandLoad, sums: boolean): string {
  const block = blockSize(aLoad, bLoad);
  const rows = [...Array(block).keys()];
  // Accumulator of row r, columns n0 + 4q .. n0 + 4q + 3.
  const acc = (r: number, q: number) => `acc${r}${q ? '_4' : ''}`;
  return /* wgsl */ `
struct Uniforms {
  M: u32, N: u32, K: u32, heads: u32,
  aOffset: u32, aRow: u32, aCol: u32, aBatch: u32, aHead: u32,
  bOffset: u32, bRow: u32, bCol: u32, bBatch: u32, bHead: u32,
  cOffset: u32, cRow: u32, cBatch: u32, cHead: u32,
  accumulate: u32, sumsOffset: u32, causal: u32, alpha: f32,
}
@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<${aLoad === 'scalar' ? 'f32' : 'vec4f'}>;
@group(0) @binding(2) var<storage, read> b: array<${bLoad === 'scalar' ? 'f32' : 'vec4f'}>;
${sums ? '@group(0) @binding(3) var<storage, read_write> sums: array<f32>;' : ''}
@group(0) @binding(${sums ? 4 : 3}) var<uniform> u: Uniforms;

// a[m0..m0+3, k] for the block's rows (their offsets in aRows), b[k, n0..n0+3].
${aLoad === 'k' || block === 8 ? '' : /* wgsl */ `fn aColumn(aRows: vec4u, k: u32) -> vec4f {
  let ak = aRows + k * u.aCol;
  return ${aLoad === 'mn' ? 'a[ak.x / 4u]' : 'vec4f(a[ak.x], a[ak.y], a[ak.z], a[ak.w])'};
}`}
${bLoad === 'k' || block === 8 ? '' : /* wgsl */ `fn bRow(bCols: vec4u, k: u32) -> vec4f {
  let bk = bCols + k * u.bRow;
  return ${bLoad === 'mn' ? 'b[bk.x / 4u]' : 'vec4f(b[bk.x], b[bk.y], b[bk.z], b[bk.w])'};
}`}

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
  let m0 = id.y * ${block}u;
  let n0 = id.x * ${block}u;
  if (m0 >= u.M || n0 >= u.N) { return; }
  // Causal products (see Causal): a block wholly above the diagonal is skipped,
  // or k runs only where a's row holds nonzeros (k ≥ or ≤ the block's rows).
  if (u.causal == ${CAUSAL.skipAbove}u && n0 >= m0 + ${block}u) { return; }
  let kBegin = select(0u, m0, u.causal == ${CAUSAL.kFromRow}u);
  let kEnd = select(u.K, min(u.K, m0 + ${block}u), u.causal == ${CAUSAL.kToRow}u);
  let batch = id.z / u.heads;
  let head = id.z % u.heads;
  // Rows and columns past the edge read the last valid one (no branch in the
  // loop); store() drops their results.
  let offsets = vec4u(0u, 1u, 2u, 3u);
  let aRows = u.aOffset + batch * u.aBatch + head * u.aHead + min(m0 + offsets, vec4u(u.M - 1u)) * u.aRow;
  let bCols = u.bOffset + batch * u.bBatch + head * u.bHead + min(n0 + offsets, vec4u(u.N - 1u)) * u.bCol;
  ${rows.map((r) => [...Array(block / 4).keys()].map((q) => `var ${acc(r, q)} = vec4f(0.0);`).join(' ')).join('\n  ')}
${block === 8 ? /* wgsl */ `
  // Both read as vec4s across the block: per step of k, rows m0..m0+7 of a's
  // column and columns n0..n0+7 of b's row. A second half past the edge reads
  // the last whole vec4 instead (M and N are multiples of 4); store() drops it.
  let aStep = u.aCol / 4u;
  let bStep = u.bRow / 4u;
  var aIndex = aRows.x / 4u + kBegin * aStep;
  var bIndex = bCols.x / 4u + kBegin * bStep;
  let aHigh = (min(m0 + 4u, u.M - 4u) - m0) / 4u;
  let bHigh = (min(n0 + 4u, u.N - 4u) - n0) / 4u;
  ${sums ? 'var sum = vec4f(0.0); var sumHigh = vec4f(0.0);' : ''}
  for (var k = kBegin; k < kEnd; k++) {
    let column = a[aIndex]; let columnHigh = a[aIndex + aHigh];
    let row = b[bIndex]; let rowHigh = b[bIndex + bHigh];
    ${rows.map((r) => `${acc(r, 0)} += ${r < 4 ? 'column' : 'columnHigh'}[${r % 4}] * row; ${acc(r, 1)} += ${r < 4 ? 'column' : 'columnHigh'}[${r % 4}] * rowHigh;`).join('\n    ')}
    ${sums ? 'sum += row; sumHigh += rowHigh;' : ''}
    aIndex += aStep;
    bIndex += bStep;
  }
  ${sums ? /* wgsl */ `// b's column sums ride along the loaded rows: the first block row adds them.
  if (m0 == 0u) {
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < u.N) { sums[u.sumsOffset + n0 + j] += sum[j]; }
      if (n0 + 4u + j < u.N) { sums[u.sumsOffset + n0 + 4u + j] += sumHigh[j]; }
    }
  }` : ''}` : aLoad === 'k' && bLoad === 'k' ? /* wgsl */ `
  // Both operands contiguous along k: 4 rows of a and 4 columns of b as vec4s,
  // 16 dot products (no tile construction; 1.5× the mat4x4 form on SwiftShader).
  let aIndex = aRows / 4u;
  let bIndex = bCols / 4u;
  for (var k = kBegin / 4u; k < kEnd / 4u; k++) {
    let b0 = b[bIndex.x + k]; let b1 = b[bIndex.y + k]; let b2 = b[bIndex.z + k]; let b3 = b[bIndex.w + k];
    let a0 = a[aIndex.x + k]; acc0 += vec4f(dot(a0, b0), dot(a0, b1), dot(a0, b2), dot(a0, b3));
    let a1 = a[aIndex.y + k]; acc1 += vec4f(dot(a1, b0), dot(a1, b1), dot(a1, b2), dot(a1, b3));
    let a2 = a[aIndex.z + k]; acc2 += vec4f(dot(a2, b0), dot(a2, b1), dot(a2, b2), dot(a2, b3));
    let a3 = a[aIndex.w + k]; acc3 += vec4f(dot(a3, b0), dot(a3, b1), dot(a3, b2), dot(a3, b3));
  }` : aLoad === 'k' || bLoad === 'k' ? /* wgsl */ `
  for (var k = kBegin; k < kEnd; k += 4u) {
    // Row i of aTile is a[m0 + i, k..k+3]; column j of bTile is b[k + j, n0..n0+3].
    let aTile = ${aLoad === 'k'
      ? 'mat4x4f(a[(aRows.x + k) / 4u], a[(aRows.y + k) / 4u], a[(aRows.z + k) / 4u], a[(aRows.w + k) / 4u])'
      : 'transpose(mat4x4f(aColumn(aRows, k), aColumn(aRows, k + 1u), aColumn(aRows, k + 2u), aColumn(aRows, k + 3u)))'};
    let bTile = ${bLoad === 'k'
      ? 'transpose(mat4x4f(b[(bCols.x + k) / 4u], b[(bCols.y + k) / 4u], b[(bCols.z + k) / 4u], b[(bCols.w + k) / 4u]))'
      : 'mat4x4f(bRow(bCols, k), bRow(bCols, k + 1u), bRow(bCols, k + 2u), bRow(bCols, k + 3u))'};
    acc0 += bTile * aTile[0];
    acc1 += bTile * aTile[1];
    acc2 += bTile * aTile[2];
    acc3 += bTile * aTile[3];
  }` : /* wgsl */ `
  // Outer products, 4 steps of k per iteration (a quarter of the loop overhead), then the rest.
  var k = kBegin;
  for (; k + 4u <= kEnd; k += 4u) {
    let c0 = aColumn(aRows, k); let c1 = aColumn(aRows, k + 1u); let c2 = aColumn(aRows, k + 2u); let c3 = aColumn(aRows, k + 3u);
    let r0 = bRow(bCols, k); let r1 = bRow(bCols, k + 1u); let r2 = bRow(bCols, k + 2u); let r3 = bRow(bCols, k + 3u);
    acc0 += c0.x * r0 + c1.x * r1 + c2.x * r2 + c3.x * r3;
    acc1 += c0.y * r0 + c1.y * r1 + c2.y * r2 + c3.y * r3;
    acc2 += c0.z * r0 + c1.z * r1 + c2.z * r2 + c3.z * r3;
    acc3 += c0.w * r0 + c1.w * r1 + c2.w * r2 + c3.w * r3;
  }
  for (; k < kEnd; k++) {
    let column = aColumn(aRows, k);
    let row = bRow(bCols, k);
    acc0 += column.x * row;
    acc1 += column.y * row;
    acc2 += column.z * row;
    acc3 += column.w * row;
  }`}
  let cBase = u.cOffset + batch * u.cBatch + head * u.cHead;
  ${rows.map((r) => [...Array(block / 4).keys()].map((q) => `store(cBase, m0 + ${r}u, ${acc(r, q)}, n0 + ${4 * q}u);`).join(' ')).join('\n  ')}
}`;
}

export interface GemmOptions {
  accumulate: boolean;
  /** Multiplies the product (before it is added). */
  alpha?: number;
  /** Independent products, indexed (batch, head): batches·heads of them in one dispatch. */
  batches?: number;
  heads?: number;
  /**
   * Adds b's column sums (Σ_k b[k, n]) into this tensor too, from the rows the
   * 8×8 loop loads anyway (a bias gradient without reading b again); only for
   * one product whose a and b are both read across the block (blockSize 8).
   */
  columnSums?: GPUTensor;
  /** Skips work that a causal mask makes zero (see Causal); none by default. */
  causal?: Causal;
}

/**
 * Causal attention's products, where a [T, T] matrix of query rows and key
 * columns is zero above its diagonal (keys after the query):
 *  - skipAbove: c is such a matrix and its entries above the diagonal are not
 *    needed (blocks wholly above it are left as they were);
 *  - kToRow: a is such a matrix (k ≤ row matters);
 *  - kFromRow: a is one transposed (k ≥ row matters).
 * Rows and k count from the same origin (both index positions in the sequence).
 */
export type Causal = 'skipAbove' | 'kToRow' | 'kFromRow';
const CAUSAL: Record<Causal | 'none', number> = { none: 0, skipAbove: 1, kToRow: 2, kFromRow: 3 };

/**
 * c[M,N] (+)= alpha·a[M,K]·b[K,N] for every (batch, head), each matrix read
 * through its View (c's columns contiguous). Binds each tensor from its first
 * to its last element used.
 */
export function gemm(
  p: Program, c: GPUTensor, cView: View, a: GPUTensor, aView: View, b: GPUTensor, bView: View,
  M: number, K: number, N: number, options: GemmOptions,
): Dispatch {
  const { accumulate, alpha = 1, batches = 1, heads = 1, columnSums, causal = 'none' } = options;
  const bindView = (tensor: GPUTensor, v: View, rows: number, cols: number) => {
    const last = (batches - 1) * v.batch + (heads - 1) * v.head + (rows - 1) * v.row + (cols - 1) * v.col;
    const bound = p.bind(offsetBy(tensor, v.offset), last + 1);
    return { binding: bound.binding, view: { ...v, offset: bound.offset } };
  };
  const [cb, ab, bb] = [bindView(c, { ...cView, col: 1 }, M, N), bindView(a, aView, M, K), bindView(b, bView, K, N)];
  // vec4s along an axis: its stride 1, and every vec4 starting on a multiple of 4 floats.
  const aligned = (v: View, along: number, across: number, count: number): boolean =>
    along === 1 && [v.offset, v.batch, v.head, across, count].every((n) => n % 4 === 0);
  const load = (v: View, kStride: number, otherStride: number, count: number): OperandLoad =>
    aligned(v, kStride, otherStride, K) ? 'k' : aligned(v, otherStride, kStride, count) ? 'mn' : 'scalar';
  const aLoad = load(ab.view, ab.view.col, ab.view.row, M);
  const bLoad = load(bb.view, bb.view.row, bb.view.col, N);
  if (columnSums && !(blockSize(aLoad, bLoad) === 8 && batches * heads === 1)) throw new Error('gemm: column sums need the 8×8 loop and one product');
  const sums = columnSums ? p.bind(columnSums, N) : null;
  const uniforms = packUniforms([
    M, N, K, heads,
    ab.view.offset, ab.view.row, ab.view.col, ab.view.batch, ab.view.head,
    bb.view.offset, bb.view.row, bb.view.col, bb.view.batch, bb.view.head,
    cb.view.offset, cb.view.row, cb.view.batch, cb.view.head,
    accumulate ? 1 : 0, sums?.offset ?? 0, CAUSAL[causal],
  ], [alpha]);
  const span = blockSize(aLoad, bLoad) * GEMM_TILE;
  const workgroups: [number, number, number] = [Math.ceil(N / span), Math.ceil(M / span), batches * heads];
  const max = p.ctx.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((n) => n > max)) throw new Error(`gemm: ${workgroups.join('×')} workgroups exceed the device's ${max} per dimension`);
  const pipeline = p.pipeline(`gemm a:${aLoad} b:${bLoad}${sums ? ' sums' : ''}`, gemmWGSL(aLoad, bLoad, sums !== null));
  return p.dispatch(pipeline, [cb.binding, ab.binding, bb.binding, ...(sums ? [sums.binding] : [])], uniforms, workgroups);
}

// ---- the backward kernels ----

const ENCODER_BACKWARD = perIndexKernel('encoderBackward', ['dwte: rw', 'dwpe: rw', 'dout', 'tokens: i32'], ['positions', 'T'], [], /* wgsl */ `
  // i is a channel: this invocation alone writes column i of dwte and dwpe,
  // so repeated tokens add up without races.
  let C = u.count;
  for (var n = 0u; n < u.positions; n++) {
    let d = dout[u.doutOff + n * C + i];
    dwte[u.dwteOff + u32(tokens[u.tokensOff + n]) * C + i] += d;
    dwpe[u.dwpeOff + (n % u.T) * C + i] += d;
  }`);

/** Scatters dout [B,T,C] back onto the rows of wte [V,C] and wpe [T,C] (tokens: int32 [B·T]); dwte is bound to its buffer's end. */
export function encoderBackward(
  p: Program, dwte: GPUTensor, dwpe: GPUTensor, dout: GPUTensor, tokens: GPUTensor, B: number, T: number, C: number,
): Dispatch[] {
  const N = B * T;
  return [perIndex(p, ENCODER_BACKWARD, [[dwte], [dwpe, T * C], [dout, N * C], [tokens, N]], [N, T], [], C)];
}

const LAYERNORM_BACKWARD_INPUT = perIndexKernel(
  'layernormBackwardInput', ['dinp: rw', 'dout', 'inp', 'weight', 'mean', 'rstd'], ['C'], [], /* wgsl */ `
  // i is a row.
  let x = u.inpOff + i * u.C;
  let dy = u.doutOff + i * u.C;
  let m = mean[u.meanOff + i];
  let s = rstd[u.rstdOff + i];
  var gMean = 0.0;
  var gNormMean = 0.0;
  for (var c = 0u; c < u.C; c++) {
    let g = weight[u.weightOff + c] * dout[dy + c];
    gMean += g;
    gNormMean += g * (inp[x + c] - m) * s;
  }
  gMean /= f32(u.C);
  gNormMean /= f32(u.C);
  let dx = u.dinpOff + i * u.C;
  for (var c = 0u; c < u.C; c++) {
    let norm = (inp[x + c] - m) * s;
    dinp[dx + c] += s * (weight[u.weightOff + c] * dout[dy + c] - gMean - norm * gNormMean);
  }`);

const LAYERNORM_BACKWARD_PARAMS = perIndexKernel(
  'layernormBackwardParams', ['dweight: rw', 'dbias: rw', 'dout', 'inp', 'mean', 'rstd'], ['N'], [], /* wgsl */ `
  // i is a channel; the sums over rows are this invocation's alone.
  let C = u.count;
  var weightSum = 0.0;
  var biasSum = 0.0;
  for (var n = 0u; n < u.N; n++) {
    let d = dout[u.doutOff + n * C + i];
    weightSum += (inp[u.inpOff + n * C + i] - mean[u.meanOff + n]) * rstd[u.rstdOff + n] * d;
    biasSum += d;
  }
  dweight[u.dweightOff + i] += weightSum;
  dbias[u.dbiasOff + i] += biasSum;`);

/** LayerNorm backward from the saved mean and rstd [N]: one pass per row for dinp, one per channel for dweight and dbias. */
export function layernormBackward(
  p: Program, dinp: GPUTensor, dweight: GPUTensor, dbias: GPUTensor, dout: GPUTensor,
  inp: GPUTensor, weight: GPUTensor, mean: GPUTensor, rstd: GPUTensor, N: number, C: number,
): Dispatch[] {
  const rows: [GPUTensor, number][] = [[dout, N * C], [inp, N * C]];
  const stats: [GPUTensor, number][] = [[mean, N], [rstd, N]];
  return [
    perIndex(p, LAYERNORM_BACKWARD_INPUT, [[dinp, N * C], ...rows, [weight, C], ...stats], [C], [], N),
    perIndex(p, LAYERNORM_BACKWARD_PARAMS, [[dweight, C], [dbias, C], ...rows, ...stats], [N], [], C),
  ];
}

const COLUMN_SUMS = perIndexKernel('columnSums', ['sums: rw', 'matrix'], ['N'], [], /* wgsl */ `
  var sum = 0.0;
  for (var n = 0u; n < u.N; n++) { sum += matrix[u.matrixOff + n * u.count + i]; }
  sums[u.sumsOff + i] += sum;`);

const TRANSPOSE = perIndexKernel('transpose', ['out: rw', 'inp'], ['rows', 'cols'], [], /* wgsl */ `
  // out [cols, rows] = inpᵀ, a 4×4 block per invocation (rows and cols multiples of 4):
  // 4 loads of consecutive floats per row of the block.
  let blockCols = u.cols / 4u;
  let r0 = (i / blockCols) * 4u;
  let c0 = (i % blockCols) * 4u;
  for (var r = 0u; r < 4u; r++) {
    let source = u.inpOff + (r0 + r) * u.cols + c0;
    let destination = u.outOff + c0 * u.rows + r0 + r;
    out[destination] = inp[source];
    out[destination + u.rows] = inp[source + 1u];
    out[destination + 2u * u.rows] = inp[source + 2u];
    out[destination + 3u * u.rows] = inp[source + 3u];
  }`);

/**
 * When a matmul's input is gelu(x) (the MLP's second layer): x and its gradient,
 * which gets gelu′(x)·dinp as the input gradient dinp is stored, with the
 * transposed-weight path (nothing may add to dinp after).
 */
export interface GeluInput { dinp: GPUTensor; inp: GPUTensor }

/** out [cols, rows] = inpᵀ for inp [rows, cols], both multiples of 4. */
export function transpose(p: Program, out: GPUTensor, inp: GPUTensor, rows: number, cols: number): Dispatch {
  if (rows % 4 !== 0 || cols % 4 !== 0) throw new Error(`transpose: ${rows}×${cols} is not made of 4×4 blocks`);
  return perIndex(p, TRANSPOSE, [[out, rows * cols], [inp, rows * cols]], [rows, cols], [], (rows * cols) / 16);
}

/**
 * Backward of out = inp·weight + bias (inp [N,C], weight [C,OC]):
 * dinp += dout·weightᵀ, dweight += inpᵀ·dout, dbias += column sums of dout;
 * with throughGelu, then the GELU backward (geluBackward) from dinp.
 */
export function matmulBackward(
  p: Program, dinp: GPUTensor, dweight: GPUTensor, dbias: GPUTensor | null, dout: GPUTensor,
  inp: GPUTensor, weight: GPUTensor, N: number, C: number, OC: number, throughGelu: GeluInput | null = null,
): Dispatch[] {
  // dinp += dout·weightᵀ reads the weight along its rows; from a transposed copy
  // (made once per step, allocated once) it is the forward's blocked x·W loop
  // instead: 1.1–1.4× as fast on SwiftShader, the transpose costing ~2 ms.
  const weightT = C % 4 === 0 && OC % 4 === 0 ? p.buffer(4 * C * OC, 'transposed weight') : null;
  // dbias comes with dweight's 8×8 loop, which reads dout's rows as vec4s, when
  // both are aligned (a separate pass over dout cost ~2% of a step on SwiftShader).
  const floatOffset = (t: GPUTensor) => ('buffer' in t ? t.offset : 0);
  const fusedSums = dbias !== null && C % 4 === 0 && OC % 4 === 0 && [inp, dout].every((t) => floatOffset(t) % 4 === 0);
  const dispatches = [
    ...(weightT
      ? [transpose(p, weightT, weight, C, OC),
        ...matmulAccumulate(p, dinp, dout, weightT, N, OC, C, throughGelu && { kind: 'geluBackward', ...throughGelu })]
      : [gemm(p, dinp, rowMajor(C), dout, rowMajor(OC), weight, transposed(rowMajor(OC)), N, OC, C, { accumulate: true }),
        ...(throughGelu ? geluBackward(p, throughGelu.dinp, throughGelu.inp, dinp, N * C) : [])]),
    gemm(p, dweight, rowMajor(OC), inp, transposed(rowMajor(C)), dout, rowMajor(OC), C, N, OC,
      { accumulate: true, ...(fusedSums ? { columnSums: dbias } : {}) }),
  ];
  if (dbias && !fusedSums) dispatches.push(perIndex(p, COLUMN_SUMS, [[dbias, OC], [dout, N * OC]], [N], [], OC));
  return dispatches;
}

/**
 * Backward of logits = inp·weightᵀ (inp [N,C], weight [V,C]):
 * dinp += dlogits·weight, dweight += dlogitsᵀ·inp. A vocabulary too big for
 * one binding is done in blocks of rows and of the vocabulary, each adding its part.
 */
export function unembedBackward(
  p: Program, dinp: GPUTensor, dweight: GPUTensor, dlogits: GPUTensor,
  inp: GPUTensor, weight: GPUTensor, N: number, C: number, V: number,
): Dispatch[] {
  const limit = bindingFloats(p);
  const dispatches: Dispatch[] = [];
  for (const [v0, vocab] of pieces(V, limit / C)) {
    for (const [n0, rows] of pieces(N, limit / Math.max(V, C))) {
      const dlogitsBlock = offsetBy(dlogits, n0 * V + v0);
      const weightRows = offsetBy(weight, v0 * C);
      dispatches.push(
        gemm(p, offsetBy(dinp, n0 * C), rowMajor(C), dlogitsBlock, rowMajor(V), weightRows, rowMajor(C), rows, vocab, C, { accumulate: true }),
        gemm(p, offsetBy(dweight, v0 * C), rowMajor(C), dlogitsBlock, transposed(rowMajor(V)), offsetBy(inp, n0 * C), rowMajor(C),
          vocab, rows, C, { accumulate: true }),
      );
    }
  }
  return dispatches;
}

const SOFTMAX_BACKWARD = perIndexKernel('softmaxBackward', ['datt: rw', 'dpreatt: rw', 'att'], ['T'], [], /* wgsl */ `
  // i is one query's row of one head; keys after the query are hidden.
  let t = i % u.T;
  let row = i * u.T;
  let w = u.attOff + row;
  let dw = u.dattOff + row;
  let ds = u.dpreattOff + row;
  var weighted = 0.0; // Σ att·datt over the visible keys
  for (var j = 0u; j <= t; j++) { weighted += att[w + j] * datt[dw + j]; }
  for (var j = 0u; j <= t; j++) { dpreatt[ds + j] = att[w + j] * (datt[dw + j] - weighted); }
  for (var j = t + 1u; j < u.T; j++) {
    datt[dw + j] = 0.0;
    dpreatt[ds + j] = 0.0;
  }`);

/**
 * Causal attention backward from the qkv [B,T,3C] and att [B,NH,T,T] the
 * forward pass kept, every head at once:
 *   datt = dout·Vᵀ, dV += attᵀ·dout; dpreatt = att·(datt − Σ_keys att·datt);
 *   dQ += dpreatt·K/√hs, dK += dpreattᵀ·Q/√hs.
 * datt and dpreatt [B,NH,T,T] are written (hidden keys' entries 0).
 */
export function attentionBackward(
  p: Program, dqkv: GPUTensor, dpreatt: GPUTensor, datt: GPUTensor, dout: GPUTensor,
  qkv: GPUTensor, att: GPUTensor, B: number, T: number, C: number, NH: number,
): Dispatch[] {
  const hs = C / NH;
  const C3 = 3 * C;
  const rows = B * NH * T;
  const everyHead = { batches: B, heads: NH };
  // One head's [T, hs] slice of the [T, C] rows and of the q, k, v thirds of the [T, 3C] rows.
  const headOut: View = { offset: 0, row: C, col: 1, batch: T * C, head: hs };
  const query: View = { offset: 0, row: C3, col: 1, batch: T * C3, head: hs };
  const key: View = { ...query, offset: C };
  const value: View = { ...query, offset: 2 * C };
  const scores: View = { offset: 0, row: T, col: 1, batch: NH * T * T, head: T * T };
  const scale = 1 / Math.sqrt(hs);
  return [
    // softmaxBackward reads datt at visible keys only, and writes the rest.
    gemm(p, datt, scores, dout, headOut, qkv, transposed(value), T, hs, T, { accumulate: false, causal: 'skipAbove', ...everyHead }),
    gemm(p, dqkv, value, att, transposed(scores), dout, headOut, T, T, hs, { accumulate: true, causal: 'kFromRow', ...everyHead }),
    perIndex(p, SOFTMAX_BACKWARD, [[datt, rows * T], [dpreatt, rows * T], [att, rows * T]], [T], [], rows),
    gemm(p, dqkv, query, dpreatt, scores, qkv, key, T, T, hs, { accumulate: true, alpha: scale, causal: 'kToRow', ...everyHead }),
    gemm(p, dqkv, key, dpreatt, transposed(scores), qkv, query, T, T, hs, { accumulate: true, alpha: scale, causal: 'kFromRow', ...everyHead }),
  ];
}

const GELU_BACKWARD = perIndexKernel('geluBackward', ['dinp: rw', 'inp', 'dout'], [], [], /* wgsl */ `
  let x = inp[u.inpOff + i];
  ${geluGradWGSL('x')}
  dinp[u.dinpOff + i] += grad * dout[u.doutOff + i];`);

/** GELU backward: dinp += gelu′(inp)·dout over N floats. */
export function geluBackward(p: Program, dinp: GPUTensor, inp: GPUTensor, dout: GPUTensor, N: number): Dispatch[] {
  return [perIndex(p, GELU_BACKWARD, [[dinp, N], [inp, N], [dout, N]], [], [], N)];
}

const RESIDUAL_BACKWARD = perIndexKernel('residualBackward', ['da: rw', 'db: rw', 'dout'], [], [], /* wgsl */ `
  let d = dout[u.doutOff + i];
  da[u.daOff + i] += d;
  db[u.dbOff + i] += d;`);

/** A sum passes its gradient unchanged to both terms. */
export function residualBackward(p: Program, da: GPUTensor, db: GPUTensor, dout: GPUTensor, N: number): Dispatch[] {
  return [perIndex(p, RESIDUAL_BACKWARD, [[da, N], [db, N], [dout, N]], [], [], N)];
}

const CROSS_ENTROPY_SOFTMAX_BACKWARD = perIndexKernel(
  'crossEntropySoftmaxBackward', ['dlogits: rw', 'logits', 'targets: i32'], ['V'], ['scale'], /* wgsl */ `
  // i is a row (a position).
  let x = u.logitsOff + i * u.V;
  let dx = u.dlogitsOff + i * u.V;
  var maxLogit = logits[x];
  for (var v = 1u; v < u.V; v++) { maxLogit = max(maxLogit, logits[x + v]); }
  var sum = 0.0;
  for (var v = 0u; v < u.V; v++) {
    let e = exp(logits[x + v] - maxLogit);
    dlogits[dx + v] = e;
    sum += e;
  }
  let norm = u.scale / sum;
  for (var v = 0u; v < u.V; v++) { dlogits[dx + v] *= norm; }
  dlogits[dx + u32(targets[u.targetsOff + i])] -= u.scale;`);

/**
 * dlogits [N,V] = (softmax(logits) − onehot(targets))·scale per row: WRITES (it
 * starts the backward pass). targets: int32 [N]. Rows in pieces that fit a binding.
 */
export function crossEntropySoftmaxBackward(
  p: Program, dlogits: GPUTensor, logits: GPUTensor, targets: GPUTensor, N: number, V: number, scale: number,
): Dispatch[] {
  return pieces(N, bindingFloats(p) / V).map(([n0, rows]) => perIndex(
    p, CROSS_ENTROPY_SOFTMAX_BACKWARD,
    [[offsetBy(dlogits, n0 * V), rows * V], [offsetBy(logits, n0 * V), rows * V], [offsetBy(targets, n0), rows]],
    [V], [scale], rows,
  ));
}
