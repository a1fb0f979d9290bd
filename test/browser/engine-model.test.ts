import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { generate } from '../../workers/engine/generate.ts';
import {
  activationShapes,
  crossEntropy,
  forward,
  forwardActivations,
  forwardCached,
  KVCache,
  prefill,
} from '../../workers/engine/model.ts';
import { createParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import {
  expectClose,
  expectCloseToScale,
  flatten,
  randomizeParameters,
  randomTokens,
  refForward,
  refSoftmax,
} from './engine-reference.ts';

const random = new Random(7_000_003);

// Odd sizes on purpose: C = 6 leaves ragged matmul tiles, T = 7 leftover rows.
const TIED: GPTConfig = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 6, tied: true };
const UNTIED: GPTConfig = { vocabSize: 13, blockSize: 9, nLayer: 3, nHead: 3, nEmbd: 12, tied: false };

const randomModel = (config: GPTConfig): ParameterTensors => randomizeParameters(createParameters(config), random);

describe('forward', () => {
  for (const config of [TIED, UNTIED]) {
    it(`matches a plain reference forward pass (${config.tied ? 'tied' : 'untied'})`, () => {
      const params = randomModel(config);
      for (const T of [1, 5, config.blockSize]) {
        const tokens = randomTokens(random, T, config.vocabSize);
        const { logits, capture } = forward(params, tokens);
        expect(capture).to.equal(undefined);
        expect(logits.length).to.equal(T * config.vocabSize);
        expectCloseToScale(logits, flatten(refForward(params, tokens).logits), 1e-4);
      }
    });
  }

  it('keeps each of B sequences separate in forwardActivations', () => {
    const params = randomModel(UNTIED);
    const [B, T, V] = [3, 6, UNTIED.vocabSize];
    const tokens = randomTokens(random, B * T, V);
    const acts = forwardActivations(params, tokens, B, T);
    const shapes = activationShapes(UNTIED, B, T);
    for (const [name, shape] of Object.entries(shapes)) {
      expect(acts[name as keyof typeof shapes].length, name).to.equal(shape.reduce((a, b) => a * b, 1));
    }
    for (let b = 0; b < B; b++) {
      const expected = refForward(params, tokens.slice(b * T, (b + 1) * T)).logits;
      expectCloseToScale(acts.logits.subarray(b * T * V, (b + 1) * T * V), flatten(expected), 1e-4);
    }
  });

  it('refuses empty, too long and out-of-vocabulary input with a clear message', () => {
    const params = randomModel(TIED);
    expect(() => forward(params, [])).to.throw(/at least one token/);
    expect(() => forward(params, new Array(TIED.blockSize + 1).fill(1))).to.throw(/do not fit/);
    expect(() => forward(params, [1, TIED.vocabSize])).to.throw(/outside the vocabulary/);
    expect(() => forward(params, [1, -1])).to.throw(/outside the vocabulary/);
    expect(() => forward(params, [1.5])).to.throw(/outside the vocabulary/);
  });
});

