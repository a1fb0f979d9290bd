// Backward kernels and the whole backward pass against central finite differences
// of the plain float64 references in engine-reference.ts (never of the engine itself).
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import {
  attentionBackward,
  attentionForward,
  crossEntropySoftmaxBackward,
  encoderBackward,
  geluBackward,
  layernormBackward,
  layernormForward,
  matmulBackward,
  residualBackward,
  unembedBackward,
} from '../../workers/engine/kernels.ts';
import { createActivationGradients, createActivations, lossAndGradients } from '../../workers/engine/model.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import {
  expectCloseToScale,
  float64Parameters,
  type Matrix,
  numericGradient,
  randomArray,
  randomizeParameters,
  randomTokens,
  refAttention,
  refForward,
  refGelu,
  refLayerNorm,
  refMatmul,
  type RefParameters,
  refSoftmax,
  expectGradientsMatch,
  toMatrix,
  transpose,
} from './engine-reference.ts';

const random = new Random(31_415_926);

/** Σ weights·values: turns a function's output into the scalar whose gradient a backward kernel computes. */
function weightedSum(weights: ArrayLike<number>, values: Matrix | number[]): number {
  const flat = (values as number[][]).flat();
  let sum = 0;
  for (let i = 0; i < flat.length; i++) sum += weights[i]! * flat[i]!;
  return sum;
}

/**
 * Backward kernels add into their gradient buffers: each buffer starts with
 * random values and must end at those plus the numeric gradient.
 */
function gradientBuffer(length: number): { buffer: Float32Array; added: () => number[] } {
  const start = randomArray(random, length);
  const buffer = start.slice();
  return { buffer, added: () => Array.from(buffer, (v, i) => v - start[i]!) };
}

const TOLERANCE = 2e-4;

/** Expects a kernel's gradient to match central differences of f at `at`, within TOLERANCE of their scale. */
function expectGradient(actual: ArrayLike<number>, f: (x: Float64Array) => number, at: ArrayLike<number>): void {
  expectCloseToScale(actual, numericGradient(f, at), TOLERANCE);
}

describe('encoderBackward', () => {
  it('adds dout into the wte rows of the tokens (repeats summed) and the wpe rows of the positions', () => {
    const [B, T, C, V] = [2, 5, 7, 3]; // 10 tokens from 3 ids: repeats are certain
    const tokens = randomTokens(random, B * T, V);
    const dout = randomArray(random, B * T * C);
    const refEncode = (wte: ArrayLike<number>, wpe: ArrayLike<number>): number[] => {
      const out: number[] = [];
      for (let i = 0; i < B * T; i++) for (let c = 0; c < C; c++) out.push(wte[tokens[i]! * C + c]! + wpe[(i % T) * C + c]!);
      return out;
    };
    const wte = randomArray(random, V * C);
    const wpe = randomArray(random, T * C);
    const dwte = gradientBuffer(V * C);
    const dwpe = gradientBuffer(T * C);
    encoderBackward(dwte.buffer, dwpe.buffer, dout, tokens, B, T, C);
    expectGradient(dwte.added(), (x) => weightedSum(dout, refEncode(x, wpe)), wte);
    expectGradient(dwpe.added(), (x) => weightedSum(dout, refEncode(wte, x)), wpe);
  });
});

