/**
 * The inspector's engine side (workers/engine/inspect.ts and forward()'s
 * interventions) against independent float64 loops written here, on fresh
 * random models of odd sizes, tied and untied.
 */
import { expect } from 'chai';
import { generateCorpus } from '../../workers/corpus/corpus.ts';
import { FACTS } from '../../workers/corpus/facts.ts';
import type { GPTConfig } from '../../workers/engine/config.ts';
import {
  contextualSimilarity,
  embeddingMap,
  factPrompts,
  headUpdates,
  inspect,
  logitLens,
  nearestTokens,
  positionSimilarity,
  timelapseFrame,
  tokenAngle,
  tokenArithmetic,
  tokenDirections,
  topNeurons,
} from '../../workers/engine/inspect.ts';
import { type Capture, forward } from '../../workers/engine/model.ts';
import { createParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { CharTokenizer, UNKNOWN_TOKEN } from '../../workers/engine/tokenizer.ts';
import type { TokenScore } from '../../workers/api/inspector.ts';
import {
  expectClose,
  expectCloseToScale,
  flatten,
  type Matrix,
  randomizeParameters,
  randomTokens,
  refAdd,
  refGelu,
  refLayerNorm,
  refMatmul,
  refSoftmax,
  relativeError,
  toMatrix,
  transpose,
} from './engine-reference.ts';

const random = new Random(60_000_017);

// Odd sizes on purpose (ragged head sizes and tiles), one tied and one untied.
const CONFIGS: GPTConfig[] = [
  { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 6, tied: true },
  { vocabSize: 13, blockSize: 9, nLayer: 3, nHead: 3, nEmbd: 12, tied: false },
  { vocabSize: 9, blockSize: 6, nLayer: 1, nHead: 4, nEmbd: 8, tied: false },
];
const nameOf = (config: GPTConfig) =>
  `${config.nLayer}×${config.nHead} heads, C ${config.nEmbd}, ${config.tied ? 'tied' : 'untied'}`;

const randomModel = (config: GPTConfig): ParameterTensors => randomizeParameters(createParameters(config), random);

/** A tokenizer with exactly vocabSize tokens: the unknown token, then letters. */
const letters = (vocabSize: number): CharTokenizer =>
  new CharTokenizer([UNKNOWN_TOKEN, ...'abcdefghijklmnopqrstuvwxyz'.slice(0, vocabSize - 1)]);

const row = (flat: ArrayLike<number>, index: number, width: number): number[] =>
  Array.from({ length: width }, (_, i) => flat[index * width + i]!);

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
const length = (a: readonly number[]): number => Math.sqrt(dot(a, a));
const cosine = (a: readonly number[], b: readonly number[]): number => dot(a, b) / (length(a) * length(b));

/** Ids of the `count` largest scores, largest first. */
const topIds = (scores: readonly number[], count: number, leaveOut: readonly number[] = []): number[] =>
  scores
    .map((score, id) => ({ score, id }))
    .filter(({ id }) => !leaveOut.includes(id))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, count)
    .map(({ id }) => id);

/** Expects scored tokens to be exactly these ids with these scores (float32 rounding allowed). */
function expectScores(actual: TokenScore[], scores: readonly number[], count: number, tokenizer: CharTokenizer): void {
  const ids = topIds(scores, count);
  expect(actual.map((t) => t.id)).to.deep.equal(ids);
  expect(actual.map((t) => t.token)).to.deep.equal(ids.map((id) => tokenizer.token(id)));
  expectCloseToScale(
    actual.map((t) => t.score),
    ids.map((id) => scores[id]!),
    1e-5,
  );
}

interface RefRun {
  logits: Matrix;
  /** Per layer: the residual stream entering it [T][C], its heads' outputs [T][C], scores and pattern [NH][T][T]. */
  layers: { input: Matrix; headOutputs: Matrix; scores: Matrix[]; pattern: Matrix[]; mlpPre: Matrix; mlpPost: Matrix }[];
}

