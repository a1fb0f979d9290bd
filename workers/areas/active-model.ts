/**
 * The model in use, shared by every area: its weights, tokenizer and shape, its
 * training run when it trains here, and what its weights are. replace() is the
 * only way it changes: it stops whatever runs on the old model (a generation,
 * an inspection, a training run and its time-lapse) and tells every area.
 */
import { ModelReplaced } from '../api/errors.ts';
import type { WeightsState } from '../api/model.ts';
import type { GPTConfig } from '../engine/config.ts';
import type { ParameterTensors } from '../engine/params.ts';
import type { Tokenizer } from '../engine/tokenizer.ts';
import type { TrainingSession } from '../training-session.ts';
import type { TuningSession } from '../tuning-session.ts';

export interface LoadedModel {
  /** What the model is called (and saved as). */
  name: string;
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer: Tokenizer;
  /** Seed the weights were initialised from. */
  seed: number;
  /** File the weights came from, when they did. */
  checkpoint?: string;
  /** The pretrained source it is (PretrainedSource id), when it is one: kept as its downloaded files, never saved. */
  pretrained?: string;
  /** The training run, when the model trains here (its weights are `params`). */
  session?: TrainingSession;
  /** The tuning run, when the model is one tuned here (its weights are `params`, tuned in place). */
  tuning?: TuningSession;
}

/** One request's view of the model: the model as it was when the request began, and its weights on the CPU. */
export interface ModelInUse {
  model: LoadedModel;
  params: ParameterTensors;
}

/**
 * The models here have no "beginning of text" token, so an empty prompt is read
 * as a single line break, the way a fresh document starts; a vocabulary without
 * one falls back to the unknown token (id 0).
 */
export const EMPTY_PROMPT_START = '\n';

/** Token ids the model reads for a prompt: its last blockSize tokens, or the start token when empty. */
export function contextIds(model: LoadedModel, text: string): number[] {
  const ids = model.tokenizer.encode(text.length > 0 ? text : EMPTY_PROMPT_START);
  return ids.slice(-model.config.blockSize);
}

export class ActiveModel {
  /** Moves on whenever the weights are replaced or reset: caches keyed by it go stale. */
  version = 0;
  /** Something the page should be told about the model (why the default did not load, …); cleared by the next change. */
  notice: string | undefined;
  private current: LoadedModel;
  /** Aborted (with ModelReplaced) when the model is replaced. */
  private replacement = new AbortController();
  private readonly listeners: (() => void)[] = [];

  constructor(model: LoadedModel) {
    this.current = model;
  }

  get model(): LoadedModel {
    return this.current;
  }

  get session(): TrainingSession | undefined {
    return this.current.session;
  }

  /** Aborts when the model in use is replaced; a request that outlives its model checks it. */
  get signal(): AbortSignal {
    return this.replacement.signal;
  }

  /** Calls `listener` after every replacement and reset (the next save is then a new saved model, …). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * The model for one request, with its weights on the CPU (read back first when
   * the GPU trains them). Rejects with ModelReplaced when the model was replaced
   * while they were read.
   */
  async use(): Promise<ModelInUse> {
    const { model, signal } = this;
    const params = model.session ? await model.session.currentParameters() : model.params;
    signal.throwIfAborted();
    return { model, params };
  }

  /** Makes `next` the model in use: whatever ran on the old one stops, and every area is told. */
  replace(next: LoadedModel): void {
    this.replacement.abort(new ModelReplaced());
    this.replacement = new AbortController();
    this.current.session?.destroy();
    this.current.tuning?.pause();
    this.current = next;
    this.changed();
  }

  /** The weights changed in place (a training reset): caches move on. */
  changed(): void {
    this.version++;
    this.notice = undefined;
    for (const listener of this.listeners) listener();
  }

  /**
   * The weights changed in place and the model stays the same one (a tuning step, a tuning reset): caches
   * keyed by the version go stale, and unlike changed() the next save still replaces the same saved model.
   */
  weightsEdited(): void {
    this.version++;
  }

  weights(): WeightsState {
    const { session, checkpoint, tuning } = this.current;
    if (!session) return checkpoint || tuning ? 'trained' : 'random';
    if (session.step === 0) return 'random';
    return session.finished ? 'trained' : 'training';
  }
}
