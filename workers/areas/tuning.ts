/**
 * The tuning area: the model in use fine-tuned on dialogues (SFT) and tuned on
 * the user's choices (DPO, or policy gradient against a reward model learned
 * from them), in the worker, between other requests. Tuning begins by putting a
 * new model in place of the one in use (named after it, its weights a copy), so
 * the next save is a new saved model and the old one stays as it was; the old
 * weights are kept, frozen, as the reference.
 */
import type { ChatReply } from '../api/chat.ts';
import { messageOf } from '../api/errors.ts';
import type { ModelInfo } from '../api/model.ts';
import type {
  DialogueSet,
  DialogueSource,
  Preference,
  PreferenceOdds,
  TuningApi,
  TuningDefaults,
  TuningOutcome,
  TuningProgress,
  TuningSettings,
  TuningState,
  Verdict,
} from '../api/tuning.ts';
import type { AutosaveReport } from '../api/training.ts';
import { countParameters } from '../engine/params.ts';
import { STEP_PARAMETER_LIMIT } from '../engine/step-close-up.ts';
import type { ModelLibrary } from '../model-library.ts';
import {
  checkVerdict,
  encodePair,
  NO_PAIRS,
  preferenceOdds,
  readDialogues,
  TUNING_DEFAULTS,
  TuningSession,
} from '../tuning-session.ts';
import { type ActiveModel, contextIds, type LoadedModel } from './active-model.ts';
import { greedyReply } from './reply.ts';

/** Bytes a tuned parameter takes: the weights, their gradient and AdamW's two moments (float32), and the reference's copy. */
const TUNING_BYTES_PER_PARAMETER = 20;

/** Why a model cannot be tuned here, or undefined when it can. */
export function tuningProblem({
  name,
  config,
  pretrained,
}: Pick<LoadedModel, 'name' | 'config' | 'pretrained'>): string | undefined {
  const { total } = countParameters(config);
  if (total <= STEP_PARAMETER_LIMIT) return undefined;
  const gigabytes = (total * TUNING_BYTES_PER_PARAMETER) / 1e9;
  return (
    `${name} is too large to tune here: tuning runs on the CPU, and its ${total.toLocaleString('en-US')} parameters ` +
    `need their gradients, AdamW's two running means and the reference's copy too, about ${gigabytes.toFixed(1)} GB. ` +
    `Tuning takes models up to ${STEP_PARAMETER_LIMIT.toLocaleString('en-US')} parameters: ` +
    'the built-in one, or one trained here.' +
    (pretrained !== undefined ? ' Open the built-in model to tune it.' : '')
  );
}

export class TuningArea implements TuningApi {
  /** The tuning beginning now, so that two calls at once begin it once. */
  private beginning: Promise<TuningSession> | null = null;

  constructor(
    private readonly active: ActiveModel,
    private readonly saves: ModelLibrary,
    /** The model in use as the model area describes it. */
    private readonly describe: () => ModelInfo,
    /** Saves the model in use (the library area's save). */
    private readonly save: () => Promise<AutosaveReport['saved']>,
  ) {}

  async defaults(): Promise<TuningDefaults> {
    return structuredClone(TUNING_DEFAULTS);
  }

  async readDialogues(source: DialogueSource): Promise<DialogueSet> {
    const { tokenizer, config } = this.active.model;
    return readDialogues(source, tokenizer, config.blockSize).set;
  }

  async fineTune(source: DialogueSource, settings?: Partial<TuningSettings>): Promise<TuningState> {
    this.checkTunable();
    const { tokenizer, config } = this.active.model;
    const dialogues = readDialogues(source, tokenizer, config.blockSize);
    if (dialogues.learned.length === 0) {
      const why = dialogues.set.skipped.length > 0 ? ' (see the lines skipped)' : '';
      throw new Error(`There is no dialogue to learn from: give lines "User: … Assistant: …"${why}.`);
    }
    const session = await this.begin();
    await session.prepare('supervised', settings, dialogues);
    return session.state();
  }

  async preferenceTune(settings?: Partial<TuningSettings>): Promise<TuningState> {
    const session = this.session();
    await session.prepare('preference', settings);
    return session.state();
  }

