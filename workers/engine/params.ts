import { type GPTConfig, validateConfig } from './config.ts';
import { kernelFloats, RESIDENT_MIN_BYTES } from './gemm.ts';
import { Random } from './random.ts';

/**
 * Every parameter of the model lives in one flat Float32Array; these are the
 * named views into it (llm.c's ParameterTensors). Per-layer tensors are stacked
 * over layers: `qkvw` holds nLayer blocks of [C, 3C]; use `layerView` to get one.
 *
 * Layouts (x is a row vector, as in Hugging Face's Conv1D: y = x·W + b):
 *   wte [V, C]      token embedding (row per token)
 *   wpe [T, C]      position embedding (row per position)
 *   ln1w, ln1b [L, C]
 *   qkvw [L, C, 3C] columns 0..C are query, C..2C key, 2C..3C value
 *   qkvb [L, 3C]
 *   attprojw [L, C, C], attprojb [L, C]
 *   ln2w, ln2b [L, C]
 *   fcw [L, C, 4C], fcb [L, 4C]         MLP up-projection
 *   fcprojw [L, 4C, C], fcprojb [L, C]  MLP down-projection
 *   lnfw, lnfb [C]
 *   lmHead [V, C]   only when untied; otherwise the unembedding is wte
 */
export const PARAMETER_NAMES = [
  'wte',
  'wpe',
  'ln1w',
  'ln1b',
  'qkvw',
  'qkvb',
  'attprojw',
  'attprojb',
  'ln2w',
  'ln2b',
  'fcw',
  'fcb',
  'fcprojw',
  'fcprojb',
  'lnfw',
  'lnfb',
  'lmHead',
] as const;
export type ParameterName = (typeof PARAMETER_NAMES)[number];

/** Shape of each named tensor; per-layer tensors carry a leading nLayer axis. */
export function parameterShapes(config: GPTConfig): Record<ParameterName, number[]> {
  const { vocabSize: V, blockSize: T, nLayer: L, nEmbd: C, tied } = config;
  return {
    wte: [V, C],
    wpe: [T, C],
    ln1w: [L, C],
    ln1b: [L, C],
    qkvw: [L, C, 3 * C],
    qkvb: [L, 3 * C],
    attprojw: [L, C, C],
    attprojb: [L, C],
    ln2w: [L, C],
    ln2b: [L, C],
    fcw: [L, C, 4 * C],
    fcb: [L, 4 * C],
    fcprojw: [L, 4 * C, C],
    fcprojb: [L, C],
    lnfw: [C],
    lnfb: [C],
    lmHead: tied ? [0] : [V, C],
  };
}

export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export type ParameterViews = Record<ParameterName, Float32Array>;

/** A flat parameter (or gradient, or optimizer-moment) buffer with its named views. */
export interface ParameterTensors extends ParameterViews {
  readonly config: GPTConfig;
  readonly data: Float32Array;
}

/** Offsets of each named tensor inside the flat buffer, and the total length. */
export function parameterLayout(config: GPTConfig): {
  offsets: Record<ParameterName, number>;
  sizes: Record<ParameterName, number>;
  total: number;
} {
  const shapes = parameterShapes(validateConfig(config));
  const offsets = {} as Record<ParameterName, number>;
  const sizes = {} as Record<ParameterName, number>;
  let total = 0;
  for (const name of PARAMETER_NAMES) {
    offsets[name] = total;
    sizes[name] = product(shapes[name]);
    total += sizes[name];
  }
  return { offsets, sizes, total };
}

/**
 * Wraps `data` (or a fresh zeroed buffer) with named views. A fresh buffer of
 * RESIDENT_MIN_BYTES or more (GPT-2 small's 498 MB) is made in kernel memory
 * (kernelFloats in gemm.ts), where the matrix multiply reads the weights in place.
 */
