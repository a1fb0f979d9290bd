/**
 * <llm-superposition-lab>: why a model can hold more features than it has
 * dimensions. First, random directions: pick a dimension and a number of
 * vectors, and a histogram of every pair's angle shows them bunching near 90°
 * as the dimension grows (each dimension's spread is kept in a list). Second,
 * packing: gradient descent (in the worker) pushes N unit vectors in d < N
 * dimensions toward right angles, the histogram narrowing live, and counts the
 * pairs within 90° ± ε. Every number comes from `client`; the element only lays
 * the bars out. The histograms are SVG, so they stay sharp at any pixel ratio,
 * and each has a hidden table of its bins.
 *
 * Keyboard: the dimension slider takes arrow keys, Page Up/Down, Home and End.
 * Its properties and parts are the tags of the class comment.
 */
import { css, html, LitElement, nothing, svg, type PropertyValues } from 'lit';
import {
  type AngleHistogram,
  DEFAULT_PACKING,
  messageOf,
  type PackingFrame,
  type PackingRequest,
  type Uses,
} from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { type Answer, Newest } from '../newest.ts';
import { states } from '../states.ts';
import { buttons, theme, visuallyHidden } from '../theme.ts';
import { OwnClient } from './own-client.ts';
import { numberFieldStyles, renderNumberFields, type NumberField } from './number-fields.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

/** What the superposition lab asks of the engine. */
export type SuperpositionLabClient = Uses<'labs', 'randomAngles' | 'packVectors'>;

/** The slider's stops: roughly even steps on a log scale from 2 to 10,000. */
const DIMENSIONS = [2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000];
/** Two-degree bins. */
const BINS = 90;
/** Dimensions kept in the list of spreads. */
const SPREADS_KEPT = 8;

interface AnglesSettings {
  count: number;
  seed: number;
}

const ANGLES_FIELDS: readonly NumberField<keyof AnglesSettings>[] = [
  { key: 'count', label: 'Vectors', min: 10, max: 300, step: 1, caption: 'Every pair is measured.' },
  { key: 'seed', label: 'Seed', min: 0, max: 2 ** 31 - 1, step: 1, caption: 'Same seed, same vectors.' },
];

const PACKING_FIELDS: readonly NumberField<keyof PackingRequest>[] = [
  { key: 'dimension', label: 'Dimensions d', min: 2, max: 256, step: 1, caption: 'Room the vectors share.' },
  { key: 'count', label: 'Vectors N', min: 2, max: 512, step: 1, caption: 'Directions to fit.' },
  { key: 'tolerance', label: 'ε (degrees)', min: 0.5, max: 45, step: 'any', caption: 'A pair fits within 90° ± ε.' },
  { key: 'steps', label: 'Steps', min: 10, max: 5000, step: 1, caption: 'Gradient descent steps.' },
  { key: 'seed', label: 'Seed', min: 0, max: 2 ** 31 - 1, step: 1, caption: 'Same seed, same start.' },
];

