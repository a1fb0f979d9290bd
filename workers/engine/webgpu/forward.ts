/**
 * The forward kernels of kernels.ts in WGSL: the same names, the same argument
 * order and the same results, over GPU tensors (a buffer, or a float offset into
 * one) instead of arrays, with a Program first. Each function binds its tensors
 * once and RETURNS the Dispatches that compute it, so a whole step is built once
 * and replayed.
 *
 * SwiftShader (the software adapter in tests) runs each workgroup on a CPU
 * thread and barriers are costly there, so kernels give each invocation a small
 * block of outputs and use no workgroup memory; the same shape is reasonable on
 * a real GPU (coalesced rows, no synchronisation).
 */

import { gemm as stridedGemm, transposed, type View } from './backward.ts';
import {
  bindingFloats, type BoundTensor, type Dispatch, ENTRY_WGSL, type GPUTensor, offsetBy, pieces, type Program, storage, uniforms,
} from './program.ts';

/** Chunks [start, count) of `total` rows such that `floatsPerRow`·count fits one binding. */
const chunks = (p: Program, total: number, floatsPerRow: number): [number, number][] =>
  pieces(total, bindingFloats(p) / Math.max(1, floatsPerRow));

const isVec4 = (...values: number[]): boolean => values.every((v) => v % 4 === 0);

/** GELU of a WGSL f32 or vec4f expression `x` (a name: it is repeated), as geluForward defines it. */
const GELU_WGSL = (x: string): string => `${x} / (1.0 + exp(-1.5957691216057308 * (${x} + 0.044715 * ${x} * ${x} * ${x})))`;

/**
 * WGSL statements that declare `grad` = gelu′(x) for a name x (f32 or vec4f):
 * with s = σ(2u), u = √(2/π)·(x + 0.044715·x³), gelu = x·s (see kernels.ts).
 * A function declaration: backward.ts builds a kernel with it while the two
 * modules (which import each other) are still loading.
 */
export function geluGradWGSL(x: string): string {
  return `let s = 1.0 / (1.0 + exp(-1.5957691216057308 * (${x} + 0.044715 * ${x} * ${x} * ${x})));
  let grad = s + 1.5957691216057308 * ${x} * s * (1.0 - s) * (1.0 + 0.134145 * ${x} * ${x});`;
}

/**
 * What a gemm does besides storing out (the stored value: with accumulate, the sum):
 * 'gelu' writes GELU of it to `out` (the MLP's forward), 'geluBackward' adds
 * gelu′(inp)·it into `dinp` (the gradient through the MLP's GELU), both at
 * the same index as out's.
 */
export type Epilogue = { kind: 'gelu'; out: GPUTensor } | { kind: 'geluBackward'; dinp: GPUTensor; inp: GPUTensor };

/** out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]; tokens are int32 [B,T]. */
export function encoderForward(
  p: Program, out: GPUTensor, tokens: GPUTensor, wte: GPUTensor, wpe: GPUTensor, B: number, T: number, C: number,
): Dispatch[] {
  const N = B * T;
  // wte is bound to the end of its buffer: any row can be read.
  const [o, tok, embedding, pos] = [p.bind(out, N * C), p.bind(tokens, N), p.bind(wte), p.bind(wpe, T * C)];
  const u = uniforms(4, { total: N * C, T, C, outOff: o.offset, tokOff: tok.offset, wteOff: embedding.offset, wpeOff: pos.offset });
  const pipeline = p.pipeline('encoderForward', `
${storage(0, 'out', 'f32', true)}
${storage(1, 'tokens', 'i32')}
${storage(2, 'wte', 'f32')}
${storage(3, 'wpe', 'f32')}
${u.wgsl}
${ENTRY_WGSL}
  if (id >= u.total) { return; }
  let row = id / u.C;
  let c = id % u.C;
  let token = u32(tokens[u.tokOff + row]);
  out[u.outOff + id] = wte[u.wteOff + token * u.C + c] + wpe[u.wpeOff + (row % u.T) * u.C + c];
}`);
  return [p.dispatch(pipeline, [o.binding, tok.binding, embedding.binding, pos.binding], u.data, p.grid(N * C))];
}

/**
 * LayerNorm of each row of inp [N,C] (biased variance, eps 1e-5), scaled by
 * weight and shifted by bias; saves each row's mean and 1/std [N]. One row per
 * invocation, two passes over it as on the CPU.
 */
