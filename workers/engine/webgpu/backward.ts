/**
 * The backward kernels on the GPU: one function per backward function of
 * kernels.ts, same name, same arguments (GPU tensors, a buffer or a float offset
 * into one, instead of arrays; a Program first), each returning the Dispatches
 * that perform it. Same rules as there: they ADD into the gradient buffers,
 * except crossEntropySoftmaxBackward (it starts the pass) and attentionBackward's
 * scratch (datt, dpreatt), which write.
 *
 * Two shapes of kernel cover everything:
 *  - gemm (matmul.ts), for every matmul, unembedding and attention product and
 *    their transposes;
 *  - perIndexKernel (program.ts): one invocation per index (an element, a row
 *    or a channel) looping over the
 *    rest: a gradient that many positions add into (a bias, a LayerNorm gain,
 *    an embedding row) is owned by one invocation, so no two ever race on it.
 */

import { attentionViews, gemm, geluWGSL, rowMajor, transposed } from './matmul.ts';
import { bindingPieces, type Dispatch, type GPUTensor, offsetBy, perIndex, perIndexKernel, type Program } from './program.ts';

const ENCODER_BACKWARD = perIndexKernel(
  'encoderBackward',
  ['dwte: rw', 'dwpe: rw', 'dout', 'tokens: i32'],
  ['positions', 'T'],
  [],
  /* wgsl */ `
  // i is a channel: this invocation alone writes column i of dwte and dwpe,
  // so repeated tokens add up without races.
  let C = u.count;
  for (var n = 0u; n < u.positions; n++) {
    let d = dout[u.doutOff + n * C + i];
    dwte[u.dwteOff + u32(tokens[u.tokensOff + n]) * C + i] += d;
    dwpe[u.dwpeOff + (n % u.T) * C + i] += d;
  }`,
);

/** Scatters dout [B,T,C] back onto the rows of wte [V,C] and wpe [T,C] (tokens: int32 [B·T]); dwte is bound to its buffer's end. */
export function encoderBackward(
  p: Program,
  dwte: GPUTensor,
  dwpe: GPUTensor,
  dout: GPUTensor,
  tokens: GPUTensor,
  B: number,
  T: number,
  C: number,
): Dispatch[] {
  const N = B * T;
  return [perIndex(p, ENCODER_BACKWARD, { count: C, fields: [N, T] }, [dwte], [dwpe, T * C], [dout, N * C], [tokens, N])];
}

const LAYERNORM_BACKWARD_INPUT = perIndexKernel(
  'layernormBackwardInput',
  ['dinp: rw', 'dout', 'inp', 'weight', 'mean', 'rstd'],
  ['C'],
  [],
  /* wgsl */ `
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
  }`,
);

const LAYERNORM_BACKWARD_PARAMS = perIndexKernel(
  'layernormBackwardParams',
  ['dweight: rw', 'dbias: rw', 'dout', 'inp', 'mean', 'rstd'],
  ['N'],
  [],
  /* wgsl */ `
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
  dbias[u.dbiasOff + i] += biasSum;`,
);

/** LayerNorm backward from the saved mean and rstd [N]: one pass per row for dinp, one per channel for dweight and dbias. */
export function layernormBackward(
  p: Program,
  dinp: GPUTensor,
  dweight: GPUTensor,
  dbias: GPUTensor,
  dout: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  mean: GPUTensor,
  rstd: GPUTensor,
  N: number,
  C: number,
): Dispatch[] {
  // What both passes read: dout and inp [N, C], mean and rstd [N].
  // prettier-ignore
  const [dy, x, m, s]: [GPUTensor, number][] = [[dout, N * C], [inp, N * C], [mean, N], [rstd, N]];
  return [
    perIndex(p, LAYERNORM_BACKWARD_INPUT, { count: N, fields: [C] }, [dinp, N * C], dy, x, [weight, C], m, s),
    perIndex(p, LAYERNORM_BACKWARD_PARAMS, { count: C, fields: [N] }, [dweight, C], [dbias, C], dy, x, m, s),
  ];
}

const COLUMN_SUMS = perIndexKernel(
  'columnSums',
  ['sums: rw', 'matrix'],
  ['N'],
  [],
  /* wgsl */ `
  var sum = 0.0;
  for (var n = 0u; n < u.N; n++) { sum += matrix[u.matrixOff + n * u.count + i]; }
  sums[u.sumsOff + i] += sum;`,
);

const TRANSPOSE = perIndexKernel(
  'transpose',
  ['out: rw', 'inp'],
  ['rows', 'cols'],
  [],
  /* wgsl */ `
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
  }`,
);

/**
 * When a matmul's input is gelu(x) (the MLP's second layer): x and its gradient,
 * which gets gelu′(x)·dinp as the input gradient dinp is stored (nothing may
 * add to dinp after).
 */
