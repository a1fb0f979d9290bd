/**
 * <llm-tuning-margin-chart>: tuning on choices, step by step: the margin over the reference (how much more the
 * tuned model than the reference prefers the chosen answers to the rejected ones) and the KL divergence to the
 * reference (how far it has moved), as two lines over the steps (SVG). A zero line shows where the margin starts.
 *
 * Properties: points (TuningPoint[] of tuning on choices, in step order).
 * Parts: chart, margin-line, kl-line, legend.
 */
import { css, html, LitElement, nothing, svg } from 'lit';
import type { TuningPoint } from '../../workers/api/index.ts';
import { count, signed } from '../format.ts';
import { theme } from '../theme.ts';

const WIDTH = 480;
const HEIGHT = 180;
const MARGIN = { left: 44, right: 12, top: 10, bottom: 30 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

type Measured = TuningPoint & { margin: number; kl: number };

export class TuningMarginChart extends LitElement {
  static override properties = { points: { attribute: false } };

  declare points: readonly TuningPoint[];

  constructor() {
    super();
    this.points = [];
  }

  static override styles = [
    theme,
    css`
      svg {
        display: block;
        width: 100%;
        height: auto;
        font-family: var(--_font);
        font-size: 11px;
      }
      .axis,
      .zero {
        stroke: var(--_border);
      }
      .zero {
        stroke-dasharray: 3 3;
      }
      text {
        fill: var(--_muted);
      }
      .margin {
        fill: none;
        stroke: var(--_accent);
        stroke-width: 2;
      }
      .kl {
        fill: none;
        stroke: var(--_warning);
        stroke-width: 1.5;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        margin: 0.25rem 0 0;
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .swatch {
        display: inline-block;
        width: 1.2rem;
        height: 3px;
        vertical-align: middle;
        margin-right: 0.35rem;
        background: var(--_accent);
      }
      .swatch.kl-swatch {
        background: var(--_warning);
      }
    `,
  ];

  override render() {
    const points = this.points.filter((point): point is Measured => point.margin !== undefined && point.kl !== undefined);
    if (points.length === 0) return html`<p class="empty">The margin and the KL appear here once tuning on choices starts.</p>`;
    const first = points[0]!.step - 1;
    const last = Math.max(points.at(-1)!.step, first + 1);
    const values = points.flatMap((point) => [point.margin, point.kl]);
    const low = Math.min(0, ...values);
    const high = Math.max(0.1, ...values);
    const x = (step: number) => MARGIN.left + ((step - first) / (last - first)) * PLOT_WIDTH;
    const y = (value: number) => MARGIN.top + (1 - (value - low) / (high - low)) * PLOT_HEIGHT;
    const line = (value: (point: Measured) => number) =>
      points.map((point) => `${x(point.step).toFixed(1)},${y(value(point)).toFixed(1)}`).join(' ');
    const latest = points.at(-1)!;
    const summary = `Over ${points.length} steps the margin went from ${signed(points[0]!.margin, 2)} to ${signed(latest.margin, 2)} nats, the KL to the reference to ${latest.kl.toFixed(3)}.`;
    const bottom = HEIGHT - MARGIN.bottom;
    return html`<svg part="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label=${summary}>
        <line class="axis" x1=${MARGIN.left} x2=${MARGIN.left} y1=${MARGIN.top} y2=${bottom}></line>
        <line class="axis" x1=${MARGIN.left} x2=${WIDTH - MARGIN.right} y1=${bottom} y2=${bottom}></line>
        ${low < 0 ? svg`<line class="zero" x1=${MARGIN.left} x2=${WIDTH - MARGIN.right} y1=${y(0)} y2=${y(0)}></line>` : nothing}
        ${[high, 0, low]
          .filter((value, i, all) => all.indexOf(value) === i)
          .map((value) => svg`<text x=${MARGIN.left - 5} y=${y(value) + 4} text-anchor="end">${signed(value, 1)}</text>`)}
        <text x=${MARGIN.left} y=${HEIGHT - 8} text-anchor="start">step ${count(first + 1)}</text>
        <text x=${WIDTH - MARGIN.right} y=${HEIGHT - 8} text-anchor="end">step ${count(last)}</text>
        <polyline part="margin-line" class="margin" points=${line((point) => point.margin)}></polyline>
        <polyline part="kl-line" class="kl" points=${line((point) => point.kl)}></polyline>
      </svg>
      <p class="legend" part="legend">
        <span><span class="swatch"></span>margin over the reference (nats)</span>
        <span><span class="swatch kl-swatch"></span>KL to the reference (nats a token)</span>
      </p>`;
  }
}

customElements.define('llm-tuning-margin-chart', TuningMarginChart);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-margin-chart': TuningMarginChart;
  }
}
