/**
 * The inspector's numbers (issue 6), as plain functions over the CPU model: one
 * prompt's insides with experiments, what each head and MLP neuron adds, the
 * embeddings' geometry, the logit lens. Types and meanings: ../api/inspector.ts.
 * Prompts arrive as token ids that fit the model (the inspector area tokenizes them).
 */
import type {
  ContextualSimilarity,
  EmbeddingMap,
  FactPrompt,
  HeadUpdate,
  Inspection,
  Interventions,
  LensLayer,
  Neighbour,
  NeuronReport,
  PromptOdds,
  TimelapseFrame,
  TokenAngle,
  TokenDirections,
  TokenScore,
} from '../api/inspector.ts';
import type { Fact } from '../corpus/facts.ts';
import type { GPTConfig } from './config.ts';
import { layernormForward, matmulForward, unembedForward } from './kernels.ts';
import { type ActivationTensors, type Capture, checkSequence, forward, forwardActivations, layerActivations } from './model.ts';
import { layerView, type ParameterTensors, unembedding } from './params.ts';
import { Random } from './random.ts';
import { softmax } from './sampling.ts';
import { type Tokenizer, UNKNOWN_ID } from './tokenizer.ts';
import { excerpt } from '../api/errors.ts';

type Ids = readonly number[];

/**
 * The `count` ids with the largest scores, largest first (equal scores: lower id first), leaving out `leaveOut`.
 * A few of many (the top 10 of GPT-2's 50,257 tokens) are kept in a short sorted list as the scores go by: sorting
 * every id took 10–20 ms per call there, and the attention panel asks for 144 lists at once.
 */
export function largest(scores: ArrayLike<number>, count: number, leaveOut: ReadonlySet<number> = new Set()): number[] {
  checkCount(count);
  const before = (a: number, b: number) => scores[b] - scores[a] || a - b;
  if (count * 16 >= scores.length) {
    const ids: number[] = [];
    for (let id = 0; id < scores.length; id++) if (!leaveOut.has(id)) ids.push(id);
    return ids.sort(before).slice(0, count);
  }
  const kept: number[] = [];
  for (let id = 0; id < scores.length; id++) {
    // Ids come in increasing order, so a later id only gets in with a strictly larger score.
    if (kept.length === count && !(scores[id] > scores[kept[count - 1]])) continue;
    if (leaveOut.has(id) || Number.isNaN(scores[id])) continue;
    let at = kept.length;
    while (at > 0 && before(id, kept[at - 1]) < 0) at--;
    kept.splice(at, 0, id);
    if (kept.length > count) kept.pop();
  }
  return kept;
}

function topTokens(tokenizer: Tokenizer, scores: ArrayLike<number>, count: number): TokenScore[] {
  return largest(scores, count).map((id) => ({ id, token: tokenizer.token(id), score: scores[id] }));
}

/** Tokens whose unembedding rows have the largest dot product with `vector` [C]: what it pushes up. */
function promotedBy(params: ParameterTensors, tokenizer: Tokenizer, vector: Float32Array, count: number): TokenScore[] {
  const { nEmbd: C, vocabSize: V } = params.config;
  const dots = new Float32Array(V);
  unembedForward(dots, vector, unembedding(params), 1, C, V);
  return topTokens(tokenizer, dots, count);
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`the number of results must be a whole number ≥ 0, got ${excerpt(count)}`);
}

function checkIndex(index: number, size: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new Error(`${what} ${index} is outside 0..${size - 1}`);
  }
}

/** Every activation of the prompt's forward pass (each layer its own). */
export function activationsOf(params: ParameterTensors, ids: Ids): ActivationTensors {
  checkSequence(ids, params.config);
  return forwardActivations(params, ids, 1, ids.length);
}

/** softmax of the logits after the prompt's last token. */
function nextTokenOdds(logits: Float32Array, T: number, V: number): Float32Array {
  return softmax(logits.subarray((T - 1) * V, T * V));
}

