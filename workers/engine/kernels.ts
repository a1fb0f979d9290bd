/**
 * The GPT-2 forward pass, one plain function per layer kind, over flat row-major
 * Float32Arrays with explicit sizes (llm.c's train_gpt2.c). Letters name sizes:
 * B batch, T time (positions), C channels, NH heads, hs = C/NH head size,
 * V vocabulary, N = B·T rows, OC output channels.
 *
 * Outputs never alias inputs unless a function says so. Inner loops run over the
 * contiguous axis of both operands and allocate nothing: the page recomputes the
 * forward pass on every keystroke and training runs on this same code.
 */

import { gemm, geluBackwardWasm, geluForwardWasm } from './gemm.ts';
import { gelu, GELU_CUBIC, GELU_SCALE } from './gelu.ts';

export const LAYERNORM_EPS = 1e-5;

/** out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:]; out is [B,T,C], wte [V,C], wpe [≥T,C]. */
export function encoderForward(
  out: Float32Array,
  tokens: ArrayLike<number>,
  wte: Float32Array,
  wpe: Float32Array,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const outOff = (b * T + t) * C;
      const tokenOff = tokens[b * T + t] * C;
      const positionOff = t * C;
      for (let c = 0; c < C; c++) out[outOff + c] = wte[tokenOff + c] + wpe[positionOff + c];
    }
  }
}

/**
 * LayerNorm over the last axis of inp [N,C]: normalise each row to mean 0 and
 * variance 1 (biased variance, eps 1e-5), then scale by weight and shift by bias.
 * Saves each row's mean and 1/std [N]: the backward pass needs them.
 */
export function layernormForward(
  out: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const off = n * C;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += inp[off + c];
    const m = sum / C;
    let squares = 0;
    for (let c = 0; c < C; c++) {
      const d = inp[off + c] - m;
      squares += d * d;
    }
    const s = 1 / Math.sqrt(squares / C + LAYERNORM_EPS);
    for (let c = 0; c < C; c++) out[off + c] = (inp[off + c] - m) * s * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = s;
  }
}

/**
 * out[n,o] = bias[o] + Σ_i inp[n,i]·weight[i,o]: inp [N,C], weight [C,OC] (Hugging
 * Face's Conv1D layout, x·W), out [N,OC].
 */
export function matmulForward(
  out: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  N: number,
  C: number,
  OC: number,
): void {
  gemm({ out, a: inp, b: weight, bias, M: N, K: C, N: OC });
}

/**
 * logits[n,v] = Σ_c inp[n,c]·weight[v,c]: the unembedding, with weight [V,C] in
 * the token embedding's layout (so it can be the same matrix), i.e. x·Wᵀ.
 */
export function unembedForward(
  logits: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  N: number,
  C: number,
  V: number,
): void {
  gemm({ out: logits, a: inp, b: weight, M: N, K: C, N: V, bRow: 1, bCol: C });
}

/**
 * One query of one attention head. Scores it against nKeys keys (all of them, so
 * a caller can show what the causal mask hides), softmaxes the first nVisible
 * (later ones get exactly 0), and writes the weighted sum of their values.
 *   q[qOff..+hs]                     the query
 *   keys[keyOff + j·stride ..+hs]    key j; values likewise from valueOff
 *   scores/pattern[rowOff + j]       scaled score and attention weight of key j
 *   out[outOff..+hs]                 the head's output for this query
 */
