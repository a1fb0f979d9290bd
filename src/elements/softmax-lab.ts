/**
 * <llm-softmax-lab>: softmax and temperature, hands on. A handful of named
 * tokens with a logit each (type it, drag its bar, or use the arrow keys on the
 * bar), their probabilities after softmax at the chosen temperature, the
 * formula with one token's numbers put in, the model's real logits for the
 * prompt on request, and a seeded histogram of many draws beside the
 * probabilities. Every number comes from `client`; the element only lays
 * them out.
 *
 * Keyboard: on a logit bar, arrow keys change the logit by 0.1, Page Up/Down by 1.
 * Its properties and parts are the tags of the class comment.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { messageOf, type SoftmaxResult, type Uses } from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { describeToken, formatPercent, visibleToken } from '../visible-token.ts';
import { type NumberField, renderNumberFields } from './number-fields.ts';
import { OwnClient } from './own-client.ts';
import { softmaxLabStyles } from './softmax-lab.styles.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

/** What the softmax lab asks of the engine. */
export type SoftmaxLabClient = Uses<'labs', 'softmax' | 'sampleCounts' | 'modelLogits'>;

const EXAMPLE_TOKENS = ['cat', 'dog', 'mat', 'hat', 'bat'];
const EXAMPLE_LOGITS = [2.0, 1.0, 0.5, 0.1, -1.0];

/** How many of the model's likeliest next tokens "Load" brings in. */
const MODEL_TOKEN_COUNT = 8;
const DRAW_CHOICES = [10, 100, 1000, 10000];
const MAX_TEMPERATURE = 2;
/** Typed logits stay within ±this. */
const LOGIT_LIMIT = 100;
/** The logit bars reach at least ±this, more when a logit is larger. */
const MIN_BAR_REACH = 5;
const KEY_STEP = 0.1;
const PAGE_STEP = 1;

const SEED_FIELD: NumberField<'seed'>[] = [
  { key: 'seed', label: 'Seed', min: 0, max: 4294967295, step: 1, caption: 'Same seed, same draws.' },
];

/** Counts drawn for one set of logits at one temperature; shown only while those are the ones on screen. */
interface Sample {
  logits: number[];
  temperature: number;
  draws: number;
  seed: number;
  counts: number[];
}

/** A logit drag in progress: which token, and the bar's reach, held so the scale does not move under the pointer. */
interface Drag {
  index: number;
  reach: number;
}

/** Logits to two decimals, as dragging and the arrow keys leave them (no 0.30000000000000004). */
const tidy = (value: number): number => Number(value.toFixed(2));
const clampLogit = (value: number): number => Math.min(LOGIT_LIMIT, Math.max(-LOGIT_LIMIT, value));
const formatLogit = (value: number): string => String(Number(value.toFixed(4)));

/** Numbers of the formula: fixed digits where they read well, exponents for the very small or large. */
function formatNumber(value: number): string {
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  if (value === 0) return '0';
  const size = Math.abs(value);
  const text = size >= 1e-3 && size < 1e6 ? value.toFixed(4) : value.toExponential(3);
  return text.replace('-', '−');
}

/**
 * @tagname llm-softmax-lab
 * @summary Softmax and temperature, hands on: logits in, probabilities and a histogram of draws out.
 *
 * @prop client - SoftmaxLabClient | null: anything with the labs area's softmax, sampleCounts and modelLogits
 * (EngineClient). When none is set by the time the element connects, it starts its own EngineClient (the shipped
 * model) and ends it when disconnected.
 * @prop text - The playground's prompt, for "Load the model's real logits".
 * @prop tokens - The tokens' names.
 * @prop logits - One logit per token.
 * @prop temperature - 0 … 2.
 *
 * @csspart explanation
 * @csspart temperature
 * @csspart temperature-input
 * @csspart temperature-value
 * @csspart tokens
 * @csspart token - A token's row.
 * @csspart token-name
 * @csspart logit-input
 * @csspart logit-bar
 * @csspart logit-fill
 * @csspart probability
 * @csspart probability-fill
 * @csspart sample-fill
 * @csspart sample-value
 * @csspart formula
 * @csspart formula-token
 * @csspart scaled
 * @csspart numerator
 * @csspart denominator
 * @csspart formula-probability
 * @csspart load-button
 * @csspart reset-button
 * @csspart sampling
 * @csspart draws
 * @csspart field - The seed's number field (also seed).
 * @csspart seed
 * @csspart draw-button
 * @csspart status
 * @csspart error
 */