/** The prompt run with capture and the interventions asked for; the `top` likeliest next tokens. */
export function inspect(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  interventions: Interventions = {},
  top = 10,
): Inspection {
  const { capture, ...odds } = run(params, tokenizer, ids, { ...interventions, capture: true }, top);
  return { ...odds, capture: capture! };
}

/** The prompt run without capture, with the interventions asked for; the `top` likeliest next tokens. */
export function promptOdds(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  interventions: Interventions = {},
  top = 10,
): PromptOdds {
  return run(params, tokenizer, ids, interventions, top);
}

/** inspect() and promptOdds(): only the last row of logits is read (on GPT-2 small the other 63 of a 64-token prompt are 4.9 GFLOP). */
function run(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  options: Interventions & { capture?: boolean },
  top: number,
): PromptOdds & { capture?: Capture } {
  const { logits, capture } = forward(params, ids, { ...options, lastOnly: true });
  const next = softmax(logits);
  const odds: PromptOdds = {
    ids: [...ids],
    tokens: ids.map((id) => tokenizer.token(id)),
    config: { ...params.config },
    next,
    top: topTokens(tokenizer, next, top),
  };
  return capture ? { ...odds, capture } : odds;
}

/** What every head (layer-major) adds to the residual stream at `position`, and the tokens that pushes up. */
export function headUpdates(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  position: number,
  promoteCount = 5,
  acts: ActivationTensors = activationsOf(params, ids),
): HeadUpdate[] {
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = params.config;
  const T = ids.length;
  const hs = C / NH;
  checkIndex(position, T, 'position');
  const noBias = new Float32Array(C);
  // Every head's update as one row of a [L·NH, C] matrix, read through the unembedding in one product.
  const all = new Float32Array(L * NH * C);
  const weights: Float32Array[] = [];
  for (let layer = 0; layer < L; layer++) {
    const a = layerActivations(acts, layer);
    const attprojw = layerView(params.attprojw, layer, L);
    for (let head = 0; head < NH; head++) {
      const rowOff = (head * T + position) * T;
      // The head's weighted sum of values times its hs rows of the output projection.
      const headOut = a.atty.subarray(position * C + head * hs, position * C + (head + 1) * hs);
      const update = all.subarray((layer * NH + head) * C, (layer * NH + head + 1) * C);
      matmulForward(update, headOut, attprojw.subarray(head * hs * C, (head + 1) * hs * C), noBias, 1, hs, C);
      weights.push(a.att.slice(rowOff, rowOff + T));
    }
  }
  const updates = weights.map((headWeights, index) => {
    const update = all.slice(index * C, (index + 1) * C);
    return {
      layer: Math.floor(index / NH),
      head: index % NH,
      weights: headWeights,
      update,
      norm: norm(update),
      promotes: [] as TokenScore[],
    };
  });
  // The heads whose updates are largest, as many as PROMOTE_BUDGET allows, are read through the unembedding at once.
  const read = [...updates].sort((a, b) => b.norm - a.norm).slice(0, promotedHeads(params.config));
  const rows = new Float32Array(read.length * C);
  read.forEach(({ update }, i) => rows.set(update, i * C));
  const dots = new Float32Array(read.length * V);
  unembedForward(dots, rows, unembedding(params), read.length, C, V);
  read.forEach((update, i) => (update.promotes = topTokens(tokenizer, dots.subarray(i * V, (i + 1) * V), promoteCount)));
  return updates;
}

/**
 * Multiply-adds headUpdates may spend reading updates through the unembedding (heads × V × C). All 144 heads of
 * GPT-2 small would take 5.6 billion, seconds of the worker; there the 27 largest updates are read.
 */
export const PROMOTE_BUDGET = 2 ** 30;

/** How many heads' updates headUpdates reads through the unembedding (the largest first): every head of a small model. */
export function promotedHeads(config: GPTConfig): number {
  const { nLayer: L, nHead: NH, vocabSize: V, nEmbd: C } = config;
  return Math.max(1, Math.min(L * NH, Math.floor(PROMOTE_BUDGET / (V * C))));
}

