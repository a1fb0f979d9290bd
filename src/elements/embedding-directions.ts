/**
 * <llm-embedding-directions>: two differences of token embeddings compared,
 * starting on " cats" − " cat" beside " dogs" − " dog" in a word-piece
 * vocabulary, else on a letter's capital ('A' − 'a' beside 'B' − 'b'). It shows
 * the cosine of the two difference vectors, and what is nearest when each
 * difference is added to the other pair's second token (a − b + d, c − d + b).
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, directions-a, directions-b, directions-c, directions-d (each with -search and
 *   -found), directions-cosine, directions-first, directions-second, neighbour, neighbour-token, neighbour-bar,
 *   neighbour-value.
 */
import { css, html } from 'lit';
import type { Neighbour, TokenDirections, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { describeToken } from '../visible-token.ts';
import { casePairs } from './embedding-arithmetic.ts';
import { cosineList, EmbeddingSection, firstOf, formatNumber, idsOf, RESULT_COUNT } from './embedding-section.ts';
import { define } from '../define.ts';

export type DirectionsClient = Uses<'inspector', 'tokenDirections'>;

type Terms = [a: number, b: number, c: number, d: number];

/** The seed's example: the plural direction twice. */
const WORD_EXAMPLE = [' cats', ' cat', ' dogs', ' dog'];

export class DirectionsSection extends EmbeddingSection<TokenDirections, DirectionsClient> {
  static override properties = states('terms');

  declare private terms: Terms;

  constructor() {
    super();
    this.terms = [0, 0, 0, 0];
  }

  protected override chooseTokens(): void {
    const vocabulary = this.vocabulary;
    const [x, y] = casePairs(vocabulary);
    const id = (token: string) => vocabulary.indexOf(token);
    this.terms =
      (idsOf(vocabulary, WORD_EXAMPLE) as Terms | null) ??
      (x && y
        ? [id(x.toUpperCase()), id(x), id(y.toUpperCase()), id(y)]
        : ([1, 2, 3, 4].map((fallback) => firstOf(vocabulary, [], fallback)) as Terms));
  }

  protected override request(client: DirectionsClient) {
    const terms = this.terms;
    return () => client.inspector.tokenDirections(...terms, RESULT_COUNT);
  }

  private choose(index: number, id: number): void {
    this.terms = this.terms.map((old, i) => (i === index ? id : old)) as Terms;
    void this.load();
  }

  override render() {
    const picker = (index: number, name: string) =>
      this.tokenPicker(`directions-${name}`, name, this.terms[index]!, (id) => this.choose(index, id));
    const [a, b, c, d] = this.terms.map((id) => describeToken(this.vocabulary[id] ?? ''));
    return html`
      <p class="caption" part="explanation">
        The difference of two embeddings is a direction. Compare ${a} − ${b} with ${c} − ${d}: a cosine near 1 means they
        point the same way, 0 unrelated. The lists add each difference to the other pair's second token and show the tokens
        nearest to the sum, leaving out the three added.
      </p>
      <div class="pickers">
        <span class="pair">${picker(0, 'a')}<span class="operator" aria-hidden="true">−</span>${picker(1, 'b')}</span>
        <span class="beside" aria-hidden="true">beside</span>
        <span class="pair">${picker(2, 'c')}<span class="operator" aria-hidden="true">−</span>${picker(3, 'd')}</span>
      </div>
      ${this.renderAnswer(({ cosine, lengths, applied }) => this.renderDirections(cosine, lengths, applied, [a, b, c, d]))}
    `;
  }

  private renderDirections(
    cosine: number,
    lengths: [number, number],
    applied: [Neighbour[], Neighbour[]],
    [a, b, c, d]: string[],
  ) {
    return html`
      <p part="directions-cosine">
        Cosine of ${a} − ${b} and ${c} − ${d}: <strong class="number">${formatNumber(cosine, 4)}</strong>
        <span class="lengths">(lengths ${formatNumber(lengths[0], 3)} and ${formatNumber(lengths[1], 3)})</span>
      </p>
      <div class="lists">
        <div>
          <h4>${a} − ${b} + ${d}</h4>
          ${cosineList(applied[0], 'directions-first', `Tokens nearest to ${a} − ${b} + ${d}`)}
        </div>
        <div>
          <h4>${c} − ${d} + ${b}</h4>
          ${cosineList(applied[1], 'directions-second', `Tokens nearest to ${c} − ${d} + ${b}`)}
        </div>
      </div>
    `;
  }

  static override styles = [
    EmbeddingSection.styles,
    css`
      .pair {
        display: flex;
        align-items: flex-start;
        gap: 0.5rem;
      }
      .beside {
        font-size: 0.85rem;
        color: var(--_muted);
        padding-top: 1.5rem;
      }
      .number {
        font-family: var(--_mono);
      }
      .lengths {
        color: var(--_muted);
        font-size: 0.85rem;
      }
      .lists {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr));
        gap: 0.75rem;
      }
      h4 {
        margin: 0.5rem 0 0;
        font-size: 0.9rem;
        font-weight: 600;
      }
    `,
  ];
}

define('llm-embedding-directions', DirectionsSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-directions': DirectionsSection;
  }
}