export class SoftmaxLab extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: { attribute: false },
    tokens: { attribute: false },
    logits: { attribute: false },
    temperature: { type: Number },
    ...states('result', 'sample', 'draws', 'seed', 'formulaIndex', 'busy', 'status', 'error', 'drag'),
  };

  declare client: SoftmaxLabClient | null;
  declare text: string;
  declare tokens: string[];
  declare logits: number[];
  declare temperature: number;
  /** The client's softmax of the logits on screen; null until it answers. */
  declare private result: SoftmaxResult | null;
  declare private sample: Sample | null;
  declare private draws: number;
  declare private seed: number;
  /** The token whose numbers the formula shows. */
  declare private formulaIndex: number;
  declare private busy: 'load' | 'draw' | null;
  declare private status: string;
  declare private error: string;
  declare private drag: Drag | null;

  private readonly softmaxAsk = new Newest<SoftmaxResult>(this);

  constructor() {
    super();
    new OwnClient(this); // a worker of its own when the page gives none
    this.client = null;
    this.text = '';
    this.tokens = [...EXAMPLE_TOKENS];
    this.logits = [...EXAMPLE_LOGITS];
    this.temperature = 1;
    this.result = null;
    this.sample = null;
    this.draws = 1000;
    this.seed = 42;
    this.formulaIndex = 0;
    this.busy = null;
    this.status = '';
    this.error = '';
    this.drag = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('tokens')) this.formulaIndex = Math.min(this.formulaIndex, Math.max(0, this.tokens.length - 1));
    if (changed.has('client') || changed.has('logits') || changed.has('temperature')) void this.computeSoftmax();
  }

  private async computeSoftmax(): Promise<void> {
    const { client, logits, temperature } = this;
    if (!client) return;
    await this.softmaxAsk.ask(
      () => client.labs.softmax(logits, temperature),
      (answer) => {
        if (answer.error !== undefined) {
          this.error = `Could not compute the softmax: ${messageOf(answer.error)}`;
        } else {
          this.result = answer.value;
          this.error = '';
        }
      },
    );
  }

  private setLogit(index: number, value: number): void {
    if (value === this.logits[index]) return;
    this.logits = this.logits.map((logit, i) => (i === index ? value : logit));
  }

  /** How far the logit bars reach either side of 0. */
  private barReach(): number {
    if (this.drag) return this.drag.reach;
    return Math.max(MIN_BAR_REACH, Math.ceil(Math.max(...this.logits.map(Math.abs))));
  }

  private async loadModelLogits(): Promise<void> {
    const client = this.client;
    if (!client || this.busy || !this.text) return;
    this.busy = 'load';
    this.status = '';
    this.error = '';
    try {
      const { tokens, logits } = await client.labs.modelLogits(this.text, MODEL_TOKEN_COUNT);
      this.tokens = tokens;
      this.logits = logits;
      this.status = `The model's ${tokens.length} likeliest next tokens after the prompt, with their logits.`;
    } catch (error) {
      this.error = `Could not load the model's logits: ${messageOf(error)}`;
    } finally {
      this.busy = null;
    }
  }

  private resetExample(): void {
    this.tokens = [...EXAMPLE_TOKENS];
    this.logits = [...EXAMPLE_LOGITS];
    this.status = 'Back to the example tokens.';
  }

  private async drawSample(): Promise<void> {
    const client = this.client;
    if (!client || this.busy) return;
    const { logits, temperature, draws, seed } = this;
    this.busy = 'draw';
    this.status = '';
    this.error = '';
    try {
      const counts = await client.labs.sampleCounts(logits, temperature, draws, seed);
      this.sample = { logits, temperature, draws, seed, counts };
      this.status = `Drew ${count(draws)} tokens with seed ${seed}.`;
    } catch (error) {
      this.error = `Could not draw: ${messageOf(error)}`;
    } finally {
      this.busy = null;
    }
  }

  /** The sample drawn for what is on screen now, if any. */
  private currentSample(): Sample | null {
    const sample = this.sample;
    return sample && sample.logits === this.logits && sample.temperature === this.temperature ? sample : null;
  }

  static override styles = softmaxLabStyles;

  override render() {
    return html`
      <p class="caption" part="explanation">
        A model ends each step with a score per token, its logit z. Softmax turns the scores into probabilities:
        raise e to each one and divide by the total, so every token gets a share and the shares add up to 1.
        Temperature T divides the scores first: below 1 the gaps grow and the top token takes more, above 1 they
        shrink and the odds even out, and at 0 the largest takes everything.
      </p>
      ${this.renderTemperature()} ${this.renderTokens()} ${this.renderFormula()}
      <div class="actions">
        <button
          part="load-button"
          ?disabled=${!this.client || !!this.busy || !this.text}
          title=${this.text ? nothing : 'Type a prompt first'}
          @click=${() => this.loadModelLogits()}
        >
          ${this.busy === 'load' ? 'Loading…' : "Load the model's real logits"}
        </button>
        <button part="reset-button" ?disabled=${!!this.busy} @click=${() => this.resetExample()}>Back to the example</button>
      </div>
      ${this.renderSampling()}
      <p class="caption" part="status" role="status">${this.status}</p>
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
    `;
  }

  private renderTemperature() {
    return html`<div class="temperature" part="temperature">
      <label for="temperature">Temperature T</label>
      <input
        id="temperature"
        part="temperature-input"
        type="range"
        min="0"
        max=${MAX_TEMPERATURE}
        step="0.01"
        .value=${String(this.temperature)}
        @input=${(event: Event) => (this.temperature = (event.target as HTMLInputElement).valueAsNumber)}
      />
      <output for="temperature" part="temperature-value">${this.temperature.toFixed(2)}</output>
    </div>`;
  }

  private renderTokens() {
    const sample = this.currentSample();
    return html`<table part="tokens">
      <thead>
        <tr>
          <th scope="col">Token</th>
          <th scope="col" colspan="2">Logit z (type or drag)</th>
          <th scope="col" colspan="2">
            Probability p${sample ? html` <span class="legend-sample">and share of ${count(sample.draws)} draws</span>` : nothing}
          </th>
        </tr>
      </thead>
      <tbody>
        ${this.tokens.map((token, index) => this.renderToken(token, index, sample))}
      </tbody>
    </table>`;
  }

  private renderToken(token: string, index: number, sample: Sample | null) {
    const logit = this.logits[index] ?? 0;
    const probability = this.result?.probs[index];
    const share = sample ? (sample.counts[index] ?? 0) / sample.draws : null;
    const reach = this.barReach();
    // Layout only: where 0 and the logit sit on a bar from −reach to +reach.
    const from = 50 + (Math.min(0, logit) / reach) * 50;
    const to = 50 + (Math.max(0, logit) / reach) * 50;
    const name = describeToken(token);
    return html`<tr part="token">
      <th scope="row" class="name" part="token-name" title=${name}>${visibleToken(token)}</th>
      <td>
        <input
          class="logit"
          part="logit-input"
          type="number"
          min=${-LOGIT_LIMIT}
          max=${LOGIT_LIMIT}
          step=${KEY_STEP}
          aria-label="Logit of ${name}"
          .value=${formatLogit(logit)}
          @input=${(event: Event) => this.typeLogit(index, event.target as HTMLInputElement, false)}
          @change=${(event: Event) => this.typeLogit(index, event.target as HTMLInputElement, true)}
        />
      </td>
      <td>
        <div
          class="logit-bar"
          part="logit-bar"
          role="slider"
          tabindex="0"
          aria-label="Logit of ${name}"
          aria-valuemin=${-reach}
          aria-valuemax=${reach}
          aria-valuenow=${logit}
          aria-valuetext=${formatLogit(logit)}
          @pointerdown=${(event: PointerEvent) => this.startDrag(event, index)}
          @pointermove=${(event: PointerEvent) => this.moveDrag(event, index)}
          @lostpointercapture=${() => (this.drag = null)}
          @keydown=${(event: KeyboardEvent) => this.onBarKey(event, index)}
        >
          <span class="logit-fill" part="logit-fill" ${styleProperties({ left: `${from.toFixed(2)}%`, width: `${(to - from).toFixed(2)}%` })}></span>
        </div>
      </td>
      <td class="shares" aria-hidden="true">
        <div class="track">
          <span class="fill" part="probability-fill" ${styleProperties({ width: `${((probability ?? 0) * 100).toFixed(2)}%` })}></span>
        </div>
        ${
          share === null
            ? nothing
            : html`<div class="track sample">
              <span class="fill" part="sample-fill" ${styleProperties({ width: `${(share * 100).toFixed(2)}%` })}></span>
            </div>`
        }
      </td>
      <td class="values">
        <span part="probability">${probability === undefined ? '…' : formatPercent(probability)}</span>
        ${
          share === null
            ? nothing
            : html`<span class="sample-value" part="sample-value"
              >${formatPercent(share)} (${count(sample!.counts[index] ?? 0)})</span
            >`
        }
      </td>
    </tr>`;
  }

  /** While typing, only readable numbers in range apply; on leaving the field, anything else is clamped or restored. */
  private typeLogit(index: number, input: HTMLInputElement, leaving: boolean): void {
    const typed = input.valueAsNumber;
    if (!leaving && !(Math.abs(typed) <= LOGIT_LIMIT)) return;
    const value = Number.isFinite(typed) ? clampLogit(typed) : (this.logits[index] ?? 0);
    if (leaving) input.value = formatLogit(value);
    this.setLogit(index, value);
  }

  private startDrag(event: PointerEvent, index: number): void {
    if (event.button !== 0) return;
    const bar = event.currentTarget as HTMLElement;
    bar.setPointerCapture(event.pointerId);
    bar.focus();
    this.drag = { index, reach: this.barReach() };
    this.dragTo(event, index);
  }

  private moveDrag(event: PointerEvent, index: number): void {
    if (this.drag?.index === index) this.dragTo(event, index);
  }

  private dragTo(event: PointerEvent, index: number): void {
    const box = (event.currentTarget as HTMLElement).getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const reach = this.drag!.reach;
    this.setLogit(index, tidy((fraction * 2 - 1) * reach));
  }

  private onBarKey(event: KeyboardEvent, index: number): void {
    const steps: Record<string, number> = {
      ArrowRight: KEY_STEP,
      ArrowUp: KEY_STEP,
      ArrowLeft: -KEY_STEP,
      ArrowDown: -KEY_STEP,
      PageUp: PAGE_STEP,
      PageDown: -PAGE_STEP,
    };
    const step = steps[event.key];
    if (step === undefined) return;
    event.preventDefault();
    this.setLogit(index, tidy(clampLogit((this.logits[index] ?? 0) + step)));
  }

  private renderFormula() {
    const result = this.result;
    const index = this.formulaIndex;
    const t = this.temperature;
    const general = html`<p>p<sub>i</sub> = exp(z<sub>i</sub> / T) / Σ<sub>j</sub> exp(z<sub>j</sub> / T)</p>`;
    const picker = html`<label
      >Numbers for
      <select part="formula-token" @change=${(event: Event) => (this.formulaIndex = (event.target as HTMLSelectElement).selectedIndex)}>
        ${this.tokens.map((token, i) => html`<option ?selected=${i === index}>${visibleToken(token)}</option>`)}
      </select></label
    >`;
    if (!result || result.probs.length !== this.tokens.length) {
      return html`<div class="formula" part="formula">${general}</div>`;
    }
    const token = visibleToken(this.tokens[index] ?? '');
    // Display only: the shift the client took off before exp; it cancels above and below the line.
    const largest = formatNumber(Math.max(...result.scaled));
    const withNumbers =
      t === 0
        ? html`<p class="caption">At T = 0, z / T is +∞ for the largest logit and −∞ for the rest: the largest takes it all (shared if tied).</p>`
        : html`<p>
            p(${token}) = exp(${formatLogit(this.logits[index] ?? 0)} / ${t.toFixed(2)}) / Σ<sub>j</sub> exp(z<sub>j</sub> / ${t.toFixed(2)})
          </p>`;
    return html`<div class="formula" part="formula">
      ${general} ${picker} ${withNumbers}
      <p>
        p(${token}) = exp(<span part="scaled">${formatNumber(result.scaled[index]!)}</span> − ${largest}) / Σ<sub>j</sub>
        exp(z<sub>j</sub> / T − ${largest})
      </p>
      <p>
        = <span part="numerator">${formatNumber(result.exps[index]!)}</span> /
        <span part="denominator">${formatNumber(result.sum)}</span> =
        <span part="formula-probability">${formatPercent(result.probs[index]!)}</span>
      </p>
      <p class="caption">Taking the largest z / T off every exponent changes nothing (it cancels) but keeps exp from overflowing.</p>
    </div>`;
  }

  private renderSampling() {
    return html`<div class="sampling" part="sampling">
        <div class="draws">
          <label for="draws">Draws</label>
          <select id="draws" part="draws" @change=${(event: Event) => (this.draws = Number((event.target as HTMLSelectElement).value))}>
            ${DRAW_CHOICES.map((n) => html`<option value=${n} ?selected=${n === this.draws}>${count(n)}</option>`)}
          </select>
        </div>
        ${renderNumberFields(
          SEED_FIELD,
          { seed: this.seed },
          {
            disabled: false,
            idPrefix: 'sample-',
            onChange: (_key, value) => (this.seed = value),
          },
        )}
        <button class="primary" part="draw-button" ?disabled=${!this.client || !!this.busy} @click=${() => this.drawSample()}>
          ${this.busy === 'draw' ? 'Drawing…' : `Draw ${count(this.draws)} times`}
        </button>
      </div>
      <p class="caption">
        Each draw picks one token at random with these odds. The more draws, the closer the shares come to the
        probabilities; the same seed gives the same draws.
      </p>`;
  }
}

define('llm-softmax-lab', SoftmaxLab);

declare global {
  interface HTMLElementTagNameMap {
    'llm-softmax-lab': SoftmaxLab;
  }
}
