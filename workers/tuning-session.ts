/**
 * Tuning in the worker: the model in use taught to answer, by supervised
 * fine-tuning (SFT) on dialogues and by Direct Preference Optimization (DPO) on
 * the user's choices, both against a frozen reference: the weights from before
 * tuning began; and by policy gradient against a reward model learned from the
 * choices (tuning-reinforcement.ts). Steps run on the CPU (engine/fine-tune.ts).
 * As in training, the play loop yields to the worker's event loop after every
 * step, so a pause or any other request (a reply in the chat, the odds of an
 * answer) is answered between two steps.
 */
import type {
  DialogueSet,
  DialogueSource,
  Preference,
  PreferenceOdds,
  ReferenceModel,
  SkippedLine,
  TuningDefaults,
  TuningKind,
  TuningOutcome,
  TuningPoint,
  TuningProgress,
  TuningSettings,
  TuningState,
  Verdict,
} from './api/tuning.ts';
import { cut, excerpt } from './api/errors.ts';
import { tuningDialogues } from './corpus/tuning-dialogues.ts';
import { splitDialogue, withEndOfReply } from './engine/dialogue.ts';
import {
  answerLoss,
  encodePreference,
  answerProblem,
  FineTuner,
  pairProblem,
  type PreferencePair,
  preferenceLoss,
  type PromptAnswer,
} from './engine/fine-tune.ts';
import { createParameters, type ParameterTensors } from './engine/params.ts';
import { Random } from './engine/random.ts';
import type { Tokenizer } from './engine/tokenizer.ts';
import { endOfReplyIds } from './engine/reward-model.ts';
import { TrainingDivergedError } from './engine/train.ts';
import type { StoredTuning } from './store/records.ts';
import { nextMacrotask } from './training-session.ts';
import {
  distinctPrompts,
  reinforcementStep,
  REWARD_MODEL_PAIRS,
  TOO_FEW_PAIRS,
  type TrainedReward,
  trainReward,
} from './tuning-reinforcement.ts';

/**
 * SFT: 60 steps of 8 built-in dialogues at 1e-3 turn the shipped model's reply to the compared question into the
 * answer (measured with the CLI). DPO moves the model far faster: on 4 pairs of the corpus's questions, each with
 * a wrong answer, 3e-5 raised the mean margin from 0 to 17.7 nats in 20 steps with a KL of 0.023 nats a token,
 * where 1e-4 reached 0.14 nats a token and 1e-3 put the model 4.2 nats a token from the reference. Policy gradient,
 * on 4 pairs asking the colour of 4 animals (an answer naming it over one about something else), one question a step:
 * 10 steps of 8 answers at 5e-5 raised the mean reward of 16 answers to each question from 2.12 to 3.56 with a KL of
 * 0.16 nats a token (the steps' own answers: 2.14 over the first 4 steps, 3.32 over the last 4); 3e-5 only to 2.71
 * (16 answers a step at 3e-5: 3.47, but the steps' own answers rose by 0.3 only, too little to see); 1e-4 to 3.34,
 * with a KL of 0.32.
 */
export const TUNING_DEFAULTS: TuningDefaults = {
  supervised: { steps: 60, batchSize: 8, learningRate: 1e-3, beta: 0.1 },
  preference: { steps: 20, batchSize: 8, learningRate: 3e-5, beta: 0.1 },
  reinforcement: { steps: 10, batchSize: 8, learningRate: 5e-5, beta: 0.1 },
};

/** While playing, progress goes to the page at most this often (and when the run ends). */
const REPORT_INTERVAL_MS = 250;
/** With at least this many usable pasted dialogues, every this-many-th is held out. */
const HELD_OUT_EVERY = 10;
/** Characters of a skipped line that its report keeps. */
const SKIPPED_TEXT_LENGTH = 120;
/** Dialogues a DialogueSet shows. */
const EXAMPLES = 3;
/** Seed of the batches' draws: the same dialogues and pairs draw the same batches. */
const BATCH_SEED = 1;

/** Dialogues read for fine-tuning: what the page is shown, and the encoded texts. */
export interface ReadDialogues {
  source: DialogueSource;
  set: DialogueSet;
  learned: PromptAnswer[];
  heldOut: PromptAnswer[];
}

/**
 * Reads dialogues as fine-tuning does: the built-in ones as drawn, or pasted text one dialogue a line, split
 * after its first "Assistant:". Lines that cannot be learned from are skipped with a reason; with enough
 * usable lines, 1 in 10 is held out.
 */
