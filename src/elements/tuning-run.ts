/**
 * A tuning run as both tabs of the tuning panel drive it: Play (getting the run ready first when it is not),
 * Pause, Step and Reset through the worker, the run's progress bar, and the events the panel and the
 * playground follow. A helper class and render helpers, not an element, so the buttons stay in the tab's own
 * shadow root. Parts of renderRunControls: play-button, step-button, reset-button, run-error, progress-bar,
 * run-status; of renderFigures: figures, figure.
 */
import { css, html, nothing, type ReactiveControllerHost } from 'lit';
import {
  messageOf,
  type ModelInfo,
  type ReferenceModel,
  type TuningKind,
  type TuningProgress,
  type TuningSettings,
  type TuningState,
  type Uses,
} from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { count } from '../format.ts';
import { showText } from '../visible-token.ts';
import { type NumberField, renderNumberFields } from './number-fields.ts';

/** Hex digits of a reference's fingerprint shown (all of them in its title). */
const SHORT_FINGERPRINT = 8;

/** A reference's name and the start of its fingerprint, which tells it from another model of the same name. */
export const renderReferenceName = (reference: ReferenceModel) =>
  html`<strong>${reference.name}</strong>
    (<code title=${reference.fingerprint}>${reference.fingerprint.slice(0, SHORT_FINGERPRINT)}</code>)`;

/**
 * What of the model in use the tuning panel follows: which model it is and what its weights are, not every new
 * ModelInfo the playground reads (one a keystroke in the prompt box, one a training report): each would have
 * Before / After ask the model for a reply again. A model training from scratch counts once its run is finished.
 */
const modelKey = (model: ModelInfo | null | undefined): string =>
  model
    ? JSON.stringify([
        model.name,
        model.weights,
        model.weights === 'training' ? null : model.step,
        model.tuning?.step,
        model.saved?.id,
        model.pretrained,
        model.checkpoint,
      ])
    : '';

/** The `model` property of the tuning panel and its parts: it changes only when modelKey does. */
export const modelProperty = {
  attribute: false,
  hasChanged: (value: ModelInfo | null, old: ModelInfo | null | undefined) => modelKey(value) !== modelKey(old),
};

/** What a run asks of the engine. */
export type TuningRunClient = Uses<'tuning', 'play' | 'pause' | 'step' | 'reset' | 'state'> & Uses<'model', 'info'>;

/** Gets the run ready (fineTune or preferenceTune); null when it is ready already. */
export type Prepare = () => Promise<TuningState> | null;

/** The settings fields every kind offers; tuning on choices adds β. */
export const STEPS_FIELD: NumberField<'steps'> = {
  key: 'steps',
  label: 'Steps',
  min: 1,
  max: 2000,
  step: 1,
  caption: 'Steps each Play takes.',
};
export const LEARNING_RATE_FIELD: NumberField<'learningRate'> = {
  key: 'learningRate',
  label: 'Learning rate',
  min: 1e-6,
  max: 0.1,
  step: 'any',
  caption: 'How far each step moves the weights.',
};

export const BETA_FIELD: NumberField<'beta'> = {
  key: 'beta',
  label: 'β',
  min: 0.001,
  max: 10,
  step: 'any',
  caption: 'How near the reference tuning stays: larger, nearer.',
};

/** A figure a run reports: its data-figure id, its label, and its value as shown. */
export type Figure = [id: string, label: string, value: string];

/** The figures as a list of labelled values (parts figures, figure with data-figure). */
export const renderFigures = (figures: readonly Figure[]) =>
  html`<dl part="figures">
    ${figures.map(([id, label, value]) => html`<div part="figure" data-figure=${id}><dt>${label}</dt><dd>${value}</dd></div>`)}
  </dl>`;

export const figureStyles = css`
  dl {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr));
    gap: 0.4rem 1rem;
    margin: 0.5rem 0;
  }
  dt {
    font-size: 0.78rem;
    color: var(--_muted);
  }
  dd {
    margin: 0;
    font-family: var(--_mono);
    font-size: 0.95rem;
  }
`;

/**
 * Whether Play or Step must first get a run of `kind` ready: none yet, the last one done, the other kind's,
 * or `changed` (the data or the settings changed since).
 */
