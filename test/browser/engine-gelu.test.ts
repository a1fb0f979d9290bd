// GELU forward and backward on every path (WebAssembly SIMD with and without relaxed SIMD, JavaScript)
// against the tanh formula evaluated in float64.
import { expect } from 'chai';
import { gemmPath, initGemm, supportedGemmPaths, type GemmPath } from '../../workers/engine/gemm.ts';
import { geluBackward, geluForward } from '../../workers/engine/kernels.ts';
import { Random } from '../../workers/engine/random.ts';
import { expectClose, randomArray, refGelu } from './engine-reference.ts';

const random = new Random(7_001);

/** d/dx of 0.5·x·(1 + tanh u), u = √(2/π)·(x + 0.044715·x³), by hand. */
function refGeluDerivative(x: number): number {
  const scale = Math.sqrt(2 / Math.PI);
  const t = Math.tanh(scale * (x + 0.044715 * x ** 3));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * scale * (1 + 3 * 0.044715 * x * x);
}

/** Spread-out random values (lengths not multiples of 4) plus the tails, where exp over- or underflows without care. */
function inputs(length: number): Float32Array {
  const tails = [0, 1e-4, -1e-4, 4.5, -4.5, 9, -9, 12, -12, 30, -30, 100, -100, 1e6, -1e6];
  const values = randomArray(random, length, 3);
  values.set(tails.slice(0, length), 0);
  return values;
}

const SENTINEL = 12.5;

describe('GELU forward and backward on every path', () => {
  const initial = gemmPath();
  after(async () => {
    await initGemm(initial);
  });

  for (const path of supportedGemmPaths()) {
    describe(`on the '${path}' path`, () => {
      before(async () => {
        expect(await initGemm(path as GemmPath)).to.equal(path);
      });

      // 1, 3 and 1003 floats; 10_001 spans several of the WebAssembly path's chunks of 4096.
      for (const N of [1, 3, 1003, 10_001]) {
        it(`geluForward matches the float64 formula (N=${N}), leaving floats past N alone`, () => {
          const inp = inputs(N);
          const out = new Float32Array(N + 3).fill(SENTINEL);
          geluForward(out, inp, N);
          expectClose(out.subarray(0, N), Array.from(inp, refGelu), 2e-6, 1e-7);
          expect(Array.from(out.subarray(N))).to.deep.equal([SENTINEL, SENTINEL, SENTINEL]);
        });

        it(`geluBackward adds the float64 derivative times dout (N=${N}), leaving floats past N alone`, () => {
          const inp = inputs(N);
          const dout = randomArray(random, N);
          const start = randomArray(random, N + 3);
          start.fill(SENTINEL, N);
          const dinp = start.slice();
          geluBackward(dinp, inp, dout, N);
          const added = Array.from(dinp.subarray(0, N), (v, i) => v - start[i]!);
          const expected = Array.from(inp, (x, i) => refGeluDerivative(x) * dout[i]!);
          // The sum is rounded at the scale of what dinp held (|start| ~ 1).
          expectClose(added, expected, 5e-6, 5e-7);
          expect(Array.from(dinp.subarray(N))).to.deep.equal([SENTINEL, SENTINEL, SENTINEL]);
        });
      }
    });
  }
});
