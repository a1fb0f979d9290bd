// A fake engine for <llm-tuning-panel> that keeps the tuning contract (workers/api/tuning.ts) in memory: tuning
// begins on fineTune, preferenceTune, choose or mark with a copy named "<name>, tuned"; play reports progress between
// steps, then an outcome; pairs are the preferences, then every good × bad verdict to the same prompt; choose and mark
// refuse the same answers and answers too long. Its figures are simple functions of the step, so a test can check
// what the panel shows against them. Every call is logged, in order.
import type { TuningPanelClient } from '../../src/elements/tuning-panel.ts';
import type {
  ChatReply,
  ChatToken,
  DialogueSet,
  DialogueSource,
  ModelInfo,
  Preference,
  PreferenceOdds,
  ReplyRequest,
  TuningDefaults,
  TuningKind,
  TuningOutcome,
  TuningPoint,
  TuningProgress,
  TuningSettings,
  TuningState,
  Verdict,
} from '../../workers/api/index.ts';

export const DEFAULTS: TuningDefaults = {
  supervised: { steps: 6, learningRate: 1e-3, batchSize: 8, beta: 0.1 },
  preference: { steps: 4, learningRate: 5e-4, batchSize: 4, beta: 0.1 },
  reinforcement: { steps: 3, learningRate: 3e-5, batchSize: 3, beta: 0.1 },
};

/** What the fake's reward model makes of the pairs. */
export const REWARD_MODEL = { accuracy: 0.75, margin: 2.5 };

export const BUILTIN: DialogueSet = {
  dialogues: 254,
  heldOut: 37,
  examples: [
    'User: What colour is the happy red fox? Assistant: The fox is red.',
    'User: Tell me about Mara. Assistant: Mara plays chess.',
  ],
  skipped: [],
  unknown: [],
};

export const FINGERPRINT = '0123456789abcdef';
/** The longest prompt and answer the fake takes, in characters (its "context"). */
export const CONTEXT = 300;

/** The fake's figures at a step: SFT's loss falls; DPO's margin and KL grow with the preference steps taken. */
export const sftLoss = (step: number) => 3 * Math.exp(-step / 10);
export const heldOutLoss = (step: number) => 3.2 * Math.exp(-step / 12);
export const dpoMargin = (dpoSteps: number) => 0.25 * dpoSteps;
export const REFERENCE_LOG_RATIO = -0.7;
export const dpoKl = (dpoSteps: number) => 0.002 * dpoSteps * dpoSteps;
/** Policy gradient's figures after k of its steps: the mean reward and the KL grow; answer i of a step is rewarded rlReward(k) + i − 1. */
export const rlReward = (rlSteps: number) => 1 + 0.5 * rlSteps;
export const rlKl = (rlSteps: number) => 0.01 * rlSteps;
export const sampledAnswer = (rlSteps: number, i: number) => ` Sample ${i} of step ${rlSteps}.`;

export function tokensOf(text: string, probability = 0.5): ChatToken[] {
  return (text.match(/\s?[^\s]+/g) ?? []).map((token) => ({
    token,
    prob: probability,
    logprob: Math.log(probability),
    alternatives: [{ token, prob: probability, logprob: Math.log(probability) }],
  }));
}
const replyOf = (text: string): ChatReply => ({ text, tokens: tokensOf(text), finish: 'stop' });

export const BEFORE_REPLY = ' The plural of book is books.';
export const AFTER_REPLY = ' The creature is blue.';
/** The answers model.reply draws, by seed. */
export const drawnAnswer = (seed: number) => ` Answer number ${seed}.`;

function modelInfo(name: string, tuning?: ModelInfo['tuning']): ModelInfo {
  const counts = { embedding: 1, query: 1, key: 1, value: 1, output: 1, mlpUp: 1, mlpDown: 1, unembedding: 0, rest: 1, total: 8 };
  return {
    name,
    config: { vocabSize: 60, blockSize: 64, nLayer: 1, nHead: 1, nEmbd: 8, tied: true },
    parameters: counts,
    tokenizer: 'char',
    vocabulary: [],
    seed: 1,
    weights: 'trained',
    step: 0,
    ...(tuning ? { tuning } : {}),
  };
}

export function readText(text: string): DialogueSet {
  const skipped: DialogueSet['skipped'] = [];
  const usable: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    if (/^User: .+ Assistant: .+$/.test(line)) usable.push(line);
    else skipped.push({ line: index + 1, text: line, reason: 'no "User: … Assistant: …" in it' });
  });
  const heldOut = usable.length >= 10 ? Math.floor(usable.length / 10) : 0;
  const unknown = [...new Set(text.replace(/[\x20-\x7e\n]/g, ''))];
  return { dialogues: usable.length - heldOut, heldOut, examples: usable.slice(0, 2), skipped, unknown };
}

