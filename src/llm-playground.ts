/**
 * <llm-playground>, the element a page embeds; its attributes, properties, events, parts and custom properties are
 * the tags of its class comment (custom-elements.json is built from them). Importing this module registers every
 * element of the playground.
 *
 * All model work happens in one worker, reached through EngineClient; this
 * element only shows results.
 */
import type { AppConfig } from '@mlc-ai/web-llm';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { DEFAULT_MODEL_URL, EngineClient, type RestartEvent } from './client.ts';
import { CollapsibleSections } from './collapsible-sections.ts';
import './elements/backend-picker.ts';
import './elements/model-picker.ts';
import './elements/next-token-chart.ts';
import './elements/pipeline-strip.ts';
import './elements/prompt-tokens.ts';
import './elements/tour-guide.ts';
import { DEFAULT_SETTINGS, type SamplingSettings } from './elements/sampling-controls.ts';
import { emit, type LlmEvent } from './events.ts';
import { playgroundStyles } from './llm-playground.styles.ts';
import { renderModelLine } from './model-description.ts';
import { Newest } from './newest.ts';
import { type PanelContext, renderSectionPanel, SECTIONS } from './playground-sections.ts';
import { BACKEND_PARTS, PICKER_PARTS, PIPELINE_PARTS, renderStatus, TOUR_PARTS } from './playground-parts.ts';
import { PlaygroundView } from './playground-view.ts';
import { type PretrainedSetup, pretrainedSetup } from './pretrained-setup.ts';
import { states } from './states.ts';
import { describeToken, formatPercent } from './visible-token.ts';
import {
  type BackendChoice,
  type BackendInfo,
  messageOf,
  type ModelInfo,
  type Prediction,
  type PretrainedModels,
  type PretrainedSource,
  type StreamedToken,
  type Tokenization,
} from '../workers/api/index.ts';
import { define } from './define.ts';

export type PlaygroundStatus = 'loading' | 'ready' | 'error';

/** How many tokens the chart lists before summing the rest. */
const CHART_TOKENS = 15;
/** Changes (typing, slider moves, streamed tokens) within this many milliseconds share one request. */
const REFRESH_DELAY_MS = 40;
/** While a model trains, its odds are re-read at most this often: enough to watch, cheap for the page. */
const TRAINING_REFRESH_MS = 400;

