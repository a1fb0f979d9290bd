/**
 * <llm-parameter-lab>: where a GPT's parameters are. Pick GPT-2 (small to XL),
 * GPT-3 175B (the default), the model in this playground or a shape of your
 * own, and see each category's count, formula and share as a table and a
 * stacked bar, the memory it takes at float32/float16/int4, and how the
 * attention scores grow with the square of the context. Every number comes
 * from `client` (the worker counts); this element only lays them out.
 *
 * Usable on its own: with no client set by the time it connects, it starts
 * its own EngineClient (the engine worker with the shipped model) and ends it
 * when disconnected. Its properties and parts are the tags of the class comment.
 */
import { html, LitElement, nothing, svg, type PropertyValues } from 'lit';
import {
  type ActiveModelCount,
  type GPTConfig,
  messageOf,
  type NamedConfig,
  type ParameterBreakdown,
  type ParameterRow,
  type Uses,
} from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { formatPercent } from '../visible-token.ts';
import { type NumberField, renderNumberFields } from './number-fields.ts';
import { OwnClient } from './own-client.ts';
import { parameterLabStyles } from './parameter-lab.styles.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

/** What the parameter lab asks of the engine. */
export type ParameterLabClient = Uses<'labs', 'knownConfigs' | 'parameterBreakdown' | 'activeModelCount'>;

export const ACTIVE = 'active';
export const CUSTOM = 'custom';

/** Chosen first: the model whose breakdown the lab is about. */
const DEFAULT_MODEL = /GPT-3/;

type Shape = Omit<GPTConfig, 'tied'>;

const CUSTOM_FIELDS: NumberField<keyof Shape>[] = [
  { key: 'nLayer', label: 'Layers', min: 1, max: 1000, step: 1, caption: 'Blocks of attention + MLP.' },
  { key: 'nHead', label: 'Heads', min: 1, max: 1000, step: 1, caption: 'Attention heads per layer; they split the width.' },
  { key: 'nEmbd', label: 'Width', min: 1, max: 100_000, step: 1, caption: 'Numbers per token in the residual stream.' },
  { key: 'blockSize', label: 'Context', min: 1, max: 1_000_000, step: 1, caption: 'Tokens it reads at once.' },
  { key: 'vocabSize', label: 'Vocabulary', min: 1, max: 10_000_000, step: 1, caption: 'Distinct tokens.' },
];

const CONTEXT_FIELD: NumberField<'contextTry'>[] = [
  {
    key: 'contextTry',
    label: 'Try a context of',
    min: 1,
    max: 10_000_000,
    step: 1,
    caption: 'Tokens; the parameters barely change.',
  },
];

/** How each category is drawn: attention in the accent colour, the MLP in the warning colour, embeddings muted. */
const LOOK: Record<ParameterRow['category'], { group: string; opacity: number }> = {
  embedding: { group: 'embeddings', opacity: 0.9 },
  query: { group: 'attention', opacity: 1 },
  key: { group: 'attention', opacity: 0.8 },
  value: { group: 'attention', opacity: 0.62 },
  output: { group: 'attention', opacity: 0.45 },
  mlpUp: { group: 'mlp', opacity: 1 },
  mlpDown: { group: 'mlp', opacity: 0.7 },
  unembedding: { group: 'embeddings', opacity: 0.55 },
};

const ATTENTION: ParameterRow['category'][] = ['query', 'key', 'value', 'output'];
const MLP: ParameterRow['category'][] = ['mlpUp', 'mlpDown'];

const BAR_WIDTH = 640;
const BAR_HEIGHT = 56;
/** Roughly the width one character of a block's label takes, in the bar's units. */
const CHARACTER_WIDTH = 7.5;

/** A count's answer: the breakdown, and for the model in use its buffer too. */
interface Counted {
  breakdown: ParameterBreakdown;
  active: ActiveModelCount | null;
}

const MEMORY: { key: keyof ParameterBreakdown['memory']; label: string; each: string }[] = [
  { key: 'float32', label: 'float32', each: '4 bytes a number, as trained' },
  { key: 'float16', label: 'float16', each: '2 bytes, as usually served' },
  { key: 'int4', label: 'int4', each: 'half a byte, quantized' },
];