export class FakeTuningEngine implements TuningPanelClient {
  readonly calls: string[] = [];
  /** Arguments of the calls that take any, by method. */
  readonly fineTunes: [DialogueSource, Partial<TuningSettings> | undefined][] = [];
  readonly preferenceTunes: (Partial<TuningSettings> | undefined)[] = [];
  readonly rewardTunes: (Partial<TuningSettings> | undefined)[] = [];
  readonly replies: { text: string; request: ReplyRequest }[] = [];
  readonly compares: { text: string; maxTokens: number }[] = [];
  readonly odds: Preference[] = [];
  /** Set to refuse fineTune (a model too large, say) with this message. */
  refuseTuning = '';
  /** Set to have play diverge at its next step with this message. */
  divergeWith = '';
  /** Milliseconds between play's steps (so a test can pause in between). */
  stepDelay = 0;
  name = 'shipped model';
  tuned: TuningState | null = null;
  private paused = false;
  private dpoSteps = 0;
  private rlSteps = 0;

  private log(call: string): void {
    this.calls.push(call);
  }

  private begin(): TuningState {
    if (this.tuned) return this.tuned;
    const reference = { name: this.name, fingerprint: FINGERPRINT, parameters: 8 };
    this.name = `${this.name}, tuned`;
    this.tuned = {
      reference,
      preferenceReference: null,
      kind: null,
      dialogues: null,
      dialogueSource: null,
      settings: { ...DEFAULTS.supervised },
      step: 0,
      totalSteps: 0,
      playing: false,
      history: [],
      preferences: [],
      verdicts: [],
      pairs: [],
      rewardModel: null,
    };
    return this.tuned;
  }

  private update(change: Partial<TuningState>): TuningState {
    const state = { ...this.tuned!, ...change };
    const pairs = [...state.preferences];
    for (const good of state.verdicts.filter((verdict) => verdict.good)) {
      for (const bad of state.verdicts.filter((verdict) => !verdict.good && verdict.prompt === good.prompt)) {
        pairs.push({ prompt: good.prompt, chosen: good.answer, rejected: bad.answer });
      }
    }
    this.tuned = { ...state, pairs };
    return structuredClone(this.tuned);
  }

  private prepare(kind: TuningKind, settings: Partial<TuningSettings> | undefined): TuningState {
    const state = this.begin();
    const merged = { ...DEFAULTS[kind], ...settings };
    // As the worker does: tuning on choices keeps the model as it is then as its reference; fine-tuning drops it.
    const preferenceReference =
      kind === 'supervised' ? null : (state.preferenceReference ?? (state.step === 0 ? state.reference : this.snapshot(state)));
    return this.update({ kind, settings: merged, totalSteps: state.step + merged.steps, preferenceReference });
  }

  private snapshot(state: TuningState): TuningState['reference'] {
    return {
      ...state.reference,
      name: `${state.reference.name} after ${state.step} tuning steps`,
      fingerprint: 'fedcba9876543210',
    };
  }

  /** One step of the run: its point, as the contract describes it. */
  private takeStep(): TuningPoint {
    const state = this.tuned!;
    const step = state.step + 1;
    let point: TuningPoint;
    if (state.kind === 'supervised') {
      point = { step, kind: 'supervised', loss: sftLoss(step), ...(step % 2 === 0 ? { heldOutLoss: heldOutLoss(step) } : {}) };
    } else if (state.kind === 'reinforcement') {
      const k = ++this.rlSteps;
      const samples = Array.from({ length: state.settings.batchSize }, (_, i) => ({
        answer: sampledAnswer(k, i),
        ended: i > 0,
        reward: rlReward(k) + i - (state.settings.batchSize - 1) / 2,
      }));
      point = { step, kind: 'reinforcement', loss: -rlReward(k), reward: rlReward(k), kl: rlKl(k), samples };
    } else {
      const k = ++this.dpoSteps;
      const margin = dpoMargin(k);
      const loss = Math.log1p(Math.exp(-state.settings.beta * margin));
      point = { step, kind: 'preference', loss, margin, logProbMargin: REFERENCE_LOG_RATIO + margin, kl: dpoKl(k) };
    }
    this.update({ step, history: [...state.history, point] });
    return point;
  }

  private refuseAnswers(prompt: string, answers: string[]): void {
    if (answers.some((answer) => prompt.length + answer.length > CONTEXT)) {
      throw new Error(`The prompt and an answer are longer than the model's context (${CONTEXT} tokens): shorten them.`);
    }
  }