/**
 * The GPT-2 forward pass straight from the formulas, with the interventions:
 * causal false lets every query see every key; `ablated` heads ("layer,head")
 * contribute zeros to the attention output.
 */
function refRun(params: ParameterTensors, tokens: number[], causal = true, ablated: ReadonlySet<string> = new Set()): RefRun {
  const { nLayer: L, nHead: NH, nEmbd: C } = params.config;
  const hs = C / NH;
  const T = tokens.length;
  let x: Matrix = tokens.map((token, t) => row(params.wte, token, C).map((v, c) => v + params.wpe[t * C + c]!));
  const layers: RefRun['layers'] = [];
  for (let l = 0; l < L; l++) {
    const ln1 = refLayerNorm(x, row(params.ln1w, l, C), row(params.ln1b, l, C)).out;
    const qkv = refMatmul(ln1, toMatrix(params.qkvw, C, 3 * C, l * C * 3 * C), row(params.qkvb, l, 3 * C));
    const headOutputs: Matrix = tokens.map(() => new Array<number>(C).fill(0));
    const scores: Matrix[] = [];
    const pattern: Matrix[] = [];
    for (let h = 0; h < NH; h++) {
      const q = (t: number) => qkv[t]!.slice(h * hs, (h + 1) * hs);
      const k = (t: number) => qkv[t]!.slice(C + h * hs, C + (h + 1) * hs);
      const v = (t: number) => qkv[t]!.slice(2 * C + h * hs, 2 * C + (h + 1) * hs);
      const headScores: Matrix = [];
      const headPattern: Matrix = [];
      for (let t = 0; t < T; t++) {
        const rowScores = tokens.map((_, s) => dot(q(t), k(s)) / Math.sqrt(hs));
        const visible = causal ? t + 1 : T;
        const weights = [...refSoftmax(rowScores.slice(0, visible)), ...new Array<number>(T - visible).fill(0)];
        headScores.push(rowScores);
        headPattern.push(weights);
        if (ablated.has(`${l},${h}`)) continue;
        for (let s = 0; s < T; s++) {
          for (let i = 0; i < hs; i++) headOutputs[t]![h * hs + i] += weights[s]! * v(s)[i]!;
        }
      }
      scores.push(headScores);
      pattern.push(headPattern);
    }
    const attproj = refMatmul(headOutputs, toMatrix(params.attprojw, C, C, l * C * C), row(params.attprojb, l, C));
    const afterAttention = refAdd(x, attproj);
    const ln2 = refLayerNorm(afterAttention, row(params.ln2w, l, C), row(params.ln2b, l, C)).out;
    const mlpPre = refMatmul(ln2, toMatrix(params.fcw, C, 4 * C, l * C * 4 * C), row(params.fcb, l, 4 * C));
    const mlpPost = mlpPre.map((r) => r.map(refGelu));
    const fcproj = refMatmul(mlpPost, toMatrix(params.fcprojw, 4 * C, C, l * 4 * C * C), row(params.fcprojb, l, C));
    layers.push({ input: x, headOutputs, scores, pattern, mlpPre, mlpPost });
    x = refAdd(afterAttention, fcproj);
  }
  return { logits: lensLogits(params, x), layers };
}

/** Final LayerNorm then unembedding of residual rows [N][C]. */
function lensLogits(params: ParameterTensors, residual: Matrix): Matrix {
  const { vocabSize: V, nEmbd: C, tied } = params.config;
  const lnf = refLayerNorm(residual, Array.from(params.lnfw), Array.from(params.lnfb)).out;
  return refMatmul(lnf, transpose(toMatrix(tied ? params.wte : params.lmHead, V, C)));
}

/** The residual stream at `position` entering layer l (l = L: the last layer's output), from a capture. */
function capturedResidual(capture: Capture, l: number, position: number, C: number): number[] {
  if (l === 0) return row(capture.tokenEmbedding, position, C).map((v, c) => v + capture.positionEmbedding[position * C + c]!);
  return row(capture.layers[l - 1]!.residAfterMlp, position, C);
}

