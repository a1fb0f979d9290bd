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

import type { ActivationName } from '../model.ts';
import type { ParameterName } from '../params.ts';
import { attentionViews, gemm, geluWGSL, rowMajor, transposed } from './matmul.ts';
import {
  bindingPieces,
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

const ENCODER_FORWARD = perIndexKernel(
  'encoderForward',
  ['out: rw', 'tokens: i32', 'wte', 'wpe'],
  ['T', 'C'],
  [],
  /* wgsl */ `
  // i is an element of out.
  let row = i / u.C;
  let c = i % u.C;
  let token = u32(tokens[u.tokensOff + row]);
  out[u.outOff + i] = wte[u.wteOff + token * u.C + c] + wpe[u.wpeOff + (row % u.T) * u.C + c];`,
);

/** out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]; tokens are int32 [B,T]. */
export function encoderForward(
  p: Program,
  out: GPUTensor,
  tokens: GPUTensor,
  wte: GPUTensor,
  wpe: GPUTensor,
  B: number,
  T: number,
  C: number,
): Dispatch[] {
  const N = B * T;
  // wte is bound to the end of its buffer: any row can be read.
  return [perIndex(p, ENCODER_FORWARD, { count: N * C, fields: [T, C] }, [out, N * C], [tokens, N], [wte], [wpe, T * C])];
}

const LAYERNORM_FORWARD = perIndexKernel(
  'layernormForward',
  ['out: rw', 'mean: rw', 'rstd: rw', 'inp', 'weight', 'bias'],
  ['C'],
  [],
  /* wgsl */ `
  // i is a row.
  let x = u.inpOff + i * u.C;
  var sum = 0.0;
  for (var c = 0u; c < u.C; c++) { sum += inp[x + c]; }
  let m = sum / f32(u.C);
  var squares = 0.0;
  for (var c = 0u; c < u.C; c++) { let d = inp[x + c] - m; squares += d * d; }
  let s = 1.0 / sqrt(squares / f32(u.C) + 1e-5);
  let y = u.outOff + i * u.C;
  for (var c = 0u; c < u.C; c++) { out[y + c] = (inp[x + c] - m) * s * weight[u.weightOff + c] + bias[u.biasOff + c]; }
  mean[u.meanOff + i] = m;
  rstd[u.rstdOff + i] = s;`,
);

/**
 * LayerNorm of each row of inp [N,C] (biased variance, eps 1e-5), scaled by
 * weight and shifted by bias; saves each row's mean and 1/std [N]. One row per
 * invocation, two passes over it as on the CPU.
 */
export function layernormForward(
  p: Program,
  out: GPUTensor,
  mean: GPUTensor,
  rstd: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  bias: GPUTensor,
  N: number,
  C: number,
): Dispatch[] {
  const perRow = { count: N, fields: [C] };
  return [perIndex(p, LAYERNORM_FORWARD, perRow, [out, N * C], [mean, N], [rstd, N], [inp, N * C], [weight, C], [bias, C])];
}

/** out[n,o] = bias[o] + Σ_i inp[n,i]·weight[i,o]: inp [N,C], weight [C,OC] (x·W), bias [OC] or null. */
export function matmulForward(
  p: Program,
  out: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  bias: GPUTensor | null,
  N: number,
  C: number,
  OC: number,
): Dispatch[] {
  return gemm(p, { out, a: inp, b: weight, bias, M: N, K: C, N: OC });
}

/**
 * matmulForward, and GELU of its result into geluOut [N, OC] as it is stored
 * (the MLP's first layer: one pass over the activations less).
 */
export function matmulGeluForward(
  p: Program,
  out: GPUTensor,
  geluOut: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  bias: GPUTensor | null,
  N: number,
  C: number,
  OC: number,
): Dispatch[] {
  return gemm(p, { out, a: inp, b: weight, bias, M: N, K: C, N: OC, epilogue: { kind: 'gelu', out: geluOut } });
}

/**
 * logits[n,v] = Σ_c inp[n,c]·weight[v,c] (x·Wᵀ, weight [V,C] in the embedding's
 * layout). A vocabulary too large for one binding is split into several dispatches.
 */
export function unembedForward(
  p: Program,
  logits: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  N: number,
  C: number,
  V: number,
): Dispatch[] {
  return gemm(p, { out: logits, a: inp, b: weight, bView: transposed(rowMajor(C)), M: N, K: C, N: V });
}

const ATTENTION_SOFTMAX = perIndexKernel(
  'attentionForward softmax',
  ['att: rw', 'preatt'],
  ['T'],
  [],
  /* wgsl */ `
  // i is one query's row of one head; keys after the query get weight 0.
  let t = i % u.T;
  let scores = u.preattOff + i * u.T;
  let weights = u.attOff + i * u.T;
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
  for (var j = t + 1u; j < u.T; j++) { att[weights + j] = 0.0; }`,
);

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
  p: Program,
  out: GPUTensor,
  preatt: GPUTensor,
  att: GPUTensor,
  qkv: GPUTensor,
  B: number,
  T: number,
  C: number,
  NH: number,
  futureScores = true,
): Dispatch[] {
  const hs = C / NH;
  const rows = B * NH * T;
  const everyHead = { batches: B, heads: NH };
  const { query, key, value, headOut, scores } = attentionViews(T, C, NH);
  const scoring = gemm(p, {
    out: preatt,
    outView: scores,
    a: qkv,
    aView: query,
    b: qkv,
    bView: transposed(key),
    M: T,
    K: hs,
    N: T,
    alpha: 1 / Math.sqrt(hs),
    ...everyHead,
    ...(futureScores ? {} : { causal: 'skipAbove' as const }),
  });

  const softmax = perIndex(p, ATTENTION_SOFTMAX, { count: rows, fields: [T] }, [att, rows * T], [preatt, rows * T]);
  // att is 0 past each query: the product stops at the block's last query.
  const weighting = gemm(p, {
    out,
    outView: headOut,
    a: att,
    aView: scores,
    b: qkv,
    bView: value,
    M: T,
    K: T,
    N: hs,
    causal: 'kToRow',
    ...everyHead,
  });
  return [...scoring, softmax, ...weighting];
}