interface GeluInput {
  dinp: GPUTensor;
  inp: GPUTensor;
}

/** out [cols, rows] = inpᵀ for inp [rows, cols], both multiples of 4. */
export function transpose(p: Program, out: GPUTensor, inp: GPUTensor, rows: number, cols: number): Dispatch {
  if (rows % 4 !== 0 || cols % 4 !== 0) throw new Error(`transpose: ${rows}×${cols} is not made of 4×4 blocks`);
  return perIndex(p, TRANSPOSE, { count: (rows * cols) / 16, fields: [rows, cols] }, [out, rows * cols], [inp, rows * cols]);
}

/**
 * Backward of out = inp·weight + bias (inp [N,C], weight [C,OC]):
 * dinp += dout·weightᵀ, dweight += inpᵀ·dout, dbias += column sums of dout;
 * with throughGelu, then the GELU backward from dinp (see GeluInput).
 */
export function matmulBackward(
  p: Program,
  dinp: GPUTensor,
  dweight: GPUTensor,
  dbias: GPUTensor | null,
  dout: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  N: number,
  C: number,
  OC: number,
  throughGelu: GeluInput | null = null,
): Dispatch[] {
  // dinp += dout·weightᵀ reads the weight along its rows; from a transposed copy
  // (made once per step, allocated once) it is the x·W loop of matmulForward
  // instead: 1.1–1.4× as fast on SwiftShader, the transpose costing ~2 ms.
  const weightT = C % 4 === 0 && OC % 4 === 0 ? p.buffer(4 * C * OC, 'transposed weight') : null;
  // dbias comes with dweight's loop, which reads dout's rows as vec4s when they
  // are aligned (a separate pass over dout cost ~2% of a step on SwiftShader).
  const floatOffset = (t: GPUTensor) => ('buffer' in t ? t.offset : 0);
  const fusedSums = dbias !== null && OC % 4 === 0 && floatOffset(dout) % 4 === 0;
  const dispatches = [
    ...(weightT ? [transpose(p, weightT, weight, C, OC)] : []),
    ...gemm(p, {
      out: dinp,
      a: dout,
      ...(weightT ? { b: weightT } : { b: weight, bView: transposed(rowMajor(OC)) }),
      M: N,
      K: OC,
      N: C,
      accumulate: true,
      epilogue: throughGelu && { kind: 'geluBackward', ...throughGelu },
    }),
    ...gemm(p, {
      out: dweight,
      a: inp,
      aView: transposed(rowMajor(C)),
      b: dout,
      M: C,
      K: N,
      N: OC,
      accumulate: true,
      columnSums: fusedSums ? dbias : null,
    }),
  ];
  if (dbias && !fusedSums) dispatches.push(perIndex(p, COLUMN_SUMS, { count: OC, fields: [N] }, [dbias, OC], [dout, N * OC]));
  return dispatches;
}

/**
 * Backward of logits = inp·weightᵀ (inp [N,C], weight [V,C]):
 * dinp += dlogits·weight, dweight += dlogitsᵀ·inp. A vocabulary too big for
 * one binding is done in blocks of rows and of the vocabulary, each adding its part.
 */
export function unembedBackward(
  p: Program,
  dinp: GPUTensor,
  dweight: GPUTensor,
  dlogits: GPUTensor,
  inp: GPUTensor,
  weight: GPUTensor,
  N: number,
  C: number,
  V: number,
): Dispatch[] {
  const dispatches: Dispatch[] = [];
  for (const [v0, vocab] of bindingPieces(p, V, C)) {
    for (const [n0, rows] of bindingPieces(p, N, Math.max(V, C))) {
      const dlogitsBlock = offsetBy(dlogits, n0 * V + v0);
      dispatches.push(
        ...gemm(p, {
          out: offsetBy(dinp, n0 * C),
          a: dlogitsBlock,
          aView: rowMajor(V),
          b: offsetBy(weight, v0 * C),
          M: rows,
          K: vocab,
          N: C,
          accumulate: true,
        }),
        ...gemm(p, {
          out: offsetBy(dweight, v0 * C),
          a: dlogitsBlock,
          aView: transposed(rowMajor(V)),
          b: offsetBy(inp, n0 * C),
          M: vocab,
          K: rows,
          N: C,
          accumulate: true,
        }),
      );
    }
  }
  return dispatches;
}

const SOFTMAX_BACKWARD = perIndexKernel(
  'softmaxBackward',
  ['datt: rw', 'dpreatt: rw', 'att'],
  ['T'],
  [],
  /* wgsl */ `
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
  }`,
);

/**
 * Causal attention backward from the qkv [B,T,3C] and att [B,NH,T,T] the
 * forward pass kept, every head at once:
 *   datt = dout·Vᵀ, dV += attᵀ·dout; dpreatt = att·(datt − Σ_keys att·datt);
 *   dQ += dpreatt·K/√hs, dK += dpreattᵀ·Q/√hs.
 * datt and dpreatt [B,NH,T,T] are written (hidden keys' entries 0).
 */
