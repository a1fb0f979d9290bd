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
 *            two playgrounds on one page with different databases keep their models apart; on the same one they
 *            share them, each list following the other's saves. Read when it connects.
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
 *   backend-software, backend-reason, backend-cpu-refused, backend-error (the backend picker's parts), chips, chip, chip-text, chip-id, notice, bars, bar, rest, bar-label,
 *   bar-fill, bar-value, field, temperature, top-k, top-p, seed, max-tokens.
 * Theming: the --llm-playground-* custom properties listed in theme.ts.
 */
import type { AppConfig } from '@mlc-ai/web-llm';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { EngineClient, type RestartEvent } from './client.ts';
import { CollapsibleSections } from './collapsible-sections.ts';
import './elements/backend-picker.ts';
import './elements/chat-panel.ts';
import './elements/inspector-panel.ts';
import './elements/labs-panel.ts';
import './elements/model-library.ts';
import './elements/next-token-chart.ts';
import './elements/prompt-tokens.ts';
import './elements/training-panel.ts';
import { DEFAULT_SETTINGS, type SamplingSettings } from './elements/sampling-controls.ts';
import { emit, type LlmEvent } from './events.ts';
import { count } from './format.ts';
import { playgroundStyles } from './llm-playground.styles.ts';
import { Newest } from './newest.ts';
import { states } from './states.ts';
import { describeToken, formatPercent, showText } from './visible-token.ts';
import {
  type BackendChoice,
  type BackendInfo,
  messageOf,
  type ModelInfo,
  type Prediction,
  type StreamedToken,
  type Tokenization,
} from '../workers/api/index.ts';

export type PlaygroundStatus = 'loading' | 'ready' | 'error';

/** How many tokens the chart lists before summing the rest. */
const CHART_TOKENS = 15;
/** Changes (typing, slider moves, streamed tokens) within this many milliseconds share one request. */
const REFRESH_DELAY_MS = 40;
/** While a model trains, its odds are re-read at most this often: enough to watch, cheap for the page. */
const TRAINING_REFRESH_MS = 400;

/**
 * The collapsible sections under the prompt, in page order: the property that opens each (its button is
 * `${flag}-toggle`), its panel, and the button's title and hint.
 */
// A table, an entry in two lines (the hint on the second).
// prettier-ignore
const SECTIONS = [
  { flag: 'inspect', panel: 'inspector', title: 'Look inside the model',
    hint: 'attention, neurons, embeddings, the logit lens, for the prompt above' },
  { flag: 'train', panel: 'training', title: 'Train a model from scratch',
    hint: 'in this tab: pick a text, a size, press Play' },
  { flag: 'library', panel: 'library', title: 'Saved models',
    hint: 'kept in this browser, offline too: open, rename, export, import' },
  { flag: 'labs', panel: 'labs', title: 'Concept labs',
    hint: "softmax and temperature, GPT-3's parameters, superposition, a fact in an MLP" },
  { flag: 'chat', panel: 'chat', title: 'Chat with a real model',
    hint: 'a small pretrained LLM on your GPU, with the odds of every token it writes' },
] as const;

type SectionPanel = (typeof SECTIONS)[number]['panel'];

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
    ...states('info', 'backendInfo', 'error', 'tokenization', 'prediction', 'settings', 'generating', 'stopShown', 'lastDrawn'),
  };

  static override styles = playgroundStyles;

  /**
   * After Generate, its button reads Stop for at least this long, even when the run is over sooner (100 tokens can
   * take 0.15 s): a second click meant for Stop then lands on Stop, not on a Generate that starts another run.
   */
  static stopHoldMs = 600;

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
  /** The Generate button reads Stop: while generating, and a moment after a short run (see stopHoldMs). */
  declare private stopShown: boolean;
  declare private lastDrawn: StreamedToken | null;

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
    this.stopShown = false;
    this.lastDrawn = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
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

  /** The `model` attribute as the client takes it: relative to the page, null for random weights. */
  private modelUrl(): string | null | undefined {
    if (this.model === 'random') return null;
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
              software: backend-software, reason: backend-reason, cpu-refused: backend-cpu-refused, error: backend-error"
            .client=${this.client}
            .info=${this.backendInfo}
            @llm-backend-change=${this.onBackendChange}
          ></llm-backend-picker>
        </header>
        ${this.renderStatus()}
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
        ${SECTIONS.map(({ flag, ...section }) =>
          this.sections.render({
            ...section,
            toggle: `${flag}-toggle`,
            open: this[flag],
            disabled: !ready,
            onToggle: () => (this[flag] = !this[flag]),
            content: (hidden) => this.renderPanel(section.panel, hidden),
          }),
        )}
      </div>
    `;
  }

  /** The panel of a collapsible section, given the whole client. */
  private renderPanel(panel: SectionPanel, hidden: boolean) {
    switch (panel) {
      case 'inspector':
        return html`<llm-inspector-panel id="inspector" part="inspector" ?hidden=${hidden} .client=${this.client}
          .text=${this.prompt} .model=${this.info}></llm-inspector-panel>`;
      case 'training':
        return html`<llm-training-panel id="training" part="training" ?hidden=${hidden} .client=${this.client}
          @llm-model-change=${this.onModelChange} @llm-training-progress=${this.onTrainingProgress}></llm-training-panel>`;
      case 'library':
        return html`<llm-model-library id="library" part="library" ?hidden=${hidden} .client=${this.client}
          .active=${this.info} @llm-model-change=${this.onModelChange} @llm-models-change=${this.onModelsChange}></llm-model-library>`;
      case 'labs':
        return html`<llm-labs-panel id="labs" part="labs" ?hidden=${hidden} .client=${this.client} .text=${this.prompt}></llm-labs-panel>`;
      case 'chat':
        return html`<llm-chat-panel id="chat" part="chat" ?hidden=${hidden} .client=${this.client}
          .appConfig=${this.chatAppConfig}></llm-chat-panel>`;
    }
  }

  private renderModel() {
    const info = this.info;
    if (!info) return nothing;
    const { config, parameters } = info;
    return html`<p class="model" part="model">
        Model: <strong>${count(parameters.total)}</strong> parameters, ${config.nLayer} layers of
        ${config.nHead} attention heads, ${config.nEmbd} numbers per token, a context of ${config.blockSize} tokens and
        a vocabulary of ${config.vocabSize}. ${showText(describeWeights(info))} ${showText(describeSaved(info))}
      </p>
      ${info.storageProblem ? html`<p class="notice" part="storage-notice" role="status">${showText(info.storageProblem)}</p>` : nothing}
      ${info.notice ? html`<p class="notice" part="notice" role="status">${showText(info.notice)}</p>` : nothing}`;
  }

  private renderStatus() {
    if (this.status === 'loading') {
      return html`<p class="status" part="status" role="status">Starting the model in a background thread…</p>`;
    }
    if (this.status === 'error') {
      return html`<div class="error" part="error" role="alert">
        <strong>The model stopped working.</strong>
        <p>${showText(this.error)}</p>
        <p>Reload the page to start it again.</p>
      </div>`;
    }
    return nothing;
  }
}

/** Whether the model is saved in this browser, and as what. */
function describeSaved(info: ModelInfo): string {
  if (!info.saved) return info.weights === 'training' ? 'Not saved yet.' : '';
  const at = info.saved.step > 0 ? ` at step ${count(info.saved.step)}` : '';
  return `Saved in this browser as "${info.saved.name}"${at}.`;
}

/** Where the weights came from and what that means for the odds, in a sentence or two. */
function describeWeights(info: ModelInfo): string {
  const steps = `${count(info.step)} training ${info.step === 1 ? 'step' : 'steps'}`;
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
