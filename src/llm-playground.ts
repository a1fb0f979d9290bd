/**
 * <llm-playground>: type a prompt, see its tokens, watch the model score every
 * token as the next one, and sample from it step by step or as a stream.
 * Importing this module registers every element of the playground.
 *
 * All model work happens in one worker, reached through EngineClient; this
 * element only shows results.
 *
 * Attributes / properties:
 *   prompt   the text in the prompt box (reflects what the user types)
 *   model    URL of the .safetensors checkpoint to open (default: the shipped trained model);
 *            "random" starts from random weights. Read when the element connects.
 *   train    (boolean, reflected) the training panel is open
 *   library  (boolean, reflected) the saved-models panel is open
 *   chat     (boolean, reflected) the chat with a real pretrained model (through web-llm, on WebGPU) is open
 *   chatAppConfig  (property only) a web-llm AppConfig: the host page's own list of chat models (default: small
 *            prebuilt ones that fit a laptop)
 *   labs     (boolean, reflected) the concept labs are open (softmax and temperature, counting parameters,
 *            superposition, an MLP that stores a fact)
 *   inspect  (boolean, reflected) the "look inside" panels are open (attention, experiments, MLP neurons, embeddings,
 *            logit lens, training time-lapse) for the prompt in the box
 *   database name of the IndexedDB database this playground saves models in (default 'llm-playground');
 *            two playgrounds on one page with different databases keep their models apart. Read when it connects.
 *            The model saved last reopens when the page loads again (before the `model` attribute's checkpoint).
 *   backend  'auto' | 'cpu' | 'webgpu' (default 'auto'): what runs the model. Auto takes WebGPU on a hardware
 *            GPU and the CPU otherwise. Applied once the model is ready; follows what the user picks.
 *   status   'loading' | 'ready' | 'error' (read-only, reflected)
 * Events (bubble, composed):
 *   llm-ready  detail: ModelInfo, once the worker answers
 *   llm-token  detail: StreamedToken, for every token Step or Generate appends
 *   llm-error  detail: { message }, when the worker fails
 *   llm-backend-change  detail: BackendInfo, after the user (or the `backend` attribute) switched backend
 *   llm-model-change, llm-training-progress, llm-training-end: from the training panel (see training-panel.ts)
 *     and the saved-models panel (model-library.ts), which also sends llm-models-change
 *   llm-restart  detail: { message, model }, when the worker died and a new one reopened the last saved model
 * Parts: header, model, notice, status, error, prompt, actions, step-button, generate-button, tokens, controls, chart,
 *   train-toggle, training, library-toggle, library, inspect-toggle, inspector, labs-toggle, labs, chat-toggle, chat,
 *   storage-notice, backend,
 *   and, forwarded from the inner elements: backend-picker, backend-select, backend-status, backend-adapter,
 *   backend-software, backend-reason, backend-error (the backend picker's parts), chips, chip, chip-text, chip-id, notice, bars, bar, rest, bar-label,
 *   bar-fill, bar-value, field, temperature, top-k, top-p, seed, max-tokens.
 * Theming: the --llm-playground-* custom properties listed in theme.ts.
 */
import type { AppConfig } from '@mlc-ai/web-llm';
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import {
  type BackendChoice,
  type BackendInfo,
  EngineClient,
  type ModelInfo,
  type Prediction,
  type RestartEvent,
  type StreamedToken,
  type Tokenization,
  type TrainingProgress,
} from './client.ts';
import './elements/backend-picker.ts';
import './elements/chat-panel.ts';
import './elements/inspector-panel.ts';
import './elements/labs-panel.ts';
import './elements/model-library.ts';
import './elements/next-token-chart.ts';
import './elements/prompt-tokens.ts';
import './elements/training-panel.ts';
import { DEFAULT_SETTINGS, type SamplingSettings } from './elements/sampling-controls.ts';
import { buttons, inputs, theme } from './theme.ts';
import { describeToken, formatPercent } from './visible-token.ts';

