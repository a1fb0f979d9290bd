/**
 * <llm-fact-mlp-lab>: an MLP with one neuron that stores "Michael Jordan plays
 * basketball", small enough to see whole. Three named directions in a
 * six-dimensional space, the names the input carries, the neuron's
 * up-projection row, bias, activation and down-projection column — all
 * editable. After every change the worker runs the neuron (through `client`)
 * for all four combinations of names: the chosen one is shown step by step
 * (input, pre-activation, post, output, residual after, how much basketball was
 * added), all four as a truth table, so the AND is visible at once. The
 * element does no model math; it only scales the bars.
 *
 * Keyboard: every number is a number field, the names are checkboxes, the activation a radio group.
 * Its properties and parts are the tags of the class comment.
 */
import { css, html, LitElement, nothing, svg, type PropertyValues } from 'lit';
import { defaultFactMlp, type FactMlpResult, type FactMlpSetup, messageOf, type Uses } from '../../workers/api/index.ts';
import { signed } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { buttons, inputs, tables, theme } from '../theme.ts';
import { numberInput } from './number-fields.ts';
import { OwnClient } from './own-client.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

/** Edits pause this long before the neuron runs again. */
const DEBOUNCE_MS = 120;
/** Vector entries and the bias stay within ±10, so the bars keep a readable scale. */
const ENTRY_RANGE = { min: -10, max: 10, step: 0.1 };

/** What the fact lab asks of the engine. */
export type FactMlpLabClient = Uses<'labs', 'factMlp'>;

type Name = keyof FactMlpSetup['input'];
type Direction = keyof FactMlpSetup['directions'];
type Editable = Direction | 'up' | 'down';

/** The truth table's rows, in order. */
const COMBINATIONS: FactMlpSetup['input'][] = [
  { michael: false, jordan: false },
  { michael: true, jordan: false },
  { michael: false, jordan: true },
  { michael: true, jordan: true },
];

const combinationIndex = (input: FactMlpSetup['input']): number =>
  COMBINATIONS.findIndex(({ michael, jordan }) => michael === input.michael && jordan === input.jordan);

const DIRECTIONS: { key: Direction; label: string }[] = [
  { key: 'michael', label: 'Michael' },
  { key: 'jordan', label: 'Jordan' },
  { key: 'basketball', label: 'Basketball' },
];

const ACTIVATIONS: { id: FactMlpSetup['activation']; label: string }[] = [
  { id: 'relu', label: 'ReLU' },
  { id: 'gelu', label: 'GELU' },
];

/** 1.00, −0.16: two decimals, a true minus sign, no "−0.00". */
export const formatNumber = (value: number): string => signed(value, 2);

const describeVector = (label: string, values: readonly number[]): string => `${label}: ${values.map(formatNumber).join(', ')}`;

const namesOf = ({ michael, jordan }: FactMlpSetup['input']): string =>
  michael && jordan ? 'Michael and Jordan' : michael ? 'Michael only' : jordan ? 'Jordan only' : 'neither name';

/**
 * @tagname llm-fact-mlp-lab
 * @summary An MLP neuron that stores "Michael Jordan plays basketball", every number editable.
 *
 * @prop client - FactMlpLabClient | null: anything with the labs area's factMlp (EngineClient). When none is set by
 * the time the element connects, it starts its own EngineClient, and ends it when the element disconnects or another
 * client is set.
 * @prop setup - FactMlpSetup: the vectors and weights. Replaced by a new object on every edit; defaults to the story's
 * numbers, defaultFactMlp() (six dimensions, michael = e1, jordan = e2, basketball = e3, up = michael + jordan, bias
 * −1, down = basketball, ReLU); "Back to the first numbers" restores them.
 *
 * @csspart explanation
 * @csspart directions
 * @csspart weights
 * @csspart vector - Each editable or result row (also its name: michael, jordan, basketball, up, down, input, output,
 * residual).
 * @csspart michael
 * @csspart jordan
 * @csspart basketball
 * @csspart up
 * @csspart down
 * @csspart input
 * @csspart output
 * @csspart residual
 * @csspart vector-label
 * @csspart bars
 * @csspart cell
 * @csspart bias-field
 * @csspart bias
 * @csspart names
 * @csspart name-michael
 * @csspart name-jordan
 * @csspart activation
 * @csspart activation-relu
 * @csspart activation-gelu
 * @csspart reset
 * @csspart result
 * @csspart status
 * @csspart error
 * @csspart pre
 * @csspart post
 * @csspart neuron
 * @csspart basketball-added
 * @csspart truth-table
 * @csspart truth-row - A row of the truth table (the chosen input's row also current).
 * @csspart current
 * @csspart truth-pre
 * @csspart truth-post
 * @csspart truth-basketball
 */