export function attendForward(
  out: Float32Array,
  outOff: number,
  scores: Float32Array,
  pattern: Float32Array,
  rowOff: number,
  q: Float32Array,
  qOff: number,
  keys: Float32Array,
  keyOff: number,
  values: Float32Array,
  valueOff: number,
  stride: number,
  nKeys: number,
  nVisible: number,
  hs: number,
): void {
  const scale = 1 / Math.sqrt(hs);
  for (let j = 0; j < nKeys; j++) {
    const kOff = keyOff + j * stride;
    let dot = 0;
    for (let i = 0; i < hs; i++) dot += q[qOff + i] * keys[kOff + i];
    scores[rowOff + j] = dot * scale;
  }
  maskedSoftmax(pattern, scores, rowOff, nKeys, nVisible);

  for (let i = 0; i < hs; i++) out[outOff + i] = 0;
  for (let j = 0; j < nVisible; j++) {
    const weight = pattern[rowOff + j];
    const vOff = valueOff + j * stride;
    for (let i = 0; i < hs; i++) out[outOff + i] += weight * values[vOff + i];
  }
}

/** pattern[rowOff + j] = softmax of scores over the first nVisible keys; the rest of the nKeys exactly 0. */
function maskedSoftmax(pattern: Float32Array, scores: Float32Array, rowOff: number, nKeys: number, nVisible: number): void {
  let max = -Infinity;
  for (let j = 0; j < nVisible; j++) if (scores[rowOff + j] > max) max = scores[rowOff + j];
  let sum = 0;
  for (let j = 0; j < nVisible; j++) {
    const e = Math.exp(scores[rowOff + j] - max);
    pattern[rowOff + j] = e;
    sum += e;
  }
  const inverse = 1 / sum;
  for (let j = 0; j < nVisible; j++) pattern[rowOff + j] *= inverse;
  for (let j = nVisible; j < nKeys; j++) pattern[rowOff + j] = 0;
}

/**
 * One head's [T, hs] result before it is spread into the [T, C] (or [T, 3C])
 * rows it belongs to: gemm writes dense rows. Grown on demand and reused, so
 * steady-state training allocates nothing here.
 */
let headScratch = new Float32Array(0);

function headBuffer(size: number): Float32Array {
  if (headScratch.length < size) headScratch = new Float32Array(size);
  return headScratch;
}

/** Spreads one head's rows into dest: dest[t·stride + i] (+)= scale·head[t·hs + i] for t < T. */
function spreadHeadRows(
  dest: Float32Array,
  destOff: number,
  stride: number,
  head: Float32Array,
  T: number,
  hs: number,
  scale: number,
  accumulate: boolean,
): void {
  for (let t = 0; t < T; t++) {
    const rowOff = destOff + t * stride;
    const headOff = t * hs;
    if (accumulate) for (let i = 0; i < hs; i++) dest[rowOff + i] += scale * head[headOff + i];
    else for (let i = 0; i < hs; i++) dest[rowOff + i] = scale * head[headOff + i];
  }
}

/** The sizes every attention kernel uses, and the scratch [T, hs] of one head. */
function attentionSizes(T: number, C: number, NH: number): { hs: number; C3: number; scale: number; head: Float32Array } {
  const hs = C / NH;
  return { hs, C3: 3 * C, scale: 1 / Math.sqrt(hs), head: headBuffer(T * hs) };
}

/**
 * Every (sequence, head) of a batch: where its queries start in qkv [B,T,3C]
 * (its keys and values C and 2C further), its [T,T] block in the scores, and
 * its columns in out [B,T,C].
 */
function* eachHead(B: number, T: number, C: number, NH: number): Generator<{ queryOff: number; block: number; outOff: number }> {
  const hs = C / NH;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++)
      yield { queryOff: b * T * 3 * C + h * hs, block: (b * NH + h) * T * T, outOff: b * T * C + h * hs };
  }
}

/**
 * Causal multi-head self-attention. qkv [B,T,3C] holds each position's query,
 * key and value (heads side by side within each); writes
 *   preatt [B,NH,T,T]  q·k/√hs for every (query, key) pair, future keys included
 *   att    [B,NH,T,T]  softmax over keys ≤ query; keys after the query exactly 0
 *   out    [B,T,C]     each head's weighted sum of values, heads side by side
 * Each head's Q·Kᵀ and att·V are matrix products (strided views of qkv), so
 * they run on the fast gemm; the hidden scores come at no extra cost.
 * causal false (an experiment, never trained): every query softmaxes over all T keys.
 */
