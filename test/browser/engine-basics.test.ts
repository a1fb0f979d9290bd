import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { DEFAULT_CONFIG } from '../../workers/engine/defaults.ts';
import { countParameters, createParameters, initParameters, KNOWN_CONFIGS } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { CharTokenizer, UNKNOWN_ID, UNKNOWN_TOKEN } from '../../workers/engine/tokenizer.ts';

const TIED: GPTConfig = { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 2, tied: true };
const UNTIED: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 3, nHead: 2, nEmbd: 6, tied: false };

function stats(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

describe('countParameters', () => {
  it('reproduces the usual GPT-3 175B breakdown', () => {
    const counts = countParameters(KNOWN_CONFIGS['GPT-3 175B']!);
    expect(counts.embedding).to.equal(617_558_016);
    for (const part of ['query', 'key', 'value', 'output'] as const) expect(counts[part], part).to.equal(14_495_514_624);
    expect(counts.mlpUp).to.equal(57_982_058_496);
    expect(counts.mlpDown).to.equal(57_982_058_496);
    expect(counts.unembedding).to.equal(617_558_016);
    const eight =
      counts.embedding +
      counts.query +
      counts.key +
      counts.value +
      counts.output +
      counts.mlpUp +
      counts.mlpDown +
      counts.unembedding;
    expect(eight).to.equal(175_181_291_520);
  });

  it('counts a tiny tied model by hand', () => {
    // V=5, T=4, C=2, one layer: wte 10, wpe 8, ln1 4, qkv 12+6, attn proj 4+2, ln2 4,
    // MLP up 16+8, MLP down 16+2, final LayerNorm 4 → 96.
    const counts = countParameters(TIED);
    expect(counts).to.include({ embedding: 10, query: 4, key: 4, value: 4, output: 4, mlpUp: 16, mlpDown: 16, unembedding: 0 });
    expect(counts.rest).to.equal(8 + 4 + 6 + 2 + 4 + 8 + 2 + 4);
    expect(counts.total).to.equal(96);
  });

  for (const config of [TIED, UNTIED, DEFAULT_CONFIG]) {
    it(`equals the flat buffer length (V=${config.vocabSize}, L=${config.nLayer}, ${config.tied ? 'tied' : 'untied'})`, () => {
      expect(countParameters(config).total).to.equal(createParameters(config).data.length);
    });
  }

  it('counts the untied unembedding once more', () => {
    expect(countParameters(UNTIED).total - countParameters({ ...UNTIED, tied: true }).total).to.equal(11 * 6);
  });
});

describe('initParameters', () => {
  const config: GPTConfig = { vocabSize: 97, blockSize: 32, nLayer: 4, nHead: 4, nEmbd: 64, tied: false };

  it('gives identical weights for the same seed and different ones for another', () => {
    const a = initParameters(config, 42);
    expect(Array.from(a.data)).to.deep.equal(Array.from(initParameters(config, 42).data));
    expect(a.wte[0]).to.not.equal(initParameters(config, 43).wte[0]);
  });

  it('draws weights with std 0.02 and residual projections with 0.02/√(2L)', () => {
    const params = initParameters(config, 7);
    for (const name of ['wte', 'wpe', 'qkvw', 'fcw', 'lmHead'] as const) {
      const { mean, std } = stats(params[name]);
      expect(Math.abs(mean), name).to.be.lessThan(0.002);
      expect(std, name).to.be.closeTo(0.02, 0.001);
    }
    const residualStd = 0.02 / Math.sqrt(2 * config.nLayer);
    for (const name of ['attprojw', 'fcprojw'] as const)
      expect(stats(params[name]).std, name).to.be.closeTo(residualStd, residualStd * 0.05);
  });

  it('starts biases at 0 and LayerNorm gains at 1', () => {
    const params = initParameters(config, 7);
    for (const name of ['qkvb', 'attprojb', 'fcb', 'fcprojb', 'ln1b', 'ln2b', 'lnfb'] as const) {
      expect(
        params[name].every((v) => v === 0),
        name,
      ).to.equal(true);
    }
    for (const name of ['ln1w', 'ln2w', 'lnfw'] as const)
      expect(
        params[name].every((v) => v === 1),
        name,
      ).to.equal(true);
  });
});

describe('CharTokenizer', () => {
  const tokenizer = CharTokenizer.fromText('hello, world\n');

  it('builds the vocabulary from the text after the unknown token', () => {
    expect(tokenizer.vocab).to.deep.equal([UNKNOWN_TOKEN, '\n', ' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  });

  it('takes a token per code point, as encode splits text, and refuses any other entry by its index', () => {
    const characters = ['\n', 'é', '😀', '\u{10FFFF}', '\uD800'];
    const wide = new CharTokenizer([UNKNOWN_TOKEN, ...characters]);
    const text = characters.join('');
    expect(wide.encode(text)).to.deep.equal([...text].map((_, i) => i + 1));
    const refused: [unknown, string][] = [
      [['abc'], 'is not a string: ["abc"]'],
      [['a'], 'is not a string: ["a"]'],
      [null, 'is not a string: null'],
      [5, 'is not a string: 5'],
      ['', 'is not a single character: ""'],
      ['ab', 'is not a single character: "ab"'],
      ['e\u0301', 'is not a single character: "e\u0301"'],
      ['😀😀', 'is not a single character: "😀😀"'],
    ];
    for (const [entry, problem] of refused) {
      const vocab = [UNKNOWN_TOKEN, 'a', entry, 'b'];
      expect(() => CharTokenizer.fromJSON({ type: 'char', vocab } as never), String(entry)).to.throw(`token 2 ${problem}`);
    }
  });

  it('round-trips text made of known characters', () => {
    const text = 'hello world, low rod\n';
    const ids = tokenizer.encode(text);
    expect(ids).to.have.length(text.length);
    expect(tokenizer.decode(ids)).to.equal(text);
  });

  it('maps unknown characters to id 0 and reports each once', () => {
    const { ids, unknown } = tokenizer.encodeWithReport('hex! hex!');
    expect(ids).to.deep.equal([6, 5, UNKNOWN_ID, UNKNOWN_ID, 2, 6, 5, UNKNOWN_ID, UNKNOWN_ID]);
    expect(unknown).to.deep.equal(['x', '!']);
    expect(tokenizer.decode(ids)).to.equal(`he${UNKNOWN_TOKEN}${UNKNOWN_TOKEN} he${UNKNOWN_TOKEN}${UNKNOWN_TOKEN}`);
  });

  it('survives a JSON round trip', () => {
    const copy = CharTokenizer.fromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    expect(copy.vocab).to.deep.equal(tokenizer.vocab);
  });
});

describe('Random', () => {
  it('repeats its sequence for the same seed and changes it for another', () => {
    const draw = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 20 }, () => random.nextUint32());
    };
    expect(draw(123)).to.deep.equal(draw(123));
    expect(draw(123)).to.not.deep.equal(draw(124));
  });

  it('draws uniform numbers in [0, 1) with mean 1/2 and integers in [0, n)', () => {
    const random = new Random(5);
    const values = Array.from({ length: 50_000 }, () => random.uniform());
    expect(values.every((v) => v >= 0 && v < 1)).to.equal(true);
    expect(stats(values).mean).to.be.closeTo(0.5, 0.005);
    const ints = Array.from({ length: 1000 }, () => random.int(7));
    expect(new Set(ints)).to.deep.equal(new Set([0, 1, 2, 3, 4, 5, 6]));
  });

  it('draws normal numbers with mean ≈ 0 and std ≈ 1', () => {
    const random = new Random(9);
    const { mean, std } = stats(Array.from({ length: 100_000 }, () => random.normal()));
    expect(Math.abs(mean)).to.be.lessThan(0.01);
    expect(std).to.be.closeTo(1, 0.01);
  });
});
