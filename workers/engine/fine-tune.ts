/**
 * Fine-tuning a trained model on answers: supervised fine-tuning (SFT), where
 * the loss counts only the answer's tokens, and Direct Preference Optimization
 * (DPO, Rafailov et al. 2023), which raises the odds of a chosen answer over a
 * rejected one relative to a frozen reference model. Both reuse model.ts's
 * forward and backward: a loss over chosen positions is the cross-entropy
 * backward with a weight per position (0 on the prompt).
 */
import { sameShape } from './config.ts';
import { withEndOfReply } from './dialogue.ts';
import { crossEntropyForward } from './kernels.ts';
import { backward, createActivationGradients, createActivations, forwardActivations } from './model.ts';
import { AdamW, type AdamWSettings, clipGradientNorm, DEFAULT_ADAMW } from './optimizer.ts';
import { createParameters, type ParameterTensors } from './params.ts';
import { TrainingDivergedError } from './train.ts';

/** One text to learn: the tokens of the prompt, then of the answer (with its end marker). */
export interface PromptAnswer {
  prompt: readonly number[];
  answer: readonly number[];
}

/** One preference: for the same prompt, the answer people chose and the one they rejected. */
export interface PreferencePair {
  prompt: readonly number[];
  chosen: readonly number[];
  rejected: readonly number[];
}

/**
 * B sequences padded to T positions: tokens and targets [B,T] (targets[i] the
 * token after tokens[i]), and answer [B,T] 1 where the target is one of the
 * answer's tokens, 0 on the prompt and on the padding.
 */
export interface AnswerBatch {
  tokens: Int32Array;
  targets: Int32Array;
  answer: Float32Array;
  B: number;
  T: number;
}

/**
 * Why a prompt and answer cannot be learned, or undefined when they can. The model
 * reads prompt + answer less its last token, so that is what must fit its context.
 */
export function answerProblem({ prompt, answer }: PromptAnswer, blockSize: number): string | undefined {
  if (prompt.length === 0) return 'the prompt is empty: the first answer token needs something to follow';
  if (answer.length === 0) return 'the answer is empty';
  const length = prompt.length + answer.length;
  if (length - 1 > blockSize) {
    return `prompt and answer are ${length} tokens; the model reads at most ${blockSize + 1} (its context of ${blockSize}, then the token it predicts)`;
  }
  return undefined;
}

/** A preference in words as DPO learns it: the prompt's tokens, and each answer's with one end marker after it. */
export function encodePreference(
  encode: (text: string) => number[],
  { prompt, chosen, rejected }: { prompt: string; chosen: string; rejected: string },
): PreferencePair {
  return { prompt: encode(prompt), chosen: encode(withEndOfReply(chosen)), rejected: encode(withEndOfReply(rejected)) };
}

/** Why a pair cannot be learned from, or undefined when it can. */
export function pairProblem({ prompt, chosen, rejected }: PreferencePair, blockSize: number): string | undefined {
  if (chosen.length === rejected.length && chosen.every((id, i) => id === rejected[i])) {
    return 'the chosen answer is the same as the rejected one: there is no preference to learn';
  }
  return answerProblem({ prompt, answer: chosen }, blockSize) ?? answerProblem({ prompt, answer: rejected }, blockSize);
}

/** Lays the texts out as one batch, each padded (token 0, weight 0) to the longest. Throws on a text answerProblem refuses. */
export function answerBatch(texts: readonly PromptAnswer[], blockSize: number): AnswerBatch {
  if (texts.length === 0) throw new Error('there is nothing to learn from: no prompt and answer was given');
  for (const [i, text] of texts.entries()) {
    const problem = answerProblem(text, blockSize);
    if (problem) throw new Error(`text ${i + 1}: ${problem}`);
  }
  const B = texts.length;
  const T = Math.max(...texts.map(({ prompt, answer }) => prompt.length + answer.length - 1));
  const tokens = new Int32Array(B * T);
  const targets = new Int32Array(B * T);
  const answer = new Float32Array(B * T);
  texts.forEach((text, b) => {
    const sequence = [...text.prompt, ...text.answer];
    for (let t = 0; t < sequence.length - 1; t++) {
      tokens[b * T + t] = sequence[t];
      targets[b * T + t] = sequence[t + 1];
      answer[b * T + t] = t + 1 >= text.prompt.length ? 1 : 0;
    }
  });
  return { tokens, targets, answer, B, T };
}

/** A forward pass over a batch: its activations and log p(target) at every position [B,T]. */
export function forwardLogProbs(params: ParameterTensors, batch: AnswerBatch) {
  const { tokens, targets, B, T } = batch;
  const V = params.config.vocabSize;
  const acts = forwardActivations(params, tokens, B, T, createActivations(params.config, B, T));
  const logProbs = new Float32Array(B * T);
  crossEntropyForward(logProbs, acts.logits, targets, B * T, V);
  for (let i = 0; i < logProbs.length; i++) logProbs[i] = -logProbs[i];
  return { acts, logProbs };
}