export function attentionBackward(
  p: Program,
  dqkv: GPUTensor,
  dpreatt: GPUTensor,
  datt: GPUTensor,
  dout: GPUTensor,
  qkv: GPUTensor,
  att: GPUTensor,
  B: number,
  T: number,
  C: number,
  NH: number,
): Dispatch[] {
  const rows = B * NH * T;
  const { query, key, value, headOut, scores } = attentionViews(T, C, NH);
  // Each head's products, each a [T, T] or [T, hs] matrix per (batch, head).
  const perHead = (M: number, K: number, N: number) => ({ M, K, N, batches: B, heads: NH });
  const alpha = 1 / Math.sqrt(C / NH);
  return [
    // softmaxBackward reads datt at visible keys only, and writes the rest.
    ...gemm(p, {
      out: datt,
      outView: scores,
      a: dout,
      aView: headOut,
      b: qkv,
      bView: transposed(value),
      ...perHead(T, C / NH, T),
      causal: 'skipAbove',
    }),
    ...gemm(p, {
      out: dqkv,
      outView: value,
      a: att,
      aView: transposed(scores),
      b: dout,
      bView: headOut,
      ...perHead(T, T, C / NH),
      accumulate: true,
      causal: 'kFromRow',
    }),
    perIndex(p, SOFTMAX_BACKWARD, { count: rows, fields: [T] }, [datt, rows * T], [dpreatt, rows * T], [att, rows * T]),
    ...gemm(p, {
      out: dqkv,
      outView: query,
      a: dpreatt,
      aView: scores,
      b: qkv,
      bView: key,
      ...perHead(T, T, C / NH),
      accumulate: true,
      alpha,
      causal: 'kToRow',
    }),
    ...gemm(p, {
      out: dqkv,
      outView: key,
      a: dpreatt,
      aView: transposed(scores),
      b: qkv,
      bView: query,
      ...perHead(T, T, C / NH),
      accumulate: true,
      alpha,
      causal: 'kFromRow',
    }),
  ];
}

const GELU_BACKWARD = perIndexKernel(
  'geluBackward',
  ['dinp: rw', 'inp', 'dout'],
  [],
  [],
  /* wgsl */ `
  dinp[u.dinpOff + i] += geluGrad(inp[u.inpOff + i]) * dout[u.doutOff + i];`,
  geluWGSL('f32'),
);

/** GELU backward: dinp += gelu′(inp)·dout over N floats. */
export function geluBackward(p: Program, dinp: GPUTensor, inp: GPUTensor, dout: GPUTensor, N: number): Dispatch[] {
  return [perIndex(p, GELU_BACKWARD, { count: N }, [dinp, N], [inp, N], [dout, N])];
}

const RESIDUAL_BACKWARD = perIndexKernel(
  'residualBackward',
  ['da: rw', 'db: rw', 'dout'],
  [],
  [],
  /* wgsl */ `
  let d = dout[u.doutOff + i];
  da[u.daOff + i] += d;
  db[u.dbOff + i] += d;`,
);

/** A sum passes its gradient unchanged to both terms. */
export function residualBackward(p: Program, da: GPUTensor, db: GPUTensor, dout: GPUTensor, N: number): Dispatch[] {
  return [perIndex(p, RESIDUAL_BACKWARD, { count: N }, [da, N], [db, N], [dout, N])];
}

const CROSS_ENTROPY_SOFTMAX_BACKWARD = perIndexKernel(
  'crossEntropySoftmaxBackward',
  ['dlogits: rw', 'logits', 'targets: i32'],
  ['V'],
  ['scale'],
  /* wgsl */ `
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
  dlogits[dx + u32(targets[u.targetsOff + i])] -= u.scale;`,
);

/**
 * dlogits [N,V] = (softmax(logits) − onehot(targets))·scale per row: WRITES (it
 * starts the backward pass). targets: int32 [N]. Rows in pieces that fit a binding.
 */
export function crossEntropySoftmaxBackward(
  p: Program,
  dlogits: GPUTensor,
  logits: GPUTensor,
  targets: GPUTensor,
  N: number,
  V: number,
  scale: number,
): Dispatch[] {
  return bindingPieces(p, N, V).map(([n0, rows]) => {
    // Rows n0 .. n0 + rows of a tensor of `width` floats a row.
    const part = (t: GPUTensor, width = 1): [GPUTensor, number] => [offsetBy(t, n0 * width), rows * width];
    const uniforms = { count: rows, fields: [V], floats: [scale] };
    return perIndex(p, CROSS_ENTROPY_SOFTMAX_BACKWARD, uniforms, part(dlogits, V), part(logits, V), part(targets));
  });
}
