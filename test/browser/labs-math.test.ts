import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { nextTokenProbabilities } from '../../workers/engine/sampling.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import { factMlp } from '../../workers/labs/fact-mlp.ts';
import { activeModelCount, knownConfigs, parameterBreakdown } from '../../workers/labs/parameters.ts';
import { modelLogits, sampleCounts, softmax } from '../../workers/labs/softmax.ts';
import { packVectors, randomAngles } from '../../workers/labs/superposition.ts';
import { DEFAULT_PACKING, defaultFactMlp, type FactMlpSetup, type PackingFrame } from '../../workers/api/labs.ts';
import { expectClose, randomArray, randomizeParameters, refForward } from './engine-reference.ts';

const random = new Random(8_008);
const randomLogits = (length: number): number[] => Array.from(randomArray(random, length, 3));
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** softmax(logits / T) straight from the definition, in float64. */
function referenceSoftmax(logits: readonly number[], temperature: number): number[] {
  const scaled = logits.map((x) => x / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((x) => Math.exp(x - max));
  return exps.map((e) => e / sum(exps));
}

describe('softmax lab', () => {
  it("equals the engine's sampling distribution and a float64 softmax for random logits and temperatures", () => {
    for (let trial = 0; trial < 20; trial++) {
      const logits = randomLogits(2 + random.int(30));
      const temperature = 0.05 + 2 * random.uniform();
      const result = softmax(logits, temperature);
      expectClose(result.probs, nextTokenProbabilities(logits, { temperature }), 0, 1e-6);
      expectClose(result.probs, referenceSoftmax(logits, temperature), 0, 1e-6);
      expectClose(
        result.scaled,
        logits.map((x) => x / temperature),
        1e-12,
      );
      expectClose(
        result.exps.map((e) => e / result.sum),
        result.probs,
        0,
        1e-6,
      );
      expect(Math.max(...result.exps)).to.equal(1); // shifted by the largest
    }
  });

  it('puts all the weight on the largest logit at T = 0', () => {
    const logits = randomLogits(12);
    const top = logits.indexOf(Math.max(...logits));
    const { probs, exps, sum: total, scaled } = softmax(logits, 0);
    expect(probs).to.deep.equal(logits.map((_, i) => (i === top ? 1 : 0)));
    expect(exps).to.deep.equal(probs);
    expect(total).to.equal(1);
    expect(scaled.filter(Number.isFinite)).to.deep.equal([logits[top]]);
    expect(sampleCounts(logits, 0, 500, 3)).to.deep.equal(logits.map((_, i) => (i === top ? 500 : 0)));
  });

  it('samples reproducibly with a seed, differently with another, converging to the probabilities', () => {
    const logits = randomLogits(8);
    const temperature = 0.7 + random.uniform();
    const draws = 100_000;
    const counts = sampleCounts(logits, temperature, draws, 42);
    expect(sampleCounts(logits, temperature, draws, 42)).to.deep.equal(counts);
    expect(sampleCounts(logits, temperature, draws, 43)).not.to.deep.equal(counts);
    expect(sum(counts)).to.equal(draws);
    const probs = referenceSoftmax(logits, temperature);
    // One draw's frequency has standard deviation ≤ 0.5/√draws ≈ 0.0016: 0.008 is five of them.
    const worst = Math.max(...counts.map((n, i) => Math.abs(n / draws - probs[i])));
    expect(worst).to.be.lessThan(0.008);
    expect(() => sampleCounts(logits, 1, -1, 1)).to.throw(/draws/);
  });

  it("returns the model's largest next-token logits, largest first", () => {
    const tokenizer = CharTokenizer.fromText('the cat sat on a mat');
    const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, tied: false };
    const params = randomizeParameters(createParameters(config), random, 0.3);
    const ids = tokenizer.encode('a cat sat on');
    const { tokens, logits } = modelLogits(params, tokenizer, ids, 5);
    // The model reads the last blockSize tokens.
    const reference = refForward(params, ids.slice(-8)).logits.at(-1)!;
    const expected = reference
      .map((logit, id) => ({ logit, id }))
      .sort((a, b) => b.logit - a.logit)
      .slice(0, 5);
    expect(tokens).to.deep.equal(expected.map(({ id }) => tokenizer.token(id)));
    expectClose(
      logits,
      expected.map(({ logit }) => logit),
      1e-4,
      1e-5,
    );
  });
});

