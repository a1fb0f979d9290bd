/**
 * The training area: a fresh model trained on a corpus in the tab (play, pause,
 * step, reset), saved as it goes, and the time-lapse it records.
 */
import { messageOf } from '../api/errors.ts';
import type { TimelapseFrame, TimelapseSettings } from '../api/inspector.ts';
import type { ModelInfo } from '../api/model.ts';
import type { ReadProgress } from '../api/reading.ts';
import type {
  AutosaveReport,
  CorpusSource,
  CorpusSummary,
  NewModelRequest,
  NewModelResult,
  PlayOutcome,
  TokenizerChoice,
  TokenizerLearning,
  TrainingApi,
  TrainingDefaults,
  TrainingProgress,
  TrainingState,
} from '../api/training.ts';
import { weightsProblem } from '../engine/checkpoint.ts';
import { type ModelLibrary, savedWeights } from '../model-library.ts';
import { FETCH_TIMEOUT_MS } from '../download.ts';
import type { CheckpointRecord } from '../store/records.ts';
import { BpeTokenizer } from '../engine/bpe.ts';
import { BUILTIN_BPE_VOCAB } from '../engine/defaults.ts';
import { CHARACTER_TOKENS, PreparedCorpus, readCorpus } from '../prepared-corpus.ts';
import { checkTimelapse, TRAINING_DEFAULTS, TrainingSession } from '../training-session.ts';
import { TuningSession } from '../tuning-session.ts';
import type { ActiveModel, LoadedModel } from './active-model.ts';
import type { Backends } from './backends.ts';

export class TrainingArea implements TrainingApi {
  /** What the time-lapse watches: given to each model trained here. */
  private timelapseSettings: TimelapseSettings | null = null;

  /** Aborted by cancelCorpus(): every corpus read under way stops. */
  private reading = new AbortController();
  /** The file or download read last: a new model on the same source (Play after choosing it) does not read it again. */
  private lastRead: { key: string; corpus: { name: string; text: string } } | null = null;
  /** The corpus described or trained on last: a new model on it with the same tokenizer does not learn its BPE again. */
  private lastPrepared: PreparedCorpus | null = null;

  constructor(
    private readonly active: ActiveModel,
    private readonly backends: Backends,
    private readonly saves: ModelLibrary,
    /** The model in use as the model area describes it. */
    private readonly describe: () => ModelInfo,
    /** Saves the model in use (the library area's save). */
    private readonly save: () => Promise<AutosaveReport['saved']>,
    /** How long a corpus download waits for an answer, or for more of the file (tests shorten it). */
    private readonly fetchTimeoutMs = FETCH_TIMEOUT_MS,
  ) {}

  async defaults(): Promise<TrainingDefaults> {
    const vocabularySizes = { default: BUILTIN_BPE_VOCAB, min: BpeTokenizer.MIN_VOCAB, max: BpeTokenizer.MAX_VOCAB };
    return { ...TRAINING_DEFAULTS, vocabularySizes };
  }

  async describeCorpus(
    source: CorpusSource,
    onProgress?: (progress: ReadProgress) => unknown,
    tokenizer: TokenizerChoice = CHARACTER_TOKENS,
    onLearn?: (learning: TokenizerLearning) => unknown,
  ): Promise<CorpusSummary> {
    const { name, text } = await this.read(source, { onProgress });
    return this.prepare(name, text, tokenizer, onLearn).summary;
  }

  /**
   * The corpus with its tokenizer: the one prepared last when it is the same text and choice (onLearn then
   * gets its whole learning in one report).
   */
  private prepare(
    name: string,
    text: string,
    choice: TokenizerChoice,
    onLearn?: (learning: TokenizerLearning) => unknown,
  ): PreparedCorpus {
    const last = this.lastPrepared;
    if (last?.matches(name, text, choice)) {
      if (last.learning) void onLearn?.(last.learning);
      return last;
    }
    return (this.lastPrepared = PreparedCorpus.make(name, text, choice, onLearn));
  }

  async cancelCorpus(): Promise<void> {
    this.reading.abort();
    this.reading = new AbortController();
  }

  /**
   * Reads a corpus; cancelCorpus() stops it. With `reuse`, the file or download read last is not read again
   * (describing one always reads it: the file at a URL may have changed).
   */
  private async read(
    source: CorpusSource,
    { onProgress, reuse = false }: { onProgress?: (progress: ReadProgress) => unknown; reuse?: boolean },
  ): Promise<{ name: string; text: string }> {
    const key = readKey(source);
    if (reuse && key !== null && this.lastRead?.key === key) return this.lastRead.corpus;
    const corpus = await readCorpus(source, { signal: this.reading.signal, onProgress, timeoutMs: this.fetchTimeoutMs });
    this.lastRead = key === null ? null : { key, corpus };
    return corpus;
  }

