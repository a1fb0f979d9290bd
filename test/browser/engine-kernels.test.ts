import { expect } from 'chai';
import {
  attentionForward,
  crossEntropyForward,
  encoderForward,
  geluForward,
  layernormForward,
  matmulForward,
  residualForward,
  unembedForward,
} from '../../workers/engine/kernels.ts';
import { Random } from '../../workers/engine/random.ts';
import {
  expectClose,
  flatten,
  randomArray,
  randomTokens,
  refAttention,
  refGelu,
  refLayerNorm,
  refMatmul,
  toMatrix,
  transpose,
} from './engine-reference.ts';

const random = new Random(20240611);

describe('encoderForward', () => {
  it('adds the token row of wte and the position row of wpe', () => {
    const [B, T, C, V] = [2, 5, 7, 11];
    const wte = randomArray(random, V * C);
    const wpe = randomArray(random, 9 * C);
    const tokens = randomTokens(random, B * T, V);
    const out = new Float32Array(B * T * C);
    encoderForward(out, tokens, wte, wpe, B, T, C);
    const expected: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) expected.push(wte[tokens[b * T + t]! * C + c]! + wpe[t * C + c]!);
      }
    }
    expectClose(out, expected, 1e-6);
  });
});

describe('layernormForward', () => {
  it('normalises [1, 2, 3] by hand', () => {
    const out = new Float32Array(3);
    const mean = new Float32Array(1);
    const rstd = new Float32Array(1);
    layernormForward(out, mean, rstd, new Float32Array([1, 2, 3]), new Float32Array([1, 1, 1]), new Float32Array(3), 1, 3);
    // mean 2, variance 2/3, so (x − 2)/√(2/3 + 1e-5)
    expectClose(out, [-1.2247356859, 0, 1.2247356859], 1e-6, 1e-7);
    expectClose(mean, [2], 1e-7);
    expectClose(rstd, [1.2247356859], 1e-6);
  });

  it('applies the gain and shift: [1, 2, 3] with weight 2, bias 1', () => {
    const out = new Float32Array(3);
    layernormForward(
      out,
      new Float32Array(1),
      new Float32Array(1),
      new Float32Array([1, 2, 3]),
      new Float32Array([2, 2, 2]),
      new Float32Array([1, 1, 1]),
      1,
      3,
    );
    expectClose(out, [1 - 2 * 1.2247356859, 1, 1 + 2 * 1.2247356859], 1e-6);
  });

  for (const [N, C] of [
    [6, 5],
    [3, 64],
    [1, 1],
  ] as const) {
    it(`matches the reference on random rows (N=${N}, C=${C})`, () => {
      const inp = randomArray(random, N * C, 3);
      for (let i = 0; i < inp.length; i++) inp[i]! += 2; // a nonzero mean to remove
      const weight = randomArray(random, C);
      const bias = randomArray(random, C);
      const out = new Float32Array(N * C);
      const mean = new Float32Array(N);
      const rstd = new Float32Array(N);
      layernormForward(out, mean, rstd, inp, weight, bias, N, C);
      const ref = refLayerNorm(toMatrix(inp, N, C), Array.from(weight), Array.from(bias));
      expectClose(out, flatten(ref.out), 1e-5, 1e-5);
      expectClose(mean, ref.mean, 1e-5, 1e-6);
      expectClose(rstd, ref.rstd, 1e-5);
    });
  }
});

describe('matmulForward', () => {
  it('computes a 1×2 by 2×3 product plus bias by hand', () => {
    const out = new Float32Array(3);
    matmulForward(out, new Float32Array([1, 2]), new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([0.5, 0, -1]), 1, 2, 3);
    // [1·1 + 2·4 + 0.5, 1·2 + 2·5 + 0, 1·3 + 2·6 − 1]
    expectClose(out, [9.5, 12, 14], 0);
  });

  // Sizes cover whole 4×4 tiles, leftover rows, ragged right edges, and (C = 1024) several row blocks.
  for (const [N, C, OC] of [
    [1, 3, 5],
    [7, 6, 18],
    [8, 16, 4],
    [5, 13, 11],
    [12, 32, 128],
    [4, 1, 1],
    [38, 1024, 6],
  ] as const) {
    it(`matches the reference x·W + b (N=${N}, C=${C}, OC=${OC})`, () => {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C * OC);
      const bias = randomArray(random, OC);
      const out = new Float32Array(N * OC).fill(Number.NaN); // every entry must be written
      matmulForward(out, inp, weight, bias, N, C, OC);
      const ref = refMatmul(toMatrix(inp, N, C), toMatrix(weight, C, OC), Array.from(bias));
      expectClose(out, flatten(ref), 1e-5, 1e-5);
    });
  }
});

describe('unembedForward', () => {
  for (const [N, C, V] of [
    [3, 5, 7],
    [9, 8, 13],
    [1, 16, 97],
  ] as const) {
    it(`matches the reference x·Wᵀ with W [V, C] (N=${N}, C=${C}, V=${V})`, () => {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, V * C);
      const logits = new Float32Array(N * V).fill(Number.NaN);
      unembedForward(logits, inp, weight, N, C, V);
      const ref = refMatmul(toMatrix(inp, N, C), transpose(toMatrix(weight, V, C)));
      expectClose(logits, flatten(ref), 1e-5, 1e-5);
    });
  }
});