/** The `count` most active MLP neurons (post-GELU) of `layer` at `position`, and what each pushes up. */
export function topNeurons(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  position: number,
  layer: number,
  count: number,
  promoteCount = 5,
  acts: ActivationTensors = activationsOf(params, ids),
): NeuronReport {
  const { nLayer: L, nEmbd: C } = params.config;
  checkIndex(position, ids.length, 'position');
  checkIndex(layer, L, 'layer');
  const a = layerActivations(acts, layer);
  const rowOff = position * 4 * C;
  const pre = a.fch.subarray(rowOff, rowOff + 4 * C);
  const post = a.fchGelu.subarray(rowOff, rowOff + 4 * C);
  const fcprojw = layerView(params.fcprojw, layer, L);
  const neurons = largest(post, count).map((index) => ({
    index,
    pre: pre[index],
    post: post[index],
    promotes: promotedBy(params, tokenizer, fcprojw.subarray(index * C, (index + 1) * C), promoteCount),
  }));
  return { layer, position, neurons };
}

/** True when `ids` starts with every id of `prefix`. */
const startsWithIds = (ids: readonly number[], prefix: readonly number[]): boolean => prefix.every((id, i) => ids[i] === id);

/**
 * The facts as prompts the model reads, with where the subject's name ends in
 * the prompt's tokens. Leaves out facts the tokenizer cannot spell and those
 * whose name falls outside the last blockSize tokens. When the answer's leading
 * whitespace is a token of its own (characters), it moves to the end of the
 * prompt, so the answer's first token is a word's, not a space; a word piece
 * that holds its space (" basketball") stays whole.
 */
export function factPrompts(tokenizer: Tokenizer, facts: readonly Fact[], blockSize: number): FactPrompt[] {
  const prompts: FactPrompt[] = [];
  for (const fact of facts) {
    let { prompt, answer } = fact;
    const nameStart = prompt.indexOf(fact.subject);
    const whole = tokenizer.encodeWithReport(prompt + answer);
    if (nameStart < 0 || whole.unknown.length > 0) continue;
    const space = /^\s+/.exec(answer)?.[0] ?? '';
    if (space && space !== answer && startsWithIds(whole.ids, tokenizer.encode(prompt + space))) {
      prompt += space;
      answer = answer.slice(space.length);
    }
    const dropped = Math.max(0, tokenizer.encode(prompt).length - blockSize);
    const namePosition = tokenizer.encode(prompt.slice(0, nameStart + fact.subject.length)).length - 1 - dropped;
    if (namePosition >= 0) prompts.push({ prompt, answer, namePosition });
  }
  return prompts;
}

function dot(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[aOff + i] * b[bOff + i];
  return sum;
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(dot(v, 0, v, 0, v.length));

/** a·b / (|a|·|b|); 0 when either is the zero vector (it has no direction). */
const cosineOf = (dotProduct: number, normA: number, normB: number): number =>
  normA > 0 && normB > 0 ? dotProduct / (normA * normB) : 0;

/** [rows] cosine of `vector` [C] with each row of `matrix` [rows, C]. */
function cosinesWithRows(matrix: Float32Array, vector: ArrayLike<number>, C: number): Float64Array {
  const rows = matrix.length / C;
  const vectorNorm = norm(vector);
  const cosines = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    cosines[r] = cosineOf(dot(matrix, r * C, vector, 0, C), Math.sqrt(dot(matrix, r * C, matrix, r * C, C)), vectorNorm);
  }
  return cosines;
}

/** The `count` tokens whose embeddings point most nearly along `vector`, leaving out the query tokens and the unknown token. */
function nearestEmbeddings(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  vector: ArrayLike<number>,
  query: Ids,
  count: number,
): Neighbour[] {
  const cosines = cosinesWithRows(params.wte, vector, params.config.nEmbd);
  return largest(cosines, count, new Set([UNKNOWN_ID, ...query])).map((id) => ({
    id,
    token: tokenizer.token(id),
    cosine: cosines[id],
  }));
}

