/**
 * <llm-embedding-explorer>: what the model's embedding vectors say about its
 * tokens, in six sections (tabs): a token's nearest neighbours, vector
 * arithmetic a − b + c, the dot product and angle of two tokens, a 2-D map of
 * every token (PCA), the position embeddings' similarity matrix, and one word's
 * vector in two prompts, layer by layer. Every number comes from `client`.
 *
 * Properties:
 *   client      InspectorClient (EngineClient, set by <llm-playground>)
 *   vocabulary  string[]: the token strings in id order (ModelInfo.vocabulary). Set anew when the model
 *               changes (a new model, trained weights): the answers shown are asked for again; the tokens
 *               picked stay while the vocabulary has the same tokens.
 *   text        the playground's prompt: the first prompt of the "In context" section
 *   blockSize   the model's context length (attribute block-size): a prompt's positions are its last
 *               blockSize characters; 0 counts every character
 *   section     the open tab: neighbours | arithmetic | angle | map | positions | context (attribute, reflected)
 * Parts: tabs, tab, panel, explanation, status, error,
 *   token-picker, neighbours, neighbour, neighbour-token, neighbour-bar, neighbour-value,
 *   arithmetic-a, arithmetic-b, arithmetic-c, arithmetic-results,
 *   angle-a, angle-b, angle-values, angle-drawing,
 *   scatter, scatter-readout, scatter-table, explained,
 *   position-heatmap,
 *   context-word, context-first, context-second, context-first-position, context-second-position,
 *   compare-button, context-chart, context-table, context-summary.
 */
import { css, html, LitElement, nothing, svg, type PropertyValues, type TemplateResult } from 'lit';
import type {
  ContextualSimilarity,
  EmbeddingMap,
  InspectorClient,
  Neighbour,
  TokenAngle,
} from '../../workers/inspection.ts';
import { messageOf } from '../../workers/message-of.ts';
import { barRows, buttons, inputs, selects, theme } from '../theme.ts';
import { describeToken, formatPercent, visibleToken } from '../visible-token.ts';
import './heatmap.ts';
import { tabList, tabStyles } from './tabs.ts';

/** What each section shows once the client answers. */
interface Answers {
  neighbours: Neighbour[];
  arithmetic: Neighbour[];
  angle: TokenAngle;
  map: EmbeddingMap;
  positions: Float32Array;
  context: ContextualSimilarity;
}

export type EmbeddingSection = keyof Answers;

type Answer<T> = { busy: true; value?: T } | { busy: false; value: T } | { busy: false; error: string };

const SECTIONS: { id: EmbeddingSection; label: string }[] = [
  { id: 'neighbours', label: 'Neighbours' },
  { id: 'arithmetic', label: 'a − b + c' },
  { id: 'angle', label: 'Angle' },
  { id: 'map', label: 'Map' },
  { id: 'positions', label: 'Positions' },
  { id: 'context', label: 'In context' },
];

/** Results asked for in the neighbour and arithmetic lists. */
const RESULT_COUNT = 10;

/** Characters of a prompt shown before and after the chosen one in a position option. */
const CONTEXT_BEFORE = 10;
const CONTEXT_AFTER = 4;

/** Pixels around the scatter's points, and how near the pointer must come to one to pick it. */
const SCATTER_PADDING = 28;
const HOVER_RADIUS = 14;

/** A number with a real minus sign, as every figure in this element is shown. */
const formatNumber = (value: number, digits: number): string => value.toFixed(digits).replace('-', '−');

/** A token in a picker or list: its visible form, and in words what an invisible one is. */
function tokenLabel(token: string): string {
  const visible = visibleToken(token);
  return visible === token ? token : `${visible} ${describeToken(token)}`;
}

/** The first of `wanted` the vocabulary has, else `fallback` (kept inside it). */
function pick(vocabulary: readonly string[], wanted: readonly string[], fallback: number): number {
  const found = wanted.map((token) => vocabulary.indexOf(token)).find((id) => id >= 0);
  return found ?? Math.min(fallback, Math.max(0, vocabulary.length - 1));
}

