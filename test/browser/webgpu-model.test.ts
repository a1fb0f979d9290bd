// Inference on the GPU against the CPU forward pass (model.ts, itself checked
// against a float64 reference in engine-model.test.ts) and the CPU generate():
// fresh random weights and tokens, tied and untied, lengths that are and are not
// multiples of the kernels' blocks of 4.
import { expect } from 'chai';
import { type GPTConfig, validateConfig } from '../../workers/engine/config.ts';
import { generate, type GeneratedToken, type GenerateOptions } from '../../workers/engine/generate.ts';
import { type Capture, forward, type LayerCapture } from '../../workers/engine/model.ts';
import { createParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { type GPUContext, GPUFailure, requestGPU } from '../../workers/engine/webgpu/device.ts';
import { generateOnGPU, GPUModel } from '../../workers/engine/webgpu/model.ts';
import { Program } from '../../workers/engine/webgpu/program.ts';
import { randomizeParameters, randomTokens, relativeError } from './engine-reference.ts';

const random = new Random(27_182_818);

/** Heads of 16 (whole vec4s) and, in the odd one, heads of 6, widths and a vocabulary that are not multiples of 4. */
const CONFIGS = (tied: boolean): GPTConfig[] => [
  validateConfig({ vocabSize: 37, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, tied }),
  validateConfig({ vocabSize: 29, blockSize: 11, nLayer: 1, nHead: 3, nEmbd: 18, tied }),
];

const randomModel = (config: GPTConfig): ParameterTensors => randomizeParameters(createParameters(config), random, 0.1);

function expectMatch(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  expect(relativeError(actual, expected), what).to.be.at.most(1e-4);
}

const LAYER_FIELDS = [
  'scores',
  'pattern',
  'mlpPre',
  'mlpPost',
  'residAfterAttn',
  'residAfterMlp',
] as const satisfies readonly (keyof LayerCapture)[];

function expectSameCapture(actual: Capture, expected: Capture): void {
  expectMatch(actual.tokenEmbedding, expected.tokenEmbedding, 'tokenEmbedding');
  expectMatch(actual.positionEmbedding, expected.positionEmbedding, 'positionEmbedding');
  expect(actual.layers).to.have.length(expected.layers.length);
  actual.layers.forEach((layer, l) => {
    expect(layer.mask).to.be.instanceOf(Uint8Array);
    expect(layer.mask).to.deep.equal(expected.layers[l]!.mask);
    for (const field of LAYER_FIELDS) expectMatch(layer[field], expected.layers[l]![field], `layer ${l} ${field}`);
    // Masked entries are exactly 0, as on the CPU.
    layer.mask.forEach((masked, i) => {
      if (masked) expect(layer.pattern[i]).to.equal(0);
    });
  });
}

/** Every array of a capture in its own buffer (they get transferred one by one). */
function expectOwnBuffers(logits: Float32Array, capture: Capture): void {
  const arrays = [
    logits,
    capture.tokenEmbedding,
    capture.positionEmbedding,
    ...capture.layers.flatMap((layer) => [layer.mask, ...LAYER_FIELDS.map((f) => layer[f])]),
  ];
  for (const array of arrays) expect(array.byteLength).to.equal(array.buffer.byteLength);
  expect(new Set(arrays.map((array) => array.buffer)).size).to.equal(arrays.length);
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

/** The CPU's generate() and the GPU's on the same weights and options: ids, and the distributions they came from. */
async function generateBoth(model: GPUModel, params: ParameterTensors, prompt: number[], options: GenerateOptions) {
  const cpu = [...generate(params, prompt, options)];
  const gpu: GeneratedToken[] = [];
  for await (const token of generateOnGPU(model, prompt, options)) gpu.push(token);
  return { cpu, gpu };
}

function expectSameTokens(gpu: GeneratedToken[], cpu: GeneratedToken[], what: string): void {
  expect(
    gpu.map((t) => t.id),
    what,
  ).to.deep.equal(cpu.map((t) => t.id));
  gpu.forEach((token, i) => expect(relativeError(token.probs, cpu[i]!.probs), `${what}: distribution ${i}`).to.be.at.most(1e-4));
}

describe('WebGPU model (inference)', function () {
  this.timeout(60_000);
  let ctx: GPUContext;

  before(async function () {
    const found = await requestGPU();
    if (!found) this.skip();
    ctx = found;
  });

  for (const tied of [true, false]) {
    for (const config of CONFIGS(tied)) {
      const name = `V ${config.vocabSize}, C ${config.nEmbd}, ${config.nHead} heads, ${tied ? 'tied' : 'untied'}`;

      it(`logits and every captured inside match the CPU forward, T = 1, a length not a multiple of 4, and blockSize (${name})`, async () => {
        const params = randomModel(config);
        const model = new GPUModel(ctx, config);
        try {
          model.setParameters(params.data);
          for (const T of [1, 7, config.blockSize]) {
            const ids = randomTokens(random, T, config.vocabSize);
            const expected = forward(params, ids, { capture: true });
            const { logits, capture } = await model.forward(ids, { capture: true });
            expectMatch(logits, expected.logits, `logits at T = ${T}`);
            expectSameCapture(capture!, expected.capture!);
            expectOwnBuffers(logits, capture!);

            const plain = await model.forward(ids);
            expect(plain.capture).to.equal(undefined);
            expectMatch(plain.logits, expected.logits, `logits without capture at T = ${T}`);
            expect(model.lastReadbackBytes).to.equal(4 * T * config.vocabSize);

            const last = await model.forward(ids, { lastOnly: true });
            expectMatch(last.logits, expected.logits.subarray((T - 1) * config.vocabSize), `last row at T = ${T}`);
            expect(model.lastReadbackBytes).to.equal(4 * config.vocabSize);
          }
        } finally {
          model.destroy();
        }
      });
    }
  }

  it("greedy and seeded sampled generation give the CPU generate()'s tokens, also once the context slides", async () => {
    for (const tied of [true, false]) {
      const config = CONFIGS(tied)[0]!;
      const params = randomModel(config);
      const model = new GPUModel(ctx, config);
      try {
        model.setParameters(params.data);
        const prompt = randomTokens(random, 5, config.vocabSize);
        // 5 + 20 tokens pass blockSize 16: the context slides at least once.
        for (const options of [
          { temperature: 0, seed: 1 },
          { temperature: 1, seed: 42 },
        ]) {
          const { cpu, gpu } = await generateBoth(model, params, prompt, { maxTokens: 20, ...options });
          expectSameTokens(gpu, cpu, `temperature ${options.temperature}`);
        }
      } finally {
        model.destroy();
      }
    }
  });

  it('generation starts from the last blockSize tokens of a long prompt and yields exactly maxTokens', async () => {
    const config = CONFIGS(true)[1]!;
    const params = randomModel(config);
    const model = new GPUModel(ctx, config);
    try {
      model.setParameters(params.data);
      const prompt = randomTokens(random, config.blockSize + 4, config.vocabSize);
      const { cpu, gpu } = await generateBoth(model, params, prompt, { maxTokens: 3, seed: 7, temperature: 1 });
      expectSameTokens(gpu, cpu, 'long prompt');
      expect(gpu).to.have.length(3);
      const { gpu: none } = await generateBoth(model, params, prompt, { maxTokens: 0, seed: 7, temperature: 1 });
      expect(none).to.have.length(0);
      const failure = await rejection(generateOnGPU(model, [], { maxTokens: 3, seed: 1, temperature: 1 }).next());
      expect(String(failure)).to.match(/prompt/);
    } finally {
      model.destroy();
    }
  });

  it('setParameters and copyParametersFrom (GPU to GPU) change the output to that of the new weights', async () => {
    const config = CONFIGS(false)[0]!;
    const [first, second, third] = [randomModel(config), randomModel(config), randomModel(config)];
    const ids = randomTokens(random, 9, config.vocabSize);
    const model = new GPUModel(ctx, config);
    const source = new Program(ctx);
    try {
      model.setParameters(first.data);
      expectMatch((await model.forward(ids)).logits, forward(first, ids).logits, 'first weights');
      model.setParameters(second.data);
      expectMatch((await model.forward(ids)).logits, forward(second, ids).logits, 'after setParameters');
      model.copyParametersFrom(source.upload(third.data));
      const { logits, capture } = await model.forward(ids, { capture: true });
      const expected = forward(third, ids, { capture: true });
      expectMatch(logits, expected.logits, 'after copyParametersFrom');
      expectSameCapture(capture!, expected.capture!);
    } finally {
      source.destroy();
      model.destroy();
    }
  });

  it('forwards called without waiting run one after the other, each with its own tokens', async () => {
    const config = CONFIGS(true)[0]!;
    const params = randomModel(config);
    const model = new GPUModel(ctx, config);
    try {
      model.setParameters(params.data);
      const sequences = [3, 16, 1, 10].map((T) => randomTokens(random, T, config.vocabSize));
      const results = await Promise.all(sequences.map((ids, i) => model.forward(ids, { capture: i === 1, lastOnly: i === 2 })));
      results.forEach(({ logits }, i) => {
        const expected = forward(params, sequences[i]!).logits;
        expectMatch(logits, i === 2 ? expected.subarray(-config.vocabSize) : expected, `sequence ${i}`);
      });
    } finally {
      model.destroy();
    }
  });

  it('refuses tokens outside the vocabulary, an empty sequence and one longer than blockSize', async () => {
    const config = CONFIGS(true)[1]!;
    const model = new GPUModel(ctx, config);
    try {
      model.setParameters(randomModel(config).data);
      expect(String(await rejection(model.forward([1, 2, config.vocabSize])))).to.match(
        /token at position 2 is 29, outside the vocabulary/,
      );
      expect(String(await rejection(model.forward([1, -1])))).to.match(/position 1 is -1/);
      expect(String(await rejection(model.forward([0.5])))).to.match(/position 0 is 0.5/);
      expect(String(await rejection(model.forward([])))).to.match(/at least one token/);
      expect(String(await rejection(model.forward(new Array(config.blockSize + 1).fill(0))))).to.match(
        /do not fit the model's context of 11/,
      );
      expect(() => model.setParameters(new Float32Array(3))).to.throw(/floats/);
      // The model still works after refusing.
      expect((await model.forward([1, 2])).logits).to.have.length(2 * config.vocabSize);
      expect(model.dispatchCount(5)).to.be.greaterThan(10 * config.nLayer);
      expect(() => model.dispatchCount(config.blockSize + 1)).to.throw(/context/);
    } finally {
      model.destroy();
    }
  });

  it('rejects with GPUFailure "lost" once the device is gone', async () => {
    const own = await requestGPU();
    const config = CONFIGS(true)[0]!;
    const model = new GPUModel(own!, config);
    model.setParameters(randomModel(config).data);
    const ids = randomTokens(random, 6, config.vocabSize);
    expect((await model.forward(ids)).logits).to.have.length(6 * config.vocabSize);
    own!.device.destroy();
    const failure = await rejection(model.forward(ids));
    expect(failure).to.be.instanceOf(GPUFailure);
    expect(String(failure)).to.match(/lost/);
  });
});