export function attentionForward(
  out: Float32Array,
  preatt: Float32Array,
  att: Float32Array,
  qkv: Float32Array,
  B: number,
  T: number,
  C: number,
  NH: number,
  causal = true,
): void {
  const { hs, C3, scale, head } = attentionSizes(T, C, NH);
  for (const { queryOff, block, outOff } of eachHead(B, T, C, NH)) {
    const scores = preatt.subarray(block, block + T * T);
    const weights = att.subarray(block, block + T * T);
    const queries = qkv.subarray(queryOff);
    const keys = qkv.subarray(queryOff + C);
    const values = qkv.subarray(queryOff + 2 * C);
    gemm({ out: scores, a: queries, b: keys, M: T, K: hs, N: T, aRow: C3, bRow: 1, bCol: C3 });
    for (let i = 0; i < T * T; i++) scores[i] *= scale;
    for (let t = 0; t < T; t++) maskedSoftmax(weights, scores, t * T, T, causal ? t + 1 : T);
    gemm({ out: head, a: weights, b: values, M: T, K: T, N: hs, bRow: C3 });
    spreadHeadRows(out, outOff, C, head, T, hs, 1, false);
  }
}

/**
 * GPT-2's GELU (gelu.ts) over an array: in WebAssembly SIMD once the module is
 * loaded (the same function, with a float-precision exp), several times faster
 * than Math.exp.
 */
export function geluForward(out: Float32Array, inp: Float32Array, N: number): void {
  if (geluForwardWasm(out, inp, N)) return;
  for (let i = 0; i < N; i++) {
    out[i] = gelu(inp[i]);
  }
}

/** out = a + b elementwise over N floats; out may be a or b. */
export function residualForward(out: Float32Array, a: Float32Array, b: Float32Array, N: number): void {
  for (let i = 0; i < N; i++) out[i] = a[i] + b[i];
}

/**
 * losses[n] = −log softmax(logits[n,:])[targets[n]], computed as
 * logsumexp − logit so that very unlikely targets give a large finite loss.
 */
export function crossEntropyForward(
  losses: Float32Array,
  logits: Float32Array,
  targets: ArrayLike<number>,
  N: number,
  V: number,
): void {
  for (let n = 0; n < N; n++) {
    const off = n * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[off + v] > max) max = logits[off + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
    losses[n] = max + Math.log(sum) - logits[off + targets[n]];
  }
}

// ---- Backward pass ----
// Each function takes the gradient of the loss with respect to its forward
// function's output (dout) and ADDS the gradients with respect to that
// function's inputs into the d-buffers (+=, as llm.c): a tensor used twice
// (the residual stream, tied embeddings) collects both contributions, and the
// caller zeroes the buffers once per step. crossEntropySoftmaxBackward, the
// first one called, writes instead, as does attentionBackward to its scratch.

/** Scatters dout [B,T,C] back onto the rows of wte [V,C] and wpe [T,C] that encoderForward added. */
export function encoderBackward(
  dwte: Float32Array,
  dwpe: Float32Array,
  dout: Float32Array,
  tokens: ArrayLike<number>,
  B: number,
  T: number,
  C: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const outOff = (b * T + t) * C;
      const tokenOff = tokens[b * T + t] * C;
      const positionOff = t * C;
      for (let c = 0; c < C; c++) {
        const d = dout[outOff + c];
        dwte[tokenOff + c] += d;
        dwpe[positionOff + c] += d;
      }
    }
  }
}

/**
 * LayerNorm backward from the mean and 1/std the forward pass saved. With
 * x̂ = (x − mean)·rstd and g = weight·dout, the input gradient is
 * rstd·(g − mean(g) − x̂·mean(g·x̂)): normalising removes the part of the
 * gradient that only shifts or scales the whole row.
 */
