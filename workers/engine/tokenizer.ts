/**
 * Character-level tokenizer: one token per Unicode character (code point).
 * Token 0 is always UNKNOWN ("�"): characters the vocabulary lacks map to it,
 * so any text can be encoded and the caller can see which characters were lost.
 */
export const UNKNOWN_TOKEN = '\uFFFD';
export const UNKNOWN_ID = 0;

export interface TokenizerJSON {
  type: 'char';
  /** Token strings in id order; index 0 is UNKNOWN_TOKEN. */
  vocab: string[];
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
    this.idOf = new Map();
    vocab.forEach((token, id) => {
      if ([...token].length !== 1) throw new Error(`token ${id} is not a single character: ${JSON.stringify(token)}`);
      if (this.idOf.has(token)) throw new Error(`token ${JSON.stringify(token)} appears twice in the vocabulary`);
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
      throw new Error('tokenizer must be {"type":"char","vocab":[...]}');
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