/**
 * A tab's settings form: the values its fields show (the defaults, then those of a run of its kind the worker got
 * ready, unless edited since), and whether anything changed since the run was got ready, so that Play gets it
 * ready again. Only its fields' settings are sent: the worker keeps the rest (the batch size) as they were.
 */
export class TuningSettingsForm<K extends keyof TuningSettings> {
  /** What the fields show; null until the defaults come. */
  values: TuningSettings | null = null;
  /** The settings, or what the tab learns from (its dialogues, its pairs), changed since the run was got ready. */
  changed = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly kind: TuningKind,
    private readonly fields: readonly NumberField<K>[],
    private readonly idPrefix: string,
  ) {}

  /**
   * Takes the defaults once they come, and the settings of a run of this kind got ready (here, or before a reopen).
   * Tuning on choices learns from the pairs: a state with more or fewer than `previous` has Play get it ready anew.
   */
  follow({
    defaults,
    state,
    previous,
  }: {
    defaults?: TuningSettings | null;
    state?: TuningState | null;
    previous?: TuningState | null;
  }): void {
    if (defaults && !this.values) this.values = { ...defaults };
    if (state?.kind === this.kind && !this.changed) this.values = { ...state.settings };
    if (this.kind !== 'supervised' && previous && state && previous.pairs.length !== state.pairs.length) this.changed = true;
  }

  /** True when Play must get a run ready first: none of this kind, the last one done, or something changed. */
  needsPreparing(state: TuningState | null): boolean {
    return !state || state.kind !== this.kind || state.step >= state.totalSteps || this.changed;
  }

  /** The fields' settings, to get the run ready with: from then on they are what the worker has. */
  take(): Pick<TuningSettings, K> {
    this.changed = false;
    return Object.fromEntries(this.fields.map(({ key }) => [key, this.values![key]])) as Pick<TuningSettings, K>;
  }

  render(disabled: boolean) {
    if (!this.values) return html`<p class="empty">Asking for the defaults…</p>`;
    return renderNumberFields(this.fields, this.values, {
      disabled,
      idPrefix: this.idPrefix,
      onChange: (key, value) => {
        this.values = { ...this.values!, [key]: value };
        this.changed = true;
        this.host.requestUpdate();
      },
    });
  }
}

/** The run's flags, kept by the tab that shows them (which it redraws as they change). */
export class TuningRun {
  playing = false;
  /** Getting ready, a single step or a reset under way. */
  busy = false;
  error = '';
  /** Pause was pressed and the run has not stopped yet. */
  pausing = false;

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {}

  get locked(): boolean {
    return this.playing || this.busy;
  }

  /** Tunes until the run's last step or Pause; the playground then hears that the model changed. */
  async play(client: TuningRunClient, prepare: Prepare): Promise<void> {
    if (this.locked) return;
    this.change({ playing: true, error: '' });
    try {
      await this.ready(prepare);
      const outcome = await client.tuning.play((progress) => this.report(progress));
      if (outcome.reason === 'diverged') this.error = outcome.message ?? 'Tuning stopped: the loss is not a number.';
      await this.settle(client);
      emit(this.host, 'llm-tuning-end', outcome);
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.change({ playing: false, pausing: false });
    }
  }

  async pause(client: TuningRunClient): Promise<void> {
    if (!this.playing || this.pausing) return;
    this.change({ pausing: true });
    await client.tuning.pause().catch((error) => this.change({ error: messageOf(error), pausing: false }));
  }

  step(client: TuningRunClient, prepare: Prepare): Promise<void> {
    return this.guarded(async () => {
      await this.ready(prepare);
      const progress = await client.tuning.step();
      this.report(progress);
      if (progress.diverged) this.error = progress.diverged;
      await this.settle(client);
    });
  }

  /** The weights back to the reference's; the choices stay. */
  reset(client: TuningRunClient): Promise<void> {
    return this.guarded(async () => {
      const model = await client.tuning.reset();
      const state = await client.tuning.state();
      if (state) emit(this.host, 'llm-tuning-change', state);
      emit(this.host, 'llm-model-change', model);
    });
  }

