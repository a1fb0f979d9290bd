/**
 * The tokenizer interface and its two kinds: characters (here) and byte-level BPE (bpe.ts).
 *
 * The character tokenizer: one token per Unicode character (code point).
 * Token 0 is always UNKNOWN ("�"): characters the vocabulary lacks map to it,
 * so any text can be encoded and the caller can see which characters were lost.
 */
import { excerpt } from '../api/errors.ts';
import { BpeTokenizer, type MergeStep } from './bpe.ts';
import { readableEntryProblem } from './token-bytes.ts';

export const UNKNOWN_TOKEN = '\uFFFD';
export const UNKNOWN_ID = 0;

export type TokenizerType = 'char' | 'bpe';

export interface Tokenizer {
  readonly type: TokenizerType;
  /** Token strings in id order, readable: BPE bytes that are not valid UTF-8 appear as \xNN, a backslash as \\. */
  readonly vocab: readonly string[];
  readonly size: number;
  encode(text: string): number[];
  /** unknown: distinct characters the vocabulary cannot spell (always [] for a BPE that has all 256 bytes). */
  encodeWithReport(text: string): Encoding;
  /** Text of the ids: BPE joins the bytes, then decodes UTF-8 (invalid sequences become U+FFFD). */
  decode(ids: Iterable<number>): string;
  /**
   * A decoder for ids that arrive one at a time (a stream of samples): each call gives the text the id adds.
   * A character whose bytes span several tokens comes with its last one, so the pieces join to decode(ids)
   * (less a last character still incomplete).
   */
  streamDecoder(): (id: number) => string;
  /** Readable string of one token (as in vocab); out-of-range ids read as the unknown token U+FFFD. */
  token(id: number): string;
  toJSON(): TokenizerJSON;
}

/** Token strings in id order; for char, index 0 is UNKNOWN_TOKEN. BPE merges are pairs of token strings, in rank order. */
export type TokenizerJSON = { type: 'char'; vocab: string[] } | { type: 'bpe'; vocab: string[]; merges: [string, string][] };

/** How a new model's tokenizer is made from a corpus. */
export type TokenizerChoice = { type: 'char' } | { type: 'bpe'; vocabSize: number };

/** True for a string of exactly one code point: what `for (const char of text)` gives, so what encode() looks up. */
const isOneCodePoint = (text: string): boolean => text.length === (text.codePointAt(0)! > 0xffff ? 2 : 1);

/**
 * What each tokenizer type allows as a vocabulary entry: why `entry` cannot be a
 * token, or undefined. A vocabulary from a file or a saved model is checked entry
 * by entry, so nothing but strings of the type's shape reaches chips and samples;
 * another tokenizer type (BPE) brings its own rule.
 */
const ENTRY_RULES: Record<TokenizerType, (entry: unknown) => string | undefined> = {
  char: (entry) =>
    typeof entry !== 'string' ? 'is not a string' : isOneCodePoint(entry) ? undefined : 'is not a single character',
  bpe: readableEntryProblem,
};

/** Throws, naming the first entry that breaks `type`'s rule by its index and an excerpt of it. */
export function checkEntries(type: TokenizerType, vocab: readonly unknown[]): void {
  const rule = ENTRY_RULES[type];
  vocab.forEach((entry, id) => {
    const problem = rule(entry);
    if (problem) throw new Error(`token ${id} ${problem}: ${excerpt(entry)}`);
  });
}

export interface Encoding {
  ids: number[];
  /** Distinct characters of the input that are not in the vocabulary. */
  unknown: string[];
}

export class CharTokenizer implements Tokenizer {
  readonly type = 'char';
  readonly vocab: readonly string[];
  private readonly idOf: Map<string, number>;

  constructor(vocab: readonly string[]) {
    if (vocab[UNKNOWN_ID] !== UNKNOWN_TOKEN) {
      throw new Error(`tokenizer vocabulary must start with the unknown token "${UNKNOWN_TOKEN}"`);
    }
    checkEntries('char', vocab);
    this.idOf = new Map();
    vocab.forEach((token, id) => {
      if (this.idOf.has(token)) throw new Error(`token ${excerpt(token)} appears twice in the vocabulary`);
      this.idOf.set(token, id);
    });
    this.vocab = vocab;
  }

  /** Vocabulary = the unknown token, then every distinct character of `text` in code-point order. */
  static fromText(text: string): CharTokenizer {
    const chars = [...new Set(text)].filter((c) => c !== UNKNOWN_TOKEN);
    chars.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer([UNKNOWN_TOKEN, ...chars]);
  }

  static fromJSON(json: TokenizerJSON): CharTokenizer {
    if (json?.type !== 'char' || !Array.isArray(json.vocab)) {
      throw new Error(`tokenizer must be {"type":"char","vocab":[...]}, got ${excerpt(json)}`);
    }
    return new CharTokenizer(json.vocab);
  }

  toJSON(): { type: 'char'; vocab: string[] } {
    return { type: 'char', vocab: [...this.vocab] };
  }

  get size(): number {
    return this.vocab.length;
  }

  encodeWithReport(text: string): Encoding {
    const ids: number[] = [];
    const unknown = new Set<string>();
    for (const char of text) {
      const id = this.idOf.get(char);
      if (id === undefined) unknown.add(char);
      ids.push(id ?? UNKNOWN_ID);
    }
    return { ids, unknown: [...unknown] };
  }

  encode(text: string): number[] {
    return this.encodeWithReport(text).ids;
  }

  decode(ids: Iterable<number>): string {
    let text = '';
    for (const id of ids) text += this.token(id);
    return text;
  }

  streamDecoder(): (id: number) => string {
    return (id) => this.token(id);
  }

  /** The string of one token; out-of-range ids read as the unknown token. */
  token(id: number): string {
    return this.vocab[id] ?? UNKNOWN_TOKEN;
  }
}

/** A new model's tokenizer, made from its corpus: its characters, or BPE merges learned on it (`onMerge` hears each). */
export function tokenizerForCorpus(text: string, choice: TokenizerChoice, onMerge?: (merge: MergeStep) => void): Tokenizer {
  return choice.type === 'bpe' ? BpeTokenizer.train(text, choice.vocabSize, onMerge) : CharTokenizer.fromText(text);
}

/** The tokenizer a checkpoint or saved model describes; throws a clear Error naming what is wrong. */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const type = (json as { type?: unknown } | null)?.type;
  if (type === 'char') return CharTokenizer.fromJSON(json as TokenizerJSON);
  if (type === 'bpe') return BpeTokenizer.fromJSON(json as TokenizerJSON);
  throw new Error(`tokenizer must be {"type":"char",...} or {"type":"bpe",...}, got ${excerpt(json)}`);
}
