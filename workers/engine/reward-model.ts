/**
 * The RLHF of big chatbots, in small: a reward model learned from the same
 * choices DPO learns from, then policy-gradient steps that raise the reward of
 * the model's own sampled answers while a KL penalty holds it near the reference.
 *
 * The reward model is the frozen language model with a linear head: r(prompt,
 * answer) = w·h̄, h̄ the final LayerNorm's output averaged over the answer's
 * positions. It is trained with the Bradley–Terry loss −log σ(r(chosen) −
 * r(rejected)), which sees only differences of rewards: a bias would get no
 * gradient, so the head has none. The language model is never changed by it,
 * so its features are computed once.
 *
 * The policy-gradient step is REINFORCE with the mean score as baseline: K
 * answers sampled from the policy, each scored r − β·log π/π_ref (summed over
 * the answer), and −Σ_k advantage_k·log π(answer_k)/K descended, through
 * model.ts's backward with a weight per answer position, then the FineTuner's
 * clipped AdamW update.
 */
import { END_OF_REPLY } from './dialogue.ts';
import {
  answerBatch,
  FineTuner,
  forwardLogProbs,
  type PreferencePair,
  type PromptAnswer,
  rowKL,
  sumOverAnswers,
} from './fine-tune.ts';
import { generate } from './generate.ts';
import { backward, createActivationGradients, createActivations, forwardActivations } from './model.ts';
import type { ParameterTensors } from './params.ts';
import { Random } from './random.ts';
import type { Tokenizer } from './tokenizer.ts';

/** The frozen language model and the head over its final hidden states: r = head·h̄. */
export interface RewardModel {
  readonly params: ParameterTensors;
  /** [nEmbd] */
  readonly head: Float32Array;
}

/** Texts run through the frozen model at a time: bounds the activations' memory, whatever the number of choices. */
const FEATURE_BATCH = 32;

/**
 * h̄ for each text [N, nEmbd]: the final LayerNorm's output at the positions
 * of the answer's tokens (each has read the prompt and the answer so far),
 * averaged. The model reads the last blockSize tokens of prompt + answer.
 */
export function rewardFeatures(params: ParameterTensors, texts: readonly PromptAnswer[]): Float32Array {
  const { nEmbd: C, blockSize } = params.config;
  const features = new Float32Array(texts.length * C);
  for (let start = 0; start < texts.length; start += FEATURE_BATCH) {
    const chunk = texts.slice(start, start + FEATURE_BATCH);
    const sequences = chunk.map(({ prompt, answer }, i) => {
      if (answer.length === 0) throw new Error(`text ${start + i + 1}: the answer is empty, so it has no reward`);
      return [...prompt, ...answer].slice(-blockSize);
    });
    const B = chunk.length;
    const T = Math.max(...sequences.map((s) => s.length));
    const tokens = new Int32Array(B * T); // padded with token 0 after each sequence: causal attention never reads it
    sequences.forEach((sequence, b) => tokens.set(sequence, b * T));
    const { lnf } = forwardActivations(params, tokens, B, T, createActivations(params.config, B, T));
    sequences.forEach((sequence, b) => {
      const positions = Math.min(chunk[b]!.answer.length, sequence.length);
      const out = features.subarray((start + b) * C, (start + b + 1) * C);
      for (let t = sequence.length - positions; t < sequence.length; t++) {
        const row = (b * T + t) * C;
        for (let c = 0; c < C; c++) out[c] += lnf[row + c]! / positions;
      }
    });
  }
  return features;
}

/** head·features for each row of features [N, C]. */
export function rewards(head: Float32Array, features: Float32Array): number[] {
  const C = head.length;
  return Array.from({ length: features.length / C }, (_, n) => {
    let r = 0;
    for (let c = 0; c < C; c++) r += head[c]! * features[n * C + c]!;
    return r;
  });
}

/** The reward of each answer after its prompt (answers with their end marker, as tuning reads them). */
export function reward(model: RewardModel, texts: readonly PromptAnswer[]): number[] {
  return rewards(model.head, rewardFeatures(model.params, texts));
}

/** The features of each pair's chosen and rejected answers, [P, C] each, row p of both from pair p. */
export interface PairFeatures {
  chosen: Float32Array;
  rejected: Float32Array;
}

export function pairFeatures(params: ParameterTensors, pairs: readonly PreferencePair[]): PairFeatures {
  return {
    chosen: rewardFeatures(
      params,
      pairs.map(({ prompt, chosen }) => ({ prompt, answer: chosen })),
    ),
    rejected: rewardFeatures(
      params,
      pairs.map(({ prompt, rejected }) => ({ prompt, answer: rejected })),
    ),
  };
}

/** What the reward model makes of a set of pairs (means over the pairs). */
export interface RewardReport {
  /** Mean −log σ(r_c − r_r) + (l2/2)·‖head‖². */
  loss: number;
  /** Mean r(chosen) − r(rejected). */
  margin: number;
  /** The fraction of pairs whose chosen answer gets the higher reward. */
  accuracy: number;
}

const logSigmoid = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));