  /** Runs `action` with the buttons disabled, showing any error. */
  async guarded(action: () => Promise<void>): Promise<void> {
    if (this.locked) return;
    this.change({ busy: true, error: '' });
    try {
      await action();
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.change({ busy: false });
    }
  }

  private async ready(prepare: Prepare): Promise<void> {
    const preparing = prepare();
    if (preparing) emit(this.host, 'llm-tuning-change', await preparing);
  }

  private report(progress: TuningProgress): void {
    emit(this.host, 'llm-tuning-progress', progress);
    if (progress.diverged) this.change({ error: progress.diverged });
  }

  /** After a run or a step: the state as the worker holds it, and the tuned model, for the panels that show it. */
  private async settle(client: TuningRunClient): Promise<void> {
    const state = await client.tuning.state();
    if (state) emit(this.host, 'llm-tuning-change', state);
    emit(this.host, 'llm-model-change', await client.model.info());
  }

  private change(values: Partial<Pick<TuningRun, 'playing' | 'busy' | 'error' | 'pausing'>>): void {
    Object.assign(this, values);
    this.host.requestUpdate();
  }
}

export interface RunControls {
  run: TuningRun;
  client: TuningRunClient | null;
  /** Gets the run ready first, when Play or Step needs it. */
  prepare: Prepare;
  /** The tab can run now (a client, data to learn from, no other run under way). */
  ready: boolean;
  /** Words on the Play button. */
  playLabel: string;
  state: TuningState | null;
  kind: TuningKind;
  /** Steps Play will take when the run is got ready anew. */
  plannedSteps: number;
}

/** Play (Pause while it plays), Step, Reset, the error line and the progress bar, with a status read out as it moves. */
export function renderRunControls(controls: RunControls) {
  const { run, client, prepare, ready, state } = controls;
  const play = () => client && void run.play(client, prepare);
  const step = () => client && void run.step(client, prepare);
  const reset = () => client && void run.reset(client);
  const thisKind = state?.kind === controls.kind;
  const steps = state?.step ?? 0;
  const total = thisKind && state ? state.totalSteps : steps + controls.plannedSteps;
  const last = thisKind ? state?.history.at(-1) : undefined;
  const status = run.playing
    ? `Step ${count(steps)} of ${count(total)}${last ? `, loss ${last.loss.toFixed(3)}` : ''}.`
    : state
      ? `${count(steps)} tuning steps so far.`
      : 'Not tuned yet.';
  return html`<div class="actions">
      <button
        class="primary"
        part="play-button"
        ?disabled=${run.playing ? run.pausing : !ready || run.busy}
        @click=${run.playing ? () => client && void run.pause(client) : play}
      >
        ${run.playing ? (run.pausing ? 'Pausing…' : 'Pause') : controls.playLabel}
      </button>
      <button part="step-button" ?disabled=${!ready || run.locked} @click=${step}>Step</button>
      <button part="reset-button" ?disabled=${!state || run.locked || state.playing} @click=${reset}>Reset</button>
    </div>
    ${run.error ? html`<p class="error" part="run-error" role="alert">${showText(run.error)}</p>` : nothing}
    <progress
      part="progress-bar"
      max=${Math.max(total, 1)}
      .value=${thisKind ? steps : 0}
      aria-label="Tuning progress: step ${count(steps)} of ${count(total)}"
    ></progress>
    <p class="note" part="run-status" role="status" aria-live="polite">${status}</p>`;
}

/** Escape pauses a run under way, from anywhere in the tab (a reply's open odds close first: they take Escape). */
export function pauseOnEscape(run: TuningRun, client: TuningRunClient | null) {
  return (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || !run.playing || event.defaultPrevented || !client) return;
    event.preventDefault();
    void run.pause(client);
  };
}

export const runStyles = css`
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.6rem;
    align-items: center;
    margin: 0.6rem 0;
  }
  .actions button {
    min-width: 5.5rem;
  }
  progress {
    width: 100%;
    height: 0.9rem;
    accent-color: var(--_accent);
  }
  .note {
    font-size: 0.85rem;
    color: var(--_muted);
    margin: 0.3rem 0;
  }
`;