export type PlaygroundStatus = 'loading' | 'ready' | 'error';

/** How many tokens the chart lists before summing the rest. */
const CHART_TOKENS = 15;
/** Changes (typing, slider moves, streamed tokens) within this many milliseconds share one request. */
const REFRESH_DELAY_MS = 40;
/** While a model trains, its odds are re-read at most this often: enough to watch, cheap for the page. */
const TRAINING_REFRESH_MS = 400;

export class LlmPlayground extends LitElement {
  static override properties = {
    prompt: { type: String },
    model: { type: String },
    train: { type: Boolean, reflect: true },
    library: { type: Boolean, reflect: true },
    inspect: { type: Boolean, reflect: true },
    chat: { type: Boolean, reflect: true },
    labs: { type: Boolean, reflect: true },
    chatAppConfig: { attribute: false },
    database: { type: String },
    backend: { type: String },
    status: { type: String, reflect: true },
    info: { state: true },
    backendInfo: { state: true },
    error: { state: true },
    tokenization: { state: true },
    prediction: { state: true },
    settings: { state: true },
    generating: { state: true },
    lastDrawn: { state: true },
  };

  declare prompt: string;
  declare model: string;
  declare train: boolean;
  declare library: boolean;
  declare inspect: boolean;
  declare chat: boolean;
  declare labs: boolean;
  declare chatAppConfig: AppConfig | null;
  declare database: string;
  declare backend: BackendChoice;
  declare status: PlaygroundStatus;
  declare private info: ModelInfo | null;
  /** What runs the model, when the worker switched by itself (from a training report) or the user switched. */
  declare private backendInfo: BackendInfo | null;
  declare private error: string;
  declare private tokenization: Tokenization | null;
  declare private prediction: Prediction | null;
  declare private settings: SamplingSettings;
  declare private generating: boolean;
  declare private lastDrawn: StreamedToken | null;

  private client: EngineClient | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Number of the newest refresh; answers to older ones are dropped. */
  private latestRefresh = 0;
  private stepping = false;
  /** The training panel was opened once, so it exists. */
  private trainingShown = false;
  /** The same for the saved-models panel and the inspector. */
  private libraryShown = false;
  private inspectorShown = false;
  private chatShown = false;
  private labsShown = false;

  constructor() {
    super();
    this.prompt = '';
    this.model = '';
    this.train = false;
    this.library = false;
    this.inspect = false;
    this.chat = false;
    this.labs = false;
    this.chatAppConfig = null;
    this.database = '';
    this.backend = 'auto';
    this.status = 'loading';
    this.info = null;
    this.backendInfo = null;
    this.error = '';
    this.tokenization = null;
    this.prediction = null;
    this.settings = { ...DEFAULT_SETTINGS };
    this.generating = false;
    this.lastDrawn = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.client?.terminate();
    this.client = null;
    this.generating = false;
  }

  protected override updated(changed: PropertyValues): void {
    // Typing, streamed tokens, a page setting `prompt`, and the sampling controls all land here.
    if (changed.has('prompt') || changed.has('settings')) this.refreshSoon();
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

  private onBackendChange(event: CustomEvent<BackendInfo>): void {
    this.backendInfo = event.detail;
    this.backend = event.detail.choice;
  }

  /** Training reports carry the backend when it changed by itself (a GPU failure moved training to the CPU). */
  private onTrainingProgress(event: CustomEvent<TrainingProgress>): void {
    if (event.detail.backend) this.backendInfo = event.detail.backend;
    this.refreshSoon(TRAINING_REFRESH_MS);
  }

  private async start(): Promise<void> {
    this.status = 'loading';
    this.error = '';
    const client = new EngineClient({ modelUrl: this.modelUrl(), ...(this.database ? { database: this.database } : {}) });
    client.addEventListener('restart', (event) => this.onRestart(event as RestartEvent));
    this.client = client;
    try {
      const info = await client.info();
      if (this.client !== client) return;
      this.info = info;
      this.status = 'ready';
      this.emit('llm-ready', info);
      await this.refresh();
    } catch (error) {
      this.fail(error);
    }
  }

  /** The `model` attribute as the client takes it: relative to the page, null for random weights. */
  private modelUrl(): string | null | undefined {
    if (this.model === 'random') return null;
    return this.model ? new URL(this.model, document.baseURI).href : undefined;
  }

  private fail(error: unknown): void {
    if (!this.client) return; // disconnected meanwhile: nothing to report
    this.status = 'error';
    this.generating = false;
    this.error = error instanceof Error ? error.message : String(error);
    this.emit('llm-error', { message: this.error });
  }

  private emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  /**
   * At most one refresh per REFRESH_DELAY_MS, reading the state when it runs. (A
   * debounce would starve while tokens stream in faster than the delay.)
   */
  private refreshSoon(delay = REFRESH_DELAY_MS): void {
    if (this.refreshTimer !== undefined) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, delay);
  }

