/**
 * The generation loop: feed the prompt, then repeatedly draw a token and feed it
 * back, with a KV cache so each new token costs one position's work.
 */
import { forwardCached, KVCache, prefill } from './model.ts';
import type { ParameterTensors } from './params.ts';
import { Random } from './random.ts';
import { nextTokenProbabilities, sampleFrom, type SamplingOptions } from './sampling.ts';

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
 * Yields up to maxTokens sampled tokens, each with its distribution. Same seed,
 * same options, same model ⇒ same tokens.
 *
 * The model reads at most blockSize tokens. When the context is full, it slides
 * forward by half: the newest half of the tokens (the new one last) is kept and
 * the cache is rebuilt from them, since every position shifts. Sliding by half
 * rather than by one token costs one rebuild per blockSize/2 tokens instead of
 * one per token, and the model always sees at least half a window of context.
 */
export function* generate(
  params: ParameterTensors, promptIds: readonly number[], options: GenerateOptions,
): Generator<GeneratedToken> {
  const { maxTokens, seed } = options;
  if (promptIds.length === 0) throw new Error('generation needs a prompt of at least one token');
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new Error(`maxTokens must be a whole number ≥ 0, got ${maxTokens}`);
  }
  const { blockSize } = params.config;
  const random = new Random(seed);
  const cache = new KVCache(params.config);
  const keptOnSlide = Math.max(1, Math.floor(blockSize / 2));
  let context = promptIds.slice(-blockSize);
  let logits = prefill(params, cache, context);
  for (let i = 0; i < maxTokens; i++) {
    const probs = nextTokenProbabilities(logits, options);
    const id = sampleFrom(probs, random);
    yield { id, probs };
    if (i === maxTokens - 1) break; // the logits after the last token are never used
    if (context.length < blockSize) {
      context.push(id);
      logits = forwardCached(params, cache, id);
    } else {
      context = [...context.slice(context.length - keptOnSlide + 1), id];
      logits = prefill(params, cache, context);
    }
  }
}