export function layernormForward(
  p: Program, out: GPUTensor, mean: GPUTensor, rstd: GPUTensor,
  inp: GPUTensor, weight: GPUTensor, bias: GPUTensor, N: number, C: number,
): Dispatch[] {
  const t = [p.bind(out, N * C), p.bind(mean, N), p.bind(rstd, N), p.bind(inp, N * C), p.bind(weight, C), p.bind(bias, C)];
  const u = uniforms(6, {
    N, C, outOff: t[0].offset, meanOff: t[1].offset, rstdOff: t[2].offset, inpOff: t[3].offset, wOff: t[4].offset, bOff: t[5].offset,
  });
  const pipeline = p.pipeline('layernormForward', `
${storage(0, 'out', 'f32', true)}
${storage(1, 'mean', 'f32', true)}
${storage(2, 'rstd', 'f32', true)}
${storage(3, 'inp', 'f32')}
${storage(4, 'weight', 'f32')}
${storage(5, 'bias', 'f32')}
${u.wgsl}
${ENTRY_WGSL}
  if (id >= u.N) { return; }
  let x = u.inpOff + id * u.C;
  var sum = 0.0;
  for (var c = 0u; c < u.C; c++) { sum += inp[x + c]; }
  let m = sum / f32(u.C);
  var squares = 0.0;
  for (var c = 0u; c < u.C; c++) { let d = inp[x + c] - m; squares += d * d; }
  let s = 1.0 / sqrt(squares / f32(u.C) + 1e-5);
  let y = u.outOff + id * u.C;
  for (var c = 0u; c < u.C; c++) { out[y + c] = (inp[x + c] - m) * s * weight[u.wOff + c] + bias[u.bOff + c]; }
  mean[u.meanOff + id] = m;
  rstd[u.rstdOff + id] = s;
}`);
  return [p.dispatch(pipeline, t.map((b) => b.binding), u.data, p.grid(N))];
}

/**
 * How one operand of a product is read: as vec4s when its rows (and offset) are
 * whole vec4s, else as scalars (4 per vec4, with the tail guarded).
 */
function vec4Loader(name: string, vec4: boolean): string {
  if (vec4) return `fn load_${name}(start: u32, k: u32, limit: u32) -> vec4f { return ${name}[(start + k) / 4u]; }`;
  return `fn load_${name}(start: u32, k: u32, limit: u32) -> vec4f {
  return vec4f(select(0.0, ${name}[start + k], k < limit), select(0.0, ${name}[start + k + 1u], k + 1u < limit),
               select(0.0, ${name}[start + k + 2u], k + 2u < limit), select(0.0, ${name}[start + k + 3u], k + 3u < limit));
}`;
}

interface GemmLayout { transposed: boolean; vecA: boolean; vecB: boolean; vecOut: boolean }

/**
 * Rows of out per invocation in the x·W loop (wideGemmLoop), 8 columns each:
 * 12 rows load 20 floats per 96 multiply-adds, against 16 per 64 for 8 rows,
 * and ran the training step 5–30% faster on SwiftShader; 96 accumulators
 * still fit a GPU's registers.
 */
const WIDE_ROWS = 12;

/**
 * Which k loop a layout gets: 'aligned' when a and b are read as vec4s (K, M
 * and the offsets multiples of 4, the common case), with a WIDE_ROWS×8 block
 * of out per invocation for x·W (wideGemmLoop) and 4×4 for x·Wᵀ
 * (alignedGemmLoop); 'general', 4×4, otherwise. `block` counts columns,
 * `rowBlock` rows.
 */
function gemmKind({ transposed, vecA, vecB }: GemmLayout): { kind: 'aligned' | 'general'; block: number; rowBlock: number } {
  if (!(vecA && vecB)) return { kind: 'general', block: 4, rowBlock: 4 };
  return transposed ? { kind: 'aligned', block: 4, rowBlock: 4 } : { kind: 'aligned', block: 8, rowBlock: WIDE_ROWS };
}

/** Accumulator of block row r, columns col0 + 4q .. col0 + 4q + 3. */
const acc = (r: number, q: number): string => `acc${r}${q ? '_4' : ''}`;