  /** Re-reads the model's description, the tokens and the next-token distribution for the current prompt and settings. */
  private async refresh(): Promise<void> {
    const client = this.client;
    if (!client || this.status !== 'ready') return;
    const refresh = ++this.latestRefresh;
    const { temperature, topK, topP } = this.settings;
    try {
      const [info, tokenization, prediction] = await Promise.all([
        client.info(),
        client.tokenize(this.prompt),
        client.predict(this.prompt, { temperature, topK, topP, top: CHART_TOKENS }),
      ]);
      if (refresh !== this.latestRefresh) return;
      // A restart's notice stays until the model changes.
      this.info = this.info?.notice && !info.notice && this.info.name === info.name ? { ...info, notice: this.info.notice } : info;
      this.tokenization = tokenization;
      this.prediction = prediction;
    } catch (error) {
      this.fail(error);
    }
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
      this.client?.cancel().catch((error) => this.fail(error));
    }
  }

  private onSamplingChange(event: CustomEvent<SamplingSettings>): void {
    this.settings = event.detail;
  }

  /** A new model (or the same one reset, opened or imported) is in use: everything shown is re-read at once. */
  private onModelChange(event: CustomEvent<ModelInfo>): void {
    this.info = event.detail;
    this.lastDrawn = null;
    this.refresh();
    // Opened from the saved models: the training panel shows that model's training, if it has one.
    if (event.target !== this.renderRoot.querySelector('llm-training-panel')) void this.trainingPanel()?.syncWithWorker();
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
    this.emit('llm-restart', event.detail);
    void this.trainingPanel()?.syncWithWorker();
    this.refresh();
  }

  private trainingPanel() {
    return this.renderRoot.querySelector('llm-training-panel');
  }

  private appendToken(token: StreamedToken): void {
    this.prompt += token.token;
    this.lastDrawn = token;
    this.emit('llm-token', token);
  }

  /** Draws one token with the current seed, appends it, and moves the seed on so the next draw is fresh. */
  private async step(): Promise<void> {
    const client = this.client;
    // One step at a time: a second click before the first answers would draw with the same seed.
    if (!client || this.generating || this.stepping) return;
    this.stepping = true;
    const { temperature, topK, topP, seed } = this.settings;
    try {
      const token = await client.step(this.prompt, { temperature, topK, topP }, seed);
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
      await client.cancel().catch((error) => this.fail(error));
      return;
    }
    this.generating = true;
    const { temperature, topK, topP, seed, maxTokens } = this.settings;
    try {
      await client.generate(this.prompt, { temperature, topK, topP, seed, maxTokens }, (token) => this.appendToken(token));
    } catch (error) {
      this.fail(error);
    } finally {
      this.generating = false;
    }
  }

  static override styles = [
    theme,
    buttons,
    inputs,
    css`
      :host {
        container-type: inline-size;
        background: var(--_background);
        border-radius: var(--_radius);
        line-height: 1.5;
      }
      .playground {
        display: grid;
        gap: 1.25rem;
        padding: 1.25rem;
      }
      @container (min-width: 860px) {
        .playground {
          grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        }
        header,
        .status,
        .error,
        .training {
          grid-column: 1 / -1;
        }
      }
      header h2 {
        margin: 0;
        font-size: 1.35rem;
      }
      llm-backend-picker {
        margin-top: 0.6rem;
      }
      .model {
        margin: 0.35rem 0 0;
        font-size: 0.9rem;
      }
      .notice {
        margin: 0.35rem 0 0;
        font-size: 0.9rem;
        color: var(--_warning);
      }
      .model strong {
        font-family: var(--_mono);
        font-weight: 600;
      }
      section {
        min-width: 0;
      }
      h3 {
        margin: 0;
        font-size: 1rem;
      }
      .panel {
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        padding: 0.9rem 1rem;
      }
      .panel + .panel {
        margin-top: 1rem;
      }
      #prompt {
        min-height: 7rem;
        resize: vertical;
        font-size: 1rem;
        padding: 0.6rem 0.7rem;
      }
      textarea[readonly] {
        opacity: 0.85;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.6rem;
        margin-top: 0.6rem;
      }
      .actions button {
        min-width: 6.5rem;
      }
      .train-toggle {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        width: 100%;
        text-align: left;
        font-size: 1.05rem;
        background: var(--_surface);
        color: var(--_foreground);
        border-color: var(--_border);
        padding: 0.7rem 1rem;
      }
      .train-toggle .arrow {
        display: inline-block;
        transition: transform 0.15s;
      }
      .train-toggle[aria-expanded='true'] .arrow {
        transform: rotate(90deg);
      }
      .train-toggle .hint {
        font-weight: normal;
        font-size: 0.875rem;
        color: var(--_muted);
      }
      llm-training-panel {
        margin-top: 0.75rem;
      }
      .drawn {
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .status {
        margin: 0;
        color: var(--_muted);
      }
      .error {
        margin: 0;
        padding: 0.75rem 1rem;
        border: 1px solid var(--_error);
        border-radius: var(--_radius);
        color: var(--_error);
      }
      .error p {
        margin: 0.25rem 0 0;
      }
    `,
  ];

  override render() {
    const ready = this.status === 'ready';
    return html`
      <div class="playground">
        <header part="header">
          <h2>LLM playground</h2>
          ${this.renderModel()}
          <llm-backend-picker
            part="backend"
            exportparts="picker: backend-picker, select: backend-select, status: backend-status, adapter: backend-adapter,
              software: backend-software, reason: backend-reason, error: backend-error"
            .client=${this.client}
            .info=${this.backendInfo}
            @llm-backend-change=${this.onBackendChange}
          ></llm-backend-picker>
        </header>
        ${this.renderStatus()}
        <section aria-labelledby="prompt-heading">
          <div class="panel">
            <h3 id="prompt-heading"><label for="prompt">Prompt</label></h3>
            <p class="caption">
              Type anything. This model reads text one character at a time; an empty prompt starts from a line
              break. Ctrl+Enter generates, Esc stops.
            </p>
            <textarea
              id="prompt"
              part="prompt"
              spellcheck="false"
              placeholder="Once upon a time"
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
                ${this.generating ? 'Stop' : 'Generate'}
              </button>
              ${this.lastDrawn
                ? html`<span class="drawn" aria-live="polite">
                    Last drawn: ${describeToken(this.lastDrawn.token)} (had ${formatPercent(this.lastDrawn.prob)})
                  </span>`
                : nothing}
            </div>
            <p class="caption">
              Step draws one token from the bars and appends it, then adds 1 to the seed so the next draw differs.
              Generate keeps drawing until it has written the chosen number of tokens, or you stop it.
            </p>
          </div>
          <div class="panel">
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
          <div class="panel">
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
          <div class="panel">
            <h3>Sampling</h3>
            <llm-sampling-controls
              part="controls"
              exportparts="field, temperature, top-k, top-p, seed, max-tokens"
              .settings=${this.settings}
              ?disabled=${!ready}
              @sampling-change=${this.onSamplingChange}
            ></llm-sampling-controls>
          </div>
        </section>
        ${this.renderInspector(ready)} ${this.renderTraining(ready)} ${this.renderLibrary(ready)} ${this.renderLabs(ready)}
        ${this.renderChat(ready)}
      </div>
    `;
  }

  /** Built the first time it opens, then kept (hidden when closed) so training goes on and nothing is lost. */
  private renderTraining(ready: boolean) {
    if (this.train) this.trainingShown = true;
    return html`<section class="training" aria-labelledby="train-toggle">
      <h3>
        <button
          id="train-toggle"
          class="train-toggle"
          part="train-toggle"
          aria-expanded=${this.train ? 'true' : 'false'}
          aria-controls="training"
          ?disabled=${!ready}
          @click=${() => (this.train = !this.train)}
        >
          <span class="arrow" aria-hidden="true">▸</span> Train a model from scratch
          <span class="hint">in this tab: pick a text, a size, press Play</span>
        </button>
      </h3>
      ${this.trainingShown
        ? html`<llm-training-panel
            id="training"
            part="training"
            ?hidden=${!this.train}
            .client=${this.client}
            @llm-model-change=${this.onModelChange}
            @llm-training-progress=${this.onTrainingProgress}
          ></llm-training-panel>`
        : nothing}
    </section>`;
  }

  /** Built the first time it opens, like the training panel. */
  private renderInspector(ready: boolean) {
    if (this.inspect) this.inspectorShown = true;
    return html`<section class="training" aria-labelledby="inspect-toggle">
      <h3>
        <button
          id="inspect-toggle"
          class="train-toggle"
          part="inspect-toggle"
          aria-expanded=${this.inspect ? 'true' : 'false'}
          aria-controls="inspector"
          ?disabled=${!ready}
          @click=${() => (this.inspect = !this.inspect)}
        >
          <span class="arrow" aria-hidden="true">▸</span> Look inside the model
          <span class="hint">attention, neurons, embeddings, the logit lens, for the prompt above</span>
        </button>
      </h3>
      ${this.inspectorShown
        ? html`<llm-inspector-panel
            id="inspector"
            part="inspector"
            ?hidden=${!this.inspect}
            .client=${this.client}
            .text=${this.prompt}
            .model=${this.info}
          ></llm-inspector-panel>`
        : nothing}
    </section>`;
  }

  /** Built the first time it opens, like the other panels. */
  private renderLabs(ready: boolean) {
    if (this.labs) this.labsShown = true;
    return html`<section class="training" aria-labelledby="labs-toggle">
      <h3>
        <button
          id="labs-toggle"
          class="train-toggle"
          part="labs-toggle"
          aria-expanded=${this.labs ? 'true' : 'false'}
          aria-controls="labs"
          ?disabled=${!ready}
          @click=${() => (this.labs = !this.labs)}
        >
          <span class="arrow" aria-hidden="true">▸</span> Concept labs
          <span class="hint">softmax and temperature, GPT-3's parameters, superposition, a fact in an MLP</span>
        </button>
      </h3>
      ${this.labsShown
        ? html`<llm-labs-panel id="labs" part="labs" ?hidden=${!this.labs} .client=${this.client} .text=${this.prompt}></llm-labs-panel>`
        : nothing}
    </section>`;
  }

  /** Built the first time it opens; web-llm itself loads only when a model is. */
  private renderChat(ready: boolean) {
    if (this.chat) this.chatShown = true;
    return html`<section class="training" aria-labelledby="chat-toggle">
      <h3>
        <button
          id="chat-toggle"
          class="train-toggle"
          part="chat-toggle"
          aria-expanded=${this.chat ? 'true' : 'false'}
          aria-controls="chat"
          ?disabled=${!ready}
          @click=${() => (this.chat = !this.chat)}
        >
          <span class="arrow" aria-hidden="true">▸</span> Chat with a real model
          <span class="hint">a small pretrained LLM on your GPU, with the odds of every token it writes</span>
        </button>
      </h3>
      ${this.chatShown
        ? html`<llm-chat-panel
            id="chat"
            part="chat"
            ?hidden=${!this.chat}
            .client=${this.client}
            .appConfig=${this.chatAppConfig}
          ></llm-chat-panel>`
        : nothing}
    </section>`;
  }

  private renderLibrary(ready: boolean) {
    if (this.library) this.libraryShown = true;
    return html`<section class="training" aria-labelledby="library-toggle">
      <h3>
        <button
          id="library-toggle"
          class="train-toggle"
          part="library-toggle"
          aria-expanded=${this.library ? 'true' : 'false'}
          aria-controls="library"
          ?disabled=${!ready}
          @click=${() => (this.library = !this.library)}
        >
          <span class="arrow" aria-hidden="true">▸</span> Saved models
          <span class="hint">kept in this browser, offline too: open, rename, export, import</span>
        </button>
      </h3>
      ${this.libraryShown
        ? html`<llm-model-library
            id="library"
            part="library"
            ?hidden=${!this.library}
            .client=${this.client}
            .active=${this.info}
            @llm-model-change=${this.onModelChange}
          ></llm-model-library>`
        : nothing}
    </section>`;
  }

  private renderModel() {
    const info = this.info;
    if (!info) return nothing;
    const { config, parameters } = info;
    return html`<p class="model" part="model">
        Model: <strong>${parameters.total.toLocaleString('en-US')}</strong> parameters, ${config.nLayer} layers of
        ${config.nHead} attention heads, ${config.nEmbd} numbers per token, a context of ${config.blockSize} tokens and
        a vocabulary of ${config.vocabSize}. ${describeWeights(info)} ${describeSaved(info)}
      </p>
      ${info.storageProblem ? html`<p class="notice" part="storage-notice" role="status">${info.storageProblem}</p>` : nothing}
      ${info.notice ? html`<p class="notice" part="notice" role="status">${info.notice}</p>` : nothing}`;
  }

  private renderStatus() {
    if (this.status === 'loading') {
      return html`<p class="status" part="status" role="status">Starting the model in a background thread…</p>`;
    }
    if (this.status === 'error') {
      return html`<div class="error" part="error" role="alert">
        <strong>The model stopped working.</strong>
        <p>${this.error}</p>
        <p>Reload the page to start it again.</p>
      </div>`;
    }
    return nothing;
  }
}

