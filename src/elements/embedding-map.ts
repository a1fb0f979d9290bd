/**
 * <llm-embedding-map>: every token's embedding on a 2-D map (its first two
 * principal components), drawn on a canvas at the device's resolution, with
 * the token under the pointer (or stepped to with the arrow keys) read out,
 * and every token's coordinates in a visually hidden table. A small vocabulary
 * has every dot labelled; a word-piece one (about a thousand tokens) only the
 * seed's example words, so the labels stay readable. A map holds at most the
 * worker's limit of tokens (all of a small model's; 1,820 of GPT-2's 50,257,
 * whose full map would take the worker half a minute): a line says so, and the
 * words listed in the box below make a map of their own tokens.
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, scatter, scatter-readout, scatter-table, explained, map-note, map-words,
 *   map-button, map-missing.
 */
import { css, html, nothing, type PropertyValues } from 'lit';
import type { EmbeddingMap, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { buttons, visuallyHidden } from '../theme.ts';
import { describeToken, formatPercent, visibleToken } from '../visible-token.ts';
import { EmbeddingSection, formatNumber, tokenLabel } from './embedding-section.ts';
import { define } from '../define.ts';

/** Up to this many tokens, every dot is labelled. */
const LABEL_ALL_UP_TO = 160;
/** The words labelled on a bigger map, when the vocabulary has them: pairs that differ in gender or number. */
const LABELLED_WORDS = new Set(
  ['king', 'queen', 'man', 'woman', 'prince', 'princess', 'boy', 'girl', 'father', 'mother', 'he', 'she']
    .concat(['cat', 'cats', 'dog', 'dogs', 'tower', 'towers'])
    .map((word) => ` ${word}`),
);

export type MapClient = Uses<'inspector', 'embeddingMap'>;

/** The words the box starts with: pairs that differ in gender, as the arithmetic section uses. */
const START_WORDS = 'king, queen, man, woman, prince, princess, boy, girl, father, mother, he, she';

/**
 * The tokens `words` (separated by commas or line breaks) are in the vocabulary: each as a word token
 * (with its leading space) when there is one, else as written. Words that are no single token are `missing`.
 */
export function tokensOfWords(vocabulary: readonly string[], words: string): { ids: number[]; missing: string[] } {
  const ids: number[] = [];
  const missing: string[] = [];
  for (const word of words
    .split(/[,\n]/)
    .map((piece) => piece.trim())
    .filter(Boolean)) {
    const id = [` ${word}`, word].map((token) => vocabulary.indexOf(token)).find((found) => found >= 0);
    if (id === undefined) missing.push(word);
    else if (!ids.includes(id)) ids.push(id);
  }
  return { ids, missing };
}

/** Pixels around the scatter's points, and how near the pointer must come to one to pick it. */
const SCATTER_PADDING = 28;
const HOVER_RADIUS = 14;

export class MapSection extends EmbeddingSection<EmbeddingMap, MapClient> {
  static override properties = states('hovered', 'words', 'chosen', 'missing');

  /** The point under the pointer or keyboard focus (an index in the map's tokens). */
  declare private hovered: number | null;
  /** What is typed in the words box. */
  declare private words: string;
  /** The tokens of the words mapped, or null: the model's first tokens. */
  declare private chosen: number[] | null;
  /** Words of the last list that are no single token. */
  declare private missing: string[];

  /** The pointer position waiting for the next animation frame, so a burst of moves costs one search. */
  private pendingPointer: { x: number; y: number } | null = null;
  private readonly resizeObserver = new ResizeObserver(() => this.draw());
  private observedCanvas: HTMLCanvasElement | null = null;

  constructor() {
    super();
    this.hovered = null;
    this.words = START_WORDS;
    this.chosen = null;
    this.missing = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.observedCanvas) this.resizeObserver.observe(this.observedCanvas);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another tab, another model: no point stays picked.
    if (changed.has('active') || changed.has('client') || changed.has('vocabulary')) this.hovered = null;
    if (changed.has('vocabulary')) [this.chosen, this.missing] = [null, []];
    super.willUpdate(changed);
  }

  protected override request(client: MapClient) {
    const chosen = this.chosen;
    return () => (chosen ? client.inspector.embeddingMap(chosen) : client.inspector.embeddingMap());
  }

  /** Maps the tokens of the words typed (the model's first tokens when none is a token). */
  private mapWords(event: Event): void {
    event.preventDefault();
    const { ids, missing } = tokensOfWords(this.vocabulary, this.words);
    this.missing = missing;
    this.chosen = ids.length >= 2 ? ids : null;
    this.hovered = null;
    this.askWhenReady();
  }

  protected override updated(): void {
    const canvas = this.canvas();
    if (canvas !== this.observedCanvas) {
      if (this.observedCanvas) this.resizeObserver.unobserve(this.observedCanvas);
      if (canvas) this.resizeObserver.observe(canvas);
      this.observedCanvas = canvas;
    }
    this.draw();
  }

  private canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector<HTMLCanvasElement>('canvas[part~="scatter"]');
  }

  override render() {
    return html`
      <p class="caption" part="explanation">
        Every token's vector, flattened onto the two directions in which the embeddings differ most (principal component
        analysis). Tokens close together have similar vectors; whatever the other directions hold, this map leaves out.
      </p>
      ${this.renderAnswer((map) => html`${this.renderLimit(map)}${this.renderScatter(map)}`)}
      ${this.renderWords()}
    `;
  }

  /** What a map of a big vocabulary leaves out. */
  private renderLimit({ ids, limit }: EmbeddingMap) {
    const total = this.vocabulary.length;
    if (limit >= total) return nothing;
    const count = (n: number) => n.toLocaleString('en-US');
    const which = this.chosen
      ? `the ${count(ids.length)} tokens of your words`
      : `its first ${count(ids.length)} tokens (a word-piece vocabulary's single bytes and commonest pieces)`;
    return html`<p class="caption" part="map-note">
      This model has ${count(total)} tokens. A map's cost grows with each token and the square of the vector's length, so
      one map holds at most ${count(limit)}: this one shows ${which}. List words below to map those instead.
    </p>`;
  }

  private renderWords() {
    return html`<form class="words" @submit=${this.mapWords}>
      <label>
        Words to map, separated by commas (each must be one token)
        <textarea part="map-words" rows="2" .value=${this.words}
          @input=${(event: Event) => (this.words = (event.target as HTMLTextAreaElement).value)}></textarea>
      </label>
      <button part="map-button" type="submit">Map these words</button>
      ${
        this.missing.length > 0
          ? html`<p class="caption" part="map-missing">Not one token in this vocabulary, so left out: ${this.missing.join(', ')}.</p>`
          : nothing
      }
    </form>`;
  }

  /** What a big map labels, in words. */
  private labelNote(tokens: readonly string[]): string {
    const labelled = tokens.filter((token) => LABELLED_WORDS.has(token)).length;
    return labelled === 0
      ? `None of the ${tokens.length} dots is labelled.`
      : `Of the ${tokens.length} dots, only the ${labelled} words of pairs such as king and queen are labelled.`;
  }

  private renderScatter({ ids, tokens, points, explained }: EmbeddingMap) {
    const hovered = this.hovered;
    const coordinates = (id: number) => [formatNumber(points[2 * id]!, 3), formatNumber(points[2 * id + 1]!, 3)];
    return html`
      <p part="explained">
        Across: ${formatPercent(explained[0])} of the variance; up: ${formatPercent(explained[1])}. The rest lies in
        directions the map cannot show.
        ${tokens.length > LABEL_ALL_UP_TO ? this.labelNote(tokens) : ''}
      </p>
      <canvas
        part="scatter"
        tabindex="0"
        role="img"
        aria-label="Map of ${tokens.length} tokens; the table lists each one's coordinates. Arrow keys step through them."
        @pointermove=${this.onPointer}
        @pointerleave=${() => (this.hovered = null)}
        @keydown=${this.onKey}
      ></canvas>
      <p class="readout" part="scatter-readout" aria-live="polite">
        ${
          hovered === null
            ? html`<span class="empty">Point at a dot (or use the arrow keys) to see its token.</span>`
            : `${tokenLabel(tokens[hovered] ?? '')} · id ${ids[hovered] ?? hovered}: (${coordinates(hovered).join(', ')})`
        }
      </p>
      <table class="visually-hidden" part="scatter-table">
        <caption>
          Each token's position on the map
        </caption>
        <thead>
          <tr>
            ${['token', 'id', 'across', 'up'].map((heading) => html`<th scope="col">${heading}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${tokens.map(
            (token, i) => html`<tr>
              <th scope="row">${describeToken(token)}</th>
              <td>${ids[i] ?? i}</td>
              ${coordinates(i).map((value) => html`<td>${value}</td>`)}
            </tr>`,
          )}
        </tbody>
      </table>
    `;
  }

  /** Data coordinates to canvas pixels (CSS pixels), the same scale on both axes so distances stay true. */
  private layout(canvas: HTMLCanvasElement, points: Float32Array): ((i: number) => { x: number; y: number }) | null {
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0 || points.length === 0) return null;
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < points.length; i += 2) {
      minX = Math.min(minX, points[i]!);
      maxX = Math.max(maxX, points[i]!);
      minY = Math.min(minY, points[i + 1]!);
      maxY = Math.max(maxY, points[i + 1]!);
    }
    const scale = Math.min(
      (width - 2 * SCATTER_PADDING) / (maxX - minX || 1),
      (height - 2 * SCATTER_PADDING) / (maxY - minY || 1),
    );
    const centre = { x: (minX + maxX) / 2, y: (minY + maxY) / 2 };
    return (i) => ({
      x: width / 2 + (points[2 * i]! - centre.x) * scale,
      y: height / 2 - (points[2 * i + 1]! - centre.y) * scale,
    });
  }

  private draw(): void {
    const canvas = this.canvas();
    if (!canvas || !this.value) return;
    const { tokens, points } = this.value;
    const place = this.layout(canvas, points);
    if (!place) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * ratio);
    canvas.height = Math.round(canvas.clientHeight * ratio);
    const context = canvas.getContext('2d')!;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const style = getComputedStyle(this);
    const colour = (name: string) => style.getPropertyValue(name).trim();
    context.font = `11px ${colour('--_mono')}`;
    context.textBaseline = 'middle';
    const labelAll = tokens.length <= LABEL_ALL_UP_TO;
    for (let i = 0; i < tokens.length; i++) {
      const { x, y } = place(i);
      context.fillStyle = colour('--_accent');
      context.beginPath();
      context.arc(x, y, 2.5, 0, 2 * Math.PI);
      context.fill();
      if (!labelAll && !LABELLED_WORDS.has(tokens[i]!)) continue;
      context.fillStyle = colour('--_foreground');
      context.fillText(visibleToken(tokens[i]!), x + 4, y - 5);
    }
    if (this.hovered !== null && this.hovered < tokens.length) {
      const { x, y } = place(this.hovered);
      context.strokeStyle = colour('--_foreground');
      context.lineWidth = 2;
      context.beginPath();
      context.arc(x, y, 7, 0, 2 * Math.PI);
      context.stroke();
    }
  }

  private onPointer(event: PointerEvent): void {
    const bounds = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const waiting = this.pendingPointer !== null;
    this.pendingPointer = { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
    if (!waiting) requestAnimationFrame(() => this.hoverNearest());
  }

  /** The point nearest the pointer within HOVER_RADIUS, if any. */
  private hoverNearest(): void {
    const pointer = this.pendingPointer;
    this.pendingPointer = null;
    const canvas = this.canvas();
    if (!pointer || !canvas || !this.value) return;
    const place = this.layout(canvas, this.value.points);
    if (!place) return;
    let nearest: number | null = null;
    let best = HOVER_RADIUS ** 2;
    for (let i = 0; i < this.value.tokens.length; i++) {
      const { x, y } = place(i);
      const distance = (x - pointer.x) ** 2 + (y - pointer.y) ** 2;
      if (distance <= best) [nearest, best] = [i, distance];
    }
    this.hovered = nearest;
  }

  /** Arrow keys step through the tokens in id order. */
  private onKey(event: KeyboardEvent): void {
    const count = this.value?.tokens.length ?? 0;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step || count === 0) return;
    event.preventDefault();
    this.hovered = this.hovered === null ? (step > 0 ? 0 : count - 1) : (this.hovered + step + count) % count;
  }

  static override styles = [
    EmbeddingSection.styles,
    buttons,
    visuallyHidden,
    css`
      canvas {
        display: block;
        width: 100%;
        aspect-ratio: 4 / 3;
        max-height: 32rem;
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
        touch-action: none;
      }
      .words {
        display: flex;
        flex-wrap: wrap;
        align-items: flex-end;
        gap: 0.5rem;
        margin: 0.5rem 0;
      }
      .words label {
        flex: 1 1 20rem;
      }
      textarea {
        font: inherit;
        font-family: var(--_mono);
        font-size: 0.85rem;
        color: var(--_foreground);
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
      }
      .readout {
        font-family: var(--_mono);
        min-height: 1.4em;
        margin: 0.25rem 0;
      }
    `,
  ];
}

define('llm-embedding-map', MapSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-map': MapSection;
  }
}