export function readDialogues(source: DialogueSource, tokenizer: Tokenizer, blockSize: number): ReadDialogues {
  const unknown = new Set<string>();
  const encode = (text: string) => {
    const encoding = tokenizer.encodeWithReport(text);
    for (const character of encoding.unknown) unknown.add(character);
    return encoding.ids;
  };
  const skipped: SkippedLine[] = [];
  const usable: { text: string; line: number; dialogue: PromptAnswer }[] = [];
  const { lines, heldOutFrom } =
    source.kind === 'builtin' ? builtinLines() : { lines: source.text.split(/\r?\n/), heldOutFrom: 0 };
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const split = splitDialogue(text);
    if (!split) {
      skipped.push({
        line: i + 1,
        text: cut(text, SKIPPED_TEXT_LENGTH),
        reason: 'there is no answer after "Assistant:" to learn',
      });
      return;
    }
    const dialogue = { prompt: encode(split.prompt), answer: encode(split.answer) };
    const problem = answerProblem(dialogue, blockSize);
    if (problem) skipped.push({ line: i + 1, text: cut(text, SKIPPED_TEXT_LENGTH), reason: problem });
    else usable.push({ text: text.trim(), line: i, dialogue });
  });
  const isHeldOut =
    source.kind === 'builtin'
      ? ({ line }: { line: number }) => line >= heldOutFrom
      : (_: unknown, i: number) => usable.length >= HELD_OUT_EVERY && i % HELD_OUT_EVERY === HELD_OUT_EVERY - 1;
  const learned = usable.filter((entry, i) => !isHeldOut(entry, i));
  const heldOut = usable.filter((entry, i) => isHeldOut(entry, i));
  return {
    source: source.kind === 'builtin' ? { kind: 'builtin' } : { kind: 'text', text: source.text },
    set: {
      dialogues: learned.length,
      heldOut: heldOut.length,
      examples: learned.slice(0, EXAMPLES).map(({ text }) => text),
      skipped,
      unknown: [...unknown],
    },
    learned: learned.map(({ dialogue }) => dialogue),
    heldOut: heldOut.map(({ dialogue }) => dialogue),
  };
}

/** The built-in dialogues, the held-out ones last, from line index heldOutFrom. */
function builtinLines(): { lines: string[]; heldOutFrom: number } {
  const { learned, heldOut } = tuningDialogues();
  return { lines: [...learned, ...heldOut], heldOutFrom: learned.length };
}