describe('parameter lab', () => {
  const gpt3 = knownConfigs().find(({ id }) => id === 'gpt3-175b')!;

  it('lists GPT-2 small to XL and GPT-3 175B', () => {
    expect(knownConfigs().map(({ id }) => id)).to.deep.equal(['gpt2-small', 'gpt2-medium', 'gpt2-large', 'gpt2-xl', 'gpt3-175b']);
    expect(gpt3.config).to.include({ nLayer: 96, nHead: 96, nEmbd: 12288, vocabSize: 50257, blockSize: 2048 });
  });

  it("counts GPT-3 175B as the foundation issue does, with the formulas' numbers", () => {
    const breakdown = parameterBreakdown(gpt3.config);
    const counts = Object.fromEntries(breakdown.rows.map(({ category, count }) => [category, count]));
    expect(counts).to.deep.equal({
      embedding: 617_558_016,
      query: 14_495_514_624,
      key: 14_495_514_624,
      value: 14_495_514_624,
      output: 14_495_514_624,
      mlpUp: 57_982_058_496,
      mlpDown: 57_982_058_496,
      unembedding: 617_558_016,
    });
    expect(breakdown.categoriesTotal).to.equal(175_181_291_520);
    const formula = (category: string) => breakdown.rows.find((row) => row.category === category)!.formula;
    expect(formula('query')).to.equal('96 layers × 96 heads × 128 × 12,288');
    expect(formula('embedding')).to.equal('50,257 tokens × 12,288');
    expect(formula('mlpUp')).to.equal('96 layers × 12,288 × 49,152');
    for (const row of breakdown.rows) {
      const product = row.formula
        .match(/[\d,]+/g)!
        .map((n) => Number(n.replaceAll(',', '')))
        .reduce((a, b) => a * b, 1);
      expect(product, row.category).to.equal(row.count);
    }
    const share = (...categories: string[]) =>
      sum(breakdown.rows.filter((row) => categories.includes(row.category)).map((row) => row.share));
    expect(share('query', 'key', 'value', 'output')).to.be.closeTo(1 / 3, 0.01);
    expect(share('mlpUp', 'mlpDown')).to.be.closeTo(2 / 3, 0.01);
    expect(sum(breakdown.rows.map((row) => row.share))).to.be.closeTo(1, 1e-12);
    const { total } = breakdown.counts;
    expect(breakdown.memory).to.deep.equal({ float32: total * 4, float16: total * 2, int4: total / 2 });
    expect(breakdown.attentionPerHead).to.equal(2048 * 2048);
    expect(breakdown.attentionPerModel).to.equal(96 * 96 * 2048 * 2048);
  });

  it('gives a tied model no unembedding of its own', () => {
    const small = parameterBreakdown(knownConfigs()[0].config);
    const unembedding = small.rows.find((row) => row.category === 'unembedding')!;
    expect(unembedding.count).to.equal(0);
    expect(small.categoriesTotal).to.equal(sum(small.rows.map((row) => row.count)));
  });

  it('counts random models exactly as long as their parameter buffers', () => {
    for (let trial = 0; trial < 10; trial++) {
      const nHead = 1 + random.int(4);
      const config: GPTConfig = {
        vocabSize: 2 + random.int(100),
        blockSize: 1 + random.int(64),
        nLayer: 1 + random.int(4),
        nHead,
        nEmbd: nHead * (1 + random.int(8)),
        tied: random.uniform() < 0.5,
      };
      const params = createParameters(config);
      const { breakdown, bufferLength } = activeModelCount(params);
      expect(bufferLength).to.equal(params.data.length);
      expect(breakdown.counts.total).to.equal(bufferLength);
      expect(breakdown.config).to.deep.equal(config);
    }
  });
});