  async newModel(request: NewModelRequest): Promise<NewModelResult> {
    const { name, text } = await this.read(request.corpus, { reuse: true });
    const corpus = this.prepare(name, text, request.tokenizer ?? CHARACTER_TOKENS);
    const backend = await this.backends.trainingBackend();
    const session = await TrainingSession.create(corpus, request.size, request.seed, request.training, backend);
    if (this.timelapseSettings) await session.setTimelapse(this.timelapseSettings);
    const size = typeof request.size === 'string' ? request.size : 'custom';
    this.active.replace({
      name: `${size} model on ${corpus.name}`,
      config: session.config,
      params: session.params,
      tokenizer: corpus.tokenizer,
      seed: session.seed,
      session,
    });
    return { corpus: corpus.summary, model: this.describe() };
  }

  /**
   * A saved model as the model in use: one saved while training gets its training run back, exactly where it
   * was; one tuned here its tuning (see TuningSession.restore).
   */
  async loadedFrom(record: CheckpointRecord): Promise<LoadedModel> {
    const { config, params, tokenizer } = savedWeights(record);
    const model: LoadedModel = { name: record.name, config, params, tokenizer, seed: record.seed };
    const problem = weightsProblem(model.params);
    if (problem) throw new Error(problem);
    if (record.source) model.checkpoint = record.source;
    if (record.training && record.corpus) {
      const corpus = PreparedCorpus.fromStored(record.corpus, tokenizer);
      const backend = await this.backends.trainingBackend();
      const session = await TrainingSession.resume(corpus, config, record.seed, record.training, record.params, backend);
      if (this.timelapseSettings) await session.setTimelapse(this.timelapseSettings);
      model.session = session;
      model.params = session.params;
    }
    if (record.tuning) {
      model.tuning = await TuningSession.restore(record.tuning, params, tokenizer, () => this.active.weightsEdited());
    }
    return model;
  }

  async play(onProgress: (progress: TrainingProgress) => unknown): Promise<PlayOutcome> {
    const session = this.session();
    const outcome = await session.play(
      async (progress) => onProgress(await this.reportOn(session, await this.backends.report(progress))),
      (step) => this.saves.autosaveDue(step),
    );
    // Pausing (or finishing) saves, unless nothing was trained since the last save.
    const due = this.saves.autosaveEvery > 0 && session.step !== (this.saves.active?.step ?? 0);
    return due && this.active.session === session ? { ...outcome, ...(await this.autosave(session)) } : outcome;
  }

  async pause(): Promise<void> {
    this.active.session?.pause();
  }

  async keepGoing(moreSteps: number): Promise<number> {
    return this.session().keepGoing(moreSteps);
  }

  async step(): Promise<TrainingProgress> {
    const session = this.session();
    return this.reportOn(session, await this.backends.report(await session.stepOnce()));
  }

  async reset(): Promise<ModelInfo> {
    await this.session().reset();
    this.active.changed();
    return this.describe();
  }

  async state(): Promise<TrainingState | null> {
    return this.active.session?.state() ?? null;
  }

  /** Watches a prompt while training: now, for the model being trained, and for every model trained after. */
  async setTimelapse(settings: TimelapseSettings): Promise<void> {
    this.timelapseSettings = checkTimelapse(settings);
    await this.active.session?.setTimelapse(this.timelapseSettings);
  }

  /** Frames recorded while training (none without a model being trained). */
  timelapse(): TimelapseFrame[] {
    return this.active.session?.timelapse() ?? [];
  }

  /** Adds an autosave to a report when one is due. */
  private async reportOn(session: TrainingSession, report: TrainingProgress): Promise<TrainingProgress> {
    return this.saves.autosaveDue(session.step) ? { ...report, ...(await this.autosave(session)) } : report;
  }

  /** Saves during or after training; a failure is reported, never thrown into the training loop. */
  private async autosave(session: TrainingSession): Promise<AutosaveReport> {
    if (this.active.session !== session) return {};
    try {
      return { saved: await this.save() };
    } catch (error) {
      return { saveProblem: messageOf(error) };
    }
  }

  private session(): TrainingSession {
    const session = this.active.session;
    const { name, pretrained } = this.active.model;
    if (!session && pretrained !== undefined) {
      throw new Error(
        `${name} is not trained further here: it is kept as the files it was downloaded as, and its optimizer state is not part of them. ` +
          'Train a new model from scratch instead.',
      );
    }
    if (!session) throw new Error('There is no model to train yet: create one first.');
    return session;
  }
}

/** What tells a file or a download from another (a File arrives as a new object each time); null for the rest. */
function readKey(source: CorpusSource): string | null {
  const asText = source.kind !== 'builtin' && source.htmlToText ? 'text of ' : '';
  if (source.kind === 'url') return `${asText}url ${source.url}`;
  if (source.kind === 'file') {
    const { name, size, lastModified } = source.file;
    return `${asText}file ${size} ${lastModified} ${name}`;
  }
  return null;
}
