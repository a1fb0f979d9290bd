import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { generate } from '../../workers/engine/generate.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { argmax, nextTokenProbabilities, sampleFrom, softmax } from '../../workers/engine/sampling.ts';
import { expectClose, randomArray, randomizeParameters, randomTokens, refForward } from './engine-reference.ts';

const random = new Random(31_337);

const nonzeroIds = (probs: ArrayLike<number>): number[] => Array.from(probs).flatMap((p, i) => (p > 0 ? [i] : []));

const sum = (values: ArrayLike<number>): number => Array.from(values).reduce((a, b) => a + b, 0);

describe('softmax', () => {
  it('turns logits [0, ln 2, ln 3] into [1/6, 2/6, 3/6]', () => {
    expectClose(softmax([0, Math.log(2), Math.log(3)]), [1 / 6, 2 / 6, 3 / 6], 1e-6);
  });

  it('divides by the temperature: at T = 2 the weights are √1, √2, √3', () => {
    const total = 1 + Math.SQRT2 + Math.sqrt(3);
    expectClose(softmax([0, Math.log(2), Math.log(3)], 2), [1 / total, Math.SQRT2 / total, Math.sqrt(3) / total], 1e-6);
  });

  it('puts everything on the argmax at temperature 0, and approaches that as T → 0', () => {
    const logits = [0.3, 2.5, -1, 2.4, 0];
    expectClose(softmax(logits, 0), [0, 1, 0, 0, 0], 0);
    const nearlyCold = softmax(logits, 0.005);
    expect(nearlyCold[1]).to.be.greaterThan(0.999);
  });

  it('does not overflow on huge logits', () => {
    expectClose(softmax([1000, 1000 + Math.log(3)]), [0.25, 0.75], 1e-6);
  });

  it('refuses a negative or non-finite temperature', () => {
    expect(() => softmax([1, 2], -1)).to.throw(/temperature/);
    expect(() => softmax([1, 2], Number.NaN)).to.throw(/temperature/);
    expect(() => softmax([1, 2], Infinity)).to.throw(/temperature/);
  });
});

describe('argmax', () => {
  it('finds the largest value, the lowest index among ties', () => {
    expect(argmax([0.1, 0.7, -3, 0.7])).to.equal(1);
    expect(argmax([-5, -2, -9])).to.equal(1);
  });
});

describe('nextTokenProbabilities', () => {
  // p = [0.5, 0.25, 0.15, 0.1] given as logits log p
  const logits = [0.5, 0.25, 0.15, 0.1].map(Math.log);

  it('is the plain softmax with no truncation', () => {
    expectClose(nextTokenProbabilities(logits, { temperature: 1 }), [0.5, 0.25, 0.15, 0.1], 1e-6);
    expectClose(nextTokenProbabilities(logits, { temperature: 1, topK: 0, topP: 1 }), [0.5, 0.25, 0.15, 0.1], 1e-6);
  });

  it('top-k leaves exactly the k most likely tokens, renormalised', () => {
    const many = randomArray(random, 50, 2);
    for (const k of [1, 3, 10, 49]) {
      const probs = nextTokenProbabilities(many, { temperature: 1, topK: k });
      const kept = nonzeroIds(probs);
      expect(kept).to.have.length(k);
      const full = softmax(many);
      const threshold = Math.min(...kept.map((id) => full[id]!));
      for (let id = 0; id < 50; id++) if (!kept.includes(id)) expect(full[id]).to.be.at.most(threshold);
      const keptMass = sum(kept.map((id) => full[id]!));
      for (const id of kept) expect(probs[id]).to.be.closeTo(full[id]! / keptMass, 1e-6);
    }
  });

  it('top-k breaks ties by id', () => {
    const probs = nextTokenProbabilities([1, 2, 2, 2, 0], { temperature: 1, topK: 2 });
    expect(nonzeroIds(probs)).to.deep.equal([1, 2]);
    expectClose(probs, [0, 0.5, 0.5, 0, 0], 1e-6);
  });

  it('top-p keeps the smallest most-likely prefix with mass ≥ p, renormalised', () => {
    const cases: [number, number[]][] = [
      [0.5, [1, 0, 0, 0]],
      [0.6, [2 / 3, 1 / 3, 0, 0]],
      [0.75, [2 / 3, 1 / 3, 0, 0]],
      [0.76, [0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0]],
      [0.95, [0.5, 0.25, 0.15, 0.1]],
    ];
    for (const [p, expected] of cases)
      expectClose(nextTokenProbabilities(logits, { temperature: 1, topP: p }), expected, 1e-5, 1e-7);
  });

  it('top-p always keeps at least one token', () => {
    expectClose(nextTokenProbabilities(logits, { temperature: 1, topP: 0 }), [1, 0, 0, 0], 0);
  });

  it('applies top-k before top-p', () => {
    // top-k 3 → [0.5, 0.25, 0.15]/0.9 = [0.556, 0.278, 0.167]; top-p 0.8 then needs the first two (0.833).
    expectClose(nextTokenProbabilities(logits, { temperature: 1, topK: 3, topP: 0.8 }), [2 / 3, 1 / 3, 0, 0], 1e-5, 1e-7);
  });

  it('applies the temperature first', () => {
    const hot = nextTokenProbabilities(logits, { temperature: 2, topK: 2 });
    const weights = [Math.sqrt(0.5), Math.sqrt(0.25)];
    expectClose(hot, [weights[0]! / (weights[0]! + weights[1]!), weights[1]! / (weights[0]! + weights[1]!), 0, 0], 1e-5, 1e-7);
  });

  it('refuses invalid top-k and top-p', () => {
    expect(() => nextTokenProbabilities(logits, { temperature: 1, topK: -1 })).to.throw(/top-k/);
    expect(() => nextTokenProbabilities(logits, { temperature: 1, topK: 1.5 })).to.throw(/top-k/);
    expect(() => nextTokenProbabilities(logits, { temperature: 1, topP: 1.5 })).to.throw(/top-p/);
  });
});