/** The settings with the changes asked for; throws, saying why, on one that cannot be used. */
export function checkSettings(settings: TuningSettings, changes: Partial<TuningSettings> = {}): TuningSettings {
  const next = { ...settings, ...changes };
  const wholeAtLeastOne = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${excerpt(value)}`);
  };
  const positive = (name: string, value: number) => {
    if (!(value > 0 && Number.isFinite(value))) throw new Error(`${name} must be a number > 0, got ${excerpt(value)}`);
  };
  wholeAtLeastOne('steps', next.steps);
  wholeAtLeastOne('batch size', next.batchSize);
  positive('learning rate', next.learningRate);
  positive('β', next.beta);
  return next;
}

/** A pair as DPO learns it: the answers with their end marker; throws, saying why, when it cannot be learned. */
export function encodePair(tokenizer: Tokenizer, blockSize: number, preference: Preference): PreferencePair {
  const pair = encodePreference((text) => tokenizer.encode(text), preference);
  const problem = pairProblem(pair, blockSize);
  if (problem) throw new Error(`This pair cannot be learned from: ${problem}.`);
  return pair;
}

/** Throws, saying why, when an answer marked good or bad cannot be learned from. */
export function checkVerdict(tokenizer: Tokenizer, blockSize: number, { prompt, answer }: Verdict): void {
  const problem = answerProblem(
    { prompt: tokenizer.encode(prompt), answer: tokenizer.encode(withEndOfReply(answer)) },
    blockSize,
  );
  if (problem) throw new Error(`This answer cannot be learned from: ${problem}.`);
}

/** The first 16 hex digits of the SHA-256 of the weights' bytes. */
export async function fingerprint(params: Float32Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', params.slice()));
  return Array.from(digest.subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A copy of the weights, in a buffer of their own. */
function copyOf(params: ParameterTensors): ParameterTensors {
  const copy = createParameters(params.config);
  copy.data.set(params.data);
  return copy;
}

/** The model tuning starts from: its name, its weights, and where they came from when known. */
export interface TuningStart {
  name: string;
  params: ParameterTensors;
  savedId?: string;
  source?: string;
}

export class TuningSession {
  /** What the current (or last) run tunes. */
  private kind: TuningKind | null = null;
  private readonly settings: TuningDefaults = structuredClone(TUNING_DEFAULTS);
  private dialogues: ReadDialogues | null = null;
  private preferences: Preference[] = [];
  private verdicts: Verdict[] = [];
  /** Fresh for each run that is prepared, and after a reset: AdamW's moments are not carried from one run to the next. */
  private tuner: FineTuner;
  private history: TuningPoint[] = [];
  private totalSteps = 0;
  private diverged: string | undefined;
  private readonly random = new Random(BATCH_SEED);
  /** Points of the history already sent to the page. */
  private reportedPoints = 0;
  /** Id of the play loop allowed to run; pause() moves it on. */
  private activeRun = 0;
  /** Id of the play loop still running (0: none). */
  private runningLoop = 0;
  /**
   * The model tuning on choices started from, frozen: DPO's reference, the one its margin, KL and odds are measured
   * against. The reference itself when nothing was tuned before; a copy of the fine-tuned weights when fine-tuning
   * came first. Null until tuning on choices is prepared; fine-tuning again and a reset clear it, so the next tuning
   * on choices starts from the model as it is then.
   */
  private preferenceStart: { model: ReferenceModel; params: ParameterTensors } | null = null;
  /** The reward model over preferenceReference, once trained; cleared with it. */
  private reward: TrainedReward | null = null;
  /** Token ids that end an answer, found when policy gradient first samples. */
  private endIds: ReadonlySet<number> | null = null;
  /** The step saved last (null: never saved), so that a run's end saves only what is new; the library sets it. */
  savedStep: number | null = null;

  private constructor(
    /** The model tuning started from, frozen. */
    readonly reference: ReferenceModel,
    readonly referenceParams: ParameterTensors,
    /** The tuned model's weights, tuned in place. */
    readonly params: ParameterTensors,
    private readonly tokenizer: Tokenizer,
    /** Called after every change to the weights (a step, a reset): caches of them go stale. */
    private readonly onEdit: () => void,
  ) {
    this.tuner = new FineTuner(params);
  }

  /** Tuning that begins from a model: the tuned weights and the frozen reference are two copies of its weights. */
  static async begin(start: TuningStart, tokenizer: Tokenizer, onEdit: () => void): Promise<TuningSession> {
    const reference: ReferenceModel = {
      name: start.name,
      fingerprint: await fingerprint(start.params.data),
      parameters: start.params.data.length,
    };
    if (start.savedId !== undefined) reference.savedId = start.savedId;
    if (start.source !== undefined) reference.source = start.source;
    return new TuningSession(reference, copyOf(start.params), copyOf(start.params), tokenizer, onEdit);
  }

  /**
   * Tuning as it was saved, on the saved tuned weights: the reference (its weights checked against their
   * fingerprint), the choices, the settings and the history come back. The optimizer's moments are not
   * saved, so going on starts them afresh, as any new run does.
   */
  static async restore(
    saved: StoredTuning,
    params: ParameterTensors,
    tokenizer: Tokenizer,
    onEdit: () => void,
  ): Promise<TuningSession> {
    const reference = createParameters(params.config, saved.referenceParams.slice());
    if ((await fingerprint(reference.data)) !== saved.reference.fingerprint) {
      throw new Error(`the weights kept of ${saved.reference.name}, the model it was tuned from, do not match their fingerprint`);
    }
    const session = new TuningSession({ ...saved.reference }, reference, params, tokenizer, onEdit);
    if (saved.preferenceReference) {
      const { model, params: weights } = saved.preferenceReference;
      const start = weights ? createParameters(params.config, weights.slice()) : reference;
      if (weights && (await fingerprint(start.data)) !== model.fingerprint) {
        throw new Error(
          `the weights kept of ${model.name}, the model tuning on choices started from, do not match their fingerprint`,
        );
      }
      session.preferenceStart = { model: { ...model }, params: start };
    }
    if (saved.rewardModel) session.reward = { head: saved.rewardModel.head.slice(), report: { ...saved.rewardModel.report } };
    session.kind = saved.kind;
    Object.assign(session.settings, structuredClone(saved.settings));
    if (saved.dialogues) session.dialogues = readDialogues(saved.dialogues, tokenizer, params.config.blockSize);
    session.preferences = saved.preferences.map((preference) => ({ ...preference }));
    session.verdicts = saved.verdicts.map((verdict) => ({ ...verdict }));
    session.history = saved.history.map((point) => ({ ...point }));
    session.reportedPoints = session.history.length;
    session.totalSteps = saved.totalSteps;
    session.freshTuner(); // with the run's learning rate
    if (saved.diverged) session.diverged = saved.diverged;
    session.savedStep = session.step;
    return session;
  }

  /** Everything needed to show this tuning again and go on with it. */
  saveState(): StoredTuning {
    const stored: StoredTuning = {
      reference: { ...this.reference },
      referenceParams: this.referenceParams.data.slice(),
      kind: this.kind,
      settings: structuredClone(this.settings),
      dialogues: this.dialogues ? structuredClone(this.dialogues.source) : null,
      preferences: this.preferences.map((preference) => ({ ...preference })),
      verdicts: this.verdicts.map((verdict) => ({ ...verdict })),
      totalSteps: this.totalSteps,
      history: this.history.map((point) => ({ ...point })),
    };
    if (this.preferenceStart) {
      const { model, params } = this.preferenceStart;
      // The weights are kept only when they are not the reference's.
      stored.preferenceReference = { model: { ...model } };
      if (params !== this.referenceParams) stored.preferenceReference.params = params.data.slice();
    }
    if (this.reward) stored.rewardModel = { head: this.reward.head.slice(), report: { ...this.reward.report } };
    if (this.diverged) stored.diverged = this.diverged;
    return stored;
  }

  /** Tuning steps so far, SFT and DPO together. */
  get step(): number {
    return this.history.length;
  }

  /** DPO's reference: the model tuning on choices started from, or the reference before it began. */
  get preferenceReference(): ParameterTensors {
    return this.preferenceStart?.params ?? this.referenceParams;
  }

  /**
   * Gets a run of `kind` ready (SFT on `dialogues`, or on the ones chosen before): play() then takes its
   * steps. A running play stops first; the optimizer starts afresh. Tuning on choices keeps the model as it is
   * now as its reference, unless it has one since the last fine-tuning; policy gradient trains the reward
   * model over that reference on the pairs as they are now.
   */
  async prepare(kind: TuningKind, changes: Partial<TuningSettings> = {}, dialogues?: ReadDialogues): Promise<void> {
    const settings = checkSettings(this.settings[kind], changes);
    if (kind === 'supervised' && !(dialogues ?? this.dialogues)?.learned.length) {
      throw new Error('There are no dialogues to fine-tune on: choose the built-in ones or paste some.');
    }
    if (kind !== 'supervised' && this.pairs().length === 0) throw new Error(NO_PAIRS);
    if (kind === 'reinforcement' && this.pairs().length < REWARD_MODEL_PAIRS) throw new Error(TOO_FEW_PAIRS);
    this.pause();
    if (kind === 'supervised') this.forgetPreferenceStart();
    else this.preferenceStart ??= await this.snapshot();
    if (kind === 'reinforcement') this.reward = trainReward(this.preferenceReference, this.encodedPairs());
    this.settings[kind] = settings;
    if (dialogues) this.dialogues = dialogues;
    this.kind = kind;
    this.diverged = undefined;
    this.totalSteps = this.step + settings.steps;
    this.freshTuner();
  }

  pause(): void {
    this.activeRun++;
  }

  /** The weights as they are now, as a frozen model: the reference itself while nothing was tuned. */
  private async snapshot(): Promise<{ model: ReferenceModel; params: ParameterTensors }> {
    if (this.step === 0) return { model: this.reference, params: this.referenceParams };
    const params = copyOf(this.params);
    const model: ReferenceModel = {
      name: `${this.reference.name} after ${this.step} tuning steps`,
      fingerprint: await fingerprint(params.data),
      parameters: params.data.length,
    };
    return { model, params };
  }

  /**
   * Tunes until paused or the run's last step (a finished run's Play starts another of the same length),
   * sending the steps taken to onProgress a few times a second, and waiting for the page to take them.
   */
  async play(onProgress: (progress: TuningProgress) => unknown): Promise<TuningOutcome> {
    const kind = this.runKind();
    if (this.diverged) return { reason: 'diverged', step: this.step, message: this.diverged };
    if (this.step >= this.totalSteps) this.totalSteps = this.step + this.settings[kind].steps;
    const run = ++this.activeRun;
    this.runningLoop = run;
    let lastReport = performance.now();
    try {
      while (this.step < this.totalSteps && !this.diverged) {
        await nextMacrotask();
        if (run !== this.activeRun) {
          if (this.reportedPoints !== this.step) await onProgress(this.report());
          return { reason: 'paused', step: this.step };
        }
        this.advance();
        const now = performance.now();
        if (this.diverged || this.step >= this.totalSteps || now - lastReport >= REPORT_INTERVAL_MS) {
          lastReport = now;
          await onProgress(this.report());
        }
      }
    } finally {
      if (this.runningLoop === run) this.runningLoop = 0;
    }
    if (this.diverged) return { reason: 'diverged', step: this.step, message: this.diverged };
    return { reason: 'finished', step: this.step };
  }

  /** One step of the current run (a running play stops first); past the run's end, the run grows by one. */
  stepOnce(): TuningProgress {
    this.runKind();
    this.pause();
    if (!this.diverged) this.advance();
    this.totalSteps = Math.max(this.totalSteps, this.step);
    return this.report();
  }

  /** The weights back to the reference's, bit for bit; the history cleared; the choices and dialogues stay. */
  reset(): void {
    this.pause();
    this.params.data.set(this.referenceParams.data);
    this.forgetPreferenceStart();
    this.history = [];
    this.reportedPoints = 0;
    this.diverged = undefined;
    this.totalSteps = this.kind ? this.settings[this.kind].steps : 0;
    this.freshTuner();
    this.onEdit();
  }

  /** Records a preference; throws, saying why, when it cannot be learned from. */
  choose(preference: Preference): void {
    encodePair(this.tokenizer, this.params.config.blockSize, preference);
    this.preferences.push({ ...preference });
  }

  /** Records a verdict; marking the same answer to the same prompt again replaces the earlier verdict. */
  mark(verdict: Verdict): void {
    checkVerdict(this.tokenizer, this.params.config.blockSize, verdict);
    const answer = withEndOfReply(verdict.answer);
    const same = this.verdicts.findIndex((v) => v.prompt === verdict.prompt && withEndOfReply(v.answer) === answer);
    if (same >= 0) this.verdicts.splice(same, 1);
    this.verdicts.push({ ...verdict });
  }

  forget(which: { preference: number } | { verdict: number }): void {
    const [list, index] = 'preference' in which ? [this.preferences, which.preference] : [this.verdicts, which.verdict];
    if (!Number.isInteger(index) || index < 0 || index >= list.length) {
      throw new Error(`there is no ${'preference' in which ? 'preference' : 'verdict'} ${excerpt(index)} to forget`);
    }
    list.splice(index, 1);
  }

  /** Pairs DPO learns from: the preferences, then every good × bad verdict for the same prompt. */
  pairs(): Preference[] {
    const fromVerdicts = this.verdicts
      .filter((verdict) => verdict.good)
      .flatMap((good) =>
        this.verdicts
          .filter((bad) => !bad.good && bad.prompt === good.prompt)
          .map((bad) => ({ prompt: good.prompt, chosen: good.answer, rejected: bad.answer })),
      );
    return [...this.preferences.map((preference) => ({ ...preference })), ...fromVerdicts];
  }

  state(): TuningState {
    const kind = this.kind;
    const state: TuningState = {
      reference: { ...this.reference },
      preferenceReference: this.preferenceStart ? { ...this.preferenceStart.model } : null,
      kind,
      dialogues: this.dialogues ? structuredClone(this.dialogues.set) : null,
      dialogueSource: this.dialogues ? structuredClone(this.dialogues.source) : null,
      settings: { ...this.settings[kind ?? 'supervised'] },
      step: this.step,
      totalSteps: Math.max(this.totalSteps, this.step),
      playing: this.runningLoop !== 0 && this.runningLoop === this.activeRun,
      history: this.history.map((point) => ({ ...point })),
      preferences: this.preferences.map((preference) => ({ ...preference })),
      verdicts: this.verdicts.map((verdict) => ({ ...verdict })),
      pairs: this.pairs(),
      rewardModel: this.reward ? { ...this.reward.report } : null,
    };
    if (this.diverged) state.diverged = this.diverged;
    return state;
  }

  private runKind(): TuningKind {
    if (!this.kind) throw new Error('Choose what to tune first: fine-tune on dialogues, or tune on your choices.');
    return this.kind;
  }

  private freshTuner(): void {
    const { learningRate } = this.settings[this.kind ?? 'supervised'];
    this.tuner = new FineTuner(this.params, { learningRate });
    // Its divergence message then names the step as the history does.
    this.tuner.steps = this.step;
  }

  /** Takes one step of the current run and adds its point to the history; a step that diverges changes nothing. */
  private advance(): void {
    const kind = this.runKind();
    const { batchSize, beta } = this.settings[kind];
    try {
      const point =
        kind === 'supervised'
          ? this.supervisedStep(batchSize)
          : kind === 'preference'
            ? this.preferenceStep(batchSize, beta)
            : this.reinforcementStep();
      this.history.push(point);
    } catch (error) {
      if (!(error instanceof TrainingDivergedError)) throw error;
      this.diverged = error.message;
      return;
    }
    this.onEdit();
  }

  private supervisedStep(batchSize: number): TuningPoint {
    const { learned, heldOut } = this.dialogues!;
    const { loss } = this.tuner.supervisedStep(this.draw(learned, batchSize));
    const point: TuningPoint = { step: this.step + 1, kind: 'supervised', loss };
    if (heldOut.length > 0) point.heldOutLoss = answerLoss(this.params, heldOut);
    return point;
  }

  private preferenceStep(batchSize: number, beta: number): TuningPoint {
    const pairs = this.encodedPairs();
    if (pairs.length === 0) throw new Error(NO_PAIRS);
    const { loss } = this.tuner.preferenceStep(this.preferenceReference, this.draw(pairs, batchSize), beta);
    const { margin, logProbMargin, kl } = preferenceLoss(this.params, this.preferenceReference, pairs, beta);
    return { step: this.step + 1, kind: 'preference', loss, margin, logProbMargin, kl };
  }

  /** Samples answers to the pairs' prompts in turn, one prompt a step. */
  private reinforcementStep(): TuningPoint {
    const prompts = distinctPrompts(this.pairs());
    if (!this.reward) throw new Error('Train a reward model on your choices first.');
    if (prompts.length === 0) throw new Error(NO_PAIRS);
    const taken = this.history.filter((point) => point.kind === 'reinforcement').length;
    this.endIds ??= endOfReplyIds(this.tokenizer);
    const target = { reference: this.preferenceReference, reward: this.reward, tokenizer: this.tokenizer, endIds: this.endIds };
    const prompt = prompts[taken % prompts.length]!;
    return reinforcementStep(this.tuner, target, prompt, this.settings.reinforcement, this.random.nextUint32(), this.step + 1);
  }

  private encodedPairs(): PreferencePair[] {
    return this.pairs().map((pair) => encodePair(this.tokenizer, this.params.config.blockSize, pair));
  }

  /** DPO's reference goes, and the reward model over it with it. */
  private forgetPreferenceStart(): void {
    this.preferenceStart = null;
    this.reward = null;
  }

  /** A batch: every item when they fit in one, else batchSize drawn at random (with replacement). */
  private draw<T>(items: readonly T[], batchSize: number): readonly T[] {
    if (items.length <= batchSize) return items;
    return Array.from({ length: batchSize }, () => items[this.random.int(items.length)]!);
  }

  /** Progress with the points the page has not had yet. */
  private report(): TuningProgress {
    const progress: TuningProgress = {
      kind: this.runKind(),
      step: this.step,
      totalSteps: Math.max(this.totalSteps, this.step),
      points: this.history.slice(this.reportedPoints).map((point) => ({ ...point })),
    };
    this.reportedPoints = this.step;
    if (this.diverged) progress.diverged = this.diverged;
    return progress;
  }
}

export const NO_PAIRS = 'There is no pair to learn from yet: choose the better of two answers, or mark answers good and bad.';

/** How much likelier chosen is than rejected under the tuned weights and the reference's (the answers with their end marker). */
export function preferenceOdds(
  policy: ParameterTensors,
  reference: ParameterTensors,
  tokenizer: Tokenizer,
  preference: Preference,
): PreferenceOdds {
  const pair = encodePair(tokenizer, policy.config.blockSize, preference);
  // margin = (π_c − ref_c) − (π_r − ref_r) and logProbMargin = π_c − π_r:
  // the reference's own margin ref_c − ref_r is their difference.
  const { logProbMargin, margin } = preferenceLoss(policy, reference, [pair], 1);
  return { tuned: logProbMargin, reference: logProbMargin - margin };
}