const copyOf = (params: ParameterTensors): ParameterTensors => createParameters(params.config, params.data.slice());

describe('forward with interventions', () => {
  for (const config of CONFIGS) {
    const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V, blockSize: T } = config;

    it(`without interventions is forward() bit for bit (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokens = randomTokens(random, T, V);
      const plain = forward(params, tokens, { capture: true });
      const explicit = forward(params, tokens, { capture: true, causalMask: true, ablate: [] });
      expect(Array.from(explicit.logits)).to.deep.equal(Array.from(plain.logits));
      expect(Array.from(forward(params, tokens, { ablate: [] }).logits)).to.deep.equal(Array.from(plain.logits));
      for (let l = 0; l < L; l++) {
        const [a, b] = [explicit.capture!.layers[l]!, plain.capture!.layers[l]!];
        expect(Array.from(a.pattern)).to.deep.equal(Array.from(b.pattern));
        expect(Array.from(a.mask)).to.deep.equal(Array.from(b.mask));
        expect(Array.from(a.residAfterMlp)).to.deep.equal(Array.from(b.residAfterMlp));
      }
    });

    it(`ablating every head of a layer removes that layer's attention output, keeping its bias (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokens = randomTokens(random, T - 1, V);
      for (let l = 0; l < L; l++) {
        const withoutAttention = copyOf(params);
        withoutAttention.attprojw.fill(0, l * C * C, (l + 1) * C * C);
        const expected = forward(withoutAttention, tokens).logits;
        const ablate = Array.from({ length: NH }, (_, h): [number, number] => [l, h]);
        for (const capture of [false, true]) {
          const { logits } = forward(params, tokens, { ablate, capture });
          expect(relativeError(logits, expected), `layer ${l}`).to.be.below(1e-5);
        }
        expect(relativeError(forward(params, tokens).logits, expected), 'ablation changes something').to.be.above(1e-3);
      }
    });

    it(`ablating one head equals a reference that zeroes that head (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokens = randomTokens(random, T, V);
      for (let l = 0; l < L; l++) {
        const h = random.int(NH);
        const { logits, capture } = forward(params, tokens, { ablate: [[l, h]], capture: true });
        const ref = refRun(params, tokens, true, new Set([`${l},${h}`]));
        expectCloseToScale(logits, flatten(ref.logits), 1e-4);
        // The head still attends: only its output is gone.
        expectCloseToScale(capture!.layers[l]!.pattern, ref.layers[l]!.pattern.flatMap(flatten), 1e-4);
      }
      const twoLayers = [
        [0, 0],
        [L - 1, NH - 1],
      ] as [number, number][];
      const ref = refRun(params, tokens, true, new Set(twoLayers.map(([l, h]) => `${l},${h}`)));
      expectCloseToScale(forward(params, tokens, { ablate: twoLayers }).logits, flatten(ref.logits), 1e-4);
    });

    it(`without the causal mask equals non-causal attention; nothing masked, every row sums to 1 (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokens = randomTokens(random, T, V);
      const ref = refRun(params, tokens, false);
      const { logits, capture } = forward(params, tokens, { causalMask: false, capture: true });
      expectCloseToScale(logits, flatten(ref.logits), 1e-4);
      expectCloseToScale(forward(params, tokens, { causalMask: false }).logits, flatten(ref.logits), 1e-4);
      for (let l = 0; l < L; l++) {
        const layer = capture!.layers[l]!;
        expect(
          layer.mask.every((m) => m === 0),
          `layer ${l} mask`,
        ).to.equal(true);
        expectCloseToScale(layer.scores, ref.layers[l]!.scores.flatMap(flatten), 1e-4);
        expectCloseToScale(layer.pattern, ref.layers[l]!.pattern.flatMap(flatten), 1e-4);
        for (let r = 0; r < NH * T; r++) {
          const weights = row(layer.pattern, r, T);
          expect(
            weights.every((w) => w > 0),
            'later keys get weight too',
          ).to.equal(true);
          expect(weights.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-5);
        }
      }
      expect(relativeError(logits, forward(params, tokens).logits)).to.be.above(1e-3);
    });
  }

  it('refuses heads the model does not have', () => {
    const params = randomModel(CONFIGS[0]!);
    const tokens = [1, 2, 3];
    for (const pair of [
      [2, 0],
      [0, 2],
      [-1, 0],
      [0, 0.5],
    ] as [number, number][]) {
      expect(() => forward(params, tokens, { ablate: [pair] })).to.throw(/there is no head/);
    }
  });
});

