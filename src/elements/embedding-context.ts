/**
 * <llm-embedding-context>: one word's vector in two prompts, layer by layer. A
 * token starts from the same embedding wherever it stands; the cosine of its two
 * residual vectors after each layer shows how far the context pulls them apart.
 *
 * Properties: those of every section (embedding-section.ts), and
 *   text       the playground's prompt: the first prompt, and the word (its last one) to start with
 *   blockSize  the model's context length: a prompt's positions are its last blockSize characters; 0 counts every character
 * Parts: explanation, status, error, context-word, context-first, context-second, context-first-position,
 *   context-second-position, compare-button, context-chart, context-table, context-summary.
 */
import { css, html, nothing, svg, type PropertyValues } from 'lit';
import type { ContextualSimilarity, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { buttons, inputs, visuallyHidden } from '../theme.ts';
import { describeToken, visibleToken } from '../visible-token.ts';
import { EmbeddingSection, formatNumber } from './embedding-section.ts';

export type ContextClient = Uses<'inspector', 'contextualSimilarity'>;

/** Characters of a prompt shown before and after the chosen one in a position option. */
const CONTEXT_BEFORE = 10;
const CONTEXT_AFTER = 4;

/** The characters the model reads of a prompt: its last blockSize (all with 0). */
function positionsOf(text: string, blockSize: number): string[] {
  const chars = [...text];
  return blockSize > 0 ? chars.slice(-blockSize) : chars;
}

/** Position of the last character of the last occurrence of `word` (where the model has read all of it), or null. */
function lastOccurrence(chars: readonly string[], word: string): number | null {
  const wanted = [...word];
  if (wanted.length === 0) return null;
  for (let start = chars.length - wanted.length; start >= 0; start--) {
    if (wanted.every((char, i) => chars[start + i] === char)) return start + wanted.length - 1;
  }
  return null;
}

/** The last run of letters or digits in a prompt: the word the section starts with. */
const lastWord = (text: string): string => text.match(/[\p{L}\p{N}]+/gu)?.at(-1) ?? '';

/** One of the two prompts, and the position chosen in it (null: nothing to choose). */
interface ContextPrompt {
  text: string;
  position: number | null;
}

type Which = 'first' | 'second';

export class ContextSection extends EmbeddingSection<ContextualSimilarity, ContextClient> {
  static override properties = {
    text: { type: String },
    blockSize: { type: Number, attribute: 'block-size' },
    ...states('word', 'first', 'second'),
  };

  declare text: string;
  declare blockSize: number;
  declare private word: string;
  declare private first: ContextPrompt;
  declare private second: ContextPrompt;

  constructor() {
    super();
    this.text = '';
    this.blockSize = 0;
    this.word = '';
    this.first = { text: '', position: null };
    this.second = { text: '', position: null };
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('text') || changed.has('blockSize')) this.followPrompt();
    super.willUpdate(changed);
  }

  /** The first prompt is the playground's; the word is its last one unless the chosen word is still in it. */
  private followPrompt(): void {
    if (!this.word || lastOccurrence(positionsOf(this.text, this.blockSize), this.word) === null) this.word = lastWord(this.text);
    this.first = this.placed(this.text);
    this.second = this.placed(this.second.text || this.word);
  }

  /** A prompt with its position at the word's last occurrence, else at its last character. */
  private placed(text: string): ContextPrompt {
    const chars = positionsOf(text, this.blockSize);
    return { text, position: chars.length === 0 ? null : (lastOccurrence(chars, this.word) ?? chars.length - 1) };
  }

  protected override request(client: ContextClient) {
    const { first, second } = this;
    if (first.position === null || second.position === null) return null;
    return () =>
      client.inspector.contextualSimilarity(
        { text: first.text, position: first.position! },
        { text: second.text, position: second.position! },
      );
  }

  override render() {
    return html`
      <p class="caption" part="explanation">
        A token always starts from the same embedding (plus its position's). Each layer then adds what attention gathered
        from the tokens before it, so the vector at a word comes to hold its context too. Put one word in two prompts where
        it means something different and see how far apart the two vectors drift, layer by layer.
      </p>
      <form @submit=${this.onCompare}>
        <div class="pickers">
          <label>
            Word
            <input type="text" part="context-word" .value=${this.word} @input=${this.onWord} />
          </label>
          <button type="submit" class="primary" part="compare-button" ?disabled=${this.first.position === null || this.second.position === null}>
            Compare
          </button>
        </div>
        <div class="prompts">${this.renderPrompt('first', 'First prompt')} ${this.renderPrompt('second', 'Second prompt')}</div>
      </form>
      ${this.renderAnswer((similarity) => this.renderChart(similarity))}
    `;
  }

  private renderPrompt(which: Which, title: string) {
    const prompt = this[which];
    const chars = positionsOf(prompt.text, this.blockSize);
    const shown = (start: number, end: number) => chars.slice(Math.max(0, start), end).map(visibleToken).join('');
    return html`<div>
      <label>
        ${title}
        <textarea part="context-${which}" .value=${prompt.text} @input=${(event: Event) => this.onPromptText(which, event)}></textarea>
      </label>
      <label>
        Position (the word's last character)
        <select
          part="context-${which}-position"
          ?disabled=${chars.length === 0}
          @change=${(event: Event) => (this[which] = { ...prompt, position: Number((event.target as HTMLSelectElement).value) })}
        >
          ${chars.map(
            (char, i) => html`<option value=${i} ?selected=${i === prompt.position}>
              ${i}: ${shown(i - CONTEXT_BEFORE, i)}[${visibleToken(char)}]${shown(i + 1, i + 1 + CONTEXT_AFTER)}
            </option>`,
          )}
        </select>
      </label>
    </div>`;
  }

  private onWord(event: Event): void {
    this.word = (event.target as HTMLInputElement).value;
    this.first = this.placed(this.first.text);
    this.second = this.placed(this.second.text);
  }

  private onPromptText(which: Which, event: Event): void {
    this[which] = this.placed((event.target as HTMLTextAreaElement).value);
  }

  private onCompare(event: Event): void {
    event.preventDefault();
    void this.load();
  }

  private renderChart({ tokens, cosines }: ContextualSimilarity) {
    const stage = (layer: number) => (layer === 0 ? 'embeddings' : `after layer ${layer}`);
    const width = 360;
    const height = 180;
    const margin = { left: 36, right: 8, top: 10, bottom: 34 };
    const low = Math.min(0, ...cosines);
    const y = (value: number) => margin.top + ((1 - value) / (1 - low || 1)) * (height - margin.top - margin.bottom);
    const slot = (width - margin.left - margin.right) / Math.max(1, cosines.length);
    const first = cosines[0] ?? NaN;
    const last = cosines.at(-1) ?? NaN;
    const layers = cosines.length - 1;
    const drift =
      last < first - 0.05
        ? 'The layers pull the two apart: the model reads the word differently in the two contexts.'
        : last > first + 0.05
          ? 'The layers bring the two closer: the model reads the word much the same in both contexts.'
          : 'The layers leave them about as alike as they started: here the context changes little.';
    return html`
      <p part="context-summary">
        ${describeToken(tokens[0])} and ${describeToken(tokens[1])}: cosine ${formatNumber(first, 4)} in the embeddings,
        ${formatNumber(last, 4)} after layer ${layers}. ${drift}
      </p>
      <svg class="context-chart" part="context-chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Cosine per layer; the table lists the values.">
        <line class="axis" x1=${margin.left} x2=${width - margin.right} y1=${y(0)} y2=${y(0)}></line>
        <line class="axis" x1=${margin.left} x2=${margin.left} y1=${y(1)} y2=${y(low)}></line>
        <text class="caption-text" x=${margin.left - 4} y=${y(1) + 4} text-anchor="end">1</text>
        <text class="caption-text" x=${margin.left - 4} y=${y(0) + 4} text-anchor="end">0</text>
        ${low < 0 ? svg`<text class="caption-text" x=${margin.left - 4} y=${y(low) + 4} text-anchor="end">${formatNumber(low, 1)}</text>` : nothing}
        ${cosines.map((cosine, layer) => {
          const x = margin.left + layer * slot + slot * 0.2;
          return svg`<rect class=${cosine < 0 ? 'bar negative' : 'bar'} x=${x.toFixed(2)} width=${(slot * 0.6).toFixed(2)}
              y=${Math.min(y(cosine), y(0)).toFixed(2)} height=${Math.abs(y(cosine) - y(0)).toFixed(2)}></rect>
            <text class="caption-text" x=${(x + slot * 0.3).toFixed(2)} y=${height - margin.bottom + 16} text-anchor="middle">${layer === 0 ? 'emb' : layer}</text>`;
        })}
        <text class="caption-text" x=${margin.left + (width - margin.left - margin.right) / 2} y=${height - 4} text-anchor="middle">layer</text>
      </svg>
      <table class="visually-hidden" part="context-table">
        <caption>
          Cosine of the two vectors at each stage
        </caption>
        <tbody>
          ${cosines.map((cosine, layer) => html`<tr><th scope="row">${stage(layer)}</th><td>${formatNumber(cosine, 4)}</td></tr>`)}
        </tbody>
      </table>
    `;
  }

  static override styles = [
    EmbeddingSection.styles,
    buttons,
    inputs,
    visuallyHidden,
    css`
      textarea {
        min-height: 3.5rem;
        resize: vertical;
      }
      input[type='text'] {
        font: inherit;
        font-family: var(--_mono);
        padding: 0.3rem 0.45rem;
        color: var(--_foreground);
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
      }
      .prompts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr));
        gap: 0.75rem;
        margin: 0.5rem 0;
      }
      .context-chart {
        display: block;
        width: 100%;
        max-width: 36rem;
        height: auto;
      }
      svg {
        font-family: var(--_mono);
        font-size: 12px;
      }
      svg .axis {
        fill: none;
        stroke: var(--_muted);
      }
      svg .caption-text {
        fill: var(--_muted);
        font-family: var(--_font);
      }
      svg .bar {
        fill: var(--_accent);
      }
      svg .bar.negative {
        fill: var(--_warning);
      }
    `,
  ];
}

customElements.define('llm-embedding-context', ContextSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-context': ContextSection;
  }
}
