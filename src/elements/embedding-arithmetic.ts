/**
 * <llm-embedding-arithmetic>: vector arithmetic on the token embeddings. The
 * tokens nearest to a − b + c (leaving out a, b and c), starting on
 * " king" − " man" + " woman" in a word-piece vocabulary, else on a case
 * analogy such as 'A' − 'a' + 'b'.
 *
 * Properties: those of every section (embedding-section.ts).
 * Parts: explanation, status, error, arithmetic-a, arithmetic-b, arithmetic-c (each with -search and -found),
 *   arithmetic-results, neighbour, neighbour-token, neighbour-bar, neighbour-value.
 */
import { html } from 'lit';
import type { Neighbour, Uses } from '../../workers/api/index.ts';
import { states } from '../states.ts';
import { describeToken } from '../visible-token.ts';
import { cosineList, EmbeddingSection, firstOf, idsOf, RESULT_COUNT } from './embedding-section.ts';
import { define } from '../define.ts';

export type ArithmeticClient = Uses<'inspector', 'tokenArithmetic'>;

type Terms = [a: number, b: number, c: number];

/** The seed's example: a − b + c ≈ " queen". */
const WORD_EXAMPLE = [' king', ' man', ' woman'];

/** The letters whose capital the vocabulary also has: the analogy 'K' − 'k' + 'a' ≈ 'A' needs two. */
export function casePairs(vocabulary: readonly string[]): string[] {
  return vocabulary.filter(
    (token) => /^\p{Ll}$/u.test(token) && token.toUpperCase() !== token && vocabulary.includes(token.toUpperCase()),
  );
}

export class ArithmeticSection extends EmbeddingSection<Neighbour[], ArithmeticClient> {
  static override properties = states('terms');

  declare private terms: Terms;

  constructor() {
    super();
    this.terms = [0, 0, 0];
  }

  protected override chooseTokens(): void {
    const vocabulary = this.vocabulary;
    const [x, y] = casePairs(vocabulary);
    this.terms =
      (idsOf(vocabulary, WORD_EXAMPLE) as Terms | null) ??
      (x && y
        ? [vocabulary.indexOf(x.toUpperCase()), vocabulary.indexOf(x), vocabulary.indexOf(y)]
        : [firstOf(vocabulary, [], 1), firstOf(vocabulary, [], 2), firstOf(vocabulary, [], 3)]);
  }

  protected override request(client: ArithmeticClient) {
    const terms = this.terms;
    return () => client.inspector.tokenArithmetic(...terms, RESULT_COUNT);
  }

  private choose(index: number, id: number): void {
    this.terms = this.terms.map((old, i) => (i === index ? id : old)) as Terms;
    void this.load();
  }

  override render() {
    const picker = (index: number, name: string) =>
      this.tokenPicker(`arithmetic-${name}`, name, this.terms[index]!, (id) => this.choose(index, id));
    const [a, b, c] = this.terms.map((id) => describeToken(this.vocabulary[id] ?? ''));
    return html`
      <p class="caption" part="explanation">
        a − b keeps what tells a from b; adding c applies that difference to c. Here ${a} − ${b} + ${c} asks for "${c}, but
        the way ${a} differs from ${b}". The results are the tokens nearest to that sum, leaving out a, b and c.
      </p>
      <div class="pickers">
        ${picker(0, 'a')}
        <span class="operator" aria-hidden="true">−</span>
        ${picker(1, 'b')}
        <span class="operator" aria-hidden="true">+</span>
        ${picker(2, 'c')}
      </div>
      ${this.renderAnswer((results) => cosineList(results, 'arithmetic-results', 'Tokens nearest to a − b + c'))}
    `;
  }
}

define('llm-embedding-arithmetic', ArithmeticSection);

declare global {
  interface HTMLElementTagNameMap {
    'llm-embedding-arithmetic': ArithmeticSection;
  }
}
