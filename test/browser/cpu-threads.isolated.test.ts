// The CPU backend on threads, in a cross-origin isolated page (the test server sends
// COOP and COEP for *.isolated.test.ts): products cut across threads equal one
// thread's to the bit, a training step on 2 threads equals one thread's within
// 1e-6 relative, and a thread that throws fails its step and leaves one thread.
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { gemm, type GemmArgs, initGemm, kernelFloats, sharedFloats, supportedGemmPaths } from '../../workers/engine/gemm.ts';
import { initParameters } from '../../workers/engine/params.ts';
import { CPUTrainingBackend, DEFAULT_TRAINING, type TrainingSettings } from '../../workers/engine/train.ts';
import { setThreads, threadCount, threadsStatus, threadTesting } from '../../workers/engine/threads.ts';
import { randomFor } from './seeded.ts';

const random = randomFor('cpu-threads');
const randomFloats = (n: number, into: Float32Array = new Float32Array(n)) => {
  for (let i = 0; i < n; i++) into[i] = random.uniform() * 2 - 1;
  return into;
};

/** The product `args` give on `threads` threads; with helpersOnly, every block on a helper. */
async function productOn(threads: number, args: GemmArgs, helpersOnly = false): Promise<Float32Array> {
  await setThreads(threads);
  expect(threadCount()).to.equal(threads);
  const out = args.out.slice();
  threadTesting.helpersOnly = helpersOnly;
  try {
    gemm({ ...args, out });
  } finally {
    threadTesting.helpersOnly = false;
  }
  return out;
}

/** Fails naming the first float that differs (chai's deep equal would print a diff of the whole arrays). */
function expectSameFloats(got: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(got.length, what).to.equal(expected.length);
  let first = -1;
  for (let i = 0; i < expected.length && first < 0; i++) if (!Object.is(got[i], expected[i])) first = i;
  expect(first < 0 ? 'all equal' : `[${first}]: ${got[first]}, expected ${expected[first]}`, what).to.equal('all equal');
}

/** Σ_k A(m,k)·B(k,n) + bias in float64, with the strides gemm takes. */
function reference(args: GemmArgs): Float64Array {
  const { a, b, M, K, N, aRow = K, aCol = 1, bRow = N, bCol = 1, bias, accumulate } = args;
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let sum = (bias?.[n] ?? 0) + (accumulate ? args.out[m * N + n] : 0);
      for (let k = 0; k < K; k++) sum += a[m * aRow + k * aCol] * b[k * bRow + n * bCol];
      out[m * N + n] = sum;
    }
  return out;
}

const NANO: GPTConfig = { vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, tied: false };

