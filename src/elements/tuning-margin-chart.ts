/**
 * <llm-tuning-margin-chart>: tuning on choices, step by step, as lines over the steps (SVG). By default DPO's two:
 * the margin over the reference (how much more the tuned model than the reference prefers the chosen answers to
 * the rejected ones) and the KL divergence to the reference (how far it has moved); policy gradient draws the
 * mean reward and the KL. A zero line shows where the margin starts.
 *
 * Properties: points (TuningPoint[] of one kind of tuning on choices, in step order), lines (ChartLine[]: the
 *   figures drawn, DPO's by default).
 * Parts: chart, one line a figure (margin-line, kl-line, reward-line), legend.
 */
import { css, html, LitElement, nothing, svg } from 'lit';
import type { TuningPoint } from '../../workers/api/index.ts';
import { count, signed } from '../format.ts';
import { legends, theme } from '../theme.ts';
import { define } from '../define.ts';

const WIDTH = 480;
const HEIGHT = 180;
const MARGIN = { left: 44, right: 12, top: 10, bottom: 30 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;

/** A figure of each point drawn as a line (part `${figure}-line`), in the accent colour or the warning one. */
export interface ChartLine {
  figure: 'margin' | 'kl' | 'reward';
  /** Its name in the legend and the chart's description. */
  label: string;
  tone: 'accent' | 'warning';
}

export const DPO_LINES: readonly ChartLine[] = [
  { figure: 'margin', label: 'margin over the reference (nats)', tone: 'accent' },
  { figure: 'kl', label: 'KL to the reference (nats a token)', tone: 'warning' },
];

export class TuningMarginChart extends LitElement {
  static override properties = { points: { attribute: false }, lines: { attribute: false } };

  declare points: readonly TuningPoint[];
  declare lines: readonly ChartLine[];

  constructor() {
    super();
    this.points = [];
    this.lines = DPO_LINES;
  }

  static override styles = [
    theme,
    legends,
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
      .accent {
        fill: none;
        stroke: var(--_accent);
        stroke-width: 2;
      }
      .warning {
        fill: none;
        stroke: var(--_warning);
        stroke-width: 1.5;
      }
    `,
  ];

  override render() {
    const lines = this.lines;
    const value = (point: TuningPoint, { figure }: ChartLine) => point[figure];
    const points = this.points.filter((point) => lines.every((line) => value(point, line) !== undefined));
    if (points.length === 0) {
      return html`<p class="empty">The chart appears here once this tuning starts.</p>`;
    }
    const first = points[0]!.step - 1;
    const last = Math.max(points.at(-1)!.step, first + 1);
    const values = points.flatMap((point) => lines.map((line) => value(point, line)!));
    const low = Math.min(0, ...values);
    const high = Math.max(0.1, ...values);
    const x = (step: number) => MARGIN.left + ((step - first) / (last - first)) * PLOT_WIDTH;
    const y = (value: number) => MARGIN.top + (1 - (value - low) / (high - low)) * PLOT_HEIGHT;
    const polyline = (line: ChartLine) =>
      points.map((point) => `${x(point.step).toFixed(1)},${y(value(point, line)!).toFixed(1)}`).join(' ');
    const change = (line: ChartLine) =>
      `the ${line.label} went from ${signed(value(points[0]!, line)!, 2)} to ${signed(value(points.at(-1)!, line)!, 2)}`;
    const summary = `Over ${points.length} steps ${lines.map(change).join(', ')}.`;
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
        ${lines.map((line) => svg`<polyline part="${line.figure}-line" class=${line.tone} points=${polyline(line)}></polyline>`)}
      </svg>
      <p class="legend" part="legend">
        ${lines.map((line) => html`<span><span class="swatch ${line.tone}"></span>${line.label}</span>`)}
      </p>`;
  }
}

define('llm-tuning-margin-chart', TuningMarginChart);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-margin-chart': TuningMarginChart;
  }
}
