/**
 * <llm-chat-panel>: chat with a real pretrained model (web-llm, in the engine
 * worker). Pick a model (its download size, the GPU memory it needs, whether it
 * is cached), download and load it with a progress bar, delete it from the
 * cache; edit the system prompt and see the exact text the model continues;
 * chat with streamed replies whose every token opens the alternatives the
 * model weighed. Everything runs through `client`; this element shows what it
 * answers, and every failure in role=alert with a Retry.
 *
 * Properties:
 *   client     ChatClient | null (EngineClient, set by <llm-playground>)
 *   appConfig  AppConfig | null: the host page's own model list (web-llm's AppConfig), handed to
 *              client.setChatAppConfig; null: web-llm's small prebuilt models
 * Events: none.
 * Parts: chat-panel, environment, environment-problem, status, error (data-kind: the ChatErrorKind), error-title,
 *   error-message, retry-button, models, empty, model (data-id), model-name, loaded-badge, cache-state, model-meta,
 *   download-size, gpu-memory, disabled-reason, load-button, delete-button, confirm-delete, confirm-delete-button,
 *   cancel-delete-button, progress, progress-bar, progress-fill, progress-numbers, progress-text, system-prompt,
 *   template, template-text, special-token, template-note, messages, messages-empty, message (data-role), message-text, finish,
 *   message-input, send-button, clear-button, settings, and those of the number fields (field, temperature, top-p,
 *   max-tokens) and of <llm-chat-reply> (tokens, token, selected-token, alternatives, alternative, chosen, …).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import type { AppConfig } from '@mlc-ai/web-llm';
import type {
  ChatClient,
  ChatEnvironment,
  ChatErrorKind,
  ChatLoadProgress,
  ChatMessage,
  ChatModelInfo,
  ChatModels,
  ChatReply,
  ChatSettings,
  ChatToken,
} from '../../workers/chat/types.ts';
import { messageOf } from '../../workers/message-of.ts';
import { alerts, buttons, cards, theme } from '../theme.ts';
import './chat-reply.ts';
import { type NumberField, numberFieldStyles, renderNumberFields } from './number-fields.ts';

export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant. Answer briefly.';

export const DEFAULT_CHAT_SETTINGS: ChatSettings = { temperature: 0.7, topP: 0.9, maxTokens: 256 };

const SETTING_FIELDS: NumberField<keyof ChatSettings>[] = [
  { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.05, caption: '0 always takes the likeliest token; higher evens out the odds.' },
  { key: 'topP', label: 'Top-p', min: 0.05, max: 1, step: 0.05, caption: 'Draw only from the likeliest tokens that add up to p. 1: off.' },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 4096, step: 1, caption: 'The longest a reply may get.' },
];

/** A heading for each kind of failure; the error's message says what happened and what to do. */
const ERROR_TITLES: Record<ChatErrorKind, string> = {
  NoWebGPU: 'No WebGPU',
  NoAdapter: 'No GPU adapter',
  NeedsShaderF16: 'This GPU lacks shader-f16',
  OutOfMemory: 'Not enough GPU memory',
  ModelFilesMissing: "The model's files are missing",
  NetworkUnreachable: 'No network',
  StorageFull: 'Storage is full',
  Interrupted: 'Interrupted',
  NoModelLoaded: 'No model loaded',
};

const CACHE_PLACES: Record<ChatEnvironment['cacheBackend'], string> = {
  cache: "the browser's Cache Storage",
  indexeddb: "the browser's IndexedDB",
  'cross-origin': 'a cache shared across sites',
  opfs: "the browser's private file system",
};

/** Special tokens of common chat templates (<|im_start|>, <|eot_id|>, <s>, [INST], <start_of_turn>…). */
const SPECIAL_TOKEN = /<\|[^|<>\s]+\|>|<\/?s>|\[\/?INST\]|<(?:start|end)_of_turn>|<bos>|<eos>/g;

/** A reply scrolled to within this many pixels of the end keeps following new tokens. */
const FOLLOW_SLACK_PX = 40;

