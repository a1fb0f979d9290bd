/**
 * Byte-level BPE in the GPT-2 style: text becomes UTF-8 bytes, GPT-2's regex cuts it into
 * chunks (a word keeps its leading space), and learned merges join adjacent tokens inside
 * a chunk, most frequent pair first. A vocabulary with all 256 bytes spells any text; a
 * smaller one (fewer than 257 tokens) has the unknown token at id 0 for characters whose
 * bytes it lacks.
 */
import { excerpt } from '../api/errors.ts';
import { checkEntries, UNKNOWN_ID, UNKNOWN_TOKEN, type Encoding, type Tokenizer, type TokenizerJSON } from './tokenizer.ts';
import { bytesOfReadable, readableBytes } from './token-bytes.ts';

/** One merge as training learns it, in readable strings. */
export interface MergeStep {
  /** 0 for the first merge learned. */
  rank: number;
  left: string;
  right: string;
  token: string;
  /** How often the pair occurred in the corpus. */
  count: number;
  /** The corpus's length in tokens after this merge. */
  corpusTokens: number;
}

/** GPT-2's pre-tokenisation: contractions, words with their leading space, numbers, punctuation runs, whitespace. */
const CHUNK_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const BYTE_COUNT = 256;
/** Chunks remembered by encode: a corpus repeats its words, but a huge text must not grow the cache forever. */
const CACHE_LIMIT = 50_000;

const utf8 = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as text: without it the decoder would drop it and "\uFEFFx" would not round-trip.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
// UNKNOWN_TOKEN's UTF-8, spelled out: tokenizer.ts imports this module, so its values are not ready while this one loads.
const UNKNOWN_BYTES = Uint8Array.of(0xef, 0xbf, 0xbd);

const chunksOf = (text: string): string[] => text.match(CHUNK_PATTERN) ?? [];

const concatBytes = (left: Uint8Array, right: Uint8Array): Uint8Array => {
  const joined = new Uint8Array(left.length + right.length);
  joined.set(left);
  joined.set(right, left.length);
  return joined;
};

/**
 * GPT-2's bytes_to_unicode: each byte as a printable character, so its vocab.json and merges.txt
 * hold text. Printable Latin-1 bytes stand for themselves, the others for U+0100 onwards (Ġ = space).
 */
function gpt2ByteOfChar(): Map<string, number> {
  const printable = (byte: number) => (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
  const byteOf = new Map<string, number>();
  let shifted = 0;
  for (let byte = 0; byte < BYTE_COUNT; byte++) {
    byteOf.set(String.fromCharCode(printable(byte) ? byte : BYTE_COUNT + shifted++), byte);
  }
  return byteOf;
}

/** Heap entries are rank × POSITIONS + position: one number, ordered by rank, then position. */
const POSITIONS = 2 ** 32;

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];

  push(item: number): void {
    const items = this.items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent] <= item) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && items[child + 1] < items[child]) child++;
      if (items[child] >= last) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = last;
    return top;
  }
}

interface ChunkEncoding {
  ids: number[];
  unknown: string[];
}

/**
 * The bytes learning starts from: all 256 (id = byte value), or, below 257 tokens, only the bytes `text` uses
 * (after the unknown token at id 0). Throws when those do not fit in `vocabSize`.
 */
function baseBytesOf(text: string, vocabSize: number): number[] {
  if (vocabSize > BYTE_COUNT) return Array.from({ length: BYTE_COUNT }, (_, byte) => byte);
  const used = [...new Set(utf8.encode(text))].sort((a, b) => a - b);
  if (used.length + 1 > vocabSize) {
    throw new Error(
      `the corpus uses ${used.length} different bytes: choose at least ${used.length + 1} tokens (the bytes and the unknown token)`,
    );
  }
  return used;
}

export class BpeTokenizer implements Tokenizer {
  static readonly MIN_VOCAB = 64;
  static readonly MAX_VOCAB = 4096;

  readonly type = 'bpe';
  readonly vocab: readonly string[];
  /** In rank order, as readable strings. */
  readonly merges: readonly (readonly [string, string])[];
  /** UNKNOWN_ID when the vocabulary lacks some bytes, else undefined. */
  private readonly unknownId: number | undefined;
  private readonly bytesOf: Uint8Array[];
  /** Token id of each byte value, -1 when the vocabulary lacks it. */
  private readonly idOfByte = new Int32Array(BYTE_COUNT).fill(-1);
  /** Pair key (left * size + right) → rank of its merge and the id it makes. */
  private readonly mergeOf = new Map<number, { rank: number; id: number }>();
  private readonly cache = new Map<string, ChunkEncoding>();