/** A gemm's loop over k, accumulating into acc(r, q), and the WGSL functions it calls. */
interface GemmLoop { functions: string; loop: string }

/**
 * The aligned k loop for out = a·b (b [K, M]), a rowBlock×8 block: per step of
 * k, rowBlock scalars of a's rows and 2 vec4s of b's row. On
 * SwiftShader, where every load costs several multiply-adds and vec4s held
 * across steps of k spill out of the CPU's registers, this is 1.2–1.4× as fast
 * as a 4×4 block reading 4×4 tiles. On a real GPU neighbouring invocations read
 * consecutive vec4s of b and share a's rows. Columns past M read the last vec4
 * of the row (M is a multiple of 4) and rows past N the last row; neither is stored.
 */
function wideGemmLoop(rowBlock: number): GemmLoop {
  const rows = [...Array(rowBlock).keys()];
  return { functions: '', loop: `
  ${rows.map((r) => `let a${r}Row = u.aOff + min(row0 + ${r}u, u.N - 1u) * u.K;`).join(' ')}
  let ldb4 = u.ldb / 4u;
  var bIndex = (u.bOff + col0) / 4u;
  let bHigh = (min(col0 + 4u, u.M - 4u) - col0) / 4u;
  for (var k = 0u; k < u.K; k++) {
    let b0 = b[bIndex]; let b1 = b[bIndex + bHigh];
    ${rows.map((r) => `let a${r} = a[a${r}Row + k]; ${acc(r, 0)} += a${r} * b0; ${acc(r, 1)} += a${r} * b1;`).join('\n    ')}
    bIndex += ldb4;
  }` };
}

/**
 * The aligned k loop for out = a·bᵀ (b [M, K]): every index is computed
 * before the loop, which then holds only 8 vec4 loads and 16 dot products per
 * step of 4 along k, with no clamps, branches or mat4x4 construction (1.5–2×
 * the general loop on SwiftShader). Rows of b are read at a stride of K, left
 * to the cache.
 */
function alignedGemmLoop(): GemmLoop {
  const rows = [0, 1, 2, 3];
  return { functions: '', loop: `
  ${rows.map((r) => `let a${r}Row = (u.aOff + min(row0 + ${r}u, u.N - 1u) * u.K) / 4u;`).join(' ')}
  ${rows.map((j) => `let b${j}Row = (u.bOff + min(col0 + ${j}u, u.M - 1u) * u.K) / 4u;`).join(' ')}
  let kSteps = u.K / 4u;
  for (var k = 0u; k < kSteps; k++) {
    ${rows.map((j) => `let b${j} = b[b${j}Row + k];`).join(' ')}
    ${rows.map((r) => `let a${r} = a[a${r}Row + k]; ${acc(r, 0)} += vec4f(dot(a${r}, b0), dot(a${r}, b1), dot(a${r}, b2), dot(a${r}, b3));`).join('\n    ')}
  }` };
}

/**
 * The k loop for any other layout, and the loaders it calls: per step of 4
 * along k it loads 4 vec4s of a and a 4×4 tile of b (as a mat4x4), reading
 * scalars where a row or offset is not a whole vec4 and zeros past K.
 */
function generalGemmLoop({ transposed, vecA, vecB }: GemmLayout): GemmLoop {
  const rows = [0, 1, 2, 3];
  const loadA = (r: number) => `load_a(u.aOff + min(row0 + ${r}u, u.N - 1u) * u.K, k, u.K)`;
  const tile = transposed
    ? rows.map((j) => `load_b(u.bOff + min(col0 + ${j}u, u.M - 1u) * u.K, k, u.K)`)
    : rows.map((j) => `load_b_row(k + ${j}u, col0)`);
  const madd = (r: number) => transposed ? `${acc(r, 0)} += a${r} * tile;` : `${acc(r, 0)} += tile * a${r};`;
  const bRowLoader = transposed ? '' : vecB
    ? `fn load_b_row(k: u32, col: u32) -> vec4f {
  if (k >= u.K) { return vec4f(0.0); }
  return b[(u.bOff + k * u.ldb + col) / 4u];
}`
    : `fn load_b_row(k: u32, col: u32) -> vec4f {
  if (k >= u.K) { return vec4f(0.0); }
  let start = u.bOff + k * u.ldb;
  let last = u.M - 1u;
  return vec4f(b[start + min(col, last)], b[start + min(col + 1u, last)], b[start + min(col + 2u, last)], b[start + min(col + 3u, last)]);
}`;
  return {
    functions: `${vec4Loader('a', vecA)}\n${transposed ? vec4Loader('b', vecB) : ''}\n${bRowLoader}`,
    loop: `
  for (var k = 0u; k < u.K; k += 4u) {
    let tile = mat4x4f(${tile.join(', ')});
    ${rows.map((r) => `let a${r} = ${loadA(r)}; ${madd(r)}`).join('\n    ')}
  }`,
  };
}

