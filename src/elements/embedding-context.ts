/**
 * <llm-embedding-context>: one word's vector in other prompts, layer by layer. A
 * token starts from the same embedding wherever it stands; the cosine of its
 * residual vectors after each layer shows how far the context pulls them apart.
 * The first prompt is compared with the second, and with the third when it has
 * one. A word-piece model opens on the seed's examples (mole, tower, Harry): the
 * second prompt uses the word in the first prompt's sense, the third in another.
 *
 * Properties: those of every section (embedding-section.ts), and
 *   text       the playground's prompt: the first prompt, and the word (its last one) to start with
 *   blockSize  the model's context length: what the model reads of a prompt (the client's tokenize() applies it)
 * Parts: explanation, examples, example (each button), example-note, status, error, context-word, context-first,
 *   context-second, context-third, context-first-position, context-second-position, context-third-position,
 *   compare-button, context-chart, context-table, context-summary.
 */
import { css, html, nothing, svg, type PropertyValues } from 'lit';
import { type ContextualSimilarity, messageOf, type Tokenization, type Uses } from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { buttons, inputs, visuallyHidden } from '../theme.ts';
import { describeToken, tokenTextAt, visibleToken } from '../visible-token.ts';
import { EmbeddingSection, formatNumber } from './embedding-section.ts';
import { SENSE_EXAMPLES, type SenseExample } from '../panel-examples.ts';
import { define } from '../define.ts';

export type ContextClient = Uses<'inspector', 'contextualSimilarity'> & Uses<'model', 'tokenize'>;

/** Characters of a prompt shown before and after the chosen token in a position option. */
const CONTEXT_BEFORE = 10;
const CONTEXT_AFTER = 4;

