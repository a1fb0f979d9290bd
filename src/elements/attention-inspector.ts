/**
 * <llm-attention-inspector>: what every attention head does with the prompt.
 * An overview of all heads' patterns as thumbnails (layers down, heads across);
 * the chosen head large, in three stages (scaled scores, after the causal mask,
 * after softmax); and, for one chosen query token, what each head takes from
 * the earlier tokens and what it adds to the residual stream. The numbers come
 * from the worker through `client`.
 *
 * Properties: client (AttentionInspectorClient: EngineClient, set by the inspector panel), text (the prompt),
 *   start ({layer, head} or null: the head chosen when the next inspection comes after it is set, if the model has
 *   it, with the last token as the query: the inspector panel names the default model's adjective head for its example),
 *   panelFocus (PanelFocus or null: the layer, head, stage and query to show, applied as soon as the prompt's inspection
 *   is in; what the model lacks is left as it is).
 * Events: llm-focus-change (detail: PanelFocus { layer, head, stage, query }) when the user picks a head, a stage
 *   or a query token.
 * Parts: status, error, overview, layer-label, head-label, thumbnail (also "selected" on the chosen head),
 *   head-view, head-title, stages, stage (each radio), stage-caption, head-heatmap, queries (the token chips),
 *   query (each chip; also "selected"), updates (the table), update-row, update-head (the head's button),
 *   updates-status, updates-error, dropped-note (a long prompt's tokens left out), promotes-note (the heads whose
 *   pushed-up tokens were worked out, when not all).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { type HeadUpdate, headSize, type Inspection, messageOf, type Uses } from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { buttons, tables, theme } from '../theme.ts';
import { describeToken, showToken, visibleToken } from '../visible-token.ts';
import { droppedNote } from './dropped-note.ts';
import { type CellDetail, formatValue } from './heatmap.ts';
import './heatmap.ts';
import { styleProperties } from '../style-properties.ts';
import type { PanelFocus } from '../view-state.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type AttentionInspectorClient = Uses<'inspector', 'inspect' | 'headUpdates'>;

/** Typing pauses this long before the prompt is run again. */
const DEBOUNCE_MS = 150;
/** Earlier tokens listed per head for the chosen query. */
const TOP_KEYS = 3;
/** Tokens listed per head's update. */
const TOP_PROMOTED = 5;

type Stage = NonNullable<PanelFocus['stage']>;

const STAGES: { id: Stage; label: string; caption: (dHead: number) => string }[] = [
  {
    id: 'scores',
    label: '1. Scaled scores',
    caption: (dHead) =>
      `How well each query matches each key: the dot product of the two vectors, divided by √${dHead} ` +
      `(the square root of the head's width, d_head = ${dHead}), QKᵀ/√d_head. Blue is below 0, red above. ` +
      'Nothing is hidden yet: every token also scores against the tokens after it.',
  },
  {
    id: 'masked',
    label: '2. After the causal mask',
    caption: () =>
      'A token may not look ahead, so its scores for later tokens become −∞: the hatched cells. ' +
      'Softmax turns −∞ into a weight of exactly 0.',
  },
  {
    id: 'pattern',
    label: '3. After softmax',
    caption: () =>
      "Softmax of each row: the query's attention weights over the keys, from 0 (dark) to 1 (yellow). " +
      'Each row sums to 1: the head mixes the value vectors of the tokens in these proportions.',
  },
];

const ROW_AXIS = 'query: the token being updated';
const COL_AXIS = 'key: the token looked at';

/** One head's [T, T] arrays, views into the capture. */
interface HeadArrays {
  scores: Float32Array;
  mask: Uint8Array;
  pattern: Float32Array;
}

const headName = (layer: number, head: number): string => `Layer ${layer + 1}, head ${head + 1}`;

