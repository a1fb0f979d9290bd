// The stretch of RLHF: a reward model learned from choices, then policy-gradient steps against it.
// The Bradley–Terry loss is checked against float64 and finite differences, the features against
// one text run alone; on the shipped model, the reward model must rank held-out pairs of the kind
// it learned, and policy-gradient steps must raise the reward of sampled answers near the reference.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { withEndOfReply } from '../../workers/engine/dialogue.ts';
import { FineTuner, type PreferencePair } from '../../workers/engine/fine-tune.ts';
import { createActivations, forwardActivations } from '../../workers/engine/model.ts';
import { createParameters, initParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import {
  endOfReplyIds,
  evaluatePolicy,
  pairFeatures,
  policyGradientStep,
  type RewardModel,
  rewardFeatures,
  rewardLossAndGradient,
  sampleAnswers,
  trainRewardModel,
} from '../../workers/engine/reward-model.ts';
import type { Tokenizer } from '../../workers/engine/tokenizer.ts';
import { ATHLETES, capitalise, LANDMARKS } from '../../workers/corpus/facts.ts';
import { COLOURS, NOUN_CLASSES, WORDS } from '../../workers/corpus/grammar.ts';
import { COMPARE_QUESTION } from '../../workers/corpus/tuning-dialogues.ts';

const MODEL = fileURLToPath(new URL('../../public/default-model.safetensors', import.meta.url));

/** −log σ(x) in float64, written out. */
const softplusOfMinus = (x: number) => Math.log(1 + Math.exp(-x));

/** The Bradley–Terry loss in float64 straight from its definition: mean −log σ(w·h̄_c − w·h̄_r) + (l2/2)·‖w‖². */
function referenceLoss(head: Float64Array, chosen: Float32Array, rejected: Float32Array, l2: number): number {
  const C = head.length;
  const P = chosen.length / C;
  let loss = 0;
  for (let p = 0; p < P; p++) {
    let difference = 0;
    for (let c = 0; c < C; c++) difference += head[c]! * (chosen[p * C + c]! - rejected[p * C + c]!);
    loss += softplusOfMinus(difference) / P;
  }
  for (let c = 0; c < C; c++) loss += (l2 / 2) * head[c]! * head[c]!;
  return loss;
}

describe('the Bradley–Terry loss', () => {
  test('matches a float64 reference, and its gradient central finite differences', () => {
    const seed = (Date.now() % 100_000) + 1;
    const message = (what: string) => `${what} (seed ${seed})`;
    const random = new Random(seed);
    const C = 12;
    const P = 7;
    const l2 = 0.01;
    const features = () => Float32Array.from({ length: P * C }, () => random.normal());
    const pairs = { chosen: features(), rejected: features() };
    const head = Float32Array.from({ length: C }, () => random.normal() * 0.5);
    const grad = new Float32Array(C);
    const report = rewardLossAndGradient(head, pairs, l2, grad);
    const exact = Float64Array.from(head);
    assert.ok(Math.abs(report.loss - referenceLoss(exact, pairs.chosen, pairs.rejected, l2)) < 1e-6, message('loss'));
    const h = 1e-5;
    for (let c = 0; c < C; c++) {
      const plus = Float64Array.from(exact);
      const minus = Float64Array.from(exact);
      plus[c] += h;
      minus[c] -= h;
      const numeric =
        (referenceLoss(plus, pairs.chosen, pairs.rejected, l2) - referenceLoss(minus, pairs.chosen, pairs.rejected, l2)) /
        (2 * h);
      assert.ok(
        Math.abs(grad[c]! - numeric) < 1e-5 * (1 + Math.abs(numeric)),
        message(`∂loss/∂w[${c}] ${grad[c]} vs ${numeric}`),
      );
    }
    // Without grad nothing is written; the margin and accuracy are the rewards' own.
    const rewardsOf = (rows: Float32Array) =>
      Array.from({ length: P }, (_, p) => head.reduce((sum, w, c) => sum + w * rows[p * C + c]!, 0));
    const [chosen, rejected] = [rewardsOf(pairs.chosen), rewardsOf(pairs.rejected)];
    const again = rewardLossAndGradient(head, pairs, l2);
    assert.ok(Math.abs(again.margin - chosen.reduce((sum, r, p) => sum + r - rejected[p]!, 0) / P) < 1e-5, message('margin'));
    assert.equal(again.accuracy, chosen.filter((r, p) => r > rejected[p]!).length / P, message('accuracy'));
  });
});

describe('rewardFeatures', () => {
  test('gives each text of a padded batch, over two chunks, the mean of its answer positions when run alone', () => {
    const params = initParameters({ vocabSize: 40, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 8, tied: true }, 3);
    const random = new Random(5);
    const ids = (count: number) => Array.from({ length: count }, () => random.int(40));
    // 40 texts: more than one chunk of 32; one longer than the context, whose first tokens are dropped.
    const texts = Array.from({ length: 40 }, (_, i) => ({ prompt: ids(1 + (i % 7)), answer: ids(1 + (i % 5)) }));
    texts.push({ prompt: ids(14), answer: ids(4) });
    const features = rewardFeatures(params, texts);
    const C = 8;
    texts.forEach(({ prompt, answer }, i) => {
      const sequence = [...prompt, ...answer].slice(-16);
      const { lnf } = forwardActivations(
        params,
        sequence,
        1,
        sequence.length,
        createActivations(params.config, 1, sequence.length),
      );
      for (let c = 0; c < C; c++) {
        let mean = 0;
        for (let t = sequence.length - answer.length; t < sequence.length; t++) mean += lnf[t * C + c]! / answer.length;
        assert.ok(Math.abs(features[i * C + c]! - mean) < 1e-5, `text ${i} channel ${c}: ${features[i * C + c]} vs ${mean}`);
      }
    });
    assert.throws(() => rewardFeatures(params, [{ prompt: [1], answer: [] }]), /text 1: the answer is empty/);
  });
});

/**
 * One kind of preference: to "What colour is the … creature?", an answer that says
 * a colour of it ("The owl is green.") over one about something else. The animals and
 * the off-topic lines are split: held-out pairs ask about animals and reject lines never learned from.
 */
const ANIMALS = NOUN_CLASSES[0]!.nouns;
const OFF_TOPIC = [
  ...ATHLETES.map(({ name, sport }) => ` ${name} plays ${sport}.`),
  ...LANDMARKS.map(({ name, city }) => ` ${capitalise(name)} is in ${city}.`),
];
const kept = <T>(items: readonly T[], heldOut: boolean) => items.filter((_, i) => (i % 3 === 2) === heldOut);

function colourPairs(count: number, heldOut: boolean, seed: number) {
  const random = new Random(seed);
  const pick = <T>(items: readonly T[]) => items[random.int(items.length)]!;
  return Array.from({ length: count }, () => {
    const [adjective, colour, animal] = [pick(WORDS.adjective!), pick(COLOURS), pick(kept(ANIMALS, heldOut))];
    return {
      prompt: `User: What colour is the ${adjective} ${colour} ${animal}? Assistant:`,
      chosen: ` The ${animal} is ${colour}.`,
      rejected: pick(kept(OFF_TOPIC, heldOut)),
    };
  });
}

describe('on the shipped model', () => {
  let params: ParameterTensors;
  let tokenizer: Tokenizer;
  let rewardModel: RewardModel;
  const encode = (pairs: ReturnType<typeof colourPairs>): PreferencePair[] =>
    pairs.map(({ prompt, chosen, rejected }) => ({
      prompt: tokenizer.encode(prompt),
      chosen: tokenizer.encode(withEndOfReply(chosen)),
      rejected: tokenizer.encode(withEndOfReply(rejected)),
    }));

  before(() => {
    const model = readCheckpoint(readFileSync(MODEL));
    params = model.params;
    tokenizer = model.tokenizer!;
    rewardModel = trainRewardModel(params, encode(colourPairs(16, false, 1))).model;
  });

  test('a reward model trained on 16 pairs ranks held-out pairs of the same kind', () => {
    const heldOut = rewardLossAndGradient(rewardModel.head, pairFeatures(params, encode(colourPairs(24, true, 2))), 0);
    // Measured: all 24 held-out pairs ranked right, chosen over rejected by 8.8 on average. (Pairs whose
    // rejected answer names a wrong colour are not learned: trained on 60 of them, it ranked 45–53% of 60
    // held-out ones right, chance. A linear head over this small model's averaged states tells what an
    // answer is about, not whether it is true.)
    assert.ok(heldOut.accuracy >= 0.9, `held-out accuracy ${heldOut.accuracy}`);
    assert.ok(heldOut.margin > 3, `held-out margin ${heldOut.margin}`);
  });

  test('policy-gradient steps raise the reward of sampled answers, the KL to the reference small', () => {
    const prompt = tokenizer.encode(`User: ${COMPARE_QUESTION} Assistant:`);
    const endIds = endOfReplyIds(tokenizer);
    assert.deepEqual([...endIds], tokenizer.encode('\n'));
    const policy = createParameters(params.config, params.data.slice());
    const tuner = new FineTuner(policy, { learningRate: 3e-5 });
    const evaluate = () => evaluatePolicy(policy, params, rewardModel, prompt, endIds, 999, { samples: 16 });
    const start = evaluate();
    assert.equal(start.kl, 0);
    for (let step = 1; step <= 8; step++) {
      const { gradNorm, samples } = policyGradientStep(tuner, params, rewardModel, prompt, endIds, step, { beta: 0.1 });
      assert.ok(Number.isFinite(gradNorm) && samples.length === 8);
      // The baseline is the mean score: the advantages add up to 0.
      assert.ok(Math.abs(samples.reduce((sum, { advantage }) => sum + advantage, 0)) < 1e-9);
    }
    const end = evaluate();
    // Measured on 16 answers sampled with one seed: mean reward 2.94 → 6.18, KL 0.13 nats a token. The
    // steps' own samples go 4.09 → 6.43. With other seeds for the steps and the answers: 3.65 → 5.59.
    // After the steps most answers are about the creature ("The creature is a furry green creature.").
    assert.ok(end.reward > start.reward + 1, `mean reward ${start.reward} → ${end.reward}`);
    assert.ok(end.kl < 0.5, `KL ${end.kl}`);
  });

  test('refuses fewer than two samples, and a prompt longer than the context', () => {
    const endIds = endOfReplyIds(tokenizer);
    const tuner = new FineTuner(createParameters(params.config, params.data.slice()));
    assert.throws(() => policyGradientStep(tuner, params, rewardModel, [1, 2], endIds, 1, { samples: 1 }), /at least 2 samples/);
    assert.throws(() => sampleAnswers(params, new Array(65).fill(1), endIds, { samples: 2, maxTokens: 4 }, 1), /1 to 64 tokens/);
    // A prompt of 60 tokens leaves room for 5 answer tokens at most: prompt and answer less its last fit the context.
    const answers = sampleAnswers(params, new Array(60).fill(1), new Set(), { samples: 2, maxTokens: 16 }, 1);
    assert.deepEqual(
      answers.map(({ answer, ended }) => [answer.length, ended]),
      [
        [5, false],
        [5, false],
      ],
    );
  });
});