/** Where the model has read all of the last occurrence of `word` (any case): the token holding its last character. */
function lastOccurrence(pieces: readonly string[], word: string): number | null {
  if (!word) return null;
  // A case-blind match found in the text itself, so its offsets are the pieces' (lowercasing can change a length).
  const last = [...pieces.join('').matchAll(new RegExp(word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu'))].at(-1);
  if (!last) return null;
  const lastChar = last.index + last[0].length - 1;
  let end = 0;
  for (let i = 0; i < pieces.length; i++) {
    end += pieces[i]!.length;
    if (lastChar < end) return i;
  }
  return null;
}

/** The last run of letters or digits in a prompt: the word the section starts with. */
const lastWord = (text: string): string => text.match(/[\p{L}\p{N}]+/gu)?.at(-1) ?? '';

const WHICH = ['first', 'second', 'third'] as const;
type Which = (typeof WHICH)[number];

/** One of the prompts: its tokens once read (null before), and the position chosen in them (null: nothing to choose). */
interface ContextPrompt {
  text: string;
  tokens: Tokenization | null;
  position: number | null;
}

const NO_PROMPT: ContextPrompt = { text: '', tokens: null, position: null };

/** What was compared: the first prompt with the second, and with the third when it had a position. */
type Comparisons = ContextualSimilarity[];

export class ContextSection extends EmbeddingSection<Comparisons, ContextClient> {
  static override properties = {
    text: { type: String },
    blockSize: { type: Number, attribute: 'block-size' },
    ...states('word', 'first', 'second', 'third', 'example'),
  };

  declare text: string;
  declare blockSize: number;
  declare private word: string;
  declare private first: ContextPrompt;
  declare private second: ContextPrompt;
  declare private third: ContextPrompt;
  /** The example whose prompts are shown, until one is edited. */
  declare private example: SenseExample | null;
  /** Each prompt's tokens are read from the client: the newest reading of each wins. */
  private readonly reading = {
    first: new Newest<Tokenization>(this),
    second: new Newest<Tokenization>(this),
    third: new Newest<Tokenization>(this),
  };

  constructor() {
    super();
    this.text = '';
    this.blockSize = 0;
    this.word = '';
    this.first = NO_PROMPT;
    this.second = NO_PROMPT;
    this.third = NO_PROMPT;
    this.example = null;
  }

  /** The examples this vocabulary can spell the word of in one token. */
  private get examples(): SenseExample[] {
    return SENSE_EXAMPLES.filter(({ token }) => this.vocabulary.includes(token));
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const newModel = changed.has('client') || changed.has('vocabulary');
    if (changed.has('text') || (newModel && !this.first.text)) this.followPrompt();
    else if (newModel || changed.has('blockSize')) for (const which of WHICH) this.setPrompt(which, this[which].text);
    super.willUpdate(changed);
  }

  /**
   * The first prompt is the playground's, the word its last one unless the chosen word is still in it. With no
   * prompt there, a word-piece model opens on the first example.
   */
  private followPrompt(): void {
    const [example] = this.examples;
    if (!this.text && example) return this.showExample(example);
    if (!this.word || !this.text.toLowerCase().includes(this.word.toLowerCase())) this.word = lastWord(this.text);
    this.example = null;
    this.setPrompt('first', this.text);
    this.setPrompt('second', this.second.text || this.word);
  }

  private showExample(example: SenseExample): void {
    this.example = example;
    this.word = example.word;
    WHICH.forEach((which, i) => this.setPrompt(which, example.prompts[i]!));
    this.askWhenReady();
  }

  /** A prompt's text; its tokens are read, then its position placed at the word. */
  private setPrompt(which: Which, text: string): void {
    this[which] = { text, tokens: null, position: null };
    const client = this.client;
    if (!client || !text) {
      this.reading[which].drop();
      return;
    }
    void this.reading[which].ask(
      () => client.model.tokenize(text),
      (answer) => {
        if (answer.error !== undefined) this.error = `Could not read the prompt's tokens: ${messageOf(answer.error)}`;
        else this[which] = this.placed({ text, tokens: answer.value, position: null });
      },
    );
  }

  /** A prompt with its position at the word's last occurrence, else at its last token. */
  private placed(prompt: ContextPrompt): ContextPrompt {
    const pieces = prompt.tokens?.pieces ?? [];
    return { ...prompt, position: pieces.length === 0 ? null : (lastOccurrence(pieces, this.word) ?? pieces.length - 1) };
  }

  /** Every prompt's tokens are read (so an example's third prompt is not left out), and the first two have a position. */
  private get ready(): boolean {
    const reading = WHICH.some((which) => this[which].text && !this[which].tokens);
    return !reading && this.first.position !== null && this.second.position !== null;
  }

  protected override request(client: ContextClient) {
    const { first } = this;
    const others = [this.second, this.third].filter((prompt) => prompt.position !== null);
    if (!this.ready) return null;
    const at = ({ text, position }: ContextPrompt) => ({ text, position: position! });
    return () => Promise.all(others.map((other) => client.inspector.contextualSimilarity(at(first), at(other))));
  }

  override render() {
    const examples = this.examples;
    return html`
      <p class="caption" part="explanation">
        A token always starts from the same embedding (plus its position's). Each layer then adds what attention gathered
        from the tokens before it, so the vector at a word comes to hold its context too. Put one word in prompts where it
        means the same or something different and see how far apart the vectors drift, layer by layer.
      </p>
      ${
        examples.length > 0
          ? html`<div class="examples" part="examples" role="group" aria-label="Examples">
              ${examples.map(
                (example) => html`<button
                  type="button"
                  part="example"
                  aria-pressed=${String(this.example === example)}
                  @click=${() => this.showExample(example)}
                >
                  ${example.word}
                </button>`,
              )}
            </div>`
          : nothing
      }
      ${
        this.example
          ? html`<p class="caption" part="example-note">
              "${this.example.word}" means ${this.example.senses[0]} in the first and second prompts, ${this.example.senses[1]}
              in the third.
            </p>`
          : nothing
      }
      <form @submit=${this.onCompare}>
        <div class="pickers">
          <label>
            Word
            <input type="text" part="context-word" .value=${this.word} @input=${this.onWord} />
          </label>
          <button type="submit" class="primary" part="compare-button" ?disabled=${!this.ready}>Compare</button>
        </div>
        <div class="prompts">
          ${this.renderPrompt('first', 'First prompt')} ${this.renderPrompt('second', 'Second prompt')}
          ${this.renderPrompt('third', 'Third prompt (optional)')}
        </div>
      </form>
      ${this.renderAnswer((comparisons) => this.renderChart(comparisons))}
    `;
  }

  private renderPrompt(which: Which, title: string) {
    const prompt = this[which];
    const tokens = prompt.tokens;
    const shown = tokens ? tokens.ids.map((_, i) => visibleToken(tokenTextAt(tokens, i))) : [];
    const before = (i: number) => shown.slice(0, i).join('').slice(-CONTEXT_BEFORE);
    const after = (i: number) =>
      shown
        .slice(i + 1)
        .join('')
        .slice(0, CONTEXT_AFTER);
    return html`<div>
      <label>
        ${title}
        <textarea part="context-${which}" .value=${prompt.text} @input=${(event: Event) => this.onPromptText(which, event)}></textarea>
      </label>
      <label>
        Position (the token ending the word)
        <select
          part="context-${which}-position"
          ?disabled=${shown.length === 0}
          @change=${(event: Event) => (this[which] = { ...prompt, position: Number((event.target as HTMLSelectElement).value) })}
        >
          ${shown.map(
            (token, i) =>
              html`<option value=${i} ?selected=${i === prompt.position}>${i}: ${before(i)}[${token}]${after(i)}</option>`,
          )}
        </select>
      </label>
    </div>`;
  }

  private onWord(event: Event): void {
    this.word = (event.target as HTMLInputElement).value;
    for (const which of WHICH) this[which] = this.placed(this[which]);
  }

  private onPromptText(which: Which, event: Event): void {
    this.example = null;
    this.setPrompt(which, (event.target as HTMLTextAreaElement).value);
  }

  private onCompare(event: Event): void {
    event.preventDefault();
    void this.load();
  }

  private renderChart(comparisons: Comparisons) {
    const stage = (layer: number) => (layer === 0 ? 'embeddings' : `after layer ${layer}`);
    // An example's pairs are named by sense (the note above says which is which) until a prompt is edited.
    const names = this.example ? ['same sense', 'other sense'] : ['first & second', 'first & third'];
    const stages = comparisons[0]?.cosines.length ?? 0;
    const width = 360;
    const height = 180;
    const margin = { left: 36, right: 8, top: 10, bottom: 34 };
    const low = Math.min(0, ...comparisons.flatMap(({ cosines }) => cosines));
    const y = (value: number) => margin.top + ((1 - value) / (1 - low || 1)) * (height - margin.top - margin.bottom);
    const slot = (width - margin.left - margin.right) / Math.max(1, stages);
    const barWidth = (slot * 0.6) / comparisons.length;
    const lasts = comparisons.map(({ cosines }) => cosines.at(-1) ?? NaN);
    return html`
      <div part="context-summary">
        ${comparisons.map((comparison, i) => this.renderSummary(comparisons.length === 2 ? names[i]! : '', comparison))}
        ${
          comparisons.length === 2
            ? html`<p>
                After layer ${stages - 1} the first prompt's vector is closer to the
                ${lasts[0]! >= lasts[1]! ? 'second' : 'third'} prompt's (${formatNumber(lasts[0]!, 4)} against
                ${formatNumber(lasts[1]!, 4)}).
              </p>`
            : nothing
        }
      </div>
      <svg class="context-chart" part="context-chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="Cosine per layer; the table lists the values.">
        <line class="axis" x1=${margin.left} x2=${width - margin.right} y1=${y(0)} y2=${y(0)}></line>
        <line class="axis" x1=${margin.left} x2=${margin.left} y1=${y(1)} y2=${y(low)}></line>
        <text class="caption-text" x=${margin.left - 4} y=${y(1) + 4} text-anchor="end">1</text>
        <text class="caption-text" x=${margin.left - 4} y=${y(0) + 4} text-anchor="end">0</text>
        ${low < 0 ? svg`<text class="caption-text" x=${margin.left - 4} y=${y(low) + 4} text-anchor="end">${formatNumber(low, 1)}</text>` : nothing}
        ${comparisons.map(({ cosines }, series) =>
          cosines.map((cosine, layer) => {
            const x = margin.left + layer * slot + slot * 0.2 + series * barWidth;
            return svg`<rect class="bar series-${series} ${cosine < 0 ? 'negative' : ''}" x=${x.toFixed(2)} width=${barWidth.toFixed(2)}
              y=${Math.min(y(cosine), y(0)).toFixed(2)} height=${Math.abs(y(cosine) - y(0)).toFixed(2)}></rect>`;
          }),
        )}
        ${Array.from(
          { length: stages },
          (_, layer) =>
            svg`<text class="caption-text" x=${(margin.left + layer * slot + slot * 0.5).toFixed(2)} y=${height - margin.bottom + 16}
              text-anchor="middle">${layer === 0 ? 'emb' : layer}</text>`,
        )}
        <text class="caption-text" x=${margin.left + (width - margin.left - margin.right) / 2} y=${height - 4} text-anchor="middle">layer</text>
      </svg>
      ${
        comparisons.length === 2
          ? html`<p class="legend" aria-hidden="true">
              <span class="swatch series-0"></span> ${names[0]} <span class="swatch series-1"></span> ${names[1]}
            </p>`
          : nothing
      }
      <table class="visually-hidden" part="context-table">
        <caption>
          Cosine of the vectors at each stage
        </caption>
        ${
          comparisons.length === 2
            ? html`<thead>
                <tr><td></td>${names.map((name) => html`<th scope="col">${name}</th>`)}</tr>
              </thead>`
            : nothing
        }
        <tbody>
          ${Array.from(
            { length: stages },
            (_, layer) =>
              html`<tr><th scope="row">${stage(layer)}</th>${comparisons.map(({ cosines }) => html`<td>${formatNumber(cosines[layer]!, 4)}</td>`)}</tr>`,
          )}
        </tbody>
      </table>
    `;
  }

  /** One comparison in words (named when there are two): the two tokens, their cosine before and after the layers, and which way it went. */
  private renderSummary(name: string, { tokens, cosines }: ContextualSimilarity) {
    const first = cosines[0] ?? NaN;
    const last = cosines.at(-1) ?? NaN;
    const drift =
      last < first - 0.05
        ? 'The layers pull the two apart.'
        : last > first + 0.05
          ? 'The layers bring the two closer.'
          : 'The layers leave them about as alike as they started.';
    return html`<p>
      ${name ? html`<strong>${name}:</strong>` : nothing} ${describeToken(tokens[0])} and
      ${describeToken(tokens[1])}: cosine ${formatNumber(first, 4)} in the embeddings, ${formatNumber(last, 4)} after layer
      ${cosines.length - 1}. ${drift}
    </p>`;
  }

  static override styles = [
    EmbeddingSection.styles,
    buttons,
    inputs,
    visuallyHidden,
    css`
      .pickers {
        align-items: end;
      }
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
      svg .bar,
      .swatch.series-0 {
        fill: var(--_accent);
        background: var(--_accent);
      }
      svg .bar.series-1,
      .swatch.series-1 {
        fill: var(--_muted);
        background: var(--_muted);
      }
      svg .bar.negative {
        fill: var(--_warning);
      }
      .examples {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin: 0.5rem 0;
      }
      .examples button {
        padding: 0.25rem 0.75rem;
      }
      .legend {
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .swatch {
        display: inline-block;
        width: 0.8rem;
        height: 0.8rem;
        vertical-align: middle;
      }
    `,
  ];
}

define('llm-embedding-context', ContextSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-context': ContextSection;
  }
}
