/**
 * Character-level tokenizer: one token per Unicode character (code point).
 * Token 0 is always UNKNOWN ("�"): characters the vocabulary lacks map to it,
 * so any text can be encoded and the caller can see which characters were lost.
 */
import { excerpt } from '../api/errors.ts';

export const UNKNOWN_TOKEN = '\uFFFD';
export const UNKNOWN_ID = 0;

export interface TokenizerJSON {
  type: 'char';
  /** Token strings in id order; index 0 is UNKNOWN_TOKEN. */
  vocab: string[];
}

/** True for a string of exactly one code point: what `for (const char of text)` gives, so what encode() looks up. */
const isOneCodePoint = (text: string): boolean => text.length === (text.codePointAt(0)! > 0xffff ? 2 : 1);

/**
 * What each tokenizer type allows as a vocabulary entry: why `entry` cannot be a
 * token, or undefined. A vocabulary from a file or a saved model is checked entry
 * by entry, so nothing but strings of the type's shape reaches chips and samples;
 * another tokenizer type (BPE) brings its own rule.
 */
const ENTRY_RULES: Record<TokenizerJSON['type'], (entry: unknown) => string | undefined> = {
  char: (entry) =>
    typeof entry !== 'string' ? 'is not a string' : isOneCodePoint(entry) ? undefined : 'is not a single character',
};

/** Throws, naming the first entry that breaks `type`'s rule by its index and an excerpt of it. */
function checkEntries(type: TokenizerJSON['type'], vocab: readonly unknown[]): void {
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

export class CharTokenizer {
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

  toJSON(): TokenizerJSON {
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

  /** The string of one token; out-of-range ids read as the unknown token. */
  token(id: number): string {
    return this.vocab[id] ?? UNKNOWN_TOKEN;
  }
}
