// The whole training step on the GPU against the CPU Trainer (whose gradients are
// checked against finite differences in engine-backward.test.ts): the same start
// weights, the same seeded batches, tied and untied unembeddings.
import { expect } from 'chai';
import { type GPTConfig, validateConfig } from '../../workers/engine/config.ts';
import { sampleBatch, splitTokens, type TokenDataset } from '../../workers/engine/data.ts';
import { createActivations, crossEntropy, forwardActivations } from '../../workers/engine/model.ts';
import { createParameters, PARAMETER_NAMES, parameterLayout, type ParameterTensors } from '../../workers/engine/params.ts';
import { presetConfig } from '../../workers/engine/presets.ts';
import { Random } from '../../workers/engine/random.ts';
import { Trainer, TrainingDivergedError, type TrainingSettings } from '../../workers/engine/train.ts';
import { type GPUContext, requestGPU } from '../../workers/engine/webgpu/device.ts';
import { AdamWGPU, clipGradientNorm } from '../../workers/engine/webgpu/optimizer.ts';
import { Program } from '../../workers/engine/webgpu/program.ts';
import { GPUTrainer } from '../../workers/engine/webgpu/trainer.ts';
import { randomizeParameters, randomTokens } from './engine-reference.ts';

const random = new Random(16_180_339);

const tinyConfig = (tied: boolean): GPTConfig =>
  validateConfig({ vocabSize: 37, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, tied });

const SETTINGS: Partial<TrainingSettings> = {
  batchSize: 4, seqLen: 16, learningRate: 1e-2, minLearningRate: 1e-3, warmupSteps: 3, totalSteps: 100,
  gradClip: 1, evalInterval: 1000, seed: 4242,
};

function randomDataset(vocabSize: number, length: number): TokenDataset {
  return splitTokens(randomTokens(random, length, vocabSize));
}

/** Fresh random weights (not GPT-2's init: LayerNorm gains and biases must not be 1 and 0). */
const randomModel = (config: GPTConfig): ParameterTensors => randomizeParameters(createParameters(config), random, 0.1);