function embeddingRow(params: ParameterTensors, id: number): Float32Array {
  const { vocabSize: V, nEmbd: C } = params.config;
  checkIndex(id, V, 'token');
  return params.wte.subarray(id * C, (id + 1) * C);
}

/** Tokens nearest (cosine) to token `id` in the embedding matrix. */
export function nearestTokens(params: ParameterTensors, tokenizer: Tokenizer, id: number, count: number): Neighbour[] {
  return nearestEmbeddings(params, tokenizer, embeddingRow(params, id), [id], count);
}

/** Tokens nearest (cosine) to wte[a] − wte[b] + wte[c]. */
export function tokenArithmetic(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  a: number,
  b: number,
  c: number,
  count: number,
): Neighbour[] {
  const [rowA, rowB, rowC] = [a, b, c].map((id) => embeddingRow(params, id));
  const target = new Float64Array(params.config.nEmbd);
  for (let i = 0; i < target.length; i++) target[i] = rowA[i] - rowB[i] + rowC[i];
  return nearestEmbeddings(params, tokenizer, target, [a, b, c], count);
}

/** Dot product, cosine and angle of two tokens' embeddings. */
export function tokenAngle(params: ParameterTensors, a: number, b: number): TokenAngle {
  const [rowA, rowB] = [embeddingRow(params, a), embeddingRow(params, b)];
  const dotProduct = dot(rowA, 0, rowB, 0, rowA.length);
  const cosine = cosineOf(dotProduct, norm(rowA), norm(rowB));
  const degrees = (Math.acos(Math.min(1, Math.max(-1, cosine))) * 180) / Math.PI;
  return { dot: dotProduct, cosine, degrees };
}

/** wte[a] − wte[b] beside wte[c] − wte[d]: their cosine and lengths, and each applied to the other pair (a − b + d, c − d + b). */
export function tokenDirections(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  [a, b, c, d]: [number, number, number, number],
  count: number,
): TokenDirections {
  const [rowA, rowB, rowC, rowD] = [a, b, c, d].map((id) => embeddingRow(params, id));
  let product = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < rowA.length; i++) {
    const x = rowA[i] - rowB[i];
    const y = rowC[i] - rowD[i];
    product += x * y;
    first += x * x;
    second += y * y;
  }
  const lengths: [number, number] = [Math.sqrt(first), Math.sqrt(second)];
  return {
    cosine: cosineOf(product, lengths[0], lengths[1]),
    lengths,
    applied: [tokenArithmetic(params, tokenizer, a, b, d, count), tokenArithmetic(params, tokenizer, c, d, b, count)],
  };
}

/**
 * Power iteration stops when the direction moves less than this, or after MAX_POWER_ITERATIONS, or after
 * POWER_BUDGET multiply-adds (n² each): 455 iterations for GPT-2 small's 768 dimensions, a fraction of a second.
 */
const POWER_TOLERANCE = 1e-10;
const MAX_POWER_ITERATIONS = 5000;
const POWER_BUDGET = 2 ** 28;
/** A fixed start vector, so the same embeddings always give the same map. */
const POWER_SEED = 6;

/**
 * The `count` leading eigenvectors and eigenvalues of a symmetric positive
 * semi-definite matrix [n, n], by power iteration, deflating each one found.
 * Each vector's largest-magnitude coordinate is made positive (a fixed sign).
 */