describe('forward with capture', () => {
  const config = UNTIED;
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = config;
  const T = 7;
  const params = randomModel(config);
  const tokens = randomTokens(random, T, V);
  const { logits, capture } = forward(params, tokens, { capture: true });
  const ref = refForward(params, tokens);

  it('returns the same logits as without capture', () => {
    expectClose(logits, forward(params, tokens).logits, 0);
  });

  it('has every documented array at its documented length', () => {
    expect(capture).to.not.equal(undefined);
    expect(capture!.tokenEmbedding.length).to.equal(T * C);
    expect(capture!.positionEmbedding.length).to.equal(T * C);
    expect(capture!.layers.length).to.equal(L);
    for (const layer of capture!.layers) {
      expect(layer.scores.length).to.equal(NH * T * T);
      expect(layer.mask.length).to.equal(NH * T * T);
      expect(layer.mask).to.be.instanceOf(Uint8Array);
      expect(layer.pattern.length).to.equal(NH * T * T);
      expect(layer.mlpPre.length).to.equal(T * 4 * C);
      expect(layer.mlpPost.length).to.equal(T * 4 * C);
      expect(layer.residAfterAttn.length).to.equal(T * C);
      expect(layer.residAfterMlp.length).to.equal(T * C);
    }
  });

  it('gives each array its own buffer, so each can be transferred', () => {
    const buffers = new Set<ArrayBufferLike>([logits.buffer, capture!.tokenEmbedding.buffer, capture!.positionEmbedding.buffer]);
    for (const layer of capture!.layers) for (const array of Object.values(layer)) buffers.add(array.buffer);
    expect(buffers.size).to.equal(3 + 7 * L);
    expect(buffers.has(params.data.buffer)).to.equal(false);
  });

  it('captures the token and position embeddings of the input', () => {
    for (let t = 0; t < T; t++) {
      expectClose(
        capture!.tokenEmbedding.subarray(t * C, (t + 1) * C),
        params.wte.subarray(tokens[t]! * C, (tokens[t]! + 1) * C),
        0,
      );
      expectClose(capture!.positionEmbedding.subarray(t * C, (t + 1) * C), params.wpe.subarray(t * C, (t + 1) * C), 0);
    }
  });

  it('marks exactly the future keys as masked', () => {
    for (const layer of capture!.layers) {
      for (let h = 0; h < NH; h++) {
        for (let q = 0; q < T; q++) {
          for (let k = 0; k < T; k++) expect(layer.mask[(h * T + q) * T + k]).to.equal(k > q ? 1 : 0);
        }
      }
    }
  });

  it('has masked weights exactly 0 and every row summing to 1', () => {
    for (const layer of capture!.layers) {
      for (let row = 0; row < NH * T; row++) {
        let sum = 0;
        for (let k = 0; k < T; k++) {
          const weight = layer.pattern[row * T + k]!;
          if (layer.mask[row * T + k]) expect(weight).to.equal(0);
          else expect(weight).to.be.greaterThan(0);
          sum += weight;
        }
        expect(Math.abs(sum - 1)).to.be.lessThan(1e-6);
      }
    }
  });

  it('has scores q·k/√d for every pair, future ones included, and the pattern their masked softmax', () => {
    capture!.layers.forEach((layer, l) => {
      expectClose(layer.scores, ref.layers[l]!.attention.scores.flat(2), 1e-4, 1e-5);
      expectClose(layer.pattern, ref.layers[l]!.attention.pattern.flat(2), 1e-4, 1e-6);
    });
  });

  it('captures the MLP activations and the residual stream after each sub-block', () => {
    capture!.layers.forEach((layer, l) => {
      const expected = ref.layers[l]!;
      expectCloseToScale(layer.mlpPre, flatten(expected.mlpPre), 1e-5);
      expectCloseToScale(layer.mlpPost, flatten(expected.mlpPost), 1e-5);
      expectCloseToScale(layer.residAfterAttn, flatten(expected.residAfterAttn), 1e-5);
      expectCloseToScale(layer.residAfterMlp, flatten(expected.residAfterMlp), 1e-5);
    });
  });
});

describe('crossEntropy', () => {
  it('is the mean over positions of −log p(target)', () => {
    const params = randomModel(TIED);
    const V = TIED.vocabSize;
    const tokens = randomTokens(random, 6, V);
    const targets = randomTokens(random, 6, V);
    const logits = refForward(params, tokens).logits;
    const expected = logits.reduce((sum, row, t) => sum - Math.log(refSoftmax(row)[targets[t]!]!), 0) / 6;
    const loss = crossEntropy(forward(params, tokens).logits, targets, V);
    expect(Math.abs(loss - expected)).to.be.lessThan(1e-4 * expected);
  });

  it('refuses mismatched sizes and out-of-range targets', () => {
    expect(() => crossEntropy(new Float32Array(6), [0, 1], 4)).to.throw(/logits/);
    expect(() => crossEntropy(new Float32Array(8), [0, 4], 4)).to.throw(/outside the vocabulary/);
  });
});