export function layernormBackward(
  dinp: Float32Array,
  dweight: Float32Array,
  dbias: Float32Array,
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  N: number,
  C: number,
): void {
  for (let n = 0; n < N; n++) {
    const m = mean[n];
    const s = rstd[n];
    const off = n * C;
    let gMean = 0;
    let gNormMean = 0;
    for (let c = 0; c < C; c++) {
      const g = weight[c] * dout[off + c];
      gMean += g;
      gNormMean += g * (inp[off + c] - m) * s;
    }
    gMean /= C;
    gNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[off + c] - m) * s;
      const d = dout[off + c];
      dbias[c] += d;
      dweight[c] += norm * d;
      dinp[off + c] += s * (weight[c] * d - gMean - norm * gNormMean);
    }
  }
}

/**
 * A row of N ones, grown on demand: the column sums of dout [N,OC] are the
 * product 1ᵀ·dout, so the bias gradient runs on the fast gemm too.
 */
let onesScratch = new Float32Array(0);

function ones(N: number): Float32Array {
  if (onesScratch.length < N) onesScratch = new Float32Array(N).fill(1);
  return onesScratch;
}

/**
 * Backward of out = inp·weight + bias (inp [N,C], weight [C,OC]):
 * dinp += dout·weightᵀ, dweight += inpᵀ·dout, dbias += column sums of dout (1ᵀ·dout).
 */
export function matmulBackward(
  dinp: Float32Array,
  dweight: Float32Array,
  dbias: Float32Array | null,
  dout: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  N: number,
  C: number,
  OC: number,
): void {
  gemm({ out: dinp, a: dout, b: weight, M: N, K: OC, N: C, bRow: 1, bCol: OC, accumulate: true });
  gemm({ out: dweight, a: inp, b: dout, M: C, K: N, N: OC, aRow: 1, aCol: C, accumulate: true });
  if (dbias) gemm({ out: dbias, a: ones(N), b: dout, M: 1, K: N, N: OC, accumulate: true });
}

/**
 * Backward of logits = inp·weightᵀ (inp [N,C], weight [V,C]):
 * dinp += dlogits·weight, dweight += dlogitsᵀ·inp.
 */
export function unembedBackward(
  dinp: Float32Array,
  dweight: Float32Array,
  dlogits: Float32Array,
  inp: Float32Array,
  weight: Float32Array,
  N: number,
  C: number,
  V: number,
): void {
  gemm({ out: dinp, a: dlogits, b: weight, M: N, K: V, N: C, accumulate: true });
  gemm({ out: dweight, a: dlogits, b: inp, M: V, K: N, N: C, aRow: 1, aCol: V, accumulate: true });
}

/**
 * Causal attention backward, from the qkv and att [B,NH,T,T] the forward pass
 * kept, one head at a time as matrix products:
 *   datt = dout·Vᵀ, dV += attᵀ·dout                      (the weighted sum of values)
 *   dpreatt = att·(datt − Σ_keys att·datt)                (the softmax; 0 for hidden keys)
 *   dQ += dpreatt·K/√hs, dK += dpreattᵀ·Q/√hs             (the scaled dot products)
 * dqkv [B,T,3C] collects the result; datt and dpreatt are this function's
 * working space, written (not added to), hidden keys' entries 0.
 */
