/**
 * The matrix multiply on the GPU: every product of the model, forward and
 * backward, is one call of gemm(), which generates its WGSL and dispatches it.
 *
 *   out[m, n] (+)= alpha·Σ_k a[m, k]·b[k, n] + bias[n]   for every (batch, head)
 *
 * Each matrix is read through a View (strides), so one kernel reads transposes
 * and one attention head's columns out of [T, 3C] rows without copies.
 *
 * Each invocation keeps a block of out in registers and uses no workgroup
 * memory: SwiftShader (the software adapter in tests) runs each workgroup on a
 * CPU thread, where barriers are costly; the same shape is reasonable on a real
 * GPU (no synchronisation, neighbouring invocations read neighbouring vec4s).
 * Which loop over k runs, and how large a block it keeps, depends on how a and
 * b lie in memory (see kernelFor).
 */

import {
  bindingPieces,
  type Dispatch,
  ENTRY_WGSL,
  type GPUTensor,
  offsetBy,
  type Program,
  storage,
  uniforms,
} from './program.ts';

/**
 * Where a matrix's element (row r, column c) of batch b, head h sits in its
 * tensor: offset + b·batch + h·head + r·row + c·col.
 */
interface View {
  offset: number;
  row: number;
  col: number;
  batch: number;
  head: number;
}

export const rowMajor = (columns: number, offset = 0): View => ({ offset, row: columns, col: 1, batch: 0, head: 0 });
export const transposed = (v: View): View => ({ ...v, row: v.col, col: v.row });

/**
 * The views of attention's per-head products (batch b, head h): the head's
 * [T, hs] slices of the query, key and value thirds of qkv [B, T, 3C] and of
 * its output [B, T, C], and its [T, T] block of scores [B, NH, T, T].
 */
export function attentionViews(T: number, C: number, NH: number): Record<'query' | 'key' | 'value' | 'headOut' | 'scores', View> {
  const hs = C / NH;
  const query: View = { offset: 0, row: 3 * C, col: 1, batch: T * 3 * C, head: hs };
  return {
    query,
    key: { ...query, offset: C },
    value: { ...query, offset: 2 * C },
    headOut: { offset: 0, row: C, col: 1, batch: T * C, head: hs },
    scores: { offset: 0, row: T, col: 1, batch: NH * T * T, head: T * T },
  };
}

/**
 * Causal attention's products, where a [T, T] matrix of query rows and key
 * columns is zero above its diagonal (keys after the query):
 *  - skipAbove: out is such a matrix and its entries above the diagonal are not
 *    needed (blocks wholly above it are left as they were);
 *  - kToRow: a is such a matrix (k ≤ row matters);
 *  - kFromRow: a is one transposed (k ≥ row matters).
 * Rows and k count from the same origin (both index positions in the sequence).
 */
export type Causal = 'skipAbove' | 'kToRow' | 'kFromRow';
const CAUSAL: Record<Causal | 'none', number> = { none: 0, skipAbove: 1, kToRow: 2, kFromRow: 3 };

/** The CAUSAL values as WGSL constants: causalNone, causalSkipAbove, … */
const CAUSAL_WGSL = Object.entries(CAUSAL)
  .map(([name, value]) => `const causal${name[0].toUpperCase()}${name.slice(1)} = ${value}u;`)
  .join('\n');

/** WGSL fourFrom(first, last): the indices first .. first + 3, any past `last` replaced by it (a block's edge: read, not stored). */
const FOUR_FROM = /* wgsl */ `
fn fourFrom(first: u32, last: u32) -> vec4u {
  return min(first + vec4u(0u, 1u, 2u, 3u), vec4u(last));
}`;

/**
 * What a gemm does with each value it stores in out (with accumulate, the sum),
 * at the same index in tensors laid out as out: 'gelu' writes GELU of it to
 * `out` (the MLP's forward), 'geluBackward' adds gelu′(inp)·it into `dinp`
 * (the gradient through the MLP's GELU).
 */
type Epilogue = { kind: 'gelu'; out: GPUTensor } | { kind: 'geluBackward'; dinp: GPUTensor; inp: GPUTensor };