/**
 * The Bradley–Terry loss of the head on pairs, with an L2 pull (l2/2)·‖head‖²
 * that keeps the head finite on pairs it already separates; with grad [C], its
 * gradient (overwritten): −σ(r_r − r_c)·(h̄_c − h̄_r)/P + l2·head.
 */
export function rewardLossAndGradient(head: Float32Array, pairs: PairFeatures, l2: number, grad?: Float32Array): RewardReport {
  const C = head.length;
  const P = pairs.chosen.length / C;
  if (P === 0 || pairs.rejected.length !== pairs.chosen.length) throw new Error('the reward model needs pairs to learn from');
  const chosen = rewards(head, pairs.chosen);
  const rejected = rewards(head, pairs.rejected);
  let squares = 0;
  for (let c = 0; c < C; c++) squares += head[c]! * head[c]!;
  const report: RewardReport = { loss: (l2 / 2) * squares, margin: 0, accuracy: 0 };
  if (grad) for (let c = 0; c < C; c++) grad[c] = l2 * head[c]!;
  for (let p = 0; p < P; p++) {
    const difference = chosen[p]! - rejected[p]!;
    report.loss -= logSigmoid(difference) / P;
    report.margin += difference / P;
    if (difference > 0) report.accuracy++;
    if (!grad) continue;
    const coefficient = -Math.exp(logSigmoid(-difference)) / P; // d(−log σ(d))/dd = −σ(−d)
    for (let c = 0; c < C; c++) grad[c] += coefficient * (pairs.chosen[p * C + c]! - pairs.rejected[p * C + c]!);
  }
  report.accuracy /= P;
  return report;
}

export interface RewardTrainingSettings {
  steps: number;
  /** Plain gradient descent's step size: the loss is convex in the head, the whole set of pairs is one batch. */
  learningRate: number;
  /** Weight of the L2 pull on the head. */
  l2: number;
}

export const DEFAULT_REWARD_TRAINING: RewardTrainingSettings = { steps: 300, learningRate: 0.5, l2: 1e-3 };

/**
 * A reward model over the frozen params, its head (from 0) trained on the pairs
 * by gradient descent. Returns it and its report on those pairs after training.
 */
export function trainRewardModel(
  params: ParameterTensors,
  pairs: readonly PreferencePair[],
  settings: Partial<RewardTrainingSettings> = {},
): { model: RewardModel; report: RewardReport } {
  const { steps, learningRate, l2 } = { ...DEFAULT_REWARD_TRAINING, ...settings };
  const features = pairFeatures(params, pairs);
  const head = new Float32Array(params.config.nEmbd);
  const grad = new Float32Array(head.length);
  for (let step = 0; step < steps; step++) {
    rewardLossAndGradient(head, features, l2, grad);
    for (let c = 0; c < head.length; c++) head[c] -= learningRate * grad[c]!;
  }
  return { model: { params, head }, report: rewardLossAndGradient(head, features, l2) };
}

/** The ids whose text holds END_OF_REPLY: drawing one ends an answer. */
export function endOfReplyIds(tokenizer: Tokenizer): Set<number> {
  const ids = new Set<number>();
  for (let id = 0; id < tokenizer.size; id++) if (tokenizer.decode([id]).includes(END_OF_REPLY)) ids.add(id);
  return ids;
}

export interface PolicyGradientSettings {
  /** Answers sampled per step (K). */
  samples: number;
  /** Weight of the KL penalty β·log π/π_ref in each answer's score. */
  beta: number;
  /** Tokens an answer may have when no end marker comes (fewer when the context is shorter). */
  maxTokens: number;
}

export const DEFAULT_POLICY_GRADIENT: PolicyGradientSettings = { samples: 8, beta: 0.1, maxTokens: 16 };

/** One sampled answer and how it was scored. */
export interface PolicySample {
  /** Its tokens, the end marker's last when it ended. */
  answer: number[];
  /** Whether an end marker ended it (otherwise it stopped at maxTokens). */
  ended: boolean;
  reward: number;
  /** log π(answer) − log π_ref(answer): the sampled estimate of the KL it adds. */
  logRatio: number;
  /** reward − β·logRatio. */
  score: number;
  /** score − the mean score of the step's samples. */
  advantage: number;
}

/** How the policy's sampled answers to a prompt score. */
/** How the policy's sampled answers to a prompt score. */
export interface PolicyEvaluation {
  /** Mean reward of the samples. */
  reward: number;
  /** KL(policy ‖ reference) per token: mean over the samples' answer positions of the whole next-token distributions'. */
  kl: number;
  samples: PolicySample[];
}

/**
 * K answers to the prompt drawn from the model at temperature 1 (REINFORCE needs
 * the policy's own distribution), each until an end-of-reply token or maxTokens.
 */
