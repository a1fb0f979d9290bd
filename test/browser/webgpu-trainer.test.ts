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
import { learningRateAt } from '../../workers/engine/optimizer.ts';
import {
  cpuBackend,
  Trainer,
  TrainingDivergedError,
  type TrainerOptions,
  type TrainingSettings,
} from '../../workers/engine/train.ts';
import { type GPUContext, requestGPU } from '../../workers/engine/webgpu/device.ts';
import { AdamWGPU, clipGradientNorm } from '../../workers/engine/webgpu/optimizer.ts';
import { Program } from '../../workers/engine/webgpu/program.ts';
import { gpuBackend, GPUTrainer } from '../../workers/engine/webgpu/trainer.ts';
import { randomizeParameters, randomTokens, relativeError } from './engine-reference.ts';

const random = new Random(16_180_339);

const tinyConfig = (tied: boolean): GPTConfig =>
  validateConfig({ vocabSize: 37, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, tied });

const SETTINGS: Partial<TrainingSettings> = {
  batchSize: 4,
  seqLen: 16,
  learningRate: 1e-2,
  minLearningRate: 1e-3,
  warmupSteps: 3,
  totalSteps: 100,
  gradClip: 1,
  evalInterval: 1000,
  seed: 4242,
};

function randomDataset(vocabSize: number, length: number): TokenDataset {
  return splitTokens(randomTokens(random, length, vocabSize));
}

/** Fresh random weights (not GPT-2's init: LayerNorm gains and biases must not be 1 and 0). */
const randomModel = (config: GPTConfig): ParameterTensors => randomizeParameters(createParameters(config), random, 0.1);

/** relativeError over data[start, start + length). */
const relativeErrorOf = (a: Float32Array, b: Float32Array, start: number, length: number): number =>
  relativeError(a.subarray(start, start + length), b.subarray(start, start + length));

/**
 * A CPU Trainer and a Trainer on the GPU from the same weights and seed (so the
 * same batches), its GPUTrainer backend, and the batches they will draw, in order.
 */
