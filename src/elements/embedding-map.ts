/**
 * <llm-embedding-map>: every token's embedding on a 2-D map (its first two
 * principal components), drawn on a canvas at the device's resolution, with
 * the token under the pointer (or stepped to with the arrow keys) read out,
 * and every token's coordinates in a visually hidden table. A small vocabulary
 * has every dot labelled; a word-piece one (about a thousand tokens) only the
 * seed's example words, so the labels stay readable.
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, scatter, scatter-readout, scatter-table, explained.
 */
import { css, html, type PropertyValues } from 'lit';
import type { EmbeddingMap, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { visuallyHidden } from '../theme.ts';
import { describeToken, formatPercent, visibleToken } from '../visible-token.ts';
import { EmbeddingSection, formatNumber, tokenLabel } from './embedding-section.ts';

/** Up to this many tokens, every dot is labelled. */
const LABEL_ALL_UP_TO = 160;
/** The words labelled on a bigger map, when the vocabulary has them: pairs that differ in gender or number. */
const LABELLED_WORDS = new Set(
  ['king', 'queen', 'man', 'woman', 'prince', 'princess', 'boy', 'girl', 'father', 'mother', 'he', 'she']
    .concat(['cat', 'cats', 'dog', 'dogs', 'tower', 'towers'])
    .map((word) => ` ${word}`),
);

export type MapClient = Uses<'inspector', 'embeddingMap'>;

/** Pixels around the scatter's points, and how near the pointer must come to one to pick it. */
const SCATTER_PADDING = 28;
const HOVER_RADIUS = 14;

export class MapSection extends EmbeddingSection<EmbeddingMap, MapClient> {
  static override properties = states('hovered');

  /** The point under the pointer or keyboard focus. */
  declare private hovered: number | null;

  /** The pointer position waiting for the next animation frame, so a burst of moves costs one search. */
  private pendingPointer: { x: number; y: number } | null = null;
  private readonly resizeObserver = new ResizeObserver(() => this.draw());
  private observedCanvas: HTMLCanvasElement | null = null;

  constructor() {
    super();
    this.hovered = null;
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
    super.willUpdate(changed);
  }

  protected override request(client: MapClient) {
    return () => client.inspector.embeddingMap();
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
      ${this.renderAnswer((map) => this.renderScatter(map))}
    `;
  }

  /** What a big map labels, in words. */
  private labelNote(tokens: readonly string[]): string {
    const labelled = tokens.filter((token) => LABELLED_WORDS.has(token)).length;
    return labelled === 0
      ? `None of the ${tokens.length} dots is labelled.`
      : `Of the ${tokens.length} dots, only the ${labelled} words of pairs such as king and queen are labelled.`;
  }

  private renderScatter({ tokens, points, explained }: EmbeddingMap) {
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
            : `${tokenLabel(tokens[hovered] ?? '')} · id ${hovered}: (${coordinates(hovered).join(', ')})`
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
            (token, id) => html`<tr>
              <th scope="row">${describeToken(token)}</th>
              <td>${id}</td>
              ${coordinates(id).map((value) => html`<td>${value}</td>`)}
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
      .readout {
        font-family: var(--_mono);
        min-height: 1.4em;
        margin: 0.25rem 0;
      }
    `,
  ];
}

customElements.define('llm-embedding-map', MapSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-map': MapSection;
  }
}