describe('inspect', () => {
  for (const config of CONFIGS) {
    it(`returns the capture, the next-token odds and their top tokens (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(config.vocabSize);
      const ids = randomTokens(random, config.blockSize - 2, config.vocabSize);
      const T = ids.length;
      const V = config.vocabSize;
      for (const interventions of [undefined, { causalMask: false }, { ablate: [[0, 1]] as [number, number][] }]) {
        const result = inspect(params, tokenizer, ids, interventions, 4);
        const { logits, capture } = forward(params, ids, { ...interventions, capture: true });
        expect(result.ids).to.deep.equal(ids);
        expect(result.tokens).to.deep.equal(ids.map((id) => tokenizer.token(id)));
        expect(result.config).to.deep.equal(config);
        expect(Array.from(result.capture.layers[0]!.pattern)).to.deep.equal(Array.from(capture!.layers[0]!.pattern));
        const expected = refSoftmax(row(logits, T - 1, V));
        expectClose(result.next, expected, 1e-5, 1e-7);
        expectScores(result.top, expected, 4, tokenizer);
      }
      expect(inspect(params, tokenizer, ids).top.length).to.equal(10 > V ? V : 10);
    });
  }
});

describe('headUpdates', () => {
  for (const config of CONFIGS) {
    const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = config;
    const hs = C / NH;

    it(`each head's update, weights and promoted tokens match the reference, layer-major (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const ids = randomTokens(random, config.blockSize, V);
      const { capture } = forward(params, ids, { capture: true });
      const ref = refRun(params, ids);
      const unembedding = config.tied ? params.wte : params.lmHead;
      for (const position of [0, 3, ids.length - 1]) {
        const updates = headUpdates(params, tokenizer, ids, position, 3);
        expect(updates.map((u) => [u.layer, u.head])).to.deep.equal(
          Array.from({ length: L * NH }, (_, i) => [Math.floor(i / NH), i % NH]),
        );
        for (let l = 0; l < L; l++) {
          const summed = row(params.attprojb, l, C);
          for (let h = 0; h < NH; h++) {
            const update = updates[l * NH + h]!;
            expect(Array.from(update.weights)).to.deep.equal(
              row(capture!.layers[l]!.pattern, h * ids.length + position, ids.length),
            );
            // Σ_i (Σ_k w_k·v_k)_i · attprojw[h·hs + i, c], from the reference's head output.
            const out = ref.layers[l]!.headOutputs[position]!;
            const expected = Array.from({ length: C }, (_, c) => {
              let sum = 0;
              for (let i = 0; i < hs; i++) sum += out[h * hs + i]! * params.attprojw[l * C * C + (h * hs + i) * C + c]!;
              return sum;
            });
            expectCloseToScale(update.update, expected, 1e-4);
            expect(update.norm).to.be.closeTo(length(Array.from(update.update)), 1e-5 * update.norm);
            const dots = Array.from({ length: V }, (_, v) => dot(row(unembedding, v, C), Array.from(update.update)));
            expectScores(update.promotes, dots, 3, tokenizer);
            update.update.forEach((v, c) => (summed[c] += v));
          }
          // The heads' updates and the projection's bias are everything attention adds.
          const added = row(capture!.layers[l]!.residAfterAttn, position, C).map(
            (v, c) => v - capturedResidual(capture!, l, position, C)[c]!,
          );
          expectCloseToScale(summed, added, 1e-4);
        }
      }
    });
  }

  it('refuses a position outside the prompt', () => {
    const params = randomModel(CONFIGS[0]!);
    const tokenizer = letters(CONFIGS[0]!.vocabSize);
    expect(() => headUpdates(params, tokenizer, [1, 2, 3], 3)).to.throw(/position 3 is outside 0..2/);
    expect(() => headUpdates(params, tokenizer, [1, 2, 3], -1)).to.throw(/position/);
  });
});