  async rewardTune(settings?: Partial<TuningSettings>): Promise<TuningState> {
    const session = this.active.model.tuning;
    if (!session) throw new Error(NO_PAIRS); // choices begin tuning: without it there are none
    await session.prepare('reinforcement', settings);
    return session.state();
  }

  /** Tunes; with autosave on, the run's end saves the tuned model when it took steps since its last save. */
  async play(onProgress: (progress: TuningProgress) => unknown): Promise<TuningOutcome> {
    const session = this.session();
    const outcome = await session.play(onProgress);
    const due = this.saves.autosaveEvery > 0 && session.step !== session.savedStep;
    if (!due || this.active.model.tuning !== session) return outcome;
    try {
      return { ...outcome, saved: await this.save() };
    } catch (error) {
      return { ...outcome, saveProblem: messageOf(error) };
    }
  }

  async pause(): Promise<void> {
    this.active.model.tuning?.pause();
  }

  async step(): Promise<TuningProgress> {
    return this.session().stepOnce();
  }

  async reset(): Promise<ModelInfo> {
    this.session().reset();
    return this.describe();
  }

  async choose(preference: Preference): Promise<TuningState> {
    this.checkTunable();
    const { tokenizer, config } = this.active.model;
    encodePair(tokenizer, config.blockSize, preference); // refused before tuning begins for it
    const session = await this.begin();
    session.choose(preference);
    return session.state();
  }

  async mark(verdict: Verdict): Promise<TuningState> {
    this.checkTunable();
    const { tokenizer, config } = this.active.model;
    checkVerdict(tokenizer, config.blockSize, verdict);
    const session = await this.begin();
    session.mark(verdict);
    return session.state();
  }

  async forget(which: { preference: number } | { verdict: number }): Promise<TuningState> {
    const session = this.session();
    session.forget(which);
    return session.state();
  }

  /** Against DPO's reference; before tuning begins, the model in use is both the tuned model and the reference. */
  async odds(preference: Preference): Promise<PreferenceOdds> {
    const { model, params } = await this.active.use();
    return preferenceOdds(params, model.tuning?.preferenceReference ?? params, model.tokenizer, preference);
  }

  /** Greedy replies on the CPU; before tuning begins, both are the model in use's. */
  async compare(text: string, maxTokens: number): Promise<{ before: ChatReply; after: ChatReply }> {
    const { model, params } = await this.active.use();
    const ids = contextIds(model, text);
    const reference = model.tuning?.referenceParams ?? params;
    return {
      before: greedyReply(reference, ids, model.tokenizer, maxTokens),
      after: greedyReply(params, ids, model.tokenizer, maxTokens),
    };
  }

  async state(): Promise<TuningState | null> {
    return this.active.model.tuning?.state() ?? null;
  }

  /** The tuning of the model in use, begun now when it had not: a tuned copy replaces the model in use. */
  private begin(): Promise<TuningSession> {
    const tuning = this.active.model.tuning;
    if (tuning) return Promise.resolve(tuning);
    this.beginning ??= this.beginTuning().finally(() => (this.beginning = null));
    return this.beginning;
  }

  /** Throws, saying why, when the model in use cannot be tuned here (checked first: nothing else then matters). */
  private checkTunable(): void {
    const problem = this.active.model.tuning ? undefined : tuningProblem(this.active.model);
    if (problem) throw new Error(problem);
  }

  private async beginTuning(): Promise<TuningSession> {
    this.checkTunable();
    const { signal } = this.active;
    const { model, params } = await this.active.use();
    const start = { name: model.name, params, savedId: this.saves.active?.id, source: model.checkpoint };
    const session = await TuningSession.begin(start, model.tokenizer, () => this.active.weightsEdited());
    signal.throwIfAborted(); // another model came while the weights were copied
    const { name, config, tokenizer, seed } = model;
    this.active.replace({ name: `${name}, tuned`, config, params: session.params, tokenizer, seed, tuning: session });
    return session;
  }

  private session(): TuningSession {
    const tuning = this.active.model.tuning;
    if (!tuning) {
      throw new Error('The model in use is not being tuned yet: fine-tune it on dialogues, or choose between answers to begin.');
    }
    return tuning;
  }
}
