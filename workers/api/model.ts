/**
 * The model's area of the contract: the model in use, its tokens, its
 * next-token odds, and sampling from it one token at a time or as a stream.
 * areas/model.ts implements it.
 */
import type { GPTConfig } from '../engine/config.ts';
import type { Capture } from '../engine/model.ts';
import type { ParameterCounts } from '../engine/params.ts';
import type { ModelPreset } from '../engine/presets.ts';
import type { SamplingOptions } from '../engine/sampling.ts';
import type { TokenizerType } from '../engine/tokenizer.ts';
import type { ChatReply, ChatToken } from './chat.ts';

export type { GPTConfig } from '../engine/config.ts';
export type { Capture, LayerCapture } from '../engine/model.ts';
export type { ParameterCounts } from '../engine/params.ts';
export type { ModelPreset } from '../engine/presets.ts';
export type { SamplingOptions } from '../engine/sampling.ts';
export { headSize } from '../engine/config.ts';
export { UNKNOWN_ID, UNKNOWN_TOKEN } from '../engine/tokenizer.ts';

/**
 * 'random': freshly initialised, not trained; 'training': being trained here, part way;
 * 'trained': read from a checkpoint, or trained here to the last step.
 */
export type WeightsState = 'random' | 'training' | 'trained';

export interface ModelInfo {
  /** What the model is called (and saved as). */
  name: string;
  config: GPTConfig;
  parameters: ParameterCounts;
  /** Characters or word pieces (BPE): how the vocabulary's strings read. */
  tokenizer: TokenizerType;
  /** Token strings in id order. */
  vocabulary: string[];
  /** Seed the weights were initialised from (for a checkpoint: the seed of the fallback). */
  seed: number;
  weights: WeightsState;
  /** Training steps taken in this tab. */
  step: number;
  /** The pretrained model this is (PretrainedSource id, e.g. 'gpt2'), when it is one. */
  pretrained?: string;
  /** File name of the checkpoint the weights came from, when they did. */
  checkpoint?: string;
  /** Name of the corpus the model is being trained on, when it is. */
  corpus?: string;
  /** The saved model this is, once saved (it reopens on reload). */
  saved?: { id: string; name: string; updated: number; step: number };
  /** Why saving failed or is off (storage full, a private window), or that another tab's save was replaced. */
  storageProblem?: string;
  /** Something the page should tell the user, e.g. why the default model did not load. */
  notice?: string;
  /** Set while the model is one tuned here: the model it was tuned from, and the tuning steps taken. */
  tuning?: { reference: string; step: number };
}

export interface Tokenization {
  /** Ids of the tokens the model reads: the last blockSize tokens of the text. */
  ids: number[];
  /** Vocabulary string of each id (the unknown token for unknown characters). */
  tokens: string[];
  /**
   * The piece of the input text each token came from. A character whose bytes span several
   * word pieces belongs to the last of them: the others' pieces are "".
   */
  pieces: string[];
  /** Distinct characters the vocabulary lacks; they are read as the unknown token. */
  unknown: string[];
  /** Tokens cut from the front because the text is longer than the context. */
  dropped: number;
  truncated: boolean;
}

export interface TokenProbability {
  id: number;
  token: string;
  prob: number;
}

export interface PredictOptions extends SamplingOptions {
  /** How many of the most likely tokens to list (default 15). */
  top?: number;
}

export interface Prediction {
  /** The most likely next tokens, most likely first. */
  top: TokenProbability[];
  /** Probability of every token not in `top`. */
  rest: number;
  /** The whole distribution [vocabSize] after temperature, top-k and top-p. */
  probs: Float32Array;
  /** Number of tokens the prediction was made from (including the start token of an empty prompt). */
  contextLength: number;
}

export interface ForwardOutput {
  ids: number[];
  /** [ids.length, vocabSize] */
  logits: Float32Array;
  capture?: Capture;
}

export interface GenerateRequest extends SamplingOptions {
  maxTokens: number;
  seed: number;
}

export interface StreamedToken {
  /** 0 for the first generated token, then 1, 2, … */
  index: number;
  id: number;
  /** The token's readable string (a chip). */
  token: string;
  /** The text this token adds to the generated text: a character whose bytes span tokens comes with its last one. */
  text: string;
  /** Probability the token had in the distribution it was drawn from. */
  prob: number;
}

export interface GenerateResult {
  /** The generated text only (without the prompt). */
  text: string;
  ids: number[];
  /** True when stopped (by cancel(), a newer generate, or a new model) before maxTokens. */
  stopped: boolean;
}

/** The dialogue format the chat lays out and fine-tuning teaches: its cues, and the line break that ends a reply. */
export { ASSISTANT_CUE, END_OF_REPLY, USER_CUE } from '../engine/dialogue.ts';

export interface ReplyRequest extends GenerateRequest {
  /** How many of the likeliest tokens each token lists as its alternatives (default 5). */
  top?: number;
}

export interface ModelApi {
  /** The model in use: its name, shape, vocabulary, where its weights came from and whether it is saved. */
  info(): Promise<ModelInfo>;
  /** The tokens the model reads for a text (the last blockSize of them). */
  tokenize(text: string): Promise<Tokenization>;
  /** The next-token distribution after the prompt's last token. */
  predict(text: string, options: PredictOptions): Promise<Prediction>;
  /** Logits for every position (and, with capture, the model's insides) for text or token ids. */
  forward(input: string | readonly number[], options?: { capture?: boolean }): Promise<ForwardOutput>;
  /** Draws one next token; the same prompt, options and seed always draw the same token. */
  sample(text: string, sampling: SamplingOptions, seed: number): Promise<StreamedToken>;
  /**
   * Streams up to maxTokens tokens to onToken, in order, each once the page has
   * taken the one before. A cancel(), a newer generate or a new model stops it:
   * it then returns what it has with stopped: true.
   */
  generate(prompt: string, request: GenerateRequest, onToken: (token: StreamedToken) => unknown): Promise<GenerateResult>;
  /**
   * Streams the assistant's reply that continues `text`, each token with its likeliest
   * alternatives, until a token holding END_OF_REPLY (finish 'stop'; the reply's text stops
   * before the line break), maxTokens (finish 'length'), or a cancel() (finish 'abort').
   */
  reply(text: string, request: ReplyRequest, onToken: (token: ChatToken) => unknown): Promise<ChatReply>;
  /** Stops the running generation or reply, if any, before its next token. */
  cancel(): Promise<void>;
  /** Parameter counts by category for any config (the training panel shows them for each model size). */
  countParameters(config: GPTConfig): Promise<ParameterCounts>;
  /** The model sizes the training panel offers. */
  presets(): Promise<ModelPreset[]>;
  /**
   * Replaces the model with the checkpoint at `url` (one with our config and
   * tokenizer in its metadata). When it cannot be fetched or read, the current
   * model stays and info().notice says why. A notice given before (why the saved
   * model was not reopened) is kept.
   */
  loadCheckpoint(url: string): Promise<ModelInfo>;
}
