import { expect } from 'chai';
import { BpeTokenizer, type MergeStep } from '../../workers/engine/bpe.ts';
import { tokenizerFromJSON, UNKNOWN_ID, UNKNOWN_TOKEN } from '../../workers/engine/tokenizer.ts';
import { pick, randomInt } from './seeded.ts';

// ---- independent references, written the slow and obvious way ----

/** GPT-2's pre-tokenisation regex, as in its encoder.py. */
const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const bytesOf = (text: string): number[] => [...new TextEncoder().encode(text)];
/** What TextEncoder then TextDecoder make of a string: lone surrogates become U+FFFD, nothing else changes. */
const wellFormed = (text: string): string => new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(text));

/**
 * BPE training as the issue states it: every chunk occurrence as its own list of byte tokens; count every adjacent
 * pair; merge the most frequent (ties: smaller left id, then smaller right id) everywhere, left to right; stop at
 * `vocabSize` tokens. Tokens are byte lists; a merge that spells existing bytes reuses that token.
 */
function referenceTrain(text: string, vocabSize: number) {
  const sequences = (text.match(GPT2_PATTERN) ?? []).map(bytesOf);
  const small = vocabSize <= 256;
  const baseBytes = small ? [...new Set(sequences.flat())].sort((a, b) => a - b) : Array.from({ length: 256 }, (_, b) => b);
  const tokens: number[][] = small ? [[0xef, 0xbf, 0xbd]] : [];
  const ids = sequences.map((bytes) => bytes.map((byte) => tokens.length + baseBytes.indexOf(byte)));
  for (const byte of baseBytes) tokens.push([byte]);
  const firstMergeable = small ? 1 : 0;
  const merges: { left: number[]; right: number[]; count: number; corpusTokens: number }[] = [];
  let size = tokens.length;
  while (size < vocabSize) {
    const counts = new Map<string, number>();
    for (const sequence of ids) {
      for (let i = 0; i + 1 < sequence.length; i++) {
        const key = `${sequence[i]},${sequence[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [key, count] of counts) {
      const [left, right] = key.split(',').map(Number);
      const smaller = best && (left < best[0] || (left === best[0] && right < best[1]));
      if (count > bestCount || (count === bestCount && smaller)) [best, bestCount] = [[left, right], count];
    }
    if (!best || bestCount < 2) throw new Error('reference: corpus too small');
    const joined = [...tokens[best[0]], ...tokens[best[1]]];
    let id = tokens.findIndex((bytes, i) => i >= firstMergeable && bytes.join() === joined.join());
    if (id < 0) {
      id = tokens.length;
      tokens.push(joined);
      size++;
    }
    for (let s = 0; s < ids.length; s++) {
      const out: number[] = [];
      for (let i = 0; i < ids[s].length; i++) {
        if (ids[s][i] === best[0] && ids[s][i + 1] === best[1]) {
          out.push(id);
          i++;
        } else out.push(ids[s][i]);
      }
      ids[s] = out;
    }
    merges.push({ left: tokens[best[0]], right: tokens[best[1]], count: bestCount, corpusTokens: ids.flat().length });
  }
  return { tokens, merges, encoded: ids.flat() };
}

/** GPT-2's bytes_to_unicode, as in its encoder.py. */
function bytesToUnicode(): Map<number, string> {
  const bs: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = '¡'.charCodeAt(0); b <= '¬'.charCodeAt(0); b++) bs.push(b);
  for (let b = '®'.charCodeAt(0); b <= 'ÿ'.charCodeAt(0); b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  return new Map(bs.map((b, i) => [b, String.fromCharCode(cs[i])]));
}

/** GPT-2's encoder.py bpe() on one chunk, on its unicode-mapped strings, then vocab.json's ids. */
function referenceGpt2Encode(text: string, vocab: Record<string, number>, mergeLines: string[]): number[] {
  const byteChar = bytesToUnicode();
  const ranks = new Map(mergeLines.map((line, rank) => [line, rank]));
  const ids: number[] = [];
  for (const chunk of text.match(GPT2_PATTERN) ?? []) {
    let word = bytesOf(chunk).map((b) => byteChar.get(b)!);
    for (;;) {
      let best: string | undefined;
      for (let i = 0; i + 1 < word.length; i++) {
        const pair = `${word[i]} ${word[i + 1]}`;
        if (ranks.has(pair) && (best === undefined || ranks.get(pair)! < ranks.get(best)!)) best = pair;
      }
      if (best === undefined) break;
      const [first, second] = best.split(' ');
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === first && word[i + 1] === second) {
          next.push(first + second);
          i++;
        } else next.push(word[i]);
      }
      word = next;
    }
    ids.push(...word.map((piece) => vocab[piece]));
  }
  return ids;
}

/** Readable form, written independently: each UTF-8 character as text (a backslash doubled), each other byte as \\xNN. */
function readable(bytes: number[]): string {
  const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let text = '';
  for (let at = 0; at < bytes.length;) {
    const length = [1, 2, 3, 4].find((length) => {
      try {
        return [...fatal.decode(Uint8Array.from(bytes.slice(at, at + length)))].length === 1;
      } catch {
        return false;
      }
    });
    const char = length && fatal.decode(Uint8Array.from(bytes.slice(at, at + length)));
    text += !char ? `\\x${bytes[at].toString(16).toUpperCase().padStart(2, '0')}` : char === '\\' ? '\\\\' : char;
    at += length ?? 1;
  }
  return text;
}

// ---- random text ----

const PIECES = [
  'the',
  ' king',
  ' queen',
  ' cat',
  ' cats',
  ' tower',
  ' plays',
  ' the',
  ' and',
  ' of',
  ' ',
  '  ',
  '\n',
  '.',
  ',',
  "'s",
  ' Zoë',
  ' naïve',
  ' 🎉',
  '👩‍👩‍👧',
  ' 世界',
  ' 你好',
  ' שלום',
  ' مرحبا',
  '\u200b',
  '\u200d',
  '\u202e',
  '\ufeff',
  'e\u0301',
  '\\',
  '\\x41',
  '𝔘',
  ' 123',
  '\t',
  '\ud800',
  '\udfff',
  '\ud83d',
  '\u{10ffff}',
  '\0',
];
const randomText = (pieces: number): string => Array.from({ length: pieces }, () => pick(PIECES)).join('');
const WORDS = [
  'the',
  'king',
  'queen',
  'cat',
  'cats',
  'dog',
  'dogs',
  'tall',
  'old',
  'tower',
  'plays',
  'is',
  'a',
  'mole',
  'aaa',
  'fluffy',
  'blue',
  'creature',
  'prince',
  'princess',
  'garden',
  'tunnel',
  'Paris',
  "king's",
];
const randomSentences = (words: number): string =>
  Array.from({ length: words }, (_, i) => (i % 9 === 8 ? '.\n' : ' ') + pick(WORDS)).join('') + '.';

describe('BPE tokenizer', () => {
  it('round-trips random Unicode byte-exactly, lone surrogates becoming U+FFFD as TextEncoder makes them', () => {
    const bpe = BpeTokenizer.train(randomText(3000), 400);
    expect(bpe.vocab).to.have.length(400);
    for (let trial = 0; trial < 200; trial++) {
      const text = randomText(randomInt(0, 40));
      const { ids, unknown } = bpe.encodeWithReport(text);
      expect(unknown).to.deep.equal([]);
      expect(bpe.decode(ids), JSON.stringify(text)).to.equal(wellFormed(text));
      if (!/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) expect(bpe.decode(ids)).to.equal(text);
    }
  });

  it('learns the merges of a slow reference implementation, with its counts and corpus sizes', () => {
    for (const vocabSize of [64, 80, 257, 320]) {
      const text = randomSentences(600) + (vocabSize > 256 ? randomText(100) : '');
      const expected = referenceTrain(text, vocabSize);
      const steps: MergeStep[] = [];
      const bpe = BpeTokenizer.train(text, vocabSize, (step) => steps.push(step));
      expect(bpe.vocab).to.deep.equal(
        expected.tokens.map((bytes, id) => (vocabSize <= 256 && id === 0 ? UNKNOWN_TOKEN : readable(bytes))),
      );
      expect(steps.map(({ left, right, count, corpusTokens }) => ({ left, right, count, corpusTokens }))).to.deep.equal(
        expected.merges.map(({ left, right, count, corpusTokens }) => ({
          left: readable(left),
          right: readable(right),
          count,
          corpusTokens,
        })),
      );
      expect(steps.map((step) => step.rank)).to.deep.equal(steps.map((_, rank) => rank));
      expect(steps.map((step) => step.token)).to.deep.equal(
        expected.merges.map(({ left, right }) => readable([...left, ...right])),
      );
      expect(bpe.toJSON().merges).to.deep.equal(steps.map(({ left, right }) => [left, right]));
      expect(bpe.encode(text)).to.deep.equal(expected.encoded);
      expect(steps.at(-1)!.corpusTokens).to.be.below(BpeTokenizer.corpusBytes(text));
    }
  });

  it('keeps a word with its leading space: " king" is one token once merged', () => {
    const bpe = BpeTokenizer.train(randomSentences(2000) + ' the king.'.repeat(100), 300);
    const pieces = (text: string) => bpe.encode(text).map((id) => bpe.token(id));
    expect(pieces(' king')).to.deep.equal([' king']);
    expect(pieces('the king.').slice(-2)).to.deep.equal([' king', '.']);
  });

  it('writes bytes that are not UTF-8 as \\xNN and a backslash as \\\\', () => {
    const bpe = BpeTokenizer.train('é\\ x '.repeat(40), 258);
    expect(bpe.token(0xc3)).to.equal('\\xC3');
    expect(bpe.token(0x5c)).to.equal('\\\\');
    expect(bpe.token(0x41)).to.equal('A');
    for (let trial = 0; trial < 200; trial++) {
      const bytes = Array.from({ length: randomInt(2, 8) }, () => pick([randomInt(0, 256), ...bytesOf('é€🎉\\')]));
      // The reference's form is the one the tokenizer accepts, and it reads back to the same bytes.
      const withToken = new BpeTokenizer([...bpe.vocab.slice(0, 256), readable(bytes)], []);
      expect(withToken.decode([256])).to.equal(new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(bytes)));
    }
    expect(bpe.vocab).to.include('é');
    expect(bpe.token(-1)).to.equal(UNKNOWN_TOKEN);
    expect(bpe.token(9999)).to.equal(UNKNOWN_TOKEN);
  });

  it('reads characters whose bytes a small vocabulary lacks as the unknown token, never crashing', () => {
    const bpe = BpeTokenizer.train(randomSentences(400), 64);
    expect(bpe.token(UNKNOWN_ID)).to.equal(UNKNOWN_TOKEN);
    const { ids, unknown } = bpe.encodeWithReport(' king é🎉 queen\ud800');
    expect(unknown).to.deep.equal(['é', '🎉', '\ud800']);
    expect(ids.filter((id) => id === UNKNOWN_ID)).to.have.length(3);
    expect(bpe.decode(ids)).to.equal(' king \ufffd\ufffd queen\ufffd');
    for (let trial = 0; trial < 50; trial++) {
      const text = randomText(20);
      expect(bpe.decode(bpe.encode(text))).to.be.a('string');
    }
  });

  it('encodes a chunk of 200,000 characters (one word, no spaces) and decodes it back', () => {
    const bpe = BpeTokenizer.train(randomSentences(300), 300);
    const word = Array.from({ length: 200_000 }, () => pick(['k', 'i', 'n', 'g', 'é'])).join('');
    expect(bpe.decode(bpe.encode(word))).to.equal(word);
  });

  it('decodes any list of ids without throwing', () => {
    const bpe = BpeTokenizer.train(randomSentences(300), 300);
    for (let trial = 0; trial < 100; trial++) {
      const ids = Array.from({ length: randomInt(0, 20) }, () => pick([randomInt(-5, 400), NaN, 1.5, Infinity, 2 ** 40]));
      const text = bpe.decode(ids);
      expect(text).to.equal(wellFormed(text));
    }
    // Decoded one id at a time, a character split across tokens comes with its last byte.
    const nextText = bpe.streamDecoder();
    expect([...bytesOf('a€'), ...bytesOf('🎉')].map(nextText)).to.deep.equal(['a', '', '', '€', '', '', '', '🎉']);
    for (let trial = 0; trial < 50; trial++) {
      const text = randomText(randomInt(0, 20));
      const ids = bpe.encode(text);
      expect(ids.map(bpe.streamDecoder()).join('')).to.equal(bpe.decode(ids));
    }
    // A multi-byte character split across tokens comes out whole when decoded together.
    const euro = bytesOf('€');
    expect(bpe.decode(euro)).to.equal('€');
    expect(bpe.decode(euro.slice(0, 2))).to.equal('\ufffd');
  });

  it('says clearly when the corpus cannot fill the vocabulary or the size is out of range', () => {
    expect(() => BpeTokenizer.train('abcabc', 300)).to.throw(/too small for 300 tokens.*choose at most 258 tokens/);
    expect(() => BpeTokenizer.train('ab', 64)).to.throw(/too small for 64 tokens.*choose a longer corpus/);
    expect(() => BpeTokenizer.train('x', 63)).to.throw(/from 64 to 4096/);
    expect(() => BpeTokenizer.train('x', 4097)).to.throw(/from 64 to 4096/);
    expect(() => BpeTokenizer.train('x', 100.5)).to.throw(/whole number/);
    expect(() => BpeTokenizer.train(randomText(2000), 64)).to.throw(/uses \d+ different bytes: choose at least \d+ tokens/);
  });

  it('round-trips through JSON, and tokenizerFromJSON refuses a broken vocabulary or merge by index and excerpt', () => {
    const bpe = BpeTokenizer.train(randomSentences(500) + randomText(50), 300);
    const json = JSON.parse(JSON.stringify(bpe.toJSON()));
    const again = tokenizerFromJSON(json);
    expect(again.type).to.equal('bpe');
    const sample = randomText(50);
    expect(again.encode(sample)).to.deep.equal(bpe.encode(sample));

    const broken = (change: (copy: { vocab: unknown[]; merges: unknown[] }) => void) => {
      const copy = structuredClone(json);
      change(copy);
      return () => tokenizerFromJSON(copy);
    };
    expect(broken((c) => (c.vocab[5] = 7))).to.throw(/token 5 is not a string: 7/);
    expect(broken((c) => (c.vocab[6] = '\\q'))).to.throw(/token 6 is not bytes in readable form.*\\q/);
    expect(broken((c) => (c.vocab[7] = '\\x41'))).to.throw(/token 7 is not bytes/);
    expect(broken((c) => (c.vocab[8] = ''))).to.throw(/token 8 is empty/);
    expect(broken((c) => (c.vocab[9] = c.vocab[10]))).to.throw(/appears twice/);
    expect(broken((c) => (c.vocab = c.vocab.slice(1)))).to.throw(/must have all 256 bytes/);
    expect(broken((c) => (c.merges[3] = ['zz', 'q']))).to.throw(/merge 3 joins a token that is not in the vocabulary.*zz/);
    expect(broken((c) => (c.merges[4] = ['q', 'z']))).to.throw(/merge 4 makes "qz", which is not in the vocabulary/);
    expect(broken((c) => (c.merges[2] = 'ab'))).to.throw(/merge 2 is not a pair/);
    expect(() => tokenizerFromJSON({ type: 'bpe', vocab: [] })).to.throw(/"type":"bpe"/);
    expect(() => tokenizerFromJSON({ type: 'words' })).to.throw(/"type":"char".*"type":"bpe"/);
    expect(() => tokenizerFromJSON(null)).to.throw(/tokenizer must be/);
    expect(tokenizerFromJSON({ type: 'char', vocab: [UNKNOWN_TOKEN, 'a'] }).type).to.equal('char');
  });

  it("loads GPT-2's vocab.json and merges.txt and encodes as GPT-2's own algorithm does", () => {
    const byteChar = bytesToUnicode();
    const mapped = (text: string) =>
      bytesOf(text)
        .map((b) => byteChar.get(b)!)
        .join('');
    const vocab: Record<string, number> = {};
    for (const char of byteChar.values()) vocab[char] = Object.keys(vocab).length;
    const textPairs = [
      [' ', 't'],
      ['h', 'e'],
      [' t', 'he'],
      [' ', 'k'],
      ['i', 'n'],
      ['in', 'g'],
      [' k', 'ing'],
      [' ', 'q'],
      ['u', 'e'],
      [' q', 'ue'],
      ['e', 'n'],
      [' que', 'en'],
      [' ', 'ä'],
      ['ä', 'ä'],
      ['\n', '\n'],
    ];
    // ä is two bytes: its own merge comes first.
    const mergeLines = [
      `${mapped('ä')[0]} ${mapped('ä')[1]}`,
      ...textPairs.map(([left, right]) => `${mapped(left)} ${mapped(right)}`),
    ];
    for (const line of mergeLines) vocab[line.replace(' ', '')] ??= Object.keys(vocab).length;
    vocab['<|endoftext|>'] = Object.keys(vocab).length;
    const mergesTxt = '#version: 0.2\n' + mergeLines.join('\n') + '\n';
    const bpe = BpeTokenizer.fromGpt2(vocab, mergesTxt);
    expect(bpe.size).to.equal(Object.keys(vocab).length);
    expect(bpe.token(vocab['Ġking'])).to.equal(' king');
    expect(bpe.token(vocab['<|endoftext|>'])).to.equal('<|endoftext|>');
    expect(bpe.token(vocab[mapped('ä')[0]])).to.equal('\\xC3');
    const pieces = [' the', ' king', ' queen', 'the', 'ing', ' ä', 'ää', '\n\n', 'en', ' 🎉', 'x', ' '];
    for (let trial = 0; trial < 100; trial++) {
      const text = Array.from({ length: randomInt(0, 15) }, () => pick(pieces)).join('');
      const expected = referenceGpt2Encode(text, vocab, mergeLines);
      expect(bpe.encode(text), JSON.stringify(text)).to.deep.equal(expected);
      expect(bpe.decode(expected)).to.equal(text);
    }
    expect(() => BpeTokenizer.fromGpt2({ a: 0, b: 0 }, '')).to.throw(/vocab.json: the ids must be 0 to 1/);
    expect(() => BpeTokenizer.fromGpt2(vocab, '#version: 0.2\nĠ t x\n')).to.throw(/merges.txt line 2 is not "left right"/);
  });
});
