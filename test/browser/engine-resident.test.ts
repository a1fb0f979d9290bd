// Weights in kernel memory (kernelFloats): gemm() reads them in place instead of copying them, chunk by chunk
// through a fixed scratch area. Checked against a float64 triple loop and against plain arrays (the copying path).
import { expect } from 'chai';
import {
  gemm,
  gemmPath,
  type GemmArgs,
  type GemmPath,
  initGemm,
  isKernelResident,
  kernelFloats,
  RESIDENT_MIN_BYTES,
  supportedGemmPaths,
} from '../../workers/engine/gemm.ts';
import { createParameters, parameterLayout, type ParameterTensors } from '../../workers/engine/params.ts';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { createActivations, forward, forwardCached, KVCache, prefill } from '../../workers/engine/model.ts';
import { expectCloseToScale } from './engine-reference.ts';
import { random, randomInt } from './seeded.ts';

/** Values in [−1, 1) from the test's seeded generator. */
function values(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = 2 * random() - 1;
  return out;
}

/** `array`'s values in kernel memory. */
function resident(array: Float32Array, scratchBytes?: number): Float32Array {
  const placed = kernelFloats(array.length, scratchBytes);
  placed.set(array);
  return placed;
}

/** Checks out (after gemm) against a float64 triple loop over the arguments, out0 being out before the call. */
function expectProduct(args: Required<GemmArgs>, out0: Float32Array, what: string): void {
  const { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate } = args;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = bias ? bias[n]! : 0;
      let scale = Math.abs(sum);
      for (let k = 0; k < K; k++) {
        const product = a[m * aRow + k * aCol]! * b[k * bRow + n * bCol]!;
        sum += product;
        scale += Math.abs(product);
      }
      const old = accumulate ? out0[m * N + n]! : 0;
      const error = Math.abs(out[m * N + n]! - (old + sum));
      if (!(error <= 1e-5 * (scale + Math.abs(old)))) {
        expect.fail(`${what}: out[${m},${n}] = ${out[m * N + n]}, expected ${old + sum} (scale ${scale})`);
      }
    }
  }
}

interface Placement {
  /** Which operands lie in kernel memory. */
  a: boolean;
  b: boolean;
  bias: boolean;
  /** Scratch bytes of each resident memory (default: the engine's). */
  scratchBytes?: number;
}

/** Runs one product with the placement asked for, every transposition, bias and accumulate, and checks it. */
function checkProduct(M: number, K: number, N: number, placement: Placement): void {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      for (const accumulate of [false, true]) {
        const [aRow, aCol] = transposeA ? [1, M] : [K, 1];
        const [bRow, bCol] = transposeB ? [1, K] : [N, 1];
        const place = (array: Float32Array, inKernel: boolean) => (inKernel ? resident(array, placement.scratchBytes) : array);
        const a = place(values(M * K), placement.a);
        const b = place(values(K * N), placement.b);
        const bias = place(values(N), placement.bias);
        const out = values(M * N);
        const out0 = out.slice();
        const args = { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate };
        gemm(args);
        const what = `${M}×${K}·${K}×${N} ${JSON.stringify({ transposeA, transposeB, accumulate, ...placement })}`;
        expectProduct(args, out0, what);
      }
    }
  }
}

// One row (generation), a few rows, rows around the 4-row tile, columns past one 512-column chunk, long sums.
const SHAPES: [number, number, number][] = [
  [1, 64, 600],
  [2, 33, 70],
  [3, 40, 9],
  [5, 64, 130],
  [17, 300, 13],
  [40, 48, 1100],
];

const PATHS = supportedGemmPaths();

