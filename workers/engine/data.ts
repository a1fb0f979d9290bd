/**
 * Training data: a corpus's token ids split into a training part and a held-out
 * validation part, and random batches of windows from either.
 */
import type { Random } from './random.ts';
import { excerpt } from '../api/errors.ts';

export interface TokenDataset {
  /** The first part of the corpus: what the model learns from. */
  train: Uint16Array;
  /** The last part: text the model never trains on, to measure how well it generalises. */
  validation: Uint16Array;
}

/**
 * Splits ids into train (the first 1 − validationFraction) and validation (the
 * rest). A contiguous tail rather than scattered pieces, so no validation
 * window overlaps text seen in training.
 */
export function splitTokens(ids: ArrayLike<number>, validationFraction = 0.1): TokenDataset {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new Error(`the validation fraction must be between 0 and 1, got ${excerpt(validationFraction)}`);
  }
  const all = Uint16Array.from(ids);
  for (let i = 0; i < ids.length; i++) {
    if (all[i] !== ids[i]) throw new Error(`token id ${ids[i]} at position ${i} does not fit 16 bits`);
  }
  const trainLength = Math.round(all.length * (1 - validationFraction));
  return { train: all.subarray(0, trainLength), validation: all.subarray(trainLength) };
}

/**
 * Fills inputs and targets ([B,T]) with B windows of T tokens starting at random
 * places in tokens; each target is the token after its input, so one window
 * is T next-token examples.
 */
export function sampleBatch(
  tokens: Uint16Array,
  B: number,
  T: number,
  random: Random,
  inputs: Int32Array,
  targets: Int32Array,
): void {
  if (tokens.length < T + 1) {
    throw new Error(`${tokens.length} tokens are too few for windows of ${T} tokens and their next tokens: ${T + 1} needed`);
  }
  for (let b = 0; b < B; b++) {
    const start = random.int(tokens.length - T);
    inputs.set(tokens.subarray(start, start + T), b * T);
    targets.set(tokens.subarray(start + 1, start + T + 1), b * T);
  }
}