describe('topNeurons', () => {
  for (const config of CONFIGS) {
    const { nLayer: L, nEmbd: C, vocabSize: V } = config;

    it(`reports the most active neurons with what their down-projection promotes (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const ids = randomTokens(random, config.blockSize - 1, V);
      const { capture } = forward(params, ids, { capture: true });
      const unembedding = config.tied ? params.wte : params.lmHead;
      for (let layer = 0; layer < L; layer++) {
        const position = random.int(ids.length);
        const report = topNeurons(params, tokenizer, ids, position, layer, 6, 2);
        expect([report.layer, report.position]).to.deep.equal([layer, position]);
        const post = row(capture!.layers[layer]!.mlpPost, position, 4 * C);
        const pre = row(capture!.layers[layer]!.mlpPre, position, 4 * C);
        expect(report.neurons.map((n) => n.index)).to.deep.equal(topIds(post, 6));
        for (const neuron of report.neurons) {
          expect(neuron.pre).to.equal(Math.fround(pre[neuron.index]!));
          expect(neuron.post).to.equal(Math.fround(post[neuron.index]!));
          const down = row(params.fcprojw, layer * 4 * C + neuron.index, C);
          const dots = Array.from({ length: V }, (_, v) => dot(row(unembedding, v, C), down));
          expectScores(neuron.promotes, dots, 2, tokenizer);
        }
      }
      expect(topNeurons(params, tokenizer, ids, 0, 0, 4 * C + 5).neurons.length).to.equal(4 * C);
      expect(() => topNeurons(params, tokenizer, ids, 0, L, 3)).to.throw(/layer/);
    });
  }
});

describe('logitLens', () => {
  for (const config of CONFIGS) {
    const { nLayer: L, nEmbd: C, vocabSize: V } = config;

    it(`reads each layer's residual through the final LayerNorm and unembedding (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const ids = randomTokens(random, config.blockSize, V);
      const { logits, capture } = forward(params, ids, { capture: true });
      for (const position of [0, ids.length - 1]) {
        const lens = logitLens(params, tokenizer, ids, position, 5);
        expect(lens.map((layer) => layer.layer)).to.deep.equal(Array.from({ length: L + 1 }, (_, l) => l));
        // The last layer is the model's own prediction.
        expectScores(lens[L]!.top, refSoftmax(row(logits, position, V)), 5, tokenizer);
        // Layer 0: token plus position embedding, straight into the head.
        const embedded = row(params.wte, ids[position]!, C).map((v, c) => v + params.wpe[position * C + c]!);
        expectScores(lens[0]!.top, refSoftmax(lensLogits(params, [embedded])[0]!), 5, tokenizer);
        for (let l = 0; l <= L; l++) {
          const residual = capturedResidual(capture!, l, position, C);
          expect(lens[l]!.norm).to.be.closeTo(length(residual), 1e-5 * length(residual));
          expectScores(lens[l]!.top, refSoftmax(lensLogits(params, [residual])[0]!), 5, tokenizer);
        }
      }
    });
  }
});