/**
 * Type a prompt, see its tokens, watch the model score every token as the next one, and sample from it step by step
 * or as a stream.
 *
 * Every event of events.ts bubbles out of it (composed), sent by this element or by its panels: the training panel
 * (training-panel.ts), the model picker (model-picker.ts), the saved-models panel (model-library.ts) and the tuning
 * panel (tuning-panel.ts) send llm-model-change. custom-elements-manifest.config.mjs lists them from events.ts. The inner elements' parts are
 * forwarded (playground-parts.ts): the model picker's as picker-*, the backend picker's as backend-*, the pipeline
 * strip's as pipeline-*, the tour's as tour-*; custom-elements-manifest.config.mjs lists them from there. Theming: the --llm-playground-* custom properties of theme.ts, which
 * custom-elements-manifest.config.mjs adds to the manifest.
 *
 * @tagname llm-playground
 * @summary A GPT in the page: its tokens, its next-token odds, sampling, training and a look inside.
 *
 * @prop prompt - The text in the prompt box (reflects what the user types).
 * @prop model - URL of the .safetensors checkpoint to open (default: the shipped trained model); "random" starts from
 * random weights. Read when the element connects. Or a pretrained model's id: "gpt2" (GPT-2 small), "gpt2-medium", or
 * one of `pretrainedSources`. It opens as soon as the worker is up when this browser keeps it (offline too); when not,
 * the model picker shows its card (size, storage needed) and waits for the user's Download click: nothing downloads
 * unasked.
 * @prop modelBase - Base URL of a Hugging Face GPT-2-family repository (where model.safetensors, config.json,
 * vocab.json and merges.txt are, e.g. https://huggingface.co/openai-community/gpt2/resolve/main/) for the pretrained
 * id `model` names (default 'gpt2'); a relative one is read against the page.
 * @prop pretrainedSources - The pretrained models the picker offers, instead of GPT-2 small and medium from the
 * Hugging Face hub.
 * @prop train - The training panel is open.
 * @prop tune - The tuning panel is open (fine-tuning on dialogues, then on the user's choices).
 * @prop library - The saved-models panel is open.
 * @prop chat - The chat is open: with this model, and with a real pretrained one (through web-llm, on WebGPU).
 * @prop chatAppConfig - A web-llm AppConfig: the host page's own list of chat models (default: small prebuilt ones
 * that fit a laptop).
 * @prop labs - The concept labs are open (softmax and temperature, counting parameters, superposition, an MLP that
 * stores a fact, one training step).
 * @prop inspect - The "look inside" panels are open (attention, experiments, MLP neurons, embeddings, logit lens,
 * training time-lapse) for the prompt in the box.
 * @prop database - Name of the IndexedDB database this playground saves models in (default 'llm-playground'); two
 * playgrounds on one page with different databases keep their models apart; on the same one they share them, each
 * list following the other's saves. Read when it connects. The model saved last reopens when the page loads again
 * (before the `model` attribute's checkpoint).
 * @prop backend - 'auto' | 'cpu' | 'webgpu' (default 'auto'): what runs the model. Auto takes WebGPU on a hardware GPU
 * and the CPU otherwise. Applied once the model is ready; follows what the user picks.
 * @prop status - 'loading' | 'ready' | 'error' (read-only).
 * @prop urlState - The URL's hash holds the state, as a link: read when the element connects, and kept current
 * (history.replaceState) as the prompt, temperature, open section and tab, layer and head, model or tour step change;
 * see url-state.ts. Off by default, so an embedding page's URL is left alone.
 *
 * @csspart header - The top line: title, model, pickers.
 * @csspart model - The line that describes the model.
 * @csspart notice - A notice on the model (a restart) or on the prompt's tokens (the context cut).
 * @csspart storage-notice - Why the browser could not keep the model.
 * @csspart status - The line while the worker starts.
 * @csspart error - The alert once the worker failed.
 * @csspart tour - The tour's element.
 * @csspart highlight - The box over a tour step's element.
 * @csspart pipeline - The pipeline strip.
 * @csspart prompt - The prompt box.
 * @csspart actions - The Step and Generate buttons' row.
 * @csspart step-button - Step.
 * @csspart generate-button - Generate (Stop while generating).
 * @csspart tokens - The prompt's tokens.
 * @csspart chips - The row of token chips.
 * @csspart chip - One token.
 * @csspart chip-text - A token's text.
 * @csspart chip-id - A token's id.
 * @csspart chart - The next-token chart.
 * @csspart bars - The chart's bars.
 * @csspart bar - One token's bar.
 * @csspart rest - The bar that sums all the others.
 * @csspart bar-label - A bar's token.
 * @csspart bar-fill - A bar's filled part.
 * @csspart bar-value - A bar's probability.
 * @csspart controls - The sampling controls.
 * @csspart field - Each sampling field.
 * @csspart temperature - The temperature field.
 * @csspart top-k - The top-k field.
 * @csspart top-p - The top-p field.
 * @csspart seed - The seed field.
 * @csspart max-tokens - The max tokens field.
 * @csspart model-picker - The model picker.
 * @csspart backend - The backend picker.
 * @csspart inspect-toggle - The "look inside" section's toggle.
 * @csspart inspector - The "look inside" panels.
 * @csspart train-toggle - The training section's toggle.
 * @csspart training - The training panel.
 * @csspart tune-toggle - The tuning section's toggle.
 * @csspart tuning - The tuning panel.
 * @csspart library-toggle - The saved models section's toggle.
 * @csspart library - The saved-models panel.
 * @csspart labs-toggle - The concept labs section's toggle.
 * @csspart labs - The concept labs.
 * @csspart chat-toggle - The chat section's toggle.
 * @csspart chat - The chat.
 */
export class LlmPlayground extends LitElement {
  static override properties = {
    prompt: { type: String },
    model: { type: String },
    modelBase: { type: String, attribute: 'model-base' },
    pretrainedSources: { attribute: false },
    train: { type: Boolean, reflect: true },
    tune: { type: Boolean, reflect: true },
    library: { type: Boolean, reflect: true },
    inspect: { type: Boolean, reflect: true },
    chat: { type: Boolean, reflect: true },
    labs: { type: Boolean, reflect: true },
    chatAppConfig: { attribute: false },
    database: { type: String },
    backend: { type: String },
    status: { type: String, reflect: true },
    urlState: { type: Boolean, attribute: 'url-state' },
    ...states('info', 'backendInfo', 'error', 'tokenization', 'prediction', 'settings', 'generating', 'stopShown', 'lastDrawn'),
    ...states('pretrainedModels', 'setup'),
  };