/**
 * WGSL of out[n, col] = bias[col] + Σ_k a[n,k]·B(k, col), where B is b[k, col]
 * (b [K, ldb], matmulForward) or b[col, k] (b [M, K] with `transposed`,
 * unembedForward). Each invocation computes a block of out in registers (no
 * workgroup memory), with the loop gemmKind picks. Rows past N and columns
 * past M read clamped (valid) indices and are not stored.
 */
function gemmWGSL(layout: GemmLayout, uniformWGSL: string, epilogue: Epilogue['kind'] | null): string {
  const { vecA, vecB, vecOut } = layout;
  const { kind, block, rowBlock } = gemmKind(layout);
  const rows = [...Array(rowBlock).keys()];
  const quads = [...Array(block / 4).keys()];
  const wide = block === 8;
  const kLoop = kind === 'general' ? generalGemmLoop(layout) : wide ? wideGemmLoop(rowBlock) : alignedGemmLoop();
  // With accumulate, the product is added to what out holds (a backward pass's gradient).
  // The epilogue's tensors (e0 written, e1 read) sit at out's index past their own offsets.
  const epilogueStore = (value: string) => {
    const at = (e: number) => (vecOut ? `(index - u.outOff + u.e${e}Off) / 4u` : `index - u.outOff + u.e${e}Off`);
    if (epilogue === 'gelu') return `e0[${at(0)}] = ${GELU_WGSL(value)};`;
    if (epilogue === 'geluBackward') return `{ let x = e1[${at(1)}]; ${geluGradWGSL('x')} e0[${at(0)}] += grad * ${value}; }`;
    return '';
  };
  const store = (q: number) => vecOut
    ? `if (col0 + ${4 * q}u < u.M) {
      let index = start + col0 + ${4 * q}u;
      var stored = value;
      if (u.accumulate != 0u) { stored += out[index / 4u]; }
      out[index / 4u] = stored;
      ${epilogueStore('stored')}
    }`
    : `for (var j = ${4 * q}u; j < ${4 * q + 4}u; j++) {
      if (col0 + j < u.M) {
        let index = start + col0 + j;
        var stored = value[j - ${4 * q}u];
        if (u.accumulate != 0u) { stored += out[index]; }
        out[index] = stored;
        ${epilogueStore('stored')}
      }
    }`;
  return `
${storage(0, 'out', vecOut ? 'vec4f' : 'f32', true)}
${storage(1, 'a', vecA && !wide ? 'vec4f' : 'f32')}
${storage(2, 'b', vecB ? 'vec4f' : 'f32')}
${storage(3, 'bias', 'f32')}
${epilogue ? storage(4, 'e0', vecOut ? 'vec4f' : 'f32', true) : ''}
${epilogue === 'geluBackward' ? storage(5, 'e1', vecOut ? 'vec4f' : 'f32') : ''}
${uniformWGSL}
${kLoop.functions}
${ENTRY_WGSL}
  let colBlocks = (u.M + ${block - 1}u) / ${block}u;
  if (id >= colBlocks * ((u.N + ${rowBlock - 1}u) / ${rowBlock}u)) { return; }
  let row0 = (id / colBlocks) * ${rowBlock}u;
  let col0 = (id % colBlocks) * ${block}u;
  ${rows.map((r) => quads.map((q) => `var ${acc(r, q)} = vec4f(0.0);`).join(' ')).join(' ')}
  ${kLoop.loop}
  let last = u.M - 1u;
  ${quads.map((q) => `var bias${q} = vec4f(0.0);
  if (u.hasBias != 0u) {
    ${[0, 1, 2, 3].map((j) => `bias${q}[${j}] = bias[u.biasOff + min(col0 + ${4 * q + j}u, last)];`).join(' ')}
  }`).join('\n  ')}
  ${rows.map((r) => `if (row0 + ${r}u < u.N) {
    let start = u.outOff + (row0 + ${r}u) * u.ldOut;
    ${quads.map((q) => `{ let value = ${acc(r, q)} + bias${q}; ${store(q)} }`).join('\n    ')}
  }`).join('\n  ')}
}`;
}