describe('token embeddings', () => {
  for (const config of CONFIGS) {
    const { nEmbd: C, vocabSize: V, blockSize } = config;
    const embedding = (params: ParameterTensors, id: number) => row(params.wte, id, C);

    it(`nearest tokens and arithmetic rank every other token by cosine (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const id = 1 + random.int(V - 1);
      const byCosine = (target: number[], leaveOut: number[], count: number) => {
        const cosines = Array.from({ length: V }, (_, v) => cosine(embedding(params, v), target));
        return topIds(cosines, count, [0, ...leaveOut]).map((v) => ({ id: v, token: tokenizer.token(v), cosine: cosines[v]! }));
      };
      const near = nearestTokens(params, tokenizer, id, 4);
      const expected = byCosine(embedding(params, id), [id], 4);
      expect(near.map((n) => [n.id, n.token])).to.deep.equal(expected.map((n) => [n.id, n.token]));
      expectClose(
        near.map((n) => n.cosine),
        expected.map((n) => n.cosine),
        1e-5,
        1e-6,
      );
      expect(nearestTokens(params, tokenizer, id, V + 3).length, 'all but the query and the unknown token').to.equal(V - 2);

      const [a, b, c] = [1, 2, 3];
      const target = embedding(params, a).map((v, i) => v - embedding(params, b)[i]! + embedding(params, c)[i]!);
      const sum = tokenArithmetic(params, tokenizer, a, b, c, 3);
      const expectedSum = byCosine(target, [a, b, c], 3);
      expect(sum.map((n) => n.id)).to.deep.equal(expectedSum.map((n) => n.id));
      expectClose(
        sum.map((n) => n.cosine),
        expectedSum.map((n) => n.cosine),
        1e-5,
        1e-6,
      );
      expect(() => nearestTokens(params, tokenizer, V, 3)).to.throw(/token/);
    });

    it(`tokenAngle gives the dot product, cosine and angle of two embeddings (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const [a, b] = [random.int(V), random.int(V)];
      const angle = tokenAngle(params, a, b);
      const [x, y] = [embedding(params, a), embedding(params, b)];
      expect(angle.dot).to.be.closeTo(dot(x, y), 1e-5 * length(x) * length(y));
      expect(angle.cosine).to.be.closeTo(cosine(x, y), 1e-6);
      expect(angle.degrees).to.be.closeTo((Math.acos(cosine(x, y)) * 180) / Math.PI, 1e-4);
      expect(tokenAngle(params, a, a).degrees).to.be.closeTo(0, 1e-2);
    });

    it(`tokenDirections compares a − b with c − d and applies each to the other pair (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const [a, b, c, d] = [1, 2, 3, 4].map(() => 1 + random.int(V - 1));
      const difference = (x: number, y: number) => embedding(params, x).map((v, i) => v - embedding(params, y)[i]!);
      const [first, second] = [difference(a!, b!), difference(c!, d!)];
      const directions = tokenDirections(params, tokenizer, [a!, b!, c!, d!], 3);
      expect(directions.lengths[0]).to.be.closeTo(length(first), 1e-5 * (1 + length(first)));
      expect(directions.lengths[1]).to.be.closeTo(length(second), 1e-5 * (1 + length(second)));
      const expected = length(first) > 0 && length(second) > 0 ? cosine(first, second) : 0;
      expect(directions.cosine).to.be.closeTo(expected, 1e-6);
      expect(directions.applied).to.deep.equal([
        tokenArithmetic(params, tokenizer, a!, b!, d!, 3),
        tokenArithmetic(params, tokenizer, c!, d!, b!, 3),
      ]);
      expect(tokenDirections(params, tokenizer, [a!, a!, c!, d!], 3).cosine, 'a zero difference').to.equal(0);
    });

    it(`positionSimilarity is the cosine of every pair of position embeddings (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const similarity = positionSimilarity(params);
      const expected: number[] = [];
      for (let p = 0; p < blockSize; p++) {
        for (let q = 0; q < blockSize; q++) expected.push(cosine(row(params.wpe, p, C), row(params.wpe, q, C)));
      }
      expectClose(similarity, expected, 1e-5, 1e-6);
    });

    it(`embeddingMap projects the centred embeddings on the top two principal components (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const map = embeddingMap(params, tokenizer);
      expect(map.tokens).to.deep.equal(Array.from({ length: V }, (_, id) => tokenizer.token(id)));
      expect(map.points.length).to.equal(2 * V);
      const mean = Array.from(
        { length: C },
        (_, c) => Array.from({ length: V }, (_, v) => params.wte[v * C + c]!).reduce((s, x) => s + x, 0) / V,
      );
      const centred = Array.from({ length: V }, (_, v) => embedding(params, v).map((x, c) => x - mean[c]!));
      const covariance = Array.from({ length: C }, (_, r) =>
        Array.from({ length: C }, (_, c) => centred.reduce((s, x) => s + x[r]! * x[c]!, 0) / V),
      );
      const total = covariance.reduce((s, r, i) => s + r[i]!, 0);
      const eigenvalues = jacobiEigenvalues(covariance);
      const [first, second] = map.explained;
      expect(first).to.be.within(Number.MIN_VALUE, 1);
      expect(second).to.be.within(Number.MIN_VALUE, first);
      for (let k = 0; k < 2; k++) {
        const value = map.explained[k]! * total;
        expect(value, `λ${k + 1}`).to.be.closeTo(eigenvalues[k]!, 1e-6 * eigenvalues[0]!);
        const points = Array.from({ length: V }, (_, v) => map.points[v * 2 + k]!);
        // Σ_v x_v·(x_v·u) = V·Cov·u = V·λ·u recovers the component u from the points.
        const u = Array.from({ length: C }, (_, c) => centred.reduce((s, x, v) => s + x[c]! * points[v]!, 0) / (V * value));
        expect(length(u), 'unit length').to.be.closeTo(1, 1e-4);
        const covU = covariance.map((r) => dot(r, u));
        expectClose(
          covU,
          u.map((x) => value * x),
          1e-4,
          1e-4 * value,
        );
        expectClose(
          points,
          centred.map((x) => dot(x, u)),
          1e-4,
          1e-5,
        );
        const largest = u.reduce((best, x, i) => (Math.abs(x) > Math.abs(u[best]!) ? i : best), 0);
        expect(u[largest], 'the largest coordinate is positive').to.be.above(0);
      }
      expect(Array.from(embeddingMap(params, tokenizer).points), 'deterministic').to.deep.equal(Array.from(map.points));
    });
  }
});

/** Every eigenvalue of a symmetric matrix, largest first (cyclic Jacobi rotations, float64). */
function jacobiEigenvalues(matrix: Matrix): number[] {
  const a = matrix.map((r) => [...r]);
  const n = a.length;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (a[p]![q] === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const [akp, akq] = [a[k]![p]!, a[k]![q]!];
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const [apk, aqk] = [a[p]![k]!, a[q]![k]!];
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
      }
    }
  }
  return a.map((r, i) => r[i]!).sort((x, y) => y - x);
}

describe('contextualSimilarity', () => {
  for (const config of CONFIGS) {
    const { nLayer: L, nEmbd: C, vocabSize: V } = config;

    it(`compares two positions' residual vectors at the input and after every layer (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(V);
      const first = { ids: randomTokens(random, config.blockSize, V), position: config.blockSize - 2 };
      const second = { ids: randomTokens(random, 4, V), position: 2 };
      const result = contextualSimilarity(params, tokenizer, first, second);
      expect(result.tokens).to.deep.equal([tokenizer.token(first.ids[first.position]!), tokenizer.token(second.ids[2]!)]);
      const [a, b] = [first, second].map(({ ids }) => forward(params, ids, { capture: true }).capture!);
      const expected = Array.from({ length: L + 1 }, (_, l) =>
        cosine(capturedResidual(a!, l, first.position, C), capturedResidual(b!, l, second.position, C)),
      );
      expectClose(result.cosines, expected, 1e-5, 1e-6);
      const same = contextualSimilarity(params, tokenizer, first, first);
      expectClose(same.cosines, new Array(L + 1).fill(1), 0, 1e-6);
    });
  }
});

