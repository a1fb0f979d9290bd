/**
 * Tuning on choices as big chatbots are tuned (RLHF), in small, for the tuning
 * session: a reward model learned from the pairs, then policy-gradient steps
 * that make the model's higher-rewarded sampled answers likelier, held near
 * DPO's reference (engine/reward-model.ts does the math). The reward model reads
 * DPO's reference, frozen, never the weights being tuned: a reward model that
 * moved with the policy would score its own changes.
 */
import type { Preference, RewardModelReport, TuningPoint, TuningSettings } from './api/tuning.ts';
import { END_OF_REPLY } from './engine/dialogue.ts';
import type { FineTuner, PreferencePair } from './engine/fine-tune.ts';
import type { ParameterTensors } from './engine/params.ts';
import { DEFAULT_POLICY_GRADIENT, policyGradientStep, trainRewardModel } from './engine/reward-model.ts';
import type { Tokenizer } from './engine/tokenizer.ts';

/** The reward model's head over DPO's reference, and what it made of the pairs it learned from. */
export interface TrainedReward {
  /** [nEmbd] */
  head: Float32Array;
  report: RewardModelReport;
}

/** Pairs a reward model needs at the least: with one, any head that ranks it is as good as another. */
export const REWARD_MODEL_PAIRS = 2;

export const TOO_FEW_PAIRS =
  `A reward model needs at least ${REWARD_MODEL_PAIRS} pairs to learn from: ` +
  'choose between answers, or mark answers good and bad, a few more times.';

/** A reward model over the frozen params, trained on the pairs. */
export function trainReward(params: ParameterTensors, pairs: readonly PreferencePair[]): TrainedReward {
  if (pairs.length < REWARD_MODEL_PAIRS) throw new Error(TOO_FEW_PAIRS);
  const { model, report } = trainRewardModel(params, pairs);
  return { head: model.head, report: { pairs: pairs.length, accuracy: report.accuracy, margin: report.margin } };
}

/** The pairs' prompts, each once, in their first pair's order: policy gradient samples answers to them in turn. */
export const distinctPrompts = (pairs: readonly Preference[]): string[] => [...new Set(pairs.map(({ prompt }) => prompt))];

/** The frozen model and the reward model over it that a policy-gradient step tunes against. */
export interface RewardTarget {
  reference: ParameterTensors;
  reward: TrainedReward;
  tokenizer: Tokenizer;
  /** Token ids that end an answer. */
  endIds: ReadonlySet<number>;
}

/**
 * One policy-gradient step on the tuner's params: `batchSize` answers to the prompt sampled (seeded), scored,
 * and the update; its point numbered `step`. Throws TrainingDivergedError, changing nothing, when not finite.
 */
export function reinforcementStep(
  tuner: FineTuner,
  target: RewardTarget,
  prompt: string,
  { batchSize, beta }: TuningSettings,
  seed: number,
  step: number,
): TuningPoint {
  const { reference, reward, tokenizer, endIds } = target;
  const {
    samples,
    reward: meanReward,
    kl,
  } = policyGradientStep(tuner, reference, { params: reference, head: reward.head }, tokenizer.encode(prompt), endIds, seed, {
    ...DEFAULT_POLICY_GRADIENT,
    samples: batchSize,
    beta,
  });
  const meanScore = samples.reduce((sum, { score }) => sum + score, 0) / samples.length;
  return {
    step,
    kind: 'reinforcement',
    loss: -meanScore,
    reward: meanReward,
    kl,
    samples: samples.map(({ answer, ended, reward: value }) => {
      const text = tokenizer.decode(answer);
      return { answer: ended ? text.slice(0, text.lastIndexOf(END_OF_REPLY)) : text, ended, reward: value };
    }),
  };
}
