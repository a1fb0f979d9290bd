// Fine-tuning's losses (an answer-only loss, DPO) and their gradients against float64
// references written here on top of engine-reference.ts's plain forward, never the engine's own.
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import {
  answerBatch,
  answerLoss,
  FineTuner,
  pairProblem,
  type PreferencePair,
  preferenceLoss,
  weightedLossAndGradients,
} from '../../workers/engine/fine-tune.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import {
  float64Parameters,
  randomizeParameters,
  randomTokens,
  refForward,
  type RefParameters,
  refSoftmax,
  expectGradientsMatch,
} from './engine-reference.ts';

const SEED = 20_261_207;
const random = new Random(SEED);
const config: GPTConfig = { vocabSize: 9, blockSize: 7, nLayer: 2, nHead: 2, nEmbd: 8, tied: true };

/** log softmax(logits)[target] of every position of one sequence, in float64. */
function referenceLogProbs(params: RefParameters, sequence: number[]): number[] {
  const { logits } = refForward(params, sequence.slice(0, -1));
  return logits.map((row, t) => Math.log(refSoftmax(row)[sequence[t + 1]!]!));
}

/** log p(answer | prompt): the sum over the answer's tokens. */
function referenceAnswerLogProb(params: RefParameters, prompt: number[], answer: number[]): number {
  return referenceLogProbs(params, [...prompt, ...answer])
    .slice(prompt.length - 1)
    .reduce((sum, x) => sum + x, 0);
}

/** Σ_v p log p/q over the answer positions of one sequence (a sum; the caller divides by the positions). */
function referenceKL(policy: RefParameters, reference: RefParameters, prompt: number[], answer: number[]): number {
  const sequence = [...prompt, ...answer].slice(0, -1);
  const p = refForward(policy, sequence).logits.map(refSoftmax);
  const q = refForward(reference, sequence).logits.map(refSoftmax);
  let kl = 0;
  for (let t = prompt.length - 1; t < sequence.length; t++) {
    p[t]!.forEach((pv, v) => (kl += pv * Math.log(pv / q[t]![v]!)));
  }
  return kl;
}

/** −log σ(β·[(π_c − ref_c) − (π_r − ref_r)]) averaged over the pairs, in float64. */
function referenceDPO(policy: RefParameters, reference: RefParameters, pairs: PreferencePair[], beta: number) {
  let loss = 0;
  let margin = 0;
  for (const { prompt, chosen, rejected } of pairs) {
    const m =
      referenceAnswerLogProb(policy, [...prompt], [...chosen]) -
      referenceAnswerLogProb(reference, [...prompt], [...chosen]) -
      (referenceAnswerLogProb(policy, [...prompt], [...rejected]) -
        referenceAnswerLogProb(reference, [...prompt], [...rejected]));
    loss += Math.log(1 + Math.exp(-beta * m)) / pairs.length;
    margin += m / pairs.length;
  }
  return { loss, margin };
}

function randomPair(): PreferencePair {
  const length = (max: number) => 1 + Math.floor(random.uniform() * max);
  const prompt = randomTokens(random, length(3), config.vocabSize);
  const chosen = randomTokens(random, length(3), config.vocabSize);
  let rejected = randomTokens(random, length(3), config.vocabSize);
  if (pairProblem({ prompt, chosen, rejected }, config.blockSize)) rejected = [...chosen, (chosen[0]! + 1) % config.vocabSize];
  return { prompt, chosen, rejected };
}