export function sampleAnswers(
  params: ParameterTensors,
  prompt: readonly number[],
  endIds: ReadonlySet<number>,
  { samples, maxTokens }: Pick<PolicyGradientSettings, 'samples' | 'maxTokens'>,
  seed: number,
): { answer: number[]; ended: boolean }[] {
  const { blockSize } = params.config;
  if (prompt.length === 0 || prompt.length > blockSize) {
    throw new Error(`the prompt must have 1 to ${blockSize} tokens to be answered, it has ${prompt.length}`);
  }
  // Prompt and answer less its last token must fit the context, as answerProblem asks.
  const limit = Math.min(maxTokens, blockSize + 1 - prompt.length);
  const random = new Random(seed);
  return Array.from({ length: samples }, () => {
    const answer: number[] = [];
    for (const { id } of generate(params, prompt, { temperature: 1, maxTokens: limit, seed: random.nextUint32() })) {
      answer.push(id);
      if (endIds.has(id)) return { answer, ended: true };
    }
    return { answer, ended: false };
  });
}

/** The evaluation, and what a step needs to go on: the batch the samples were laid out in and the policy's pass over it. */
function scoreSamples(
  policy: ParameterTensors,
  reference: ParameterTensors,
  rewardModel: RewardModel,
  prompt: readonly number[],
  endIds: ReadonlySet<number>,
  seed: number,
  settings: Partial<PolicyGradientSettings>,
) {
  const { samples: K, beta, maxTokens } = { ...DEFAULT_POLICY_GRADIENT, ...settings };
  if (!(Number.isInteger(K) && K >= 2)) throw new Error(`a policy-gradient step needs at least 2 samples to compare, got ${K}`);
  if (!(beta >= 0 && Number.isFinite(beta))) throw new Error(`β must be a number ≥ 0, got ${beta}`);
  const drawn = sampleAnswers(policy, prompt, endIds, { samples: K, maxTokens }, seed);
  const texts = drawn.map(({ answer }) => ({ prompt, answer }));
  const batch = answerBatch(texts, policy.config.blockSize);
  const policyPass = forwardLogProbs(policy, batch);
  const referencePass = forwardLogProbs(reference, batch);
  const logPolicy = sumOverAnswers(policyPass.logProbs, batch);
  const logReference = sumOverAnswers(referencePass.logProbs, batch);
  const sampleRewards = reward(rewardModel, texts);
  const samples = drawn.map(({ answer, ended }, k) => {
    const logRatio = logPolicy[k]! - logReference[k]!;
    return { answer, ended, reward: sampleRewards[k]!, logRatio, score: sampleRewards[k]! - beta * logRatio, advantage: 0 };
  });
  const baseline = samples.reduce((sum, { score }) => sum + score, 0) / K;
  for (const sample of samples) sample.advantage = sample.score - baseline;

  const V = policy.config.vocabSize;
  let kl = 0;
  let positions = 0;
  batch.answer.forEach((w, n) => {
    if (w === 0) return;
    kl += rowKL(policyPass.acts.logits, referencePass.acts.logits, n * V, V);
    positions++;
  });
  const evaluation: PolicyEvaluation = { reward: sampleRewards.reduce((sum, r) => sum + r, 0) / K, kl: kl / positions, samples };
  return { evaluation, batch, policyPass };
}

/** K answers sampled from the policy (seeded) and scored as a policy-gradient step scores them, changing nothing. */
export function evaluatePolicy(
  policy: ParameterTensors,
  reference: ParameterTensors,
  rewardModel: RewardModel,
  prompt: readonly number[],
  endIds: ReadonlySet<number>,
  seed: number,
  settings: Partial<PolicyGradientSettings> = {},
): PolicyEvaluation {
  return scoreSamples(policy, reference, rewardModel, prompt, endIds, seed, settings).evaluation;
}

/**
 * One policy-gradient step on the tuner's params (the policy), in place: K
 * answers sampled (seeded), scored by the reward model less the KL penalty,
 * then the gradient of −Σ_k advantage_k·log π(answer_k)/K, clipped, and AdamW.
 * Returns the evaluation from before the update and the gradient's norm. Throws
 * TrainingDivergedError, changing nothing, when the gradient is not finite.
 */
export function policyGradientStep(
  tuner: FineTuner,
  reference: ParameterTensors,
  rewardModel: RewardModel,
  prompt: readonly number[],
  endIds: ReadonlySet<number>,
  seed: number,
  settings: Partial<PolicyGradientSettings> = {},
): PolicyEvaluation & { gradNorm: number } {
  const policy = tuner.params;
  const { evaluation, batch, policyPass } = scoreSamples(policy, reference, rewardModel, prompt, endIds, seed, settings);
  const { samples } = evaluation;
  const K = samples.length;
  // Σ weights·(−log p) with weights advantage/K on each answer's positions: the gradient of −Σ_k advantage_k·log π(answer_k)/K.
  const weights = batch.answer.map((w, n) => (w * samples[Math.floor(n / batch.T)]!.advantage) / K);
  let loss = 0;
  weights.forEach((w, n) => (loss -= w * policyPass.logProbs[n]!));
  const dacts = createActivationGradients(policy.config, batch.B, batch.T);
  backward(policy, batch.tokens, batch.targets, weights, tuner.grads, policyPass.acts, dacts);
  return { ...evaluation, gradNorm: tuner.update(loss) };
}
