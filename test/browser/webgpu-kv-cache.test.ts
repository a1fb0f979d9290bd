// WebGPU inference at GPT-2's shapes, kept small: the weights split so that no
// buffer passes a binding limit (GPT-2 small's wte, 154 MB, must be split at
// WebGPU's default 128 MiB; here a 1 MiB limit splits a 50,257-token vocabulary
// 32 wide into 7 blocks), and generation with a KV cache, against the CPU
// forward() and generate() (themselves checked against float64 references).
import { expect } from 'chai';
import { type GPTConfig, validateConfig } from '../../workers/engine/config.ts';
import { generate, type GeneratedToken, type GenerateOptions } from '../../workers/engine/generate.ts';
import { captureLength, forward, type LayerCapture } from '../../workers/engine/model.ts';
import { createParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { type GPUContext, requestGPU } from '../../workers/engine/webgpu/device.ts';
import { generateOnGPU, GPUModel } from '../../workers/engine/webgpu/model.ts';
import { Program } from '../../workers/engine/webgpu/program.ts';
import { randomizeParameters, randomTokens, relativeError } from './engine-reference.ts';
import { randomFor } from './seeded.ts';

const random = randomFor('webgpu-kv-cache');

/** GPT-2's vocabulary, small everywhere else. */
const GPT2_SHAPED = (tied: boolean): GPTConfig =>
  validateConfig({ vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 32, tied });
/** 1 MiB: wte (6.4 MB) splits into 7 row blocks; one row of logits (201 KB) still fits. */
const LIMIT = 2 ** 20;

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

/** A device of its own whose storage buffers the test sees being made: [label, bytes]. */
async function recordingGPU(): Promise<{ ctx: GPUContext; storage: [string, number][] }> {
  const ctx = (await requestGPU())!;
  const storage: [string, number][] = [];
  const { device } = ctx;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    if (descriptor.usage & GPUBufferUsage.STORAGE) storage.push([descriptor.label ?? '', descriptor.size]);
    return create(descriptor);
  };
  return { ctx, storage };
}

async function generateOn(model: GPUModel, prompt: number[], options: GenerateOptions) {
  const tokens: GeneratedToken[] = [];
  // After each token: what the call that computed its distribution did.
  const calls: { positions: number; readback: number; dispatches: number }[] = [];
  for await (const token of generateOnGPU(model, prompt, options)) {
    tokens.push(token);
    calls.push({ positions: model.lastPositions, readback: model.lastReadbackBytes, dispatches: model.lastDispatchCount });
  }
  return { tokens, calls };
}

function expectSameTokens(gpu: GeneratedToken[], cpu: GeneratedToken[], what: string): void {
  expect(
    gpu.map((t) => t.id),
    what,
  ).to.deep.equal(cpu.map((t) => t.id));
  gpu.forEach((token, i) => expect(relativeError(token.probs, cpu[i]!.probs), `${what}: distribution ${i}`).to.be.at.most(1e-4));
}

