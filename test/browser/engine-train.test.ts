// AdamW, clipping and the schedule against hand-computed values; data splitting and
// batches; the trainer learning a small repetitive text, reproducibly, and stopping
// cleanly when the numbers blow up.
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { sampleBatch, splitTokens } from '../../workers/engine/data.ts';
import { AdamW, clipGradientNorm, DEFAULT_ADAMW, learningRateAt } from '../../workers/engine/optimizer.ts';
import { createParameters, initParameters, PARAMETER_NAMES, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import {
  type BackendFactory,
  CPUTrainingBackend,
  DEFAULT_TRAINING,
  type StepReport,
  Trainer,
  TrainingDivergedError,
  type TrainingSettings,
} from '../../workers/engine/train.ts';
import { expectClose, randomArray } from './engine-reference.ts';

const random = new Random(2_718_281);

const SMALL: GPTConfig = { vocabSize: 7, blockSize: 5, nLayer: 2, nHead: 1, nEmbd: 3, tied: false };
/** The list: weight decay applies to these and to nothing else. */
const MATRICES = new Set(['wte', 'wpe', 'qkvw', 'attprojw', 'fcw', 'fcprojw', 'lmHead']);

function randomTensors(config: GPTConfig): ParameterTensors {
  const tensors = createParameters(config);
  tensors.data.set(randomArray(random, tensors.data.length));
  return tensors;
}

describe('AdamW', () => {
  it("has the issue's defaults", () => {
    expect(DEFAULT_ADAMW).to.deep.equal({ beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  });

  it('matches two hand-computed updates, with weight decay on the matrices only', () => {
    const settings = { beta1: 0.8, beta2: 0.9, eps: 1e-3, weightDecay: 0.5 };
    const params = randomTensors(SMALL);
    const start = Float64Array.from(params.data);
    const gradients = [randomTensors(SMALL), randomTensors(SMALL)];
    const rates = [0.01, 0.03];
    const optimizer = new AdamW(SMALL, settings);
    for (let s = 0; s < 2; s++) optimizer.update(params, gradients[s]!, rates[s]!);
    expect(optimizer.step).to.equal(2);

    for (const name of PARAMETER_NAMES) {
      const expected: number[] = [];
      const offset = params[name].byteOffset / 4;
      for (let i = 0; i < params[name].length; i++) {
        const decay = MATRICES.has(name) ? settings.weightDecay : 0;
        let p = start[offset + i]!;
        let m = 0;
        let v = 0;
        for (let t = 1; t <= 2; t++) {
          const g = gradients[t - 1]![name][i]!;
          m = 0.8 * m + 0.2 * g;
          v = 0.9 * v + 0.1 * g * g;
          const mHat = m / (1 - 0.8 ** t);
          const vHat = v / (1 - 0.9 ** t);
          p -= rates[t - 1]! * (mHat / (Math.sqrt(vHat) + 1e-3) + decay * p);
        }
        expected.push(p);
      }
      expectClose(params[name], expected, 1e-5, 1e-7);
    }
  });

  it('leaves a weight with zero gradient alone unless it is decayed', () => {
    const params = randomTensors(SMALL);
    const before = params.data.slice();
    new AdamW(SMALL).update(params, createParameters(SMALL), 0.1);
    for (const name of PARAMETER_NAMES) {
      const offset = params[name].byteOffset / 4;
      const expected = Array.from(before.subarray(offset, offset + params[name].length), (p) =>
        MATRICES.has(name) ? p * (1 - 0.1 * 0.1) : p,
      );
      expectClose(params[name], expected, 1e-6);
    }
  });
});

describe('clipGradientNorm', () => {
  const norm = (values: Float32Array) => Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));

  it('scales gradients with a larger norm down to exactly the limit, keeping their direction', () => {
    const grads = randomArray(random, 200, 0.5);
    const before = norm(grads);
    const copy = grads.slice();
    expect(clipGradientNorm(grads, 1)).to.be.closeTo(before, 1e-5 * before);
    expect(norm(grads)).to.be.closeTo(1, 1e-6);
    expectClose(
      grads,
      Array.from(copy, (g) => g / before),
      1e-5,
      1e-8,
    );
  });

  it('leaves gradients within the limit unchanged', () => {
    const grads = randomArray(random, 50, 0.01);
    const copy = grads.slice();
    expect(clipGradientNorm(grads, 1)).to.be.closeTo(norm(copy), 1e-7);
    expect(Array.from(grads)).to.deep.equal(Array.from(copy));
  });

  it('reports a NaN gradient as a NaN norm and scales nothing', () => {
    const grads = randomArray(random, 10, 5);
    grads[3] = Number.NaN;
    const copy = grads.slice();
    expect(clipGradientNorm(grads, 1)).to.be.NaN;
    expect(Array.from(grads.subarray(4))).to.deep.equal(Array.from(copy.subarray(4)));
  });
});

describe('learningRateAt', () => {
  const schedule = { learningRate: 1, minLearningRate: 0.1, warmupSteps: 10, totalSteps: 110 };

  it('rises linearly through the warm-up, then follows half a cosine to the minimum and stays there', () => {
    const cases: [number, number][] = [
      [0, 0.1],
      [4, 0.5],
      [9, 1], // warm-up: (step + 1)/10
      [10, 1], // decay starts at the peak
      [35, 0.1 + 0.45 * (1 + Math.cos(Math.PI / 4))],
      [60, 0.55], // halfway: the mean of peak and minimum
      [85, 0.1 + 0.45 * (1 + Math.cos((3 * Math.PI) / 4))],
      [110, 0.1],
      [1000, 0.1],
    ];
    for (const [step, expected] of cases) expect(learningRateAt(step, schedule), `step ${step}`).to.be.closeTo(expected, 1e-12);
  });

  it('with no warm-up starts at the peak', () => {
    expect(learningRateAt(0, { ...schedule, warmupSteps: 0 })).to.equal(1);
  });

  it('kept going past the planned end: the decay keeps its plan, then the minimum', () => {
    const longer = { ...schedule, totalSteps: 300, decaySteps: 110 };
    for (const [step, expected] of [
      [4, 0.5],
      [60, 0.55],
      [110, 0.1],
      [250, 0.1],
      [299, 0.1],
    ] as const) {
      expect(learningRateAt(step, longer), `step ${step}`).to.be.closeTo(expected, 1e-12);
    }
  });
});

describe('splitTokens and sampleBatch', () => {
  it('keeps the last tenth as validation', () => {
    const ids = Array.from({ length: 100 }, (_, i) => (i * 7) % 300);
    const { train, validation } = splitTokens(ids);
    expect(Array.from(train)).to.deep.equal(ids.slice(0, 90));
    expect(Array.from(validation)).to.deep.equal(ids.slice(90));
    expect(splitTokens(ids, 0.25).validation.length).to.equal(25);
  });

  it('refuses ids that do not fit 16 bits and fractions outside (0, 1)', () => {
    expect(() => splitTokens([1, 70000, 2])).to.throw(/70000 at position 1/);
    expect(() => splitTokens([1, 2, 3], 1)).to.throw(/between 0 and 1/);
  });

  it('draws windows of the text, each target the token after its input', () => {
    const text = Uint16Array.from({ length: 500 }, (_, i) => i); // position = value, so windows are easy to read
    const [B, T] = [6, 9];
    const inputs = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    sampleBatch(text, B, T, new Random(4), inputs, targets);
    const starts = new Set<number>();
    for (let b = 0; b < B; b++) {
      const start = inputs[b * T]!;
      starts.add(start);
      expect(start + T).to.be.at.most(499);
      for (let t = 0; t < T; t++) {
        expect(inputs[b * T + t]).to.equal(start + t);
        expect(targets[b * T + t]).to.equal(start + t + 1);
      }
    }
    expect(starts.size).to.be.greaterThan(1);
    const again = new Int32Array(B * T);
    sampleBatch(text, B, T, new Random(4), again, new Int32Array(B * T));
    expect(Array.from(again)).to.deep.equal(Array.from(inputs));
  });

  it('refuses a text too short for one window', () => {
    expect(() => sampleBatch(new Uint16Array(8), 1, 8, new Random(1), new Int32Array(8), new Int32Array(8))).to.throw(/9 needed/);
  });
});

describe('Trainer', () => {
  const TEXT = 'the cat sat on the mat. the dog sat on the log. '.repeat(40);
  const tokenizer = CharTokenizer.fromText(TEXT);
  const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, tied: true };
  const dataset = splitTokens(tokenizer.encode(TEXT));
  const settings: Partial<TrainingSettings> = {
    batchSize: 8,
    learningRate: 1e-2,
    minLearningRate: 1e-3,
    warmupSteps: 10,
    totalSteps: 120,
    evalInterval: 50,
    evalBatches: 4,
    seed: 9,
  };

  /** `count` steps in order (each waits for the one before, as the trainer requires of its backend). */
  async function steps(trainer: Trainer, count: number): Promise<StepReport[]> {
    const reports: StepReport[] = [];
    for (let i = 0; i < count; i++) reports.push(await trainer.step());
    return reports;
  }

  it('drives the loss from about ln V to well below 1, with validation on schedule', async () => {
    const trainer = new Trainer(initParameters(config, 3), dataset, settings);
    expect(trainer.settings.seqLen).to.equal(16); // the model's context, shorter than the default 64
    const reports = await steps(trainer, 120);
    expect(reports[0]!.loss).to.be.closeTo(Math.log(tokenizer.size), 0.3);
    const lastTen = reports.slice(-10).reduce((sum, r) => sum + r.loss, 0) / 10;
    expect(lastTen).to.be.below(0.8);
    const validated = reports.filter((r) => r.validationLoss !== undefined).map((r) => r.step);
    expect(validated).to.deep.equal([50, 100, 120]);
    expect(reports[119]!.validationLoss).to.be.below(0.8);
    expect(trainer.stepCount).to.equal(120);
    expect(trainer.tokensSeen).to.equal(120 * 8 * 16);
    expect(reports[119]!.tokensSeen).to.equal(trainer.tokensSeen);
    expect(trainer.history.map((h) => h.loss)).to.deep.equal(reports.map((r) => r.loss));
    expect(reports[5]!.learningRate).to.be.closeTo(6e-3, 1e-12);
  });

  it('gives identical losses for the same seed and different ones for another', async () => {
    const run = async (seed: number) => {
      const trainer = new Trainer(initParameters(config, 3), dataset, { ...settings, seed });
      return (await steps(trainer, 15)).map((report) => report.loss);
    };
    const first = await run(9);
    expect(await run(9)).to.deep.equal(first);
    expect(await run(10)).to.not.deep.equal(first);
  });

  it('stops with TrainingDivergedError on a NaN weight and leaves the weights as they were', async () => {
    const params = initParameters(config, 3);
    const trainer = new Trainer(params, dataset, settings);
    await trainer.step();
    params.lnfw[2] = Number.NaN; // every position goes through the final LayerNorm
    const before = new Uint32Array(params.data.slice().buffer); // bit patterns: NaN compares equal to itself
    const error = await trainer.step().catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(TrainingDivergedError);
    expect((error as Error).message).to.match(/step 2: the loss became NaN/);
    expect(Array.from(new Uint32Array(params.data.buffer, params.data.byteOffset, params.data.length))).to.deep.equal(
      Array.from(before),
    );
    expect(trainer.stepCount).to.equal(1);
  });

  it('stops when an absurd learning rate blows the numbers up, keeping the last finite weights', async () => {
    const params = initParameters(config, 3);
    const trainer = new Trainer(params, dataset, { ...settings, learningRate: 1e30, minLearningRate: 1e30, warmupSteps: 0 });
    let error: unknown;
    let before = params.data.slice();
    for (let i = 0; i < 10 && error === undefined; i++) {
      before = params.data.slice();
      try {
        await trainer.step();
      } catch (caught) {
        error = caught;
      }
    }
    expect(error).to.be.instanceOf(TrainingDivergedError);
    expect((error as Error).message).to.match(/lower learning rate/);
    expect(Array.from(params.data)).to.deep.equal(Array.from(before));
    expect(params.data.every(Number.isFinite)).to.equal(true);
  });

  /**
   * A stand-in for the GPU at the backend boundary: the CPU kernels on a copy of
   * the weights of its own (as GPU memory would be), failing like a lost device
   * on its failAt-th step.
   */
  function otherDevice(failAt = Infinity, destroyed: string[] = []): BackendFactory {
    return (params, trainerSettings) => {
      const own = createParameters(params.config);
      own.data.set(params.data);
      const inner = new CPUTrainingBackend(own, trainerSettings);
      let taken = 0;
      return {
        kind: 'webgpu',
        step: async (batch, learningRate) => {
          if (++taken === failAt) throw new Error('the GPU was lost (simulated)');
          return inner.step(batch, learningRate);
        },
        evaluate: (batches) => inner.evaluate(batches),
        parameters: () => inner.parameters(),
        snapshot: () => inner.snapshot(),
        restore: (snapshot) => inner.restore(snapshot),
        destroy: () => void destroyed.push('destroyed'),
      };
    };
  }

  it('carries weights and AdamW moments across backend switches: the run is the same as one that never switched', async () => {
    const reference = new Trainer(initParameters(config, 3), dataset, settings);
    const expected = await steps(reference, 30);

    const params = initParameters(config, 3);
    const trainer = new Trainer(params, dataset, settings);
    const reports = await steps(trainer, 10);
    await trainer.useBackend(otherDevice());
    expect(trainer.backend.kind).to.equal('webgpu');
    const atSwitch = params.data.slice();
    reports.push(...(await steps(trainer, 10)));
    // The trainer's own copy waits for a sync while another device trains.
    expect(Array.from(params.data)).to.deep.equal(Array.from(atSwitch));
    await trainer.syncParameters();
    expect(Array.from(params.data)).to.not.deep.equal(Array.from(atSwitch));
    await trainer.useBackend((p, s) => new CPUTrainingBackend(p, s));
    reports.push(...(await steps(trainer, 10)));

    expect(reports.map((r) => r.loss)).to.deep.equal(expected.map((r) => r.loss));
    expect(reports.map((r) => r.step)).to.deep.equal(expected.map((r) => r.step));
    expect(trainer.history.map((h) => h.loss)).to.deep.equal(reference.history.map((h) => h.loss));
    expect(Array.from(params.data)).to.deep.equal(Array.from(reference.params.data));
  });

  it('falls back to the CPU from the last backup when the backend fails, and the run goes on as if nothing happened', async () => {
    const reference = new Trainer(initParameters(config, 3), dataset, settings);
    const expected = await steps(reference, 30);

    const destroyed: string[] = [];
    const trainer = new Trainer(initParameters(config, 3), dataset, settings, { backupInterval: 4, backupSeconds: Infinity });
    await steps(trainer, 10);
    // Backups at the switch (step 10), then steps 12 and 16; the device fails on its 8th step (step 18).
    await trainer.useBackend(otherDevice(8, destroyed));
    await steps(trainer, 7);
    const report = await trainer.step();
    const fallback = trainer.takeFallback();
    expect(trainer.takeFallback()).to.equal(null); // told once
    expect(fallback?.resumedFrom).to.equal(16);
    expect(fallback?.message).to.match(/the GPU was lost \(simulated\); training went on on the CPU from step 16/);
    expect(report.step).to.equal(17);
    expect(trainer.backend.kind).to.equal('cpu');
    expect(destroyed).to.deep.equal(['destroyed']);
    expect(trainer.history.map((h) => h.step)).to.deep.equal(Array.from({ length: 17 }, (_, i) => i + 1));
    await steps(trainer, 13);
    expect(trainer.history.map((h) => h.loss)).to.deep.equal(expected.map((r) => r.loss));
    expect(trainer.tokensSeen).to.equal(reference.tokensSeen);
    expect(Array.from(trainer.params.data)).to.deep.equal(Array.from(reference.params.data));
  });

  it('refuses settings it cannot use and texts too short for a window', () => {
    const params = initParameters(config, 3);
    expect(() => new Trainer(params, dataset, { seqLen: 17 })).to.throw(/longer than the model's context of 16/);
    expect(() => new Trainer(params, dataset, { batchSize: 0 })).to.throw(/batchSize must be a positive whole number/);
    expect(() => new Trainer(params, dataset, { beta2: 1 })).to.throw(/beta2/);
    expect(() => new Trainer(params, dataset, { decaySteps: 0 })).to.throw(/decaySteps must be a positive whole number/);
    const short = { train: dataset.train, validation: dataset.validation.subarray(0, 10) };
    expect(() => new Trainer(params, short, {})).to.throw(/validation text has 10 tokens/);
  });

  it('keeps going: more steps, at the learning rate the planned decay ended on', async () => {
    const trainer = new Trainer(initParameters(config, 3), dataset, { ...settings, totalSteps: 12 });
    await steps(trainer, 12);
    trainer.keepGoing(5);
    expect(trainer.settings).to.include({ totalSteps: 17, decaySteps: 12 });
    const more = await steps(trainer, 5);
    expect(more.map((report) => report.step)).to.deep.equal([13, 14, 15, 16, 17]);
    expect(more.map((report) => report.learningRate)).to.deep.equal(Array(5).fill(settings.minLearningRate));
    // The last step of the longer run measures the validation loss, as the last step of any run does.
    expect(more.filter((report) => report.validationLoss !== undefined).map((report) => report.step)).to.deep.equal([17]);
    trainer.keepGoing(3);
    expect(trainer.settings).to.include({ totalSteps: 20, decaySteps: 12 });
    expect(() => trainer.keepGoing(0)).to.throw(/positive whole number/);
  });

  it("defaults to the issue's optimiser settings and gradient clipping at 1", () => {
    expect(DEFAULT_TRAINING).to.include({ beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1 });
  });
});
