/**
 * <llm-model-chat>: a chat with the playground's own model, in this tab and
 * offline. The system prompt and the turns are laid out as the one text the
 * model continues (model-chat.text.ts), each part coloured, its token
 * boundaries shown on demand; the model then predicts the assistant's tokens
 * one by one (client.model.reply) until the line break that ends a line of
 * its corpus, or the max tokens. Every token of a reply opens the odds the
 * model gave it and its likeliest rivals (<llm-chat-reply>).
 *
 * Keyboard: Enter sends, Shift+Enter starts a new line (sent as a space: the
 * line break ends the exchange), Escape stops a reply being written.
 *
 * Properties: client (ModelChatClient | null: EngineClient, set by <llm-chat-panel>).
 * Events: none.
 * Parts: model-chat, system-prompt, text, text-part (data-role: system, user, assistant, writing), tokens-toggle,
 *   text-token (data-role), dropped, window-note, messages, message (data-role: user, assistant), message-text, finish,
 *   message-input, send-button, clear-button, error, settings, and those of the number fields (field, temperature,
 *   top-p, max-tokens) and of <llm-chat-reply> (tokens, token, selected-token, alternatives, alternative, chosen, …).
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { renderCompose } from './chat-compose.ts';
import { type ChatReply, type ChatToken, messageOf, type Tokenization, type Uses } from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { CHAT_REPLY_PARTS } from './chat-reply.ts';
import { renderNumberFields, type NumberField } from './number-fields.ts';
import { modelChatStyles } from './model-chat.styles.ts';
import { renderTextPart } from './text-parts.ts';
import { DEFAULT_MODEL_SYSTEM_PROMPT, type Exchange, joined, layOut, oneLine, roleAt, type TextPart } from './model-chat.text.ts';
import { define } from '../define.ts';

/** What the chat asks of the engine. */
export type ModelChatClient = Uses<'model', 'reply' | 'cancel' | 'tokenize'>;

export interface ModelChatSettings {
  temperature: number;
  topP: number;
  maxTokens: number;
}

/** The model's own odds (temperature 1, nothing cut), and room for the corpus's longest answer (about 25 tokens). */
export const DEFAULT_MODEL_CHAT_SETTINGS: ModelChatSettings = { temperature: 1, topP: 1, maxTokens: 40 };

const SETTING_FIELDS: NumberField<keyof ModelChatSettings>[] = [
  { key: 'temperature', label: 'Temperature', min: 0, max: 2, step: 0.05, caption: '0 always takes the likeliest token.' },
  { key: 'topP', label: 'Top-p', min: 0.05, max: 1, step: 0.05, caption: 'Draw only from the likeliest tokens adding up to p.' },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 400, step: 1, caption: 'The longest a reply may get.' },
];

interface Turn {
  user: string;
  tokens: ChatToken[];
  /** The reply's text without the line break that ended it. */
  reply: string;
  /** Absent while it is written; 'failed' when an error cut it off. */
  finish?: ChatReply['finish'] | 'failed';
}

const FINISH_NOTES: Partial<Record<NonNullable<Turn['finish']>, string>> = {
  length: 'No line break within the max tokens: the reply stops here, cut off.',
  abort: 'Stopped.',
  failed: 'Cut off by an error.',
};

export class ModelChat extends LitElement {
  static override properties = {
    client: { attribute: false },
    ...states('systemPrompt', 'draft', 'turns', 'settings', 'streaming', 'stopping', 'error', 'showTokens', 'tokenization'),
  };

  declare client: ModelChatClient | null;
  declare private systemPrompt: string;
  declare private draft: string;
  declare private turns: Turn[];
  declare private settings: ModelChatSettings;
  declare private streaming: boolean;
  declare private stopping: boolean;
  declare private error: string;
  /** The text is shown token by token. */
  declare private showTokens: boolean;
  /** The model's tokens of the text shown, with the text they are of; null until asked. */
  declare private tokenization: { text: string; tokens: Tokenization } | null;

