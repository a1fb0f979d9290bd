import { expect } from 'chai';
import { gemm, gemmPath, initGemm, supportedGemmPaths, type GemmArgs, type GemmPath } from '../../workers/engine/gemm.ts';
import { Random } from '../../workers/engine/random.ts';
import { randomArray } from './engine-reference.ts';

const random = new Random(31337);

interface Case {
  M: number;
  K: number;
  N: number;
  transposeA: boolean;
  transposeB: boolean;
  accumulate: boolean;
  withBias: boolean;
  /** Extra floats between rows of the stored matrices (a sub-block of a bigger one). */
  padding: number;
}

/**
 * out (+)= bias + A·B as a float64 triple loop, plus each entry's scale
 * Σ_k |A(m,k)·B(k,n)| + |bias[n]| + |old out|: float32 rounding errors are
 * relative to that, not to the result, which can cancel to near zero. It reads
 * the arguments given to gemm() with every stride spelled out, and out's values
 * from before the call (out0).
 */
function reference(out0: Float32Array, args: Required<GemmArgs>): { value: Float64Array; scale: Float64Array } {
  const { a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate } = args;
  const value = new Float64Array(M * N);
  const scale = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = bias ? bias[n]! : 0;
      let size = Math.abs(sum);
      for (let k = 0; k < K; k++) {
        const product = a[m * aRow + k * aCol]! * b[k * bRow + n * bCol]!;
        sum += product;
        size += Math.abs(product);
      }
      const old = accumulate ? out0[m * N + n]! : 0;
      value[m * N + n] = old + sum;
      scale[m * N + n] = size + Math.abs(old);
    }
  }
  return { value, scale };
}

function check(c: Case, tolerance: number): void {
  const { M, K, N, padding } = c;
  // A stored [M,K] (or [K,M] when transposed), B stored [K,N] (or [N,K]), each row padded.
  const [aRow, aCol] = c.transposeA ? [1, M + padding] : [K + padding, 1];
  const [bRow, bCol] = c.transposeB ? [1, K + padding] : [N + padding, 1];
  const a = randomArray(random, c.transposeA ? K * (M + padding) : M * (K + padding));
  const b = randomArray(random, c.transposeB ? N * (K + padding) : K * (N + padding));
  const bias = c.withBias ? randomArray(random, N) : null;
  const sentinel = 12345;
  const out = randomArray(random, M * N + 3);
  out.fill(sentinel, M * N);
  const out0 = out.slice();
  const args: Required<GemmArgs> = { out, a, b, bias, M, K, N, aRow, aCol, bRow, bCol, accumulate: c.accumulate };
  const expected = reference(out0, args);
  gemm(args);
  for (let i = 0; i < M * N; i++) {
    const error = Math.abs(out[i]! - expected.value[i]!);
    if (!(error <= tolerance * expected.scale[i]!)) {
      expect.fail(
        `${JSON.stringify(c)}: out[${i}] = ${out[i]}, expected ${expected.value[i]} (error ${error}, scale ${expected.scale[i]})`,
      );
    }
  }
  expect(Array.from(out.subarray(M * N)), 'floats past M·N untouched').to.deep.equal([sentinel, sentinel, sentinel]);
}

// 1×1, an empty sum (K = 0: out is the bias), sizes around the kernel's blocks (6 rows, 8 columns, K slices of 256), odd
// sizes, a single row (KV cache) and the nano-cpu model's shapes.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [4, 0, 9],
  [2, 3, 4],
  [5, 7, 3],
  [6, 8, 8],
  [7, 9, 9],
  [13, 17, 11],
  [1, 128, 384],
  [3, 200, 65],
  [12, 255, 16],
  [19, 256, 24],
  [25, 257, 33],
  [37, 600, 7],
  [64, 128, 65],
  [96, 64, 130],
];

const PATHS = supportedGemmPaths();

describe('gemm', () => {
  const initial = gemmPath();
  after(async () => {
    await initGemm(initial);
  });

  it('runs WebAssembly SIMD in Chromium; initGemm() picks the fastest path this browser has', async () => {
    expect(PATHS).to.include('simd');
    expect(await initGemm()).to.equal(PATHS[0]);
    expect(gemmPath()).to.equal(PATHS[0]);
  });

  for (const path of PATHS) {
    describe(`on the '${path}' path`, () => {
      before(async () => {
        expect(await initGemm(path as GemmPath)).to.equal(path);
      });

      for (const [M, K, N] of SHAPES) {
        it(`matches a float64 triple loop for ${M}×${K}·${K}×${N}, all transpositions, with and without bias and accumulate`, () => {
          for (const transposeA of [false, true]) {
            for (const transposeB of [false, true]) {
              for (const accumulate of [false, true]) {
                for (const withBias of [false, true]) {
                  check({ M, K, N, transposeA, transposeB, accumulate, withBias, padding: 0 }, 1e-5);
                }
              }
            }
          }
        });
      }

      it('reads sub-blocks of bigger matrices (row strides larger than the width, a little or a lot)', () => {
        for (const padding of [5, 100]) {
          for (const transposeA of [false, true]) {
            for (const transposeB of [false, true]) {
              check({ M: 14, K: 70, N: 19, transposeA, transposeB, accumulate: true, withBias: true, padding }, 1e-5);
            }
          }
        }
      });

      it('gives the same result for the same inputs on repeated calls (memory reused)', () => {
        const [M, K, N] = [40, 90, 50];
        const a = randomArray(random, M * K);
        const b = randomArray(random, K * N);
        const first = new Float32Array(M * N);
        gemm({ out: first, a, b, M, K, N });
        gemm({
          out: new Float32Array(500 * 500),
          a: randomArray(random, 500 * 300),
          b: randomArray(random, 300 * 500),
          M: 500,
          K: 300,
          N: 500,
        });
        const second = new Float32Array(M * N);
        gemm({ out: second, a, b, M, K, N });
        expect(Array.from(second)).to.deep.equal(Array.from(first));
      });
    });
  }
});