/**
 * WGSL functions gelu(x) and geluGrad(x) = gelu′(x) for x of `type` (f32 or
 * vec4f), as kernels.ts computes them: with s = σ(2u), u = √(2/π)·(x + 0.044715·x³),
 * gelu = x·s and gelu′ = s + 2x·s·(1 − s)·u′.
 */
export const geluWGSL = (type: 'f32' | 'vec4f'): string => /* wgsl */ `
fn gelu(x: ${type}) -> ${type} {
  return x / (1.0 + exp(-1.5957691216057308 * (x + 0.044715 * x * x * x)));
}

fn geluGrad(x: ${type}) -> ${type} {
  let s = 1.0 / (1.0 + exp(-1.5957691216057308 * (x + 0.044715 * x * x * x)));
  return s + 1.5957691216057308 * x * s * (1.0 - s) * (1.0 + 0.134145 * x * x);
}`;

/** One product for gemm(): out [M, N] (+)= alpha·a [M, K]·b [K, N] + bias. */
export interface GemmArgs {
  out: GPUTensor;
  a: GPUTensor;
  b: GPUTensor;
  M: number;
  K: number;
  N: number;
  /** How each matrix lies in its tensor; row-major by default. out's columns must be adjacent (col 1). */
  outView?: View;
  aView?: View;
  bView?: View;
  /** Adds the result to what out holds instead of overwriting it. */
  accumulate?: boolean;
  /** Multiplies the product (not the bias). */
  alpha?: number;
  /** [N], added to every row of out. */
  bias?: GPUTensor | null;
  /** Independent products, indexed (batch, head): batches·heads of them in one dispatch. */
  batches?: number;
  heads?: number;
  /** Skips work that a causal mask makes zero (see Causal); none by default. */
  causal?: Causal;
  /**
   * Adds b's column sums (Σ_k b[k, n]) into this tensor too, from the rows the
   * 'outer' loop loads anyway (a bias gradient without reading b again): only
   * for one product whose b's rows are whole aligned vec4s.
   */
  columnSums?: GPUTensor | null;
  epilogue?: Epilogue | null;
}

/**
 * How the kernel reads an operand: as vec4s of four adjacent, aligned floats
 * along k ('k') or along the block's rows of a / columns of b ('mn'), or as
 * scalars through the strides ('scalar').
 */
type Load = 'k' | 'mn' | 'scalar';

type Loop = 'dot' | 'outer' | 'scalar';

/** What the WGSL depends on; pipelines are cached by kernelName. */
interface Kernel {
  loop: Loop;
  /** The block of out each invocation keeps. */
  rows: number;
  cols: number;
  vec4Out: boolean;
  epilogue: Epilogue['kind'] | null;
  sums: boolean;
}

/**
 * The loop over k for operands read as aLoad and bLoad, and its block of out:
 *  - 'dot', 4×4, when a's rows and b's columns both lie along k (x·Wᵀ, q·kᵀ):
 *    per 4 steps of k, 8 vec4 loads and 16 dot products, every index computed
 *    before the loop (1.5–2× a loop that builds 4×4 tiles, on SwiftShader);
 *  - 'outer', R×8, when b's rows are vec4s (x·W, xᵀ·dy, att·v): per step of
 *    k, b's row at 8 columns times a's column at R rows. R is 8 when a's
 *    columns are vec4s too (4 loads per 64 multiply-adds: on SwiftShader, where
 *    a load costs several multiply-adds, about half the time of a 4×4 block),
 *    else 12 scalars (20 loads per 96 multiply-adds against 16 per 64 for 8:
 *    the training step ran 5–30% faster on SwiftShader; 96 accumulators still
 *    fit a GPU's registers);
 *  - 'scalar', 4×4, otherwise: outer products of a's columns and b's rows read
 *    as scalars.
 */
function kernelFor(aLoad: Load, bLoad: Load): Pick<Kernel, 'loop' | 'rows' | 'cols'> {
  if (aLoad === 'k' && bLoad === 'k') return { loop: 'dot', rows: 4, cols: 4 };
  if (bLoad === 'mn') return { loop: 'outer', rows: aLoad === 'mn' ? 8 : 12, cols: 8 };
  return { loop: 'scalar', rows: 4, cols: 4 };
}

