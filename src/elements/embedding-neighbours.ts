/**
 * <llm-embedding-neighbours>: the explorer's first section. A token's nearest
 * tokens by the cosine of their embedding vectors, as bars.
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, token-picker, neighbours, neighbour, neighbour-token, neighbour-bar, neighbour-value.
 */
import { html } from 'lit';
import type { Neighbour, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { describeToken } from '../visible-token.ts';
import { cosineList, EmbeddingSection, firstOf, RESULT_COUNT } from './embedding-section.ts';
import { define } from '../define.ts';

export type NeighboursClient = Uses<'inspector', 'nearestTokens'>;

export class NeighboursSection extends EmbeddingSection<Neighbour[], NeighboursClient> {
  static override properties = states('token');

  declare private token: number;

  constructor() {
    super();
    this.token = 0;
  }

  /** " tower" in a word-piece vocabulary (its neighbours are words); with characters, a vowel's show something. */
  protected override chooseTokens(): void {
    this.token = firstOf(this.vocabulary, [' tower', 'e', 'a', 'o'], 1);
  }

  protected override request(client: NeighboursClient) {
    const token = this.token;
    return () => client.inspector.nearestTokens(token, RESULT_COUNT);
  }

  private choose(token: number): void {
    this.token = token;
    void this.load();
  }

  override render() {
    return html`
      <p class="caption" part="explanation">
        Each token is a row of numbers in the embedding matrix: a vector. Tokens the model treats alike end up pointing the
        same way. The cosine of two vectors says how much: 1 is the same direction, 0 unrelated, −1 opposite.
      </p>
      <div class="pickers">${this.tokenPicker('token-picker', 'Token', this.token, (id) => this.choose(id))}</div>
      ${this.renderAnswer((neighbours) =>
        cosineList(neighbours, 'neighbours', `Nearest tokens to ${describeToken(this.vocabulary[this.token] ?? '')}`),
      )}
    `;
  }
}

define('llm-embedding-neighbours', NeighboursSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-neighbours': NeighboursSection;
  }
}