/** The action on the models under way (one at a time). */
interface Busy {
  action: 'load' | 'delete';
  id: string;
}

interface Failure {
  message: string;
  /** The Error's name: a ChatErrorKind, or another name for anything else. */
  kind: string;
  /** Failures of the conversation go when it is cleared; those of the models stay. */
  about: 'chat' | 'models';
  retry: () => Promise<void>;
}

type Turn =
  | { role: 'user'; content: string }
  | {
      role: 'assistant';
      content: string;
      tokens: ChatToken[];
      /** Absent while it streams; 'failed' when an error cut it off (it is not sent back to the model). */
      finish?: ChatReply['finish'] | 'failed';
    };

type AssistantTurn = Extract<Turn, { role: 'assistant' }>;

export class ChatPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    appConfig: { attribute: false },
    models: { state: true },
    busy: { state: true },
    progress: { state: true },
    status: { state: true },
    failure: { state: true },
    confirmingDelete: { state: true },
    systemPrompt: { state: true },
    draft: { state: true },
    turns: { state: true },
    settings: { state: true },
    streaming: { state: true },
    stopping: { state: true },
    templateOpen: { state: true },
    template: { state: true },
  };

  declare client: ChatClient | null;
  declare appConfig: AppConfig | null;
  /** The last list the worker gave; null before the first. */
  declare private models: ChatModels | null;
  declare private busy: Busy | null;
  /** The latest report of the load under way. */
  declare private progress: ChatLoadProgress | null;
  declare private status: string;
  declare private failure: Failure | null;
  /** Id of the model whose delete waits for a yes. */
  declare private confirmingDelete: string | null;
  declare private systemPrompt: string;
  /** The message being typed. */
  declare private draft: string;
  declare private turns: Turn[];
  declare private settings: ChatSettings;
  declare private streaming: boolean;
  declare private stopping: boolean;
  declare private templateOpen: boolean;
  /** What chatPrompt gave for the messages shown (or why it could not). */
  declare private template: { text: string } | { error: string } | null;

  /** What each client was told by setChatAppConfig (a client starts on the default list). */
  private configured = new WeakMap<ChatClient, AppConfig | null>();
  /** Number of the newest list request; older answers are dropped. */
  private latestList = 0;
  /** The model and messages the shown template belongs to, and the newest request for one. */
  private templateKey = '';
  private latestTemplate = 0;
  /** The message list was scrolled to its end before this update: it follows the reply. */
  private following = true;
  /** Where focus goes once the next render is done. */
  private focusNext: string | null = null;

  constructor() {
    super();
    this.client = null;
    this.appConfig = null;
    this.models = null;
    this.busy = null;
    this.progress = null;
    this.status = '';
    this.failure = null;
    this.confirmingDelete = null;
    this.systemPrompt = DEFAULT_SYSTEM_PROMPT;
    this.draft = '';
    this.turns = [];
    this.settings = { ...DEFAULT_CHAT_SETTINGS };
    this.streaming = false;
    this.stopping = false;
    this.templateOpen = false;
    this.template = null;
  }

  protected override willUpdate(): void {
    const list = this.renderRoot.querySelector('[part~="messages"]');
    this.following = !list || list.scrollHeight - list.scrollTop - list.clientHeight < FOLLOW_SLACK_PX;
  }

  protected override updated(changed: PropertyValues): void {
    const client = this.client;
    if ((changed.has('client') || changed.has('appConfig')) && client) void this.connect(client);
    if (this.templateOpen) this.readTemplate();
    const list = this.renderRoot.querySelector('[part~="messages"]');
    if (list && this.following && changed.has('turns')) list.scrollTop = list.scrollHeight;
    if (this.focusNext) {
      this.renderRoot.querySelector<HTMLElement>(this.focusNext)?.focus();
      this.focusNext = null;
    }
  }

  private focusAfterRender(selector: string): void {
    this.focusNext = selector;
    this.requestUpdate();
  }

  /** Tells the client the host page's model list when it differs from what it was told, then reads the list. */
  private async connect(client: ChatClient): Promise<void> {
    const appConfig = this.appConfig;
    if ((this.configured.get(client) ?? null) !== appConfig) {
      try {
        await client.setChatAppConfig(appConfig);
      } catch (error) {
        this.fail(error, 'models', () => this.connect(client));
        return;
      }
      this.configured.set(client, appConfig);
    }
    await this.refresh(client);
  }

  /** Reads the models again. */
  private async refresh(client: ChatClient): Promise<void> {
    const request = ++this.latestList;
    try {
      const models = await client.chatModels();
      if (request !== this.latestList || client !== this.client) return;
      this.models = models;
    } catch (error) {
      if (request === this.latestList && !this.failure) this.fail(error, 'models', () => this.refresh(client));
    }
  }

  private fail(error: unknown, about: Failure['about'], retry: () => Promise<void>): void {
    const kind = error instanceof Error ? error.name : 'Error';
    this.failure = { message: messageOf(error), kind, about, retry };
  }

  /**
   * Runs one action on the models with the others (and chatting) disabled, saying what it does, then reads
   * the list again; a failure shows in the alert, whose Retry is `retry`. Resolves with whether it succeeded.
   */
  private async act(busy: Busy, doing: string, work: (client: ChatClient) => Promise<void>, retry: () => Promise<void>): Promise<boolean> {
    const client = this.client;
    if (!client || this.busy || this.streaming) return false;
    this.busy = busy;
    this.failure = null;
    this.status = doing;
    let succeeded = true;
    try {
      await work(client);
    } catch (error) {
      succeeded = false;
      this.status = '';
      this.fail(error, 'models', retry);
    } finally {
      this.busy = null;
      this.progress = null;
    }
    await this.refresh(client);
    return succeeded;
  }

  private async load(model: ChatModelInfo): Promise<void> {
    const loaded = await this.act(
      { action: 'load', id: model.id },
      `Loading ${model.label}…`,
      (client) =>
        client.loadChatModel(model.id, (progress) => {
          // A report that arrives after the load ended is dropped.
          if (this.isBusy('load', model.id)) this.progress = progress;
        }),
      () => this.load(model),
    );
    if (!loaded) return;
    this.status = `${model.label} is ready: ask it something.`;
    this.focusAfterRender('[part~="message-input"]');
  }

  private askDelete(id: string): void {
    this.confirmingDelete = id;
    this.focusAfterRender(`${rowSelector(id)} [part~="cancel-delete-button"]`);
  }

  private cancelDelete(id: string): void {
    this.confirmingDelete = null;
    this.focusAfterRender(`${rowSelector(id)} [part~="delete-button"]`);
  }

  private async confirmDelete(model: ChatModelInfo): Promise<void> {
    const deleted = await this.act(
      { action: 'delete', id: model.id },
      `Deleting ${model.label}…`,
      (client) => client.deleteChatModel(model.id),
      () => this.confirmDelete(model),
    );
    this.confirmingDelete = null;
    if (!deleted) return;
    this.status = `Deleted ${model.label} from the cache.`;
    this.focusAfterRender(`${rowSelector(model.id)} [part~="load-button"]`);
  }

  /** The messages the model gets for these turns: the system prompt first; empty replies and those an error cut off left out. */
  private messages(turns: Turn[]): ChatMessage[] {
    const system = this.systemPrompt.trim();
    const said = turns
      .filter((turn) => turn.role === 'user' || (turn.finish !== 'failed' && turn.content))
      .map((turn): ChatMessage => ({ role: turn.role, content: turn.content }));
    return system ? [{ role: 'system', content: system }, ...said] : said;
  }

  private canSend(): boolean {
    return !!this.client && !!this.models?.loaded && !this.busy && !this.streaming;
  }

  private send(): Promise<void> {
    const content = this.draft.trim();
    if (!content || !this.canSend()) return Promise.resolve();
    this.draft = '';
    this.turns = [...this.turns, { role: 'user', content }];
    return this.reply();
  }

  /** Streams the model's answer to the conversation so far into a new turn. */
  private async reply(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const messages = this.messages(this.turns);
    this.turns = [...this.turns, { role: 'assistant', content: '', tokens: [] }];
    this.streaming = true;
    this.failure = null;
    this.status = '';
    try {
      const reply = await client.chat(messages, { ...this.settings }, (token) =>
        this.updateReply((turn) => ({ ...turn, content: turn.content + token.token, tokens: [...turn.tokens, token] })),
      );
      this.updateReply(() => ({ role: 'assistant', content: reply.text, tokens: reply.tokens, finish: reply.finish }));
    } catch (error) {
      this.updateReply((turn) => ({ ...turn, finish: 'failed' }));
      this.fail(error, 'chat', () => this.retryReply());
    } finally {
      this.streaming = false;
      this.stopping = false;
    }
  }

  /** Replaces the reply being streamed (the last turn). */
  private updateReply(change: (turn: AssistantTurn) => AssistantTurn): void {
    const last = this.turns.at(-1);
    if (last?.role !== 'assistant' || last.finish) return;
    this.turns = [...this.turns.slice(0, -1), change(last)];
  }

  /** Asks again for the reply an error cut off. */
  private retryReply(): Promise<void> {
    if (!this.client || this.streaming) return Promise.resolve();
    const last = this.turns.at(-1);
    if (last?.role === 'assistant' && last.finish === 'failed') this.turns = this.turns.slice(0, -1);
    return this.reply();
  }

  private async stop(): Promise<void> {
    const client = this.client;
    if (!client || !this.streaming || this.stopping) return;
    this.stopping = true;
    try {
      await client.stopChat();
    } catch (error) {
      this.stopping = false;
      this.fail(error, 'chat', () => this.stop());
    }
  }

  private clear(): void {
    this.turns = [];
    if (this.failure?.about === 'chat') this.failure = null;
    this.focusAfterRender('[part~="message-input"]');
  }

  private onInputKey(event: KeyboardEvent): void {
    // Enter sends; Shift+Enter is a new line, and Enter that ends an IME composition stays in it.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    void this.send();
  }

  /** The conversation as the model would get it next: finished turns and the message being typed. */
  private templateMessages(): ChatMessage[] {
    const finished = this.turns.filter((turn) => turn.role === 'user' || turn.finish);
    const pending = this.draft.trim();
    const messages = this.messages(finished);
    return pending ? [...messages, { role: 'user', content: pending }] : messages;
  }

  /** Asks for the template text when the model or the messages changed since the one shown. */
  private readTemplate(): void {
    const client = this.client;
    const loaded = this.models?.loaded;
    if (!client || !loaded) return;
    const messages = this.templateMessages();
    const key = JSON.stringify([loaded, messages]);
    if (key === this.templateKey) return;
    this.templateKey = key;
    const request = ++this.latestTemplate;
    client.chatPrompt(messages).then(
      (text) => request === this.latestTemplate && (this.template = { text }),
      (error) => request === this.latestTemplate && (this.template = { error: messageOf(error) }),
    );
  }

  private isBusy(action: Busy['action'], id: string): boolean {
    return this.busy?.action === action && this.busy.id === id;
  }

  static override styles = [
    theme,
    cards,
    alerts,
    buttons,
    numberFieldStyles,
    css`
      .block {
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        padding: 0.9rem 1rem;
        min-width: 0;
      }
      .block + .block {
        margin-top: 1rem;
      }
      h4 {
        margin: 0 0 0.4rem;
        font-size: 1rem;
      }
      .line {
        margin: 0.2rem 0;
        font-size: 0.9rem;
      }
      .problem {
        margin: 0.5rem 0;
        padding: 0.7rem 0.9rem;
        border: 2px solid var(--_warning);
        border-radius: var(--_radius);
      }
      .problem strong {
        display: block;
        color: var(--_warning);
        margin-bottom: 0.2rem;
      }
      .status {
        margin: 0.3rem 0;
        min-height: 1.3em;
        font-size: 0.9rem;
      }
      .error {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem 0.6rem;
        align-items: baseline;
      }
      .error span {
        flex: 1 1 16rem;
      }
      .error button {
        padding: 0.2rem 0.65rem;
        font-size: 0.85rem;
        border-color: var(--_error);
        color: var(--_error);
      }
      .name {
        font-weight: 600;
      }
      .badge {
        display: inline-block;
        margin-left: 0.4rem;
        padding: 0 0.45rem;
        border: 1px solid var(--_muted);
        border-radius: 999px;
        font-size: 0.75rem;
        font-weight: 600;
        color: var(--_muted);
        vertical-align: 0.1em;
      }
      .badge.accent {
        border-color: var(--_accent);
        color: var(--_accent);
      }
      .meta {
        margin: 0.15rem 0 0.35rem;
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .reason {
        margin: 0.15rem 0 0.35rem;
        font-size: 0.85rem;
        color: var(--_warning);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      .actions button,
      .confirm button {
        padding: 0.2rem 0.65rem;
        font-size: 0.85rem;
      }
      .confirm {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
        margin-top: 0.3rem;
      }
      button.danger {
        border-color: var(--_error);
        color: var(--_error);
      }
      .progress {
        margin-top: 0.5rem;
      }
      .track {
        height: 0.8rem;
        background: var(--_surface);
        border: 1px solid var(--_border);
        border-radius: 999px;
        overflow: hidden;
      }
      .fill {
        display: block;
        height: 100%;
        background: var(--_accent);
        transition: width 150ms ease-out;
      }
      .numbers {
        margin: 0.25rem 0 0;
        font-family: var(--_mono);
        font-size: 0.85rem;
      }
      .web-llm-line {
        margin: 0.1rem 0 0;
        font-size: 0.8rem;
        color: var(--_muted);
        word-break: break-word;
      }
      label.heading {
        display: block;
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.2rem;
      }
      textarea {
        resize: vertical;
      }
      details {
        margin-top: 0.6rem;
      }
      summary {
        cursor: pointer;
        font-weight: 600;
        font-size: 0.9rem;
      }
      pre {
        margin: 0.3rem 0 0;
        max-height: 18rem;
        overflow: auto;
        font-family: var(--_mono);
        font-size: 0.85rem;
        white-space: pre-wrap;
        word-break: break-word;
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
        padding: 0.45rem 0.6rem;
      }
      mark {
        background: transparent;
        color: var(--_accent);
        font-weight: 700;
      }
      .messages {
        list-style: none;
        margin: 0 0 0.6rem;
        padding: 0;
        max-height: 28rem;
        overflow-y: auto;
      }
      .messages li {
        margin: 0.4rem 0;
        padding: 0.5rem 0.7rem;
        border-radius: var(--_radius);
        max-width: 90%;
      }
      .messages li[data-role='user'] {
        margin-left: auto;
        background: var(--_background);
        border: 1px solid var(--_border);
        white-space: pre-wrap;
        word-break: break-word;
      }
      .messages li[data-role='assistant'] {
        background: var(--_background);
        border: 1px solid var(--_accent);
      }
      .who {
        display: block;
        font-size: 0.75rem;
        font-weight: 600;
        color: var(--_muted);
        margin-bottom: 0.15rem;
      }
      .finish {
        display: block;
        margin-top: 0.2rem;
        font-size: 0.8rem;
        color: var(--_muted);
      }
      .compose {
        display: flex;
        gap: 0.5rem;
        align-items: flex-end;
      }
      .compose textarea {
        flex: 1 1 auto;
      }
      @media (prefers-reduced-motion: reduce) {
        .fill {
          transition: none;
        }
      }
    `,
  ];

  override render() {
    const working = !!this.busy || this.streaming;
    return html`<div class="panel" part="chat-panel" aria-busy=${String(working)}>
      <p class="caption">
        A real pretrained model, downloaded once and run on your GPU in this tab. It works like the small one: it only
        ever predicts the next token. A chat is that, after a system prompt and the turns so far.
      </p>
      <section class="block" aria-labelledby="models-heading">
        <h4 id="models-heading">Model</h4>
        ${this.renderEnvironment()}
        <p class="status" part="status" role="status">${this.status}</p>
        ${this.failure ? this.renderFailure(this.failure) : nothing} ${this.renderModels()}
      </section>
      <section class="block" aria-labelledby="conversation-heading">
        <h4 id="conversation-heading">Conversation</h4>
        <label class="heading" for="system-prompt">System prompt</label>
        <textarea
          id="system-prompt"
          part="system-prompt"
          rows="2"
          aria-describedby="system-prompt-caption"
          .value=${live(this.systemPrompt)}
          @input=${(event: Event) => (this.systemPrompt = (event.target as HTMLTextAreaElement).value)}
        ></textarea>
        <p class="caption" id="system-prompt-caption">
          Sent first, before every turn: it tells the model who to be. Edits apply to the next reply.
        </p>
        ${this.renderTemplate()} ${this.renderConversation()}
        <div part="settings">${renderNumberFields(SETTING_FIELDS, this.settings, {
          disabled: this.streaming,
          idPrefix: 'chat-',
          onChange: (key, value) => (this.settings = { ...this.settings, [key]: value }),
        })}</div>
      </section>
    </div>`;
  }

  private renderEnvironment() {
    const environment = this.models?.environment;
    if (!environment) return nothing;
    const gpu = environment.adapter ?? (environment.webgpu ? 'an unnamed adapter' : 'none found');
    const f16 = environment.shaderF16 ? 'has shader-f16' : 'no shader-f16, so f32 models only';
    return html`
      ${environment.problem
        ? html`<div class="problem" part="environment-problem" id="environment-problem">
            <strong>The chat cannot run in this browser</strong>${environment.problem}
          </div>`
        : nothing}
      <p class="line" part="environment">
        GPU: ${gpu}${environment.webgpu ? ` (${f16})` : ''}. Downloaded models are kept in ${CACHE_PLACES[environment.cacheBackend]}.
      </p>
    `;
  }

  private renderFailure(failure: Failure) {
    const title = ERROR_TITLES[failure.kind as ChatErrorKind];
    return html`<div class="error" part="error" role="alert" data-kind=${failure.kind}>
      ${title ? html`<strong part="error-title">${title}</strong>` : nothing}
      <span part="error-message">${failure.message}</span>
      <button
        part="retry-button"
        ?disabled=${!!this.busy || (this.streaming && failure.about === 'models')}
        @click=${() => {
          this.failure = null;
          void failure.retry();
        }}
      >
        Retry
      </button>
    </div>`;
  }

  private renderModels() {
    const models = this.models;
    if (!models) return html`<p class="empty">${this.client ? 'Reading the models…' : 'Not connected to the model yet.'}</p>`;
    if (!models.models.length) return html`<p class="empty" part="empty">No models on offer.</p>`;
    return html`<ul class="cards" part="models" aria-label="Models">
      ${repeat(
        models.models,
        (model) => model.id,
        (model, index) => this.renderModel(model, index, model.id === models.loaded, models.environment),
      )}
    </ul>`;
  }

  private renderModel(model: ChatModelInfo, index: number, loaded: boolean, environment: ChatEnvironment) {
    const locked = !this.client || !!this.busy || this.streaming;
    const unusable = !!environment.problem || !!model.disabled;
    const reasons = [environment.problem ? 'environment-problem' : '', model.disabled ? `disabled-${index}` : ''].filter(Boolean);
    const size = model.downloadBytes === undefined ? 'size unknown' : megabytes(model.downloadBytes);
    const loading = this.isBusy('load', model.id);
    return html`<li part="model" data-id=${model.id} aria-current=${loaded ? 'true' : nothing}>
      <span class="name" part="model-name">${model.label}</span>
      ${loaded ? html`<span class="badge accent" part="loaded-badge">loaded</span>` : nothing}
      <span class="badge ${model.cached ? 'accent' : ''}" part="cache-state">${model.cached ? 'cached' : 'download'}</span>
      <p class="meta" part="model-meta">
        <span part="download-size">${size}</span>${model.vramMB === undefined
          ? nothing
          : html` · needs <span part="gpu-memory">${Math.round(model.vramMB).toLocaleString('en-US')} MB</span> of GPU memory`}
      </p>
      ${model.disabled ? html`<p class="reason" part="disabled-reason" id="disabled-${index}">${model.disabled}</p>` : nothing}
      ${this.confirmingDelete === model.id
        ? html`<div
            class="confirm"
            part="confirm-delete"
            role="group"
            aria-label="Delete ${model.label} from the cache?"
            @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && this.cancelDelete(model.id)}
          >
            <span>Delete ${model.label} from this browser? Using it again downloads ${size} again.</span>
            <button
              class="danger"
              part="confirm-delete-button"
              ?disabled=${locked}
              aria-busy=${String(this.isBusy('delete', model.id))}
              @click=${() => this.confirmDelete(model)}
            >
              ${this.isBusy('delete', model.id) ? 'Deleting…' : 'Delete'}
            </button>
            <button part="cancel-delete-button" ?disabled=${locked} @click=${() => this.cancelDelete(model.id)}>Keep</button>
          </div>`
        : html`<div class="actions">
            ${loaded
              ? nothing
              : html`<button
                  class="primary"
                  part="load-button"
                  ?disabled=${locked || unusable}
                  aria-busy=${String(loading)}
                  aria-describedby=${reasons.length ? reasons.join(' ') : nothing}
                  @click=${() => this.load(model)}
                >
                  ${loading ? 'Loading…' : model.cached ? 'Load' : 'Download & load'}
                </button>`}
            ${model.cached
              ? html`<button class="danger" part="delete-button" ?disabled=${locked} @click=${() => this.askDelete(model.id)}>
                  Delete from cache
                </button>`
              : nothing}
          </div>`}
      ${loading ? this.renderProgress(model) : nothing}
    </li>`;
  }

  private renderProgress(model: ChatModelInfo) {
    const progress = this.progress;
    const percent = Math.floor((progress?.progress ?? 0) * 100);
    const { loadedBytes, totalBytes } = progress ?? {};
    const bytes = loadedBytes === undefined || totalBytes === undefined ? '' : `${megabytes(loadedBytes)} of ${megabytes(totalBytes)}`;
    const numbers = [`${percent}%`, bytes, progress ? `${Math.round(progress.seconds)} s` : ''].filter(Boolean).join(' · ');
    return html`<div class="progress" part="progress">
      <div
        class="track"
        part="progress-bar"
        role="progressbar"
        aria-label="Loading ${model.label}"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${percent}
        aria-valuetext=${bytes ? `${percent}%, ${bytes}` : `${percent}%`}
      >
        <span class="fill" part="progress-fill" style="width:${percent}%"></span>
      </div>
      <p class="numbers" part="progress-numbers">${numbers}</p>
      <p class="web-llm-line" part="progress-text">${progress?.text ?? 'Starting…'}</p>
    </div>`;
  }

  private renderTemplate() {
    const template = this.template;
    const loaded = this.models?.loaded;
    return html`<details
      part="template"
      .open=${this.templateOpen}
      @toggle=${(event: Event) => (this.templateOpen = (event.target as HTMLDetailsElement).open)}
    >
      <summary>What the model receives</summary>
      <p class="caption">
        The model gets only this text, its chat template around each turn, and writes its reply by continuing it one
        token at a time. The <mark>marked</mark> pieces are special tokens.
      </p>
      ${!loaded
        ? html`<p class="empty" part="template-note">Load a model to see the text it receives.</p>`
        : !template
          ? html`<p class="empty" part="template-note">Reading the template…</p>`
          : 'error' in template
            ? html`<p class="reason" part="template-note" role="status">Could not read the template: ${template.error}</p>`
            : html`<pre part="template-text">${markSpecialTokens(template.text)}</pre>`}
    </details>`;
  }

  private renderConversation() {
    const ready = !!this.models?.loaded;
    const sendable = this.canSend() && !!this.draft.trim();
    return html`
      ${this.turns.length
        ? html`<ol class="messages" part="messages" aria-label="Conversation" aria-live="polite" aria-busy=${String(this.streaming)}>
            ${this.turns.map((turn) => this.renderTurn(turn))}
          </ol>`
        : html`<p class="empty" part="messages-empty">${ready ? 'No messages yet.' : 'Load a model to chat with it.'}</p>`}
      <div class="compose">
        <textarea
          part="message-input"
          rows="2"
          aria-label="Your message"
          placeholder=${ready ? 'Ask something. Enter sends, Shift+Enter starts a new line.' : 'Load a model first.'}
          .value=${live(this.draft)}
          @input=${(event: Event) => (this.draft = (event.target as HTMLTextAreaElement).value)}
          @keydown=${this.onInputKey}
        ></textarea>
        <button
          class=${this.streaming ? '' : 'primary'}
          part="send-button"
          aria-busy=${String(this.stopping)}
          ?disabled=${this.streaming ? this.stopping : !sendable}
          @click=${this.streaming ? this.stop : this.send}
        >
          ${this.streaming ? (this.stopping ? 'Stopping…' : 'Stop') : 'Send'}
        </button>
        <button part="clear-button" ?disabled=${this.streaming || !this.turns.length} @click=${this.clear}>Clear</button>
      </div>
    `;
  }

  private renderTurn(turn: Turn) {
    if (turn.role === 'user') {
      return html`<li part="message" data-role="user"><span class="who">You</span><span part="message-text">${turn.content}</span></li>`;
    }
    const note = turn.finish ? FINISH_NOTES[turn.finish] : 'writing…';
    return html`<li part="message" data-role="assistant">
      <span class="who">Model</span>
      ${turn.tokens.length || !turn.content
        ? html`<llm-chat-reply
            part="message-text"
            exportparts=${REPLY_PARTS}
            .tokens=${turn.tokens}
          ></llm-chat-reply>`
        : html`<span part="message-text">${turn.content}</span>`}
      ${note ? html`<span class="finish" part="finish">${note}</span>` : nothing}
    </li>`;
  }
}

