/**
 * <llm-embedding-explorer>: what the model's embedding vectors say about its
 * tokens, in seven sections (tabs), each an element of its own: a token's nearest
 * neighbours, vector arithmetic a − b + c, two differences compared (directions),
 * the dot product and angle of two tokens, a 2-D map of every token (PCA), the
 * position embeddings' similarity matrix, and one word's vector in other prompts,
 * layer by layer. Every number comes from `client`. A section is made when it is
 * first opened (asking then) and keeps its answer and picks while another is open.
 * With a word-piece vocabulary the sections open on the seed's examples (" tower",
 * king − man + woman, cats − cat beside dogs − dog, mole / tower / Harry).
 *
 * Properties:
 *   client      EmbeddingExplorerClient (EngineClient, set by the inspector panel)
 *   vocabulary  string[]: the token strings in id order (ModelInfo.vocabulary). Set anew when the model
 *               changes (a new model, trained weights): the answers shown are asked for again; the tokens
 *               picked stay while the vocabulary has the same tokens.
 *   text        the playground's prompt: the first prompt of the "In context" section
 *   blockSize   the model's context length (attribute block-size)
 *   section     the open tab: neighbours | arithmetic | directions | angle | map | positions | context (attribute, reflected)
 * Events: llm-tab-change (detail { tab: the section }) when the user picks a section.
 * Parts: tabs, tab, tab-<id>, panel, and the sections' own (exported): explanation, status, error,
 *   token-picker, neighbours, neighbour, neighbour-token, neighbour-bar, neighbour-value,
 *   arithmetic-a, arithmetic-b, arithmetic-c, arithmetic-results,
 *   directions-a … directions-d, directions-cosine, directions-first, directions-second,
 *   angle-a, angle-b, angle-values, angle-drawing (each token picker X also X-search and X-found),
 *   scatter, scatter-readout, scatter-table, explained, map-note, map-words, map-button,
 *   position-heatmap, position-note,
 *   examples, example, example-note, context-word, context-first, context-second, context-third,
 *   context-first-position, context-second-position, context-third-position,
 *   compare-button, context-chart, context-table, context-summary.
 */
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { emit } from '../events.ts';
import { theme } from '../theme.ts';
import type { AngleClient } from './embedding-angle.ts';
import type { ArithmeticClient } from './embedding-arithmetic.ts';
import type { ContextClient } from './embedding-context.ts';
import type { DirectionsClient } from './embedding-directions.ts';
import type { MapClient } from './embedding-map.ts';
import type { NeighboursClient } from './embedding-neighbours.ts';
import type { PositionsClient } from './embedding-positions.ts';
import type { EmbeddingSection } from './embedding-section.ts';
import './embedding-angle.ts';
import './embedding-arithmetic.ts';
import './embedding-context.ts';
import './embedding-directions.ts';
import './embedding-map.ts';
import './embedding-neighbours.ts';
import './embedding-positions.ts';
import { tabList, tabStyles } from './tabs.ts';
import { define } from '../define.ts';

/** Every section's slice: the explorer hands its client to each. */
export type EmbeddingExplorerClient = NeighboursClient &
  ArithmeticClient &
  DirectionsClient &
  AngleClient &
  MapClient &
  PositionsClient &
  ContextClient;

const SECTIONS = [
  { id: 'neighbours', label: 'Neighbours' },
  { id: 'arithmetic', label: 'a − b + c' },
  { id: 'directions', label: 'Directions' },
  { id: 'angle', label: 'Angle' },
  { id: 'map', label: 'Map' },
  { id: 'positions', label: 'Positions' },
  { id: 'context', label: 'In context' },
] as const;

export type EmbeddingSectionId = (typeof SECTIONS)[number]['id'];

/** The parts every section has, exported to the explorer's own. */
const SHARED_PARTS = 'explanation, status, error';

/** A token picker's parts: the drop-down, its search box and the count of matches. */
const pickerParts = (...names: string[]): string => names.map((name) => `${name}, ${name}-search, ${name}-found`).join(', ');

export class EmbeddingExplorer extends LitElement {
  static override properties = {
    client: { attribute: false },
    vocabulary: { attribute: false },
    text: { type: String },
    blockSize: { type: Number, attribute: 'block-size' },
    section: { type: String, reflect: true },
  };

  declare client: EmbeddingExplorerClient | null;
  declare vocabulary: readonly string[];
  declare text: string;
  declare blockSize: number;
  declare section: EmbeddingSectionId;

