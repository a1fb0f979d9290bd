/**
 * Turning logits into a choice: temperature, top-k, top-p, and a seeded draw.
 */
import type { Random } from './random.ts';
import { excerpt } from '../api/errors.ts';

export interface SamplingOptions {
  /** 0 = always the most likely token; 1 = the model's own distribution; above 1 flatter. */
  temperature: number;
  /** Keep only the k most likely tokens; 0 or undefined = off. */
  topK?: number;
  /** Keep the fewest most likely tokens whose probability adds up to at least p; 1 or undefined = off. */
  topP?: number;
}

/** Index of the largest value; the lowest index among equals. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * softmax(logits / temperature). Temperature 0 is the limit: all probability on
 * the argmax. Computed in float64, shifted by the max so exp cannot overflow.
 */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float32Array {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new Error(`temperature must be a finite number ≥ 0, got ${excerpt(temperature)}`);
  }
  const probs = new Float32Array(logits.length);
  const top = argmax(logits);
  if (temperature === 0) {
    probs[top] = 1;
    return probs;
  }
  const max = logits[top];
  const exps = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    exps[i] = Math.exp((logits[i] - max) / temperature);
    sum += exps[i];
  }
  for (let i = 0; i < logits.length; i++) probs[i] = exps[i] / sum;
  return probs;
}

/** Token ids from most to least likely; equal probabilities keep id order. */
function rankByProbability(probs: Float32Array): number[] {
  const ids = Array.from({ length: probs.length }, (_, i) => i);
  return ids.sort((a, b) => probs[b] - probs[a] || a - b);
}

/** Zeroes every token not in `kept` and rescales the rest to sum to 1. */
function keepOnly(probs: Float32Array, kept: readonly number[]): void {
  let mass = 0;
  for (const id of kept) mass += probs[id];
  const keptProbs = kept.map((id) => probs[id] / mass);
  probs.fill(0);
  kept.forEach((id, i) => (probs[id] = keptProbs[i]));
}

/** Float32 probabilities do not add up exactly; a prefix this close to p counts as reaching it. */
const TOP_P_SLACK = 1e-6;

/**
 * The distribution the next token is drawn from: softmax at the temperature, then
 * top-k, then top-p, renormalised after each cut. At least one token always remains.
 */
export function nextTokenProbabilities(logits: ArrayLike<number>, options: SamplingOptions): Float32Array {
  const { temperature, topK = 0, topP = 1 } = options;
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`top-k must be a whole number ≥ 0, got ${excerpt(topK)}`);
  if (!(topP >= 0 && topP <= 1)) throw new Error(`top-p must be between 0 and 1, got ${excerpt(topP)}`);
  const probs = softmax(logits, temperature);
  if (topK > 0 && topK < probs.length) keepOnly(probs, rankByProbability(probs).slice(0, topK));
  if (topP < 1) {
    const ranked = rankByProbability(probs);
    let count = 0;
    let mass = 0;
    do mass += probs[ranked[count++]];
    while (count < ranked.length && mass < topP - TOP_P_SLACK);
    keepOnly(probs, ranked.slice(0, count));
  }
  return probs;
}

/** Draws an index with probability proportional to probs[i] (zeros are never drawn). */
export function sampleFrom(probs: ArrayLike<number>, random: Random): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  if (!(total > 0)) throw new Error('cannot sample: the probabilities sum to zero');
  const target = random.uniform() * total;
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last = i;
    if (target < cumulative) return i;
  }
  return last; // rounding left target just above the running sum: the last possible token
}
