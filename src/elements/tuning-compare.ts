/**
 * <llm-tuning-compare>: one question, asked before and after tuning. The question is laid out as the chat lays
 * out a message (the system prompt, then "User: … Assistant:"), the exact text shown in coloured parts; the
 * reference (the model tuning started from) and the tuned model each continue it greedily, always taking the
 * likeliest token, so the two replies differ only by what tuning changed. Every token opens the odds the model
 * gave it (<llm-chat-reply>). Asked again whenever the question or the tuning step changes (never while a run
 * plays); before tuning begins, only the model in use answers.
 *
 * Properties: client (TuningCompareClient | null), model (ModelInfo | null: the model in use; before tuning, another
 *   one is asked again), tuned (boolean: tuning began), step (number: tuning steps so far), playing (boolean: a run
 *   plays).
 * Parts: question, text, text-part (data-role), replies, reply (data-model: before, after), reply-heading,
 *   compare-error, and those of <llm-chat-reply> (tokens, token, alternatives, …).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { type ChatReply, COMPARE_QUESTION, messageOf, type ModelInfo, type Uses } from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { inputs, textFields, theme } from '../theme.ts';
import { CHAT_REPLY_PARTS } from './chat-reply.ts';
import './chat-reply.ts';
import { DEFAULT_MODEL_CHAT_SETTINGS } from './model-chat.ts';
import { DEFAULT_MODEL_SYSTEM_PROMPT, joined, layOut, oneLine, type TextPart } from './model-chat.text.ts';
import { renderTextPart, textPartStyles } from './text-parts.ts';
import { modelProperty } from './tuning-run.ts';
import { define } from '../define.ts';

export type TuningCompareClient = Uses<'tuning', 'compare'> & Uses<'model', 'reply'>;

/** The prompt the chat would send for `question` as its first message: through "Assistant:". */
export const promptFor = (question: string): TextPart[] =>
  layOut(DEFAULT_MODEL_SYSTEM_PROMPT, [{ user: question, reply: '', writing: true }]);

/** Room for the longest answer of the dialogues, as in the chat: the most tokens an answer here gets. */
export const ANSWER_TOKENS = DEFAULT_MODEL_CHAT_SETTINGS.maxTokens;
/** Typing waits this long before asking. */
const TYPING_DELAY = 400;

interface Replies {
  text: string;
  before: ChatReply;
  /** Absent before tuning begins. */
  after?: ChatReply;
}

export class TuningCompare extends LitElement {
  static override properties = {
    client: { attribute: false },
    model: modelProperty,
    tuned: { type: Boolean },
    step: { type: Number },
    playing: { type: Boolean },
    ...states('question', 'replies', 'error'),
  };

  declare client: TuningCompareClient | null;
  declare model: ModelInfo | null;
  declare tuned: boolean;
  declare step: number;
  declare playing: boolean;
  declare private question: string;
  declare private replies: Replies | null;
  declare private error: string;

  private readonly asking = new Newest<Replies>(this, { delay: TYPING_DELAY });

  constructor() {
    super();
    this.client = null;
    this.model = null;
    this.tuned = false;
    this.step = 0;
    this.playing = false;
    this.question = COMPARE_QUESTION;
    this.replies = null;
    this.error = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Once tuning began, its step says when the tuned model changed; before, only another model does.
    const moved =
      changed.has('client') ||
      changed.has('tuned') ||
      changed.has('step') ||
      changed.has('playing') ||
      (changed.has('model') && !this.tuned);
    if (moved && this.client && !this.playing) void this.ask(this.client, false);
  }

  private onQuestion(question: string): void {
    this.question = question;
    if (this.client && !this.playing) void this.ask(this.client, true);
  }

  private async ask(client: TuningCompareClient, typed: boolean): Promise<void> {
    const question = oneLine(this.question);
    if (!question) return;
    const text = joined(promptFor(question));
    const tuned = this.tuned;
    await this.asking.ask(
      async (): Promise<Replies> => {
        if (tuned) return { text, ...(await client.tuning.compare(text, ANSWER_TOKENS)) };
        const before = await client.model.reply(text, { maxTokens: ANSWER_TOKENS, temperature: 0, seed: 0 }, () => {});
        return { text, before };
      },
      (answer) => {
        this.error = answer.error === undefined ? '' : messageOf(answer.error);
        if (answer.value) this.replies = answer.value;
      },
      typed ? TYPING_DELAY : 0,
    );
  }

  static override styles = [
    theme,
    inputs,
    textFields,
    textPartStyles,
    css`
      label {
        display: block;
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.2rem;
      }
      .replies {
        display: grid;
        gap: 0.75rem;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
        margin-top: 0.5rem;
      }
      .reply {
        padding: 0.5rem 0.7rem;
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
      }
      .reply[data-model='after'] {
        border-color: var(--_accent);
      }
      h5 {
        margin: 0 0 0.3rem;
        font-size: 0.9rem;
      }
      .error {
        color: var(--_error);
      }
      [aria-busy='true'] .reply {
        opacity: 0.6;
      }
    `,
  ];

  override render() {
    const parts = promptFor(oneLine(this.question));
    const shown = this.replies;
    const stale = this.playing || this.asking.busy || (shown !== null && shown.text !== joined(parts));
    return html`<label for="compare-question">Question</label>
      <input
        id="compare-question"
        part="question"
        .value=${live(this.question)}
        @input=${(event: Event) => this.onQuestion((event.target as HTMLInputElement).value)}
      />
      <pre class="text" part="text" aria-label="The text both models continue">${parts.map(renderTextPart)}</pre>
      ${this.error ? html`<p class="error" part="compare-error" role="alert">${this.error}</p>` : nothing}
      <div class="replies" part="replies" aria-live="polite" aria-busy=${String(stale)}>
        ${this.renderReply('before', this.tuned ? 'Before: the reference' : 'The model in use, not tuned yet', shown?.before)}
        ${this.tuned ? this.renderReply('after', `After ${this.step} tuning steps`, shown?.after) : nothing}
      </div>`;
  }

  private renderReply(which: 'before' | 'after', heading: string, reply: ChatReply | undefined) {
    return html`<section class="reply" part="reply" data-model=${which}>
      <h5 part="reply-heading">${heading}</h5>
      ${
        reply
          ? html`<llm-chat-reply exportparts=${CHAT_REPLY_PARTS} .tokens=${reply.tokens}></llm-chat-reply>${
              reply.finish === 'length'
                ? html`<p class="caption">No line break within ${ANSWER_TOKENS} tokens: cut off.</p>`
                : nothing
            }`
          : html`<p class="empty">Asking…</p>`
      }
    </section>`;
  }
}

define('llm-tuning-compare', TuningCompare);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-compare': TuningCompare;
  }
}