  readonly model: TuningPanelClient['model'] = {
    info: async () => {
      this.log('model.info');
      return modelInfo(this.name, this.tuned ? { reference: this.tuned.reference.name, step: this.tuned.step } : undefined);
    },
    reply: async (text, request, onToken) => {
      this.log('model.reply');
      this.replies.push({ text, request });
      const reply = replyOf(request.temperature === 0 ? BEFORE_REPLY : drawnAnswer(request.seed));
      for (const token of reply.tokens) await onToken(token);
      return reply;
    },
  };

  readonly tuning: TuningPanelClient['tuning'] = {
    defaults: async () => {
      this.log('defaults');
      return structuredClone(DEFAULTS);
    },
    readDialogues: async (source) => {
      this.log('readDialogues');
      return source.kind === 'builtin' ? structuredClone(BUILTIN) : readText(source.text);
    },
    fineTune: async (source, settings) => {
      this.log('fineTune');
      this.fineTunes.push([source, settings]);
      if (this.refuseTuning) throw new Error(this.refuseTuning);
      this.begin();
      this.update({
        dialogues: source.kind === 'builtin' ? BUILTIN : readText(source.text),
        dialogueSource: structuredClone(source),
      });
      return this.prepare('supervised', settings);
    },
    preferenceTune: async (settings) => {
      this.log('preferenceTune');
      this.preferenceTunes.push(settings);
      if (!this.tuned?.pairs.length) throw new Error('No pair to learn from: choose between two answers first.');
      return this.prepare('preference', settings);
    },
    rewardTune: async (settings) => {
      this.log('rewardTune');
      this.rewardTunes.push(settings);
      const pairs = this.tuned?.pairs.length ?? 0;
      if (pairs < 2) throw new Error('A reward model needs at least 2 pairs to learn from.');
      this.prepare('reinforcement', settings);
      return this.update({ rewardModel: { pairs, ...REWARD_MODEL } });
    },
    play: async (onProgress): Promise<TuningOutcome> => {
      this.log('play');
      this.paused = false;
      this.update({ playing: true });
      try {
        while (this.tuned!.step < this.tuned!.totalSteps) {
          if (this.paused) return { reason: 'paused', step: this.tuned!.step };
          if (this.divergeWith) {
            await onProgress({ ...this.progressOf([]), diverged: this.divergeWith });
            return { reason: 'diverged', step: this.tuned!.step, message: this.divergeWith };
          }
          const point = this.takeStep();
          await onProgress(this.progressOf([point]));
          await new Promise((resolve) => setTimeout(resolve, this.stepDelay));
        }
        return { reason: 'finished', step: this.tuned!.step };
      } finally {
        this.update({ playing: false });
      }
    },
    pause: async () => {
      this.log('pause');
      this.paused = true;
    },
    step: async () => {
      this.log('step');
      return this.progressOf([this.takeStep()]);
    },
    reset: async () => {
      this.log('reset');
      this.dpoSteps = 0;
      this.rlSteps = 0;
      this.update({ step: 0, totalSteps: 0, history: [], kind: null, preferenceReference: null, rewardModel: null });
      return modelInfo(this.name, { reference: this.tuned!.reference.name, step: 0 });
    },
    choose: async (preference) => {
      this.log('choose');
      if (preference.chosen === preference.rejected) throw new Error('The two answers are the same: there is nothing to prefer.');
      this.refuseAnswers(preference.prompt, [preference.chosen, preference.rejected]);
      this.begin();
      return this.update({ preferences: [...this.tuned!.preferences, preference] });
    },
    mark: async (verdict: Verdict) => {
      this.log('mark');
      this.refuseAnswers(verdict.prompt, [verdict.answer]);
      this.begin();
      return this.update({ verdicts: [...this.tuned!.verdicts, verdict] });
    },
    forget: async (which) => {
      this.log('forget');
      const state = this.tuned!;
      if ('preference' in which) return this.update({ preferences: state.preferences.filter((_, i) => i !== which.preference) });
      return this.update({ verdicts: state.verdicts.filter((_, i) => i !== which.verdict) });
    },
    odds: async (preference): Promise<PreferenceOdds> => {
      this.log('odds');
      this.odds.push(preference);
      return { tuned: REFERENCE_LOG_RATIO + dpoMargin(this.dpoSteps), reference: REFERENCE_LOG_RATIO };
    },
    compare: async (text, maxTokens) => {
      this.log('compare');
      this.compares.push({ text, maxTokens });
      return { before: replyOf(BEFORE_REPLY), after: replyOf(this.tuned!.step > 0 ? AFTER_REPLY : BEFORE_REPLY) };
    },
    state: async () => {
      this.log('state');
      return this.tuned && structuredClone(this.tuned);
    },
  };

  private progressOf(points: TuningPoint[]): TuningProgress {
    const { kind, step, totalSteps } = this.tuned!;
    return { kind: kind!, step, totalSteps, points };
  }
}
