/**
 * <llm-tokenizer-picker>: how the corpus is cut into tokens: one token per
 * character, or word pieces learned by BPE with a vocabulary size of the
 * user's choosing; and, while BPE learns and after, its merges.
 *
 * It shows `choice`, the tokenizer in use, and asks for another with an event;
 * the panel answers by setting `choice` (or `error`, and the choice stays).
 *
 * Properties: choice (TokenizerChoice), sizes (VocabularySizes | null: nothing shows until set), learning
 *   (TokenizerLearning | null), busy (learning), error (string), disabled.
 * Events (bubble, composed): llm-tokenizer-change (detail: TokenizerChoice).
 * Parts: tokenizer-kinds, vocab-size, tokenizer-error, and those of <llm-bpe-merges>.
 */
import { css, html, LitElement, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import type { TokenizerChoice, TokenizerLearning, VocabularySizes } from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { count } from '../format.ts';
import { states } from '../states.ts';
import { inputs, theme } from '../theme.ts';
import { showText } from '../visible-token.ts';
import './bpe-merges.ts';
import { define } from '../define.ts';

export class TokenizerPicker extends LitElement {
  static override properties = {
    choice: { attribute: false },
    sizes: { attribute: false },
    learning: { attribute: false },
    busy: { type: Boolean },
    error: { type: String },
    disabled: { type: Boolean },
    ...states('sizeProblem', 'asked'),
  };

  declare choice: TokenizerChoice;
  declare sizes: VocabularySizes | null;
  declare learning: TokenizerLearning | null;
  declare busy: boolean;
  declare error: string;
  declare disabled: boolean;
  /** Why the size typed cannot be used; cleared by the next size. */
  declare private sizeProblem: string;
  /** The choice asked for last: shown while the worker makes it. */
  declare private asked: TokenizerChoice | null;

  constructor() {
    super();
    this.choice = { type: 'char' };
    this.sizes = null;
    this.learning = null;
    this.busy = false;
    this.error = '';
    this.disabled = false;
    this.sizeProblem = '';
    this.asked = null;
  }

  static override styles = [
    theme,
    inputs,
    css`
      fieldset {
        border: 0;
        padding: 0;
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 1rem;
        align-items: center;
      }
      legend {
        font-weight: 600;
        margin-bottom: 0.3rem;
      }
      input[type='number'] {
        width: 6rem;
      }
      .error {
        margin: 0.5rem 0 0;
        color: var(--_error);
      }
    `,
  ];

  /** The choice shown: the one asked for while the worker makes it, else the one in use. */
  private get shown(): TokenizerChoice {
    return this.busy && this.asked ? this.asked : this.choice;
  }

  /** The vocabulary size shown: the one chosen, else the default. */
  private get size(): number {
    return this.shown.type === 'bpe' ? this.shown.vocabSize : (this.sizes?.default ?? 0);
  }

  override render() {
    if (!this.sizes) return nothing;
    const { min, max } = this.sizes;
    const bpe = this.shown.type === 'bpe';
    return html`
      <fieldset part="tokenizer-kinds" ?disabled=${this.disabled || this.busy}>
        <legend>Tokens: how the text is cut up</legend>
        <label>
          <input type="radio" name="tokenizer" value="char" .checked=${live(!bpe)} @change=${() => this.ask({ type: 'char' })} />
          Characters
        </label>
        <label>
          <input
            type="radio"
            name="tokenizer"
            value="bpe"
            .checked=${live(bpe)}
            @change=${() => this.askSize(this.size)}
          />
          Word pieces (BPE)
        </label>
        <label>
          Vocabulary size
          <input
            id="vocab-size"
            part="vocab-size"
            type="number"
            min=${min}
            max=${max}
            step="1"
            .value=${live(String(this.size))}
            @change=${(event: Event) => this.askSize(Number((event.target as HTMLInputElement).value))}
          />
        </label>
      </fieldset>
      <p class="caption">
        ${
          bpe
            ? html`Word pieces start from the text's bytes and merge the most frequent pair of tokens, again and again, until
              the vocabulary has ${count(this.size)} tokens, so frequent words can become single tokens, the space before them included.`
            : html`Every character is one token: the simplest start, with a small vocabulary. Word pieces (${count(min)} to
              ${count(max)} tokens) are learned from the text, which can take a few seconds, and make it fewer tokens.`
        }
      </p>
      ${this.renderError()}
      <llm-bpe-merges
        exportparts="vocabulary-progress, latest-merge, shrink, shrink-bar, merges"
        .learning=${bpe || this.busy ? this.learning : null}
      ></llm-bpe-merges>
    `;
  }

  private renderError() {
    const error = this.sizeProblem || this.error;
    return error ? html`<p class="error" part="tokenizer-error" role="alert">${showText(error)}</p>` : nothing;
  }

  /** Word pieces of `size` tokens, when the size is one the worker takes. */
  private askSize(size: number): void {
    const { min, max } = this.sizes!;
    if (!Number.isInteger(size) || size < min || size > max) {
      this.sizeProblem = `The vocabulary size must be a whole number from ${count(min)} to ${count(max)}.`;
      // The field shows the size in use again.
      this.requestUpdate();
      return;
    }
    this.ask({ type: 'bpe', vocabSize: size });
  }

  private ask(choice: TokenizerChoice): void {
    this.sizeProblem = '';
    this.asked = choice;
    emit(this, 'llm-tokenizer-change', choice);
  }
}

define('llm-tokenizer-picker', TokenizerPicker);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tokenizer-picker': TokenizerPicker;
  }
}
