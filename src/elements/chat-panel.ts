/**
 * <llm-chat-panel>: the chat section, in two parts. "This model": a chat with
 * the playground's own model, offline (<llm-model-chat>). "A real small model":
 * chat with a real pretrained model (web-llm, in the engine worker). Pick a model (smallest first, those this GPU cannot run behind Show
 * all; its download size, the GPU memory it needs, whether it is cached),
 * download and load it with a progress bar, delete it from the cache; edit the
 * system prompt and see the exact text the model continues; chat with streamed
 * replies whose every token opens the alternatives the model weighed.
 * Everything runs through `client`; this element shows what it answers, and
 * every failure in role=alert with a Retry.
 *
 * Properties:
 *   client     ChatPanelClient | null (EngineClient, set by <llm-playground>)
 *   appConfig  AppConfig | null: the host page's own model list (web-llm's AppConfig), handed to
 *              client.chat.setAppConfig; null: web-llm's small prebuilt models
 * Events: none.
 * Parts: chat-panel, own-model (the <llm-model-chat>, whose parts are its own), environment, environment-problem, status, error (data-kind: the ChatErrorKind), error-title,
 *   error-message, retry-button, offline-note, models, show-all-button, empty, model (data-id), model-name, loaded-badge,
 *   cache-state, model-meta, download-size, gpu-memory, disabled-reason, load-button, delete-button, confirm-delete,
 *   confirm-delete-button, cancel-delete-button, progress, progress-bar, progress-fill, progress-numbers, progress-text
 *   (a model's card: chat-model-card.ts), system-prompt, messages, messages-empty, message (data-role), message-text, finish,
 *   message-input, send-button, clear-button, settings, and those of the number fields (field, temperature, top-p,
 *   max-tokens), of <llm-chat-template> (template, template-text, special-token, template-note) and of
 *   <llm-chat-reply> (tokens, token, selected-token, alternatives, alternative, chosen, …).
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { renderCompose } from './chat-compose.ts';
import { repeat } from 'lit/directives/repeat.js';
import type { AppConfig } from '@mlc-ai/web-llm';
import {
  type ChatErrorKind,
  type ChatLoadProgress,
  type ChatMessage,
  type ChatModelInfo,
  type ChatModels,
  type ChatReply,
  type ChatSettings,
  type ChatToken,
  messageOf,
  type Uses,
} from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { renderModelCard } from './chat-model-card.ts';
import { chatPanelStyles } from './chat-panel.styles.ts';
import { CHAT_REPLY_PARTS } from './chat-reply.ts';
import './chat-template.ts';
import './model-chat.ts';
import type { ModelChatClient } from './model-chat.ts';
import type { ChatTemplateClient } from './chat-template.ts';
import {
  CACHE_PLACES,
  DEFAULT_CHAT_SETTINGS,
  DEFAULT_SYSTEM_PROMPT,
  ERROR_TITLES,
  FINISH_NOTES,
  SETTING_FIELDS,
} from './chat-panel.words.ts';
import { renderNumberFields } from './number-fields.ts';
import { define } from '../define.ts';

/**
 * What the panel asks of the engine, with what its template and the chat with this model ask (it hands
 * them its client). A client without the model area leaves that chat unconnected.
 */
export type ChatPanelClient = Uses<'chat', 'models' | 'setAppConfig' | 'load' | 'reply' | 'stop' | 'delete'> &
  ChatTemplateClient &
  Partial<ModelChatClient>;