/**
 * An elementwise kernel over N floats, 4 per invocation: out[i] = expression of
 * x0 = in0[i], x1 = in1[i], ..., which may call WGSL `functions`. An input
 * that is `out` itself (same buffer and offset) is read from out, which makes
 * in-place updates legal (WebGPU forbids binding a written buffer twice).
 */
function elementwise(
  p: Program,
  name: string,
  expression: string,
  out: GPUTensor,
  inputs: GPUTensor[],
  N: number,
  functions = '',
): Dispatch[] {
  const o = p.bind(out, N);
  const start = (t: GPUTensor) => ('buffer' in t ? [t.buffer, t.offset] : [t, 0]) as [GPUBuffer, number];
  const sameAsOut = (t: GPUTensor) => start(t)[0] === start(out)[0] && start(t)[1] === start(out)[1];
  const separate = inputs.filter((t) => !sameAsOut(t)).map((t) => p.bind(t, N));
  const fields: Record<string, number> = { N, outOff: o.offset };
  separate.forEach((b, i) => {
    fields[`off${i}`] = b.offset;
  });
  const u = uniforms(1 + separate.length, fields);
  // The name records which inputs are read from out: it changes the WGSL.
  const aliasing = inputs.map((t) => (sameAsOut(t) ? 'o' : 's')).join('');
  let next = 0;
  const reads = inputs.map((t) => (sameAsOut(t) ? `out[u.outOff + i]` : `in${next}[u.off${next++} + i]`));
  const pipeline = p.pipeline(
    `${name} ${aliasing}`,
    () => `
${storage(0, 'out', 'f32', true)}
${separate.map((_, i) => storage(i + 1, `in${i}`, 'f32')).join('\n')}
${u.wgsl()}
${functions}
${ENTRY_WGSL}
  for (var i = id * 4u; i < min(id * 4u + 4u, u.N); i++) {
    ${reads.map((read, i) => `let x${i} = ${read};`).join(' ')}
    out[u.outOff + i] = ${expression};
  }
}`,
  );
  return [p.dispatch(pipeline, [o.binding, ...separate.map((b) => b.binding)], u.data, p.grid(Math.ceil(N / 4)))];
}