describe('timelapseFrame', () => {
  for (const config of CONFIGS) {
    it(`keeps the step, the next-token top and every layer's patterns (${nameOf(config)})`, () => {
      const params = randomModel(config);
      const tokenizer = letters(config.vocabSize);
      const ids = randomTokens(random, 5, config.vocabSize);
      const frame = timelapseFrame(params, tokenizer, ids, 250, 3);
      const inspection = inspect(params, tokenizer, ids, {}, 3);
      expect(frame.step).to.equal(250);
      expect(frame.top).to.deep.equal(inspection.top);
      expect(frame.patterns.map((p) => Array.from(p))).to.deep.equal(inspection.capture.layers.map((l) => Array.from(l.pattern)));
    });
  }
});

describe('factPrompts', () => {
  const corpusTokenizer = CharTokenizer.fromText(generateCorpus().text);

  it('gives every built-in fact with the position of the last character of its name, the space moved into the prompt', () => {
    const prompts = factPrompts(corpusTokenizer, FACTS, 64);
    expect(FACTS.every((f) => /^ \S/.test(f.answer))).to.be.true;
    expect(prompts.map(({ prompt, answer }) => [prompt, answer])).to.deep.equal(
      FACTS.map((f) => [f.prompt + ' ', f.answer.slice(1)]),
    );
    prompts.forEach(({ prompt, namePosition }, i) => {
      const name = FACTS[i]!.subject;
      const tokens = corpusTokenizer.encode(prompt).map((id) => corpusTokenizer.token(id));
      expect(namePosition, prompt).to.equal(name.length - 1);
      expect(tokens[namePosition], prompt).to.equal(name.at(-1));
      expect(tokens.slice(0, namePosition + 1).join(''), prompt).to.equal(name);
    });
  });

  it('counts the name position in the last blockSize tokens, leaving out names cut off', () => {
    const blockSize = 12;
    const prompts = factPrompts(corpusTokenizer, FACTS, blockSize);
    const kept = FACTS.filter((f) => f.subject.length > f.prompt.length + 1 - blockSize);
    expect(prompts.map((p) => p.prompt)).to.deep.equal(kept.map((f) => f.prompt + ' '));
    prompts.forEach(({ prompt, namePosition }, i) => {
      const tokens = corpusTokenizer
        .encode(prompt)
        .slice(-blockSize)
        .map((id) => corpusTokenizer.token(id));
      expect(tokens.length).to.be.at.most(blockSize);
      expect(tokens[namePosition], prompt).to.equal(kept[i]!.subject.at(-1));
      expect(tokens[namePosition + 1], prompt).to.equal(' ');
    });
  });

  it('leaves out facts the tokenizer cannot spell', () => {
    const withoutK = new CharTokenizer(corpusTokenizer.vocab.filter((token) => token !== 'k'));
    const prompts = factPrompts(withoutK, FACTS, 64);
    expect(prompts.map((p) => p.prompt)).to.deep.equal(
      FACTS.filter((f) => !(f.prompt + f.answer).includes('k')).map((f) => f.prompt + ' '),
    );
    expect(prompts.length).to.be.below(FACTS.length);
  });

  it('keeps the leading space in the answer when a word piece holds it', () => {
    const bpe = BpeTokenizer.train(generateCorpus().text, 512);
    const prompts = factPrompts(bpe, FACTS, 64);
    expect(prompts.map(({ prompt, answer }) => [prompt, answer])).to.deep.equal(FACTS.map((f) => [f.prompt, f.answer]));
    prompts.forEach(({ prompt, answer, namePosition }, i) => {
      const promptIds = bpe.encode(prompt);
      expect(bpe.decode(promptIds.slice(0, namePosition + 1)), prompt).to.equal(FACTS[i]!.subject);
      // The answer's first token is a word piece that starts with the space, not a space alone.
      const answerStart = bpe.token(bpe.encode(prompt + answer)[promptIds.length]!);
      expect(answerStart, prompt).to.match(/^ \S/);
    });
  });
});
