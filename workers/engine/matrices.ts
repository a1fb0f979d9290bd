/**
 * One attention head's matrices and vectors for the page (issue 17, "the vectors and matrices, shown"): W_Q, W_K
 * and W_V as this head's slices of qkvw, the query and key of a chosen pair and their dot product ÷ √d_head, the
 * value vector, the value map as "value down" then "value up", the output matrix, and a row of the unembedding.
 * Every matrix is laid out as the notes write it, y = M·x: a row per output number, a column per input number
 * (the parameter buffer stores x·W, so qkvw's and attprojw's slices are transposed here). The vectors are the
 * forward pass's own (its LayerNorm'd inputs and its q, k, v), so the dot product is the one the capture scores.
 */
import type { HeadMatrices, MatrixChoice, TokenScore, ValueMapCount } from '../api/inspector.ts';
import { type GPTConfig, headSize } from './config.ts';
import { causalMask } from './capture.ts';
import { largest } from './inspect.ts';
import { type ActivationTensors, layerActivations } from './model.ts';
import { KNOWN_CONFIGS, layerView, type ParameterTensors, unembedding } from './params.ts';
import { softmax } from './sampling.ts';
import type { Tokenizer } from './tokenizer.ts';

/** Likeliest next tokens offered for the unembedding row. */
const TOP_NEXT = 10;

/** What one head's value map costs, factored (C → d_head → C) and as one full C × C matrix. */
export function valueMapCount(config: GPTConfig): ValueMapCount {
  const width = config.nEmbd;
  const size = headSize(config);
  return { width, headSize: size, down: width * size, up: size * width, factored: 2 * width * size, full: width * width };
}

/** The counts for GPT-3 (12,288 wide, 96 heads of 128), as the notes count them. */
export const GPT3_VALUE_MAP = valueMapCount(KNOWN_CONFIGS['GPT-3 175B']!);

/** rows × cols of `source` read at source[offset + col·stride + row]: a [cols, stride] block's columns as rows. */
function transposed(source: Float32Array, offset: number, stride: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) out[row * cols + col] = source[offset + col * stride + row]!;
  }
  return out;
}

function checkIndex(index: number, size: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) throw new Error(`${what} ${index} is outside 0..${size - 1}`);
}

/** The key the query attends to most (the earliest of equal weights). */
function mostAttended(pattern: Float32Array, T: number, query: number): number {
  let best = 0;
  for (let key = 1; key < T; key++) if (pattern[query * T + key]! > pattern[query * T + best]!) best = key;
  return best;
}

/**
 * Head `choice.head` of layer `choice.layer` for the prompt `ids`, from its activations `acts` (activationsOf):
 * query position by default the last, key position by default the one the query attends to most, unembedding row
 * by default the likeliest next token.
 */
export function headMatrices(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: readonly number[],
  choice: MatrixChoice,
  acts: ActivationTensors,
): HeadMatrices {
  const { config } = params;
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = config;
  const hs = headSize(config);
  const T = ids.length;
  const { layer, head } = choice;
  checkIndex(layer, L, 'layer');
  checkIndex(head, NH, 'head');
  const a = layerActivations(acts, layer);
  const headRows = (stacked: Float32Array) => stacked.subarray(head * T * T, (head + 1) * T * T);
  const pattern = headRows(a.att);
  const query = choice.query ?? T - 1;
  checkIndex(query, T, 'query position');
  const key = choice.key ?? mostAttended(pattern, T, query);
  checkIndex(key, T, 'key position');

  // The head's q, k and v: columns head·hs.. of the query, key and value thirds of the forward's qkv rows.
  const part = (position: number, third: number) =>
    a.qkv.slice(position * 3 * C + third * C + head * hs, position * 3 * C + third * C + (head + 1) * hs);
  const queryVector = part(query, 0);
  const keyVector = part(key, 1);
  let dot = 0;
  for (let i = 0; i < hs; i++) dot += queryVector[i]! * keyVector[i]!;

  const qkvw = layerView(params.qkvw, layer, L);
  const slice = (third: number) => transposed(qkvw, third * C + head * hs, 3 * C, hs, C);
  const attprojw = layerView(params.attprojw, layer, L);

  const next = softmax(acts.logits.subarray((T - 1) * V, T * V));
  const top: TokenScore[] = largest(next, TOP_NEXT).map((id) => ({ id, token: tokenizer.token(id), score: next[id]! }));
  const unembedId = choice.unembed ?? top[0]!.id;
  checkIndex(unembedId, V, 'token');
  const row = (position: number) => a.ln1.slice(position * C, (position + 1) * C);

  return {
    ids: [...ids],
    tokens: ids.map((id) => tokenizer.token(id)),
    layer,
    head,
    layers: L,
    heads: NH,
    width: C,
    headSize: hs,
    query,
    key,
    embedding: params.wte.slice(ids[query]! * C, (ids[query]! + 1) * C),
    wq: slice(0),
    wk: slice(1),
    wv: slice(2),
    queryInput: row(query),
    keyInput: row(key),
    queryVector,
    keyVector,
    valueVector: part(key, 2),
    dot,
    score: dot / Math.sqrt(hs),
    scores: headRows(a.preatt).slice(),
    mask: causalMask(1, T),
    weight: pattern[query * T + key]!,
    // Value up: this head's hs rows of attprojw ([C_in, C] as x·W), i.e. columns head·hs.. of the output matrix.
    valueUp: transposed(attprojw, head * hs * C, C, C, hs),
    output: transposed(attprojw, 0, C, C, C),
    counts: { model: valueMapCount(config), gpt3: GPT3_VALUE_MAP },
    unembedding: {
      id: unembedId,
      token: tokenizer.token(unembedId),
      row: unembedding(params).slice(unembedId * C, (unembedId + 1) * C),
      tied: config.tied,
      probability: next[unembedId]!,
    },
    top,
  };
}