describe('KV cache', () => {
  for (const config of [TIED, UNTIED]) {
    it(`gives the logits of a full recompute, one token at a time (${config.tied ? 'tied' : 'untied'})`, () => {
      const params = randomModel(config);
      const V = config.vocabSize;
      const tokens = randomTokens(random, config.blockSize, V);
      const full = forward(params, tokens).logits;
      const cache = new KVCache(config);
      tokens.forEach((token, t) => {
        expect(cache.length).to.equal(t);
        expectCloseToScale(forwardCached(params, cache, token), full.subarray(t * V, (t + 1) * V), 1e-5);
      });
      expect(cache.length).to.equal(config.blockSize);
      expect(() => forwardCached(params, cache, 0)).to.throw(/full/);
    });
  }

  it('continues after a prefill as if fed one token at a time', () => {
    const params = randomModel(UNTIED);
    const V = UNTIED.vocabSize;
    const tokens = randomTokens(random, 7, V);
    const full = forward(params, tokens).logits;
    const cache = new KVCache(UNTIED);
    expectCloseToScale(prefill(params, cache, tokens.slice(0, 4)), full.subarray(3 * V, 4 * V), 1e-5);
    expect(cache.length).to.equal(4);
    for (let t = 4; t < 7; t++) {
      expectCloseToScale(forwardCached(params, cache, tokens[t]!), full.subarray(t * V, (t + 1) * V), 1e-5);
    }
    cache.reset();
    expect(cache.length).to.equal(0);
    expectCloseToScale(forwardCached(params, cache, tokens[0]!), full.subarray(0, V), 1e-5);
  });

  it('refuses a cache made for another model shape', () => {
    const params = randomModel(TIED);
    expect(() => forwardCached(params, new KVCache(UNTIED), 0)).to.throw(/different shape/);
  });
});

describe('generate', () => {
  it('draws each token from the distribution of a full recompute, also past blockSize', () => {
    for (const config of [TIED, UNTIED]) {
      const params = randomModel(config);
      const prompt = randomTokens(random, 5, config.vocabSize);
      // What the model should see: the prompt, then each drawn token; a full window
      // slides forward to its newest half (the new token included).
      let context = [...prompt];
      let count = 0;
      for (const { id, probs } of generate(params, prompt, { maxTokens: 3 * config.blockSize, seed: 5, temperature: 1 })) {
        const logits = refForward(params, context).logits.at(-1)!;
        expectClose(probs, refSoftmax(logits), 1e-5, 1e-6);
        expect(probs[id]).to.be.greaterThan(0);
        if (context.length === config.blockSize) context = context.slice(context.length - Math.floor(config.blockSize / 2) + 1);
        context.push(id);
        count++;
      }
      expect(count).to.equal(3 * config.blockSize);
    }
  });

  it('starts from the last blockSize tokens of a long prompt', () => {
    const config = TIED;
    const params = randomModel(config);
    const prompt = randomTokens(random, config.blockSize + 3, config.vocabSize);
    const [first] = generate(params, prompt, { maxTokens: 1, seed: 1, temperature: 1 });
    const logits = refForward(params, prompt.slice(-config.blockSize)).logits.at(-1)!;
    expectClose(first!.probs, refSoftmax(logits), 1e-5, 1e-6);
  });

  it('yields exactly maxTokens tokens and refuses an empty prompt', () => {
    const params = randomModel(TIED);
    expect([...generate(params, [1], { maxTokens: 0, seed: 1, temperature: 1 })]).to.have.length(0);
    expect([...generate(params, [1], { maxTokens: 3, seed: 1, temperature: 1 })]).to.have.length(3);
    expect(() => [...generate(params, [], { maxTokens: 3, seed: 1, temperature: 1 })]).to.throw(/prompt/);
  });
});
