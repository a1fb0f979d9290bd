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
 * same options, same model ⇒ same tokens. When the context would outgrow the
 * model's blockSize, the model sees only the last blockSize tokens: positions
 * shift, so the cache is rebuilt from that window.
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
  const context = promptIds.slice(-blockSize);
  let logits = prefill(params, cache, context);
  for (let i = 0; i < maxTokens; i++) {
    const probs = nextTokenProbabilities(logits, options);
    const id = sampleFrom(probs, random);
    yield { id, probs };
    if (i === maxTokens - 1) break; // the logits after the last token are never used
    context.push(id);
    if (cache.length < blockSize) {
      logits = forwardCached(params, cache, id);
    } else {
      context.shift();
      logits = prefill(params, cache, context);
    }
  }
}