export class FactMlpLab extends LitElement {
  static override properties = {
    client: { attribute: false },
    setup: { attribute: false },
    ...states('results', 'error'),
  };

  declare client: FactMlpLabClient | null;
  declare setup: FactMlpSetup;
  /** The neuron's answers for COMBINATIONS (same order), for the weights last run; null before the first. */
  declare private results: FactMlpResult[] | null;
  declare private error: string;

  /** Busy from an edit until the neuron's answers for it; quick edits share one run. */
  private readonly running = new Newest<FactMlpResult[]>(this, { delay: DEBOUNCE_MS });

  constructor() {
    super();
    new OwnClient(this); // a worker of its own when the page gives none
    this.client = null;
    this.setup = defaultFactMlp();
    this.results = null;
    this.error = '';
  }

  // willUpdate: the busy state goes into this render, not a second one.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('client') && !changed.has('setup')) return;
    if (this.client) void this.run(this.client, this.setup);
    else this.running.drop();
  }

  /** One call per combination of names, the chosen one first so it is not kept waiting behind the others. */
  private async run(client: FactMlpLabClient, setup: FactMlpSetup): Promise<void> {
    const chosen = combinationIndex(setup.input);
    const order = [chosen, ...COMBINATIONS.keys()].filter((index, position) => position === 0 || index !== chosen);
    await this.running.ask(
      async () => {
        const answers = await Promise.all(
          order.map((index) => client.labs.factMlp({ ...setup, input: { ...COMBINATIONS[index]! } })),
        );
        const results: FactMlpResult[] = [];
        order.forEach((index, position) => (results[index] = answers[position]!));
        return results;
      },
      (answer) => {
        if (answer.error !== undefined) {
          this.error = `Could not run the neuron: ${messageOf(answer.error)}`;
        } else {
          this.results = answer.value;
          this.error = '';
        }
      },
    );
  }

  private setName(name: Name, carried: boolean): void {
    this.setup = { ...this.setup, input: { ...this.setup.input, [name]: carried } };
  }

  private setEntry(vector: Editable, index: number, value: number): void {
    const setup = this.setup;
    const replaced = (values: number[]) => values.map((old, i) => (i === index ? value : old));
    this.setup =
      vector === 'up' || vector === 'down'
        ? { ...setup, [vector]: replaced(setup[vector]) }
        : { ...setup, directions: { ...setup.directions, [vector]: replaced(setup.directions[vector]) } };
  }

  static override styles = [
    theme,
    buttons,
    inputs,
    tables,
    css`
      h3 {
        font-size: 1rem;
        margin: 1rem 0 0.25rem;
      }
      .explanation {
        max-width: 44rem;
      }
      .vectors {
        display: grid;
        grid-template-columns: 12rem max-content;
        gap: 0.5rem 0.75rem;
        align-items: end;
        overflow-x: auto;
      }
      .vector {
        display: grid;
        grid-column: 1 / -1;
        grid-template-columns: subgrid;
        align-items: end;
      }
      .vector-label {
        font-weight: 600;
        font-size: 0.9rem;
        padding-bottom: 0.35rem;
      }
      .vector-label .note {
        display: block;
        font-weight: 400;
        font-size: 0.78rem;
        color: var(--_muted);
      }
      .plot {
        display: grid;
        grid-template-columns: repeat(var(--dims), 3.6rem);
        gap: 2px 3px;
      }
      .bars {
        grid-column: 1 / -1;
        width: 100%;
        height: 2.6rem;
        display: block;
      }
      .bars .baseline {
        stroke: var(--_border);
      }
      .bars .positive {
        fill: var(--_accent);
      }
      .bars .negative {
        fill: var(--_warning);
      }
      .plot input[type='number'] {
        padding: 0.2rem 0.25rem;
        font-size: 0.85rem;
        text-align: right;
      }
      .plot .value {
        font-family: var(--_mono);
        font-size: 0.85rem;
        text-align: right;
        padding: 0.2rem 0.3rem;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem 2rem;
        align-items: start;
      }
      .controls {
        margin-top: 0.75rem;
      }
      .bias {
        width: 16rem;
      }
      .bias label {
        display: block;
        margin-bottom: 0.2rem;
        font-weight: 600;
        font-size: 0.9rem;
      }
      .bias .caption {
        font-size: 0.78rem;
        margin: 0.2rem 0 0;
      }
      fieldset {
        border: none;
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
        margin: 0;
        padding: 0;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
        padding: 0;
        margin-bottom: 0.3rem;
      }
      .result {
        transition: opacity 120ms;
      }
      .result[aria-busy='true'] {
        opacity: 0.6;
      }
      .steps {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1.5rem;
        align-items: center;
        font-family: var(--_mono);
        margin: 0.5rem 0;
      }
      .neuron {
        --lit: 0;
        display: inline-block;
        width: 1.6rem;
        height: 1.6rem;
        border-radius: 50%;
        border: 2px solid var(--_accent);
        background: color-mix(in srgb, var(--_accent) calc(var(--lit) * 100%), transparent);
        vertical-align: middle;
      }
      .neuron.small {
        width: 0.9rem;
        height: 0.9rem;
      }
      .basketball {
        font-size: 1.1rem;
        font-weight: 600;
        margin: 0.5rem 0;
      }
      .basketball output {
        font-family: var(--_mono);
      }
      tr[aria-current='true'] {
        background: var(--_surface);
        font-weight: 600;
      }
      .error {
        color: var(--_error);
      }
      @media (prefers-reduced-motion: reduce) {
        .result {
          transition: none;
        }
      }
    `,
  ];

  override render() {
    const setup = this.setup;
    const results = this.results;
    const result = results?.[combinationIndex(setup.input)];
    // One scale for every bar, so lengths compare across rows.
    const shown = [...Object.values(setup.directions), setup.up, setup.down];
    if (result) shown.push(result.input, result.output, result.residual);
    const scale = Math.max(1, ...shown.flat().map(Math.abs));
    const vector = (name: string, label: string, values: readonly number[], options: VectorOptions = {}) =>
      this.renderVector(name, label, values, scale, options);
    return html`
      <p class="caption explanation" part="explanation">
        <strong>MLP as fact storage.</strong> A token's vector in the residual stream can hold several directions at
        once; here one means "first name Michael", one "last name Jordan". A neuron reads the vector through its
        up-projection row, which points along Michael + Jordan: the dot product is 2 with both names and 1 with one. The
        bias of −1 brings that to 1 or 0, and ReLU turns everything up to 0 into 0, so the neuron fires only for both
        names: an AND. When it fires, it adds its down-projection column, which points along basketball, to the stream,
        where later layers can read the fact. Real models spread a fact over many neurons and many nearly orthogonal
        directions, but this is the idea. Change any number and watch.
      </p>

      <h3>Directions</h3>
      <div class="vectors" part="directions" ${styleProperties({ '--dims': setup.up.length })}>
        ${DIRECTIONS.map(({ key, label }) =>
          vector(key, label, setup.directions[key], { edit: (index, value) => this.setEntry(key, index, value) }),
        )}
      </div>

      <h3>The input</h3>
      <fieldset part="names">
        <legend>Names it carries</legend>
        ${DIRECTIONS.filter((entry): entry is { key: Name; label: string } => entry.key !== 'basketball').map(
          ({ key, label }) => html`<label>
            <input
              type="checkbox"
              part="name-${key}"
              .checked=${setup.input[key]}
              @change=${(event: Event) => this.setName(key, (event.target as HTMLInputElement).checked)}
            />
            ${label}
          </label>`,
        )}
      </fieldset>

      <h3>The neuron</h3>
      <div class="vectors" part="weights" ${styleProperties({ '--dims': setup.up.length })}>
        ${vector('up', 'Up-projection row', setup.up, {
          note: 'what the neuron looks for',
          edit: (index, value) => this.setEntry('up', index, value),
        })}
        ${vector('down', 'Down-projection column', setup.down, {
          note: 'what it adds when it fires',
          edit: (index, value) => this.setEntry('down', index, value),
        })}
      </div>
      <div class="controls">
        <div class="bias" part="bias-field">
          <label for="bias">Bias</label>
          ${numberInput(setup.bias, ENTRY_RANGE, (bias) => (this.setup = { ...this.setup, bias }), { part: 'bias', id: 'bias', describedBy: 'bias-caption' })}
          <p class="caption" id="bias-caption">Added after the dot product. At −1, one name alone is not enough.</p>
        </div>
        <fieldset part="activation">
          <legend>Activation</legend>
          ${ACTIVATIONS.map(
            ({ id, label }) => html`<label>
              <input
                type="radio"
                name="activation"
                part="activation-${id}"
                value=${id}
                .checked=${setup.activation === id}
                @change=${() => (this.setup = { ...this.setup, activation: id })}
              />
              ${label}
            </label>`,
          )}
        </fieldset>
        <button part="reset" @click=${() => (this.setup = defaultFactMlp())}>Back to the first numbers</button>
      </div>

      ${this.renderResult(setup, result, vector)} ${results ? this.renderTruthTable(setup, results) : nothing}
    `;
  }

  private renderResult(setup: FactMlpSetup, result: FactMlpResult | undefined, vector: VectorRenderer) {
    const busy = this.running.busy;
    const status = busy ? 'Running the neuron…' : '';
    const activation = ACTIVATIONS.find(({ id }) => id === setup.activation)!.label;
    return html`
      <section class="result" part="result" aria-busy=${String(busy)} aria-labelledby="result-title">
        <h3 id="result-title">What the MLP does with ${namesOf(setup.input)}</h3>
        <p class="caption" part="status" role="status">${status}</p>
        ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
        ${
          result
            ? html`
              <div class="vectors" ${styleProperties({ '--dims': result.input.length })}>${vector('input', 'Input', result.input)}</div>
              <div class="steps">
                <span>up · input + bias = <output part="pre">${formatNumber(result.pre)}</output></span>
                <span>${activation}(${formatNumber(result.pre)}) = <output part="post">${formatNumber(result.post)}</output></span>
                ${this.renderNeuron(result.post, this.brightestPost(), false)}
              </div>
              <div class="vectors" ${styleProperties({ '--dims': result.output.length })}>
                ${vector('output', 'Output', result.output, { note: 'post × down' })}
                ${vector('residual', 'Residual after', result.residual, { note: 'input + output' })}
              </div>
              <p class="basketball">
                Basketball added: <output part="basketball-added">${formatNumber(result.basketball)}</output>
              </p>
            `
            : nothing
        }
      </section>
    `;
  }

  private renderTruthTable(setup: FactMlpSetup, results: FactMlpResult[]) {
    const chosen = combinationIndex(setup.input);
    const brightest = this.brightestPost();
    const mark = (carried: boolean) => (carried ? '✓' : '–');
    return html`
      <table part="truth-table">
        <caption class="caption">Every input at once: the neuron fires only when both names are there.</caption>
        <thead>
          <tr>
            <th scope="col">Michael</th>
            <th scope="col">Jordan</th>
            <th scope="col">Pre</th>
            <th scope="col">Post</th>
            <th scope="col">Neuron</th>
            <th scope="col">Basketball added</th>
          </tr>
        </thead>
        <tbody>
          ${COMBINATIONS.map(({ michael, jordan }, index) => {
            const result = results[index]!;
            const current = index === chosen;
            return html`<tr part=${current ? 'truth-row current' : 'truth-row'} aria-current=${current ? 'true' : nothing}>
              <td aria-label=${michael ? 'yes' : 'no'}>${mark(michael)}</td>
              <td aria-label=${jordan ? 'yes' : 'no'}>${mark(jordan)}</td>
              <td class="number" part="truth-pre">${formatNumber(result.pre)}</td>
              <td class="number" part="truth-post">${formatNumber(result.post)}</td>
              <td>${this.renderNeuron(result.post, brightest, true)}</td>
              <td class="number" part="truth-basketball">${formatNumber(result.basketball)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    `;
  }

  /** The largest post of the four, at least 1: the brightness of a fully lit neuron. */
  private brightestPost(): number {
    return Math.max(1, ...(this.results ?? []).map(({ post }) => post));
  }

  /** A circle filled as far as post reaches toward the brightest; dark at 0 or below. */
  private renderNeuron(post: number, brightest: number, small: boolean) {
    const lit = Math.min(1, Math.max(0, post / brightest));
    return html`<span
      class="neuron ${small ? 'small' : ''}"
      part="neuron"
      ${styleProperties({ '--lit': lit.toFixed(3) })}
      aria-hidden="true"
    ></span>`;
  }

  private renderVector(name: string, label: string, values: readonly number[], scale: number, options: VectorOptions) {
    const { edit, note } = options;
    return html`<div class="vector" part="vector ${name}">
      <span class="vector-label" part="vector-label">${label}${note ? html`<span class="note">${note}</span>` : nothing}</span>
      <div class="plot">
        ${barRow(values, scale, describeVector(label, values))}
        ${values.map((value, index) =>
          edit
            ? numberInput(value, ENTRY_RANGE, (typed) => edit(index, typed), {
                part: 'cell',
                label: `${label}, dimension ${index + 1}`,
              })
            : html`<span class="value" part="cell" aria-hidden="true">${formatNumber(value)}</span>`,
        )}
      </div>
    </div>`;
  }
}

interface VectorOptions {
  /** A second line under the label. */
  note?: string;
  /** Makes the entries number fields; called with an entry's index and its new value. */
  edit?: (index: number, value: number) => void;
}

type VectorRenderer = (name: string, label: string, values: readonly number[], options?: VectorOptions) => unknown;

/** One bar per entry, up from the middle line for positive values, down for negative; its values as the label. */
function barRow(values: readonly number[], scale: number, label: string) {
  const half = 0.92;
  return html`<svg class="bars" part="bars" role="img" aria-label=${label} viewBox="0 -1 ${values.length} 2" preserveAspectRatio="none">
    ${values.map((value, index) => {
      const height = (Math.abs(value) / scale) * half;
      return svg`<rect class=${value < 0 ? 'negative' : 'positive'} x=${index + 0.12} width="0.76"
        y=${value < 0 ? 0 : -height} height=${height}></rect>`;
    })}
    <line class="baseline" x1="0" x2=${values.length} y1="0" y2="0" vector-effect="non-scaling-stroke"></line>
  </svg>`;
}

define('llm-fact-mlp-lab', FactMlpLab);

declare global {
  interface HTMLElementTagNameMap {
    'llm-fact-mlp-lab': FactMlpLab;
  }
}