/** ‖a − b‖ / ‖b‖ over data[start, start + length). */
function relativeError(a: Float32Array, b: Float32Array, start: number, length: number): number {
  let diff = 0;
  let norm = 0;
  for (let i = start; i < start + length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  return Math.sqrt(diff / norm);
}

/** The CPU Trainer and a GPUTrainer from the same weights, and the batches the CPU one will draw, in order. */
function trainers(ctx: GPUContext, config: GPTConfig, settings: Partial<TrainingSettings>) {
  const dataset = randomDataset(config.vocabSize, 3000);
  const cpuParams = randomModel(config);
  const gpu = new GPUTrainer(ctx, cpuParams, settings);
  const cpu = new Trainer(cpuParams, dataset, settings);
  const { batchSize: B, seqLen: T, seed } = cpu.settings;
  const batches = new Random(seed);
  const nextBatch = () => {
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    sampleBatch(dataset.train, B, T, batches, inputs, targets);
    return { inputs, targets };
  };
  return { cpu, gpu, nextBatch, dataset };
}

/** Float bits, so that NaNs compare too. */
const bits = (data: Float32Array): Uint32Array => new Uint32Array(data.buffer, data.byteOffset, data.length);

describe('WebGPU trainer', function () {
  this.timeout(120_000);
  let ctx: GPUContext;

  before(async function () {
    const found = await requestGPU();
    if (!found) this.skip();
    ctx = found;
  });

  for (const tied of [true, false]) {
    it(`one step's updated parameters, loss and gradient norm match the CPU (${tied ? 'tied' : 'untied'})`, async () => {
      const config = tinyConfig(tied);
      const { cpu, gpu, nextBatch } = trainers(ctx, config, SETTINGS);
      try {
        const before = cpu.params.data.slice();
        const { inputs, targets } = nextBatch();
        ctx.device.pushErrorScope('validation');
        const gpuReport = await gpu.step(inputs, targets);
        const error = await ctx.device.popErrorScope();
        if (error) expect.fail(`WebGPU validation error: ${error.message}`);
        const cpuReport = cpu.step();
        expect(gpuReport.learningRate).to.equal(cpuReport.learningRate);
        expect(Math.abs(gpuReport.loss - cpuReport.loss) / cpuReport.loss).to.be.below(1e-5);
        expect(Math.abs(gpuReport.gradNorm - cpuReport.gradNorm) / cpuReport.gradNorm).to.be.below(1e-4);
        // The step must have moved the weights, or agreeing would prove nothing.
        expect(relativeError(cpu.params.data, before, 0, before.length)).to.be.above(1e-2);
        const updated = await gpu.readParameters();
        const { offsets, sizes } = parameterLayout(config);
        for (const name of PARAMETER_NAMES.filter((n) => sizes[n] > 0)) {
          expect(relativeError(updated, cpu.params.data, offsets[name], sizes[name]), name).to.be.below(1e-4);
        }
      } finally {
        gpu.destroy();
      }
    });

    it(`20 steps give the CPU's loss curve (${tied ? 'tied' : 'untied'})`, async () => {
      const { cpu, gpu, nextBatch } = trainers(ctx, tinyConfig(tied), SETTINGS);
      try {
        for (let s = 0; s < 20; s++) {
          const { inputs, targets } = nextBatch();
          const gpuLoss = (await gpu.step(inputs, targets)).loss;
          const cpuLoss = cpu.step().loss;
          expect(Math.abs(gpuLoss - cpuLoss), `step ${s + 1}: GPU ${gpuLoss}, CPU ${cpuLoss}`).to.be.below(1e-3);
        }
        expect(gpu.stepCount).to.equal(20);
        // Training on it must have lowered the loss, or the curves agree trivially.
        expect(cpu.history[19]!.loss).to.be.below(cpu.history[0]!.loss);
      } finally {
        gpu.destroy();
      }
    });
  }

  it('a NaN weight: the step throws TrainingDivergedError and changes nothing; the next step goes on as the CPU does', async () => {
    const config = tinyConfig(false);
    const { cpu, gpu, nextBatch } = trainers(ctx, config, SETTINGS);
    const reader = new Program(ctx);
    try {
      const { total, offsets } = parameterLayout(config);
      const first = nextBatch();
      await gpu.step(first.inputs, first.targets);
      cpu.step();
      // A LayerNorm gain reaches every position: the loss becomes NaN.
      const poisoned = offsets.ln1w + 3;
      const good = new Float32Array([cpu.params.data[poisoned]!]);
      ctx.device.queue.writeBuffer(gpu.params, 4 * poisoned, new Float32Array([NaN]));
      const state = () => Promise.all([gpu.params, gpu.optimizer.m, gpu.optimizer.v].map((buffer) => reader.read(buffer, total)));
      const before = await state();
      // The first step must have set the moments, or "unchanged" would prove little.
      expect(before[1]!.some((m) => m !== 0) && before[2]!.some((v) => v !== 0)).to.equal(true);
      const second = nextBatch();
      let thrown: unknown;
      try {
        await gpu.step(second.inputs, second.targets);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(TrainingDivergedError);
      expect((thrown as Error).message).to.match(/step 2: the loss became NaN/);
      expect(gpu.stepCount).to.equal(1);
      expect(gpu.optimizer.step).to.equal(1);
      const after = await state();
      for (const k of [0, 1, 2]) expect(bits(after[k]!), ['parameters', 'm', 'v'][k]).to.deep.equal(bits(before[k]!));
      expect(bits(await gpu.readParameters())).to.deep.equal(bits(before[0]!));
      // Restored, the same batch gives the CPU's second step: learning rate, bias corrections and all.
      ctx.device.queue.writeBuffer(gpu.params, 4 * poisoned, good);
      const report = await gpu.step(second.inputs, second.targets);
      const cpuReport = cpu.step();
      expect(report.learningRate).to.equal(cpuReport.learningRate);
      expect(relativeError(await gpu.readParameters(), cpu.params.data, 0, total)).to.be.below(1e-4);
    } finally {
      reader.destroy();
      gpu.destroy();
    }
  });

  for (const loss of [Infinity, NaN, 2.5]) {
    it(`clipping's finite flag with finite gradients and a loss of ${loss} ${Number.isFinite(loss) ? 'lets' : 'stops'} the AdamW update`, async () => {
      const config = tinyConfig(true);
      const { total } = parameterLayout(config);
      const p = new Program(ctx);
      try {
        const params = randomModel(config).data;
        const grads = randomModel(config).data; // norm far above gradClip 1: clipping would scale them
        const paramsBuffer = p.upload(params);
        const gradsBuffer = p.upload(grads);
        const clip = clipGradientNorm(p, gradsBuffer, total, 1, p.upload(new Float32Array([loss])));
        const adam = new AdamWGPU(p, config, paramsBuffer, gradsBuffer, {}, { buffer: clip.norm, offset: 2 });
        adam.beginUpdate(1e-2);
        p.run([...clip.dispatches, ...adam.dispatches]);
        const [norm, scale, finite] = await p.read(clip.norm, 3);
        expect(Number.isFinite(norm) && norm! > 1).to.equal(true);
        const after = await p.read(paramsBuffer, total);
        if (Number.isFinite(loss)) {
          expect(scale).to.be.closeTo(1 / norm!, 1e-6 / norm!);
          expect(finite).to.equal(1);
          expect(relativeError(after, params, 0, total)).to.be.above(1e-3);
        } else {
          expect([scale, finite]).to.deep.equal([1, 0]);
          expect(bits(await p.read(gradsBuffer, total))).to.deep.equal(bits(grads));
          expect(bits(after)).to.deep.equal(bits(params));
          expect((await p.read(adam.m, total)).every((m) => m === 0)).to.equal(true);
        }
      } finally {
        p.destroy();
      }
    });
  }

  it("evaluate gives the CPU's mean loss over validation batches and leaves the weights alone", async () => {
    const config = tinyConfig(true);
    const { cpu, gpu, nextBatch, dataset } = trainers(ctx, config, SETTINGS);
    try {
      // Trained a little first, so the weights are not the ones the GPU started from.
      for (let s = 0; s < 2; s++) {
        const { inputs, targets } = nextBatch();
        await gpu.step(inputs, targets);
        cpu.step();
      }
      const { batchSize: B, seqLen: T } = cpu.settings;
      const draws = new Random(99);
      const batches = Array.from({ length: 3 }, () => {
        const inputs = new Int32Array(B * T);
        const targets = new Int32Array(B * T);
        sampleBatch(dataset.validation, B, T, draws, inputs, targets);
        return { inputs, targets };
      });
      const acts = createActivations(config, B, T);
      const cpuLosses = batches.map(({ inputs, targets }) => {
        forwardActivations(cpu.params, inputs, B, T, acts);
        return crossEntropy(acts.logits, targets, config.vocabSize);
      });
      // Different batches, different losses: the mean must see each one.
      expect(new Set(cpuLosses).size).to.equal(3);
      const cpuMean = cpuLosses.reduce((a, b) => a + b) / cpuLosses.length;
      const weights = await gpu.readParameters();
      const gpuMean = await gpu.evaluate(batches);
      expect(Math.abs(gpuMean - cpuMean) / cpuMean, `GPU ${gpuMean}, CPU ${cpuMean}`).to.be.below(1e-5);
      expect(bits(await gpu.readParameters())).to.deep.equal(bits(weights));
      // The same dispatches again: the same answer.
      expect(await gpu.evaluate(batches)).to.equal(gpuMean);
      // One batch alone: its own loss.
      const single = await gpu.evaluate([batches[1]!]);
      expect(Math.abs(single - cpuLosses[1]!) / cpuLosses[1]!).to.be.below(1e-5);
    } finally {
      gpu.destroy();
    }
  });

  it('logs the speed of nano-cpu on this adapter (no assertion: SwiftShader is only a proxy)', async () => {
    const config = presetConfig('nano-cpu', 65);
    const settings: Partial<TrainingSettings> = { batchSize: 12, seqLen: 64 };
    const gpu = new GPUTrainer(ctx, randomModel(config), settings);
    try {
      const dataset = randomDataset(config.vocabSize, 5000);
      const batches = new Random(7);
      const inputs = new Int32Array(12 * 64);
      const targets = new Int32Array(12 * 64);
      const steps = 3;
      sampleBatch(dataset.train, 12, 64, batches, inputs, targets);
      await gpu.step(inputs, targets); // compiles the pipelines
      const started = performance.now();
      for (let s = 0; s < steps; s++) {
        sampleBatch(dataset.train, 12, 64, batches, inputs, targets);
        await gpu.step(inputs, targets);
      }
      const ms = (performance.now() - started) / steps;
      console.log(`GPUTrainer nano-cpu on ${ctx.adapterInfo.architecture || ctx.adapterInfo.description}: ${ms.toFixed(0)} ms/step, `
        + `${((12 * 64 * 1000) / ms).toFixed(0)} tokens/s, ${gpu.dispatchCount} dispatches, 8 bytes read back per step`);
    } finally {
      gpu.destroy();
    }
  });
});