describe('CPU threads (cross-origin isolated page)', () => {
  before(async () => {
    expect(crossOriginIsolated, 'this page must be cross-origin isolated').to.equal(true);
    await initGemm(supportedGemmPaths()[0]);
  });
  after(async () => {
    await setThreads(1);
  });

  it('runs on the hardware threads by default (setThreads(0)), at most as many as there are', async () => {
    const status = await setThreads(0);
    const max = Math.min(16, navigator.hardwareConcurrency);
    expect(status).to.deep.include({ count: max, asked: 0, max });
    expect(status.note).to.equal(undefined);
  });

  // Each shape is cut a different way: by columns (one row: generation), by rows (few columns), transposed operands.
  // Each shape is cut a different way: by columns (one row: generation), by rows (few columns), transposed
  // operands. Each is above the work threads.ts splits from (2^20 multiply-adds; 2^24 for fewer than 4 rows).
  const shapes: [string, Omit<GemmArgs, 'out' | 'a' | 'b'>][] = [
    ['one row by columns (a token of GPT-2 through its unembedding)', { M: 1, K: 1024, N: 16500 }],
    ['many rows by columns, with bias, accumulating', { M: 96, K: 128, N: 200, accumulate: true }],
    ['few columns: cut by rows', { M: 2000, K: 64, N: 9 }],
    ['x·Wᵀ (bRow 1)', { M: 120, K: 100, N: 130, bRow: 1, bCol: 100 }],
    ['xᵀ·dy (aRow 1)', { M: 128, K: 100, N: 100, aRow: 1, aCol: 128 }],
  ];
  for (const [what, shape] of shapes) {
    it(`cuts a product across 2 threads with the same result to the bit: ${what}`, async () => {
      const { M, K, N } = shape;
      const args: GemmArgs = {
        ...shape,
        out: randomFloats(M * N),
        a: randomFloats(M * K),
        b: randomFloats(K * N),
        bias: shape.accumulate ? randomFloats(N) : null,
      };
      const one = await productOn(1, args);
      expectSameFloats(await productOn(2, args), one, 'blocks taken by whichever thread');
      expectSameFloats(await productOn(2, args, true), one, 'every block on a helper');
      const exact = reference(args);
      for (let i = 0; i < exact.length; i++) expect(one[i]).to.be.closeTo(exact[i], 1e-4 * (1 + Math.abs(exact[i])));
    });
  }

  it('reads weights in a shared kernel memory in place on every thread, and operands already shared', async () => {
    const M = 3;
    const K = 1024;
    const N = 5500;
    const b = kernelFloats(K * N);
    randomFloats(K * N, b);
    const a = sharedFloats(M * K);
    randomFloats(M * K, a);
    expect(a.buffer).to.be.instanceOf(SharedArrayBuffer);
    expect(b.buffer).to.be.instanceOf(SharedArrayBuffer);
    const args: GemmArgs = { out: sharedFloats(M * N), a, b, M, K, N };
    const one = await productOn(1, args);
    expectSameFloats(await productOn(2, args, true), one, 'every block on a helper');
  });

  it('trains a step on 2 threads as on one: loss and gradient within 1e-6 relative, AdamW to the bit', async () => {
    const settings: TrainingSettings = { ...DEFAULT_TRAINING, batchSize: 6, seqLen: 32 };
    const batch = () => {
      const draw = () => new Int32Array(6 * 32).map(() => Math.floor(random.uniform() * NANO.vocabSize));
      return { inputs: draw(), targets: draw() };
    };
    const one = new CPUTrainingBackend(initParameters(NANO, 7), settings);
    const two = new CPUTrainingBackend(initParameters(NANO, 1), settings);
    const relative = (x: Float32Array, y: Float32Array) => {
      let difference = 0;
      let size = 0;
      for (let i = 0; i < y.length; i++) {
        difference += (x[i] - y[i]) ** 2;
        size += y[i] ** 2;
      }
      return Math.sqrt(difference / size);
    };
    for (let step = 0; step < 3; step++) {
      // Both start the step from the same weights and moments: one thread's.
      const start = await one.snapshot();
      two.restore(start);
      const { inputs, targets } = batch();
      await setThreads(1);
      const expected = await one.step({ inputs, targets }, 3e-3);
      await setThreads(2);
      // The middle step leaves every shard, sum and update to the helper.
      threadTesting.helpersOnly = step === 1;
      const got = await two.step({ inputs, targets }, 3e-3).finally(() => (threadTesting.helpersOnly = false));
      expect(Math.abs(got.loss - expected.loss) / expected.loss, `loss of step ${step}`).to.be.below(1e-6);
      expect(Math.abs(got.gradNorm - expected.gradNorm) / expected.gradNorm, `gradient norm of step ${step}`).to.be.below(1e-6);
      expect(relative(two.grads.data, one.grads.data), `gradient of step ${step}`).to.be.below(1e-6);
      // AdamW ran a range per thread: the weights are one thread's update of the same gradient, to the bit.
      const single = new CPUTrainingBackend(initParameters(NANO, 2), settings);
      single.restore(start);
      single.optimizer.update(single.params, two.grads, 3e-3);
      expectSameFloats(two.params.data, single.params.data, `weights after step ${step}`);
      expectSameFloats(two.optimizer.v.data, single.optimizer.v.data, `second moments after step ${step}`);
    }
    const batches = [batch(), batch()];
    await setThreads(1);
    const evaluated = await one.evaluate(batches);
    await setThreads(2);
    expect(Math.abs((await one.evaluate(batches)) - evaluated) / evaluated, 'held-out loss').to.be.below(1e-6);
  });

  it('fails the step of a thread that throws, with a clear error, and trains on one thread after', async () => {
    await setThreads(2);
    const settings: TrainingSettings = { ...DEFAULT_TRAINING, batchSize: 4, seqLen: 16 };
    const backend = new CPUTrainingBackend(initParameters(NANO, 3), settings);
    const batch = { inputs: new Int32Array(64).fill(1), targets: new Int32Array(64).fill(2) };
    await backend.step(batch, 1e-3);
    const before = backend.params.data.slice();
    threadTesting.faultNext = true;
    let error: unknown = null;
    try {
      await backend.step(batch, 1e-3);
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(
      /CPU thread \d+ failed: a fault injected for a test\. The CPU goes on on one thread\./,
    );
    expect(threadCount()).to.equal(1);
    expect(threadsStatus().note).to.match(/a thread failed/);
    expectSameFloats(backend.params.data, before, 'a failed step changes no weight');
    const next = await backend.step(batch, 1e-3);
    expect(next.loss).to.be.a('number').and.to.satisfy(Number.isFinite);
  });
});