/** GPT-2's GELU (tanh approximation) as x·σ(2u), u = √(2/π)·(x + 0.044715·x³): the CPU's formula. */
export function geluForward(p: Program, out: GPUTensor, inp: GPUTensor, N: number): Dispatch[] {
  return elementwise(p, 'geluForward', 'gelu(x0)', out, [inp], N, geluWGSL('f32'));
}

/** out = a + b elementwise over N floats; out may be a or b. */
export function residualForward(p: Program, out: GPUTensor, a: GPUTensor, b: GPUTensor, N: number): Dispatch[] {
  return elementwise(p, 'residualForward', 'x0 + x1', out, [a, b], N);
}

const CROSS_ENTROPY_FORWARD = perIndexKernel(
  'crossEntropyForward',
  ['losses: rw', 'logits', 'targets: i32'],
  ['V'],
  [],
  /* wgsl */ `
  // i is a row (a position).
  let row = u.logitsOff + i * u.V;
  var maxLogit = -0x1.fffffep+127f;
  for (var v = 0u; v < u.V; v++) { maxLogit = max(maxLogit, logits[row + v]); }
  var sum = 0.0;
  for (var v = 0u; v < u.V; v++) { sum += exp(logits[row + v] - maxLogit); }
  losses[u.lossesOff + i] = maxLogit + log(sum) - logits[row + u32(targets[u.targetsOff + i])];`,
);

/**
 * One transformer block over B sequences of T tokens, as model.ts runs it:
 * attention, then the MLP, each added to the residual stream `input`. `a` and
 * `w` give the layer's activations and weights; its queries, keys and values
 * go to `qkv` (an activation, or a layer's KV cache).
 */
export function blockForward(
  p: Program,
  a: (name: ActivationName) => GPUTensor,
  w: (name: ParameterName) => GPUTensor,
  input: GPUTensor,
  qkv: GPUTensor,
  B: number,
  T: number,
  C: number,
  NH: number,
  futureScores: boolean,
): Dispatch[] {
  const N = B * T;
  return [
    ...layernormForward(p, a('ln1'), a('ln1Mean'), a('ln1Rstd'), input, w('ln1w'), w('ln1b'), N, C),
    ...matmulForward(p, qkv, a('ln1'), w('qkvw'), w('qkvb'), N, C, 3 * C),
    ...attentionForward(p, a('atty'), a('preatt'), a('att'), qkv, B, T, C, NH, futureScores),
    ...matmulForward(p, a('attproj'), a('atty'), w('attprojw'), w('attprojb'), N, C, C),
    ...residualForward(p, a('residual2'), input, a('attproj'), N * C),
    ...layernormForward(p, a('ln2'), a('ln2Mean'), a('ln2Rstd'), a('residual2'), w('ln2w'), w('ln2b'), N, C),
    ...matmulGeluForward(p, a('fch'), a('fchGelu'), a('ln2'), w('fcw'), w('fcb'), N, C, 4 * C),
    ...matmulForward(p, a('fcproj'), a('fchGelu'), w('fcprojw'), w('fcprojb'), N, 4 * C, C),
    ...residualForward(p, a('residual3'), a('residual2'), a('fcproj'), N * C),
  ];
}

/**
 * losses[n] = logsumexp(logits[n,:]) − logits[n, targets[n]] (targets int32
 * [N]), one row per invocation; rows split into pieces that fit one binding.
 */
export function crossEntropyForward(
  p: Program,
  losses: GPUTensor,
  logits: GPUTensor,
  targets: GPUTensor,
  N: number,
  V: number,
): Dispatch[] {
  return bindingPieces(p, N, V).map(([n0, rows]) => {
    // Rows n0 .. n0 + rows of a tensor of `width` floats a row.
    const part = (t: GPUTensor, width = 1): [GPUTensor, number] => [offsetBy(t, n0 * width), rows * width];
    return perIndex(p, CROSS_ENTROPY_FORWARD, { count: rows, fields: [V] }, part(losses), part(logits, V), part(targets));
  });
}