  /** `vocab`: readable token strings in id order, with the unknown token at id 0 unless all 256 bytes are there. */
  constructor(vocab: readonly string[], merges: readonly (readonly [string, string])[]) {
    this.unknownId = vocab[UNKNOWN_ID] === UNKNOWN_TOKEN ? UNKNOWN_ID : undefined;
    checkEntries('bpe', vocab);
    const idOf = new Map<string, number>();
    this.bytesOf = vocab.map((token, id) => {
      if (id === this.unknownId) return UNKNOWN_BYTES;
      const first = idOf.get(token);
      if (first !== undefined)
        throw new Error(`token ${id} ${excerpt(token)} appears twice in the vocabulary (also token ${first})`);
      idOf.set(token, id);
      const bytes = bytesOfReadable(token)!;
      if (bytes.length === 1) this.idOfByte[bytes[0]] = id;
      return bytes;
    });
    const missing = this.idOfByte.indexOf(-1);
    if (this.unknownId === undefined && missing >= 0) {
      throw new Error(
        `a vocabulary without the unknown token "${UNKNOWN_TOKEN}" at id 0 must have all 256 bytes; ${readableBytes(Uint8Array.of(missing))} is missing`,
      );
    }
    merges.forEach((pair, rank) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`merge ${rank} is not a pair of tokens: ${excerpt(pair)}`);
      const [left, right] = pair.map((token) => idOf.get(token));
      if (left === undefined || right === undefined) {
        throw new Error(`merge ${rank} joins a token that is not in the vocabulary: ${excerpt(pair)}`);
      }
      const joined = readableBytes(concatBytes(this.bytesOf[left], this.bytesOf[right]));
      const id = idOf.get(joined);
      if (id === undefined) throw new Error(`merge ${rank} makes ${excerpt(joined)}, which is not in the vocabulary`);
      const key = left * vocab.length + right;
      if (!this.mergeOf.has(key)) this.mergeOf.set(key, { rank, id });
    });
    this.vocab = vocab;
    this.merges = merges;
  }

  static fromJSON(json: TokenizerJSON): BpeTokenizer {
    if (json?.type !== 'bpe' || !Array.isArray(json.vocab) || !Array.isArray(json.merges)) {
      throw new Error(`tokenizer must be {"type":"bpe","vocab":[...],"merges":[...]}, got ${excerpt(json)}`);
    }
    return new BpeTokenizer(json.vocab, json.merges);
  }

  /** GPT-2's own files: vocab.json (token → id) and merges.txt ("#version" line, then "left right" per line). */
  static fromGpt2(vocabJson: Record<string, number>, mergesTxt: string): BpeTokenizer {
    const byteOf = gpt2ByteOfChar();
    const readable = (token: string, where: string): string => {
      const bytes = [...token].map((char) => byteOf.get(char));
      if (bytes.some((byte) => byte === undefined))
        throw new Error(`${where}: ${excerpt(token)} is not in GPT-2's byte alphabet`);
      return readableBytes(Uint8Array.from(bytes as number[]));
    };
    const entries = Object.entries(vocabJson ?? {});
    const vocab: string[] = new Array(entries.length);
    for (const [token, id] of entries) {
      if (!Number.isInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
        throw new Error(
          `vocab.json: the ids must be 0 to ${entries.length - 1}, each once; ${excerpt(token)} has ${excerpt(id)}`,
        );
      }
      vocab[id] = readable(token, 'vocab.json');
    }
    const merges = mergesTxt
      .split(/\r?\n/)
      .map((line, index) => ({ line, number: index + 1 }))
      .filter(({ line }) => line !== '' && !line.startsWith('#version'))
      .map(({ line, number }) => {
        const pair = line.split(' ');
        if (pair.length !== 2) throw new Error(`merges.txt line ${number} is not "left right": ${excerpt(line)}`);
        return pair.map((token) => readable(token, `merges.txt line ${number}`)) as [string, string];
      });
    return new BpeTokenizer(vocab, merges);
  }

  /** Tokens a vocabulary of `vocabSize` learned from `text` starts with, before any merge (see train). */
  static baseSize(text: string, vocabSize: number): number {
    return baseBytesOf(text, vocabSize).length + (vocabSize > BYTE_COUNT ? 0 : 1);
  }

  /** The corpus's length in tokens before any merge: its UTF-8 bytes. */
  static corpusBytes(text: string): number {
    return utf8.encode(text).length;
  }

  /**
   * Learns merges on `text` until the vocabulary has `vocabSize` tokens. Equally frequent pairs:
   * the smaller (left id, right id) wins. `onMerge` hears each merge as it is learned.
   */
  static train(text: string, vocabSize: number, onMerge?: (merge: MergeStep) => void): BpeTokenizer {
    const { MIN_VOCAB, MAX_VOCAB } = BpeTokenizer;
    if (!Number.isInteger(vocabSize) || vocabSize < MIN_VOCAB || vocabSize > MAX_VOCAB) {
      throw new Error(`the vocabulary size must be a whole number from ${MIN_VOCAB} to ${MAX_VOCAB}, got ${excerpt(vocabSize)}`);
    }
    const chunkCounts = new Map<string, number>();
    for (const chunk of chunksOf(text)) chunkCounts.set(chunk, (chunkCounts.get(chunk) ?? 0) + 1);
    const chunkBytes = [...chunkCounts.keys()].map((chunk) => utf8.encode(chunk));
    const weights = [...chunkCounts.values()];

    const baseBytes = baseBytesOf(text, vocabSize);
    const vocab = vocabSize <= BYTE_COUNT ? [UNKNOWN_TOKEN] : [];
    const tokenBytes: Uint8Array[] = vocabSize <= BYTE_COUNT ? [UNKNOWN_BYTES] : [];
    const idOfByte = new Map<number, number>();
    for (const byte of baseBytes) {
      idOfByte.set(byte, vocab.length);
      tokenBytes.push(Uint8Array.of(byte));
      vocab.push(readableBytes(Uint8Array.of(byte)));
    }
    const idOfToken = new Map(vocab.map((token, id) => [token, id]));
    if (vocabSize <= BYTE_COUNT) idOfToken.delete(UNKNOWN_TOKEN);

    // Each distinct chunk once, with its count; pairs are counted over chunks and indexed by the chunks they occur in.
    const sequences = chunkBytes.map((bytes) => Array.from(bytes, (byte) => idOfByte.get(byte)!));
    const pairCounts = new Map<number, number>();
    const chunksWithPair = new Map<number, Set<number>>();
    const keyOf = (left: number, right: number) => left * MAX_VOCAB + right;
    const countPairs = (chunk: number, sign: 1 | -1) => {
      const sequence = sequences[chunk];
      for (let i = 0; i + 1 < sequence.length; i++) {
        const key = keyOf(sequence[i], sequence[i + 1]);
        const count = (pairCounts.get(key) ?? 0) + sign * weights[chunk];
        if (count === 0) pairCounts.delete(key);
        else pairCounts.set(key, count);
        if (sign > 0) {
          let chunks = chunksWithPair.get(key);
          if (!chunks) chunksWithPair.set(key, (chunks = new Set()));
          chunks.add(chunk);
        }
      }
    };
    sequences.forEach((_, chunk) => countPairs(chunk, 1));

    let corpusTokens = sequences.reduce((total, sequence, chunk) => total + sequence.length * weights[chunk], 0);
    const merges: [string, string][] = [];
    while (vocab.length < vocabSize) {
      let bestKey = -1;
      let bestCount = 0;
      for (const [key, count] of pairCounts) {
        if (count > bestCount || (count === bestCount && key < bestKey)) [bestKey, bestCount] = [key, count];
      }
      if (bestCount < 2) {
        const advice = vocab.length >= MIN_VOCAB ? `choose at most ${vocab.length} tokens, or` : 'choose';
        throw new Error(
          `the corpus is too small for ${vocabSize} tokens: after ${vocab.length}, no pair of tokens occurs twice; ${advice} a longer corpus`,
        );
      }
      const left = Math.floor(bestKey / MAX_VOCAB);
      const right = bestKey % MAX_VOCAB;
      const bytes = concatBytes(tokenBytes[left], tokenBytes[right]);
      const token = readableBytes(bytes);
      // Two merges can spell the same bytes ("a"+"bc", "ab"+"c"): they share one token.
      let id = idOfToken.get(token);
      if (id === undefined) {
        id = vocab.length;
        idOfToken.set(token, id);
        vocab.push(token);
        tokenBytes.push(bytes);
      }
      for (const chunk of chunksWithPair.get(bestKey) ?? []) {
        const sequence = sequences[chunk];
        const merged: number[] = [];
        for (let i = 0; i < sequence.length; i++) {
          if (i + 1 < sequence.length && sequence[i] === left && sequence[i + 1] === right) {
            merged.push(id);
            i++;
          } else merged.push(sequence[i]);
        }
        if (merged.length === sequence.length) continue;
        countPairs(chunk, -1);
        sequences[chunk] = merged;
        countPairs(chunk, 1);
        corpusTokens -= (sequence.length - merged.length) * weights[chunk];
      }
      chunksWithPair.delete(bestKey);
      merges.push([vocab[left], vocab[right]]);
      onMerge?.({ rank: merges.length - 1, left: vocab[left], right: vocab[right], token, count: bestCount, corpusTokens });
    }
    return new BpeTokenizer(vocab, merges);
  }

  get size(): number {
    return this.vocab.length;
  }

  toJSON(): { type: 'bpe'; vocab: string[]; merges: [string, string][] } {
    return { type: 'bpe', vocab: [...this.vocab], merges: this.merges.map(([left, right]) => [left, right]) };
  }

  encodeWithReport(text: string): Encoding {
    const ids: number[] = [];
    const unknown = new Set<string>();
    for (const chunk of chunksOf(text)) {
      let encoding = this.cache.get(chunk);
      if (!encoding) {
        encoding = this.encodeChunk(chunk);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(chunk, encoding);
      }
      for (const id of encoding.ids) ids.push(id); // not push(...ids): a long chunk would overflow the call stack
      for (const char of encoding.unknown) unknown.add(char);
    }
    return { ids, unknown: [...unknown] };
  }

  encode(text: string): number[] {
    return this.encodeWithReport(text).ids;
  }

  /** One chunk: its bytes as tokens (a character with a byte the vocabulary lacks: one unknown token), then the merges. */
  private encodeChunk(chunk: string): ChunkEncoding {
    const ids = Array.from(utf8.encode(chunk), (byte) => this.idOfByte[byte]);
    const unknown: string[] = [];
    // Only a vocabulary without some bytes needs to look at characters one by one.
    if (ids.includes(-1)) {
      ids.length = 0;
      for (const char of chunk) {
        const charIds = Array.from(utf8.encode(char), (byte) => this.idOfByte[byte]);
        if (charIds.includes(-1)) {
          ids.push(this.unknownId!);
          if (!unknown.includes(char)) unknown.push(char);
        } else ids.push(...charIds);
      }
    }
    return { ids: this.applyMerges(ids), unknown };
  }

  /**
   * Applies the merges to a chunk's tokens: the pair of lowest rank first, leftmost first, as
   * training merged them. Candidate pairs wait in a heap keyed by rank then position, over a
   * linked list of the tokens, so a long chunk costs n log n rather than n per merge.
   */
  private applyMerges(ids: number[]): number[] {
    const next = Array.from(ids, (_, i) => i + 1);
    const previous = Array.from(ids, (_, i) => i - 1);
    const heap = new MinHeap();
    const consider = (left: number) => {
      const right = next[left];
      const merge = right < ids.length ? this.mergeOf.get(ids[left] * this.size + ids[right]) : undefined;
      if (merge) heap.push(merge.rank * POSITIONS + left);
    };
    for (let i = 0; i + 1 < ids.length; i++) consider(i);
    for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) {
      const left = entry % POSITIONS;
      const right = next[left];
      // Stale entries: the left token was merged into its neighbour, or its pair changed since.
      if (ids[left] < 0 || right >= ids.length) continue;
      const merge = this.mergeOf.get(ids[left] * this.size + ids[right]);
      if (!merge || merge.rank !== Math.floor(entry / POSITIONS)) continue;
      ids[left] = merge.id;
      ids[right] = -1;
      next[left] = next[right];
      if (next[left] < ids.length) previous[next[left]] = left;
      if (previous[left] >= 0) consider(previous[left]);
      consider(left);
    }
    return ids.filter((id) => id >= 0);
  }

  decode(ids: Iterable<number>): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const id of ids) {
      const bytes = this.bytesOf[id] ?? UNKNOWN_BYTES;
      parts.push(bytes);
      length += bytes.length;
    }
    const joined = new Uint8Array(length);
    let at = 0;
    for (const bytes of parts) {
      joined.set(bytes, at);
      at += bytes.length;
    }
    return utf8Decoder.decode(joined);
  }

  streamDecoder(): (id: number) => string {
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return (id) => decoder.decode(this.bytesOf[id] ?? UNKNOWN_BYTES, { stream: true });
  }

  token(id: number): string {
    return this.vocab[id] ?? UNKNOWN_TOKEN;
  }
}
