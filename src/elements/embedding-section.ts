/**
 * What the sections of <llm-embedding-explorer> share: the base class of a
 * section element (it asks the client for its numbers when it is open and has
 * none, shows the busy line, the error and the answer, and starts over for
 * another model), token pickers, the list of tokens with their cosines, and
 * their styles.
 *
 * Properties of every section:
 *   client      the slice of the EngineClient it uses (set by the explorer)
 *   vocabulary  string[]: the token strings in id order. A new array (a new model, trained weights)
 *               drops what is shown; the tokens picked stay while it has the same tokens.
 *   active      boolean (attribute, reflected): the section is the open tab. Only then is it shown,
 *               and only then does it ask.
 * Parts (each section): explanation, status, error.
 */
import { css, type CSSResultGroup, html, LitElement, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { ref } from 'lit/directives/ref.js';
import { messageOf, type Neighbour } from '../../workers/api/index.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { barRows, selects, theme } from '../theme.ts';
import { describeToken, showToken, visibleToken } from '../visible-token.ts';
import { styleProperties } from '../style-properties.ts';

/** Results asked for in the neighbour and arithmetic lists. */
export const RESULT_COUNT = 10;

/** A number with a real minus sign, as every figure in the explorer is shown. */
export const formatNumber = (value: number, digits: number): string => value.toFixed(digits).replace('-', '−');

/** A token in a picker or list: its visible form, and for a single invisible character what it is in words. */
export const tokenLabel = (token: string): string => {
  const visible = visibleToken(token);
  return visible === token || [...token].length > 1 ? visible : `${visible} ${describeToken(token)}`;
};

const labelsByVocabulary = new WeakMap<readonly string[], string[]>();
/** Every token's label, worked out once per vocabulary for all the pickers. */
function labelsOf(vocabulary: readonly string[]): string[] {
  let labels = labelsByVocabulary.get(vocabulary);
  if (!labels) labelsByVocabulary.set(vocabulary, (labels = vocabulary.map(tokenLabel)));
  return labels;
}

/** What each picker's options were built from, so a render that changes neither list nor vocabulary keeps them. */
const optionsBuiltFrom = new WeakMap<HTMLSelectElement, { vocabulary: readonly string[]; ids: string }>();
/** The list each picker's last render asked for. */
const optionsWanted = new WeakMap<HTMLSelectElement, { vocabulary: readonly string[]; ids: number[]; selected: number }>();
/** Pickers focused, pressed or searched since they were made: only these hold the whole list. */
const usedPickers = new WeakSet<HTMLSelectElement>();

/**
 * A picker's options as plain elements, rebuilt only when its list changes: a Lit template per option took
 * 60 ms of the main thread for the shipped model's 1,280 tokens; `new Option` takes a few. Until the picker is first
 * focused, pressed or searched it holds only the chosen token: laying out the three pickers of a section with every token held
 * the main thread 100–150 ms as the section opened (the tour opens four such sections).
 */
function fillOptions(
  select: HTMLSelectElement | undefined,
  vocabulary: readonly string[],
  ids: number[],
  selected: number,
  searched: boolean,
) {
  if (!select) return;
  if (searched) usedPickers.add(select);
  if (!optionsWanted.has(select)) {
    const use = () => {
      if (usedPickers.has(select)) return;
      usedPickers.add(select);
      const wanted = optionsWanted.get(select)!;
      buildOptions(select, wanted.vocabulary, wanted.ids, wanted.selected);
    };
    select.addEventListener('focus', use);
    select.addEventListener('pointerdown', use);
  }
  optionsWanted.set(select, { vocabulary, ids, selected });
  buildOptions(select, vocabulary, usedPickers.has(select) ? ids : [selected], selected);
}

function buildOptions(select: HTMLSelectElement, vocabulary: readonly string[], ids: number[], selected: number) {
  const key = ids.join(',');
  const built = optionsBuiltFrom.get(select);
  if (built?.vocabulary !== vocabulary || built.ids !== key) {
    const labels = labelsOf(vocabulary);
    select.replaceChildren(...ids.map((id) => new Option(`${labels[id] ?? ''} · ${id}`, String(id))));
    optionsBuiltFrom.set(select, { vocabulary, ids: key });
  }
  select.value = String(selected);
}

/** The first of `wanted` the vocabulary has, else `fallback` (kept inside it). */
export function firstOf(vocabulary: readonly string[], wanted: readonly string[], fallback: number): number {
  const found = wanted.map((token) => vocabulary.indexOf(token)).find((id) => id >= 0);
  return found ?? Math.min(fallback, Math.max(0, vocabulary.length - 1));
}

/** The ids of `tokens` when the vocabulary has every one of them (a word-piece model's example), else null. */
export function idsOf(vocabulary: readonly string[], tokens: readonly string[]): number[] | null {
  const ids = tokens.map((token) => vocabulary.indexOf(token));
  return ids.every((id) => id >= 0) ? ids : null;
}

/**
 * The ids of the tokens that match a search, best first: the token itself (with or without a leading space), then
 * those that start with it, then those that contain it, ignoring case. A space typed is a space in the token.
 */
export function searchTokens(vocabulary: readonly string[], search: string): number[] {
  const wanted = search.toLowerCase();
  if (!wanted) return vocabulary.map((_, id) => id);
  let searches = searchesByVocabulary.get(vocabulary);
  if (!searches) searchesByVocabulary.set(vocabulary, (searches = new Map()));
  const known = searches.get(wanted);
  if (known) return known;
  const rank = (lower: string): number => {
    if (lower === wanted || lower === ` ${wanted}`) return 0;
    if (lower.startsWith(wanted) || lower.startsWith(` ${wanted}`)) return 1;
    return lower.includes(wanted) ? 2 : 3;
  };
  const ranks = lowerCaseOf(vocabulary).map(rank);
  const found = vocabulary
    .map((_, id) => id)
    .filter((id) => ranks[id]! < 3)
    .sort((a, b) => ranks[a]! - ranks[b]! || a - b);
  // Every picker renders again on each answer and key press: GPT-2's 50,257 tokens took milliseconds per search.
  if (searches.size >= 32) searches.clear();
  searches.set(wanted, found);
  return found;
}

/** Searches already made, per vocabulary. */
const searchesByVocabulary = new WeakMap<readonly string[], Map<string, number[]>>();
const lowerCaseByVocabulary = new WeakMap<readonly string[], string[]>();
function lowerCaseOf(vocabulary: readonly string[]): string[] {
  let lower = lowerCaseByVocabulary.get(vocabulary);
  if (!lower) lowerCaseByVocabulary.set(vocabulary, (lower = vocabulary.map((token) => token.toLowerCase())));
  return lower;
}

/**
 * Tokens a picker lists at most: GPT-2's 50,257 as options held the main thread 2.1 s per picker (Chrome, on a
 * shared 2-core machine), and the arithmetic has three; past this, the search box finds the others.
 */
export const PICKER_MAX_OPTIONS = 2000;

const sameTokens = (a: readonly string[] | undefined, b: readonly string[]): boolean =>
  a !== undefined && a.length === b.length && a.every((token, id) => token === b[id]);

/** Tokens with their cosine as a bar (negative ones in the warning colour, from the left all the same). */
export function cosineList(neighbours: Neighbour[], part: string, label: string) {
  return html`<ol class="bar-rows" part=${part} aria-label=${label}>
    ${neighbours.map(
      ({ id, token, cosine }) => html`<li
        part="neighbour"
        class=${cosine < 0 ? 'negative' : ''}
        aria-label="${describeToken(token)}, id ${id}: cosine ${formatNumber(cosine, 4)}"
      >
        <span class="label" part="neighbour-token" aria-hidden="true">${showToken(token)}<span class="id">${id}</span></span>
        <span class="track" aria-hidden="true"
          ><span class="fill" part="neighbour-bar" ${styleProperties({ width: `${(Math.min(1, Math.abs(cosine)) * 100).toFixed(2)}%` })}></span
        ></span>
        <span class="value" part="neighbour-value" aria-hidden="true">${formatNumber(cosine, 4)}</span>
      </li>`,
    )}
  </ol>`;
}

/** One section of the explorer: asks `request()` of the client when it is open and has no answer. */
export abstract class EmbeddingSection<Value, Client> extends LitElement {
  static override properties: PropertyDeclarations = {
    client: { attribute: false },
    vocabulary: { attribute: false },
    active: { type: Boolean, reflect: true },
    ...states('value', 'error', 'searches'),
  };

  declare client: Client | null;
  declare vocabulary: readonly string[];
  declare active: boolean;
  /** The answer shown (kept while a newer one is asked for). */
  declare protected value: Value | undefined;
  declare protected error: string;
  /** What is typed in each token picker's search box, by the picker's part name. */
  declare private searches: Readonly<Record<string, string>>;

  private readonly asking = new Newest<Value>(this);
  /** Asked for this model's numbers already (the answer is on its way or shown): opening the section again does not ask. */
  private asked = false;

  constructor() {
    super();
    this.client = null;
    this.vocabulary = [];
    this.active = false;
    this.value = undefined;
    this.error = '';
    this.searches = {};
  }

  /** The client call for the numbers with what is picked now, or null when there is nothing to ask yet. */
  protected abstract request(client: Client): (() => Promise<Value>) | null;

  /** Picks the starting tokens for another vocabulary (sections with token pickers). */
  protected chooseTokens(): void {}

  protected override willUpdate(changed: PropertyValues<this>): void {
    const previous = changed.get('vocabulary') as readonly string[] | undefined;
    // The same tokens with new weights (training) keep the picks; another vocabulary starts over.
    if (changed.has('vocabulary') && !sameTokens(previous, this.vocabulary)) this.chooseTokens();
    if (changed.has('client') || changed.has('vocabulary')) {
      // Another model (or the same one with new weights): nothing shown still holds.
      this.asking.drop();
      this.asked = false;
      this.value = undefined;
      this.error = '';
    }
    // Asked here, not after rendering, so the busy line is in this very update.
    if (this.active && !this.asked) void this.load();
  }

  /** Asks again as soon as request() has something to ask (a section that first reads what it asks about). */
  protected askWhenReady(): void {
    this.asked = false;
    this.requestUpdate();
  }

  /** Asks for the numbers with what is picked now; shows them unless a newer request came. */
  protected async load(): Promise<void> {
    const client = this.client;
    const request = client && this.vocabulary.length > 0 ? this.request(client) : null;
    if (!request) return;
    this.asked = true;
    this.error = '';
    await this.asking.ask(request, (answer) => {
      this.value = answer.value;
      this.error = answer.error === undefined ? '' : messageOf(answer.error);
    });
  }

  /**
   * A drop-down of the vocabulary's tokens with a search box: typing narrows the list (a word-piece vocabulary has
   * about a thousand tokens), Enter in the box picks the best match. The chosen token is always listed.
   */
  protected tokenPicker(part: string, label: string, selected: number, choose: (id: number) => void) {
    const vocabulary = this.vocabulary;
    const search = this.searches[part] ?? '';
    const matches = searchTokens(vocabulary, search);
    const shown = matches.slice(0, PICKER_MAX_OPTIONS);
    const listed = shown.includes(selected) ? shown : [selected, ...shown];
    const count = (n: number) => n.toLocaleString('en-US');
    const more = matches.length > shown.length ? `, the first ${count(shown.length)} listed: type to find others` : '';
    const what = search ? (matches.length === 1 ? 'match' : 'matches') : 'tokens';
    const found = search || more ? `${count(matches.length)} ${what}${more}` : '';
    const onSearch = (event: Event) => (this.searches = { ...this.searches, [part]: (event.target as HTMLInputElement).value });
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Enter' || matches.length === 0) return;
      event.preventDefault();
      choose(matches[0]!);
    };
    return html`<span class="picker">
      <label>
        ${label}
        <select
          part=${part}
          ${ref((select) => fillOptions(select as HTMLSelectElement | undefined, vocabulary, listed, selected, search !== ''))}
          @change=${(event: Event) => choose(Number((event.target as HTMLSelectElement).value))}
        ></select>
      </label>
      <input
        type="search"
        part="${part}-search"
        placeholder="Find a token"
        aria-label="Find a token for ${label}"
        .value=${search}
        @input=${onSearch}
        @keydown=${onKey}
      />
      <span class="found" part="${part}-found" role="status">${found}</span>
    </span>`;
  }

  /** The busy line and the error, and the answer once there is one. */
  protected renderAnswer(show: (value: Value) => unknown) {
    return html`
      <p class="status" part="status" role="status">${this.asking.busy ? 'Asking the model…' : ''}</p>
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
      ${this.value === undefined ? nothing : show(this.value)}
    `;
  }

  static override styles: CSSResultGroup = [
    theme,
    selects,
    barRows,
    css`
      :host(:not([active])) {
        display: none;
      }
      /* Pickers line up at the top: under each drop-down sit its search box and count. */
      .pickers {
        display: flex;
        flex-wrap: wrap;
        align-items: flex-start;
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
      /* An operator between pickers (a − b + c), level with the drop-downs under their labels. */
      .operator {
        font-family: var(--_mono);
        font-size: 1.2rem;
        padding-top: 1.25rem;
      }
      .picker {
        display: flex;
        flex-direction: column;
        gap: 0.2rem;
      }
      input[type='search'] {
        font: inherit;
        font-family: var(--_mono);
        font-size: 0.8rem;
        padding: 0.15rem 0.35rem;
        color: var(--_foreground);
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
      }
      .found {
        color: var(--_muted);
        font-size: 0.75rem;
        min-height: 1em;
      }
      select {
        font-family: var(--_mono);
        font-size: inherit;
        padding: 0.25rem 0.35rem;
        max-width: 100%;
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
      .status {
        color: var(--_muted);
        margin: 0.25rem 0;
        min-height: 1.2em;
      }
      .error {
        color: var(--_error);
        margin: 0.25rem 0;
      }
    `,
  ];
}