/**
 * @tagname llm-parameter-lab
 * @summary Where a GPT's parameters are: each category's count, formula and share, memory and context.
 *
 * @prop client - ParameterLabClient | null (EngineClient, set by <llm-labs-panel>; see above for none).
 * @prop choice - Which model: a known config's id, 'active' (the model in this playground) or 'custom'. Empty until
 * the known configs arrive; then GPT-3 175B.
 * @prop custom - GPTConfig: the custom shape (kept while another model is chosen).
 *
 * @csspart lab
 * @csspart models
 * @csspart model
 * @csspart custom
 * @csspart field - Each number field (also n-layer, n-head, n-embd, block-size, vocab-size, context-try).
 * @csspart n-layer
 * @csspart n-head
 * @csspart n-embd
 * @csspart block-size
 * @csspart vocab-size
 * @csspart context-try
 * @csspart tied
 * @csspart status
 * @csspart error
 * @csspart buffer-check
 * @csspart breakdown
 * @csspart row - A category's row (data-category names it).
 * @csspart total-row
 * @csspart rest
 * @csspart share-summary
 * @csspart picture
 * @csspart block
 * @csspart legend
 * @csspart memory
 * @csspart context
 * @csspart scores-per-head
 * @csspart scores-per-model
 * @csspart tried
 * @csspart ratio
 */
export class ParameterLab extends LitElement {
  static override properties = {
    client: { attribute: false },
    choice: { attribute: false },
    custom: { attribute: false },
    ...states('configs', 'breakdown', 'active', 'contextTry', 'tried', 'error'),
  };

  declare client: ParameterLabClient | null;
  declare choice: string;
  declare custom: GPTConfig;
  declare private configs: NamedConfig[] | null;
  /** The chosen model's breakdown; null while the first one is counted. */
  declare private breakdown: ParameterBreakdown | null;
  /** The playground's model counted, with its buffer's length, when that is the choice. */
  declare private active: ActiveModelCount | null;
  /** The context length tried beside the model's own. */
  declare private contextTry: number;
  declare private tried: ParameterBreakdown | null;
  declare private error: string;

  /** The known models as asked of the current client (a named choice waits for them). */
  private configsLoad: Promise<NamedConfig[]> | null = null;
  private readonly listing = new Newest<NamedConfig[]>(this);
  /** Busy while the chosen model is counted. */
  private readonly counting = new Newest<Counted>(this);
  private readonly trying = new Newest<ParameterBreakdown>(this);