/** Σ_t answer[b,t]·values[b,t] for each sequence b: an answer's log-probability from its positions'. */
export function sumOverAnswers(values: Float32Array, batch: AnswerBatch): number[] {
  const { answer, B, T } = batch;
  return Array.from({ length: B }, (_, b) => {
    let sum = 0;
    for (let t = 0; t < T; t++) sum += answer[b * T + t] * values[b * T + t];
    return sum;
  });
}

/**
 * Σ_t weights[t]·(−log p(targets[t])) over the batch's positions, and its gradient
 * written into grads (zeroed first). Also returns every position's log p(target).
 */
export function weightedLossAndGradients(
  params: ParameterTensors,
  batch: AnswerBatch,
  weights: Float32Array,
  grads: ParameterTensors,
): { loss: number; logProbs: Float32Array } {
  const { acts, logProbs } = forwardLogProbs(params, batch);
  let loss = 0;
  for (let i = 0; i < logProbs.length; i++) loss -= weights[i] * logProbs[i];
  const dacts = createActivationGradients(params.config, batch.B, batch.T);
  backward(params, batch.tokens, batch.targets, weights, grads, acts, dacts);
  return { loss, logProbs };
}

/** SFT's loss, the mean −log p over every answer token of the batch, and its gradient into grads. */
export function answerLossAndGradients(
  params: ParameterTensors,
  texts: readonly PromptAnswer[],
  grads: ParameterTensors,
): number {
  const batch = answerBatch(texts, params.config.blockSize);
  const count = batch.answer.reduce((sum, w) => sum + w, 0);
  return weightedLossAndGradients(
    params,
    batch,
    batch.answer.map((w) => w / count),
    grads,
  ).loss;
}

/** SFT's loss without the gradient: the mean −log p over every answer token (held-out dialogues). */
export function answerLoss(params: ParameterTensors, texts: readonly PromptAnswer[]): number {
  const batch = answerBatch(texts, params.config.blockSize);
  const { logProbs } = forwardLogProbs(params, batch);
  const count = batch.answer.reduce((sum, w) => sum + w, 0);
  return -sumOverAnswers(logProbs, batch).reduce((sum, x) => sum + x, 0) / count;
}

/** What a DPO pass measured over a batch of pairs (means over the pairs, except kl). */
export interface PreferenceReport {
  /** Mean −log σ(z), z = β·[(π_c − ref_c) − (π_r − ref_r)], π and ref sequence log-probabilities of the answers. */
  loss: number;
  /**
   * Mean z/β = (π_c − ref_c) − (π_r − ref_r), in nats: how much more the policy than the
   * reference favours the chosen answer over the rejected one. 0 while the policy is the reference.
   */
  margin: number;
  /** Mean π_c − π_r: the policy's own log-probability margin of chosen over rejected. */
  logProbMargin: number;
  /**
   * KL(policy ‖ reference) per token: the mean, over every answer position of the chosen
   * and the rejected answers, of Σ_v p(v) log p(v)/q(v) over the whole next-token distributions.
   */
  kl: number;
}

/** Σ_v p log p/q for softmax rows p (policy) and q (reference) of [V] logits, in float64. */
export function rowKL(policy: Float32Array, reference: Float32Array, off: number, V: number): number {
  const logSoftmax = (logits: Float32Array) => {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
    const shift = max + Math.log(sum);
    return (v: number) => logits[off + v] - shift;
  };
  const logP = logSoftmax(policy);
  const logQ = logSoftmax(reference);
  let kl = 0;
  for (let v = 0; v < V; v++) kl += Math.exp(logP(v)) * (logP(v) - logQ(v));
  return kl;
}

const logSigmoid = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * DPO over a batch of pairs: the report, and with grads the gradient of its loss
 * (zeroed first). The reference is frozen (the weights from before tuning); the
 * gradient reaches the policy through the answers' positions with coefficients
 * −β·σ(−z)/P on the chosen answer's log-probabilities and +β·σ(−z)/P on the rejected one's.
 */