  static override styles = playgroundStyles;

  /**
   * After Generate, its button reads Stop for at least this long, even when the run is over sooner (100 tokens can
   * take 0.15 s): a second click meant for Stop then lands on Stop, not on a Generate that starts another run.
   */
  static stopHoldMs = 600;

  declare prompt: string;
  declare model: string;
  declare modelBase: string;
  declare pretrainedSources: PretrainedSource[] | null;
  declare train: boolean;
  declare tune: boolean;
  declare library: boolean;
  declare inspect: boolean;
  declare chat: boolean;
  declare labs: boolean;
  declare chatAppConfig: AppConfig | null;
  declare database: string;
  declare backend: BackendChoice;
  declare status: PlaygroundStatus;
  declare urlState: boolean;
  declare private info: ModelInfo | null;
  /** What runs the model, when the worker switched by itself (from a training report) or the user switched. */
  declare private backendInfo: BackendInfo | null;
  declare private error: string;
  declare private tokenization: Tokenization | null;
  declare private prediction: Prediction | null;
  declare private settings: SamplingSettings;
  declare private generating: boolean;
  /** The Generate button reads Stop: while generating, and a moment after a short run (see stopHoldMs). */
  declare private stopShown: boolean;
  declare private lastDrawn: StreamedToken | null;
  /** What this browser keeps of the pretrained models, as the picker or the Downloaded group last read it. */
  declare private pretrainedModels: PretrainedModels | null;
  /** The pretrained model `model` names and the sources the worker gets (from model, model-base, pretrainedSources). */
  declare private setup: PretrainedSetup;

  /** The whole engine: the playground hands it to every panel, each of which uses its own slice. */
  private client: EngineClient | null = null;
  /** Re-reading what is shown: changes close together (typing, slider moves, streamed tokens) share one request. */
  private readonly refreshAsk = new Newest<[ModelInfo, Tokenization, Prediction]>(this, {
    delay: REFRESH_DELAY_MS,
    mode: 'throttle',
  });
  private stepping = false;
  private stopHold: ReturnType<typeof setTimeout> | undefined;
  private readonly sections = new CollapsibleSections();
  /** The state a tour step, a link or the pipeline strip puts the playground in, and the link kept of it. */
  private readonly view = new PlaygroundView(this, {
    temperature: () => this.settings.temperature,
    setTemperature: (temperature) => (this.settings = { ...this.settings, temperature }),
    pretrained: () => this.info?.pretrained ?? null,
    useBuiltIn: () => this.info && void this.renderRoot.querySelector('llm-model-picker')?.chooseBuiltIn(),
  });

  constructor() {
    super();
    this.prompt = '';
    this.model = '';
    this.modelBase = '';
    this.pretrainedSources = null;
    this.train = false;
    this.tune = false;
    this.library = false;
    this.inspect = false;
    this.chat = false;
    this.labs = false;
    this.chatAppConfig = null;
    this.database = '';
    this.backend = 'auto';
    this.status = 'loading';
    this.urlState = false;
    this.info = null;
    this.backendInfo = null;
    this.error = '';
    this.tokenization = null;
    this.prediction = null;
    this.settings = { ...DEFAULT_SETTINGS };
    this.generating = false;
    this.stopShown = false;
    this.lastDrawn = null;
    this.pretrainedModels = null;
    this.setup = { want: '', sources: null };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.view.readLink();
    this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.client?.terminate();
    this.client = null;
    this.generating = false;
    this.releaseStop();
  }

