/**
 * What a forward with capture keeps for the page (the per-layer insides), and how
 * the forward writes them into arrays of their own as it runs (model.ts).
 */
import type { LayerActivations } from './model.ts';
import type { ParameterTensors } from './params.ts';

export interface LayerCapture {
  /** [nHead, T, T] QKᵀ/√d_head for every (query, key) pair, BEFORE masking. */
  scores: Float32Array;
  /** [nHead, T, T] 1 where the causal mask sets the score to −∞ (key > query), else 0. */
  mask: Uint8Array;
  /** [nHead, T, T] softmax of the masked scores: masked entries exactly 0, rows sum to 1. */
  pattern: Float32Array;
  /** [T, 4C] MLP pre-activation (before GELU). */
  mlpPre: Float32Array;
  /** [T, 4C] after GELU. */
  mlpPost: Float32Array;
  /** [T, C] residual stream after the attention sub-block. */
  residAfterAttn: Float32Array;
  /** [T, C] residual stream after the MLP sub-block (the block's output). */
  residAfterMlp: Float32Array;
}

export interface Capture {
  /** [T, C] rows of wte for the input tokens. */
  tokenEmbedding: Float32Array;
  /** [T, C] rows of wpe for positions 0..T-1. */
  positionEmbedding: Float32Array;
  /** One per layer. */
  layers: LayerCapture[];
}

/** Makes a layer's forward write what a capture keeps into the capture's own arrays. */
export function keepInto(a: LayerActivations, layer: LayerCapture): void {
  a.preatt = layer.scores;
  a.att = layer.pattern;
  a.fch = layer.mlpPre;
  a.fchGelu = layer.mlpPost;
  a.residual2 = layer.residAfterAttn;
  a.residual3 = layer.residAfterMlp;
}

/** [NH,T,T]: 1 where the key comes after the query. */
export function causalMask(NH: number, T: number): Uint8Array {
  const mask = new Uint8Array(NH * T * T);
  for (let h = 0; h < NH; h++) {
    for (let t = 0; t < T; t++) mask.fill(1, (h * T + t) * T + t + 1, (h * T + t + 1) * T);
  }
  return mask;
}

/**
 * Fresh arrays, each in its own buffer (so it can be transferred), for what the
 * page shows of a T-token forward; the forward fills the per-layer ones (keepInto).
 * Without the causal mask nothing is masked.
 */
export function newCapture(params: ParameterTensors, tokens: ArrayLike<number>, causal: boolean): Capture {
  const { nLayer: L, nHead: NH, nEmbd: C } = params.config;
  const T = tokens.length;
  const tokenEmbedding = new Float32Array(T * C);
  for (let t = 0; t < T; t++) tokenEmbedding.set(params.wte.subarray(tokens[t] * C, (tokens[t] + 1) * C), t * C);
  const mask = causal ? causalMask(NH, T) : new Uint8Array(NH * T * T);
  const layers: LayerCapture[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({
      scores: new Float32Array(NH * T * T),
      mask: mask.slice(),
      pattern: new Float32Array(NH * T * T),
      mlpPre: new Float32Array(T * 4 * C),
      mlpPost: new Float32Array(T * 4 * C),
      residAfterAttn: new Float32Array(T * C),
      residAfterMlp: new Float32Array(T * C),
    });
  }
  return { tokenEmbedding, positionEmbedding: params.wpe.slice(0, T * C), layers };
}
