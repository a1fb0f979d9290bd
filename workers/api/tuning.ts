/**
 * The tuning area of the contract: the model in use taught to answer, in the tab.
 * Supervised fine-tuning (SFT) on dialogues, then Direct Preference Optimization
 * (DPO) on the user's choices between answers, both against a frozen reference:
 * the model as it was when tuning began. Tuning makes a new model (the one it
 * started from stays as it was, saved or not); saving it keeps the reference,
 * the choices and the history, so it all reopens offline. The RLHF of big
 * chatbots, in small, is the third kind: a reward model learned from the same
 * choices, then policy-gradient steps on the model's own sampled answers.
 * areas/tuning.ts implements it.
 */
import type { ChatReply } from './chat.ts';
import type { ModelInfo } from './model.ts';
import type { AutosaveReport } from './training.ts';

/** Dialogues to fine-tune on: the built-in ones, or pasted lines "User: … Assistant: …". */
export type DialogueSource = { kind: 'builtin' } | { kind: 'text'; text: string };

/** A pasted line that cannot be learned from, and why. */
export interface SkippedLine {
  /** 1-based. */
  line: number;
  text: string;
  reason: string;
}

/** Dialogues as read for fine-tuning. */
export interface DialogueSet {
  /** Dialogues learned from. */
  dialogues: number;
  /** Dialogues held out: their answers' loss is measured as tuning goes, never learned from. */
  heldOut: number;
  /** A few of them, each as its line "User: … Assistant: …". */
  examples: string[];
  skipped: SkippedLine[];
  /** Characters the vocabulary lacks: read as the unknown token, as training reads them. */
  unknown: string[];
}

/** SFT on dialogues; DPO on choices; policy gradient on sampled answers against a reward model learned from the choices. */
export type TuningKind = 'supervised' | 'preference' | 'reinforcement';

/** The model tuning started from, frozen: DPO's reference, and the "before" of every comparison. */
export interface ReferenceModel {
  name: string;
  /** The first 16 hex digits of the SHA-256 of its weights: tells it from any other model of the same name. */
  fingerprint: string;
  parameters: number;
  /** The saved model it was, when it was one. */
  savedId?: string;
  /** The file it came from, when it did. */
  source?: string;
}