describe('geluForward', () => {
  it('gives the tanh-approximation values at known points', () => {
    const xs = [0, 1, -1, 2, -3, 0.5, 10, -10];
    const out = new Float32Array(xs.length);
    geluForward(out, new Float32Array(xs), xs.length);
    expectClose(out, [0, 0.8411919906, -0.1588080094, 1.9545976941, -0.0036373921, 0.3457140098, 10, 0], 1e-6, 1e-7);
  });

  it('matches the formula on random inputs', () => {
    const inp = randomArray(random, 1000, 3);
    const out = new Float32Array(1000);
    geluForward(out, inp, 1000);
    expectClose(out, Array.from(inp, refGelu), 1e-6, 1e-7);
  });
});

describe('residualForward', () => {
  it('adds elementwise', () => {
    const a = randomArray(random, 50);
    const b = randomArray(random, 50);
    const out = new Float32Array(50);
    residualForward(out, a, b, 50);
    expectClose(
      out,
      Array.from(a, (v, i) => v + b[i]!),
      1e-7,
    );
  });
});

describe('attentionForward', () => {
  it('works two tokens through one head by hand', () => {
    // C = 2, one head. Position 0: q=[1,0] k=[1,0] v=[1,2]; position 1: q=[0,1] k=[1,1] v=[3,4].
    const qkv = new Float32Array([1, 0, 1, 0, 1, 2, 0, 1, 1, 1, 3, 4]);
    const out = new Float32Array(4);
    const preatt = new Float32Array(4);
    const att = new Float32Array(4);
    attentionForward(out, preatt, att, qkv, 1, 2, 2, 1);
    const s = Math.SQRT1_2; // q·k / √2 where q·k = 1
    // Query 1 sees keys 0 and 1 with scores 0 and s: weights 1/(1+e^s) and e^s/(1+e^s).
    const w0 = 1 / (1 + Math.exp(s));
    const w1 = 1 - w0;
    expectClose(preatt, [s, s, 0, s], 1e-6, 1e-7); // the future score (0 → 1) is kept
    expectClose(att, [1, 0, w0, w1], 1e-6);
    expect(att[1]).to.equal(0);
    expectClose(out, [1, 2, w0 * 1 + w1 * 3, w0 * 2 + w1 * 4], 1e-6);
  });

  for (const [B, T, C, NH] of [
    [2, 5, 8, 2],
    [1, 7, 6, 3],
    [3, 4, 12, 4],
  ] as const) {
    it(`matches the per-head reference (B=${B}, T=${T}, C=${C}, NH=${NH})`, () => {
      const qkv = randomArray(random, B * T * 3 * C);
      const out = new Float32Array(B * T * C).fill(Number.NaN);
      const preatt = new Float32Array(B * NH * T * T).fill(Number.NaN);
      const att = new Float32Array(B * NH * T * T).fill(Number.NaN);
      attentionForward(out, preatt, att, qkv, B, T, C, NH);
      for (let b = 0; b < B; b++) {
        const ref = refAttention(toMatrix(qkv, T, 3 * C, b * T * 3 * C), NH);
        expectClose(out.subarray(b * T * C, (b + 1) * T * C), flatten(ref.out), 1e-5, 1e-6);
        const size = NH * T * T;
        expectClose(preatt.subarray(b * size, (b + 1) * size), ref.scores.flat(2), 1e-5, 1e-6);
        expectClose(att.subarray(b * size, (b + 1) * size), ref.pattern.flat(2), 1e-5, 1e-7);
      }
    });
  }
});

describe('crossEntropyForward', () => {
  it('gives −log p(target) by hand: logits [0, ln 3] mean p = [1/4, 3/4]', () => {
    const losses = new Float32Array(2);
    crossEntropyForward(losses, new Float32Array([0, Math.log(3), 0, Math.log(3)]), [1, 0], 2, 2);
    expectClose(losses, [Math.log(4 / 3), Math.log(4)], 1e-6);
  });

  it('stays finite for a target the model rules out', () => {
    const losses = new Float32Array(1);
    crossEntropyForward(losses, new Float32Array([1000, 0]), [1], 1, 2);
    expectClose(losses, [1000], 1e-6);
  });

  it('matches −log softmax on random logits', () => {
    const [N, V] = [6, 13];
    const logits = randomArray(random, N * V, 2);
    const targets = randomTokens(random, N, V);
    const losses = new Float32Array(N);
    crossEntropyForward(losses, logits, targets, N, V);
    const expected = toMatrix(logits, N, V).map((row, n) => {
      const sum = row.reduce((a, v) => a + Math.exp(v), 0);
      return -Math.log(Math.exp(row[targets[n]!]!) / sum);
    });
    expectClose(losses, expected, 1e-5);
  });
});
