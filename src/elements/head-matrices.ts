/**
 * <llm-head-matrices>: the vectors and matrices of one attention head, shown as numbers (issue 17): a token's
 * embedding as a strip of colours; the head's W_Q, W_K and W_V; the query of one token and the key of another, and
 * their dot product ÷ √d_head worked out and filled into that cell of the head's scores; the value vector; the
 * value map as "value down" then "value up", with its parameter counts here and in GPT-3; the output matrix; a
 * token's row of the unembedding. Every number comes from the worker (inspector.headMatrices) for the model in use.
 *
 * Properties: client (HeadMatricesClient, set by the inspector panel), text (the prompt), panelFocus (PanelFocus | null:
 *   layer, head, query and key; the pickers follow it), start ({layer, head} | null: the head to open on when
 *   nothing else chose one, if the model has it; else layer 1, head 1).
 * Events: llm-focus-change (PanelFocus: layer, head, query, key) when the user picks any of them.
 * Parts: status, error, pickers, layer-pick, head-pick, query-pick, key-pick, embedding-strip, wq, wk, wv, value-down
 *   (W_V too), query-input and key-input (the LayerNorm'd vectors), query-vector, key-vector, dot-product, dot-terms,
 *   scores, score-cell, value-vector, value-up, value-counts, output-matrix, unembedding-pick, unembedding-row,
 *   dropped-note.
 * Keyboard: the pickers are drop-down lists; every matrix and strip is focusable and read by the arrow keys.
 */
import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { type HeadMatrices, type MatrixChoice, messageOf, type Uses } from '../../workers/api/index.ts';
import { emit, type LlmEvent } from '../events.ts';
import { count } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { blocks, selects, tables, theme } from '../theme.ts';
import type { PanelFocus } from '../view-state.ts';
import { formatPercent, visibleToken } from '../visible-token.ts';
import { droppedNote } from './dropped-note.ts';
import { formatValue } from './heatmap.ts';
import type { MarkedCells, MatrixView } from './matrix-view.ts';
import './matrix-view.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type HeadMatricesClient = Uses<'inspector', 'headMatrices'>;

/** Typing pauses this long before the prompt is run again. */
const DEBOUNCE_MS = 150;
/** Products of the dot product written out before "…" (the last one follows it). */
const TERMS_SHOWN = 3;

type Head = { readonly layer: number; readonly head: number };

/** How a matrix view differs from a plain one. */
type ViewOptions = Partial<
  Pick<MatrixView, 'rowAxis' | 'colAxis' | 'maxCell' | 'rowLabels' | 'colLabels' | 'masked' | 'marked'>
> & {
  onSelect?: (event: LlmEvent<'llm-cell-select'>) => void;
};

const quoted = (token: string): string => `'${visibleToken(token)}'`;
/** "3 'blue'": a position (from 1) and its token. */
const positionName = (tokens: readonly string[], position: number): string => `${position + 1} ${quoted(tokens[position] ?? '')}`;
const range = (from: number, size: number): string => `${count(from + 1)}–${count(from + size)}`;