const withModel = (client: ChatPanelClient | null): (ChatPanelClient & ModelChatClient) | null =>
  client?.model ? (client as ChatPanelClient & ModelChatClient) : null;

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
    ...states('models', 'showAll', 'busy', 'progress', 'status', 'failure', 'confirmingDelete'),
    ...states('systemPrompt', 'draft', 'turns', 'settings', 'streaming', 'stopping'),
  };

  declare client: ChatPanelClient | null;
  declare appConfig: AppConfig | null;
  /** The last list the worker gave; null before the first. */
  declare private models: ChatModels | null;
  /** The models this browser cannot run are listed too. */
  declare private showAll: boolean;
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

  /** What each client was told by chat.setAppConfig (a client starts on the default list). */
  private configured = new WeakMap<ChatPanelClient, AppConfig | null>();
  private readonly listing = new Newest<ChatModels>(this);
  /** The message list was scrolled to its end before this update: it follows the reply. */
  private following = true;
  /** Where focus goes once the next render is done. */
  private focusNext: string | null = null;

  constructor() {
    super();
    this.client = null;
    this.appConfig = null;
    this.models = null;
    this.showAll = false;
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
  }

  // Asked here, not in updated(): the update Newest requests when the ask starts is this one, not a second.
  protected override willUpdate(changed: PropertyValues<this>): void {
    // A list the client before was asked for is not this one's.
    if (changed.has('client')) this.listing.drop();
    if ((changed.has('client') || changed.has('appConfig')) && this.client) void this.connect(this.client);
    const list = this.renderRoot.querySelector('[part~="messages"]');
    this.following = !list || list.scrollHeight - list.scrollTop - list.clientHeight < FOLLOW_SLACK_PX;
  }

  protected override updated(changed: PropertyValues): void {
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
  private async connect(client: ChatPanelClient): Promise<void> {
    const appConfig = this.appConfig;
    if ((this.configured.get(client) ?? null) !== appConfig) {
      try {
        await client.chat.setAppConfig(appConfig);
      } catch (error) {
        this.fail(error, 'models', () => this.connect(client));
        return;
      }
      this.configured.set(client, appConfig);
    }
    await this.refresh(client);
  }

  /** Reads the models again. */
  private async refresh(client: ChatPanelClient): Promise<void> {
    await this.listing.ask(
      () => client.chat.models(),
      (answer) => {
        if (answer.error === undefined) this.models = answer.value;
        else if (!this.failure) this.fail(answer.error, 'models', () => this.refresh(client));
      },
    );
  }

  private fail(error: unknown, about: Failure['about'], retry: () => Promise<void>): void {
    const kind = error instanceof Error ? error.name : 'Error';
    this.failure = { message: messageOf(error), kind, about, retry };
  }

  /**
   * Runs one action on the models with the others (and chatting) disabled, saying what it does, then reads
   * the list again; a failure shows in the alert, whose Retry is `retry`. Resolves with whether it succeeded.
   */
  private async act(
    busy: Busy,
    doing: string,
    work: (client: ChatPanelClient) => Promise<void>,
    retry: () => Promise<void>,
  ): Promise<boolean> {
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
        client.chat.load(model.id, (progress) => {
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
      (client) => client.chat.delete(model.id),
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
      const reply = await client.chat.reply(messages, { ...this.settings }, (token) =>
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
      await client.chat.stop();
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

  /** The conversation as the model would get it next: finished turns and the message being typed. */
  private templateMessages(): ChatMessage[] {
    const finished = this.turns.filter((turn) => turn.role === 'user' || turn.finish);
    const pending = this.draft.trim();
    const messages = this.messages(finished);
    return pending ? [...messages, { role: 'user', content: pending }] : messages;
  }

  private isBusy(action: Busy['action'], id: string): boolean {
    return this.busy?.action === action && this.busy.id === id;
  }

  static override styles = chatPanelStyles;

  override render() {
    const working = !!this.busy || this.streaming;
    return html`<section class="block" aria-labelledby="own-model-heading">
        <h3 id="own-model-heading">This model</h3>
        <llm-model-chat part="own-model" .client=${withModel(this.client)}></llm-model-chat>
      </section>
      <h3>A real small model</h3>
      <div class="panel" part="chat-panel" aria-busy=${String(working)}>
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
        <llm-chat-template
          exportparts=${TEMPLATE_PARTS}
          .client=${this.client}
          .model=${this.models?.loaded ?? null}
          .messages=${this.templateMessages()}
        ></llm-chat-template>
        ${this.renderConversation()}
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
      ${
        environment.problem
          ? html`<div class="problem" part="environment-problem" id="environment-problem">
            <strong>The chat cannot run in this browser</strong>${environment.problem}
          </div>`
          : nothing
      }
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
    const locked = !this.client || !!this.busy || this.streaming;
    const runnable = models.models.filter((model) => !model.disabled);
    // Those this GPU cannot run wait behind "Show all", unless none can run (then each card says why).
    const hidden = runnable.length ? models.models.length - runnable.length : 0;
    const shown = this.showAll || !hidden ? models.models : runnable;
    return html`${
      models.offline
        ? html`<p class="line" part="offline-note">
          No network: each model needs the internet once, to download it. A downloaded one works offline.
        </p>`
        : nothing
    }
      <ul class="cards" part="models" id="chat-models" aria-label="Models">
        ${repeat(
          shown,
          (model) => model.id,
          (model, index) =>
            renderModelCard(model, index, {
              loaded: model.id === models.loaded,
              environment: models.environment,
              locked,
              busy: this.busy?.id === model.id ? this.busy.action : null,
              confirmingDelete: this.confirmingDelete === model.id,
              progress: this.progress,
              load: () => this.load(model),
              askDelete: () => this.askDelete(model.id),
              cancelDelete: () => this.cancelDelete(model.id),
              confirmDelete: () => this.confirmDelete(model),
            }),
        )}
      </ul>
      ${
        hidden
          ? html`<button
            part="show-all-button"
            aria-expanded=${String(this.showAll)}
            aria-controls="chat-models"
            @click=${() => (this.showAll = !this.showAll)}
          >
            ${this.showAll ? 'Show only the models this GPU can run' : `Show all (${hidden} more this GPU cannot run)`}
          </button>`
          : nothing
      }`;
  }

  private renderConversation() {
    const ready = !!this.models?.loaded;
    const sendable = this.canSend() && !!this.draft.trim();
    return html`
      ${
        this.turns.length
          ? html`<ol class="messages" part="messages" aria-label="Conversation" aria-live="polite" aria-busy=${String(this.streaming)}>
            ${this.turns.map((turn) => this.renderTurn(turn))}
          </ol>`
          : html`<p class="empty" part="messages-empty">${ready ? 'No messages yet.' : 'Load a model to chat with it.'}</p>`
      }
      ${renderCompose({
        draft: this.draft,
        placeholder: ready ? 'Ask something. Enter sends, Shift+Enter starts a new line.' : 'Load a model first.',
        streaming: this.streaming,
        stopping: this.stopping,
        sendable,
        clearable: !this.streaming && this.turns.length > 0,
        onDraft: (draft) => (this.draft = draft),
        send: () => void this.send(),
        stop: () => void this.stop(),
        clear: () => this.clear(),
      })}
    `;
  }

  private renderTurn(turn: Turn) {
    if (turn.role === 'user') {
      return html`<li part="message" data-role="user"><span class="who">You</span><span part="message-text">${turn.content}</span></li>`;
    }
    const note = turn.finish ? FINISH_NOTES[turn.finish] : 'writing…';
    return html`<li part="message" data-role="assistant">
      <span class="who">Model</span>
      ${
        turn.tokens.length || !turn.content
          ? html`<llm-chat-reply
            part="message-text"
            exportparts=${CHAT_REPLY_PARTS}
            .tokens=${turn.tokens}
          ></llm-chat-reply>`
          : html`<span part="message-text">${turn.content}</span>`
      }
      ${note ? html`<span class="finish" part="finish">${note}</span>` : nothing}
    </li>`;
  }
}

/** The parts of <llm-chat-template> this element passes on. */
const TEMPLATE_PARTS = 'template, template-text, special-token, template-note';

const rowSelector = (id: string): string => `[part~="model"][data-id="${CSS.escape(id)}"]`;

define('llm-chat-panel', ChatPanel);

declare global {
  interface HTMLElementTagNameMap {
    'llm-chat-panel': ChatPanel;
  }
}