/**
 * Shared by matmulForward and unembedForward: out [N, ldOut] = a [N, K] times B
 * (see gemmWGSL), split into row chunks (and, transposed, column chunks of b)
 * that each fit one binding.
 */
function gemm(
  p: Program, out: GPUTensor, a: GPUTensor, b: GPUTensor, bias: GPUTensor | null,
  N: number, K: number, M: number, transposed: boolean, accumulate = false, epilogue: Epilogue | null = null,
): Dispatch[] {
  const dispatches: Dispatch[] = [];
  const columnChunks = transposed ? chunks(p, M, K) : [[0, M] as [number, number]];
  for (const [col, cols] of columnChunks) {
    const bBound: BoundTensor = transposed ? p.bind(offsetBy(b, col * K), cols * K) : p.bind(b, K * M);
    const biasBound = bias ? p.bind(offsetBy(bias, col), cols) : { binding: { buffer: p.dummy }, offset: 0 };
    for (const [row, rows] of chunks(p, N, Math.max(K, M))) {
      const aBound = p.bind(offsetBy(a, row * K), rows * K);
      const outBound = p.bind(offsetBy(out, row * M + col), (rows - 1) * M + cols);
      const extra = !epilogue ? [] : epilogue.kind === 'gelu' ? [epilogue.out] : [epilogue.dinp, epilogue.inp];
      const extraBound = extra.map((t) => p.bind(offsetBy(t, row * M + col), (rows - 1) * M + cols));
      const layout: GemmLayout = {
        transposed,
        vecA: isVec4(K, aBound.offset),
        vecB: isVec4(transposed ? K : M, bBound.offset),
        vecOut: isVec4(M, cols, outBound.offset, ...extraBound.map((b) => b.offset)),
      };
      const u = uniforms(4 + extraBound.length, {
        N: rows, K, M: cols, ldb: M, ldOut: M, hasBias: bias ? 1 : 0, accumulate: accumulate ? 1 : 0,
        aOff: aBound.offset, bOff: bBound.offset, outOff: outBound.offset, biasOff: biasBound.offset,
        e0Off: extraBound[0]?.offset ?? 0, e1Off: extraBound[1]?.offset ?? 0,
      });
      const { kind, block, rowBlock } = gemmKind(layout);
      const loop = kind === 'general' ? `general a${+layout.vecA} b${+layout.vecB}` : `${kind} ${rowBlock}×${block}`;
      const name = `gemm t${+transposed} ${loop} o${+layout.vecOut}${epilogue ? ` ${epilogue.kind}` : ''}`;
      const pipeline = p.pipeline(name, gemmWGSL(layout, u.wgsl, epilogue?.kind ?? null));
      dispatches.push(p.dispatch(
        pipeline, [outBound.binding, aBound.binding, bBound.binding, biasBound.binding, ...extraBound.map((b) => b.binding)], u.data,
        p.grid(Math.ceil(rows / rowBlock) * Math.ceil(cols / block)),
      ));
    }
  }
  return dispatches;
}

/** out[n,o] = bias[o] + Σ_i inp[n,i]·weight[i,o]: inp [N,C], weight [C,OC] (x·W), bias [OC] or null. */
export function matmulForward(
  p: Program, out: GPUTensor, inp: GPUTensor, weight: GPUTensor, bias: GPUTensor | null, N: number, C: number, OC: number,
): Dispatch[] {
  return gemm(p, out, inp, weight, bias, N, C, OC, false);
}

/**
 * matmulForward, and GELU of its result into geluOut [N, OC] as it is stored
 * (the MLP's first layer: one pass over the activations less).
 */
export function matmulGeluForward(
  p: Program, out: GPUTensor, geluOut: GPUTensor, inp: GPUTensor, weight: GPUTensor, bias: GPUTensor | null, N: number, C: number, OC: number,
): Dispatch[] {
  return gemm(p, out, inp, weight, bias, N, C, OC, false, false, { kind: 'gelu', out: geluOut });
}