export function createParameters(config: GPTConfig, data?: Float32Array): ParameterTensors {
  const { offsets, sizes, total } = parameterLayout(config);
  const buffer = data ?? (total * 4 >= RESIDENT_MIN_BYTES ? kernelFloats(total) : new Float32Array(total));
  if (buffer.length !== total) {
    throw new Error(`parameter buffer has ${buffer.length} floats, config needs ${total}`);
  }
  const views = {} as ParameterViews;
  for (const name of PARAMETER_NAMES) {
    views[name] = buffer.subarray(offsets[name], offsets[name] + sizes[name]);
  }
  return { ...views, config, data: buffer };
}

/** The unembedding matrix [V, C]: the token embedding when tied. */
export const unembedding = (params: ParameterTensors): Float32Array => (params.config.tied ? params.wte : params.lmHead);

/** One layer's slice of a tensor stacked over layers. */
export function layerView(stacked: Float32Array, layer: number, nLayer: number): Float32Array {
  const size = stacked.length / nLayer;
  return stacked.subarray(layer * size, (layer + 1) * size);
}

/**
 * GPT-2 initialisation: weights normal(0, 0.02), residual projections
 * (attention output, MLP down) scaled by 1/sqrt(2·nLayer) so the residual stream
 * does not grow with depth; biases 0; LayerNorm gains 1.
 */
export function initParameters(config: GPTConfig, seed: number): ParameterTensors {
  const params = createParameters(config);
  const random = new Random(seed);
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayer);
  random.fillNormal(params.wte, 0.02);
  random.fillNormal(params.wpe, 0.02);
  random.fillNormal(params.qkvw, 0.02);
  random.fillNormal(params.attprojw, residualStd);
  random.fillNormal(params.fcw, 0.02);
  random.fillNormal(params.fcprojw, residualStd);
  if (!config.tied) random.fillNormal(params.lmHead, 0.02);
  params.ln1w.fill(1);
  params.ln2w.fill(1);
  params.lnfw.fill(1);
  return params;
}

/** Parameter counts by the categories an explanation of LLMs uses. */
export interface ParameterCounts {
  embedding: number;
  query: number;
  key: number;
  value: number;
  output: number;
  mlpUp: number;
  mlpDown: number;
  /** 0 when tied: the unembedding is the embedding matrix, counted once. */
  unembedding: number;
  /** Biases, LayerNorm gains and shifts, and position embeddings. */
  rest: number;
  total: number;
}

/**
 * Counts parameters by category for any config, without allocating anything
 * (so GPT-3's 175 billion can be counted). For our models `total` equals the
 * length of the flat parameter buffer.
 */
export function countParameters(config: GPTConfig): ParameterCounts {
  const { vocabSize: V, blockSize: T, nLayer: L, nEmbd: C, tied } = validateConfig(config);
  const embedding = V * C;
  const attentionMatrix = L * C * C;
  const mlpMatrix = L * C * 4 * C;
  const unembeddingCount = tied ? 0 : V * C;
  const biases = L * (3 * C + C + 4 * C + C);
  const layerNorms = L * 2 * 2 * C + 2 * C;
  const rest = biases + layerNorms + T * C;
  const total = embedding + 4 * attentionMatrix + 2 * mlpMatrix + unembeddingCount + rest;
  return {
    embedding,
    query: attentionMatrix,
    key: attentionMatrix,
    value: attentionMatrix,
    output: attentionMatrix,
    mlpUp: mlpMatrix,
    mlpDown: mlpMatrix,
    unembedding: unembeddingCount,
    rest,
    total,
  };
}

/** Well-known configs, for counting and comparison. */
export const KNOWN_CONFIGS: Record<string, GPTConfig> = {
  'GPT-2 small': { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, tied: true },
  'GPT-2 medium': { vocabSize: 50257, blockSize: 1024, nLayer: 24, nHead: 16, nEmbd: 1024, tied: true },
  'GPT-2 large': { vocabSize: 50257, blockSize: 1024, nLayer: 36, nHead: 20, nEmbd: 1280, tied: true },
  'GPT-2 XL': { vocabSize: 50257, blockSize: 1024, nLayer: 48, nHead: 25, nEmbd: 1600, tied: true },
  // The usual breakdown of GPT-3 counts the unembedding separately.
  'GPT-3 175B': { vocabSize: 50257, blockSize: 2048, nLayer: 96, nHead: 96, nEmbd: 12288, tied: false },
};