  private readonly tokenizing = new Newest<Tokenization>(this);
  /** The text of the newest tokenize ask. */
  private asked = '';
  /** Each reply draws with its own seed, so asking again can give another answer. */
  private replies = 0;

  constructor() {
    super();
    this.client = null;
    this.systemPrompt = DEFAULT_MODEL_SYSTEM_PROMPT;
    this.draft = '';
    this.turns = [];
    this.settings = { ...DEFAULT_MODEL_CHAT_SETTINGS };
    this.streaming = false;
    this.stopping = false;
    this.error = '';
    this.showTokens = false;
    this.tokenization = null;
  }

  /** The text's parts as the model reads them now: the turns so far and, while none is written, the message typed. */
  get parts(): TextPart[] {
    const exchanges: Exchange[] = this.turns.map((turn) => ({ user: turn.user, reply: turn.reply, writing: !turn.finish }));
    const typed = oneLine(this.draft);
    if (!this.streaming && typed) exchanges.push({ user: typed, reply: '', writing: true });
    return layOut(this.systemPrompt, exchanges);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) this.tokenizing.drop();
    // Tokens are asked for the finished text only: a reply being written is not split token by token twice.
    // They are asked even when hidden, to say when the context cuts the text's start off.
    if (this.client && !this.streaming) {
      const text = joined(this.parts);
      if (this.tokenization?.text !== text) void this.tokenize(this.client, text);
    }
  }

  private async tokenize(client: ModelChatClient, text: string): Promise<void> {
    // Asked already: waiting, or refused (a dead client refuses again at once, and each answer re-renders).
    if ((this.tokenizing.busy || this.error) && this.asked === text) return;
    this.asked = text;
    await this.tokenizing.ask(
      () => client.model.tokenize(text),
      (answer) => {
        if (answer.error === undefined) this.tokenization = { text, tokens: answer.value };
        else this.error = messageOf(answer.error);
      },
    );
  }

  private send(): Promise<void> {
    const user = oneLine(this.draft);
    if (!user || !this.client || this.streaming) return Promise.resolve();
    this.draft = '';
    this.turns = [...this.turns, { user, tokens: [], reply: '' }];
    return this.reply(this.client);
  }

  /** Has the model continue the text up to the newest "Assistant:", streaming its tokens into the last turn. */
  private async reply(client: ModelChatClient): Promise<void> {
    const text = joined(this.parts);
    this.streaming = true;
    this.error = '';
    try {
      const reply = await client.model.reply(text, { ...this.settings, seed: ++this.replies }, (token) =>
        this.updateReply((turn) => ({ ...turn, reply: turn.reply + token.token, tokens: [...turn.tokens, token] })),
      );
      this.updateReply(() => ({ ...this.turns.at(-1)!, reply: reply.text, tokens: reply.tokens, finish: reply.finish }));
    } catch (error) {
      this.updateReply((turn) => ({ ...turn, finish: 'failed' }));
      this.error = messageOf(error);
    } finally {
      this.streaming = false;
      this.stopping = false;
    }
  }

  private updateReply(change: (turn: Turn) => Turn): void {
    const last = this.turns.at(-1);
    if (!last || last.finish) return;
    this.turns = [...this.turns.slice(0, -1), change(last)];
  }

  private async stop(): Promise<void> {
    if (!this.client || !this.streaming || this.stopping) return;
    this.stopping = true;
    try {
      await this.client.model.cancel();
    } catch (error) {
      this.stopping = false;
      this.error = messageOf(error);
    }
  }

  private clear(): void {
    this.turns = [];
    this.error = '';
  }

  private onKey(event: KeyboardEvent): void {
    // Escape inside a reply's tokens closes their odds first; anywhere else it stops the reply.
    if (event.key !== 'Escape' || !this.streaming || event.defaultPrevented) return;
    event.preventDefault();
    void this.stop();
  }

  static override styles = modelChatStyles;

  override render() {
    const parts = this.parts;
    return html`<div class="panel" part="model-chat" aria-busy=${String(this.streaming)} @keydown=${this.onKey}>
      <p class="caption">
        The model of this playground, in this tab, offline. A chat is the text below: the system prompt, then each exchange
        on one line as in its corpus. The model writes the assistant's part token by token, and a line break ends it.
      </p>
      <label class="heading" for="model-system-prompt">System prompt</label>
      <textarea
        id="model-system-prompt"
        part="system-prompt"
        rows="2"
        aria-describedby="model-system-prompt-caption"
        .value=${live(this.systemPrompt)}
        ?disabled=${this.streaming}
        @input=${(event: Event) => (this.systemPrompt = (event.target as HTMLTextAreaElement).value)}
      ></textarea>
      <p class="caption" id="model-system-prompt-caption">
        The first line of the text, before every exchange. Edit it and ask again to see what it changes.
      </p>
      ${this.renderText(parts)} ${this.renderConversation()}
      <div part="settings">
        ${renderNumberFields(SETTING_FIELDS, this.settings, {
          disabled: this.streaming,
          idPrefix: 'model-chat-',
          onChange: (key, value) => (this.settings = { ...this.settings, [key]: value }),
        })}
      </div>
    </div>`;
  }

  private renderText(parts: TextPart[]) {
    const tokenized = this.tokenization?.text === joined(parts) ? this.tokenization.tokens : null;
    return html`<div class="text-heading">
        <span class="heading" id="model-chat-text-heading">The text the model continues</span>
        <button part="tokens-toggle" aria-pressed=${String(this.showTokens)} @click=${() => (this.showTokens = !this.showTokens)}>
          ${this.showTokens ? 'Hide tokens' : 'Show tokens'}
        </button>
      </div>
      <pre class="text" part="text" aria-labelledby="model-chat-text-heading">${
        tokenized && this.showTokens ? this.renderTokens(parts, tokenized) : parts.map(renderTextPart)
      }</pre>
      ${
        tokenized?.truncated
          ? html`<p class="caption" part="window-note">
            The model reads only the last ${tokenized.ids.length} tokens: the ${tokenized.dropped} before them are cut off
            (Show tokens fades them), the system prompt first.
          </p>`
          : nothing
      }`;
  }

  /** The text as the model's tokens, each coloured by the part it starts in; what the context cuts off, faded. */
  private renderTokens(parts: TextPart[], tokens: Tokenization) {
    const text = joined(parts);
    const kept = tokens.pieces.join('');
    let offset = text.length - kept.length;
    const dropped = text.slice(0, offset);
    return html`${dropped ? html`<span part="dropped" class="dropped">${dropped}</span>` : nothing}${tokens.pieces.map(
      (piece) => {
        const role = roleAt(parts, offset);
        offset += piece.length;
        return html`<span part="text-token" class="token ${role}" data-role=${role}>${piece}</span>`;
      },
    )}`;
  }

  private renderConversation() {
    const sendable = !!this.client && !this.streaming && !!oneLine(this.draft);
    return html`
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
      ${
        this.turns.length
          ? html`<ol class="messages" part="messages" aria-label="Conversation" aria-live="polite" aria-busy=${String(this.streaming)}>
            ${this.turns.map((turn) => this.renderTurn(turn))}
          </ol>`
          : nothing
      }
      ${renderCompose({
        draft: this.draft,
        placeholder: this.client
          ? 'Ask something, e.g. Where is the Eiffel tower? Enter sends.'
          : 'Not connected to the model yet.',
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
    const note = turn.finish ? FINISH_NOTES[turn.finish] : 'writing…';
    return html`<li part="message" data-role="user"><span class="who">You</span><span part="message-text">${turn.user}</span></li>
      <li part="message" data-role="assistant">
        <span class="who">Model</span>
        <llm-chat-reply part="message-text" exportparts=${CHAT_REPLY_PARTS} .tokens=${turn.tokens}></llm-chat-reply>
        ${note ? html`<span class="finish" part="finish">${note}</span>` : nothing}
      </li>`;
  }
}

define('llm-model-chat', ModelChat);

declare global {
  interface HTMLElementTagNameMap {
    'llm-model-chat': ModelChat;
  }
}