export function attentionBackward(
  dqkv: Float32Array,
  dpreatt: Float32Array,
  datt: Float32Array,
  dout: Float32Array,
  qkv: Float32Array,
  att: Float32Array,
  B: number,
  T: number,
  C: number,
  NH: number,
): void {
  const { hs, C3, scale, head } = attentionSizes(T, C, NH);
  for (const { queryOff, block, outOff } of eachHead(B, T, C, NH)) {
    const weights = att.subarray(block, block + T * T);
    const dweights = datt.subarray(block, block + T * T);
    const dscores = dpreatt.subarray(block, block + T * T);
    const dheadOut = dout.subarray(outOff);
    const keyOff = queryOff + C;
    const valueOff = queryOff + 2 * C;

    gemm({ out: dweights, a: dheadOut, b: qkv.subarray(valueOff), M: T, K: hs, N: T, aRow: C, bRow: 1, bCol: C3 });
    gemm({ out: head, a: weights, b: dheadOut, M: T, K: T, N: hs, aRow: 1, aCol: T, bRow: C });
    spreadHeadRows(dqkv, valueOff, C3, head, T, hs, 1, true);

    for (let t = 0; t < T; t++) {
      const rowOff = t * T;
      let shared = 0; // Σ att·datt over the visible keys
      for (let j = 0; j <= t; j++) shared += weights[rowOff + j] * dweights[rowOff + j];
      for (let j = 0; j <= t; j++) dscores[rowOff + j] = weights[rowOff + j] * (dweights[rowOff + j] - shared);
      for (let j = t + 1; j < T; j++) {
        dweights[rowOff + j] = 0;
        dscores[rowOff + j] = 0;
      }
    }

    gemm({ out: head, a: dscores, b: qkv.subarray(keyOff), M: T, K: T, N: hs, bRow: C3 });
    spreadHeadRows(dqkv, queryOff, C3, head, T, hs, scale, true);
    gemm({ out: head, a: dscores, b: qkv.subarray(queryOff), M: T, K: T, N: hs, aRow: 1, aCol: T, bRow: C3 });
    spreadHeadRows(dqkv, keyOff, C3, head, T, hs, scale, true);
  }
}

/**
 * GELU backward: dinp += gelu′(inp)·dout. With s = σ(2u) (see geluForward),
 * gelu = x·s and gelu′ = s + 2x·s·(1 − s)·u′, u′ = √(2/π)·(1 + 3·0.044715·x²).
 * In WebAssembly once loaded, as geluForward.
 */
export function geluBackward(dinp: Float32Array, inp: Float32Array, dout: Float32Array, N: number): void {
  if (geluBackwardWasm(dinp, inp, dout, N)) return;
  for (let i = 0; i < N; i++) {
    const x = inp[i];
    const s = 1 / (1 + Math.exp(-2 * GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
    const grad = s + 2 * x * s * (1 - s) * GELU_SCALE * (1 + 3 * GELU_CUBIC * x * x);
    dinp[i] += grad * dout[i];
  }
}

/** A sum passes its gradient unchanged to both terms. */
export function residualBackward(da: Float32Array, db: Float32Array, dout: Float32Array, N: number): void {
  for (let i = 0; i < N; i++) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

/**
 * Gradient of scale·Σ_n losses[n] with respect to the logits [N,V]: per row
 * (softmax(logits) − onehot(target))·scale. Writes dlogits (no +=): it starts
 * the backward pass. scale = 1/N makes the loss the mean over positions; an
 * array gives each row its own weight, Σ_n scale[n]·losses[n] (0 skips a row:
 * fine-tuning learns from the answer's positions only).
 */
export function crossEntropySoftmaxBackward(
  dlogits: Float32Array,
  logits: Float32Array,
  targets: ArrayLike<number>,
  N: number,
  V: number,
  scales: number | ArrayLike<number>,
): void {
  for (let n = 0; n < N; n++) {
    const off = n * V;
    const scale = typeof scales === 'number' ? scales : scales[n];
    if (scale === 0) {
      dlogits.fill(0, off, off + V);
      continue;
    }
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (logits[off + v] > max) max = logits[off + v];
    let sum = 0;
    for (let v = 0; v < V; v++) {
      const e = Math.exp(logits[off + v] - max);
      dlogits[off + v] = e;
      sum += e;
    }
    const norm = scale / sum;
    for (let v = 0; v < V; v++) dlogits[off + v] *= norm;
    dlogits[off + targets[n]] -= scale;
  }
}
