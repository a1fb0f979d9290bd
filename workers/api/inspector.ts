/**
 * The inspector's area of the contract: what the panels that look inside the
 * model ask, and what they get back (computed by engine/inspect.ts, served by
 * areas/inspector.ts). Every array is computed in the worker and transferred. Positions and token ids index the
 * prompt's tokens as the inspector reads them: its last captureLength(config) tokens (blockSize for the small models,
 * 293 for GPT-2 small, whose captured insides would otherwise outgrow memory); an empty prompt is one line break.
 * Inspection.dropped says how many tokens at the start were left out.
 */
import type { GPTConfig } from '../engine/config.ts';
import type { Capture } from '../engine/model.ts';

export { gelu } from '../engine/gelu.ts';

/** Interventions that change the forward pass, for experiments. */
export interface Interventions {
  /** false: every token may attend to every other, later ones too (default true). */
  causalMask?: boolean;
  /** Heads whose output is zeroed before the attention projection, as [layer, head] pairs. */
  ablate?: [layer: number, head: number][];
}

export interface TokenScore {
  id: number;
  token: string;
  /** A probability, a logit or a dot product: what each result says. */
  score: number;
}

/** One prompt run with capture (and the interventions asked for). */
export interface Inspection {
  ids: number[];
  tokens: string[];
  config: GPTConfig;
  /** Everything the forward pass kept: per layer scores, mask (all 0 with causalMask false), pattern, MLP, residuals. */
  capture: Capture;
  /** [V] next-token probabilities after the last token (softmax of its logits, temperature 1). */
  next: Float32Array;
  /** The likeliest next tokens, most likely first (score: probability). */
  top: TokenScore[];
  /** Tokens at the start of the prompt left out, the inspector reading only its last captureLength (absent: none). */
  dropped?: number;
}

/**
 * One prompt run without capture: its tokens and next-token odds, for the panels that show no attention pattern
 * (experiments, MLP neurons, logit lens). GPT-2 small's capture of a 64-token prompt is 28 MB, of 293 tokens 256 MB.
 */
export type PromptOdds = Omit<Inspection, 'capture'>;

/** What one head adds for one query position. */
export interface HeadUpdate {
  layer: number;
  head: number;
  /** [T] the query's attention weights over the keys (0 after it under the causal mask). */
  weights: Float32Array;
  /** [C] Σ_k weight_k·v_k, projected by this head's slice of the attention output matrix: what it adds to the residual stream. */
  update: Float32Array;
  /** Euclidean norm of `update`. */
  norm: number;
  /**
   * Tokens whose unembedding rows have the largest dot product with `update` (score: the dot product). Empty for
   * the heads past the largest updates a big vocabulary allows reading (GPT-2 small: its 27 largest of 144).
   */
  promotes: TokenScore[];
}

export interface Neuron {
  /** Index in the layer's 4·C MLP neurons. */
  index: number;
  /** Before GELU, and after. */
  pre: number;
  post: number;
  /** Tokens the neuron's down-projection row pushes up most through the unembedding (score: the dot product). */
  promotes: TokenScore[];
}

export interface NeuronReport {
  layer: number;
  position: number;
  /** The most active neurons (largest post-GELU value), most active first. */
  neurons: Neuron[];
}

/** A fact prompt from the built-in corpus, where the person's name ends. */
export interface FactPrompt {
  prompt: string;
  answer: string;
  /** Position of the name's last token in the prompt's tokens. */
  namePosition: number;
}

export interface Neighbour {
  id: number;
  token: string;
  cosine: number;
}

export interface TokenAngle {
  dot: number;
  cosine: number;
  /** The angle between the two embeddings, in degrees. */
  degrees: number;
}

/** Two differences of token embeddings side by side: wte[a] − wte[b] beside wte[c] − wte[d]. */
export interface TokenDirections {
  /** Cosine of a − b and c − d (0 when either is the zero vector). */
  cosine: number;
  /** |a − b| and |c − d|. */
  lengths: [number, number];
  /** Tokens nearest to a − b + d, and to c − d + b: each difference applied to the other pair. */
  applied: [Neighbour[], Neighbour[]];
}

export interface EmbeddingMap {
  /** The tokens mapped, in order: those asked for, else the first `limit` (every token of a small model). */
  ids: number[];
  tokens: string[];
  /** [ids.length, 2] each token's embedding projected on the first two principal components of the mapped tokens. */
  points: Float32Array;
  /** Share of the variance each of the two components explains. */
  explained: [number, number];
  /** The most tokens one map may hold for this model (the covariance costs tokens × width²). */
  limit: number;
}

export interface ContextualSimilarity {
  /** Token at each chosen position. */
  tokens: [string, string];
  /** Cosine similarity of the two residual vectors: [0] the input embeddings (token + position), [l] after layer l. */
  cosines: number[];
}

export interface LensLayer {
  /** 0: the embeddings; l: after layer l. */
  layer: number;
  /** Final LayerNorm then unembedding applied to the residual stream there (score: probability). */
  top: TokenScore[];
  /** Euclidean norm of the residual vector there. */
  norm: number;
}

/** A time-lapse frame: one prompt's next-token odds and attention patterns at a training step. */
export interface TimelapseFrame {
  step: number;
  /** The prompt's tokens: the rows and columns of each head's pattern. */
  tokens: string[];
  /** The likeliest next tokens after the prompt (score: probability). */
  top: TokenScore[];
  /** Per layer, [nHead, T, T] attention patterns for the prompt. */
  patterns: Float32Array[];
}