/** For one prompt (the exact text the model continues, through "Assistant:"), the answer chosen over another. */
export interface Preference {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** One answer to a prompt marked good or bad. A good and a bad answer to the same prompt make a pair DPO learns from. */
export interface Verdict {
  prompt: string;
  answer: string;
  good: boolean;
}

export interface TuningSettings {
  /** Steps each run of Play takes. */
  steps: number;
  /** Constant AdamW learning rate. */
  learningRate: number;
  /** Dialogues (SFT) or pairs (DPO) a step learns from; answers sampled a step (policy gradient). */
  batchSize: number;
  /** DPO's and policy gradient's β: how strongly the tuned model is held near the reference (larger: nearer). */
  beta: number;
}

/** The settings each kind starts from. */
export type TuningDefaults = Record<TuningKind, TuningSettings>;

/** An answer the model drew in a policy-gradient step, and what the reward model made of it. */
export interface RewardedAnswer {
  /** The text after the prompt, without its end marker. */
  answer: string;
  /** Whether the end marker ended it (otherwise it stopped at the tokens allowed). */
  ended: boolean;
  reward: number;
}

/** One tuning step's figures. */
export interface TuningPoint {
  /** Tuning steps so far, all kinds together. */
  step: number;
  kind: TuningKind;
  /**
   * SFT: mean −log p of the batch's answer tokens. DPO: the batch's mean −log σ(β·margin). Policy gradient: the
   * objective it climbs, negated: −(mean reward − β·mean log π/π_ref) over the step's sampled answers.
   */
  loss: number;
  /** SFT: mean −log p of the held-out dialogues' answer tokens, after the step. */
  heldOutLoss?: number;
  /** DPO, over all pairs, after the step: mean (log p − log p_ref)(chosen) − (log p − log p_ref)(rejected), in nats. */
  margin?: number;
  /** DPO, over all pairs, after the step: mean log p(chosen) − log p(rejected) under the tuned model. */
  logProbMargin?: number;
  /**
   * DPO, over all pairs, after the step: KL(tuned ‖ reference) per answer token, in nats. Policy gradient: the
   * same over the step's sampled answers, before its update.
   */
  kl?: number;
  /** Policy gradient: the mean reward of the step's sampled answers (before its update). */
  reward?: number;
  /** Policy gradient: the step's sampled answers, with their rewards. */
  samples?: RewardedAnswer[];
}

/** What the reward model makes of the pairs it learned from. */
export interface RewardModelReport {
  /** Pairs it learned from. */
  pairs: number;
  /** The fraction of them whose chosen answer it scores higher than the rejected one. */
  accuracy: number;
  /** Mean reward(chosen) − reward(rejected) over them. */
  margin: number;
}

export interface TuningProgress {
  kind: TuningKind;
  /** Tuning steps so far, all kinds together. */
  step: number;
  /** The step this run ends at. */
  totalSteps: number;
  /** Every step since the previous report. */
  points: TuningPoint[];
  /** Set when a step's loss or gradient was not finite: why tuning stopped. The weights are the last good ones. */
  diverged?: string;
}

/** With autosave on, a run's end saves the tuned model: `saved`, or `saveProblem` saying why it could not. */
export interface TuningOutcome extends AutosaveReport {
  /** paused: by pause(), reset() or another model; finished: the run's steps are done; diverged: see message. */
  reason: 'paused' | 'finished' | 'diverged';
  step: number;
  message?: string;
}

/** Everything the tuning panel shows, to redraw it. */
export interface TuningState {
  reference: ReferenceModel;
  /**
   * The model tuning on choices started from, frozen: DPO's reference, against which the margin, the KL and the odds
   * are measured. The reference itself when nothing was tuned before; the fine-tuned model when fine-tuning came
   * first. Null until tuning on choices is prepared; fine-tuning again and a reset clear it.
   */
  preferenceReference: ReferenceModel | null;
  /** What the current (or last) run tunes; null before any run. */
  kind: TuningKind | null;
  /** The dialogues SFT learns from, once chosen. */
  dialogues: DialogueSet | null;
  /** Where they come from: pasted text comes back whole, so a reopened model's panel shows it again. */
  dialogueSource: DialogueSource | null;
  settings: TuningSettings;
  step: number;
  /** The step the current run ends at (step when none runs). */
  totalSteps: number;
  playing: boolean;
  diverged?: string;
  history: TuningPoint[];
  preferences: Preference[];
  verdicts: Verdict[];
  /** Pairs DPO learns from: the preferences, then every good × bad verdict for the same prompt. */
  pairs: Preference[];
  /**
   * The reward model policy gradient tunes against, once trained: a linear head over the last layer of DPO's
   * reference (preferenceReference), frozen. Fine-tuning again and a reset clear it, as they clear that reference.
   */
  rewardModel: RewardModelReport | null;
}

/** How much likelier the chosen answer is than the rejected one, now and under DPO's reference. */
export interface PreferenceOdds {
  /** log p(chosen | prompt) − log p(rejected | prompt) under the tuned model (the answers with their end marker). */
  tuned: number;
  /** The same under DPO's reference (TuningState.preferenceReference, else the reference). */
  reference: number;
}

export interface TuningApi {
  /** The settings each kind starts from. */
  defaults(): Promise<TuningDefaults>;
  /** Reads dialogues as fine-tuning would, without tuning: counts, examples, skipped lines. */
  readDialogues(source: DialogueSource): Promise<DialogueSet>;
  /**
   * Gets ready to fine-tune the model in use on dialogues; play() then tunes. When the model in use is
   * not being tuned yet, tuning begins: a new model (named after the old one) takes its place, and the
   * old one's weights become the reference. Refused for models too large to tune on the CPU here.
   */
  fineTune(source: DialogueSource, settings?: Partial<TuningSettings>): Promise<TuningState>;
  /** Gets ready to tune on the choices (DPO); play() then tunes. Refused with no pair to learn from. */
  preferenceTune(settings?: Partial<TuningSettings>): Promise<TuningState>;
  /**
   * Trains a reward model on the pairs (over DPO's reference, frozen; set then when it was not) and gets a run of
   * policy-gradient steps ready: each samples answers to one of the pairs' prompts in turn, and makes the higher
   * rewarded ones likelier, held near DPO's reference by β; play() then tunes. Refused with fewer than 2 pairs.
   */
  rewardTune(settings?: Partial<TuningSettings>): Promise<TuningState>;
  /** Tunes until pause(), another model, or the run's last step; progress a few times a second. */
  play(onProgress: (progress: TuningProgress) => unknown): Promise<TuningOutcome>;
  pause(): Promise<void>;
  /** One step of the current run (a running play stops first). */
  step(): Promise<TuningProgress>;
  /** The weights back to the reference's, the history cleared; the choices stay. */
  reset(): Promise<ModelInfo>;
  /**
   * Records that `chosen` is the better answer (tuning begins if it had not). Refused when the two
   * answers are the same, and when prompt and answer do not fit the model's context (the message says so).
   */
  choose(preference: Preference): Promise<TuningState>;
  /** Records an answer marked good or bad (tuning begins if it had not); refused as choose() refuses. */
  mark(verdict: Verdict): Promise<TuningState>;
  /** Forgets one preference or verdict, by its index in the state's list. */
  forget(which: { preference: number } | { verdict: number }): Promise<TuningState>;
  /** How much likelier chosen is than rejected after the prompt, under the tuned model and the reference. */
  odds(preference: Preference): Promise<PreferenceOdds>;
  /** The reference's and the tuned model's greedy replies to the same text, each until its end marker or maxTokens. */
  compare(text: string, maxTokens: number): Promise<{ before: ChatReply; after: ChatReply }>;
  /** Everything the tuning panel shows; null while the model in use is not being tuned. */
  state(): Promise<TuningState | null>;
}

/** The question the tuning panel compares before and after fine-tuning: held out from the built-in dialogues. */
export { COMPARE_QUESTION } from '../corpus/tuning-dialogues.ts';