  /** The sections opened so far: they stay (hidden) while another is open; the others are not made yet. */
  private readonly opened = new Set<EmbeddingSectionId>();

  constructor() {
    super();
    this.client = null;
    this.vocabulary = [];
    this.text = '';
    this.blockSize = 0;
    this.section = 'neighbours';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('section')) this.opened.add(this.section);
  }

  /** Also waits for the open section, so what it shows is in place. */
  protected override async getUpdateComplete(): Promise<boolean> {
    const complete = await super.getUpdateComplete();
    await this.renderRoot.querySelector<EmbeddingSection<unknown, unknown>>('[active]')?.updateComplete;
    return complete;
  }

  private select(section: EmbeddingSectionId): void {
    this.section = section;
    emit(this, 'llm-tab-change', { tab: section });
  }

  override render() {
    return html`
      ${tabList(this, SECTIONS, this.section, 'Embeddings', (section) => this.select(section))}
      <div role="tabpanel" id="panel" part="panel" aria-labelledby="tab-${this.section}">
        ${this.vocabulary.length === 0 ? html`<p class="empty">Waiting for the model…</p>` : this.renderSections()}
      </div>
    `;
  }

  /** Each section in a place of its own, so one made later leaves the others' elements (and what they hold) alone. */
  private renderSections() {
    const { client, vocabulary } = this;
    const open = (section: EmbeddingSectionId) => this.section === section;
    const made = (section: EmbeddingSectionId, element: () => TemplateResult) => (this.opened.has(section) ? element() : nothing);
    return html`
      ${made(
        'neighbours',
        () => html`<llm-embedding-neighbours
        .client=${client} .vocabulary=${vocabulary} ?active=${open('neighbours')}
        exportparts="${SHARED_PARTS}, ${pickerParts('token-picker')}, neighbours, neighbour, neighbour-token, neighbour-bar, neighbour-value"
      ></llm-embedding-neighbours>`,
      )}
      ${made(
        'arithmetic',
        () => html`<llm-embedding-arithmetic
        .client=${client} .vocabulary=${vocabulary} ?active=${open('arithmetic')}
        exportparts="${SHARED_PARTS}, ${pickerParts('arithmetic-a', 'arithmetic-b', 'arithmetic-c')}, arithmetic-results,
          neighbour, neighbour-token, neighbour-bar, neighbour-value"
      ></llm-embedding-arithmetic>`,
      )}
      ${made(
        'directions',
        () => html`<llm-embedding-directions
        .client=${client} .vocabulary=${vocabulary} ?active=${open('directions')}
        exportparts="${SHARED_PARTS}, ${pickerParts('directions-a', 'directions-b', 'directions-c', 'directions-d')},
          directions-cosine, directions-first, directions-second, neighbour, neighbour-token, neighbour-bar, neighbour-value"
      ></llm-embedding-directions>`,
      )}
      ${made(
        'angle',
        () => html`<llm-embedding-angle
        .client=${client} .vocabulary=${vocabulary} ?active=${open('angle')}
        exportparts="${SHARED_PARTS}, ${pickerParts('angle-a', 'angle-b')}, angle-values, angle-drawing"
      ></llm-embedding-angle>`,
      )}
      ${made(
        'map',
        () => html`<llm-embedding-map
        .client=${client} .vocabulary=${vocabulary} ?active=${open('map')}
        exportparts="${SHARED_PARTS}, scatter, scatter-readout, scatter-table, explained, map-note, map-words, map-button"
      ></llm-embedding-map>`,
      )}
      ${made(
        'positions',
        () => html`<llm-embedding-positions
        .client=${client} .vocabulary=${vocabulary} ?active=${open('positions')} .blockSize=${this.blockSize}
        exportparts="${SHARED_PARTS}, position-heatmap, position-note"
      ></llm-embedding-positions>`,
      )}
      ${made(
        'context',
        () => html`<llm-embedding-context
        .client=${client} .vocabulary=${vocabulary} ?active=${open('context')} .text=${this.text} .blockSize=${this.blockSize}
        exportparts="${SHARED_PARTS}, examples, example, example-note, context-word, context-first, context-second,
          context-third, context-first-position, context-second-position, context-third-position, compare-button,
          context-chart, context-table, context-summary"
      ></llm-embedding-context>`,
      )}
    `;
  }

  static override styles = [theme, tabStyles];
}

define('llm-embedding-explorer', EmbeddingExplorer);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-explorer': EmbeddingExplorer;
  }
}
