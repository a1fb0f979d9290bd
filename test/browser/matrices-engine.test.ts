// The inspector's headMatrices() (issue 17, "the vectors and matrices, shown") on random-weight models, a small one
// (tied and untied) and a GPT-2-shaped one (768 wide, 12 heads of 64): every matrix is the parameter buffer's
// entries at indices worked out here from the documented layout; the query, key and value vectors and the scaled
// dot product equal a float64 computation from the raw parameters (LayerNorm, the qkvw slice and its bias, the dot
// product) and the attention inspector's score cell; the defaults, the value map's counts and the unembedding row.
import { expect } from 'chai';
import type { GPTConfig, HeadMatrices, MatrixChoice } from '../../workers/api/index.ts';
import { ActiveModel, type LoadedModel } from '../../workers/areas/active-model.ts';
import { InspectorArea } from '../../workers/areas/inspector.ts';
import type { TrainingArea } from '../../workers/areas/training.ts';
import { noTransfer } from '../../workers/areas/transfer.ts';
import { createParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import { randomizeParameters } from './engine-reference.ts';
import { randomFor, randomInt } from './seeded.ts';
import { expectRejection } from './wait-for.ts';

const CHARS = 'abcdefghijklmnopqrstuvwxyz .';
const tokenizer = new CharTokenizer(['\u{FFFD}', ...CHARS]);

/** A model of `config` with random weights (biases, gains and all), in use by an inspector area. */
function inspectorFor(config: GPTConfig, label: string) {
  const params = randomizeParameters(createParameters(config), randomFor(label), 0.3);
  const model: LoadedModel = { name: label, config, params, tokenizer, seed: 1 };
  return { params, inspector: new InspectorArea(new ActiveModel(model), {} as TrainingArea, noTransfer) };
}

/** Where each tensor starts in the flat buffer, from the order and shapes params.ts documents, counted here. */
function offsetsOf({ vocabSize: V, blockSize: T, nLayer: L, nEmbd: C }: GPTConfig) {
  const wte = 0;
  const wpe = wte + V * C;
  const ln1w = wpe + T * C;
  const ln1b = ln1w + L * C;
  const qkvw = ln1b + L * C;
  const qkvb = qkvw + L * C * 3 * C;
  const attprojw = qkvb + L * 3 * C;
  const attprojb = attprojw + L * C * C;
  const ln2w = attprojb + L * C;
  const ln2b = ln2w + L * C;
  const fcw = ln2b + L * C;
  const fcb = fcw + L * C * 4 * C;
  const fcprojw = fcb + L * 4 * C;
  const fcprojb = fcprojw + L * 4 * C * C;
  const lnfw = fcprojb + L * C;
  const lnfb = lnfw + C;
  const lmHead = lnfb + C;
  return { wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, lmHead };
}

const text = (length: number) => Array.from({ length }, () => CHARS[randomInt(0, CHARS.length)]).join('');

/** Float64: LayerNorm of `x` with layer `layer`'s ln1, then this head's third (0 query, 1 key, 2 value) of qkv. */
function headVector(params: ParameterTensors, x: ArrayLike<number>, layer: number, head: number, third: number): number[] {
  const { nEmbd: C, nHead: NH } = params.config;
  const hs = C / NH;
  const at = offsetsOf(params.config);
  const data = params.data;
  let mean = 0;
  for (let c = 0; c < C; c++) mean += x[c]! / C;
  let variance = 0;
  for (let c = 0; c < C; c++) variance += (x[c]! - mean) ** 2 / C;
  const normed = Array.from(
    { length: C },
    (_, c) => ((x[c]! - mean) / Math.sqrt(variance + 1e-5)) * data[at.ln1w + layer * C + c]! + data[at.ln1b + layer * C + c]!,
  );
  return Array.from({ length: hs }, (_, i) => {
    const column = third * C + head * hs + i;
    let sum = data[at.qkvb + layer * 3 * C + column]!;
    for (let c = 0; c < C; c++) sum += normed[c]! * data[at.qkvw + layer * C * 3 * C + c * 3 * C + column]!;
    return sum;
  });
}

const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string) => {
  expect(actual.length, what).to.equal(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i], `${what} [${i}]`).to.be.closeTo(expected[i]!, tolerance);
};