const kernelName = (k: Kernel): string =>
  `gemm ${k.loop} ${k.rows}×${k.cols} out ${k.vec4Out ? 'vec4' : 'f32'}${k.epilogue ? ` ${k.epilogue}` : ''}${k.sums ? ' sums' : ''}`;

/** Accumulator of block row r, columns 4q .. 4q + 3. */
const acc = (r: number, q: number): string => `acc${r}${q ? '_4' : ''}`;

const range = (n: number): number[] => [...Array(n).keys()];

/**
 * The 'dot' loop: a's rows and b's columns (past the edge: the last one, not
 * stored) as vec4s along k.
 */
const DOT_LOOP = /* wgsl */ `
  let aRows = (aStart + fourFrom(m0, u.M - 1u) * u.aRow) / 4u;
  let bCols = (bStart + fourFrom(n0, u.N - 1u) * u.bCol) / 4u;
  for (var k = kBegin / 4u; k < kEnd / 4u; k++) {
    let b0 = b[bCols.x + k]; let b1 = b[bCols.y + k]; let b2 = b[bCols.z + k]; let b3 = b[bCols.w + k];
    let a0 = a[aRows.x + k]; acc0 += vec4f(dot(a0, b0), dot(a0, b1), dot(a0, b2), dot(a0, b3));
    let a1 = a[aRows.y + k]; acc1 += vec4f(dot(a1, b0), dot(a1, b1), dot(a1, b2), dot(a1, b3));
    let a2 = a[aRows.z + k]; acc2 += vec4f(dot(a2, b0), dot(a2, b1), dot(a2, b2), dot(a2, b3));
    let a3 = a[aRows.w + k]; acc3 += vec4f(dot(a3, b0), dot(a3, b1), dot(a3, b2), dot(a3, b3));
  }`;

/**
 * The 'outer' loop, R×8: per step of k, b's row at columns n0..n0+7 as 2
 * vec4s (a second past the edge reads the last whole one: N is a multiple of
 * 4) and a's column at R rows, as 2 vec4s (R = 8, same rule) or as 12 scalars
 * (rows past the edge read the last one).
 */
function outerLoop(rows: number, sums: boolean): string {
  const vec4A = rows === 8;
  const aBefore = vec4A
    ? /* wgsl */ `
  let aStep = u.aCol / 4u;
  var aIndex = (aStart + m0) / 4u + kBegin * aStep;
  let aHigh = (min(m0 + 4u, u.M - 4u) - m0) / 4u;`
    : `${range(rows)
        .map(
          (r) => `
  let aRow${r} = aStart + min(m0 + ${r}u, u.M - 1u) * u.aRow;`,
        )
        .join('')}
  var ak = kBegin * u.aCol;`;
  const multiplyAdds = range(rows).map((r) => {
    const entry = vec4A ? `${r < 4 ? 'column' : 'columnHigh'}[${r % 4}]` : `a${r}`;
    return `${vec4A ? '' : `let a${r} = a[aRow${r} + ak]; `}${acc(r, 0)} += ${entry} * row; ${acc(r, 1)} += ${entry} * rowHigh;`;
  });
  return /* wgsl */ `
  let bStep = u.bRow / 4u;
  var bIndex = (bStart + n0) / 4u + kBegin * bStep;
  let bHigh = (min(n0 + 4u, u.N - 4u) - n0) / 4u;${aBefore}
  ${sums ? 'var sum = vec4f(0.0); var sumHigh = vec4f(0.0);' : ''}
  for (var k = kBegin; k < kEnd; k++) {
    let row = b[bIndex]; let rowHigh = b[bIndex + bHigh];
    ${vec4A ? 'let column = a[aIndex]; let columnHigh = a[aIndex + aHigh];' : ''}
    ${multiplyAdds.join('\n    ')}
    ${sums ? 'sum += row; sumHigh += rowHigh;' : ''}
    bIndex += bStep;
    ${vec4A ? 'aIndex += aStep;' : 'ak += u.aCol;'}
  }
  ${sums ? ADD_COLUMN_SUMS : ''}`;
}

