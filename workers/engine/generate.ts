/**
 * The generation loop: feed the prompt, then repeatedly draw a token and feed it
 * back, with a KV cache so each new token costs one position's work.
 */
import { forwardCached, KVCache, prefill } from './model.ts';
import type { ParameterTensors } from './params.ts';
import { Random } from './random.ts';
import { nextTokenProbabilities, sampleFrom, type SamplingOptions } from './sampling.ts';
import { excerpt } from '../api/errors.ts';

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  seed: number;
}

export interface GeneratedToken {
  id: number;
  /** [V] the distribution it was drawn from. */
  probs: Float32Array;
}

/**
 * What every generation loop shares, whatever runs the model: the checks, the
 * seeded draws, and the context the model reads.
 *
 * The model reads at most blockSize tokens. When the context is full, it slides
 * forward by half: the newest half of the tokens (the new one last) is kept and
 * the model reads them afresh, since every position shifts. Sliding by half
 * rather than by one token costs one rebuild of a KV cache per blockSize/2
 * tokens instead of one per token, and the model always sees at least half a
 * window of context.
 */
export class GenerationContext {
  private tokens: number[];
  private readonly blockSize: number;
  private readonly keptOnSlide: number;
  private readonly random: Random;
  private readonly options: GenerateOptions;

  constructor(promptIds: readonly number[], blockSize: number, options: GenerateOptions) {
    const { maxTokens, seed } = options;
    if (promptIds.length === 0) throw new Error('generation needs a prompt of at least one token');
    if (!Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new Error(`maxTokens must be a whole number ≥ 0, got ${excerpt(maxTokens)}`);
    }
    this.tokens = promptIds.slice(-blockSize);
    this.blockSize = blockSize;
    this.keptOnSlide = Math.max(1, Math.floor(blockSize / 2));
    this.random = new Random(seed);
    this.options = options;
  }

  /** The tokens the model reads next (1..blockSize of them). */
  get ids(): readonly number[] {
    return this.tokens;
  }

  /** Draws a token from the logits [V] after the context's last token. */
  draw(logits: ArrayLike<number>): GeneratedToken {
    const probs = nextTokenProbabilities(logits, this.options);
    return { id: sampleFrom(probs, this.random), probs };
  }

  /** Appends a drawn token. True when the context slid: every position moved, so cached keys and values are stale. */
  append(id: number): boolean {
    if (this.tokens.length < this.blockSize) {
      this.tokens.push(id);
      return false;
    }
    this.tokens = [...this.tokens.slice(this.tokens.length - this.keptOnSlide + 1), id];
    return true;
  }
}

/**
 * Yields up to maxTokens sampled tokens, each with its distribution. Same seed,
 * same options, same model ⇒ same tokens. The context slides as GenerationContext says.
 */
export function* generate(
  params: ParameterTensors,
  promptIds: readonly number[],
  options: GenerateOptions,
): Generator<GeneratedToken> {
  const context = new GenerationContext(promptIds, params.config.blockSize, options);
  const cache = new KVCache(params.config);
  let logits = prefill(params, cache, context.ids);
  for (let i = 0; i < options.maxTokens; i++) {
    const token = context.draw(logits);
    yield token;
    if (i === options.maxTokens - 1) break; // the logits after the last token are never used
    logits = context.append(token.id) ? prefill(params, cache, context.ids) : forwardCached(params, cache, token.id);
  }
}