/** Checks one answer against the parameters and the attention inspector's capture of the same text. */
async function checkAnswer(inspector: InspectorArea, params: ParameterTensors, prompt: string, choice: MatrixChoice) {
  const { config, data } = params;
  const { nLayer: L, nEmbd: C, nHead: NH, vocabSize: V } = config;
  const hs = C / NH;
  const at = offsetsOf(config);
  const m: HeadMatrices = await inspector.headMatrices(prompt, choice);
  const { capture, ids, next } = await inspector.inspect(prompt);
  const T = ids.length;
  const { layer, head } = choice;
  const query = choice.query ?? T - 1;
  const scores = capture.layers[layer]!.scores.subarray(head * T * T, (head + 1) * T * T);
  const pattern = capture.layers[layer]!.pattern.subarray(head * T * T, (head + 1) * T * T);
  const row = Array.from(pattern.subarray(query * T, (query + 1) * T));
  const key = choice.key ?? row.indexOf(Math.max(...row));
  expect([m.layer, m.head, m.query, m.key, m.layers, m.heads, m.width, m.headSize]).to.deep.equal([
    layer,
    head,
    query,
    key,
    L,
    NH,
    C,
    hs,
  ]);
  expect(m.ids).to.deep.equal(ids);

  // Layout: W_Q, W_K, W_V are [hs, C] with W[r][c] = qkvw[layer][c][third·C + head·hs + r]; value up [C, hs] and the
  // output matrix [C, C] read attprojw[layer] ([C_in, C_out], x·W) transposed.
  for (const [third, matrix] of [m.wq, m.wk, m.wv].entries()) {
    expect(matrix.length).to.equal(hs * C);
    for (let r = 0; r < hs; r++)
      for (let c = 0; c < C; c++)
        if (matrix[r * C + c] !== data[at.qkvw + layer * C * 3 * C + c * 3 * C + third * C + head * hs + r])
          expect.fail(`third ${third}: [${r}, ${c}]`);
  }
  const attprojw = at.attprojw + layer * C * C;
  for (let r = 0; r < C; r++) {
    for (let c = 0; c < hs; c++)
      if (m.valueUp[r * hs + c] !== data[attprojw + (head * hs + c) * C + r]) expect.fail(`value up [${r}, ${c}]`);
    for (let c = 0; c < C; c++) if (m.output[r * C + c] !== data[attprojw + c * C + r]) expect.fail(`output [${r}, ${c}]`);
  }
  expect(Array.from(m.embedding)).to.deep.equal(
    Array.from(data.subarray(at.wte + ids[query]! * C, at.wte + (ids[query]! + 1) * C)),
  );

  // The layer's input at a position: token + position embedding at layer 0, else the previous layer's output.
  const input = (position: number) =>
    layer === 0
      ? Array.from(
          { length: C },
          (_, c) => capture.tokenEmbedding[position * C + c]! + capture.positionEmbedding[position * C + c]!,
        )
      : capture.layers[layer - 1]!.residAfterMlp.subarray(position * C, (position + 1) * C);
  const q = headVector(params, input(query), layer, head, 0);
  const k = headVector(params, input(key), layer, head, 1);
  const v = headVector(params, input(key), layer, head, 2);
  expectClose(m.queryVector, q, 1e-4, 'query');
  expectClose(m.keyVector, k, 1e-4, 'key');
  expectClose(m.valueVector, v, 1e-4, 'value');
  const reference = q.reduce((sum, qi, i) => sum + qi * k[i]!, 0) / Math.sqrt(hs);
  expect(m.score).to.equal(m.dot / Math.sqrt(hs));
  expect(m.score, 'the float64 score').to.be.closeTo(reference, 1e-4 * Math.max(1, Math.abs(reference)));
  expect(m.score, "the attention inspector's score cell").to.be.closeTo(
    scores[query * T + key]!,
    1e-5 * Math.max(1, Math.abs(reference)),
  );
  expect(Array.from(m.scores)).to.deep.equal(Array.from(scores));
  for (let r = 0; r < T; r++) for (let c = 0; c < T; c++) expect(m.mask[r * T + c]).to.equal(c > r ? 1 : 0);
  expect(m.weight).to.equal(pattern[query * T + key]);

  expect(m.counts.model).to.deep.equal({ width: C, headSize: hs, down: C * hs, up: C * hs, factored: 2 * C * hs, full: C * C });
  expect(m.counts.gpt3).to.deep.equal({
    width: 12_288,
    headSize: 128,
    down: 1_572_864,
    up: 1_572_864,
    factored: 3_145_728,
    full: 150_994_944,
  });

  const likeliest = Array.from(next).indexOf(Math.max(...next));
  const id = choice.unembed ?? likeliest;
  const unembeddingAt = config.tied ? at.wte : at.lmHead;
  expect(m.top[0]!.id).to.equal(likeliest);
  expect(m.unembedding.id).to.equal(id);
  expect(m.unembedding.tied).to.equal(config.tied);
  expect(m.unembedding.probability).to.be.closeTo(next[id]!, 1e-6);
  expect(Array.from(m.unembedding.row)).to.deep.equal(
    Array.from(data.subarray(unembeddingAt + id * C, unembeddingAt + (id + 1) * C)),
  );
  expect(id).to.be.below(V);
  return m;
}

