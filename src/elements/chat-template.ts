/**
 * <llm-chat-template>: what the chat model receives, behind a disclosure: the
 * exact text the loaded model continues for the conversation (its chat
 * template around each turn, ending where its reply starts), special tokens
 * marked. It asks `client` only while open, and again when the model or the
 * messages change.
 *
 * Properties:
 *   client    ChatTemplateClient | null (EngineClient, set by <llm-chat-panel>)
 *   model     string | null: the loaded model's id; null: none loaded, nothing to ask
 *   messages  ChatMessage[]: the conversation as the model would get it next
 * Parts: template, template-text, special-token, template-note.
 */
import { css, html, LitElement } from 'lit';
import { type ChatMessage, messageOf, type Uses } from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { theme } from '../theme.ts';
import { define } from '../define.ts';

/** What the template asks of the engine. */
export type ChatTemplateClient = Uses<'chat', 'prompt'>;

/** Special tokens of common chat templates (<|im_start|>, <|eot_id|>, <s>, [INST], <start_of_turn>…). */
const SPECIAL_TOKEN = /<\|[^|<>\s]+\|>|<\/?s>|\[\/?INST\]|<(?:start|end)_of_turn>|<bos>|<eos>/g;

export class ChatTemplate extends LitElement {
  static override properties = {
    client: { attribute: false },
    model: { attribute: false },
    messages: { attribute: false },
    ...states('open', 'template'),
  };

  declare client: ChatTemplateClient | null;
  declare model: string | null;
  declare messages: ChatMessage[];
  declare private open: boolean;
  /** What the client gave for the messages shown (or why it could not). */
  declare private template: { text: string } | { error: string } | null;

  private readonly reading = new Newest<string>(this);
  /** The model and messages of the newest ask. */
  private asked = '';

  constructor() {
    super();
    this.client = null;
    this.model = null;
    this.messages = [];
    this.open = false;
    this.template = null;
  }

  // Asked here, not in updated(): the update Newest requests when the ask starts is this one, not a second.
  protected override willUpdate(): void {
    if (this.open) void this.read();
  }

  /** Asks for the text when the model or the messages changed since the last ask. */
  private async read(): Promise<void> {
    const { client, model, messages } = this;
    if (!client || !model) return;
    const key = JSON.stringify([model, messages]);
    if (key === this.asked) return;
    this.asked = key;
    await this.reading.ask(
      () => client.chat.prompt(messages),
      (answer) => {
        this.template = answer.error !== undefined ? { error: messageOf(answer.error) } : { text: answer.value };
      },
    );
  }

  static override styles = [
    theme,
    css`
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
      .reason {
        margin: 0.15rem 0 0.35rem;
        font-size: 0.85rem;
        color: var(--_warning);
      }
    `,
  ];

  override render() {
    const template = this.template;
    return html`<details
      part="template"
      .open=${this.open}
      @toggle=${(event: Event) => (this.open = (event.target as HTMLDetailsElement).open)}
    >
      <summary>What the model receives</summary>
      <p class="caption">
        The model gets only this text, its chat template around each turn, and writes its reply by continuing it one
        token at a time. The <mark>marked</mark> pieces are special tokens.
      </p>
      ${
        !this.model
          ? html`<p class="empty" part="template-note">Load a model to see the text it receives.</p>`
          : !template
            ? html`<p class="empty" part="template-note">Reading the template…</p>`
            : 'error' in template
              ? html`<p class="reason" part="template-note" role="status">Could not read the template: ${template.error}</p>`
              : html`<pre part="template-text">${markSpecialTokens(template.text)}</pre>`
      }
    </details>`;
  }
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

define('llm-chat-template', ChatTemplate);

declare global {
  interface HTMLElementTagNameMap {
    'llm-chat-template': ChatTemplate;
  }
}