describe('sampleFrom', () => {
  it('matches the distribution over many draws (chi-square)', () => {
    const probs = [0.05, 0.3, 0, 0.15, 0.4, 0.1];
    const draws = 60_000;
    const counts = new Array<number>(probs.length).fill(0);
    const rng = new Random(99);
    for (let i = 0; i < draws; i++) counts[sampleFrom(probs, rng)]!++;
    expect(counts[2]).to.equal(0);
    let chiSquare = 0;
    probs.forEach((p, i) => {
      if (p > 0) chiSquare += (counts[i]! - draws * p) ** 2 / (draws * p);
    });
    // 4 degrees of freedom: P(χ² > 23.5) ≈ 1e-4
    expect(chiSquare).to.be.lessThan(23.5);
  });

  it('is reproducible with the same seed and differs with another', () => {
    const probs = softmax(randomArray(random, 20));
    const draw = (seed: number) => {
      const rng = new Random(seed);
      return Array.from({ length: 100 }, () => sampleFrom(probs, rng));
    };
    expect(draw(4)).to.deep.equal(draw(4));
    expect(draw(4)).to.not.deep.equal(draw(5));
  });

  it('refuses an all-zero distribution', () => {
    expect(() => sampleFrom([0, 0], new Random(1))).to.throw(/zero/);
  });
});

describe('generate (sampling)', () => {
  const config: GPTConfig = { vocabSize: 17, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, tied: true };
  const params = randomizeParameters(createParameters(config), random);
  const prompt = randomTokens(random, 4, config.vocabSize);
  const ids = (seed: number, options: { temperature: number; topK?: number; topP?: number } = { temperature: 1 }) =>
    [...generate(params, prompt, { maxTokens: 24, seed, ...options })].map((t) => t.id);

  it('is greedy at temperature 0: each token is the argmax of the model', () => {
    const context = [...prompt];
    for (const { id, probs } of generate(params, prompt, { maxTokens: 20, seed: 1, temperature: 0 })) {
      const logits = refForward(params, context.slice(-config.blockSize)).logits.at(-1)!;
      expect(id).to.equal(logits.indexOf(Math.max(...logits)));
      expect(probs[id]).to.equal(1);
      context.push(id);
    }
  });

  it('gives the same tokens for the same seed and different ones for another seed', () => {
    expect(ids(11)).to.deep.equal(ids(11));
    expect(ids(11)).to.not.deep.equal(ids(12));
  });

  it('draws only tokens that survive top-k', () => {
    for (const { id, probs } of generate(params, prompt, { maxTokens: 20, seed: 3, temperature: 1.5, topK: 3 })) {
      expect(nonzeroIds(probs)).to.have.length(3);
      expect(probs[id]).to.be.greaterThan(0);
    }
  });
});