/**
 * out [N, M] += a [N, K]·b [K, M] with matmulForward's blocked loop: the input
 * gradient of a matmul (backward.ts), from a transposed copy of its weight;
 * an epilogue may take the sums on (see Epilogue).
 */
export function matmulAccumulate(
  p: Program, out: GPUTensor, a: GPUTensor, b: GPUTensor, N: number, K: number, M: number, epilogue: Epilogue | null = null,
): Dispatch[] {
  return gemm(p, out, a, b, null, N, K, M, false, true, epilogue);
}

/**
 * logits[n,v] = Σ_c inp[n,c]·weight[v,c] (x·Wᵀ, weight [V,C] in the embedding's
 * layout). A vocabulary too large for one binding is split into several dispatches.
 */
export function unembedForward(
  p: Program, logits: GPUTensor, inp: GPUTensor, weight: GPUTensor, N: number, C: number, V: number,
): Dispatch[] {
  return gemm(p, logits, inp, weight, null, N, C, V, true);
}

/**
 * Causal multi-head self-attention over qkv [B,T,3C] (each position's query, key
 * and value, heads side by side), as three dispatches:
 *   1. a batched product over (b, h): preatt[b,h,t,:] = q·k/√hs for every key
 *      (future ones too, so the page can show what the mask hides; with
 *      `futureScores` false, as in training, where nothing reads them, blocks
 *      of them are skipped and left as they were);
 *   2. one invocation per (b, h, query t): att[b,h,t,:] = softmax over keys ≤ t,
 *      later keys exactly 0;
 *   3. a batched product over (b, h): out = att·v over the keys ≤ t.
 */
export function attentionForward(
  p: Program, out: GPUTensor, preatt: GPUTensor, att: GPUTensor, qkv: GPUTensor,
  B: number, T: number, C: number, NH: number, futureScores = true,
): Dispatch[] {
  const hs = C / NH;
  const rows = B * NH * T;
  const pre = p.bind(preatt, rows * T);
  const weights = p.bind(att, rows * T);
  const everyHead = { batches: B, heads: NH };

  // One head's queries, keys and values: [T, hs] slices of the [T, 3C] rows (the same views as attentionBackward's).
  const query: View = { offset: 0, row: 3 * C, col: 1, batch: T * 3 * C, head: hs };
  const key: View = { ...query, offset: C };
  const value: View = { ...query, offset: 2 * C };
  const headOut: View = { offset: 0, row: C, col: 1, batch: T * C, head: hs };
  const scoreRows: View = { offset: 0, row: T, col: 1, batch: NH * T * T, head: T * T };
  const scores = stridedGemm(p, preatt, scoreRows, qkv, query, qkv, transposed(key), T, hs, T,
    { accumulate: false, alpha: 1 / Math.sqrt(hs), ...everyHead, ...(futureScores ? {} : { causal: 'skipAbove' as const }) });

  const softmaxU = uniforms(2, { rows, T, preOff: pre.offset, attOff: weights.offset });
  const softmax = p.pipeline('attentionForward softmax', `
${storage(0, 'att', 'f32', true)}
${storage(1, 'preatt', 'f32')}
${softmaxU.wgsl}
${ENTRY_WGSL}
  if (id >= u.rows) { return; }
  let t = id % u.T;
  let scores = u.preOff + id * u.T;
  let weights = u.attOff + id * u.T;
  var maxScore = -0x1.fffffep+127f;
  for (var j = 0u; j <= t; j++) { maxScore = max(maxScore, preatt[scores + j]); }
  var sum = 0.0;
  for (var j = 0u; j <= t; j++) {
    let e = exp(preatt[scores + j] - maxScore);
    att[weights + j] = e;
    sum += e;
  }
  let inverse = 1.0 / sum;
  for (var j = 0u; j <= t; j++) { att[weights + j] *= inverse; }
  for (var j = t + 1u; j < u.T; j++) { att[weights + j] = 0.0; }
}`);
  // att is 0 past each query: the product stops at the block's last query.
  const values = stridedGemm(p, out, headOut, att, scoreRows, qkv, value, T, T, hs, { accumulate: false, causal: 'kToRow', ...everyHead });
  return [scores, p.dispatch(softmax, [weights.binding, pre.binding], softmaxU.data, p.grid(rows)), values];
}