/** The letters whose capital the vocabulary also has: the analogy 'K' − 'k' + 'a' ≈ 'A' needs two. */
function casePairs(vocabulary: readonly string[]): string[] {
  return vocabulary.filter((token) => /^\p{Ll}$/u.test(token) && token.toUpperCase() !== token && vocabulary.includes(token.toUpperCase()));
}

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

const sameTokens = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  a !== undefined && a.length === b.length && a.every((token, id) => token === b[id]);

/** The last run of letters or digits in a prompt: the word the "In context" section starts with. */
const lastWord = (text: string): string => text.match(/[\p{L}\p{N}]+/gu)?.at(-1) ?? '';

/** One prompt of the "In context" section, and the position chosen in it (null: nothing to choose). */
interface ContextPrompt {
  text: string;
  position: number | null;
}

export class EmbeddingExplorer extends LitElement {
  static override properties = {
    client: { attribute: false },
    vocabulary: { attribute: false },
    text: { type: String },
    blockSize: { type: Number, attribute: 'block-size' },
    section: { type: String, reflect: true },
    answers: { state: true },
    neighbourId: { state: true },
    arithmeticIds: { state: true },
    angleIds: { state: true },
    word: { state: true },
    first: { state: true },
    second: { state: true },
    hovered: { state: true },
  };

  declare client: InspectorClient | null;
  declare vocabulary: readonly string[];
  declare text: string;
  declare blockSize: number;
  declare section: EmbeddingSection;
  declare private answers: { [S in EmbeddingSection]?: Answer<Answers[S]> };
  declare private neighbourId: number;
  declare private arithmeticIds: [a: number, b: number, c: number];
  declare private angleIds: [a: number, b: number];
  declare private word: string;
  declare private first: ContextPrompt;
  declare private second: ContextPrompt;
  /** The scatter point under the pointer or keyboard focus. */
  declare private hovered: number | null;

  /** Number of each section's newest request; older answers (and those for another client) are dropped. */
  private latest: Record<EmbeddingSection, number> = { neighbours: 0, arithmetic: 0, angle: 0, map: 0, positions: 0, context: 0 };
  /** The pointer position waiting for the next animation frame, so a burst of moves costs one search. */
  private pendingPointer: { x: number; y: number } | null = null;
  private readonly resizeObserver = new ResizeObserver(() => this.drawScatter());
  private observedCanvas: HTMLCanvasElement | null = null;

  constructor() {
    super();
    this.client = null;
    this.vocabulary = [];
    this.text = '';
    this.blockSize = 0;
    this.section = 'neighbours';
    this.answers = {};
    this.neighbourId = 0;
    this.arithmeticIds = [0, 0, 0];
    this.angleIds = [0, 0];
    this.word = '';
    this.first = { text: '', position: null };
    this.second = { text: '', position: null };
    this.hovered = null;
  }

