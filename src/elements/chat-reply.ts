/**
 * <llm-chat-reply>: one reply of the chat model, token by token. Every token is
 * a button; picking one (click, or Enter) shows the tokens the model weighed at
 * that point, with their probabilities as bars and the one it drew marked.
 * The tokens are one stop for Tab: the arrow keys, Home and End move between
 * them, Escape closes the alternatives.
 *
 * Properties: tokens (ChatToken[]; set anew, never mutated, as a reply streams in).
 * Parts: tokens (the row), token, selected-token, alternatives, alternatives-caption, alternative, chosen,
 *   alternative-label, alternative-fill, alternative-value, outside-top.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { ChatToken } from '../../workers/api/index.ts';
import { barRows, theme } from '../theme.ts';
import { describeToken, formatPercent, showText } from '../visible-token.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

/** How much of the text before a token the alternatives' caption quotes. */
const CONTEXT_CHARS = 40;

/**
 * A token inside running text: spaces stay spaces, line breaks and tabs get a symbol (the break itself follows),
 * hidden characters their code.
 */
const shownToken = (token: string) => showText(token.replace(/\n/g, '⏎').replace(/\t/g, '⇥'));

const lineBreaks = (token: string): number => token.split('\n').length - 1;

/** Its parts, as a chat that shows replies passes them on (exportparts). */
export const CHAT_REPLY_PARTS = [
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

export class ChatReplyView extends LitElement {
  static override properties = {
    tokens: { attribute: false },
    selected: { state: true },
    current: { state: true },
  };

  declare tokens: ChatToken[];
  /** The token whose alternatives are shown. */
  declare private selected: number | null;
  /** The token that takes Tab's focus (roving tabindex). */
  declare private current: number;

  /** Move focus to the current token once it is drawn. */
  private focusCurrent = false;

  constructor() {
    super();
    this.tokens = [];
    this.selected = null;
    this.current = 0;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('tokens')) return;
    const last = this.tokens.length - 1;
    if (this.selected !== null && this.selected > last) this.selected = null;
    this.current = Math.max(0, Math.min(this.current, last));
  }

  protected override updated(): void {
    if (!this.focusCurrent) return;
    this.focusCurrent = false;
    this.renderRoot.querySelectorAll<HTMLButtonElement>('[part~="token"]')[this.current]?.focus();
  }

  static override styles = [
    theme,
    barRows,
    css`
      .tokens {
        margin: 0;
        line-height: 1.7;
        white-space: pre-wrap;
        word-break: break-word;
      }
      .tokens button {
        font: inherit;
        white-space: pre;
        color: inherit;
        background: transparent;
        border: 0;
        border-radius: 3px;
        margin: 0;
        padding: 0 1px;
        cursor: pointer;
        box-shadow: inset 0 -1px 0 var(--_border);
      }
      .tokens button:hover {
        background: var(--_background);
      }
      .tokens button[aria-pressed='true'] {
        background: var(--_accent);
        color: var(--_on-accent);
      }
      .alternatives {
        margin: 0.5rem 0 0;
        padding: 0.55rem 0.7rem;
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
      }
      .alternatives p {
        margin: 0 0 0.4rem;
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .quote {
        font-family: var(--_mono);
        white-space: pre-wrap;
        color: var(--_foreground);
      }
      /* The bars of the alternatives sit on the reply's panel; the chosen one alone is in the accent colour. */
      .bar-rows {
        grid-template-columns: auto minmax(4rem, 1fr) auto;
      }
      .bar-rows .track {
        height: 1rem;
        background: var(--_surface);
      }
      .bar-rows .fill {
        background: var(--_muted);
      }
      .chosen .fill {
        background: var(--_accent);
      }
      .chosen .label {
        font-weight: 700;
        color: var(--_accent);
      }
      .value {
        font-family: var(--_mono);
        font-size: 0.85rem;
        text-align: right;
        min-width: 4.2rem;
      }
    `,
  ];

  override render() {
    const selected = this.selected;
    const picked = selected === null ? undefined : this.tokens[selected];
    return html`
      <p
        class="tokens"
        part="tokens"
        role="toolbar"
        aria-label="The reply's tokens: pick one to see what else the model weighed"
        @keydown=${this.onKey}
      >${this.tokens.map(
        (token, index) =>
          html`<button
              part="token ${index === this.selected ? 'selected-token' : ''}"
              tabindex=${index === this.current ? 0 : -1}
              aria-pressed=${String(index === this.selected)}
              aria-label="${describeToken(token.token)}, ${formatPercent(token.prob)}"
              title=${formatPercent(token.prob)}
              @click=${() => this.pick(index)}
            >${shownToken(token.token)}</button
            >${Array.from({ length: lineBreaks(token.token) }, () => html`<br />`)}`,
      )}</p>
      ${picked && selected !== null ? this.renderAlternatives(picked, selected) : nothing}
    `;
  }

  private renderAlternatives(picked: ChatToken, index: number) {
    const before = this.tokens
      .slice(0, index)
      .map((token) => token.token)
      .join('');
    const quote = before.length > CONTEXT_CHARS ? `…${before.slice(-CONTEXT_CHARS)}` : before;
    const listed = picked.alternatives.some((alternative) => alternative.token === picked.token);
    return html`<div class="alternatives" part="alternatives" role="group" aria-labelledby="alternatives-caption">
      <p id="alternatives-caption" part="alternatives-caption">
        ${quote ? html`After <span class="quote">${showText(quote)}</span> the` : 'At the start, the'} model weighed these tokens and drew
        <span class="quote">${shownToken(picked.token)}</span> (${formatPercent(picked.prob)}).
      </p>
      <ol class="bar-rows" aria-label="Alternatives, likeliest first">
        ${picked.alternatives.map((alternative) => {
          const chosen = alternative.token === picked.token;
          return html`<li
            part="alternative ${chosen ? 'chosen' : ''}"
            class=${chosen ? 'chosen' : ''}
            aria-current=${chosen ? 'true' : nothing}
            aria-label="${describeToken(alternative.token)}: ${formatPercent(alternative.prob)}${chosen ? ', drawn' : ''}"
            title="log probability ${alternative.logprob.toFixed(3)}"
          >
            <span class="label" part="alternative-label" aria-hidden="true">${shownToken(alternative.token)}${chosen ? ' ✓' : ''}</span>
            <span class="track" aria-hidden="true"
              ><span class="fill" part="alternative-fill" ${styleProperties({ width: `${(alternative.prob * 100).toFixed(2)}%` })}></span
            ></span>
            <span class="value" part="alternative-value" aria-hidden="true">${formatPercent(alternative.prob)}</span>
          </li>`;
        })}
      </ol>
      ${
        listed
          ? nothing
          : html`<p part="outside-top">The drawn token was not among the likeliest: sampling still gives unlikely tokens a chance.</p>`
      }
    </div>`;
  }

  /** Picking the shown token again closes its alternatives. */
  private pick(index: number): void {
    this.selected = this.selected === index ? null : index;
    this.current = index;
  }

  private onKey(event: KeyboardEvent): void {
    const last = this.tokens.length - 1;
    const moves: Record<string, number> = {
      ArrowRight: Math.min(last, this.current + 1),
      ArrowDown: Math.min(last, this.current + 1),
      ArrowLeft: Math.max(0, this.current - 1),
      ArrowUp: Math.max(0, this.current - 1),
      Home: 0,
      End: last,
    };
    if (event.key === 'Escape' && this.selected !== null) {
      event.preventDefault();
      this.selected = null;
      this.focusCurrent = true;
      return;
    }
    const next = moves[event.key];
    if (next === undefined || last < 0) return;
    event.preventDefault();
    this.current = next;
    // With alternatives open, they follow the focus.
    if (this.selected !== null) this.selected = next;
    this.focusCurrent = true;
    this.requestUpdate();
  }
}

define('llm-chat-reply', ChatReplyView);

declare global {
  interface HTMLElementTagNameMap {
    'llm-chat-reply': ChatReplyView;
  }
}
