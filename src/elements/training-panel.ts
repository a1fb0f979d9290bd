/**
 * <llm-training-panel>: train a model from scratch in the tab. Choose a corpus,
 * a model size and the training settings, then play, pause, take single steps,
 * or reset; watch the progress, the loss chart and samples of what the model
 * writes. The training itself runs in the worker, through `client`.
 *
 * Properties: client (TrainingPanelClient: EngineClient, set by <llm-playground>).
 * Events (bubble, composed):
 *   llm-model-change      detail: ModelInfo, when a new model replaces the old one or is reset
 *   llm-training-progress detail: TrainingProgress, a few times a second while training
 *   llm-training-end      detail: PlayOutcome, when play stops (paused, finished or diverged)
 * Parts: play-button, keep-going-button, step-button, reset-button, training-error, sample, settings, and
 *   those of the inner elements (corpus picker, tokenizer picker and merges, size picker, progress, loss chart).
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  type CorpusSource,
  type CorpusSummary,
  isCorpusWebPage,
  isReadCancelled,
  isTokenizerProblem,
  type LossPoint,
  messageOf,
  type ModelInfo,
  type ModelPreset,
  type ModelShape,
  type ParameterCounts,
  type ReadProgress,
  type TokenizerChoice,
  type TokenizerLearning,
  type TrainingProgress,
  type TrainingSample,
  type Uses,
  type VocabularySizes,
} from '../../workers/api/index.ts';
import { emit, type LlmEvent } from '../events.ts';
import { steps } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { showText } from '../visible-token.ts';
import './corpus-picker.ts';
import './loss-chart.ts';
import './tokenizer-picker.ts';
import { CUSTOM } from './model-size-picker.ts';
import { renderNumberFields } from './number-fields.ts';
import { trainingPanelStyles } from './training-panel.styles.ts';
import { formSettings, progressOf, SETTING_FIELDS, type TrainingFormSettings } from './training-settings.ts';
import './training-progress.ts';
import { define } from '../define.ts';

/** What the panel asks of the engine (its inner elements ask nothing). */
export type TrainingPanelClient = Uses<
  'training',
  'defaults' | 'describeCorpus' | 'cancelCorpus' | 'newModel' | 'play' | 'pause' | 'keepGoing' | 'step' | 'reset' | 'state'
> &
  Uses<'model', 'presets' | 'countParameters'>;

/** Samples listed under the chart, newest first. */
const SHOWN_SAMPLES = 4;