export class HeadMatricesView extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: {},
    panelFocus: { attribute: false },
    start: { attribute: false },
    ...states('shown', 'error', 'layer', 'head', 'query', 'key', 'unembed'),
  };

  declare client: HeadMatricesClient | null;
  declare text: string;
  declare panelFocus: PanelFocus | null;
  declare start: Head | null;
  declare private shown: HeadMatrices | null;
  declare private error: string;
  declare private layer: number;
  declare private head: number;
  /** Chosen positions and unembedding token; null: the worker's default (last token, most attended key, likeliest next). */
  declare private query: number | null;
  declare private key: number | null;
  declare private unembed: number | null;

  /** The head to open on is still to be applied once the model's size is known. */
  private startPending = false;
  private readonly matrices = new Newest<HeadMatrices>(this);

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.panelFocus = null;
    this.start = null;
    this.shown = null;
    this.error = '';
    this.layer = 0;
    this.head = 0;
    this.query = null;
    this.key = null;
    this.unembed = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('start') && this.start) this.startPending = true;
    if (changed.has('text') && changed.get('text') !== undefined) {
      // Positions of another prompt mean nothing here.
      this.query = this.key = null;
      this.unembed = null;
    }
    // A focus that says what is chosen already (the page echoing the user's pick) asks nothing again.
    const moved = changed.has('panelFocus') && this.panelFocus !== null && this.applyFocus(this.panelFocus);
    if (moved || ['client', 'text', 'start'].some((name) => changed.has(name as keyof HeadMatricesView))) {
      this.ask(changed.has('text') ? DEBOUNCE_MS : 0);
    }
  }

  /** Chooses what `focus` names (the rest stays); true when that changed anything. */
  private applyFocus({ layer, head, query, key }: PanelFocus): boolean {
    if (layer !== undefined || head !== undefined) this.startPending = false;
    const before = [this.layer, this.head, this.query, this.key].join();
    this.layer = layer ?? this.layer;
    this.head = head ?? this.head;
    this.query = query ?? this.query;
    this.key = key ?? this.key;
    return [this.layer, this.head, this.query, this.key].join() !== before;
  }

  /** Asks for the chosen head and pair; the newest answer is shown. */
  private ask(delay = 0): void {
    const { client, text } = this;
    if (!client) return;
    const choice: MatrixChoice = { layer: this.layer, head: this.head };
    if (this.query !== null) choice.query = this.query;
    if (this.key !== null) choice.key = this.key;
    if (this.unembed !== null) choice.unembed = this.unembed;
    void this.matrices.ask(
      () => client.inspector.headMatrices(text, choice),
      ({ value, error }) => {
        if (value && this.startPending) {
          // The head to open on, now that the model's size is known (only if it has that head).
          this.startPending = false;
          const { layer, head } = this.start ?? { layer: 0, head: 0 };
          if (layer < value.layers && head < value.heads && (layer !== value.layer || head !== value.head)) {
            [this.layer, this.head] = [layer, head];
            this.ask();
            return;
          }
        }
        this.error = error === undefined ? '' : messageOf(error);
        if (value) this.shown = value;
      },
      delay,
    );
  }

  /** The user picked something: ask again, and say where the panel now looks. */
  private pick(change: Partial<Record<'layer' | 'head' | 'query' | 'key' | 'unembed', number>>): void {
    this.startPending = false;
    Object.assign(this, change);
    if ('query' in change && !('key' in change)) this.key = null; // the new query's most attended key
    this.ask();
    if ('unembed' in change) return;
    const focus: PanelFocus = { layer: this.layer, head: this.head };
    if (this.query !== null) focus.query = this.query;
    if (this.key !== null) focus.key = this.key;
    emit(this, 'llm-focus-change', focus);
  }

  override render() {
    const m = this.shown;
    return html`
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
      ${
        m
          ? this.renderMatrices(m)
          : html`<p class="caption" part="status">${this.matrices.busy || !this.client ? 'Reading the model…' : ''}</p>`
      }
    `;
  }

  private renderMatrices(m: HeadMatrices): TemplateResult {
    const { tokens, width: C, headSize: hs, query, key } = m;
    const queryName = quoted(tokens[query] ?? '');
    const keyName = quoted(tokens[key] ?? '');
    return html`
      ${droppedNote(m.dropped, tokens.length)} ${this.renderPickers(m)}
      <section class="block">
        <h3>A token's embedding</h3>
        <p class="caption">
          ${queryName} in the token embedding: its row, ${count(C)} numbers (the model adds its position's embedding
          before layer 1). Blue is below 0, red above.
        </p>
        ${this.strip(m.embedding, 'embedding-strip', `The token embedding of ${queryName}`)}
      </section>
      <section class="block">
        <h3>Query and key</h3>
        <p class="caption">
          W_Q and W_K of layer ${m.layer + 1}, head ${m.head + 1}: ${hs} rows × ${count(C)} columns each. Each turns
          the ${count(C)} numbers of a token (after the layer's LayerNorm) into ${hs}: a query, a key.
        </p>
        <div class="pair">
          ${this.matrix(m.wq, hs, C, 'wq', 'W_Q')} ${this.matrix(m.wk, hs, C, 'wk', 'W_K')}
        </div>
        <p class="caption">
          ${positionName(tokens, query)} as layer ${m.layer + 1} reads it: its vector after the LayerNorm, x.
        </p>
        ${this.strip(m.queryInput, 'query-input', `The vector of ${queryName} after the LayerNorm`)}
        <p class="caption">Its query, W_Q·x plus a bias: ${hs} numbers.</p>
        ${this.strip(m.queryVector, 'query-vector', `The query of ${queryName}`)}
        <p class="caption">${positionName(tokens, key)} after the LayerNorm, and its key, W_K·x plus a bias.</p>
        ${this.strip(m.keyInput, 'key-input', `The vector of ${keyName} after the LayerNorm`)}
        ${this.strip(m.keyVector, 'key-vector', `The key of ${keyName}`)}
        ${this.renderDot(m)}
      </section>
      ${this.renderValue(m)} ${this.renderOutput(m)}
    `;
  }

  private renderPickers(m: HeadMatrices): TemplateResult {
    const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);
    const option = (value: number, chosen: number, text: string) =>
      html`<option value=${value} ?selected=${value === chosen}>${text}</option>`;
    const picker = (name: 'layer' | 'head' | 'query' | 'key', label: string, options: TemplateResult[]) =>
      html`<label
        >${label}
        <select part="${name}-pick" @change=${(event: Event) => this.pick({ [name]: Number((event.target as HTMLSelectElement).value) })}>
          ${options}
        </select></label
      >`;
    const tokenOptions = (chosen: number) => m.tokens.map((_, i) => option(i, chosen, positionName(m.tokens, i)));
    return html`<div class="pickers" part="pickers">
      ${picker(
        'layer',
        'Layer',
        numbers(m.layers).map((i) => option(i, m.layer, String(i + 1))),
      )}
      ${picker(
        'head',
        'Head',
        numbers(m.heads).map((i) => option(i, m.head, String(i + 1))),
      )}
      ${picker('query', 'Query token', tokenOptions(m.query))} ${picker('key', 'Key token', tokenOptions(m.key))}
    </div>`;
  }

  private renderDot(m: HeadMatrices): TemplateResult {
    const { tokens, headSize: hs, query, key } = m;
    const T = tokens.length;
    const product = (i: number) => `(${formatValue(m.queryVector[i]!)} × ${formatValue(m.keyVector[i]!)})`;
    const shown = Array.from({ length: Math.min(TERMS_SHOWN, hs) }, (_, i) => product(i));
    if (hs > TERMS_SHOWN) shown.push('…', product(hs - 1));
    const masked = m.mask[query * T + key] === 1;
    // The grid holds the capture's scores, with this pair's cell filled in from the sum worked out here.
    const grid = m.scores.slice();
    grid[query * T + key] = m.score;
    const marked: MarkedCells = { row: query, col: key };
    return html`
      <div class="dot" part="dot-product">
        <p>
          q · k = ${shown.join(' + ')} = <strong>${formatValue(m.dot)}</strong>
          <br />
          ÷ √${hs} = ${formatValue(m.dot)} ÷ ${formatValue(Math.sqrt(hs))} = <strong>${formatValue(m.score)}</strong>
        </p>
        <details>
          <summary>All ${hs} products</summary>
          <ol class="terms" part="dot-terms">
            ${Array.from({ length: hs }, (_, i) => html`<li>${product(i)} = ${formatValue(m.queryVector[i]! * m.keyVector[i]!)}</li>`)}
          </ol>
        </details>
      </div>
      <p class="caption">
        The head's scores for this prompt: a row per query, a column per key. The outlined cell is the one worked out
        above; the grey cells are the ones the causal mask hides.
      </p>
      ${this.view('scores', `Scaled scores of layer ${m.layer + 1}, head ${m.head + 1}`, grid, T, T, {
        rowAxis: 'query',
        colAxis: 'key',
        maxCell: 28,
        rowLabels: tokens.map(quoted),
        colLabels: tokens.map(quoted),
        masked: m.mask,
        marked,
        onSelect: (event) => this.pick({ query: event.detail.row, key: event.detail.col }),
      })}
      <p part="score-cell">
        Query ${positionName(tokens, query)}, key ${positionName(tokens, key)}: <strong>${formatValue(m.score)}</strong>
        ${
          masked
            ? html`<span class="caption">(masked: the key comes after the query, so its score becomes −∞ and its weight 0)</span>`
            : html`<span class="caption">(after softmax over the row: a weight of ${formatPercent(m.weight)})</span>`
        }
      </p>
    `;
  }

  private renderValue(m: HeadMatrices): TemplateResult {
    const { width: C, headSize: hs, tokens, key } = m;
    const countRow = (name: string, counts: HeadMatrices['counts']['model']) => html`<tr>
      <th scope="row">${name} (${count(counts.width)} → ${count(counts.headSize)} → ${count(counts.width)})</th>
      <td class="number">${count(counts.down)}</td>
      <td class="number">${count(counts.up)}</td>
      <td class="number">${count(counts.factored)}</td>
      <td class="number">${count(counts.full)}</td>
    </tr>`;
    const { gpt3 } = m.counts;
    return html`<section class="block">
      <h3>Value</h3>
      <p class="caption">
        "Value down", W_V: ${hs} rows × ${count(C)} columns, takes a token's ${count(C)} numbers down to ${hs}.
      </p>
      ${this.matrix(m.wv, hs, C, 'wv value-down', 'W_V, value down')}
      <p class="caption">The value of ${positionName(tokens, key)}: W_V·x plus a bias, with x its vector above.</p>
      ${this.strip(m.valueVector, 'value-vector', `The value of ${quoted(tokens[key] ?? '')}`)}
      <p class="caption">
        "Value up": ${count(C)} rows × ${hs} columns, takes the head's ${hs} numbers back up to ${count(C)}, what it
        adds to the token's vector. It is this head's ${hs} columns of the output matrix below.
      </p>
      ${this.matrix(m.valueUp, C, hs, 'value-up', 'Value up')}
      <table part="value-counts">
        <caption class="caption">
          Parameters of one head's value map: value down then value up, against one full square matrix
        </caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Value down</th>
            <th scope="col">Value up</th>
            <th scope="col">Both</th>
            <th scope="col">One square matrix, width²</th>
          </tr>
        </thead>
        <tbody>
          ${countRow('This model', m.counts.model)} ${countRow('GPT-3', gpt3)}
        </tbody>
      </table>
      <p class="caption">
        GPT-3: 2 × ${count(gpt3.width)} × ${count(gpt3.headSize)} = ${count(gpt3.factored)}, against
        ${count(gpt3.width)}² = ${count(gpt3.full)} for a full square value matrix.
      </p>
    </section>`;
  }

  private renderOutput(m: HeadMatrices): TemplateResult {
    const { width: C, headSize: hs, head } = m;
    const { id, token, row, tied, probability } = m.unembedding;
    const band: MarkedCells = { row: 0, col: head * hs, rows: C, cols: hs };
    const choices = m.top.some((choice) => choice.id === id) ? m.top : [...m.top, { id, token, score: probability }];
    return html`<section class="block">
      <h3>The output matrix</h3>
      <p class="caption">
        ${count(C)} × ${count(C)}: every head's value up side by side. This head's are columns ${range(head * hs, hs)}
        (outlined).
      </p>
      ${this.view('output-matrix', `The attention output matrix of layer ${m.layer + 1}`, m.output, C, C, { marked: band })}
      <h3>A row of the unembedding</h3>
      <label
        >Token
        <select
          part="unembedding-pick"
          @change=${(event: Event) => this.pick({ unembed: Number((event.target as HTMLSelectElement).value) })}
        >
          ${choices.map(
            (choice) =>
              html`<option value=${choice.id} ?selected=${choice.id === id}>
                ${quoted(choice.token)} (${formatPercent(choice.score)} next)
              </option>`,
          )}
        </select></label
      >
      <p class="caption">
        The unembedding scores every token by the dot product of its row with the last vector. ${quoted(token)}'s row,
        ${count(C)} numbers (the model gives it ${formatPercent(probability)} as the next token).
        ${
          tied
            ? 'This model ties its weights: its unembedding is the token embedding matrix itself, so this row is also the embedding of the token.'
            : 'This model has an unembedding matrix of its own, apart from the token embedding.'
        }
      </p>
      ${this.strip(row, 'unembedding-row', `The unembedding row of ${quoted(token)}`)}
    </section>`;
  }

  /** A matrix under its name. */
  private matrix(values: Float32Array, rows: number, cols: number, part: string, label: string): TemplateResult {
    return html`<figure>
      <figcaption>${label}</figcaption>
      ${this.view(part, label, values, rows, cols)}
    </figure>`;
  }

  /** A vector as one row of numbers. */
  private strip(values: Float32Array, part: string, label: string): TemplateResult {
    return this.view(part, label, values, 1, values.length, { colAxis: 'number' });
  }

  private view(part: string, label: string, values: Float32Array, rows: number, cols: number, more: ViewOptions = {}) {
    return html`<llm-matrix-view
      part=${part}
      label=${label}
      row-axis=${more.rowAxis ?? 'row'}
      col-axis=${more.colAxis ?? 'column'}
      max-cell=${more.maxCell ?? 12}
      .values=${values}
      .rows=${rows}
      .cols=${cols}
      .rowLabels=${more.rowLabels ?? []}
      .colLabels=${more.colLabels ?? []}
      .masked=${more.masked ?? null}
      .marked=${more.marked ?? null}
      @llm-cell-select=${more.onSelect ?? nothing}
    ></llm-matrix-view>`;
  }

  static override styles = [
    theme,
    selects,
    tables,
    blocks,
    css`
      h3 {
        font-size: 1rem;
        margin: 0 0 0.25rem;
      }
      .pickers {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        margin-bottom: 1rem;
      }
      .pair {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
      }
      figure {
        margin: 0.25rem 0;
      }
      figcaption {
        font-size: 0.85rem;
        font-family: var(--_mono);
      }
      .dot {
        font-family: var(--_mono);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
      .terms {
        columns: 14rem;
      }
      .error {
        color: var(--_error);
      }
    `,
  ];
}

define('llm-head-matrices', HeadMatricesView);

declare global {
  interface HTMLElementTagNameMap {
    'llm-head-matrices': HeadMatricesView;
  }
}
