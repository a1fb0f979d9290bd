/**
 * <llm-model-size-picker>: how big a model to train: a preset or a custom
 * shape (layers, heads, width, context), each with its parameter count, and
 * the chosen size's parameters by category. Counts come from the worker (the
 * panel asks it); this element only shows them.
 *
 * Properties: presets (ModelPreset[]), counts (parameter counts or an error
 *   message per preset id and for 'custom'), size (preset id or ModelShape),
 *   custom (the custom shape, kept while a preset is chosen), disabled.
 * Events: llm-size-change (bubbles, composed; detail: preset id or ModelShape).
 * Parts: sizes, size, custom, breakdown, field, n-layer, n-head, n-embd, block-size.
 */
import { css, html, LitElement, nothing } from 'lit';
import type { ModelPreset, ModelShape, ParameterCounts } from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { count } from '../format.ts';
import { theme } from '../theme.ts';
import { type NumberField, numberFieldStyles, renderNumberFields } from './number-fields.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

export const CUSTOM = 'custom';

const CUSTOM_FIELDS: NumberField<keyof ModelShape>[] = [
  { key: 'nLayer', label: 'Layers', min: 1, max: 12, step: 1, caption: 'Blocks of attention + MLP, one after another.' },
  { key: 'nHead', label: 'Heads', min: 1, max: 16, step: 1, caption: 'Attention heads per layer; they split the width.' },
  { key: 'nEmbd', label: 'Width', min: 4, max: 512, step: 1, caption: 'Numbers per token in the residual stream.' },
  { key: 'blockSize', label: 'Context', min: 4, max: 256, step: 1, caption: 'How many tokens it reads at once.' },
];

type Category = Exclude<keyof ParameterCounts, 'total'>;

/** The label of every category, in the breakdown's order: each one listed, so the rows add up to the total. */
const CATEGORIES: Record<Category, string> = {
  embedding: 'Token embedding',
  query: 'Attention: query',
  key: 'Attention: key',
  value: 'Attention: value',
  output: 'Attention: output',
  mlpUp: 'MLP up',
  mlpDown: 'MLP down',
  unembedding: 'Unembedding (0: it reuses the token embedding)',
  rest: 'Rest: positions, biases, LayerNorms',
};

export class ModelSizePicker extends LitElement {
  static override properties = {
    presets: { attribute: false },
    counts: { attribute: false },
    size: { attribute: false },
    disabled: { type: Boolean },
    custom: { attribute: false },
  };

  declare presets: readonly ModelPreset[];
  declare counts: Readonly<Record<string, ParameterCounts | string>>;
  declare size: string | ModelShape;
  declare disabled: boolean;
  /** The custom shape, kept while a preset is chosen. */
  declare custom: ModelShape;

  constructor() {
    super();
    this.presets = [];
    this.counts = {};
    this.size = 'tiny';
    this.disabled = false;
    this.custom = { nLayer: 2, nHead: 4, nEmbd: 32, blockSize: 64 };
  }

  static override styles = [
    theme,
    numberFieldStyles,
    css`
      fieldset {
        border: 0;
        padding: 0;
        margin: 0;
      }
      legend {
        font-weight: 600;
        margin-bottom: 0.3rem;
      }
      .sizes label {
        display: flex;
        gap: 0.5rem;
        align-items: baseline;
        padding: 0.15rem 0;
      }
      .total {
        margin-left: auto;
        font-family: var(--_mono);
        color: var(--_muted);
      }
      .custom {
        margin: 0.25rem 0 0 1.6rem;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        margin-top: 0.6rem;
        font-size: 0.88rem;
      }
      th {
        text-align: left;
        font-weight: normal;
      }
      td {
        font-family: var(--_mono);
        text-align: right;
        white-space: nowrap;
      }
      td.share {
        width: 35%;
      }
      .bar {
        display: block;
        height: 0.55rem;
        border-radius: 2px;
        background: var(--_accent);
      }
      tfoot th,
      tfoot td {
        font-weight: 600;
        border-top: 1px solid var(--_border);
      }
      .error {
        color: var(--_error);
        font-size: 0.9rem;
        margin: 0.4rem 0 0;
      }
    `,
  ];

  override render() {
    const chosen = typeof this.size === 'string' ? this.size : CUSTOM;
    return html`
      <fieldset part="sizes" class="sizes" ?disabled=${this.disabled}>
        <legend>Model size</legend>
        ${this.presets.map(
          (preset) => html`<label part="size">
            <input type="radio" name="size" .checked=${chosen === preset.id} @change=${() => this.choose(preset.id)} />
            <span>${preset.label}</span>
            <span class="total">${this.totalOf(preset.id)}</span>
          </label>`,
        )}
        <label part="size">
          <input type="radio" name="size" .checked=${chosen === CUSTOM} @change=${() => this.choose({ ...this.custom })} />
          <span>Custom</span>
          <span class="total">${this.totalOf(CUSTOM)}</span>
        </label>
      </fieldset>
      ${
        chosen === CUSTOM
          ? html`<div class="custom" part="custom">
            ${renderNumberFields(CUSTOM_FIELDS, this.custom, {
              disabled: this.disabled,
              idPrefix: 'custom-',
              onChange: (key, value) => {
                this.custom = { ...this.custom, [key]: value };
                this.choose({ ...this.custom });
              },
            })}
          </div>`
          : nothing
      }
      ${this.renderBreakdown(this.counts[chosen])}
    `;
  }

  private totalOf(id: string): string {
    const counts = this.counts[id];
    return counts && typeof counts !== 'string' ? `${count(counts.total)} parameters` : '';
  }

  private renderBreakdown(counts: ParameterCounts | string | undefined) {
    if (counts === undefined) return nothing;
    if (typeof counts === 'string') return html`<p class="error" role="alert">${counts}</p>`;
    return html`<table part="breakdown">
      <caption class="caption">Where the parameters are (every one is a number training adjusts):</caption>
      <tbody>
        ${(Object.entries(CATEGORIES) as [Category, string][]).map(([key, label]) => {
          const share = counts.total > 0 ? counts[key] / counts.total : 0;
          return html`<tr>
            <th scope="row">${label}</th>
            <td>${count(counts[key])}</td>
            <td class="share" aria-hidden="true"><span class="bar" ${styleProperties({ width: `${(share * 100).toFixed(1)}%` })}></span></td>
          </tr>`;
        })}
      </tbody>
      <tfoot>
        <tr><th scope="row">Total</th><td>${count(counts.total)}</td><td></td></tr>
      </tfoot>
    </table>`;
  }

  private choose(size: string | ModelShape): void {
    this.size = size;
    emit(this, 'llm-size-change', size);
  }
}

define('llm-model-size-picker', ModelSizePicker);

declare global {
  interface HTMLElementTagNameMap {
    'llm-model-size-picker': ModelSizePicker;
  }
}