/** With columnSums, b's column sums ride along the rows the outer loop loads: the first block row adds them. */
const ADD_COLUMN_SUMS = /* wgsl */ `if (m0 == 0u) {
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < u.N) { sums[u.sumsOffset + n0 + j] += sum[j]; }
      if (n0 + 4u + j < u.N) { sums[u.sumsOffset + n0 + 4u + j] += sumHigh[j]; }
    }
  }`;

/** The 'scalar' loop's loads: a's column k at the block's rows (offsets aRows), b's row k at its columns. */
const SCALAR_LOADS = /* wgsl */ `
fn aColumn(aRows: vec4u, k: u32) -> vec4f {
  let at = aRows + k * u.aCol;
  return vec4f(a[at.x], a[at.y], a[at.z], a[at.w]);
}

fn bRow(bCols: vec4u, k: u32) -> vec4f {
  let at = bCols + k * u.bRow;
  return vec4f(b[at.x], b[at.y], b[at.z], b[at.w]);
}`;

/** The 'scalar' loop: outer products, 4 steps of k per iteration (a quarter of the loop overhead), then the rest. */
const SCALAR_LOOP = /* wgsl */ `
  let aRows = aStart + fourFrom(m0, u.M - 1u) * u.aRow;
  let bCols = bStart + fourFrom(n0, u.N - 1u) * u.bCol;
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
  }`;

/**
 * store(): alpha·sum + bias into out's row `row`, columns n..n+3 (those before
 * N), plus what out holds with accumulate, then the epilogue on the stored value.
 * As vec4s when out's rows are whole aligned vec4s.
 */
function storeWGSL(vec4Out: boolean, epilogue: Epilogue['kind'] | null): string {
  const type = vec4Out ? 'vec4f' : 'f32';
  // The epilogue's tensors lie as out does, from their own offsets.
  const at = (offset: string) => (vec4Out ? `e + u.${offset} / 4u` : `e + u.${offset}`);
  const epilogueWGSL = !epilogue
    ? ''
    : /* wgsl */ `${geluWGSL(type)}

fn epilogue(index: u32, value: ${type}) {
  let e = index - u.outOffset${vec4Out ? ' / 4u' : ''};
  ${epilogue === 'gelu' ? `e0[${at('e0Offset')}] = gelu(value);` : `e0[${at('e0Offset')}] += geluGrad(e1[${at('e1Offset')}]) * value;`}
}`;
  const then = epilogue ? 'epilogue(index, value);' : '';
  return /* wgsl */ `${epilogueWGSL}

fn store(outStart: u32, row: u32, n: u32, sum: vec4f, bias: vec4f) {
  ${
    vec4Out
      ? /* wgsl */ `if (row >= u.M || n >= u.N) { return; }
  let index = (outStart + row * u.outRow + n) / 4u;
  var value = u.alpha * sum + bias;
  if (u.accumulate != 0u) { value += out[index]; }
  out[index] = value;
  ${then}`
      : /* wgsl */ `if (row >= u.M) { return; }
  let values = u.alpha * sum + bias;
  for (var j = 0u; j < 4u; j++) {
    if (n + j < u.N) {
      let index = outStart + row * u.outRow + n + j;
      var value = values[j];
      if (u.accumulate != 0u) { value += out[index]; }
      out[index] = value;
      ${then}
    }
  }`
  }
}

// bias[n..n+3] (past the edge: the last one, not stored), or 0 without a bias.
fn biasAt(n: u32) -> vec4f {
  if (u.hasBias == 0u) { return vec4f(0.0); }
  let at = u.biasOffset + fourFrom(n, u.N - 1u);
  return vec4f(bias[at.x], bias[at.y], bias[at.z], bias[at.w]);
}`;
}

