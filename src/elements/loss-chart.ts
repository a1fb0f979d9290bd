/**
 * <llm-loss-chart>: the training loss of every step and the validation loss
 * whenever it was measured, as lines over the steps (SVG).
 *
 * Properties: points (LossPoint[], in step order), totalSteps (the x axis runs to it).
 * Parts: chart, train-line, validation-line, legend.
 */
import { css, html, LitElement, nothing, svg } from 'lit';
import type { LossPoint } from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { legends, theme } from '../theme.ts';
import { define } from '../define.ts';

const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { left: 48, right: 16, top: 14, bottom: 38 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;
/** More points than pixels only costs time: longer runs are averaged down to this many. */
const MAX_LINE_POINTS = 320;
const Y_TICKS = 4;
const X_TICKS = 5;
const FONT_SIZE = 12;
/** A generous width of one character of a tick label (digits and commas), for keeping labels inside the chart. */
const CHAR_WIDTH = 0.7 * FONT_SIZE;

/** Points averaged in consecutive groups so at most `most` remain (each keeps its group's last step). */
function thin(points: readonly { step: number; loss: number }[], most: number): { step: number; loss: number }[] {
  if (points.length <= most) return [...points];
  const group = Math.ceil(points.length / most);
  const thinned: { step: number; loss: number }[] = [];
  for (let start = 0; start < points.length; start += group) {
    const slice = points.slice(start, start + group);
    const loss = slice.reduce((sum, point) => sum + point.loss, 0) / slice.length;
    thinned.push({ step: slice.at(-1)!.step, loss });
  }
  return thinned;
}

/** A round step for axis ticks: 1, 2 or 5 times a power of ten. */
function niceStep(range: number, ticks: number): number {
  const rough = range / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 5, 10].find((m) => m * power >= rough)!;
  return multiple * power;
}

export class LossChart extends LitElement {
  static override properties = {
    points: { attribute: false },
    totalSteps: { type: Number, attribute: 'total-steps' },
  };

  declare points: readonly LossPoint[];
  declare totalSteps: number;

  constructor() {
    super();
    this.points = [];
    this.totalSteps = 0;
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
        font-size: ${FONT_SIZE}px;
      }
      .axis {
        stroke: var(--_border);
      }
      .grid {
        stroke: var(--_border);
        stroke-dasharray: 2 4;
      }
      text {
        fill: var(--_muted);
      }
      .train {
        fill: none;
        stroke: var(--_accent);
        stroke-width: 1.5;
      }
      .validation {
        fill: none;
        stroke: var(--_warning);
        stroke-width: 2;
      }
      .validation-dot {
        fill: var(--_warning);
      }
    `,
  ];

  override render() {
    const points = this.points;
    if (points.length === 0) return html`<p class="empty">The loss appears here once training starts.</p>`;
    const validation = points.filter((point): point is Required<LossPoint> => point.validationLoss !== undefined);
    const lastStep = Math.max(this.totalSteps, points.at(-1)!.step, 1);
    // Linear y from 0, so falling by half looks like half; the top is the highest loss seen.
    const highest = Math.max(...points.map((point) => Math.max(point.loss, point.validationLoss ?? 0)));
    const yStep = niceStep(highest, Y_TICKS);
    const yMax = Math.ceil(highest / yStep) * yStep;
    const x = (step: number) => MARGIN.left + (step / lastStep) * PLOT_WIDTH;
    const y = (loss: number) => MARGIN.top + (1 - loss / yMax) * PLOT_HEIGHT;
    const line = (series: { step: number; loss: number }[]) =>
      series.map((point) => `${x(point.step).toFixed(1)},${y(point.loss).toFixed(1)}`).join(' ');
    const validationSeries = validation.map(({ step, validationLoss }) => ({ step, loss: validationLoss }));
    const xStep = niceStep(lastStep, X_TICKS);
    const yTicks = Array.from({ length: Math.round(yMax / yStep) + 1 }, (_, i) => i * yStep);
    const xTicks = Array.from({ length: Math.floor(lastStep / xStep) + 1 }, (_, i) => i * xStep);
    const latest = points.at(-1)!;
    const summary =
      `Loss over ${latest.step} steps: from ${points[0]!.loss.toFixed(2)} to ${latest.loss.toFixed(2)}` +
      (validation.length ? `; validation loss ${validation.at(-1)!.validationLoss.toFixed(2)}.` : '.');
    return html`
      <svg part="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label=${summary}>
        ${yTicks.map(
          (tick) => svg`<line class="grid" x1=${MARGIN.left} x2=${WIDTH - MARGIN.right} y1=${y(tick)} y2=${y(tick)}></line>
            <text x=${MARGIN.left - 6} y=${y(tick) + 4} text-anchor="end">${formatTick(tick)}</text>`,
        )}
        ${xTicks.map((tick) => {
          const label = count(tick);
          // A label centred on a tick near the right edge would be cut ("20,000" as "20,00"): it ends at its tick instead.
          const anchor = x(tick) + (label.length * CHAR_WIDTH) / 2 > WIDTH ? 'end' : 'middle';
          return svg`<text x=${x(tick)} y=${HEIGHT - MARGIN.bottom + 16} text-anchor=${anchor}>${label}</text>`;
        })}
        <line class="axis" x1=${MARGIN.left} x2=${MARGIN.left} y1=${MARGIN.top} y2=${HEIGHT - MARGIN.bottom}></line>
        <line class="axis" x1=${MARGIN.left} x2=${WIDTH - MARGIN.right} y1=${HEIGHT - MARGIN.bottom} y2=${HEIGHT - MARGIN.bottom}></line>
        <text x=${MARGIN.left + PLOT_WIDTH / 2} y=${HEIGHT - 7} text-anchor="middle">training step</text>
        <text transform="translate(12 ${MARGIN.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">loss</text>
        <polyline part="train-line" class="train" points=${line(thin(points, MAX_LINE_POINTS))}></polyline>
        ${
          validationSeries.length
            ? svg`<polyline part="validation-line" class="validation" points=${line(validationSeries)}></polyline>
              ${validationSeries.map(
                (point) => svg`<circle class="validation-dot" cx=${x(point.step)} cy=${y(point.loss)} r="3"></circle>`,
              )}`
            : nothing
        }
      </svg>
      <p class="legend" part="legend">
        <span><span class="swatch"></span>training loss (each step's batch)</span>
        <span><span class="swatch warning"></span>validation loss (held-out text)</span>
      </p>
    `;
  }
}

const formatTick = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(1));

define('llm-loss-chart', LossChart);

declare global {
  interface HTMLElementTagNameMap {
    'llm-loss-chart': LossChart;
  }
}