describe(`fine-tuning losses (seed ${SEED})`, () => {
  it('weighs the cross-entropy per position: loss and every gradient match float64 finite differences', () => {
    const params = randomizeParameters(createParameters(config), random, 0.4);
    const texts = [
      { prompt: [1, 2, 3], answer: [4, 5] },
      { prompt: [6], answer: [7, 8, 0, 2] },
    ];
    const batch = answerBatch(texts, config.blockSize);
    expect([batch.B, batch.T]).to.deep.equal([2, 4]);
    expect(Array.from(batch.answer)).to.deep.equal([0, 0, 1, 1, 1, 1, 1, 1]);
    const weights = batch.answer.map((w) => w * (0.5 + random.uniform()));
    const grads = createParameters(config);
    grads.data.fill(3); // must be zeroed first
    const { loss, logProbs } = weightedLossAndGradients(params, batch, weights, grads);

    const reference = float64Parameters(params);
    const lossAt = () =>
      texts.reduce((total, { prompt, answer }, b) => {
        const rows = referenceLogProbs(reference, [...prompt, ...answer]);
        return total - rows.reduce((sum, lp, t) => sum + weights[b * batch.T + t]! * lp, 0);
      }, 0);
    expect(loss).to.be.closeTo(lossAt(), 1e-5 * Math.abs(lossAt()));
    const rows = referenceLogProbs(reference, [1, 2, 3, 4, 5]);
    rows.forEach((lp, t) => expect(logProbs[t]).to.be.closeTo(lp, 1e-5));
    expectGradientsMatch(grads, reference, lossAt);
  });

  it('DPO: loss, margin, KL and every gradient match a float64 reference', () => {
    const policy = randomizeParameters(createParameters(config), random, 0.4);
    const frozen = createParameters(config, policy.data.slice());
    for (let i = 0; i < frozen.data.length; i++) frozen.data[i] += 0.1 * (random.uniform() - 0.5);
    const pairs = [randomPair(), randomPair(), randomPair()];
    const beta = 0.7;
    const grads = createParameters(config);
    const report = preferenceLoss(policy, frozen, pairs, beta, grads);

    const p64 = float64Parameters(policy);
    const q64 = float64Parameters(frozen);
    const expected = referenceDPO(p64, q64, pairs, beta);
    expect(report.loss).to.be.closeTo(expected.loss, 1e-5);
    expect(report.margin).to.be.closeTo(expected.margin, 1e-4);
    const answers = pairs.flatMap(({ prompt, chosen, rejected }) => [
      [prompt, chosen],
      [prompt, rejected],
    ]);
    const positions = answers.reduce((n, [, answer]) => n + answer!.length, 0);
    const kl = answers.reduce((sum, [prompt, answer]) => sum + referenceKL(p64, q64, [...prompt!], [...answer!]), 0) / positions;
    expect(report.kl).to.be.closeTo(kl, 1e-5);
    expect(report.kl).to.be.above(0);
    expectGradientsMatch(grads, p64, () => referenceDPO(p64, q64, pairs, beta).loss);
  });

  it('DPO against the policy itself: loss log 2, margin 0, KL 0', () => {
    const policy = randomizeParameters(createParameters(config), random, 0.4);
    const report = preferenceLoss(policy, createParameters(config, policy.data.slice()), [randomPair()], 0.1);
    expect(report.loss).to.be.closeTo(Math.LN2, 1e-6);
    expect(report.margin).to.equal(0);
    expect(report.kl).to.be.closeTo(0, 1e-7);
  });

  it('refuses a pair whose answers are the same, and one that does not fit the context', () => {
    expect(pairProblem({ prompt: [1], chosen: [2, 3], rejected: [2, 3] }, 7)).to.match(/same as the rejected/);
    expect(pairProblem({ prompt: [1, 2, 3, 4], chosen: [2, 3, 4, 5], rejected: [2] }, 7)).to.equal(undefined);
    expect(pairProblem({ prompt: [1, 2, 3, 4], chosen: [2, 3, 4, 5, 6], rejected: [2] }, 7)).to.match(
      /prompt and answer are 9 tokens; the model reads at most 8/,
    );
    const policy = randomizeParameters(createParameters(config), random, 0.4);
    expect(() => preferenceLoss(policy, policy, [{ prompt: [1], chosen: [2], rejected: [2] }], 0.1)).to.throw(
      /pair 1: the chosen/,
    );
  });

  it('SFT steps lower the answer loss; DPO steps raise the margin from 0', () => {
    const params = randomizeParameters(createParameters(config), random, 0.4);
    const texts = [
      { prompt: [1, 2], answer: [3, 4] },
      { prompt: [5, 6], answer: [7, 8] },
    ];
    const before = answerLoss(params, texts);
    const sft = new FineTuner(params, { learningRate: 1e-2 });
    for (let i = 0; i < 10; i++) sft.supervisedStep(texts);
    expect(answerLoss(params, texts)).to.be.below(before - 0.5);

    const frozen = createParameters(config, params.data.slice());
    const pairs = [randomPair(), randomPair()];
    const dpo = new FineTuner(params, { learningRate: 1e-2 });
    const first = dpo.preferenceStep(frozen, pairs, 0.5);
    for (let i = 0; i < 10; i++) dpo.preferenceStep(frozen, pairs, 0.5);
    const after = preferenceLoss(params, frozen, pairs, 0.5);
    expect(first.margin).to.equal(0);
    expect(after.margin).to.be.above(1);
    expect(after.loss).to.be.below(first.loss);
  });
});