/**
 * An elementwise kernel over N floats, 4 per invocation: out[i] = expression of
 * in0[i], in1[i], ... An input that is `out` itself (same buffer and offset) is
 * read from out, which makes in-place updates legal (WebGPU forbids binding a
 * written buffer twice).
 */
function elementwise(p: Program, name: string, expression: string, out: GPUTensor, inputs: GPUTensor[], N: number): Dispatch[] {
  const o = p.bind(out, N);
  const start = (t: GPUTensor) => ('buffer' in t ? [t.buffer, t.offset] : [t, 0]) as [GPUBuffer, number];
  const sameAsOut = (t: GPUTensor) => start(t)[0] === start(out)[0] && start(t)[1] === start(out)[1];
  const separate = inputs.filter((t) => !sameAsOut(t)).map((t) => p.bind(t, N));
  const fields: Record<string, number> = { N, outOff: o.offset };
  separate.forEach((b, i) => { fields[`off${i}`] = b.offset; });
  const u = uniforms(1 + separate.length, fields);
  // The name records which inputs are read from out: it changes the WGSL.
  const aliasing = inputs.map((t) => (sameAsOut(t) ? 'o' : 's')).join('');
  let next = 0;
  const reads = inputs.map((t) => (sameAsOut(t) ? `out[u.outOff + i]` : `in${next}[u.off${next++} + i]`));
  const pipeline = p.pipeline(`${name} ${aliasing}`, `
${storage(0, 'out', 'f32', true)}
${separate.map((_, i) => storage(i + 1, `in${i}`, 'f32')).join('\n')}
${u.wgsl}
${ENTRY_WGSL}
  for (var i = id * 4u; i < min(id * 4u + 4u, u.N); i++) {
    ${reads.map((read, i) => `let x${i} = ${read};`).join(' ')}
    out[u.outOff + i] = ${expression};
  }
}`);
  return [p.dispatch(pipeline, [o.binding, ...separate.map((b) => b.binding)], u.data, p.grid(Math.ceil(N / 4)))];
}

/** GPT-2's GELU (tanh approximation) as x·σ(2u), u = √(2/π)·(x + 0.044715·x³): the CPU's formula. */
export function geluForward(p: Program, out: GPUTensor, inp: GPUTensor, N: number): Dispatch[] {
  return elementwise(p, 'geluForward', GELU_WGSL('x0'), out, [inp], N);
}

/** out = a + b elementwise over N floats; out may be a or b. */
export function residualForward(p: Program, out: GPUTensor, a: GPUTensor, b: GPUTensor, N: number): Dispatch[] {
  return elementwise(p, 'residualForward', 'x0 + x1', out, [a, b], N);
}

/**
 * losses[n] = logsumexp(logits[n,:]) − logits[n, targets[n]] (targets int32
 * [N]), one row per invocation; rows split into chunks that fit one binding.
 */
export function crossEntropyForward(
  p: Program, losses: GPUTensor, logits: GPUTensor, targets: GPUTensor, N: number, V: number,
): Dispatch[] {
  return chunks(p, N, V).map(([row, rows]) => {
    const t = [p.bind(offsetBy(losses, row), rows), p.bind(offsetBy(logits, row * V), rows * V), p.bind(offsetBy(targets, row), rows)];
    const u = uniforms(3, { N: rows, V, lossOff: t[0].offset, logitOff: t[1].offset, targetOff: t[2].offset });
    const pipeline = p.pipeline('crossEntropyForward', `
${storage(0, 'losses', 'f32', true)}
${storage(1, 'logits', 'f32')}
${storage(2, 'targets', 'i32')}
${u.wgsl}
${ENTRY_WGSL}
  if (id >= u.N) { return; }
  let row = u.logitOff + id * u.V;
  var maxLogit = -0x1.fffffep+127f;
  for (var v = 0u; v < u.V; v++) { maxLogit = max(maxLogit, logits[row + v]); }
  var sum = 0.0;
  for (var v = 0u; v < u.V; v++) { sum += exp(logits[row + v] - maxLogit); }
  losses[u.lossOff + id] = maxLogit + log(sum) - logits[row + u32(targets[u.targetOff + id])];
}`);
    return p.dispatch(pipeline, t.map((b) => b.binding), u.data, p.grid(rows));
  });
}