/** The parts of <llm-chat-reply> this element passes on. */
const REPLY_PARTS = [
  'tokens',
  'token',
  'selected-token',
  'alternatives',
  'alternatives-caption',
  'alternative',
  'chosen',
  'alternative-label',
  'alternative-fill',
  'alternative-value',
  'outside-top',
].join(', ');

/** How a reply ended, when it did not end on its own. */
const FINISH_NOTES: Partial<Record<NonNullable<AssistantTurn['finish']>, string>> = {
  length: 'Cut off at the max tokens.',
  abort: 'Stopped.',
  failed: 'Cut off by an error.',
};

const MB = 1024 * 1024;

/** "270 MB", "0.4 MB": whole megabytes, or one decimal below 10. */
function megabytes(bytes: number): string {
  const value = bytes / MB;
  return `${value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')} MB`;
}

/** The template text with its special tokens marked, so they stand out from the words around them. */
function markSpecialTokens(text: string) {
  const pieces: unknown[] = [];
  let from = 0;
  for (const match of text.matchAll(SPECIAL_TOKEN)) {
    pieces.push(text.slice(from, match.index), html`<mark part="special-token">${match[0]}</mark>`);
    from = match.index + match[0].length;
  }
  pieces.push(text.slice(from));
  return pieces;
}

const rowSelector = (id: string): string => `[part~="model"][data-id="${CSS.escape(id)}"]`;

customElements.define('llm-chat-panel', ChatPanel);

declare global {
  interface HTMLElementTagNameMap {
    'llm-chat-panel': ChatPanel;
  }
}
