import type { GPTConfig } from './config.ts';
import { CharTokenizer } from './tokenizer.ts';

/** Printable ASCII plus newline: enough to type English and code. */
export const DEFAULT_CHARACTERS = '\n' + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

export const defaultTokenizer = (): CharTokenizer => CharTokenizer.fromText(DEFAULT_CHARACTERS);

/** A small model that starts instantly on any machine (~110k parameters). */
export const DEFAULT_CONFIG: GPTConfig = {
  vocabSize: defaultTokenizer().size,
  blockSize: 64,
  nLayer: 2,
  nHead: 4,
  nEmbd: 64,
  tied: true,
};

export const DEFAULT_SEED = 1337;

/** Vocabulary size of the built-in model's word-piece (BPE) tokenizer. */
export const BUILTIN_BPE_VOCAB = 1280;