/** The histogram's size in CSS pixels and its margins. */
const WIDTH = 480;
const HEIGHT = 180;
const MARGIN = { left: 40, right: 12, top: 10, bottom: 30 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;
const ANGLE_TICKS = [0, 45, 90, 135, 180];

/** Spreads at large d are well under a degree: two decimals there, one above 10°. */
const degrees = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(1)}°`;

/** A bin edge: whole degrees as they are, others to a tenth. */
const angle = (value: number): string => `${Number(value.toFixed(1))}°`;

/** One drawn set of random vectors, for the list of spreads. */
interface SpreadEntry {
  dimension: number;
  count: number;
  spreadDegrees: number;
}

/**
 * @tagname llm-superposition-lab
 * @summary Why a model holds more features than dimensions: random angles, then vectors packed near 90°.
 *
 * @prop client - SuperpositionLabClient | null (EngineClient, set by <llm-labs-panel>). When none is set by the time
 * the element connects, it starts its own EngineClient (the shipped model) and ends it when disconnected.
 *
 * @csspart angles
 * @csspart dimension - The dimension slider's row, and the packing's dimension field.
 * @csspart dimension-slider
 * @csspart dimension-value
 * @csspart field - Each number field (also count, seed, dimension, tolerance or steps).
 * @csspart count
 * @csspart seed
 * @csspart tolerance
 * @csspart steps
 * @csspart angles-summary
 * @csspart angles-status
 * @csspart angles-error
 * @csspart spreads
 * @csspart spread
 * @csspart spread-bar
 * @csspart packing
 * @csspart pack-explanation
 * @csspart run-button
 * @csspart pack-status
 * @csspart pack-progress
 * @csspart pack-deviation
 * @csspart pack-within
 * @csspart pack-error
 * @csspart histogram - Each chart (also angles-histogram or pack-histogram).
 * @csspart angles-histogram
 * @csspart pack-histogram
 * @csspart bar
 * @csspart right-angle
 * @csspart tolerance-band
 * @csspart histogram-table
 */
export class SuperpositionLab extends LitElement {
  static override properties = {
    client: { attribute: false },
    ...states('dimension', 'angles', 'histogram', 'spreads', 'anglesError', 'packing', 'frame', 'packError'),
  };

  declare client: SuperpositionLabClient | null;
  declare private dimension: number;
  declare private angles: AnglesSettings;
  declare private histogram: AngleHistogram | null;
  /** The latest spread of each dimension drawn, smallest dimension first. */
  declare private spreads: SpreadEntry[];
  declare private anglesError: string;
  declare private packing: PackingRequest;
  /** The newest frame of the running (or last) packing, with the request it belongs to. */
  declare private frame: { request: PackingRequest; frame: PackingFrame } | null;
  declare private packError: string;

  /** Busy while random angles are measured; a newer draw drops the one before. */
  private readonly drawing = new Newest<AngleHistogram>(this);
  /** Busy while the vectors are packed (one run at a time). */
  private readonly packRun = new Newest<PackingFrame>(this);

  constructor() {
    super();
    new OwnClient(this); // a worker of its own when the page gives none
    this.client = null;
    this.dimension = 100;
    this.angles = { count: 100, seed: 1 };
    this.histogram = null;
    this.spreads = [];
    this.anglesError = '';
    this.packing = { ...DEFAULT_PACKING };
    this.frame = null;
    this.packError = '';
  }

  static override styles = [
    theme,
    buttons,
    numberFieldStyles,
    visuallyHidden,
    css`
      section + section {
        margin-top: 1.5rem;
        border-top: 1px solid var(--_border);
        padding-top: 1rem;
      }
      h3 {
        margin: 0 0 0.25rem;
        font-size: 1rem;
      }
      .dimension label {
        font-weight: 600;
        font-size: 0.9rem;
      }
      .dimension input {
        width: min(24rem, 100%);
        vertical-align: middle;
        accent-color: var(--_accent);
      }
      .dimension output {
        font-family: var(--_mono);
        margin-left: 0.5rem;
      }
      .chart[aria-busy='true'] svg {
        opacity: 0.6;
      }
      svg {
        display: block;
        width: 100%;
        max-width: 40rem;
        height: auto;
        margin-top: 0.75rem;
        font-family: var(--_font);
        font-size: 11px;
      }
      svg text {
        fill: var(--_muted);
      }
      .axis {
        stroke: var(--_border);
      }
      .bar {
        fill: var(--_accent);
      }
      .right-angle {
        stroke: var(--_warning);
        stroke-width: 1.5;
        stroke-dasharray: 4 3;
      }
      .band {
        fill: var(--_warning);
        opacity: 0.15;
      }
      .numbers {
        font-family: var(--_mono);
        margin: 0.25rem 0;
      }
      .spreads {
        list-style: none;
        margin: 0.5rem 0 0;
        padding: 0;
        display: grid;
        grid-template-columns: auto minmax(8rem, 16rem) auto;
        justify-content: start;
        gap: 2px 0.5rem;
        align-items: center;
        font-family: var(--_mono);
        font-size: 0.85rem;
      }
      .spreads li {
        display: grid;
        grid-column: 1 / -1;
        grid-template-columns: subgrid;
        align-items: center;
      }
      .spreads .label {
        text-align: right;
      }
      .track {
        display: block;
        height: 0.7rem;
        background: var(--_surface);
        border-radius: 2px;
        overflow: hidden;
      }
      .fill {
        display: block;
        height: 100%;
        background: var(--_accent);
      }
      .actions {
        margin-top: 0.75rem;
      }
      .error {
        color: var(--_error);
        margin: 0.5rem 0 0;
      }
    `,
  ];

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') && this.client) void this.drawAngles();
  }

  /** Asks for the pairwise angles of fresh random vectors at the chosen dimension, count and seed. */
  private async drawAngles(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const dimension = this.dimension;
    const { count, seed } = this.angles;
    this.anglesError = '';
    await this.drawing.ask(
      () => client.labs.randomAngles(dimension, count, seed, BINS),
      (answer) => this.showAngles(dimension, count, answer),
    );
  }

  /** Shows the histogram, and keeps its spread in the list of spreads by dimension. */
  private showAngles(dimension: number, count: number, answer: Answer<AngleHistogram>): void {
    if (answer.error !== undefined) {
      this.anglesError = messageOf(answer.error);
      return;
    }
    const histogram = answer.value;
    this.histogram = histogram;
    const others = this.spreads.filter((entry) => entry.dimension !== dimension);
    const entry = { dimension, count, spreadDegrees: histogram.spreadDegrees };
    // The newest dimensions stay when the list is full.
    this.spreads = [...others.slice(-(SPREADS_KEPT - 1)), entry].sort((a, b) => a.dimension - b.dimension);
  }

  /** Runs the packing; frames replace the histogram as they arrive. */
  private async runPacking(): Promise<void> {
    const client = this.client;
    if (!client || this.packRun.busy) return;
    const request = { ...this.packing };
    this.packError = '';
    this.frame = null;
    await this.packRun.ask(
      (isNewest) =>
        client.labs.packVectors(request, (frame) => {
          if (isNewest()) this.frame = { request, frame };
        }),
      (answer) => {
        if (answer.error !== undefined) this.packError = messageOf(answer.error);
        else this.frame = { request, frame: answer.value };
      },
    );
  }

  override render() {
    return html`${this.renderAngles()}${this.renderPacking()}`;
  }

  private renderAngles() {
    const histogram = this.histogram;
    const stop = DIMENSIONS.indexOf(this.dimension);
    return html`<section part="angles">
      <h3>Random directions are nearly perpendicular</h3>
      <p class="caption">
        Draw random vectors and measure the angle between every pair. In 2 or 3 dimensions the angles spread from 0° to
        180°. As the dimension grows they bunch near 90°: almost any two random directions are nearly at right angles,
        the spread shrinking about as 1/√d.
      </p>
      <div class="dimension" part="dimension">
        <label for="dimension">Dimensions</label>
        <input
          id="dimension"
          part="dimension-slider"
          type="range"
          min="0"
          max=${DIMENSIONS.length - 1}
          step="1"
          .value=${String(stop)}
          aria-valuetext="${count(this.dimension)} dimensions"
          @input=${(event: Event) => (this.dimension = DIMENSIONS[(event.target as HTMLInputElement).valueAsNumber]!)}
          @change=${() => void this.drawAngles()}
        />
        <output for="dimension" part="dimension-value">${count(this.dimension)}</output>
      </div>
      ${renderNumberFields(ANGLES_FIELDS, this.angles, {
        disabled: false,
        idPrefix: 'angles-',
        onChange: (key, value) => {
          this.angles = { ...this.angles, [key]: value };
          void this.drawAngles();
        },
      })}
      <div class="chart" aria-busy=${this.drawing.busy ? 'true' : 'false'}>
        ${
          histogram
            ? html`${renderHistogram(histogram, 'angles-histogram', `Angles between ${count(histogram.pairs)} pairs of random vectors`)}
              <p class="numbers" part="angles-summary">
                ${count(histogram.pairs)} pairs: mean ${histogram.meanDegrees.toFixed(2)}°, spread ±${degrees(histogram.spreadDegrees)}
              </p>`
            : this.drawing.busy
              ? nothing
              : html`<p class="empty">The angles appear here.</p>`
        }
      </div>
      <p class="caption" part="angles-status" role="status">
        ${this.drawing.busy ? `Measuring ${count(this.angles.count)} random vectors in ${count(this.dimension)} dimensions…` : ''}
      </p>
      ${this.anglesError ? html`<p class="error" part="angles-error" role="alert">${this.anglesError}</p>` : nothing}
      ${this.renderSpreads()}
    </section>`;
  }

  /** Each dimension's spread as a bar, so the shrinking shows at a glance. */
  private renderSpreads() {
    if (this.spreads.length < 2) return nothing;
    const widest = Math.max(...this.spreads.map((entry) => entry.spreadDegrees));
    return html`<p class="caption">Spread of the angles in each dimension tried:</p>
      <ul class="spreads" part="spreads">
        ${this.spreads.map(
          (entry) => html`<li part="spread">
            <span class="label">d = ${count(entry.dimension)}</span>
            <span class="track"><span class="fill" part="spread-bar" ${styleProperties({ width: `${(100 * entry.spreadDegrees) / widest}%` })}></span></span>
            <span>±${degrees(entry.spreadDegrees)}</span>
          </li>`,
        )}
      </ul>`;
  }

  private renderPacking() {
    const { dimension, count: vectors } = this.packing;
    const shown = this.frame;
    return html`<section part="packing">
      <h3>Packing more directions than dimensions</h3>
      <p class="caption" part="pack-explanation">
        ${count(vectors)} directions in ${count(dimension)} dimensions.
        ${
          vectors > dimension
            ? `Only ${count(dimension)} can be exactly perpendicular, but if “nearly” means within a few degrees of 90°, far more fit. `
            : ''
        }
        Gradient descent pushes every pair toward 90°; watch the angles narrow.
      </p>
      ${renderNumberFields(PACKING_FIELDS, this.packing, {
        disabled: this.packRun.busy,
        idPrefix: 'pack-',
        onChange: (key, value) => (this.packing = { ...this.packing, [key]: value }),
      })}
      <div class="actions">
        <button class="primary" part="run-button" ?disabled=${this.packRun.busy || !this.client} @click=${() => void this.runPacking()}>
          ${this.packRun.busy ? 'Running…' : 'Run'}
        </button>
      </div>
      <p class="caption" part="pack-status" role="status">${this.packRun.busy ? 'Pushing the vectors apart…' : ''}</p>
      ${shown ? renderPackingFrame(shown.request, shown.frame) : this.packRun.busy ? nothing : html`<p class="empty">Run to watch the angles narrow.</p>`}
      ${this.packError ? html`<p class="error" part="pack-error" role="alert">${this.packError}</p>` : nothing}
    </section>`;
  }
}

function renderPackingFrame(request: PackingRequest, frame: PackingFrame) {
  const { histogram } = frame;
  const within = Math.round(frame.withinTolerance * histogram.pairs);
  return html`${renderHistogram(
    histogram,
    'pack-histogram',
    `Angles between ${count(request.count)} vectors in ${count(request.dimension)} dimensions at step ${count(frame.step)}`,
    request.tolerance,
  )}
    <p class="numbers" part="pack-progress">Step ${count(frame.step)} of ${count(request.steps)}</p>
    <p class="numbers" part="pack-deviation">Largest distance from 90°: ${degrees(histogram.maxDeviation)}</p>
    <p class="numbers" part="pack-within">
      ${count(within)} of ${count(histogram.pairs)} pairs within 90° ± ${request.tolerance}°
      (${(100 * frame.withinTolerance).toFixed(1)}%)
    </p>`;
}

/**
 * Bars of pairs per bin over 0°–180°, 90° marked (and 90° ± ε shaded when a tolerance is given), with a hidden
 * table of the bins for screen readers.
 */
function renderHistogram(histogram: AngleHistogram, part: string, title: string, tolerance?: number) {
  const { edges, counts } = histogram;
  const tallest = Math.max(1, ...counts);
  const x = (angle: number) => MARGIN.left + (angle / 180) * PLOT_WIDTH;
  const bottom = MARGIN.top + PLOT_HEIGHT;
  const label = `${title}: mean ${histogram.meanDegrees.toFixed(2)}°, spread ±${degrees(histogram.spreadDegrees)}.`;
  return html`<svg part="histogram ${part}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label=${label}>
      ${
        tolerance === undefined
          ? nothing
          : svg`<rect part="tolerance-band" class="band" x=${x(90 - tolerance)} y=${MARGIN.top}
            width=${x(90 + tolerance) - x(90 - tolerance)} height=${PLOT_HEIGHT}></rect>`
      }
      ${counts.map((pairs, bin) => {
        const height = (pairs / tallest) * PLOT_HEIGHT;
        const left = x(edges[bin]!);
        // A hairline gap between bars, none when bins are narrower than two pixels.
        const width = Math.max(x(edges[bin + 1]!) - left - 0.5, 0.5);
        return svg`<rect part="bar" class="bar" x=${left} y=${bottom - height} width=${width} height=${height}></rect>`;
      })}
      <line part="right-angle" class="right-angle" x1=${x(90)} x2=${x(90)} y1=${MARGIN.top} y2=${bottom}></line>
      <line class="axis" x1=${MARGIN.left} x2=${WIDTH - MARGIN.right} y1=${bottom} y2=${bottom}></line>
      <line class="axis" x1=${MARGIN.left} x2=${MARGIN.left} y1=${MARGIN.top} y2=${bottom}></line>
      ${ANGLE_TICKS.map((tick) => svg`<text x=${x(tick)} y=${bottom + 14} text-anchor="middle">${tick}°</text>`)}
      <text x=${MARGIN.left - 6} y=${MARGIN.top + 8} text-anchor="end">${count(tallest)}</text>
      <text x=${MARGIN.left - 6} y=${bottom} text-anchor="end">0</text>
      <text x=${MARGIN.left + PLOT_WIDTH / 2} y=${HEIGHT - 2} text-anchor="middle">angle between a pair</text>
    </svg>
    <table class="visually-hidden" part="histogram-table">
      <caption>${title}</caption>
      <thead><tr><th scope="col">Angle</th><th scope="col">Pairs</th></tr></thead>
      <tbody>
        ${counts.map((pairs, bin) => html`<tr><td>${angle(edges[bin]!)}–${angle(edges[bin + 1]!)}</td><td>${count(pairs)}</td></tr>`)}
      </tbody>
    </table>`;
}

define('llm-superposition-lab', SuperpositionLab);

declare global {
  interface HTMLElementTagNameMap {
    'llm-superposition-lab': SuperpositionLab;
  }
}