describe('layernormBackward', () => {
  for (const [N, C] of [
    [5, 7],
    [3, 13],
    [2, 1],
  ] as const) {
    it(`matches finite differences of the reference LayerNorm (N=${N}, C=${C})`, () => {
      const inp = randomArray(random, N * C, 2);
      for (let i = 0; i < inp.length; i++) inp[i]! += 1.5;
      const weight = randomArray(random, C);
      const bias = randomArray(random, C);
      const dout = randomArray(random, N * C);
      const mean = new Float32Array(N);
      const rstd = new Float32Array(N);
      layernormForward(new Float32Array(N * C), mean, rstd, inp, weight, bias, N, C);
      const dinp = gradientBuffer(N * C);
      const dweight = gradientBuffer(C);
      const dbias = gradientBuffer(C);
      layernormBackward(dinp.buffer, dweight.buffer, dbias.buffer, dout, inp, weight, mean, rstd, N, C);
      const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
        weightedSum(dout, refLayerNorm(toMatrix(x, N, C), Array.from(w), Array.from(b)).out);
      expectGradient(dinp.added(), (x) => loss(x, weight, bias), inp);
      expectGradient(dweight.added(), (w) => loss(inp, w, bias), weight);
      expectGradient(dbias.added(), (b) => loss(inp, weight, b), bias);
    });
  }
});

describe('matmulBackward', () => {
  for (const [N, C, OC] of [
    [7, 5, 6],
    [5, 13, 11],
    [1, 3, 9],
    [10, 6, 1],
  ] as const) {
    it(`matches finite differences of x·W + b (N=${N}, C=${C}, OC=${OC})`, () => {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, C * OC);
      const bias = randomArray(random, OC);
      const dout = randomArray(random, N * OC);
      const dinp = gradientBuffer(N * C);
      const dweight = gradientBuffer(C * OC);
      const dbias = gradientBuffer(OC);
      matmulBackward(dinp.buffer, dweight.buffer, dbias.buffer, dout, inp, weight, N, C, OC);
      const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) =>
        weightedSum(dout, refMatmul(toMatrix(x, N, C), toMatrix(w, C, OC), Array.from(b)));
      expectGradient(dinp.added(), (x) => loss(x, weight, bias), inp);
      expectGradient(dweight.added(), (w) => loss(inp, w, bias), weight);
      expectGradient(dbias.added(), (b) => loss(inp, weight, b), bias);
    });
  }

  it('skips the bias gradient when given none', () => {
    const [N, C, OC] = [3, 5, 7];
    const inp = randomArray(random, N * C);
    const weight = randomArray(random, C * OC);
    const dout = randomArray(random, N * OC);
    const dinp = gradientBuffer(N * C);
    const dweight = gradientBuffer(C * OC);
    matmulBackward(dinp.buffer, dweight.buffer, null, dout, inp, weight, N, C, OC);
    const loss = (x: ArrayLike<number>, w: ArrayLike<number>) =>
      weightedSum(dout, refMatmul(toMatrix(x, N, C), toMatrix(w, C, OC)));
    expectGradient(dinp.added(), (x) => loss(x, weight), inp);
    expectGradient(dweight.added(), (w) => loss(inp, w), weight);
  });
});

describe('unembedBackward', () => {
  for (const [N, C, V] of [
    [7, 5, 11],
    [3, 9, 2],
  ] as const) {
    it(`matches finite differences of x·Wᵀ with W [V, C] (N=${N}, C=${C}, V=${V})`, () => {
      const inp = randomArray(random, N * C);
      const weight = randomArray(random, V * C);
      const dlogits = randomArray(random, N * V);
      const dinp = gradientBuffer(N * C);
      const dweight = gradientBuffer(V * C);
      unembedBackward(dinp.buffer, dweight.buffer, dlogits, inp, weight, N, C, V);
      const loss = (x: ArrayLike<number>, w: ArrayLike<number>) =>
        weightedSum(dlogits, refMatmul(toMatrix(x, N, C), transpose(toMatrix(w, V, C))));
      expectGradient(dinp.added(), (x) => loss(x, weight), inp);
      expectGradient(dweight.added(), (w) => loss(inp, w), weight);
    });
  }
});