function trainers(ctx: GPUContext, config: GPTConfig, settings: Partial<TrainingSettings>, options: TrainerOptions = {}) {
  const dataset = randomDataset(config.vocabSize, 3000);
  const cpuParams = randomModel(config);
  const gpuParams = createParameters(config);
  gpuParams.data.set(cpuParams.data);
  const cpu = new Trainer(cpuParams, dataset, settings);
  const gpu = new Trainer(gpuParams, dataset, settings, { backend: gpuBackend(ctx), ...options });
  const { batchSize: B, seqLen: T, seed } = cpu.settings;
  const batches = new Random(seed);
  const nextBatch = () => {
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    sampleBatch(dataset.train, B, T, batches, inputs, targets);
    return { inputs, targets };
  };
  return { cpu, gpu, backend: gpu.backend as GPUTrainer, nextBatch, dataset };
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
      const { cpu, gpu, backend } = trainers(ctx, config, SETTINGS);
      try {
        const before = cpu.params.data.slice();
        const gpuReport = await gpu.step();
        const cpuReport = await cpu.step();
        expect(gpuReport.learningRate).to.equal(cpuReport.learningRate);
        expect(Math.abs(gpuReport.loss - cpuReport.loss) / cpuReport.loss).to.be.below(1e-5);
        expect(Math.abs(gpuReport.gradNorm - cpuReport.gradNorm) / cpuReport.gradNorm).to.be.below(1e-4);
        // The step must have moved the weights, or agreeing would prove nothing.
        expect(relativeErrorOf(cpu.params.data, before, 0, before.length)).to.be.above(1e-2);
        const updated = await backend.parameters();
        const { offsets, sizes } = parameterLayout(config);
        for (const name of PARAMETER_NAMES.filter((n) => sizes[n] > 0)) {
          expect(relativeErrorOf(updated, cpu.params.data, offsets[name], sizes[name]), name).to.be.below(1e-4);
        }
      } finally {
        gpu.destroy();
      }
    });

    it(`20 steps give the CPU's loss curve (${tied ? 'tied' : 'untied'})`, async () => {
      const { cpu, gpu } = trainers(ctx, tinyConfig(tied), SETTINGS);
      try {
        for (let s = 0; s < 20; s++) {
          const gpuLoss = (await gpu.step()).loss;
          const cpuLoss = (await cpu.step()).loss;
          expect(Math.abs(gpuLoss - cpuLoss), `step ${s + 1}: GPU ${gpuLoss}, CPU ${cpuLoss}`).to.be.below(1e-3);
        }
        expect(gpu.stepCount).to.equal(20);
        expect(gpu.backend.kind).to.equal('webgpu');
        // Training on it must have lowered the loss, or the curves agree trivially.
        expect(cpu.history[19]!.loss).to.be.below(cpu.history[0]!.loss);
      } finally {
        gpu.destroy();
      }
    });
  }

  it('a NaN weight: the step reports it and changes nothing; the Trainer stops; the next step goes on as the CPU does', async () => {
    const config = tinyConfig(false);
    const { cpu, gpu: trainer, backend: gpu, nextBatch } = trainers(ctx, config, SETTINGS);
    const reader = new Program(ctx);
    const rate = (step: number) => learningRateAt(step, cpu.settings);
    try {
      const { total, offsets } = parameterLayout(config);
      const first = nextBatch();
      await gpu.step(first, rate(0));
      await cpu.step();
      // A LayerNorm gain reaches every position: the loss becomes NaN.
      const poisoned = offsets.ln1w + 3;
      const good = new Float32Array([cpu.params.data[poisoned]!]);
      ctx.device.queue.writeBuffer(gpu.params, 4 * poisoned, new Float32Array([NaN]));
      const state = () => Promise.all([gpu.params, gpu.optimizer.m, gpu.optimizer.v].map((buffer) => reader.read(buffer, total)));
      const before = await state();
      // The first step must have set the moments, or "unchanged" would prove little.
      expect(before[1]!.some((m) => m !== 0) && before[2]!.some((v) => v !== 0)).to.equal(true);
      const second = nextBatch();
      expect(Number.isNaN((await gpu.step(second, rate(1))).loss)).to.equal(true);
      expect(gpu.optimizer.step).to.equal(1);
      const after = await state();
      for (const k of [0, 1, 2]) expect(bits(after[k]!), ['parameters', 'm', 'v'][k]).to.deep.equal(bits(before[k]!));
      expect(bits(await gpu.parameters())).to.deep.equal(bits(before[0]!));
      // The Trainer around it stops with the CPU's message, its step count unchanged.
      const thrown = await trainer.step().catch((error: unknown) => error);
      expect(thrown).to.be.instanceOf(TrainingDivergedError);
      expect((thrown as Error).message).to.match(/step 1: the loss became NaN/);
      expect(trainer.stepCount).to.equal(0);
      // Restored, the same batch gives the CPU's second step: learning rate, bias corrections and all.
      ctx.device.queue.writeBuffer(gpu.params, 4 * poisoned, good);
      await gpu.step(second, rate(1));
      await cpu.step();
      expect(relativeErrorOf(await gpu.parameters(), cpu.params.data, 0, total)).to.be.below(1e-4);
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
          expect(relativeErrorOf(after, params, 0, total)).to.be.above(1e-3);
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
    const { cpu, gpu: trainer, backend: gpu, dataset } = trainers(ctx, config, SETTINGS);
    try {
      // Trained a little first, so the weights are not the ones the GPU started from.
      for (let s = 0; s < 2; s++) {
        await trainer.step();
        await cpu.step();
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
      const weights = await gpu.parameters();
      const gpuMean = await gpu.evaluate(batches);
      expect(Math.abs(gpuMean - cpuMean) / cpuMean, `GPU ${gpuMean}, CPU ${cpuMean}`).to.be.below(1e-5);
      expect(bits(await gpu.parameters())).to.deep.equal(bits(weights));
      // The same dispatches again: the same answer.
      expect(await gpu.evaluate(batches)).to.equal(gpuMean);
      // One batch alone: its own loss.
      const single = await gpu.evaluate([batches[1]!]);
      expect(Math.abs(single - cpuLosses[1]!) / cpuLosses[1]!).to.be.below(1e-5);
    } finally {
      gpu.destroy();
    }
  });

  it('switching CPU → GPU → CPU mid-training carries weights and AdamW state: the loss curve goes on as on the CPU alone', async () => {
    const config = tinyConfig(true);
    const { cpu, gpu: trainer } = trainers(ctx, config, SETTINGS);
    try {
      await trainer.useBackend(cpuBackend);
      const losses: number[] = [];
      for (let s = 0; s < 24; s++) {
        if (s === 8) await trainer.useBackend(gpuBackend(ctx));
        if (s === 16) await trainer.useBackend(cpuBackend);
        expect(trainer.backend.kind).to.equal(s >= 8 && s < 16 ? 'webgpu' : 'cpu');
        losses.push((await trainer.step()).loss);
        const cpuLoss = (await cpu.step()).loss;
        expect(Math.abs(losses[s]! - cpuLoss), `step ${s + 1}: switched ${losses[s]}, CPU ${cpuLoss}`).to.be.below(1e-3);
      }
      // AdamW's moments came along: restarting them would jolt the curve far more than 1e-3.
      expect(trainer.history.map((h) => h.step)).to.deep.equal(Array.from({ length: 24 }, (_, i) => i + 1));
      expect(relativeErrorOf(trainer.params.data, cpu.params.data, 0, cpu.params.data.length)).to.be.below(1e-3);
    } finally {
      trainer.destroy();
    }
  });

  it('a lost device (device.destroy()) mid-training: training goes on on the CPU from the last backup, nothing lost', async () => {
    const lost = await requestGPU(); // a device of its own, to destroy
    if (!lost) expect.fail('a second device was refused');
    const config = tinyConfig(true);
    const { cpu, gpu: trainer } = trainers(lost, config, SETTINGS, { backupInterval: 3, backupSeconds: Infinity });
    try {
      for (let s = 0; s < 7; s++) await trainer.step();
      lost.device.destroy();
      const report = await trainer.step();
      const fallback = trainer.takeFallback();
      expect(fallback?.resumedFrom).to.equal(6);
      expect(fallback?.message).to.match(/GPU was lost.*training went on on the CPU from step 6/);
      expect(report.step).to.equal(7);
      expect(trainer.backend.kind).to.equal('cpu');
      for (let s = 0; s < 5; s++) await trainer.step();
      const reference: number[] = [];
      for (let s = 0; s < 12; s++) reference.push((await cpu.step()).loss);
      const curve = trainer.history.map((h) => h.loss);
      expect(trainer.history.map((h) => h.step)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 1));
      curve.forEach((loss, s) => expect(Math.abs(loss - reference[s]!), `step ${s + 1}`).to.be.below(1e-3));
    } finally {
      trainer.destroy();
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
      await gpu.step({ inputs, targets }, 1e-3); // compiles the pipelines
      const started = performance.now();
      for (let s = 0; s < steps; s++) {
        sampleBatch(dataset.train, 12, 64, batches, inputs, targets);
        await gpu.step({ inputs, targets }, 1e-3);
      }
      const ms = (performance.now() - started) / steps;
      console.log(
        `GPUTrainer nano-cpu on ${ctx.adapterInfo.architecture || ctx.adapterInfo.description}: ${ms.toFixed(0)} ms/step, ` +
          `${((12 * 64 * 1000) / ms).toFixed(0)} tokens/s, ${gpu.dispatchCount} dispatches, 8 bytes read back per step`,
      );
    } finally {
      gpu.destroy();
    }
  });
});
