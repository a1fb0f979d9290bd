/**
 * <llm-prompt-tokens>: the prompt as the model reads it, one chip per token
 * with its id underneath: a character, or a word piece with its leading space
 * as a dimmed mark. Characters the vocabulary lacks are marked, and so is text
 * cut off in front because it no longer fits in the context.
 *
 * Parts: chips (the list), chip, chip-text, chip-id, notice.
 */
import { css, html, LitElement, nothing } from 'lit';
import { theme } from '../theme.ts';
import { describeToken, isUnknownAt, showToken, tokenTextAt } from '../visible-token.ts';
import { type Tokenization, UNKNOWN_ID } from '../../workers/api/index.ts';
import { define } from '../define.ts';

export class PromptTokens extends LitElement {
  static override properties = {
    tokenization: { attribute: false },
    emptyNote: { attribute: 'empty-note' },
  };

  declare tokenization: Tokenization | null;
  /** Shown in place of chips when the prompt is empty. */
  declare emptyNote: string;

  constructor() {
    super();
    this.tokenization = null;
    this.emptyNote = 'No tokens yet.';
  }

  static override styles = [
    theme,
    css`
      ol {
        display: flex;
        flex-wrap: wrap;
        gap: 4px;
        list-style: none;
        margin: 0;
        padding: 0;
        max-height: 14rem;
        overflow-y: auto;
      }
      li {
        display: flex;
        flex-direction: column;
        align-items: center;
        min-width: 1.75rem;
        padding: 2px 4px;
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
        background: var(--_background);
        font-family: var(--_mono);
      }
      .text {
        font-size: 1rem;
        line-height: 1.4;
        white-space: pre;
      }
      .id {
        font-size: 0.7rem;
        color: var(--_muted);
      }
      li.unknown {
        border-color: var(--_warning);
        border-style: dashed;
      }
      li.unknown .text {
        text-decoration: line-through;
        color: var(--_warning);
      }
      .notice {
        color: var(--_warning);
        font-size: 0.875rem;
        margin: 0 0 0.5rem;
      }
    `,
  ];

  override render() {
    const tokenization = this.tokenization;
    if (!tokenization || tokenization.ids.length === 0) {
      return html`<p class="empty">${this.emptyNote}</p>`;
    }
    const { ids, unknown, dropped } = tokenization;
    return html`
      ${
        dropped > 0
          ? html`<p class="notice" part="notice">
            ${dropped} earlier ${dropped === 1 ? 'token is' : 'tokens are'} beyond the model's context of
            ${ids.length} tokens and ${dropped === 1 ? 'is' : 'are'} not read.
          </p>`
          : nothing
      }
      <ol part="chips" aria-label="Prompt tokens">
        ${ids.map((id, i) => {
          const piece = tokenTextAt(tokenization, i);
          const isUnknown = isUnknownAt(tokenization, i);
          const label = `${describeToken(piece)}${isUnknown ? ', not in the vocabulary,' : ''} id ${id}`;
          return html`<li part="chip" class=${isUnknown ? 'unknown' : ''} title=${label} aria-label=${label}>
            <span class="text" part="chip-text">${showToken(piece)}</span>
            <span class="id" part="chip-id">${id}</span>
          </li>`;
        })}
      </ol>
      ${
        unknown.length > 0
          ? html`<p class="notice" part="notice">
            Not in the vocabulary: ${unknown.map((char, i) => html`${i ? ' ' : ''}${showToken(char)}`)}. The model reads
            ${unknown.length === 1 ? 'it' : 'each'} as the unknown token (id ${UNKNOWN_ID}).
          </p>`
          : nothing
      }
    `;
  }
}

define('llm-prompt-tokens', PromptTokens);

declare global {
  interface HTMLElementTagNameMap {
    'llm-prompt-tokens': PromptTokens;
  }
}