/** The kernel's WGSL; `uniformBlock` declares the uniforms gemmPiece() fills. */
function gemmWGSL(k: Kernel, uniformBlock: string): string {
  const { loop, rows, cols, vec4Out, epilogue, sums } = k;
  const quads = range(cols / 4);
  const outType = vec4Out ? 'vec4f' : 'f32';
  // After out, a, b and bias, in gemmPiece's order.
  const optional = [
    ...(epilogue ? [{ name: 'e0', type: outType, writable: true }] : []),
    ...(epilogue === 'geluBackward' ? [{ name: 'e1', type: outType, writable: false }] : []),
    ...(sums ? [{ name: 'sums', type: 'f32', writable: true }] : []),
  ];
  return /* wgsl */ `
${storage(0, 'out', outType, true)}
${storage(1, 'a', loop === 'dot' || rows === 8 ? 'vec4f' : 'f32')}
${storage(2, 'b', loop === 'scalar' ? 'f32' : 'vec4f')}
${storage(3, 'bias', 'f32')}
${optional.map((b, i) => storage(4 + i, b.name, b.type, b.writable)).join('\n')}
${uniformBlock}
${CAUSAL_WGSL}
${FOUR_FROM}
${loop === 'scalar' ? SCALAR_LOADS : ''}
${storeWGSL(vec4Out, epilogue)}

${ENTRY_WGSL}
  // This invocation's block of out: rows from m0, columns from n0 of product id / blocks (numbered along out's rows).
  let colBlocks = (u.N + ${cols - 1}u) / ${cols}u;
  let blocks = colBlocks * ((u.M + ${rows - 1}u) / ${rows}u);
  if (id >= blocks * u.batches * u.heads) { return; }
  let m0 = ((id % blocks) / colBlocks) * ${rows}u;
  let n0 = (id % colBlocks) * ${cols}u;
  // Causal products (see Causal): a block wholly above the diagonal is skipped,
  // or k runs only where a's row holds nonzeros (k ≥ or ≤ the block's rows).
  if (u.causal == causalSkipAbove && n0 >= m0 + ${rows}u) { return; }
  let kBegin = select(0u, m0, u.causal == causalKFromRow);
  let kEnd = select(u.K, min(u.K, m0 + ${rows}u), u.causal == causalKToRow);
  let product = id / blocks;
  let batch = product / u.heads;
  let head = product % u.heads;
  let aStart = u.aOffset + batch * u.aBatch + head * u.aHead;
  let bStart = u.bOffset + batch * u.bBatch + head * u.bHead;
  ${range(rows)
    .map((r) => quads.map((q) => `var ${acc(r, q)} = vec4f(0.0);`).join(' '))
    .join('\n  ')}
  ${loop === 'dot' ? DOT_LOOP : loop === 'outer' ? outerLoop(rows, sums) : SCALAR_LOOP}
  let outStart = u.outOffset + batch * u.outBatch + head * u.outHead;
  ${quads.map((q) => `let bias${4 * q} = biasAt(n0 + ${4 * q}u);`).join(' ')}
  ${range(rows)
    .map((r) => quads.map((q) => `store(outStart, m0 + ${r}u, n0 + ${4 * q}u, ${acc(r, q)}, bias${4 * q});`).join(' '))
    .join('\n  ')}
}`;
}

/**
 * Dispatches out (+)= alpha·a·b + bias for every (batch, head) (see GemmArgs),
 * each binding spanning the tensor's first to last element used. Out's rows
 * and columns are split into pieces, one dispatch each, so that a piece's rows
 * (times the row stride) of out and a, and its columns (times the column
 * stride) of b, fit one binding: a vocabulary-sized weight, many rows. K is
 * never split, nor are batches and heads: where a or b outgrows a binding
 * along K, the caller splits the product (as unembedBackward does over the
 * vocabulary), else bind() throws.
 */
export function gemm(p: Program, g: GemmArgs): Dispatch[] {
  const { M, N } = g;
  const outView = g.outView ?? rowMajor(N);
  const aView = g.aView ?? rowMajor(g.K);
  const bView = g.bView ?? rowMajor(N);
  if (outView.col !== 1) throw new Error('gemm: the columns of out must be adjacent');
  const dispatches: Dispatch[] = [];
  for (const [n0, cols] of bindingPieces(p, N, bView.col)) {
    for (const [m0, rows] of bindingPieces(p, M, Math.max(aView.row, outView.row))) {
      const shift = (v: View, by: number) => ({ ...v, offset: v.offset + by });
      dispatches.push(
        gemmPiece(p, g, rows, cols, {
          out: shift(outView, m0 * outView.row + n0),
          a: shift(aView, m0 * aView.row),
          b: shift(bView, n0 * bView.col),
          // The bias and the column sums are per column; the first row piece adds the sums.
          firstColumn: n0,
          columnSums: m0 === 0 ? (g.columnSums ?? null) : null,
        }),
      );
    }
  }
  return dispatches;
}