function leadingEigenvectors(matrix: Float64Array, n: number, count: number): { vectors: Float64Array[]; values: number[] } {
  const deflated = matrix.slice();
  const random = new Random(POWER_SEED);
  const vectors: Float64Array[] = [];
  const values: number[] = [];
  for (let k = 0; k < count; k++) {
    let v = Float64Array.from({ length: n }, () => random.normal());
    let w = new Float64Array(n);
    scale(v, 1 / norm(v));
    const iterations = Math.min(MAX_POWER_ITERATIONS, Math.ceil(POWER_BUDGET / (n * n)));
    for (let iteration = 0; iteration < iterations; iteration++) {
      multiply(w, deflated, v);
      const length = norm(w);
      if (length === 0) break; // nothing left: v spans a zero-variance direction
      scale(w, 1 / length);
      let moved = 0;
      for (let i = 0; i < n; i++) moved += (w[i] - v[i]) ** 2;
      [v, w] = [w, v];
      if (Math.sqrt(moved) < POWER_TOLERANCE) break;
    }
    multiply(w, deflated, v);
    const value = dot(v, 0, w, 0, n); // the Rayleigh quotient: v's eigenvalue
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) deflated[r * n + c] -= value * v[r] * v[c];
    const largestAt = largest(v.map(Math.abs), 1)[0];
    if (v[largestAt] < 0) scale(v, -1);
    vectors.push(v);
    values.push(value);
  }
  return { vectors, values };
}

/** out = matrix [n, n] · v [n]. */
function multiply(out: Float64Array, matrix: Float64Array, v: Float64Array): void {
  const n = v.length;
  for (let r = 0; r < n; r++) {
    let sum = 0;
    for (let c = 0; c < n; c++) sum += matrix[r * n + c] * v[c];
    out[r] = sum;
  }
}

function scale(v: Float64Array, factor: number): void {
  for (let i = 0; i < v.length; i++) v[i] *= factor;
}

/**
 * Multiply-adds one map may take for its covariance (rows × C²), about a second of the worker. Every token of GPT-2
 * small (50,257 × 768²) would be 30 billion, half a minute or more, so a map there holds at most 1,820 tokens.
 */
export const MAP_BUDGET = 2 ** 30;

/** The most tokens one embedding map may hold for this config: every token of a small model. */
export function mapLimit(config: GPTConfig): number {
  const { vocabSize: V, nEmbd: C } = config;
  return Math.max(2, Math.min(V, Math.floor(MAP_BUDGET / (C * C))));
}

/**
 * The chosen tokens' embeddings (by default the first mapLimit tokens: all of a small model's; a word-piece
 * vocabulary's bytes and earliest merges on a big one) on the first two principal components of those
 * embeddings, centred.
 */
export function embeddingMap(params: ParameterTensors, tokenizer: Tokenizer, chosen?: Ids): EmbeddingMap {
  const { vocabSize: V, nEmbd: C } = params.config;
  const limit = mapLimit(params.config);
  const ids = chosen === undefined ? Array.from({ length: limit }, (_, id) => id) : [...new Set(chosen)];
  for (const id of ids) checkIndex(id, V, 'token');
  if (ids.length < 2) throw new Error('a map needs at least 2 different tokens');
  if (ids.length > limit) {
    throw new Error(
      `a map of this model holds at most ${limit.toLocaleString('en-US')} tokens, got ${ids.length.toLocaleString('en-US')}`,
    );
  }
  const n = ids.length;
  const mean = new Float64Array(C);
  for (const id of ids) for (let c = 0; c < C; c++) mean[c] += params.wte[id * C + c] / n;
  const centred = new Float64Array(n * C);
  ids.forEach((id, row) => {
    for (let c = 0; c < C; c++) centred[row * C + c] = params.wte[id * C + c] - mean[c];
  });
  const covariance = new Float64Array(C * C);
  for (let row = 0; row < n; row++) {
    for (let r = 0; r < C; r++) {
      const x = centred[row * C + r] / n;
      // The upper triangle only; the lower one is the same numbers.
      for (let c = r; c < C; c++) covariance[r * C + c] += x * centred[row * C + c];
    }
  }
  for (let r = 0; r < C; r++) for (let c = 0; c < r; c++) covariance[r * C + c] = covariance[c * C + r];
  let totalVariance = 0;
  for (let c = 0; c < C; c++) totalVariance += covariance[c * C + c];
  const { vectors, values } = leadingEigenvectors(covariance, C, 2);
  const points = new Float32Array(n * 2);
  for (let row = 0; row < n; row++) {
    for (let k = 0; k < 2; k++) points[row * 2 + k] = dot(centred, row * C, vectors[k], 0, C);
  }
  const share = (value: number) => (totalVariance > 0 ? Math.max(0, value) / totalVariance : 0);
  return {
    ids,
    tokens: ids.map((id) => tokenizer.token(id)),
    points,
    explained: [share(values[0]), share(values[1])],
    limit,
  };
}