describe('attentionBackward', () => {
  /** One query row: softmax over the first `visible` scores, then the weighted sum of value rows. */
  function attendRow(scores: ArrayLike<number>, visible: number, values: Matrix, masked = true): number[] {
    const weights = masked ? refSoftmax(Array.from(scores).slice(0, visible)) : Array.from(scores);
    return values[0]!.map((_, i) => weights.reduce((sum, w, j) => sum + w * values[j]![i]!, 0));
  }

  for (const [B, T, C, NH] of [
    [2, 5, 6, 2],
    [1, 7, 9, 3],
    [3, 3, 5, 1],
  ] as const) {
    it(`matches finite differences of the per-head reference (B=${B}, T=${T}, C=${C}, NH=${NH})`, () => {
      const hs = C / NH;
      const qkv = randomArray(random, B * T * 3 * C);
      const dout = randomArray(random, B * T * C);
      const preatt = new Float32Array(B * NH * T * T);
      const att = new Float32Array(B * NH * T * T);
      attentionForward(new Float32Array(B * T * C), preatt, att, qkv, B, T, C, NH);
      const dqkv = gradientBuffer(qkv.length);
      const dpreatt = new Float32Array(att.length).fill(Number.NaN); // working space: written, not added to
      const datt = new Float32Array(att.length).fill(Number.NaN);
      attentionBackward(dqkv.buffer, dpreatt, datt, dout, qkv, att, B, T, C, NH);

      const loss = (x: ArrayLike<number>) => {
        let sum = 0;
        for (let b = 0; b < B; b++) {
          const out = refAttention(toMatrix(x, T, 3 * C, b * T * 3 * C), NH).out;
          sum += weightedSum(dout.subarray(b * T * C), out);
        }
        return sum;
      };
      expectGradient(dqkv.added(), loss, qkv);

      // Per row, the gradients with respect to the weights and to the raw scores (hidden keys: 0).
      const expectedDatt: number[] = [];
      const expectedDpreatt: number[] = [];
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < NH; h++) {
          const values = toMatrix(qkv, T, 3 * C, b * T * 3 * C).map((row) => row.slice(2 * C + h * hs, 2 * C + (h + 1) * hs));
          for (let t = 0; t < T; t++) {
            const rowOff = ((b * NH + h) * T + t) * T;
            const g = dout.subarray((b * T + t) * C + h * hs, (b * T + t) * C + (h + 1) * hs);
            const visibleValues = values.slice(0, t + 1);
            const weights = att.subarray(rowOff, rowOff + t + 1);
            const scores = preatt.subarray(rowOff, rowOff + t + 1);
            const dWeights = numericGradient((w) => weightedSum(g, attendRow(w, t + 1, visibleValues, false)), weights);
            const dScores = numericGradient((s) => weightedSum(g, attendRow(s, t + 1, visibleValues)), scores);
            for (let j = 0; j < T; j++) {
              expectedDatt.push(j <= t ? dWeights[j]! : 0);
              expectedDpreatt.push(j <= t ? dScores[j]! : 0);
            }
          }
        }
      }
      expectCloseToScale(datt, expectedDatt, TOLERANCE);
      expectCloseToScale(dpreatt, expectedDpreatt, TOLERANCE);
    });
  }
});

describe('geluBackward', () => {
  it('matches finite differences of the GELU formula', () => {
    const N = 301;
    const inp = randomArray(random, N, 3);
    const dout = randomArray(random, N);
    const dinp = gradientBuffer(N);
    geluBackward(dinp.buffer, inp, dout, N);
    expectGradient(dinp.added(), (x) => weightedSum(dout, Array.from(x, refGelu)), inp);
  });
});

describe('residualBackward', () => {
  it('adds dout to both terms', () => {
    const N = 23;
    const dout = randomArray(random, N);
    const da = gradientBuffer(N);
    const db = gradientBuffer(N);
    residualBackward(da.buffer, db.buffer, dout, N);
    expectCloseToScale(da.added(), dout, 1e-6);
    expectCloseToScale(db.added(), dout, 1e-6);
  });
});