  protected override willUpdate(changed: PropertyValues): void {
    // Typing, streamed tokens, a page setting `prompt`, and the sampling controls all land here (not in updated(),
    // where the update Newest requests when the refresh starts would be one more, not this one).
    if (changed.has('prompt') || changed.has('settings')) void this.refresh();
    if (changed.has('model') || changed.has('modelBase') || changed.has('pretrainedSources')) {
      this.setup = pretrainedSetup(this.model, this.modelBase, this.pretrainedSources);
    }
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('prompt') && this.generating) {
      const box = this.renderRoot.querySelector('textarea');
      if (box) box.scrollTop = box.scrollHeight;
    }
    if ((changed.has('backend') || changed.has('status')) && this.status === 'ready') this.applyBackend();
  }

  /** Switches to the `backend` attribute's choice unless it already runs; the picker shows the switch and any error. */
  private applyBackend(): void {
    const picker = this.renderRoot.querySelector('llm-backend-picker');
    if (picker && this.backend !== (picker.info?.choice ?? 'auto')) void picker.choose(this.backend);
  }

  private onBackendChange(event: LlmEvent<'llm-backend-change'>): void {
    this.backendInfo = event.detail;
    this.backend = event.detail.choice;
  }

  /** Training reports carry the backend when it changed by itself (a GPU failure moved training to the CPU). */
  private onTrainingProgress(event: LlmEvent<'llm-training-progress'>): void {
    if (event.detail.backend) this.backendInfo = event.detail.backend;
    void this.refresh(TRAINING_REFRESH_MS);
  }

  private async start(): Promise<void> {
    this.status = 'loading';
    this.error = '';
    const client = new EngineClient({ modelUrl: this.modelUrl(), ...(this.database ? { database: this.database } : {}) });
    client.addEventListener('restart', (event) => this.onRestart(event as RestartEvent));
    this.client = client;
    try {
      const info = await client.model.info();
      if (this.client !== client) return;
      this.info = info;
      this.status = 'ready';
      emit(this, 'llm-ready', info);
      await this.refresh(0);
    } catch (error) {
      this.fail(error);
    }
  }

  /** The `model` attribute as the client takes it: relative to the page, null for random weights (a pretrained id: the default; the picker opens it). */
  private modelUrl(): string | null | undefined {
    if (this.model === 'random') return null;
    if (pretrainedSetup(this.model, this.modelBase, this.pretrainedSources).want) return undefined;
    return this.model ? new URL(this.model, document.baseURI).href : undefined;
  }

  private fail(error: unknown): void {
    if (!this.client) return; // disconnected meanwhile: nothing to report
    this.status = 'error';
    this.generating = false;
    this.error = messageOf(error);
    emit(this, 'llm-error', { message: this.error });
  }

  /**
   * Re-reads the model's description, the tokens and the next-token distribution for the prompt and settings as
   * they are when it runs: at most once per `delay` ms (0: at once). A debounce would starve while tokens stream in.
   */
  private async refresh(delay = REFRESH_DELAY_MS): Promise<void> {
    const client = this.client;
    if (!client || this.status !== 'ready') return;
    await this.refreshAsk.ask(
      () => {
        const { temperature, topK, topP } = this.settings;
        return Promise.all([
          client.model.info(),
          client.model.tokenize(this.prompt),
          client.model.predict(this.prompt, { temperature, topK, topP, top: CHART_TOKENS }),
        ]);
      },
      (answer) => {
        if (answer.error !== undefined) return this.fail(answer.error);
        const [info, tokenization, prediction] = answer.value;
        // A restart's notice stays until the model changes.
        this.info =
          this.info?.notice && !info.notice && this.info.name === info.name ? { ...info, notice: this.info.notice } : info;
        this.tokenization = tokenization;
        this.prediction = prediction;
      },
      delay,
    );
  }

  private onPromptInput(event: Event): void {
    this.prompt = (event.target as HTMLTextAreaElement).value;
  }

  private onPromptKeydown(event: KeyboardEvent): void {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      this.toggleGenerate();
    } else if (event.key === 'Escape' && this.generating) {
      event.preventDefault();
      this.client?.model.cancel().catch((error) => this.fail(error));
    }
  }

  private onSamplingChange(event: LlmEvent<'llm-sampling-change'>): void {
    this.settings = event.detail;
  }

  /** A new model (or the same one reset, opened or imported) is in use: everything shown is re-read at once. */
  private onModelChange(event: LlmEvent<'llm-model-change'>): void {
    this.info = event.detail;
    this.lastDrawn = null;
    void this.refresh(0);
    // Opened from the saved models: the training panel shows that model's training, if it has one.
    if (event.target !== this.renderRoot.querySelector('llm-training-panel')) void this.trainingPanel()?.syncWithWorker();
  }

  /** What this browser keeps of the pretrained models changed: the picker and the Downloaded group both show it. */
  private onPretrainedChange(event: LlmEvent<'llm-pretrained-change'>): void {
    this.pretrainedModels = event.detail;
  }

  /** The saved models changed (a save under a new name, a rename, another playground's save): the header follows. */
  private onModelsChange(): void {
    void this.refresh(0);
  }

  /** The worker died and a new one took over (with the last saved model): say so and show what it holds now. */
  private onRestart(event: RestartEvent): void {
    const { message, model } = event.detail;
    if (!model) {
      this.fail(new Error(message));
      return;
    }
    this.info = { ...model, notice: message };
    this.generating = false;
    this.lastDrawn = null;
    emit(this, 'llm-restart', event.detail);
    void this.trainingPanel()?.syncWithWorker();
    void this.refresh(0);
  }

  private trainingPanel() {
    return this.renderRoot.querySelector('llm-training-panel');
  }

  private appendToken(token: StreamedToken): void {
    this.prompt += token.text;
    this.lastDrawn = token;
    emit(this, 'llm-token', token);
  }

  /** Draws one token with the current seed, appends it, and moves the seed on so the next draw is fresh. */
  private async step(): Promise<void> {
    const client = this.client;
    // One step at a time: a second click before the first answers would draw with the same seed.
    if (!client || this.generating || this.stepping) return;
    this.stepping = true;
    const { temperature, topK, topP, seed } = this.settings;
    try {
      const token = await client.model.sample(this.prompt, { temperature, topK, topP }, seed);
      this.settings = { ...this.settings, seed: (seed + 1) >>> 0 };
      this.appendToken(token);
    } catch (error) {
      this.fail(error);
    } finally {
      this.stepping = false;
    }
  }

  private async toggleGenerate(): Promise<void> {
    const client = this.client;
    if (!client || this.status !== 'ready') return;
    if (this.generating) {
      await client.model.cancel().catch((error) => this.fail(error));
      return;
    }
    // The run is over but Stop is still shown: the click meant Stop, so it only puts Generate back.
    if (this.stopShown) return this.releaseStop();
    this.generating = true;
    this.stopShown = true;
    const started = performance.now();
    const { temperature, topK, topP, seed, maxTokens } = this.settings;
    try {
      await client.model.generate(this.prompt, { temperature, topK, topP, seed, maxTokens }, (token) => this.appendToken(token));
    } catch (error) {
      this.fail(error);
    } finally {
      this.generating = false;
      const left = LlmPlayground.stopHoldMs - (performance.now() - started);
      if (left > 0) this.stopHold = setTimeout(() => this.releaseStop(), left);
      else this.releaseStop();
    }
  }

  private releaseStop(): void {
    clearTimeout(this.stopHold);
    this.stopShown = false;
  }

  /** What the sections' panels get; Lit calls the handlers on this element. */
  private panelContext(): PanelContext {
    const { client, prompt, info, pretrainedModels, chatAppConfig, onModelChange, onModelsChange } = this;
    const { onTrainingProgress, onPretrainedChange } = this;
    return {
      client,
      prompt,
      info,
      pretrainedModels,
      chatAppConfig,
      onModelChange,
      onModelsChange,
      onTrainingProgress,
      onPretrainedChange,
    };
  }

  override render() {
    const ready = this.status === 'ready';
    return html`
      <div
        class="playground"
        @llm-open-panel=${(event: LlmEvent<'llm-open-panel'>) => this.view.openFromEvent(event.detail)}
        @llm-tab-change=${(event: Event) => this.view.tabChanged(event)}
        @llm-focus-change=${(event: LlmEvent<'llm-focus-change'>) => this.view.focusChanged(event.detail)}
      >
        <header part="header">
          <h2>LLM playground</h2>
          ${this.info ? renderModelLine(this.info) : nothing}
          <llm-model-picker
            part="model-picker"
            exportparts=${PICKER_PARTS}
            .client=${this.client}
            .active=${this.info}
            .models=${this.pretrainedModels}
            .sources=${this.setup.sources}
            .want=${this.setup.want}
            .builtInUrl=${this.modelUrl() || DEFAULT_MODEL_URL}
            @llm-model-change=${this.onModelChange}
            @llm-pretrained-change=${this.onPretrainedChange}
          ></llm-model-picker>
          <llm-backend-picker
            part="backend"
            exportparts=${BACKEND_PARTS}
            .client=${this.client}
            .info=${this.backendInfo}
            @llm-backend-change=${this.onBackendChange}
          ></llm-backend-picker>
        </header>
        ${renderStatus(this.status, this.error)}
        <llm-tour
          part="tour"
          exportparts=${TOUR_PARTS}
          @llm-tour-step=${(event: LlmEvent<'llm-tour-step'>) => this.view.applyStep(event.detail.index)}
          @llm-tour-leave=${() => this.view.leaveTour()}
        ></llm-tour>
        <section aria-labelledby="prompt-heading">
          <div class="block">
            <h3 id="prompt-heading"><label for="prompt">Prompt</label></h3>
            <p class="caption">
              Type anything. This model reads text
              ${this.info?.tokenizer === 'bpe' ? 'in word pieces (a space before a word is part of it, shown ␣)' : 'one character at a time'};
              an empty prompt starts from a line break. Ctrl+Enter generates, Esc stops.
            </p>
            <textarea
              id="prompt"
              part="prompt"
              spellcheck="false"
              placeholder="The king and the queen"
              .value=${live(this.prompt)}
              ?readonly=${this.generating}
              @input=${this.onPromptInput}
              @keydown=${this.onPromptKeydown}
            ></textarea>
            <div class="actions" part="actions">
              <button
                part="step-button"
                ?disabled=${!ready || this.generating}
                @click=${this.step}
              >
                Step
              </button>
              <button class="primary" part="generate-button" ?disabled=${!ready} @click=${this.toggleGenerate}>
                ${this.stopShown ? 'Stop' : 'Generate'}
              </button>
              ${
                this.lastDrawn
                  ? html`<span class="drawn" aria-live="polite">
                    Last drawn: ${describeToken(this.lastDrawn.token)} (had ${formatPercent(this.lastDrawn.prob)})
                  </span>`
                  : nothing
              }
            </div>
            <p class="caption">
              Step draws one token from the bars and appends it, then adds 1 to the seed so the next draw differs.
              Generate keeps drawing until it has written the chosen number of tokens, or you stop it.
            </p>
          </div>
          <div class="block">
            <h3>Tokens</h3>
            <p class="caption">
              What the model actually reads: one chip per token, with its id (its row in the vocabulary) under it.
            </p>
            <llm-prompt-tokens
              part="tokens"
              exportparts="chips, chip, chip-text, chip-id, notice"
              .tokenization=${this.tokenization}
              empty-note="Empty prompt: the model starts from a line break."
            ></llm-prompt-tokens>
          </div>
        </section>
        <section aria-labelledby="next-heading">
          <div class="block">
            <h3 id="next-heading">Next token</h3>
            <p class="caption">
              The model reads these tokens and scores every token in its vocabulary as the next one. The bars show
              the ${CHART_TOKENS} likeliest after temperature, top-k and top-p; the last bar sums all the others.
            </p>
            <llm-next-token-chart
              part="chart"
              exportparts="bars, bar, rest, bar-label, bar-fill, bar-value"
              .prediction=${this.prediction}
            ></llm-next-token-chart>
          </div>
          <div class="block">
            <h3>Sampling</h3>
            <llm-sampling-controls
              part="controls"
              exportparts="field, temperature, top-k, top-p, seed, max-tokens"
              .settings=${this.settings}
              ?disabled=${!ready}
              @llm-sampling-change=${this.onSamplingChange}
            ></llm-sampling-controls>
          </div>
        </section>
        <llm-pipeline-strip part="pipeline" exportparts=${PIPELINE_PARTS} .model=${this.info} .open=${this.view.openPanel}
          .tokens=${(this.tokenization?.ids.length ?? 0) + (this.tokenization?.dropped ?? 0)}></llm-pipeline-strip>
        ${SECTIONS.map(({ flag, ...section }) =>
          this.sections.render({
            ...section,
            toggle: `${flag}-toggle`,
            open: this[flag],
            disabled: !ready,
            onToggle: () => this.view.toggle(flag),
            content: (hidden) => renderSectionPanel(section.panel, hidden, this.panelContext()),
          }),
        )}
      </div>
      ${this.view.highlight.render()}
    `;
  }
}

define('llm-playground', LlmPlayground);

declare global {
  interface HTMLElementTagNameMap {
    'llm-playground': LlmPlayground;
  }
}