/** Float64 angles, in degrees, between every pair of the same Gaussian vectors the lab draws. */
function referenceAngles(dimension: number, count: number, seed: number): number[] {
  const values = new Float32Array(dimension * count);
  new Random(seed).fillNormal(values, 1);
  const row = (i: number) => Array.from(values.subarray(i * dimension, (i + 1) * dimension));
  const dot = (a: number[], b: number[]) => sum(a.map((x, k) => x * b[k]));
  const angles: number[] = [];
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const [a, b] = [row(i), row(j)];
      angles.push((Math.acos(dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b))) * 180) / Math.PI);
    }
  }
  return angles;
}

describe('superposition lab', () => {
  it('matches a float64 reference of the angles between the same random vectors', () => {
    const angles = referenceAngles(7, 30, 11);
    const histogram = randomAngles(7, 30, 11, 18);
    expect(histogram.edges).to.have.length(19);
    expect(histogram.edges[0]).to.equal(0);
    expect(histogram.edges[18]).to.equal(180);
    expect(histogram.pairs).to.equal(435);
    expect(histogram.counts).to.deep.equal(
      histogram.edges.slice(0, -1).map((low) => angles.filter((a) => a >= low && a < low + 10).length),
    );
    const mean = sum(angles) / angles.length;
    expect(histogram.meanDegrees).to.be.closeTo(mean, 1e-4);
    expect(histogram.spreadDegrees).to.be.closeTo(Math.sqrt(sum(angles.map((a) => (a - mean) ** 2)) / angles.length), 1e-4);
    expect(histogram.maxDeviation).to.be.closeTo(Math.max(...angles.map((a) => Math.abs(a - 90))), 1e-4);
  });

  it('bunches random vectors near 90° as the dimension grows', () => {
    const thousand = randomAngles(1000, 200, 5, 180);
    expect(thousand.meanDegrees).to.be.closeTo(90, 1);
    const spreads = [2, 10, 100, 1000, 10_000].map((d) => randomAngles(d, 100, 6 + d, 90).spreadDegrees);
    for (let i = 1; i < spreads.length; i++) expect(spreads[i], `spreads ${spreads}`).to.be.lessThan(spreads[i - 1]);
    // About 1 radian/√d: 57.3°/√1000 ≈ 1.8°.
    expect(thousand.spreadDegrees).to.be.closeTo(180 / Math.PI / Math.sqrt(1000), 0.2);
  });

  it('measures every pair of 200 vectors of 10,000 dimensions', () => {
    const histogram = randomAngles(10_000, 200, 9, 90);
    expect(histogram.pairs).to.equal(19_900);
  });

  it('refuses shapes outside the lab', () => {
    expect(() => randomAngles(1, 10, 1, 10)).to.throw(/dimension/);
    expect(() => randomAngles(10, 1, 1, 10)).to.throw(/number of vectors/);
  });

  it('packs three times as many vectors as dimensions to within 90° ± 8°, the worst pair improving steadily', async () => {
    const frames: PackingFrame[] = [];
    let otherTasks = 0;
    const ticker = setInterval(() => otherTasks++, 0);
    const last = await packVectors(DEFAULT_PACKING, (frame) => frames.push(frame)).finally(() => clearInterval(ticker));
    expect(otherTasks, 'the worker keeps answering').to.be.greaterThan(10);
    expect(frames.map((f) => f.step).slice(0, 3)).to.deep.equal([0, 4, 8]);
    expect(frames).to.have.length(51);
    expect(frames.at(-1)).to.equal(last);
    expect(last.step).to.equal(200);
    expect(sum(last.histogram.counts)).to.equal((192 * 191) / 2);
    const worst = frames.map((f) => f.histogram.maxDeviation);
    // Stated in DEFAULT_PACKING: 27.5° → 8.9°, 99.5% of pairs within ε (random vectors: 73%).
    expect(worst[0]).to.be.greaterThan(20);
    expect(frames[0].withinTolerance).to.be.lessThan(0.8);
    expect(last.histogram.maxDeviation).to.be.lessThan(9.2);
    expect(last.withinTolerance).to.be.greaterThan(0.99);
    const rises = worst.slice(1).map((w, i) => w - worst[i]);
    expect(Math.max(...rises), `largest deviation per frame: ${worst.map((w) => w.toFixed(2))}`).to.be.lessThan(0.3);
  });

  it('brings the worst pair closer to 90° for other shapes too', async () => {
    const request = {
      dimension: 8 + random.int(16),
      count: 30 + random.int(30),
      steps: 60,
      tolerance: 10,
      seed: random.int(1000),
    };
    const frames: PackingFrame[] = [];
    const last = await packVectors(request, (frame) => frames.push(frame));
    // The share within ε need not grow: with few dimensions, squeezing the worst pairs spreads the rest.
    expect(last.histogram.maxDeviation, JSON.stringify(request)).to.be.lessThan(frames[0].histogram.maxDeviation);
    await packVectors({ ...request, tolerance: 0 }, () => {}).then(
      () => expect.fail('ε = 0 accepted'),
      (error: Error) => expect(error.message).to.match(/ε/),
    );
  });
});