describe('WebGPU inference with split weights and a KV cache', function () {
  this.timeout(300_000);
  let shared: GPUContext;

  before(async function () {
    const found = await requestGPU();
    if (!found) this.skip();
    shared = found;
  });

  for (const tied of [true, false]) {
    it(`a GPT-2-shaped model under a 1 MiB binding limit: no storage buffer passes it, logits and capture match the CPU (${tied ? 'tied' : 'untied'})`, async () => {
      const config = GPT2_SHAPED(tied);
      const { ctx, storage } = await recordingGPU();
      const params = randomModel(config);
      const model = new GPUModel(ctx, config, { maxBindingBytes: LIMIT });
      try {
        model.setParameters(params.data);
        expect(model.maxBindingBytes).to.equal(LIMIT);
        const blocks = storage.filter(([label]) => label.startsWith('wte rows'));
        expect(blocks.length, 'wte row blocks').to.equal(Math.ceil((4 * 50257 * 32) / (LIMIT - 256)));
        if (!tied) expect(storage.filter(([label]) => label.startsWith('lmHead rows')).length).to.equal(blocks.length);
        // Logits are computed a few rows at a time: a full forward needs several pieces.
        expect(model.logitRows).to.be.within(1, 5);
        for (const T of [1, 13, config.blockSize]) {
          const ids = randomTokens(random, T, config.vocabSize);
          const expected = forward(params, ids, { capture: true });
          const { logits, capture } = await model.forward(ids, { capture: true });
          expectMatch(logits, expected.logits, `logits at T = ${T}`);
          expect(model.lastReadbackBytes).to.be.above(4 * T * config.vocabSize);
          expectMatch(capture!.tokenEmbedding, expected.capture!.tokenEmbedding, `token embedding at T = ${T}`);
          expectMatch(capture!.positionEmbedding, expected.capture!.positionEmbedding, `position embedding at T = ${T}`);
          capture!.layers.forEach((layer, l) => {
            expect(layer.mask).to.deep.equal(expected.capture!.layers[l]!.mask);
            for (const field of LAYER_FIELDS)
              expectMatch(layer[field], expected.capture!.layers[l]![field], `T = ${T}, layer ${l} ${field}`);
          });
          const last = await model.forward(ids, { lastOnly: true });
          expectMatch(last.logits, expected.logits.subarray((T - 1) * config.vocabSize), `last row at T = ${T}`);
          expect(model.lastReadbackBytes).to.equal(4 * config.vocabSize);
        }
        const largest = Math.max(...storage.map(([, bytes]) => bytes));
        expect(largest, `largest storage buffer: ${storage.find(([, bytes]) => bytes === largest)![0]}`).to.be.at.most(LIMIT);
      } finally {
        model.destroy();
        ctx.device.destroy();
      }
    });
  }

  it("KV-cache generation gives the CPU generate()'s tokens and distributions, across a slide; a step computes one position and reads back [V]", async () => {
    const config = GPT2_SHAPED(true);
    const params = randomModel(config);
    const model = new GPUModel(shared, config, { maxBindingBytes: LIMIT });
    try {
      model.setParameters(params.data);
      const prompt = randomTokens(random, 5, config.vocabSize);
      // 5 + 70 tokens pass blockSize 64: the context slides once, to its newest 32 tokens.
      for (const options of [
        { maxTokens: 70, temperature: 0, seed: 1 },
        { maxTokens: 70, temperature: 1, seed: 42, topK: 40 },
      ]) {
        const cpu = [...generate(params, prompt, options)];
        const { tokens, calls } = await generateOn(model, prompt, options);
        expectSameTokens(tokens, cpu, `temperature ${options.temperature}`);
        const slide = config.blockSize - prompt.length + 1;
        expect(calls.map((call) => call.positions)).to.deep.equal(
          calls.map((_, i) => (i === 0 ? prompt.length : i === slide ? config.blockSize / 2 : 1)),
        );
        for (const call of calls) expect(call.readback).to.equal(4 * config.vocabSize);
        // The embedding and unembedding span 7 row blocks each: a dispatch per block, and one per layer.
        const steps = calls.filter((call) => call.positions === 1).map((call) => call.dispatches);
        expect(steps, 'dispatches of each step').to.deep.equal(steps.map(() => 7 + config.nLayer + 7));
      }
    } finally {
      model.destroy();
    }
  });

  it('the cache is used only for the tokens it holds: a forward, new weights or another text in between refill it', async () => {
    const config = GPT2_SHAPED(false);
    const [first, second, third] = [randomModel(config), randomModel(config), randomModel(config)];
    const model = new GPUModel(shared, config, { maxBindingBytes: LIMIT });
    const source = new Program(shared);
    const lastRow = (params: ParameterTensors, ids: number[]) => forward(params, ids).logits.subarray(-config.vocabSize);
    const expectNext = async (params: ParameterTensors, ids: number[], positions: number, what: string) => {
      expectMatch(await model.nextLogits(ids), lastRow(params, ids), what);
      expect(model.lastPositions, `${what}: positions computed`).to.equal(positions);
    };
    try {
      model.setParameters(first.data);
      const ids = randomTokens(random, 9, config.vocabSize);
      await expectNext(first, ids, 9, 'prompt');
      ids.push(17);
      await expectNext(first, ids, 1, 'one more token');
      ids.push(50256);
      await expectNext(first, ids, 1, 'the last token of the vocabulary');
      const other = randomTokens(random, 12, config.vocabSize);
      await expectNext(first, other, 12, 'another text');
      await model.forward(ids.slice(0, 4));
      await expectNext(first, ids, ids.length, 'after a forward of other tokens');
      model.setParameters(second.data);
      await expectNext(second, [...ids, 3], ids.length + 1, 'after setParameters');
      model.copyParametersFrom(source.upload(third.data));
      await expectNext(third, [...ids, 3, 4], ids.length + 2, 'after copyParametersFrom');
      await expectNext(third, [...ids, 3, 4, 5], 1, 'a step on the copied weights');
    } finally {
      source.destroy();
      model.destroy();
    }
  });

  it('a forward with capture over more than captureLength tokens is refused, naming the length', async () => {
    // A long context at GPT-2's vocabulary: its capture would pass the budget before blockSize.
    const config = validateConfig({ vocabSize: 50257, blockSize: 1536, nLayer: 1, nHead: 1, nEmbd: 16, tied: true });
    const length = captureLength(config);
    expect(length).to.be.below(config.blockSize);
    const model = new GPUModel(shared, config);
    try {
      model.setParameters(randomModel(config).data);
      expect(model.captureLength).to.equal(length);
      const ids = randomTokens(random, length + 1, config.vocabSize);
      const refusal = await model.forward(ids, { capture: true }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(String(refusal)).to.match(new RegExp(`at most ${length} tokens`));
      // The same tokens without capture run, and so does a capture of the last captureLength.
      expect((await model.forward(ids, { lastOnly: true })).logits).to.have.length(config.vocabSize);
      const captured = await model.forward(ids.slice(1), { capture: true, lastOnly: true });
      expect(captured.capture!.layers[0]!.pattern).to.have.length(length * length);
    } finally {
      model.destroy();
    }
  });

  it('a model wider than the fused LayerNorm path (C = 264) generates as the CPU does', async () => {
    const config = validateConfig({ vocabSize: 41, blockSize: 8, nLayer: 2, nHead: 4, nEmbd: 264, tied: false });
    const params = randomModel(config);
    const model = new GPUModel(shared, config);
    try {
      model.setParameters(params.data);
      const prompt = randomTokens(random, 3, config.vocabSize);
      for (const options of [
        { maxTokens: 12, temperature: 0, seed: 1 },
        { maxTokens: 12, temperature: 1, seed: 5 },
      ]) {
        const { tokens } = await generateOn(model, prompt, options);
        expectSameTokens(tokens, [...generate(params, prompt, options)], `temperature ${options.temperature}`);
      }
    } finally {
      model.destroy();
    }
  });

  it('a small model whose weights fit one binding each way runs a whole step in one dispatch, as the CPU does', async () => {
    for (const tied of [true, false]) {
      const config = validateConfig({ vocabSize: 43, blockSize: 12, nLayer: 3, nHead: 2, nEmbd: 16, tied });
      const params = randomModel(config);
      const model = new GPUModel(shared, config);
      try {
        model.setParameters(params.data);
        const prompt = randomTokens(random, 4, config.vocabSize);
        const options = { maxTokens: 20, temperature: 1, seed: 9 };
        const { tokens, calls } = await generateOn(model, prompt, options);
        expectSameTokens(tokens, [...generate(params, prompt, options)], tied ? 'tied' : 'untied');
        const steps = calls.filter((call) => call.positions === 1);
        expect(steps.length).to.be.above(10);
        for (const call of steps) expect(call).to.deep.equal({ positions: 1, readback: 4 * config.vocabSize, dispatches: 1 });
      } finally {
        model.destroy();
      }
    }
  });
});