  constructor() {
    super();
    new OwnClient(this); // a worker of its own when the page gives none
    this.client = null;
    this.choice = '';
    this.custom = { nLayer: 12, nHead: 12, nEmbd: 768, blockSize: 1024, vocabSize: 50257, tied: true };
    this.configs = null;
    this.breakdown = null;
    this.active = null;
    this.contextTry = 0;
    this.tried = null;
    this.error = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client')) {
      // What the client before answers is not this one's.
      for (const asked of [this.listing, this.counting, this.trying]) asked.drop();
      this.configs = null;
      this.configsLoad = this.client ? this.client.labs.knownConfigs() : null;
      if (this.configsLoad) void this.showConfigs(this.configsLoad);
    }
    const recount = changed.has('client') || changed.has('choice') || (changed.has('custom') && this.choice === CUSTOM);
    if (recount && this.client && this.choice) void this.count(this.client);
  }

  /** Lists the known models and, when none is chosen yet, chooses GPT-3. */
  private async showConfigs(load: Promise<NamedConfig[]>): Promise<void> {
    await this.listing.ask(
      () => load,
      (answer) => {
        if (answer.error !== undefined) {
          this.error = `Could not list the models: ${messageOf(answer.error)}`;
          return;
        }
        const configs = answer.value;
        this.configs = configs;
        if (!this.choice) this.choice = (configs.find((named) => DEFAULT_MODEL.test(named.label)) ?? configs[0])?.id ?? ACTIVE;
      },
    );
  }

  /** Counts the chosen model, then tries twice its context. */
  private async count(client: ParameterLabClient): Promise<void> {
    const choice = this.choice;
    this.error = '';
    await this.counting.ask(
      async () => {
        if (choice === ACTIVE) {
          const active = await client.labs.activeModelCount();
          return { breakdown: active.breakdown, active };
        }
        const config = choice === CUSTOM ? this.custom : (await this.configsLoad)?.find((named) => named.id === choice)?.config;
        if (!config) throw new Error(`No model called '${choice}'.`);
        return { breakdown: await client.labs.parameterBreakdown(config), active: null };
      },
      (answer) => {
        if (answer.error !== undefined) {
          this.error = messageOf(answer.error);
          return;
        }
        const { breakdown, active } = answer.value;
        this.active = active;
        this.breakdown = breakdown;
        return this.tryContext(client, 2 * breakdown.config.blockSize);
      },
    );
  }

  /** The same model with another context length, to compare its attention scores. */
  private async tryContext(client: ParameterLabClient, blockSize: number): Promise<void> {
    const base = this.breakdown;
    if (!base) return;
    this.contextTry = blockSize;
    this.tried = null;
    // Each new breakdown asks anew, so the newest answer is always about the breakdown shown.
    await this.trying.ask(
      () => client.labs.parameterBreakdown({ ...base.config, blockSize }),
      (answer) => {
        if (answer.error !== undefined) this.error = messageOf(answer.error);
        else this.tried = answer.value;
      },
    );
  }

  static override styles = parameterLabStyles;

  override render() {
    const breakdown = this.breakdown;
    const busy = this.counting.busy;
    return html`<div part="lab" aria-busy=${String(busy)}>
      ${this.renderChoice()}
      <p class="status" part="status" role="status">${busy ? 'Counting…' : ''}</p>
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
      ${
        breakdown
          ? html`${this.renderBufferCheck(breakdown)} ${this.renderTable(breakdown)} ${this.renderPicture(breakdown)}
          ${this.renderMemory(breakdown)} ${this.renderContext(breakdown)}`
          : busy || this.error
            ? nothing
            : html`<p class="empty">${this.client ? 'Reading the models…' : 'Not connected to the model yet.'}</p>`
      }
    </div>`;
  }

  private renderChoice() {
    const models = [
      ...(this.configs ?? []).map((named) => ({ id: named.id, label: named.label })),
      { id: ACTIVE, label: 'The model in this playground' },
      { id: CUSTOM, label: 'Custom' },
    ];
    return html`<fieldset part="models" ?disabled=${!this.client}>
        <legend>Model</legend>
        <div class="models">
          ${models.map(
            ({ id, label }) => html`<label part="model">
              <input type="radio" name="model" value=${id} .checked=${this.choice === id} @change=${() => (this.choice = id)} />
              ${label}
            </label>`,
          )}
        </div>
      </fieldset>
      ${this.choice === CUSTOM ? this.renderCustom() : nothing}`;
  }

  private renderCustom() {
    return html`<div class="custom" part="custom">
      ${renderNumberFields(CUSTOM_FIELDS, this.custom, {
        disabled: !this.client,
        idPrefix: 'custom-',
        onChange: (key, value) => {
          if (value !== this.custom[key]) this.custom = { ...this.custom, [key]: value };
        },
      })}
      <label class="tied">
        <input
          type="checkbox"
          part="tied"
          .checked=${this.custom.tied}
          ?disabled=${!this.client}
          @change=${(event: Event) => (this.custom = { ...this.custom, tied: (event.target as HTMLInputElement).checked })}
        />
        Tied: the unembedding reuses the token embedding (as in GPT-2)
      </label>
    </div>`;
  }

  private renderBufferCheck(breakdown: ParameterBreakdown) {
    const active = this.active;
    if (!active || active.breakdown !== breakdown) return nothing;
    const counted = count(breakdown.counts.total);
    const held = count(active.bufferLength);
    if (active.bufferLength === breakdown.counts.total) {
      return html`<p class="match" part="buffer-check">
        <span class="mark" aria-hidden="true">✓</span> Counted <span class="numbers">${counted}</span> parameters; its
        parameter buffer holds <span class="numbers">${held}</span> numbers: the same.
      </p>`;
    }
    return html`<p class="mismatch" part="buffer-check" role="alert">
      ⚠ Counted <span class="numbers">${counted}</span> parameters, but its parameter buffer holds
      <span class="numbers">${held}</span> numbers.
    </p>`;
  }

  private renderTable(breakdown: ParameterBreakdown) {
    const { rows, counts, categoriesTotal } = breakdown;
    return html`<h4>Where the parameters are</h4>
      <div class="table-wrap">
        <table part="breakdown">
          <thead>
            <tr>
              ${['Category', 'Count', 'Formula', 'Share'].map((heading) => html`<th scope="col">${heading}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (row) => html`<tr part="row" data-category=${row.category}>
                <th scope="row">${row.label}</th>
                <td class="number">${count(row.count)}</td>
                <td class="formula">${row.formula}</td>
                <td class="number">${formatPercent(row.share)}</td>
              </tr>`,
            )}
          </tbody>
          <tfoot>
            <tr part="total-row">
              <th scope="row">These ${rows.length}</th>
              <td class="number">${count(categoriesTotal)}</td>
              <td></td>
              <td class="number">100%</td>
            </tr>
          </tfoot>
        </table>
      </div>
      <p class="line" part="rest">
        Plus <span class="numbers">${count(counts.rest)}</span> in positions, biases and LayerNorms:
        <strong class="numbers">${count(counts.total)}</strong> parameters in all.
      </p>
      <p class="line" part="share-summary">${shareSummary(rows)}</p>`;
  }

  private renderPicture(breakdown: ParameterBreakdown) {
    let x = 0;
    const blocks = breakdown.rows.map((row) => {
      const width = row.share * BAR_WIDTH;
      const block = { row, x, width };
      x += width;
      return block;
    });
    const described = breakdown.rows.map((row) => `${row.label} ${formatPercent(row.share)}`).join(', ');
    return html`<svg part="picture" viewBox="0 0 ${BAR_WIDTH} ${BAR_HEIGHT}" role="img" aria-label="Shares of the parameters: ${described}.">
        ${blocks.map(({ row, x, width }) => {
          // The label and its share where they fit, else the label alone, else nothing (the legend has them all).
          const text = [`${row.label} ${formatPercent(row.share)}`, row.label].find((label) => fits(label, width));
          return svg`<rect part="block" data-category=${row.category} class=${LOOK[row.category].group}
              fill-opacity=${LOOK[row.category].opacity} x=${x} y="0" width=${width} height=${BAR_HEIGHT}>
              <title>${row.label}: ${count(row.count)} (${formatPercent(row.share)})</title>
            </rect>
            ${text ? svg`<text x=${x + width / 2} y=${BAR_HEIGHT / 2 + 5} text-anchor="middle">${text}</text>` : nothing}`;
        })}
      </svg>
      <ul class="legend" part="legend" aria-hidden="true">
        ${breakdown.rows.map(
          (row) => html`<li>
            <span class="swatch ${LOOK[row.category].group}" ${styleProperties({ opacity: LOOK[row.category].opacity })}></span>${row.label}
            ${formatPercent(row.share)}
          </li>`,
        )}
      </ul>`;
  }

  private renderMemory(breakdown: ParameterBreakdown) {
    return html`<h4>Memory for the parameters</h4>
      <dl part="memory">
        ${MEMORY.map(
          ({ key, label, each }) => html`<dt>${label}</dt>
            <dd class="number" data-precision=${key}>${formatBytes(breakdown.memory[key])}</dd>
            <dd class="note">${each}</dd>`,
        )}
      </dl>`;
  }

  private renderContext(breakdown: ParameterBreakdown) {
    const { nLayer, nHead, blockSize } = breakdown.config;
    return html`<section part="context" aria-labelledby="context-title">
      <h4 id="context-title">Context window</h4>
      <p class="caption">
        Each head scores every position of the context against every other: the pattern is context × context, so it grows
        with the square.
      </p>
      <p class="line" part="scores-per-head">
        Attention scores per head: ${count(blockSize)}² = <span class="numbers">${count(breakdown.attentionPerHead)}</span>
      </p>
      <p class="line" part="scores-per-model">
        For the whole model (${count(nLayer)} layers × ${count(nHead)} heads):
        <span class="numbers">${count(breakdown.attentionPerModel)}</span>
      </p>
      ${renderNumberFields(
        CONTEXT_FIELD,
        { contextTry: this.contextTry },
        {
          disabled: !this.client || this.counting.busy,
          idPrefix: 'try-',
          onChange: (_, value) => {
            if (this.client && value !== this.contextTry) void this.tryContext(this.client, value);
          },
        },
      )}
      ${this.renderTried(breakdown)}
    </section>`;
  }

  private renderTried(breakdown: ParameterBreakdown) {
    const tried = this.tried;
    if (!tried) return nothing;
    const contextRatio = tried.config.blockSize / breakdown.config.blockSize;
    const scoresRatio = tried.attentionPerHead / breakdown.attentionPerHead;
    return html`<div class="tried" part="tried" role="status">
      <p class="line">
        At ${count(tried.config.blockSize)} tokens: <span class="numbers">${count(tried.attentionPerHead)}</span> scores per
        head, <span class="numbers">${count(tried.attentionPerModel)}</span> for the whole model.
      </p>
      <p class="line" part="ratio">
        <strong>${formatRatio(contextRatio)} the context, ${formatRatio(scoresRatio)} the scores.</strong>
        Parameters: ${count(tried.counts.total)} (${count(breakdown.counts.total)} at ${count(breakdown.config.blockSize)}).
      </p>
    </div>`;
  }
}

const fits = (label: string, width: number): boolean => label.length * CHARACTER_WIDTH + 8 < width;

/** 4×, 2.25×, 0.5×: up to two decimals, none when whole. */
const formatRatio = (ratio: number): string => `${Number(ratio.toFixed(2)).toLocaleString('en-US')}×`;

/** Decimal units, as memory for models is usually quoted (GPT-3 at float16: about 350 GB). */
const BYTE_UNITS: [number, string][] = [
  [1e12, 'TB'],
  [1e9, 'GB'],
  [1e6, 'MB'],
  [1e3, 'kB'],
];

function formatBytes(bytes: number): string {
  const unit = BYTE_UNITS.find(([size]) => bytes >= size);
  return unit ? `${(bytes / unit[0]).toFixed(1)} ${unit[1]}` : `${count(bytes)} bytes`;
}

/** Simple fractions a share can be "about", in words. */
const FRACTIONS: [number, string][] = [
  [1 / 10, 'a tenth'],
  [1 / 5, 'a fifth'],
  [1 / 4, 'a quarter'],
  [1 / 3, 'a third'],
  [1 / 2, 'half'],
  [2 / 3, 'two thirds'],
  [3 / 4, 'three quarters'],
  [4 / 5, 'four fifths'],
  [9 / 10, 'nine tenths'],
];
/** A share counts as "about" a fraction within this part of it. */
const ABOUT = 0.08;

/** "about a third", or '' when the share is near no simple fraction. */
function aboutFraction(share: number): string {
  const [, words] = FRACTIONS.find(([fraction]) => Math.abs(share - fraction) <= ABOUT * fraction) ?? [0, ''];
  return words && `about ${words}`;
}

/** Attention against the MLP (and the embeddings), from the rows' shares. */
function shareSummary(rows: readonly ParameterRow[]): string {
  const shareOf = (categories: ParameterRow['category'][]) =>
    rows.filter((row) => categories.includes(row.category)).reduce((sum, row) => sum + row.share, 0);
  const attention = shareOf(ATTENTION);
  const mlp = shareOf(MLP);
  const rest = rows.reduce((sum, row) => sum + row.share, 0) - attention - mlp;
  const part = (name: string, share: number) => {
    const about = aboutFraction(share);
    return `${name} ${formatPercent(share)}${about ? ` (${about})` : ''}`;
  };
  return `${part('Attention (query, key, value, output):', attention)}; ${part('the MLP (up, down):', mlp)}; embeddings ${formatPercent(Math.max(0, rest))}.`;
}

define('llm-parameter-lab', ParameterLab);

declare global {
  interface HTMLElementTagNameMap {
    'llm-parameter-lab': ParameterLab;
  }
}