export class TrainingPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    ...states('presets', 'source', 'summary', 'corpusError', 'corpusWebPage', 'corpusProgress'),
    ...states('tokenizer', 'vocabularySizes', 'tokenizerError', 'learning', 'learningNow'),
    ...states('size', 'custom', 'counts', 'settings'),
    ...states('created', 'changed', 'busy', 'playing', 'progress', 'points', 'samples', 'error'),
  };

  declare client: TrainingPanelClient | null;
  declare private presets: ModelPreset[];
  declare private source: CorpusSource;
  declare private summary: CorpusSummary | null;
  declare private corpusError: string;
  /** The corpus error says it is a web page: the picker offers its text. */
  declare private corpusWebPage: boolean;
  /** How much of the corpus the worker has read, while it reads. */
  declare private corpusProgress: ReadProgress | null;
  /** The tokenizer of the corpus described (a new model gets it). */
  declare private tokenizer: TokenizerChoice;
  declare private vocabularySizes: VocabularySizes | null;
  /** Why the tokenizer asked for last could not be made (the one before stays). */
  declare private tokenizerError: string;
  /** Every merge of the BPE vocabulary being learned, or learned last; null for characters. */
  declare private learning: TokenizerLearning | null;
  /** The corpus asked for last is read: the worker makes its tokenizer now. */
  declare private learningNow: boolean;
  declare private size: string | ModelShape;
  /** The custom shape, kept while a preset is chosen. */
  declare private custom: ModelShape;
  declare private counts: Record<string, ParameterCounts | string>;
  declare private settings: TrainingFormSettings | null;
  /** A model was built from this panel (before that, the playground runs its starting model). */
  declare private created: boolean;
  /** The setup changed since the model was built: Reset applies it. */
  declare private changed: boolean;
  /** Building a model or taking a single step. */
  declare private busy: boolean;
  declare private playing: boolean;
  declare private progress: TrainingProgress | null;
  declare private points: LossPoint[];
  declare private samples: TrainingSample[];
  declare private error: string;

  /** The newest corpus asked for; while it is read, the picker says so. */
  private readonly corpusAsk = new Newest<CorpusSummary>(this);
  /** Counts for the shapes as they are now (the corpus or the custom shape may change while they are counted). */
  private readonly countsAsk = new Newest<(ParameterCounts | string)[]>(this);

  constructor() {
    super();
    this.client = null;
    this.presets = [];
    this.source = { kind: 'builtin' };
    this.summary = null;
    this.corpusError = '';
    this.corpusWebPage = false;
    this.corpusProgress = null;
    this.tokenizer = { type: 'char' };
    this.vocabularySizes = null;
    this.tokenizerError = '';
    this.learning = null;
    this.learningNow = false;
    this.size = 'tiny';
    this.custom = { nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 64 };
    this.counts = {};
    this.settings = null;
    this.created = false;
    this.changed = false;
    this.busy = false;
    this.playing = false;
    this.progress = null;
    this.points = [];
    this.samples = [];
    this.error = '';
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('client') && this.client) void this.load(this.client);
  }

  /** Presets, default settings and the built-in corpus's summary, from the worker, then the training it holds, if any. */
  private async load(client: TrainingPanelClient): Promise<void> {
    try {
      const [presets, defaults] = await Promise.all([client.model.presets(), client.training.defaults()]);
      this.presets = presets;
      this.settings = formSettings(defaults);
      this.vocabularySizes = defaults.vocabularySizes;
      await this.describe(this.source, this.tokenizer);
      await this.syncWithWorker();
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  /**
   * Shows the training the worker holds (a saved model reopened on reload, from
   * the saved-models list, or after the worker restarted): its chart, samples,
   * step and settings, so Play goes on from there. With none, the panel waits
   * to build a new model again.
   */
  async syncWithWorker(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const state = await client.training.state();
    this.created = state !== null;
    this.changed = false;
    this.points = state?.history ?? [];
    this.samples = state?.samples ?? [];
    this.progress = state && state.step > 0 ? progressOf(state) : null;
    if (state) {
      this.summary = state.corpus;
      const { tokenizer, vocabulary } = state.corpus;
      this.tokenizer = tokenizer === 'bpe' ? { type: 'bpe', vocabSize: vocabulary.length } : { type: 'char' };
      this.learning = null;
      // The form shows the plan; steps added by Keep going show in the progress only.
      const { decaySteps, totalSteps } = state.settings;
      this.settings = formSettings({
        ...state.settings,
        totalSteps: decaySteps ?? totalSteps,
        sampleInterval: state.sampleInterval,
      });
      if (state.diverged) this.error = state.diverged;
    }
  }

  /**
   * Reads the corpus and makes its tokenizer in the worker, showing BPE's merges as they come. On an error,
   * the corpus and tokenizer before stay (and so do their merges).
   */
  private async describe(source: CorpusSource, tokenizer: TokenizerChoice): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.corpusError = '';
    this.corpusWebPage = false;
    this.corpusProgress = null;
    this.tokenizerError = '';
    this.learningNow = false;
    const learnedBefore = this.learning;
    const onLearn = (isNewest: () => boolean) => (report: TokenizerLearning) => {
      if (!isNewest()) return;
      this.learning = this.learningNow ? { ...report, merges: [...this.learning!.merges, ...report.merges] } : report;
      this.learningNow = true;
    };
    await this.corpusAsk.ask(
      (isNewest) =>
        client.training.describeCorpus(
          source,
          (progress) => isNewest() && (this.corpusProgress = progress),
          tokenizer,
          onLearn(isNewest),
        ),
      (answer) => {
        this.learningNow = false;
        // Cancelled: the corpus read before stays.
        if (isReadCancelled(answer.error)) return;
        if (answer.error !== undefined) {
          this.learning = learnedBefore;
          if (isTokenizerProblem(answer.error)) this.tokenizerError = messageOf(answer.error);
          else this.corpusError = messageOf(answer.error);
          this.corpusWebPage = isCorpusWebPage(answer.error);
          return;
        }
        // A model built before no longer matches the setup (the first describe comes before any).
        this.changed ||= this.created;
        this.source = source;
        this.tokenizer = tokenizer;
        if (tokenizer.type === 'char') this.learning = null;
        this.summary = answer.value;
        return this.countAll(answer.value.vocabulary.length);
      },
    );
  }

  /** Parameter counts of every preset and the custom shape for this vocabulary (errors say why a shape fails). */
  private async countAll(vocabSize: number): Promise<void> {
    const client = this.client;
    if (!client) return;
    const shapes: [string, GPTShape][] = [
      ...this.presets.map((preset): [string, GPTShape] => [preset.id, preset]),
      [CUSTOM, { ...this.custom, tied: true }],
    ];
    await this.countsAsk.ask(
      () =>
        Promise.all(
          shapes.map(([, shape]) =>
            client.model.countParameters({ vocabSize, ...pickShape(shape), tied: shape.tied }).catch(messageOf),
          ),
        ),
      // Each count catches its own error (it says why that shape fails), so an answer always has a value.
      (answer) => {
        if (answer.value) this.counts = Object.fromEntries(shapes.map(([id], i) => [id, answer.value[i]!]));
      },
    );
  }

  private onCorpusChange(event: LlmEvent<'llm-corpus-change'>): void {
    void this.describe(event.detail, this.tokenizer);
  }

  private onTokenizerChange(event: LlmEvent<'llm-tokenizer-change'>): void {
    void this.describe(this.source, event.detail);
  }

  private onSizeChange(event: LlmEvent<'llm-size-change'>): void {
    this.size = event.detail;
    this.changed = this.created;
    if (typeof event.detail === 'string') return;
    this.custom = event.detail;
    if (this.summary) void this.countAll(this.summary.vocabulary.length);
  }

  private onSetting(key: keyof TrainingFormSettings, value: number): void {
    this.settings = { ...this.settings!, [key]: value };
    this.changed = this.created;
  }

  /** Replaces the playground's model with a fresh one built from the setup above. */
  private async build(client: TrainingPanelClient): Promise<void> {
    const { sampleInterval, ...training } = this.settings!;
    const { model, corpus } = await client.training.newModel({
      corpus: this.source,
      size: this.size,
      seed: training.seed,
      training: { ...training, sampleInterval },
      tokenizer: this.tokenizer,
    });
    this.summary = corpus;
    this.created = true;
    this.changed = false;
    await this.startOver(client, model);
  }

  /** Clears the progress and chart, shows the untrained model's sample, and tells the playground. */
  private async startOver(client: TrainingPanelClient, model: ModelInfo): Promise<void> {
    const state = await client.training.state();
    this.progress = null;
    this.points = [];
    this.samples = state?.samples ?? [];
    this.error = '';
    emit(this, 'llm-model-change', model);
  }

  /** Builds the first model from the setup, unless there is one; the buttons wait meanwhile. */
  private async ensureModel(client: TrainingPanelClient): Promise<void> {
    if (this.created) return;
    this.busy = true;
    try {
      await this.build(client);
    } finally {
      this.busy = false;
    }
  }

  /** Runs `action` (after building the first model if needed) with the buttons disabled, showing any error. */
  private async guarded(action: (client: TrainingPanelClient) => Promise<void>): Promise<void> {
    const client = this.client;
    if (!client || this.busy || this.playing) return;
    this.error = '';
    try {
      await this.ensureModel(client);
      this.busy = true;
      await action(client);
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.busy = false;
    }
  }

  private async togglePlay(): Promise<void> {
    const client = this.client;
    if (!client || this.busy) return;
    if (this.playing) {
      await client.training.pause().catch((error) => (this.error = messageOf(error)));
      return;
    }
    this.playing = true;
    this.error = '';
    try {
      await this.ensureModel(client);
      const outcome = await client.training.play((progress) => this.apply(progress));
      if (outcome.reason === 'diverged') this.error = outcome.message ?? 'Training stopped: the loss is not a number.';
      emit(this, 'llm-training-end', outcome);
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.playing = false;
    }
  }

  /** Trains as many steps again as planned, at the final learning rate, from where training finished. */
  private async keepGoing(): Promise<void> {
    const client = this.client;
    if (!client || this.busy || this.playing || !this.progress) return;
    // Busy until Play takes over, so a second click cannot add the steps twice.
    this.busy = true;
    try {
      const totalSteps = await client.training.keepGoing(this.settings!.totalSteps);
      this.progress = { ...this.progress, totalSteps };
    } catch (error) {
      this.error = messageOf(error);
      return;
    } finally {
      this.busy = false;
    }
    await this.togglePlay();
  }

  private stepOnce(): Promise<void> {
    return this.guarded(async (client) => {
      const progress = await client.training.step();
      this.apply(progress);
      if (progress.diverged) this.error = progress.diverged;
    });
  }

  /** Fresh random weights: the same start again, or a new model when the setup changed. */
  private reset(): Promise<void> {
    return this.guarded(async (client) => {
      if (this.changed) await this.build(client);
      else await this.startOver(client, await client.training.reset());
    });
  }

  private apply(progress: TrainingProgress): void {
    this.progress = progress;
    if (progress.fellBack) {
      // Training went back to the GPU's last backup: what came after it is redone on the CPU.
      const { resumedFrom } = progress.fellBack;
      this.points = this.points.filter((point) => point.step <= resumedFrom);
      this.samples = this.samples.filter((sample) => sample.step <= resumedFrom);
    }
    if (progress.points.length) this.points = [...this.points, ...progress.points];
    // The untrained model's sample is already shown (from training.state) when the first report brings it too.
    const lastShown = this.samples.at(-1)?.step ?? -1;
    const fresh = progress.samples.filter((sample) => sample.step > lastShown);
    if (fresh.length) this.samples = [...this.samples, ...fresh];
    emit(this, 'llm-training-progress', progress);
  }

  static override styles = trainingPanelStyles;

  override render() {
    const settings = this.settings;
    const sizes = this.vocabularySizes;
    if (!settings || !sizes) return html`<p class="note" role="status">${this.error || 'Asking the model for its options…'}</p>`;
    const locked = this.playing || this.busy;
    return html`
      <p class="caption">
        Training starts from random weights. Each step shows the model a batch of text, measures how surprised it was
        by every next token (the loss), and nudges every weight to be a little less surprised next time. Watch the
        loss fall and the samples turn from noise into words.
      </p>
      <div class="columns">
        <div>
          <div class="block">
            <llm-corpus-picker
              exportparts="kinds, paste, file, drop-zone, url, corpus-summary, vocabulary, families, corpus-error"
              .summary=${this.summary}
              .error=${this.corpusError}
              ?webPage=${this.corpusWebPage}
              ?busy=${this.corpusAsk.busy && !this.learningNow}
              .progress=${this.corpusProgress}
              ?disabled=${locked}
              @llm-corpus-change=${this.onCorpusChange}
              @llm-corpus-cancel=${() => this.client?.training.cancelCorpus()}
            ></llm-corpus-picker>
          </div>
          <div class="block">
            <llm-tokenizer-picker
              exportparts="tokenizer-kinds, vocab-size, tokenizer-error, vocabulary-progress, latest-merge, shrink, shrink-bar, merges"
              .choice=${this.tokenizer}
              .sizes=${sizes}
              .learning=${this.learning}
              .error=${this.tokenizerError}
              ?busy=${this.corpusAsk.busy}
              ?disabled=${locked}
              @llm-tokenizer-change=${this.onTokenizerChange}
            ></llm-tokenizer-picker>
          </div>
          <div class="block">
            <llm-model-size-picker
              exportparts="sizes, size, custom, breakdown"
              .presets=${this.presets}
              .counts=${this.counts}
              .size=${this.size}
              .custom=${this.custom}
              ?disabled=${locked}
              @llm-size-change=${this.onSizeChange}
            ></llm-model-size-picker>
          </div>
          <div class="block" part="settings">
            <h4>Training settings</h4>
            ${renderNumberFields(SETTING_FIELDS, settings, {
              disabled: locked,
              idPrefix: 'train-',
              onChange: (key, value) => this.onSetting(key, value),
            })}
          </div>
        </div>
        <div>
          <div class="block">
            <h4>Train</h4>
            ${this.renderActions()}
            ${this.error ? html`<p class="error" part="training-error" role="alert">${showText(this.error)}</p>` : nothing}
            <llm-training-progress
              exportparts="progress-bar, stats, stat, memorising"
              .progress=${this.progress}
              ?playing=${this.playing}
            ></llm-training-progress>
          </div>
          <div class="block">
            <h4>Loss</h4>
            <p class="caption">
              Lower is better. A loss of ln(vocabulary size) is pure guessing; the validation line, measured on text the
              model never trains on, shows whether it learns the language or only memorises its batches.
            </p>
            <llm-loss-chart
              exportparts="chart, train-line, validation-line, legend"
              .points=${this.points}
              total-steps=${this.progress?.totalSteps ?? settings.totalSteps}
            ></llm-loss-chart>
          </div>
          <div class="block">
            <h4>What it writes</h4>
            <p class="caption">
              Every ${settings.sampleInterval} steps the model continues the same prompt, drawing with a low temperature
              and the same seed, so the only thing that changes is what it has learnt.
            </p>
            ${this.renderSamples()}
          </div>
        </div>
      </div>
    `;
  }

  private renderActions() {
    const ready = !!this.client && !this.busy;
    const finished = !!this.progress && this.progress.step >= this.progress.totalSteps;
    const note = !this.created
      ? 'Play or Step builds a new model from the choices on the left; it replaces the model above.'
      : this.changed
        ? 'You changed the setup: Reset starts a new model with it.'
        : finished
          ? `Training is done. Keep going trains ${steps(this.settings!.totalSteps)} more at the final learning rate; Reset trains again from the same start.`
          : '';
    return html`
      <div class="actions">
        <button
          class="primary"
          part="play-button"
          ?disabled=${!ready || (finished && !this.playing)}
          @click=${this.togglePlay}
        >
          ${this.playing ? 'Pause' : 'Play'}
        </button>
        ${
          finished && !this.playing && !this.changed
            ? html`<button part="keep-going-button" ?disabled=${!ready} @click=${this.keepGoing}>Keep going</button>`
            : nothing
        }
        <button part="step-button" ?disabled=${!ready || this.playing || finished} @click=${this.stepOnce}>Step</button>
        <button part="reset-button" ?disabled=${!ready || this.playing} @click=${this.reset}>Reset</button>
      </div>
      ${note ? html`<p class="note">${note}</p>` : nothing}
    `;
  }

  private renderSamples() {
    if (this.samples.length === 0) return html`<p class="note">Samples appear here once a model is built.</p>`;
    const newest = this.samples.slice(-SHOWN_SAMPLES).reverse();
    return html`<ol class="samples" aria-live="polite">
      ${newest.map(
        (sample) => html`<li part="sample">
          <span class="when">after ${steps(sample.step)}</span>
          <pre><strong>${showText(sample.prompt)}</strong>${showText(sample.text)}</pre>
        </li>`,
      )}
    </ol>`;
  }
}

type GPTShape = ModelShape & { tied: boolean };

const pickShape = ({ nLayer, nHead, nEmbd, blockSize }: ModelShape): ModelShape => ({ nLayer, nHead, nEmbd, blockSize });

define('llm-training-panel', TrainingPanel);

declare global {
  interface HTMLElementTagNameMap {
    'llm-training-panel': TrainingPanel;
  }
}
