import { excerpt } from '../api/errors.ts';

/** The whole shape of a GPT in one small object (nanoGPT's GPTConfig). */
export interface GPTConfig {
  /** Number of distinct tokens the model can read and predict. */
  vocabSize: number;
  /** Longest context the model sees (number of learned positions). */
  blockSize: number;
  nLayer: number;
  nHead: number;
  /** Width of the residual stream (C). The MLP is 4·C wide. */
  nEmbd: number;
  /** True: the unembedding reuses the token embedding matrix, as GPT-2 does. */
  tied: boolean;
}

/** Throws a readable error when a config cannot describe a working model. */
export function validateConfig(config: GPTConfig): GPTConfig {
  const { vocabSize, blockSize, nLayer, nHead, nEmbd, tied } = config;
  const positive: [string, number][] = [
    ['vocabSize', vocabSize],
    ['blockSize', blockSize],
    ['nLayer', nLayer],
    ['nHead', nHead],
    ['nEmbd', nEmbd],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`config.${name} must be a positive integer, got ${excerpt(value)}`);
    }
  }
  if (nEmbd % nHead !== 0) {
    throw new Error(`config.nEmbd (${nEmbd}) must be divisible by config.nHead (${nHead})`);
  }
  if (typeof tied !== 'boolean') throw new Error('config.tied must be true or false');
  return config;
}

/** Same sizes (vocabulary, context, layers, heads, width); tied may differ. */
export const sameShape = (a: GPTConfig, b: GPTConfig): boolean =>
  a.vocabSize === b.vocabSize &&
  a.blockSize === b.blockSize &&
  a.nLayer === b.nLayer &&
  a.nHead === b.nHead &&
  a.nEmbd === b.nEmbd;

export const headSize = (config: GPTConfig): number => config.nEmbd / config.nHead;