interface Piece {
  out: View;
  a: View;
  b: View;
  firstColumn: number;
  columnSums: GPUTensor | null;
}

function gemmPiece(p: Program, g: GemmArgs, M: number, N: number, piece: Piece): Dispatch {
  const { K, accumulate = false, alpha = 1, bias = null, batches = 1, heads = 1, causal = 'none', epilogue = null } = g;
  const bindView = (tensor: GPUTensor, v: View, rows: number, cols: number) => {
    const last = (batches - 1) * v.batch + (heads - 1) * v.head + (rows - 1) * v.row + (cols - 1) * v.col;
    const bound = p.bind(offsetBy(tensor, v.offset), last + 1);
    return { binding: bound.binding, view: { ...v, offset: bound.offset } };
  };
  const [out, a, b] = [bindView(g.out, piece.out, M, N), bindView(g.a, piece.a, M, K), bindView(g.b, piece.b, K, N)];
  // The epilogue's tensors lie as out does.
  const extra = (!epilogue ? [] : epilogue.kind === 'gelu' ? [epilogue.out] : [epilogue.dinp, epilogue.inp]).map((tensor) =>
    bindView(tensor, piece.out, M, N),
  );
  const biasBound = bias ? p.bind(offsetBy(bias, piece.firstColumn), N) : { binding: { buffer: p.dummy }, offset: 0 };
  const sums = piece.columnSums && p.bind(offsetBy(piece.columnSums, piece.firstColumn), N);

  // vec4s along an axis: its stride 1, and every vec4 starting on a multiple of 4 floats.
  const aligned = (v: View, along: number, across: number, count: number): boolean =>
    along === 1 && [v.offset, v.batch, v.head, across, count].every((n) => n % 4 === 0);
  const load = (v: View, kStride: number, otherStride: number, count: number): Load =>
    aligned(v, kStride, otherStride, K) ? 'k' : aligned(v, otherStride, kStride, count) ? 'mn' : 'scalar';
  const kernel: Kernel = {
    ...kernelFor(load(a.view, a.view.col, a.view.row, M), load(b.view, b.view.row, b.view.col, N)),
    vec4Out: aligned(out.view, 1, out.view.row, N) && extra.every((e) => e.view.offset % 4 === 0),
    epilogue: epilogue?.kind ?? null,
    sums: sums !== null,
  };
  if (sums && !(kernel.loop === 'outer' && batches * heads === 1 && causal === 'none')) {
    throw new Error("gemm: column sums need the outer loop (b's rows whole aligned vec4s) and one product");
  }

  const bindings = [
    out.binding,
    a.binding,
    b.binding,
    biasBound.binding,
    ...extra.map((e) => e.binding),
    ...(sums ? [sums.binding] : []),
  ];
  const u = uniforms(
    bindings.length,
    {
      M,
      N,
      K,
      batches,
      heads,
      aOffset: a.view.offset,
      aRow: a.view.row,
      aCol: a.view.col,
      aBatch: a.view.batch,
      aHead: a.view.head,
      bOffset: b.view.offset,
      bRow: b.view.row,
      bCol: b.view.col,
      bBatch: b.view.batch,
      bHead: b.view.head,
      outOffset: out.view.offset,
      outRow: out.view.row,
      outBatch: out.view.batch,
      outHead: out.view.head,
      hasBias: bias ? 1 : 0,
      biasOffset: biasBound.offset,
      accumulate: accumulate ? 1 : 0,
      causal: CAUSAL[causal],
      e0Offset: extra[0]?.view.offset ?? 0,
      e1Offset: extra[1]?.view.offset ?? 0,
      sumsOffset: sums?.offset ?? 0,
    },
    { alpha },
  );
  const blocks = Math.ceil(M / kernel.rows) * Math.ceil(N / kernel.cols) * batches * heads;
  const pipeline = p.pipeline(kernelName(kernel), () => gemmWGSL(kernel, u.wgsl()));
  return p.dispatch(pipeline, bindings, u.data, p.grid(blocks));
}