/** An orthonormal basis of `dimension` random directions (Gram–Schmidt on Gaussian vectors). */
function randomOrthonormal(dimension: number): number[][] {
  const basis: number[][] = [];
  while (basis.length < dimension) {
    let v = Array.from(randomArray(random, dimension), Number);
    for (const b of basis) {
      const along = sum(v.map((x, k) => x * b[k]));
      v = v.map((x, k) => x - along * b[k]);
    }
    const length = Math.sqrt(sum(v.map((x) => x * x)));
    basis.push(v.map((x) => x / length));
  }
  return basis;
}

describe('fact MLP lab', () => {
  const cases = [
    { michael: false, jordan: false },
    { michael: true, jordan: false },
    { michael: false, jordan: true },
    { michael: true, jordan: true },
  ];

  it('adds basketball only when both Michael and Jordan are in the input, with ReLU and GELU', () => {
    for (const activation of ['relu', 'gelu'] as const) {
      for (const input of cases) {
        const setup = { ...defaultFactMlp(), input, activation };
        const result = factMlp(setup);
        const both = input.michael && input.jordan;
        expect(result.basketball > 0.5, `${activation} ${JSON.stringify(input)}: ${result.basketball}`).to.equal(both);
        expect(result.pre).to.equal(Number(input.michael) + Number(input.jordan) - 1);
        expectClose(
          result.residual,
          result.input.map((x, i) => x + result.output[i]),
          1e-12,
        );
      }
    }
    const fired = factMlp(defaultFactMlp());
    expect(fired.post).to.equal(1);
    expect(fired.output).to.deep.equal([0, 0, 1, 0, 0, 0]);
  });

  it('is not fooled by other directions mixed into the names', () => {
    const dimension = 10;
    const [michael, jordan, basketball, ...others] = randomOrthonormal(dimension);
    const noise = () => others.reduce((v, o) => v.map((x, k) => x + 0.4 * random.normal() * o[k]), new Array(dimension).fill(0));
    const plus = (a: number[], b: number[]) => a.map((x, k) => x + b[k]);
    for (const activation of ['relu', 'gelu'] as const) {
      for (const input of cases) {
        const setup: FactMlpSetup = {
          directions: { michael: plus(michael, noise()), jordan: plus(jordan, noise()), basketball },
          input,
          up: plus(michael, jordan),
          bias: -1,
          down: basketball,
          activation,
        };
        const { basketball: added } = factMlp(setup);
        expect(added > 0.5, `${activation} ${JSON.stringify(input)}: ${added}`).to.equal(input.michael && input.jordan);
      }
    }
  });

  it('refuses vectors of different lengths', () => {
    expect(() => factMlp({ ...defaultFactMlp(), up: [1, 1] })).to.throw(/up has 2 numbers/);
  });
});