export class AttentionInspector extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: {},
    start: { attribute: false },
    panelFocus: { attribute: false },
    ...states('inspection', 'error', 'layer', 'head', 'stage', 'query', 'updates', 'updatesError'),
  };

  declare client: AttentionInspectorClient | null;
  declare text: string;
  declare start: { readonly layer: number; readonly head: number } | null;
  declare panelFocus: PanelFocus | null;
  declare private inspection: Inspection | null;
  declare private error: string;
  declare private layer: number;
  declare private head: number;
  declare private stage: Stage;
  /** The chosen query position, or null. */
  declare private query: number | null;
  /** What each head adds at `query`, largest norm first. */
  declare private updates: HeadUpdate[];
  declare private updatesError: string;

  /** Per layer, per head: views of the capture, made once per inspection so thumbnails don't redraw on every render. */
  private heads: HeadArrays[][] = [];
  /** Tokens as shown on the axes (spaces and line breaks visible). */
  private labels: string[] = [];
  /** `start` was set and the inspection that applies it has not come yet. */
  private startPending = false;
  /** The text the shown inspection was made from (head updates ask about the same text). */
  private inspectedText = '';
  /** The prompt runs once typing pauses; head updates follow the newest query chosen. */
  private readonly inspectAsk = new Newest<Inspection>(this, { delay: DEBOUNCE_MS });
  private readonly updatesAsk = new Newest<HeadUpdate[]>(this);

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.start = null;
    this.panelFocus = null;
    this.inspection = null;
    this.error = '';
    this.layer = 0;
    this.head = 0;
    this.stage = 'pattern';
    this.query = null;
    this.updates = [];
    this.updatesError = '';
  }

  static override styles = [
    theme,
    buttons,
    tables,
    css`
      h3 {
        font-size: 1rem;
        margin: 1rem 0 0.25rem;
      }
      .overview {
        display: grid;
        gap: 4px;
        justify-content: start;
        align-items: center;
        overflow-x: auto;
        padding: 3px;
      }
      .overview .axis {
        color: var(--_muted);
        font-size: 0.8rem;
        text-align: center;
      }
      llm-heatmap[compact] {
        outline: 1px solid var(--_border);
        outline-offset: 1px;
      }
      fieldset {
        border: none;
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
        margin: 0.25rem 0;
        padding: 0;
      }
      legend {
        font-weight: 600;
        padding: 0;
        margin-bottom: 0.25rem;
      }
      .stage-caption {
        max-width: 42rem;
      }
      .queries {
        display: flex;
        flex-wrap: wrap;
        gap: 3px;
        margin: 0.25rem 0 0.5rem;
        max-height: 9rem;
        overflow-y: auto;
      }
      .queries button {
        font-family: var(--_mono);
        font-weight: 400;
        white-space: pre;
        min-width: 1.6rem;
        padding: 1px 5px;
        border-color: var(--_border);
        color: var(--_foreground);
      }
      .queries button[aria-checked='true'] {
        background: var(--_accent);
        border-color: var(--_accent);
        color: var(--_on-accent);
      }
      .queries button[aria-checked='true'] .space-mark {
        color: inherit;
      }
      th,
      td {
        padding: 0.2rem 0.6rem 0.2rem 0;
        vertical-align: top;
      }
      .token {
        font-family: var(--_mono);
        white-space: pre;
      }
      tr.current th button {
        background: var(--_accent);
        color: var(--_on-accent);
      }
      td button,
      th button {
        padding: 0.1rem 0.5rem;
        font-weight: 600;
      }
      .error {
        color: var(--_error);
      }
    `,
  ];

  // willUpdate: the busy state goes into this render, not a second one.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('start')) this.startPending = this.start !== null;
    // On the inspection shown, unless a new one is coming (then show() applies it).
    if (changed.has('panelFocus') && this.inspection && !changed.has('text') && this.inspectedText === this.text)
      this.applyFocus();
    if (!changed.has('client') && !changed.has('text')) return;
    if (this.client) void this.inspect(this.client);
    else this.inspectAsk.drop();
  }

  private async inspect(client: AttentionInspectorClient): Promise<void> {
    const text = this.text;
    await this.inspectAsk.ask(
      () => client.inspector.inspect(text),
      (answer) => {
        if (answer.error !== undefined) {
          this.error = `Could not run the prompt: ${messageOf(answer.error)}`;
          return;
        }
        this.show(answer.value, text);
        this.error = '';
      },
    );
  }

  private show(inspection: Inspection, text: string): void {
    const { nLayer, nHead } = inspection.config;
    const T = inspection.tokens.length;
    this.heads = inspection.capture.layers.map((layer) =>
      Array.from({ length: nHead }, (_, h) => {
        const [start, end] = [h * T * T, (h + 1) * T * T];
        return {
          scores: layer.scores.subarray(start, end),
          mask: layer.mask.subarray(start, end),
          pattern: layer.pattern.subarray(start, end),
        };
      }),
    );
    this.labels = inspection.tokens.map(visibleToken);
    this.inspection = inspection;
    this.inspectedText = text;
    this.layer = Math.min(this.layer, nLayer - 1);
    this.head = Math.min(this.head, nHead - 1);
    const preset = this.startPending ? this.start : null;
    this.startPending = false;
    if (this.panelFocus) this.applyFocus(true);
    else if (preset && preset.layer < nLayer && preset.head < nHead) {
      this.selectHead(preset.layer, preset.head);
      void this.loadUpdates(T - 1);
    } else if (this.query !== null && this.query < T) void this.loadUpdates(this.query);
    else this.clearQuery();
  }

  /** Shows `panelFocus` on the inspection in place (`fresh`: just in, so the query's updates are asked anew). */
  private applyFocus(fresh = false): void {
    const { layer, head, stage, query = this.query } = this.panelFocus ?? {};
    const inspection = this.inspection;
    if (!inspection) return;
    const { nLayer, nHead } = inspection.config;
    if (layer !== undefined && layer < nLayer) this.layer = layer;
    if (head !== undefined && head < nHead) this.head = head;
    if (stage) this.stage = stage;
    if (query === null || query >= inspection.tokens.length) this.clearQuery();
    else if (fresh || query !== this.query) void this.loadUpdates(query);
  }

  /** Says what the user now looks at, for the playground's link. */
  private reportFocus(): void {
    const { layer, head, stage } = this;
    emit(this, 'llm-focus-change', { layer, head, stage, ...(this.query === null ? {} : { query: this.query }) });
  }

  private pickHead(layer: number, head: number): void {
    this.selectHead(layer, head);
    this.reportFocus();
  }

  private pickStage(stage: Stage): void {
    this.stage = stage;
    this.reportFocus();
  }

  private clearQuery(): void {
    this.updatesAsk.drop();
    this.query = null;
    this.updates = [];
    this.updatesError = '';
  }

  private async loadUpdates(position: number): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.query = position;
    this.updatesError = '';
    await this.updatesAsk.ask(
      () => client.inspector.headUpdates(this.inspectedText, position),
      (answer) => {
        if (answer.error !== undefined) {
          this.updates = [];
          this.updatesError = `Could not work out the heads' updates: ${messageOf(answer.error)}`;
        } else {
          this.updates = [...answer.value].sort((a, b) => b.norm - a.norm);
        }
      },
    );
  }

  private selectHead(layer: number, head: number): void {
    this.layer = layer;
    this.head = head;
  }

  private selectQuery(position: number): void {
    if (position === this.query) return;
    void this.loadUpdates(position);
    this.reportFocus();
  }

  override render() {
    const inspection = this.inspection;
    const busy = this.inspectAsk.busy;
    const status = busy ? html`<p class="caption" part="status" role="status">Running the prompt…</p>` : nothing;
    const error = this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing;
    if (!inspection) {
      return html`${status}${error}${busy || this.error ? nothing : html`<p class="empty">Waiting for the model…</p>`}`;
    }
    return html`
      ${status}${error}${droppedNote(inspection.dropped, inspection.tokens.length)}
      <h3>Every head</h3>
      <p class="caption">Each square is one head's attention pattern (after softmax) for this prompt. Choose one to see it large.</p>
      ${this.renderOverview(inspection)}
      ${this.renderHead(inspection)}
      ${this.renderQuery(inspection)}
    `;
  }

  private renderOverview(inspection: Inspection) {
    const T = inspection.tokens.length;
    const { nHead } = inspection.config;
    return html`
      <div class="overview" part="overview" role="group" aria-label="Attention patterns of every head"
        ${styleProperties({ 'grid-template-columns': `auto repeat(${nHead}, auto)` })}>
        <span></span>
        ${Array.from({ length: nHead }, (_, h) => html`<span class="axis" part="head-label">H${h + 1}</span>`)}
        ${this.heads.map(
          (heads, l) => html`
          <span class="axis" part="layer-label">L${l + 1}</span>
          ${heads.map(({ pattern }, h) => {
            const selected = l === this.layer && h === this.head;
            return html`<llm-heatmap
              compact
              part=${selected ? 'thumbnail selected' : 'thumbnail'}
              .values=${pattern}
              .rows=${T}
              .cols=${T}
              .min=${0}
              .max=${1}
              .selected=${selected}
              label=${headName(l, h)}
              @llm-heatmap-select=${() => this.pickHead(l, h)}
            ></llm-heatmap>`;
          })}
        `,
        )}
      </div>
    `;
  }

  private renderHead(inspection: Inspection) {
    const T = inspection.tokens.length;
    const arrays = this.heads[this.layer]![this.head]!;
    const stage = STAGES.find(({ id }) => id === this.stage)!;
    const isPattern = this.stage === 'pattern';
    return html`
      <section part="head-view" aria-labelledby="head-title">
        <h3 id="head-title" part="head-title">${headName(this.layer, this.head)}</h3>
        <fieldset part="stages">
          <legend>Stage</legend>
          ${STAGES.map(
            ({ id, label }) => html`<label>
            <input type="radio" name="stage" part="stage" value=${id} .checked=${id === this.stage}
              @change=${() => this.pickStage(id)} />
            ${label}
          </label>`,
          )}
        </fieldset>
        <p class="caption stage-caption" part="stage-caption">${stage.caption(headSize(inspection.config))}</p>
        <llm-heatmap
          part="head-heatmap"
          .values=${isPattern ? arrays.pattern : arrays.scores}
          .rows=${T}
          .cols=${T}
          .rowLabels=${this.labels}
          .colLabels=${this.labels}
          .masked=${this.stage === 'masked' ? arrays.mask : null}
          .scale=${isPattern ? 'sequential' : 'diverging'}
          .min=${isPattern ? 0 : null}
          .max=${isPattern ? 1 : null}
          .selectedRow=${this.query}
          label="${headName(this.layer, this.head)}: ${stage.label.slice(3).toLowerCase()}"
          row-axis=${ROW_AXIS}
          col-axis=${COL_AXIS}
          @llm-row-select=${(event: CustomEvent<{ row: number }>) => this.selectQuery(event.detail.row)}
          @llm-cell-select=${(event: CustomEvent<CellDetail>) => this.selectQuery(event.detail.row)}
        ></llm-heatmap>
      </section>
    `;
  }

  private renderQuery(inspection: Inspection) {
    const tokens = inspection.tokens;
    const focusable = this.query ?? 0;
    return html`
      <h3>One query token</h3>
      <p class="caption">
        Choose the token being updated (here, a row label above, or Enter on a cell) to see, across all layers and heads,
        which earlier tokens it draws from and what each head adds to it.
      </p>
      <div class="queries" part="queries" role="radiogroup" aria-label="Query token" @keydown=${this.onQueryKeydown}>
        ${tokens.map((token, position) => {
          const checked = position === this.query;
          return html`<button
            role="radio"
            part=${checked ? 'query selected' : 'query'}
            aria-checked=${String(checked)}
            aria-label="${describeToken(token)}, position ${position + 1}"
            tabindex=${position === focusable ? 0 : -1}
            data-position=${position}
            @click=${() => this.selectQuery(position)}
          >${showToken(token)}</button>`;
        })}
      </div>
      ${this.query === null ? nothing : this.renderUpdates(tokens, this.query)}
    `;
  }

  private renderUpdates(tokens: string[], query: number) {
    return html`
      ${this.updatesAsk.busy ? html`<p class="caption" part="updates-status" role="status">Working out what each head adds…</p>` : nothing}
      ${this.updatesError ? html`<p class="error" part="updates-error" role="alert">${this.updatesError}</p>` : nothing}
      ${
        this.updates.length === 0
          ? nothing
          : html`
        <table part="updates">
          <caption class="caption">
            What each head adds to ${describeToken(tokens[query] ?? '')} (position ${query + 1}), largest update first.
            The update is the head's weighted mix of value vectors, projected back into the residual stream.
            ${this.promotesNote()}
          </caption>
          <thead>
            <tr>
              <th scope="col">Head</th>
              <th scope="col">Looks at most</th>
              <th scope="col">Update size (norm)</th>
              <th scope="col">Tokens it pushes up</th>
            </tr>
          </thead>
          <tbody>
            ${this.updates.map((update) => this.renderUpdate(update, tokens, query))}
          </tbody>
        </table>
      `
      }
    `;
  }

  /** Which heads' pushed-up tokens were worked out, when a big vocabulary leaves some out. */
  private promotesNote() {
    const read = this.updates.filter((update) => update.promotes.length > 0).length;
    if (read === this.updates.length) return nothing;
    return html`<span part="promotes-note">
      Reading an update through all ${this.inspection?.config.vocabSize.toLocaleString('en-US')} tokens is slow at this
      size, so the tokens it pushes up are shown for the ${read} largest updates only.
    </span>`;
  }

  private renderUpdate(update: HeadUpdate, tokens: string[], query: number) {
    const current = update.layer === this.layer && update.head === this.head;
    // Only keys up to the query can have weight under the causal mask.
    const keys = Array.from({ length: query + 1 }, (_, key) => key)
      .sort((a, b) => update.weights[b]! - update.weights[a]!)
      .slice(0, TOP_KEYS);
    return html`<tr part="update-row" class=${current ? 'current' : ''}>
      <th scope="row">
        <button part="update-head" aria-pressed=${String(current)} aria-label="Show ${headName(update.layer, update.head)}"
          @click=${() => this.pickHead(update.layer, update.head)}>L${update.layer + 1} H${update.head + 1}</button>
      </th>
      <td>${keys.map(
        (key, i) => html`${i ? ', ' : ''}<span class="token">${showToken(tokens[key] ?? '')}</span>
        <span class="caption">(${key + 1}) ${formatValue(update.weights[key]!)}</span>`,
      )}</td>
      <td class="number">${formatValue(update.norm)}</td>
      <td>${
        update.promotes.length === 0
          ? html`<span class="caption">–</span>`
          : update.promotes
              .slice(0, TOP_PROMOTED)
              .map((promoted, i) => html`${i ? ', ' : ''}<span class="token">${showToken(promoted.token)}</span>`)
      }</td>
    </tr>`;
  }

  private onQueryKeydown(event: KeyboardEvent): void {
    const count = this.inspection?.tokens.length ?? 0;
    const current = this.query ?? 0;
    const next = {
      ArrowRight: current + 1,
      ArrowDown: current + 1,
      ArrowLeft: current - 1,
      ArrowUp: current - 1,
      Home: 0,
      End: count - 1,
    }[event.key];
    if (next === undefined || count === 0) return;
    event.preventDefault();
    const position = Math.min(count - 1, Math.max(0, next));
    this.selectQuery(position);
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<HTMLElement>(`[part~="query"][data-position="${position}"]`)?.focus(),
    );
  }
}

define('llm-attention-inspector', AttentionInspector);

declare global {
  interface HTMLElementTagNameMap {
    'llm-attention-inspector': AttentionInspector;
  }
}
