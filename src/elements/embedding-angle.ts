/**
 * <llm-embedding-angle>: the dot product, cosine and angle of two tokens'
 * embedding vectors, with the angle drawn.
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, angle-a, angle-b, angle-values, angle-drawing.
 */
import { css, html } from 'lit';
import type { TokenAngle, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { describeToken, visibleToken } from '../visible-token.ts';
import { EmbeddingSection, firstOf, formatNumber, idsOf } from './embedding-section.ts';
import { define } from '../define.ts';

export type AngleClient = Uses<'inspector', 'tokenAngle'>;

type Pair = [a: number, b: number];

export class AngleSection extends EmbeddingSection<TokenAngle, AngleClient> {
  static override properties = states('pair');

  declare private pair: Pair;

  constructor() {
    super();
    this.pair = [0, 0];
  }

  /** " king" and " queen" when the vocabulary has both, else two vowels. */
  protected override chooseTokens(): void {
    this.pair = (idsOf(this.vocabulary, [' king', ' queen']) as Pair | null) ?? [
      firstOf(this.vocabulary, ['a'], 1),
      firstOf(this.vocabulary, ['e'], 2),
    ];
  }

  protected override request(client: AngleClient) {
    const pair = this.pair;
    return () => client.inspector.tokenAngle(...pair);
  }

  private choose(index: number, id: number): void {
    this.pair = this.pair.map((old, i) => (i === index ? id : old)) as Pair;
    void this.load();
  }

  override render() {
    const [a, b] = this.pair;
    return html`
      <p class="caption" part="explanation">
        The dot product multiplies the two vectors number by number and adds it all up. Divided by both vectors' lengths it
        becomes the cosine of the angle between them, which no longer depends on how long they are.
      </p>
      <div class="pickers">
        ${this.tokenPicker('angle-a', 'First token', a, (id) => this.choose(0, id))}
        ${this.tokenPicker('angle-b', 'Second token', b, (id) => this.choose(1, id))}
      </div>
      ${this.renderAnswer((angle) => this.renderValues(angle))}
    `;
  }

  private renderValues({ dot, cosine, degrees }: TokenAngle) {
    const [a, b] = this.pair.map((id) => this.vocabulary[id] ?? '');
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

  static override styles = [
    EmbeddingSection.styles,
    css`
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
      svg .arc {
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
    `,
  ];
}

define('llm-embedding-angle', AngleSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-angle': AngleSection;
  }
}