describe('gemm on weights in kernel memory', () => {
  const initial = gemmPath();
  after(async () => {
    await initGemm(initial);
  });

  it('kernelFloats() gives zeroed arrays that gemm() reads in place; createParameters() uses it for big buffers only', () => {
    const placed = kernelFloats(1000);
    expect(placed.length).to.equal(1000);
    expect(placed.every((x) => x === 0)).to.equal(true);
    expect(isKernelResident(placed)).to.equal(true);
    expect(isKernelResident(placed.subarray(10, 20)), 'a view into it').to.equal(true);
    expect(isKernelResident(new Float32Array(1000))).to.equal(false);
    const big: GPTConfig = { vocabSize: 50257, blockSize: 64, nLayer: 1, nHead: 4, nEmbd: 384, tied: true };
    expect(parameterLayout(big).total * 4).to.be.at.least(RESIDENT_MIN_BYTES);
    expect(isKernelResident(createParameters(big).data)).to.equal(true);
    expect(isKernelResident(createParameters({ ...big, nEmbd: 32 }).data)).to.equal(false);
  });

  for (const path of PATHS) {
    describe(`on the '${path}' path`, () => {
      before(async () => {
        expect(await initGemm(path as GemmPath)).to.equal(path);
      });

      for (const [M, K, N] of SHAPES) {
        it(`matches a float64 triple loop for ${M}×${K}·${K}×${N} with B and the bias in kernel memory`, () => {
          checkProduct(M, K, N, { a: false, b: true, bias: true });
        });
      }

      it('matches it with A in kernel memory and B not, and with both (each in a memory of its own)', () => {
        for (const [M, K, N] of [SHAPES[1]!, SHAPES[4]!, SHAPES[5]!]) {
          checkProduct(M, K, N, { a: true, b: false, bias: false });
          checkProduct(M, K, N, { a: true, b: true, bias: false });
        }
      });

      it('cuts a product into chunks of rows and columns when the scratch area is small', () => {
        checkProduct(100, 200, 300, { a: false, b: true, bias: true, scratchBytes: 8192 });
        checkProduct(randomInt(1, 4), 300, 700, { a: false, b: true, bias: false, scratchBytes: 8192 });
      });

      it('copies as for plain arrays when not even one chunk fits the scratch area', () => {
        // 16,384 floats fill whole pages: with no scratch asked for, there is none.
        checkProduct(6, 128, 128, { a: false, b: true, bias: true, scratchBytes: 0 });
      });

      it('gives what plain arrays give', () => {
        const [M, K, N] = [33, 96, 1030];
        const a = values(M * K);
        const b = values(K * N);
        const bias = values(N);
        const plain = new Float32Array(M * N);
        const inPlace = new Float32Array(M * N);
        gemm({ out: plain, a, b, bias, M, K, N });
        gemm({ out: inPlace, a, b: resident(b), bias, M, K, N });
        expectCloseToScale(inPlace, plain, 1e-6);
      });
    });
  }

  it('keeps arrays and their views valid while other memories are made, products grow the copying memory and paths change', async () => {
    const [M, K, N] = [7, 256, 300];
    const weights = resident(values(2 * K * N));
    const second = weights.subarray(K * N);
    const saved = second.slice();
    const a = values(M * K);
    const first = new Float32Array(M * N);
    gemm({ out: first, a, b: second, M, K, N });
    // Other big memories (untouched pages cost nothing), and a product big enough to grow the copying path's memory.
    const others = [kernelFloats(16 * 2 ** 20), kernelFloats(16 * 2 ** 20), kernelFloats(32 * 2 ** 20)];
    const [bigM, bigK, bigN] = [600, 700, 800];
    gemm({ out: new Float32Array(bigM * bigN), a: values(bigM * bigK), b: values(bigK * bigN), M: bigM, K: bigK, N: bigN });
    for (const path of PATHS) {
      await initGemm(path as GemmPath);
      expect(second.length, 'still attached').to.equal(K * N);
      expect(Array.from(second.subarray(0, 50))).to.deep.equal(Array.from(saved.subarray(0, 50)));
      const again = new Float32Array(M * N);
      gemm({ out: again, a, b: second, M, K, N });
      expectCloseToScale(again, first, 1e-5);
    }
    expect(others.every((array) => array.length > 0)).to.equal(true);
  });
});

// GPT-2's vocabulary and layout, a small width.
const GPT2_SHAPED: GPTConfig = { vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 32, tied: true };

/** GPT-2-shaped random weights, in kernel memory or in a plain array. */
function model(inKernel: boolean, data?: Float32Array): ParameterTensors {
  const { total } = parameterLayout(GPT2_SHAPED);
  const buffer = inKernel ? kernelFloats(total) : new Float32Array(total);
  buffer.set(data ?? values(total));
  return createParameters(GPT2_SHAPED, buffer);
}

const randomIds = (T: number) => Array.from({ length: T }, () => randomInt(0, GPT2_SHAPED.vocabSize));

describe('forward on a GPT-2-shaped model in kernel memory', () => {
  const V = GPT2_SHAPED.vocabSize;
  const initial = gemmPath();
  after(async () => {
    await initGemm(initial);
  });

  for (const path of PATHS) {
    it(`with lastOnly gives the last row of the full forward, with and without capture ('${path}')`, async () => {
      await initGemm(path as GemmPath);
      const params = model(true);
      for (const T of [1, randomInt(2, 40), 64]) {
        const ids = randomIds(T);
        const full = forward(params, ids).logits;
        expect(full.length).to.equal(T * V);
        const last = forward(params, ids, { lastOnly: true }).logits;
        expect(last.length).to.equal(V);
        expectCloseToScale(last, full.subarray((T - 1) * V), 1e-5);
        const captured = forward(params, ids, { lastOnly: true, capture: true });
        expectCloseToScale(captured.logits, full.subarray((T - 1) * V), 1e-5);
        expect(captured.capture?.layers.length).to.equal(GPT2_SHAPED.nLayer);
      }
    });
  }

  it('gives what the same weights in a plain array give', () => {
    const inKernel = model(true);
    const plain = model(false, inKernel.data);
    const ids = randomIds(randomInt(10, 64));
    expectCloseToScale(forward(inKernel, ids).logits, forward(plain, ids).logits, 1e-5);
  });

  it('prefill and then one token at a time give the full forward’s rows', () => {
    const params = model(true);
    const ids = randomIds(40);
    const full = forward(params, ids).logits;
    const cache = new KVCache(GPT2_SHAPED);
    const start = randomInt(1, 30);
    expectCloseToScale(prefill(params, cache, ids.slice(0, start)), full.subarray((start - 1) * V, start * V), 1e-5);
    for (let t = start; t < ids.length; t++) {
      expectCloseToScale(forwardCached(params, cache, ids[t]!), full.subarray(t * V, (t + 1) * V), 1e-5);
    }
  });

  it('sizes the logits of a last-row-only forward to one row per sequence', () => {
    const acts = createActivations({ ...GPT2_SHAPED, blockSize: 1024, nLayer: 1 }, 1, 1024, true);
    expect(acts.logits.length).to.equal(V);
  });
});