  static override styles = [
    theme,
    selects,
    barRows,
    buttons,
    inputs,
    tabStyles,
    css`
      .pickers {
        display: flex;
        flex-wrap: wrap;
        align-items: end;
        gap: 0.5rem 0.75rem;
        margin: 0.5rem 0;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 0.2rem;
        font-size: 0.85rem;
        color: var(--_muted);
      }
      select {
        font-family: var(--_mono);
        font-size: inherit;
        padding: 0.25rem 0.35rem;
        max-width: 100%;
      }
      .operator {
        font-family: var(--_mono);
        font-size: 1.2rem;
        padding-bottom: 0.3rem;
      }
      .bar-rows {
        margin: 0.5rem 0;
      }
      .label .id {
        color: var(--_muted);
        font-size: 0.7rem;
        margin-left: 0.35rem;
      }
      .negative .fill {
        background: var(--_warning);
      }
      .value {
        font-family: var(--_mono);
        font-size: 0.85rem;
        text-align: right;
        min-width: 4.5rem;
      }
      .angle {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 1rem;
      }
      .angle dl {
        display: grid;
        grid-template-columns: auto auto;
        gap: 0.2rem 0.75rem;
        margin: 0;
        font-family: var(--_mono);
      }
      .angle dt {
        font-family: var(--_font);
        color: var(--_muted);
      }
      .angle dd {
        margin: 0;
        text-align: right;
      }
      svg {
        font-family: var(--_mono);
        font-size: 12px;
      }
      svg .ray {
        stroke: var(--_accent);
        stroke-width: 2;
      }
      svg .arc,
      svg .axis {
        fill: none;
        stroke: var(--_muted);
      }
      svg text {
        fill: var(--_foreground);
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
      .status {
        color: var(--_muted);
        margin: 0.25rem 0;
        min-height: 1.2em;
      }
      .error {
        color: var(--_error);
        margin: 0.25rem 0;
      }
      .visually-hidden {
        position: absolute;
        width: 1px;
        height: 1px;
        margin: -1px;
        padding: 0;
        overflow: hidden;
        clip: rect(0 0 0 0);
        white-space: nowrap;
        border: 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.observedCanvas) this.resizeObserver.observe(this.observedCanvas);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.resizeObserver.disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const previous = changed.get('vocabulary') as readonly string[] | undefined;
    // The same tokens with new weights (training) keep the picks; another vocabulary starts over.
    if (changed.has('vocabulary') && !sameTokens(previous, this.vocabulary)) this.chooseTokens();
    if (changed.has('text') || changed.has('blockSize')) this.followPrompt();
    if (changed.has('client') || changed.has('vocabulary')) {
      // Another model (or the same one with new weights): nothing shown still holds.
      for (const section of SECTIONS) this.latest[section.id]++;
      this.answers = {};
      this.hovered = null;
    }
    // Asked here, not after rendering, so the busy line is in this very update.
    if (!this.answers[this.section]) void this.load(this.section);
  }

  protected override updated(): void {
    const canvas = this.renderRoot.querySelector<HTMLCanvasElement>('canvas');
    if (canvas !== this.observedCanvas) {
      if (this.observedCanvas) this.resizeObserver.unobserve(this.observedCanvas);
      if (canvas) this.resizeObserver.observe(canvas);
      this.observedCanvas = canvas;
    }
    this.drawScatter();
  }

  /** Starting tokens that show something: a vowel's neighbours, a case analogy, two vowels' angle. */
  private chooseTokens(): void {
    const vocabulary = this.vocabulary;
    this.neighbourId = pick(vocabulary, ['e', 'a', 'o'], 1);
    const [x, y] = casePairs(vocabulary);
    this.arithmeticIds =
      x && y
        ? [vocabulary.indexOf(x.toUpperCase()), vocabulary.indexOf(x), vocabulary.indexOf(y)]
        : [pick(vocabulary, [], 1), pick(vocabulary, [], 2), pick(vocabulary, [], 3)];
    this.angleIds = [pick(vocabulary, ['a'], 1), pick(vocabulary, ['e'], 2)];
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

  /** Asks the client for one section's numbers with what is picked now; shows them unless a newer request came. */
  private async load<S extends EmbeddingSection>(section: S): Promise<void> {
    const client = this.client;
    if (!client || this.vocabulary.length === 0) return;
    const ask = this.request(section, client);
    if (!ask) return;
    const request = ++this.latest[section];
    const previous = this.answers[section];
    this.setAnswer(section, { busy: true, ...(previous && 'value' in previous ? { value: previous.value } : {}) } as Answer<Answers[S]>);
    let answer: Answer<Answers[S]>;
    try {
      answer = { busy: false, value: (await ask()) as Answers[S] };
    } catch (error) {
      answer = { busy: false, error: messageOf(error) };
    }
    if (request === this.latest[section] && client === this.client) this.setAnswer(section, answer);
  }

  private setAnswer<S extends EmbeddingSection>(section: S, answer: Answer<Answers[S]>): void {
    this.answers = { ...this.answers, [section]: answer };
  }

  /** The client call for a section, or null when there is nothing to ask yet (a prompt without characters). */
  private request(section: EmbeddingSection, client: InspectorClient): (() => Promise<Answers[EmbeddingSection]>) | null {
    switch (section) {
      case 'neighbours':
        return () => client.nearestTokens(this.neighbourId, RESULT_COUNT);
      case 'arithmetic':
        return () => client.tokenArithmetic(...this.arithmeticIds, RESULT_COUNT);
      case 'angle':
        return () => client.tokenAngle(...this.angleIds);
      case 'map':
        return () => client.embeddingMap();
      case 'positions':
        return () => client.positionSimilarity();
      case 'context': {
        const { first, second } = this;
        if (first.position === null || second.position === null) return null;
        return () =>
          client.contextualSimilarity({ text: first.text, position: first.position! }, { text: second.text, position: second.position! });
      }
    }
  }

  override render() {
    return html`
      ${tabList(this, SECTIONS, this.section, 'Embeddings', (section) => this.open(section))}
      <div role="tabpanel" id="panel" part="panel" aria-labelledby="tab-${this.section}">
        ${this.vocabulary.length === 0 ? html`<p class="empty">Waiting for the model…</p>` : this.renderSection()}
      </div>
    `;
  }

  private open(section: EmbeddingSection): void {
    this.section = section;
    this.hovered = null;
  }

  private renderSection(): TemplateResult {
    switch (this.section) {
      case 'neighbours':
        return this.renderNeighbours();
      case 'arithmetic':
        return this.renderArithmetic();
      case 'angle':
        return this.renderAngle();
      case 'map':
        return this.renderMap();
      case 'positions':
        return this.renderPositions();
      case 'context':
        return this.renderContext();
    }
  }

  /** The busy line and the error of a section's answer, and its value once there is one. */
  private renderAnswer<S extends EmbeddingSection>(section: S, show: (value: Answers[S]) => unknown) {
    const answer = this.answers[section];
    return html`
      <p class="status" part="status" role="status">${answer?.busy ? 'Asking the model…' : ''}</p>
      ${answer && 'error' in answer ? html`<p class="error" part="error" role="alert">${answer.error}</p>` : nothing}
      ${answer && 'value' in answer && answer.value !== undefined ? show(answer.value) : nothing}
    `;
  }

  private tokenPicker(part: string, label: string, selected: number, choose: (id: number) => void) {
    return html`<label>
      ${label}
      <select part=${part} @change=${(event: Event) => choose(Number((event.target as HTMLSelectElement).value))}>
        ${this.vocabulary.map(
          (token, id) => html`<option value=${id} ?selected=${id === selected}>${tokenLabel(token)} · ${id}</option>`,
        )}
      </select>
    </label>`;
  }

  /** Picks a token (or tokens) and asks again. */
  private choose(update: () => void, section: EmbeddingSection): void {
    update();
    void this.load(section);
  }

  /** Tokens with their cosine as a bar (negative ones in the warning colour, from the left all the same). */
  private renderCosines(neighbours: Neighbour[], part: string, label: string) {
    return html`<ol class="bar-rows" part=${part} aria-label=${label}>
      ${neighbours.map(
        ({ id, token, cosine }) => html`<li
          part="neighbour"
          class=${cosine < 0 ? 'negative' : ''}
          aria-label="${describeToken(token)}, id ${id}: cosine ${formatNumber(cosine, 4)}"
        >
          <span class="label" part="neighbour-token" aria-hidden="true">${visibleToken(token)}<span class="id">${id}</span></span>
          <span class="track" aria-hidden="true"
            ><span class="fill" part="neighbour-bar" style="width:${(Math.min(1, Math.abs(cosine)) * 100).toFixed(2)}%"></span
          ></span>
          <span class="value" part="neighbour-value" aria-hidden="true">${formatNumber(cosine, 4)}</span>
        </li>`,
      )}
    </ol>`;
  }

  private renderNeighbours() {
    return html`
      <p class="caption" part="explanation">
        Each token is a row of numbers in the embedding matrix: a vector. Tokens the model treats alike end up pointing the
        same way. The cosine of two vectors says how much: 1 is the same direction, 0 unrelated, −1 opposite.
      </p>
      <div class="pickers">
        ${this.tokenPicker('token-picker', 'Token', this.neighbourId, (id) => this.choose(() => (this.neighbourId = id), 'neighbours'))}
      </div>
      ${this.renderAnswer('neighbours', (neighbours) =>
        this.renderCosines(neighbours, 'neighbours', `Nearest tokens to ${describeToken(this.vocabulary[this.neighbourId] ?? '')}`),
      )}
    `;
  }

  private renderArithmetic() {
    const [a, b, c] = this.arithmeticIds;
    const set = (index: 0 | 1 | 2) => (id: number) =>
      this.choose(() => (this.arithmeticIds = this.arithmeticIds.map((old, i) => (i === index ? id : old)) as [number, number, number]), 'arithmetic');
    return html`
      <p class="caption" part="explanation">
        a − b keeps what tells a from b; adding c applies that difference to c. With letters, 'K' − 'k' + 'a' asks for
        "'a', but the way 'K' differs from 'k'": a model that learned capitals may answer 'A'. The results are the tokens
        nearest to that sum, leaving out a, b and c.
      </p>
      <div class="pickers">
        ${this.tokenPicker('arithmetic-a', 'a', a, set(0))}
        <span class="operator" aria-hidden="true">−</span>
        ${this.tokenPicker('arithmetic-b', 'b', b, set(1))}
        <span class="operator" aria-hidden="true">+</span>
        ${this.tokenPicker('arithmetic-c', 'c', c, set(2))}
      </div>
      ${this.renderAnswer('arithmetic', (results) => this.renderCosines(results, 'arithmetic-results', 'Tokens nearest to a − b + c'))}
    `;
  }

  private renderAngle() {
    const [a, b] = this.angleIds;
    const set = (index: 0 | 1) => (id: number) =>
      this.choose(() => (this.angleIds = this.angleIds.map((old, i) => (i === index ? id : old)) as [number, number]), 'angle');
    return html`
      <p class="caption" part="explanation">
        The dot product multiplies the two vectors number by number and adds it all up. Divided by both vectors' lengths it
        becomes the cosine of the angle between them, which no longer depends on how long they are.
      </p>
      <div class="pickers">${this.tokenPicker('angle-a', 'First token', a, set(0))} ${this.tokenPicker('angle-b', 'Second token', b, set(1))}</div>
      ${this.renderAnswer('angle', (angle) => this.renderAngleValues(angle))}
    `;
  }

  private renderAngleValues({ dot, cosine, degrees }: TokenAngle) {
    const [a, b] = this.angleIds.map((id) => this.vocabulary[id] ?? '');
    // Two unit rays from the origin, the first along the x axis, and the arc between them.
    const origin = { x: 90, y: 80 };
    const length = 68;
    const radius = 22;
    const turn = (degrees * Math.PI) / 180;
    const end = (r: number) => ({ x: origin.x + r * Math.cos(turn), y: origin.y - r * Math.sin(turn) });
    const tip = end(length);
    const arcEnd = end(radius);
    return html`<div class="angle">
      <dl part="angle-values">
        <dt>dot product</dt>
        <dd>${formatNumber(dot, 4)}</dd>
        <dt>cosine</dt>
        <dd>${formatNumber(cosine, 4)}</dd>
        <dt>angle</dt>
        <dd>${formatNumber(degrees, 1)}°</dd>
      </dl>
      <svg
        part="angle-drawing"
        viewBox="0 0 180 100"
        width="180"
        height="100"
        role="img"
        aria-label="${describeToken(a!)} and ${describeToken(b!)} ${formatNumber(degrees, 1)} degrees apart"
      >
        <line class="ray" x1=${origin.x} y1=${origin.y} x2=${origin.x + length} y2=${origin.y}></line>
        <line class="ray" x1=${origin.x} y1=${origin.y} x2=${tip.x.toFixed(2)} y2=${tip.y.toFixed(2)}></line>
        <path class="arc" d="M ${origin.x + radius} ${origin.y} A ${radius} ${radius} 0 0 0 ${arcEnd.x.toFixed(2)} ${arcEnd.y.toFixed(2)}"></path>
        <text x=${origin.x + length + 4} y=${origin.y + 4}>${visibleToken(a!)}</text>
        <text x=${(origin.x + (length + 8) * Math.cos(turn)).toFixed(2)} y=${(origin.y - (length + 8) * Math.sin(turn)).toFixed(2)} text-anchor="middle"
          >${visibleToken(b!)}</text
        >
        <text class="caption-text" x=${origin.x} y=${origin.y + 16} text-anchor="middle">${formatNumber(degrees, 1)}°</text>
      </svg>
    </div>`;
  }

  private renderMap() {
    return html`
      <p class="caption" part="explanation">
        Every token's vector, flattened onto the two directions in which the embeddings differ most (principal component
        analysis). Tokens close together have similar vectors; whatever the other directions hold, this map leaves out.
      </p>
      ${this.renderAnswer('map', (map) => this.renderScatter(map))}
    `;
  }

  private renderScatter({ tokens, points, explained }: EmbeddingMap) {
    const hovered = this.hovered;
    return html`
      <p part="explained">
        Across: ${formatPercent(explained[0])} of the variance; up: ${formatPercent(explained[1])}. The rest lies in
        directions the map cannot show.
      </p>
      <canvas
        part="scatter"
        tabindex="0"
        role="img"
        aria-label="Map of ${tokens.length} tokens; the table lists each one's coordinates. Arrow keys step through them."
        @pointermove=${this.onScatterPointer}
        @pointerleave=${() => (this.hovered = null)}
        @keydown=${this.onScatterKey}
      ></canvas>
      <p class="readout" part="scatter-readout" aria-live="polite">
        ${hovered === null
          ? html`<span class="empty">Point at a dot (or use the arrow keys) to see its token.</span>`
          : `${tokenLabel(tokens[hovered] ?? '')} · id ${hovered}: (${formatNumber(points[2 * hovered]!, 3)}, ${formatNumber(points[2 * hovered + 1]!, 3)})`}
      </p>
      <table class="visually-hidden" part="scatter-table">
        <caption>
          Each token's position on the map
        </caption>
        <thead>
          <tr>
            <th scope="col">token</th>
            <th scope="col">id</th>
            <th scope="col">across</th>
            <th scope="col">up</th>
          </tr>
        </thead>
        <tbody>
          ${tokens.map(
            (token, id) => html`<tr>
              <th scope="row">${describeToken(token)}</th>
              <td>${id}</td>
              <td>${formatNumber(points[2 * id]!, 3)}</td>
              <td>${formatNumber(points[2 * id + 1]!, 3)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    `;
  }

  /** Data coordinates to canvas pixels (CSS pixels), the same scale on both axes so distances stay true. */
  private scatterLayout(canvas: HTMLCanvasElement, points: Float32Array): ((i: number) => { x: number; y: number }) | null {
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
    const scale = Math.min((width - 2 * SCATTER_PADDING) / (maxX - minX || 1), (height - 2 * SCATTER_PADDING) / (maxY - minY || 1));
    const centre = { x: (minX + maxX) / 2, y: (minY + maxY) / 2 };
    return (i) => ({ x: width / 2 + (points[2 * i]! - centre.x) * scale, y: height / 2 - (points[2 * i + 1]! - centre.y) * scale });
  }

  private drawScatter(): void {
    const canvas = this.renderRoot.querySelector<HTMLCanvasElement>('canvas[part~="scatter"]');
    const answer = this.answers.map;
    if (!canvas || !answer || !('value' in answer) || !answer.value) return;
    const { tokens, points } = answer.value;
    const place = this.scatterLayout(canvas, points);
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
    for (let i = 0; i < tokens.length; i++) {
      const { x, y } = place(i);
      context.fillStyle = colour('--_accent');
      context.beginPath();
      context.arc(x, y, 2.5, 0, 2 * Math.PI);
      context.fill();
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

  private onScatterPointer(event: PointerEvent): void {
    const bounds = (event.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const waiting = this.pendingPointer !== null;
    this.pendingPointer = { x: event.clientX - bounds.left, y: event.clientY - bounds.top };
    if (!waiting) requestAnimationFrame(() => this.hoverNearest());
  }

  /** The point nearest the pointer within HOVER_RADIUS, if any. */
  private hoverNearest(): void {
    const pointer = this.pendingPointer;
    this.pendingPointer = null;
    const canvas = this.renderRoot.querySelector<HTMLCanvasElement>('canvas[part~="scatter"]');
    const answer = this.answers.map;
    if (!pointer || !canvas || !answer || !('value' in answer) || !answer.value) return;
    const place = this.scatterLayout(canvas, answer.value.points);
    if (!place) return;
    let nearest: number | null = null;
    let best = HOVER_RADIUS ** 2;
    for (let i = 0; i < answer.value.tokens.length; i++) {
      const { x, y } = place(i);
      const distance = (x - pointer.x) ** 2 + (y - pointer.y) ** 2;
      if (distance <= best) [nearest, best] = [i, distance];
    }
    this.hovered = nearest;
  }

  /** Arrow keys step through the tokens in id order. */
  private onScatterKey(event: KeyboardEvent): void {
    const answer = this.answers.map;
    const count = answer && 'value' in answer ? (answer.value?.tokens.length ?? 0) : 0;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step || count === 0) return;
    event.preventDefault();
    this.hovered = this.hovered === null ? (step > 0 ? 0 : count - 1) : (this.hovered + step + count) % count;
  }

  private renderPositions() {
    return html`
      <p class="caption" part="explanation">
        Every position in the context has a vector of its own, added to the token's, so the model can tell where a token
        stands. A cell is the cosine of two positions' vectors: a bright band along the diagonal means nearby positions
        look alike to the model.
      </p>
      ${this.renderAnswer('positions', (values) => {
        const size = Math.round(Math.sqrt(values.length));
        const labels = Array.from({ length: size }, (_, i) => String(i));
        return html`<llm-heatmap
          part="position-heatmap"
          .values=${values}
          .rows=${size}
          .cols=${size}
          .rowLabels=${labels}
          .colLabels=${labels}
          .masked=${null}
          .scale=${'diverging'}
          .min=${-1}
          .max=${1}
          .label=${'Cosine similarity of the position embeddings'}
          .rowAxis=${'position'}
          .colAxis=${'position'}
        ></llm-heatmap>`;
      })}
    `;
  }

  private renderContext() {
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
        <div class="prompts">
          ${this.renderContextPrompt('first', 'First prompt')} ${this.renderContextPrompt('second', 'Second prompt')}
        </div>
      </form>
      ${this.renderAnswer('context', (similarity) => this.renderContextChart(similarity))}
    `;
  }

  private renderContextPrompt(which: 'first' | 'second', title: string) {
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

  private onPromptText(which: 'first' | 'second', event: Event): void {
    this[which] = this.placed((event.target as HTMLTextAreaElement).value);
  }

  private onCompare(event: Event): void {
    event.preventDefault();
    void this.load('context');
  }

  private renderContextChart({ tokens, cosines }: ContextualSimilarity) {
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
}

customElements.define('llm-embedding-explorer', EmbeddingExplorer);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-explorer': EmbeddingExplorer;
  }
}