describe('headMatrices(): one head’s matrices and one pair’s vectors', function () {
  this.timeout(120_000);
  const SMALL: GPTConfig = { vocabSize: CHARS.length + 1, blockSize: 32, nLayer: 3, nHead: 4, nEmbd: 32, tied: true };

  for (const tied of [true, false]) {
    it(`equals the parameters, a float64 computation and the score cell (${tied ? 'tied' : 'untied'} weights)`, async () => {
      const config = { ...SMALL, tied };
      const { params, inspector } = inspectorFor(config, `small ${tied}`);
      for (let round = 0; round < 4; round++) {
        const prompt = text(randomInt(2, 32));
        const T = prompt.length;
        const query = randomInt(0, T);
        const choice: MatrixChoice = { layer: randomInt(0, 3), head: randomInt(0, 4) };
        // Defaults (the last query, its most attended key, the likeliest next token), then a pair picked, also a masked one.
        if (round > 0)
          Object.assign(choice, { query, key: randomInt(0, round === 3 ? T : query + 1), unembed: randomInt(0, 29) });
        await checkAnswer(inspector, params, prompt, choice);
      }
    });
  }

  it('works on a GPT-2-shaped model (768 wide, 12 heads of 64), sending rows of the unembedding only', async () => {
    const config: GPTConfig = { vocabSize: CHARS.length + 1, blockSize: 32, nLayer: 2, nHead: 12, nEmbd: 768, tied: true };
    const { params, inspector } = inspectorFor(config, 'gpt-2 shaped');
    const m = await checkAnswer(inspector, params, text(12), {
      layer: 1,
      head: randomInt(0, 12),
      query: 9,
      key: randomInt(0, 10),
    });
    expect([m.wq.length, m.valueUp.length, m.output.length, m.unembedding.row.length]).to.deep.equal([
      64 * 768,
      768 * 64,
      768 * 768,
      768,
    ]);
    expect(m.counts.model).to.include({ factored: 98_304, full: 589_824 });
  });

  it('refuses a head, a position or a token the model does not have', async () => {
    const { inspector } = inspectorFor(SMALL, 'refusals');
    await expectRejection(inspector.headMatrices('abc', { layer: 3, head: 0 }), /layer 3 is outside 0..2/);
    await expectRejection(inspector.headMatrices('abc', { layer: 0, head: 4 }), /head 4 is outside 0..3/);
    await expectRejection(inspector.headMatrices('abc', { layer: 0, head: 0, query: 3 }), /query position 3 is outside 0..2/);
    await expectRejection(inspector.headMatrices('abc', { layer: 0, head: 0, key: -1 }), /key position -1 is outside 0..2/);
    await expectRejection(inspector.headMatrices('abc', { layer: 0, head: 0, unembed: 29 }), /token 29 is outside 0..28/);
  });
});