/** Whether the model is saved in this browser, and as what. */
function describeSaved(info: ModelInfo): string {
  if (!info.saved) return info.weights === 'training' ? 'Not saved yet.' : '';
  const at = info.saved.step > 0 ? ` at step ${info.saved.step.toLocaleString('en-US')}` : '';
  return `Saved in this browser as "${info.saved.name}"${at}.`;
}

/** Where the weights came from and what that means for the odds, in a sentence or two. */
function describeWeights(info: ModelInfo): string {
  const steps = `${info.step.toLocaleString('en-US')} training ${info.step === 1 ? 'step' : 'steps'}`;
  if (info.weights === 'training') {
    return `It is being trained on ${info.corpus} (${steps} so far): its odds change as it learns.`;
  }
  if (info.weights === 'trained') {
    return info.checkpoint
      ? `Its weights were trained beforehand and read from ${info.checkpoint}.`
      : `It was trained here on ${info.corpus} (${steps}).`;
  }
  return `Its weights are freshly initialised at random (seed ${info.seed}) and not trained yet, so its odds are close to
    even: the machinery is real, the knowledge is not there yet.`;
}

customElements.define('llm-playground', LlmPlayground);

declare global {
  interface HTMLElementTagNameMap {
    'llm-playground': LlmPlayground;
  }
}
