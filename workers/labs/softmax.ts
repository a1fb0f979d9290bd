/**
 * The softmax lab's numbers: the engine's own softmax and seeded sampling, with
 * the intermediate steps (scaled logits, numerators, denominator) laid out, and
 * the active model's real next-token logits.
 */
import { largest } from '../engine/inspect.ts';
import { forward } from '../engine/model.ts';
import type { ParameterTensors } from '../engine/params.ts';
import { Random } from '../engine/random.ts';
import { argmax, nextTokenProbabilities, sampleFrom, softmax as engineSoftmax } from '../engine/sampling.ts';
import type { Tokenizer } from '../engine/tokenizer.ts';
import type { ModelLogits, SoftmaxResult } from '../api/labs.ts';
import { excerpt } from '../api/errors.ts';

/**
 * softmax(logits / T) step by step. The probabilities are the engine's (its
 * float64 sums, rounded to float32), so the lab shows exactly what sampling
 * draws from. At T = 0 the engine keeps only the argmax (the lowest index among
 * equal logits), so the others are −∞ here too.
 */
export function softmax(logits: readonly number[], temperature: number): SoftmaxResult {
  const probs = Array.from(engineSoftmax(logits, temperature));
  const top = argmax(logits);
  if (temperature === 0) {
    const scaled = logits.map((logit, i) => (i === top ? logit : -Infinity));
    return { scaled, exps: probs, sum: 1, probs };
  }
  const scaled = logits.map((logit) => logit / temperature);
  // (logit − max) / T rather than logit/T − max/T: the engine's order of operations.
  const exps = logits.map((logit) => Math.exp((logit - logits[top]) / temperature));
  return { scaled, exps, sum: exps.reduce((a, b) => a + b, 0), probs };
}

/** `draws` tokens drawn as the engine's generation draws them; how often each came up. */
export function sampleCounts(logits: readonly number[], temperature: number, draws: number, seed: number): number[] {
  if (!Number.isInteger(draws) || draws < 0)
    throw new Error(`the number of draws must be a whole number ≥ 0, got ${excerpt(draws)}`);
  const probs = nextTokenProbabilities(logits, { temperature });
  const random = new Random(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleFrom(probs, random)]++;
  return counts;
}

/** The logits after the prompt's last token (the model reads at most its context): the `count` largest, largest first. */
export function modelLogits(params: ParameterTensors, tokenizer: Tokenizer, ids: readonly number[], count: number): ModelLogits {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`the number of tokens must be a whole number ≥ 1, got ${excerpt(count)}`);
  const { blockSize, vocabSize: V } = params.config;
  const context = ids.slice(-blockSize);
  const { logits } = forward(params, context);
  const last = logits.subarray((context.length - 1) * V);
  const top = largest(last, Math.min(V, count));
  return { tokens: top.map((id) => tokenizer.token(id)), logits: top.map((id) => last[id]) };
}