describe('crossEntropySoftmaxBackward', () => {
  it('gives (softmax − onehot)·scale by hand: logits [0, ln 3], target 0', () => {
    const dlogits = new Float32Array(2);
    crossEntropySoftmaxBackward(dlogits, new Float32Array([0, Math.log(3)]), [0], 1, 2, 0.5);
    expectCloseToScale(dlogits, [(0.25 - 1) * 0.5, 0.75 * 0.5], 1e-6);
  });

  it('writes the gradient of scale·Σ losses (finite differences of −log softmax)', () => {
    const [N, V, scale] = [5, 13, 1 / 5];
    const logits = randomArray(random, N * V, 2);
    const targets = randomTokens(random, N, V);
    const dlogits = new Float32Array(N * V).fill(Number.NaN); // written, not added to
    crossEntropySoftmaxBackward(dlogits, logits, targets, N, V, scale);
    const loss = (x: ArrayLike<number>) =>
      toMatrix(x, N, V).reduce((sum, row, n) => {
        const max = Math.max(...row);
        const logSumExp = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        return sum + scale * (logSumExp - row[targets[n]!]!);
      }, 0);
    expectGradient(dlogits, loss, logits);
  });
});

// ---- the whole model ----

/** Mean cross-entropy over all B·T positions, from the float64 reference forward. */
function referenceLoss(params: RefParameters, tokens: number[], targets: number[], B: number, T: number): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    const { logits } = refForward(params, tokens.slice(b * T, (b + 1) * T));
    logits.forEach((row, t) => {
      const max = Math.max(...row);
      const logSumExp = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      total += logSumExp - row[targets[b * T + t]!]!;
    });
  }
  return total / (B * T);
}

describe('lossAndGradients', () => {
  // Odd sizes on purpose; blockSize 6 > T 5 leaves a position with zero gradient.
  const configs: GPTConfig[] = [
    { vocabSize: 11, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, tied: true },
    { vocabSize: 11, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8, tied: false },
  ];
  const [B, T] = [2, 5];

  for (const config of configs) {
    it(`every parameter's gradient matches float64 finite differences within 1e-3 (${config.tied ? 'tied' : 'untied'})`, () => {
      const params = randomizeParameters(createParameters(config), random, 0.4);
      const tokens = randomTokens(random, B * T, config.vocabSize);
      const targets = randomTokens(random, B * T, config.vocabSize);
      const grads = createParameters(config);
      grads.data.set(randomArray(random, grads.data.length)); // must be zeroed first
      const loss = lossAndGradients(params, tokens, targets, B, T, grads);

      const reference = float64Parameters(params);
      const lossAt = () => referenceLoss(reference, tokens, targets, B, T);
      expect(loss).to.be.closeTo(lossAt(), 1e-5 * lossAt());
      expectGradientsMatch(grads, reference, lossAt);
    });
  }

  it('gives the same loss and gradients with reused buffers, batch after batch', () => {
    const config = configs[1]!;
    const params = randomizeParameters(createParameters(config), random, 0.4);
    const acts = createActivations(config, B, T);
    const dacts = createActivationGradients(config, B, T);
    const reused = createParameters(config);
    const fresh = createParameters(config);
    for (let batch = 0; batch < 3; batch++) {
      const tokens = randomTokens(random, B * T, config.vocabSize);
      const targets = randomTokens(random, B * T, config.vocabSize);
      const loss = lossAndGradients(params, tokens, targets, B, T, reused, acts, dacts);
      expect(lossAndGradients(params, tokens, targets, B, T, fresh)).to.equal(loss);
      expect(Array.from(reused.data)).to.deep.equal(Array.from(fresh.data));
    }
  });

  it('refuses gradient buffers of another model', () => {
    const config = configs[0]!;
    const params = randomizeParameters(createParameters(config), random);
    const tokens = randomTokens(random, B * T, config.vocabSize);
    expect(() => lossAndGradients(params, tokens, tokens, B, T, createParameters(configs[1]!))).to.throw(/different shape/);
  });
});