export function preferenceLoss(
  policy: ParameterTensors,
  reference: ParameterTensors,
  pairs: readonly PreferencePair[],
  beta: number,
  grads?: ParameterTensors,
): PreferenceReport {
  if (!sameShape(policy.config, reference.config)) throw new Error('the reference model has a different shape from the policy');
  if (!(beta > 0 && Number.isFinite(beta))) throw new Error(`β must be a number > 0, got ${beta}`);
  const { blockSize, vocabSize: V } = policy.config;
  for (const [i, pair] of pairs.entries()) {
    const problem = pairProblem(pair, blockSize);
    if (problem) throw new Error(`pair ${i + 1}: ${problem}`);
  }
  const P = pairs.length;
  // Chosen answers in rows 0..P−1, rejected in rows P..2P−1.
  const texts = [
    ...pairs.map(({ prompt, chosen }) => ({ prompt, answer: chosen })),
    ...pairs.map(({ prompt, rejected }) => ({ prompt, answer: rejected })),
  ];
  const batch = answerBatch(texts, blockSize);
  const policyPass = forwardLogProbs(policy, batch);
  const referencePass = forwardLogProbs(reference, batch);
  const pi = sumOverAnswers(policyPass.logProbs, batch);
  const ref = sumOverAnswers(referencePass.logProbs, batch);

  const report: PreferenceReport = { loss: 0, margin: 0, logProbMargin: 0, kl: 0 };
  const coefficients: number[] = [];
  for (let i = 0; i < P; i++) {
    const margin = pi[i] - ref[i] - (pi[P + i] - ref[P + i]);
    const z = beta * margin;
    report.loss -= logSigmoid(z) / P;
    report.margin += margin / P;
    report.logProbMargin += (pi[i] - pi[P + i]) / P;
    coefficients.push((beta * sigmoid(-z)) / P);
  }
  const { answer, T } = batch;
  let positions = 0;
  for (let n = 0; n < answer.length; n++) {
    if (answer[n] === 0) continue;
    report.kl += rowKL(policyPass.acts.logits, referencePass.acts.logits, n * V, V);
    positions++;
  }
  report.kl /= positions;

  if (grads) {
    // The loss's gradient with respect to each position's −log p: +coefficient on chosen, −coefficient on rejected.
    const weights = answer.map((w, n) => {
      const row = Math.floor(n / T);
      return row < P ? w * coefficients[row] : -w * coefficients[row - P];
    });
    const dacts = createActivationGradients(policy.config, batch.B, T);
    backward(policy, batch.tokens, batch.targets, weights, grads, policyPass.acts, dacts);
  }
  return report;
}

export interface FineTuneSettings extends AdamWSettings {
  /** Constant learning rate: runs are a few dozen steps, too short for a schedule. */
  learningRate: number;
  /** Largest gradient norm an update may use, as training clips. */
  gradClip: number;
}

export const DEFAULT_FINE_TUNE: FineTuneSettings = { ...DEFAULT_ADAMW, weightDecay: 0, learningRate: 1e-3, gradClip: 1 };

/**
 * SFT and DPO steps on params, in place: the gradient, clipped, then AdamW, as
 * the trainer does. A step whose loss or gradient is not finite changes nothing
 * and throws TrainingDivergedError.
 */
export class FineTuner {
  readonly settings: FineTuneSettings;
  readonly optimizer: AdamW;
  readonly grads: ParameterTensors;
  steps = 0;

  constructor(
    readonly params: ParameterTensors,
    settings: Partial<FineTuneSettings> = {},
  ) {
    this.settings = { ...DEFAULT_FINE_TUNE, ...settings };
    this.optimizer = new AdamW(params.config, this.settings);
    this.grads = createParameters(params.config);
  }

  /** One SFT step on the answers of these texts; returns the loss before the update and the gradient norm. */
  supervisedStep(texts: readonly PromptAnswer[]): { loss: number; gradNorm: number } {
    const loss = answerLossAndGradients(this.params, texts, this.grads);
    return { loss, gradNorm: this.update(loss) };
  }

  /** One DPO step on these pairs against the frozen reference; returns the report before the update. */
  preferenceStep(
    reference: ParameterTensors,
    pairs: readonly PreferencePair[],
    beta: number,
  ): PreferenceReport & { gradNorm: number } {
    const report = preferenceLoss(this.params, reference, pairs, beta, this.grads);
    return { ...report, gradNorm: this.update(report.loss) };
  }

  /**
   * Clips the gradient in grads, then AdamW; returns its norm before clipping. Public for steps whose
   * gradient is written into grads elsewhere: reward-model.ts's policy-gradient step.
   */
  update(loss: number): number {
    const step = this.steps + 1;
    if (!Number.isFinite(loss)) this.diverged(`the loss became ${loss}`, step);
    const gradNorm = clipGradientNorm(this.grads.data, this.settings.gradClip);
    if (!Number.isFinite(gradNorm)) this.diverged(`the gradients became ${gradNorm}`, step);
    this.optimizer.update(this.params, this.grads, this.settings.learningRate);
    this.steps = step;
    return gradNorm;
  }

  private diverged(what: string, step: number): never {
    throw new TrainingDivergedError(
      `fine-tuning stopped at step ${step}: ${what}. The weights are kept as they were before this step; try a lower learning rate.`,
    );
  }
}