/**
 * Positions positionSimilarity compares at most: the first 256 of GPT-2's 1,024, whose every pair would take
 * 3 s of the worker here and a heatmap over 6,000 pixels wide; all of a small model's.
 */
export const POSITION_LIMIT = 256;

/** [n, n] cosine similarity of every pair of the first n = min(blockSize, POSITION_LIMIT) position embeddings. */
export function positionSimilarity(params: ParameterTensors): Float32Array {
  const { blockSize, nEmbd: C } = params.config;
  const n = Math.min(blockSize, POSITION_LIMIT);
  const first = params.wpe.subarray(0, n * C);
  const similarity = new Float32Array(n * n);
  for (let p = 0; p < n; p++) similarity.set(cosinesWithRows(first, first.subarray(p * C, (p + 1) * C), C), p * n);
  return similarity;
}

/** [L+1] the residual stream at `position`: [0] token + position embedding, [l] after layer l. */
function residualStream(
  params: ParameterTensors,
  ids: Ids,
  position: number,
  acts: ActivationTensors = activationsOf(params, ids),
): Float32Array[] {
  const { nLayer: L, nEmbd: C } = params.config;
  checkIndex(position, ids.length, 'position');
  const row = (stream: Float32Array) => stream.slice(position * C, (position + 1) * C);
  const stream = [row(acts.encoded)];
  for (let l = 0; l < L; l++) stream.push(row(layerActivations(acts, l).residual3));
  return stream;
}

interface PromptPosition {
  ids: Ids;
  position: number;
}

/** Cosine similarity of two positions' residual vectors, at the input and after every layer. */
export function contextualSimilarity(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  first: PromptPosition,
  second: PromptPosition,
): ContextualSimilarity {
  const a = residualStream(params, first.ids, first.position);
  const b = residualStream(params, second.ids, second.position);
  return {
    tokens: [tokenizer.token(first.ids[first.position]), tokenizer.token(second.ids[second.position])],
    cosines: a.map((x, l) => cosineOf(dot(x, 0, b[l], 0, x.length), norm(x), norm(b[l]))),
  };
}

/** The model's final LayerNorm and unembedding applied to the residual stream at `position` after every layer. */
export function logitLens(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  position: number,
  count: number,
  acts: ActivationTensors = activationsOf(params, ids),
): LensLayer[] {
  const { nEmbd: C, vocabSize: V } = params.config;
  const normalised = new Float32Array(C);
  const [mean, rstd] = [new Float32Array(1), new Float32Array(1)];
  const logits = new Float32Array(V);
  return residualStream(params, ids, position, acts).map((residual, layer) => {
    layernormForward(normalised, mean, rstd, residual, params.lnfw, params.lnfb, 1, C);
    unembedForward(logits, normalised, unembedding(params), 1, C, V);
    return { layer, top: topTokens(tokenizer, softmax(logits), count), norm: norm(residual) };
  });
}

/** The prompt's likeliest next tokens and every layer's attention patterns, for the time-lapse at `step`. */
export function timelapseFrame(
  params: ParameterTensors,
  tokenizer: Tokenizer,
  ids: Ids,
  step: number,
  count: number,
): TimelapseFrame {
  const { nLayer: L, vocabSize: V } = params.config;
  const acts = activationsOf(params, ids);
  const next = nextTokenOdds(acts.logits, ids.length, V);
  const patterns = Array.from({ length: L }, (_, l) => layerActivations(acts, l).att.slice());
  return { step, tokens: ids.map((id) => tokenizer.token(id)), top: topTokens(tokenizer, next, count), patterns };
}