export interface TimelapseSettings {
  prompt: string;
  /** A frame every this many steps (and at step 0). */
  every: number;
}

/** Which head, which (query, key) pair and which unembedding row headMatrices() shows. */
export interface MatrixChoice {
  layer: number;
  head: number;
  /** Positions in the prompt's tokens (default: the last token; the key the query attends to most). */
  query?: number;
  key?: number;
  /** A token id (default: the likeliest next token). */
  unembed?: number;
}

/** What one head's value map costs: "value down" (C → d_head) then "value up" (d_head → C), or one C × C matrix. */
export interface ValueMapCount {
  width: number;
  headSize: number;
  /** width × headSize each. */
  down: number;
  up: number;
  /** down + up. */
  factored: number;
  /** width²: a full square value matrix. */
  full: number;
}

/**
 * One head's matrices and the vectors of one (query, key) pair. Matrices are row-major and written as the notes
 * write them, y = M·x: a row per output number, a column per input number.
 */
export interface HeadMatrices {
  ids: number[];
  tokens: string[];
  layer: number;
  head: number;
  /** How many layers, and heads per layer, the model has. */
  layers: number;
  heads: number;
  /** C, the residual stream's width, and d_head. */
  width: number;
  headSize: number;
  query: number;
  key: number;
  /** [C] the query token's row of the token embedding (wte). */
  embedding: Float32Array;
  /** [d_head, C] each: this head's columns of qkvw (query, key, value thirds), transposed. W_V is "value down". */
  wq: Float32Array;
  wk: Float32Array;
  wv: Float32Array;
  /** [C] the LayerNorm'd input of the layer at the query and at the key: what W_Q and W_K multiply. */
  queryInput: Float32Array;
  keyInput: Float32Array;
  /** [d_head] W_Q·x + b_Q at the query, W_K·x + b_K and W_V·x + b_V at the key: the forward pass's own. */
  queryVector: Float32Array;
  keyVector: Float32Array;
  valueVector: Float32Array;
  /** Σ q_i·k_i, and it ÷ √d_head: the scaled score of the pair. */
  dot: number;
  score: number;
  /** [T, T] this head's scaled scores before masking (query rows, key columns), and 1 where the causal mask hides. */
  scores: Float32Array;
  mask: Uint8Array;
  /** The query's attention weight on the key (after softmax). */
  weight: number;
  /** [C, d_head] "value up": this head's d_head rows of attprojw, transposed (columns head·d_head.. of `output`). */
  valueUp: Float32Array;
  /** [C, C] the attention output matrix (attprojw, transposed): every head's value up side by side. */
  output: Float32Array;
  counts: { model: ValueMapCount; gpt3: ValueMapCount };
  /** A token's row of the unembedding; tied: that matrix is the token embedding itself. */
  unembedding: { id: number; token: string; row: Float32Array; tied: boolean; probability: number };
  /** The likeliest next tokens after the prompt (score: probability). */
  top: TokenScore[];
  dropped?: number;
}

export interface InspectorApi {
  /** The prompt run with capture, and with the interventions asked for (the model itself is not changed). */
  inspect(text: string, interventions?: Interventions): Promise<Inspection>;
  /** The prompt run as inspect() runs it (the same tokens, the interventions asked for), without the capture. */
  odds(text: string, interventions?: Interventions): Promise<PromptOdds>;
  headUpdates(text: string, position: number): Promise<HeadUpdate[]>;
  topNeurons(text: string, position: number, layer: number, count: number): Promise<NeuronReport>;
  /** The built-in corpus's facts as prompts for this model's vocabulary. */
  factPrompts(): Promise<FactPrompt[]>;
  nearestTokens(token: number, count: number): Promise<Neighbour[]>;
  /** Tokens nearest (cosine) to wte[a] − wte[b] + wte[c], leaving out a, b and c. */
  tokenArithmetic(a: number, b: number, c: number, count: number): Promise<Neighbour[]>;
  tokenAngle(a: number, b: number): Promise<TokenAngle>;
  tokenDirections(a: number, b: number, c: number, d: number, count: number): Promise<TokenDirections>;
  /** A map of the tokens `ids` (at most EmbeddingMap.limit of them), else of the first `limit` tokens. */
  embeddingMap(ids?: number[]): Promise<EmbeddingMap>;
  /** [n, n] cosine similarity of every pair of the first n position embeddings: all of them, at most 256 (GPT-2: 1,024). */
  positionSimilarity(): Promise<Float32Array>;
  contextualSimilarity(
    first: { text: string; position: number },
    second: { text: string; position: number },
  ): Promise<ContextualSimilarity>;
  logitLens(text: string, position: number, count: number): Promise<LensLayer[]>;
  /** One head's W_Q, W_K, W_V, value up and output matrix, and the vectors of one (query, key) pair of the prompt. */
  headMatrices(text: string, choice: MatrixChoice): Promise<HeadMatrices>;
  /** Frames recorded while training (since the model was made or reset). */
  timelapse(): Promise<TimelapseFrame[]>;
  /** Watches a prompt while training: now, for the model being trained, and for every model trained after. */
  setTimelapse(settings: TimelapseSettings): Promise<void>;
}

/** The head of the shipped model that the attention panel opens on (measured by its tests). */
export { ADJECTIVE_HEAD } from '../engine/default-model.ts';
