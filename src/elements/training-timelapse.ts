/**
 * <llm-training-timelapse>: how one prompt's next-token odds and attention
 * patterns changed while the model trained. The worker records a frame every
 * N steps (and at step 0); a slider scrubs through them beside the loss curve.
 *
 * Properties: client (TimelapseClient: EngineClient, set by the inspector panel),
 *   points (LossPoint[]: the loss history, training.state().history, set by the inspector panel; optional).
 * Methods: refresh() (fetches the frames recorded so far; the inspector panel calls it as training goes on).
 * Parts: settings, prompt-input, every-select, apply-button, refresh-button, slider, frame-step, bars, bar, bar-fill,
 *   thumbnails, thumbnail (each <llm-heatmap>), head (the chosen head, large), loss-curve, loss-marker, empty, status, error.
 */
import { css, html, LitElement, nothing, svg, type PropertyValues } from 'lit';
import { type LossPoint, messageOf, type TimelapseFrame, type Uses } from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, barRows, buttons, inputs, selects, theme } from '../theme.ts';
import { describeToken, formatPercent, visibleToken } from '../visible-token.ts';
import './heatmap.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

/** The part of the engine this element talks to. */
export type TimelapseClient = Uses<'inspector', 'timelapse' | 'setTimelapse'>;

export const DEFAULT_PROMPT = 'The cat sat on the';
export const INTERVALS = [10, 25, 50, 100] as const;

/** How a frame's flat [nHead, T, T] patterns are cut into heads: T is its prompt's length, the head count follows. */
interface PatternShape {
  nHead: number;
  tokens: string[];
}

function shapeOf(frame: TimelapseFrame): PatternShape | null {
  const t = frame.tokens.length;
  const first = frame.patterns[0];
  if (!first || t === 0 || first.length % (t * t) !== 0) return null;
  return { nHead: first.length / (t * t), tokens: frame.tokens };
}

const CURVE = { width: 320, height: 110, left: 34, right: 8, top: 8, bottom: 20 };
/** Points drawn on the small curve at most: more only costs time. */
const CURVE_POINTS = 200;

export class TrainingTimelapse extends LitElement {
  static override properties = {
    client: { attribute: false },
    points: { attribute: false },
    ...states('prompt', 'every', 'frames', 'index', 'chosen', 'watching', 'error'),
  };

  declare client: TimelapseClient | null;
  declare points: readonly LossPoint[];
  /** The settings as typed; sent to the worker with Watch. */
  declare private prompt: string;
  declare private every: number;
  declare private frames: TimelapseFrame[];
  /** The frame the slider shows. */
  declare private index: number;
  /** The head shown large (its thumbnail chosen), if any. */
  declare private chosen: { layer: number; head: number } | null;
  /** The settings are on their way to the worker. */
  declare private watching: boolean;
  declare private error: string;

  /** The newest refresh wins: the frames an older one fetched are older still. */
  private readonly framesAsk = new Newest<TimelapseFrame[]>(this);
  /** Each head's [T, T] view of a layer's patterns, made once per frame so the thumbnails redraw only on a new frame. */
  private heads = new WeakMap<Float32Array, Float32Array[]>();

  constructor() {
    super();
    this.client = null;
    this.points = [];
    this.prompt = DEFAULT_PROMPT;
    this.every = 25;
    this.frames = [];
    this.index = 0;
    this.chosen = null;
    this.watching = false;
    this.error = '';
  }

  // willUpdate: the busy state it sets goes into this render, not a second one.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') && this.client) void this.start();
  }

  /** Shows the frames the worker has; with none, it is not watching a prompt yet, so it starts on the one shown. */
  private async start(): Promise<void> {
    await this.refresh();
    if (this.frames.length === 0 && !this.error) await this.watch();
  }

  /** Fetches the frames recorded so far. The slider stays on its frame, or follows the newest if it was there. */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await this.framesAsk.ask(
      () => client.inspector.timelapse(),
      (answer) => {
        if (answer.error !== undefined) {
          this.error = messageOf(answer.error);
          return;
        }
        const frames = answer.value;
        const following = this.index >= this.frames.length - 1;
        this.frames = frames;
        this.index = following ? Math.max(0, frames.length - 1) : Math.min(this.index, frames.length - 1);
        this.error = '';
      },
    );
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    void this.watch();
  }

  /** Sends the settings to the worker (which starts the frames afresh with one now), then fetches them. */
  private async watch(): Promise<void> {
    const client = this.client;
    if (!client || this.watching) return;
    this.watching = true;
    this.error = '';
    try {
      await client.inspector.setTimelapse({ prompt: this.prompt, every: this.every });
    } catch (error) {
      this.error = messageOf(error);
      return;
    } finally {
      this.watching = false;
    }
    this.chosen = null;
    await this.refresh();
  }

  /** Views of one layer's [nHead, T, T] patterns, one per head. */
  private headsOf(pattern: Float32Array, nHead: number): Float32Array[] {
    let views = this.heads.get(pattern);
    if (!views) {
      const size = pattern.length / nHead;
      views = Array.from({ length: nHead }, (_, head) => pattern.subarray(head * size, (head + 1) * size));
      this.heads.set(pattern, views);
    }
    return views;
  }

  static override styles = [
    theme,
    selects,
    barRows,
    alerts,
    buttons,
    inputs,
    css`
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem;
        align-items: end;
        margin: 0 0 0.75rem;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 0.2rem;
        font-size: 0.875rem;
        color: var(--_muted);
      }
      .prompt {
        flex: 1 1 14rem;
      }
      input[type='text'],
      select {
        box-sizing: border-box;
        font-size: inherit;
        padding: 0.3rem 0.45rem;
      }
      input[type='text'] {
        width: 100%;
        font-family: var(--_mono);
      }
      .scrub {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        margin: 0.5rem 0;
      }
      .scrub input {
        flex: 1;
        accent-color: var(--_accent);
      }
      .step {
        font-family: var(--_mono);
        min-width: 6rem;
      }
      .columns {
        display: grid;
        gap: 1rem;
        grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr));
        align-items: start;
      }
      h4 {
        margin: 0.9rem 0 0.4rem;
        font-size: 0.95rem;
      }
      .columns h4:first-child {
        margin-top: 0;
      }
      .chosen {
        margin-top: 1rem;
        overflow-x: auto;
      }
      .value {
        font-family: var(--_mono);
        font-size: 0.8rem;
        min-width: 3.8rem;
        text-align: right;
      }
      .thumbnails {
        display: grid;
        gap: 4px 6px;
        align-items: center;
        justify-content: start;
      }
      .thumbnails .layer {
        font-size: 0.8rem;
        color: var(--_muted);
        white-space: nowrap;
      }
      svg {
        display: block;
        width: 100%;
        max-width: 28rem;
        height: auto;
        font-size: 10px;
      }
      svg text {
        fill: var(--_muted);
      }
      .axis {
        stroke: var(--_border);
      }
      .curve {
        fill: none;
        stroke: var(--_accent);
        stroke-width: 1.2;
      }
      .marker {
        stroke: var(--_warning);
        stroke-width: 1.5;
      }
      .marker-dot {
        fill: var(--_warning);
      }
      .status {
        font-size: 0.85rem;
        color: var(--_muted);
        margin: 0.25rem 0 0;
        min-height: 1.2em;
      }
    `,
  ];

  override render() {
    const frame = this.frames[this.index];
    return html`
      <p class="caption">
        While the model trains, the worker runs one prompt every few steps and keeps what came out: the likeliest next
        tokens and every head's attention pattern. Drag the slider to watch them change from random to learned.
      </p>
      ${this.renderSettings()}
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
      ${
        frame
          ? this.renderFrame(frame)
          : html`<p class="empty" part="empty" role="status">
            No frames yet. Train a model and they appear here: one when watching starts, then one every ${this.every} steps.
          </p>`
      }
    `;
  }

  private renderSettings() {
    const locked = !this.client || this.watching;
    return html`
      <form part="settings" @submit=${this.onSubmit}>
        <label class="prompt"
          >Prompt to watch
          <input
            part="prompt-input"
            type="text"
            .value=${this.prompt}
            @input=${(event: Event) => (this.prompt = (event.target as HTMLInputElement).value)}
        /></label>
        <label
          >A frame every
          <select part="every-select" @change=${(event: Event) => (this.every = Number((event.target as HTMLSelectElement).value))}>
            ${INTERVALS.map((steps) => html`<option .value=${String(steps)} ?selected=${steps === this.every}>${steps} steps</option>`)}
          </select></label
        >
        <button part="apply-button" class="primary" type="submit" ?disabled=${locked} aria-busy=${String(this.watching)}>
          ${this.watching ? 'Setting…' : 'Watch'}
        </button>
        <button part="refresh-button" type="button" ?disabled=${!this.client} @click=${() => this.refresh()}>Refresh</button>
      </form>
      <p class="status" part="status" role="status">${this.framesAsk.busy && !this.watching ? 'Fetching the frames…' : ''}</p>
    `;
  }

  private renderFrame(frame: TimelapseFrame) {
    const last = this.frames.length - 1;
    const shape = shapeOf(frame);
    const t = shape?.tokens.length ?? 0;
    return html`
      <div class="scrub">
        <input
          part="slider"
          type="range"
          min="0"
          max=${last}
          step="1"
          aria-label="Frame"
          aria-valuetext="step ${frame.step}, frame ${this.index + 1} of ${last + 1}"
          .value=${String(this.index)}
          ?disabled=${last === 0}
          @input=${(event: Event) => (this.index = Number((event.target as HTMLInputElement).value))}
        />
        <span class="step" part="frame-step">step ${count(frame.step)}</span>
      </div>
      <div class="columns">
        <div>
          <h4>Next token</h4>
          <ol class="bar-rows" part="bars" aria-label="Next-token probabilities at step ${frame.step}">
            ${frame.top.map(
              ({ token, score }) => html`<li part="bar" aria-label="${describeToken(token)}: ${formatPercent(score)}">
                <span class="label" aria-hidden="true">${visibleToken(token)}</span>
                <span class="track" aria-hidden="true"><span class="fill" part="bar-fill" ${styleProperties({ width: `${(score * 100).toFixed(2)}%` })}></span></span>
                <span class="value" aria-hidden="true">${formatPercent(score)}</span>
              </li>`,
            )}
          </ol>
          ${this.renderLossCurve(frame.step)}
        </div>
        <div>${shape && t ? this.renderPatterns(frame, shape, t) : nothing}</div>
      </div>
      ${shape && t ? this.renderChosen(frame, shape, t) : nothing}
    `;
  }

  private renderPatterns(frame: TimelapseFrame, shape: PatternShape, t: number) {
    const chosen = this.chosen;
    return html`
      <h4>Attention patterns</h4>
      <p class="caption">One per head, each query's weights over the keys; 0 is dark, 1 is bright, at every step alike. Choose one to see it large.</p>
      <div class="thumbnails" part="thumbnails" ${styleProperties({ 'grid-template-columns': `auto repeat(${shape.nHead}, auto)` })}>
        ${frame.patterns.map(
          (pattern, layer) => html`<span class="layer">layer ${layer + 1}</span>
            ${this.headsOf(pattern, shape.nHead).map(
              (values, head) => html`<llm-heatmap
                part="thumbnail"
                compact
                .values=${values}
                .rows=${t}
                .cols=${t}
                .min=${0}
                .max=${1}
                .selected=${chosen?.layer === layer && chosen.head === head}
                label="Layer ${layer + 1}, head ${head + 1}"
                @llm-heatmap-select=${() => (this.chosen = { layer, head })}
              ></llm-heatmap>`,
            )}`,
        )}
      </div>
    `;
  }

  /** The chosen head at full size, with the prompt's tokens on both axes. */
  private renderChosen(frame: TimelapseFrame, shape: PatternShape, t: number) {
    const chosen = this.chosen;
    const pattern = chosen && frame.patterns[chosen.layer];
    if (!chosen || !pattern) return nothing;
    const labels = shape.tokens.map(visibleToken);
    return html`<div class="chosen">
      <llm-heatmap
        part="head"
        .values=${this.headsOf(pattern, shape.nHead)[chosen.head]!}
        .rows=${t}
        .cols=${t}
        .rowLabels=${labels}
        .colLabels=${labels}
        .min=${0}
        .max=${1}
        label="Layer ${chosen.layer + 1}, head ${chosen.head + 1} at step ${frame.step}"
        row-axis="query: the token being updated"
        col-axis="key: the token looked at"
      ></llm-heatmap>
    </div>`;
  }

  /** The training loss so far as a small line, with a marker at the frame's step. */
  private renderLossCurve(step: number) {
    const points = this.points;
    if (points.length === 0) return nothing;
    const { width, height, left, right, top, bottom } = CURVE;
    const lastStep = Math.max(points.at(-1)!.step, this.frames.at(-1)?.step ?? 0, 1);
    const highest = Math.max(...points.map((point) => point.loss));
    const x = (s: number) => left + (s / lastStep) * (width - left - right);
    const y = (loss: number) => top + (1 - loss / highest) * (height - top - bottom);
    const stride = Math.ceil(points.length / CURVE_POINTS);
    const drawn = points.filter((_, i) => i % stride === 0 || i === points.length - 1);
    const line = drawn.map((point) => `${x(point.step).toFixed(1)},${y(point.loss).toFixed(1)}`).join(' ');
    // The loss at the frame: the last point at or before its step.
    let at: LossPoint | undefined;
    for (const point of points) {
      if (point.step > step) break;
      at = point;
    }
    const first = points[0]!;
    const latest = points.at(-1)!;
    const summary =
      `Training loss from ${first.loss.toFixed(2)} at step ${first.step} to ${latest.loss.toFixed(2)} at step ${latest.step}. ` +
      `This frame: step ${step}${at ? `, loss ${at.loss.toFixed(2)}` : ''}.`;
    return html`
      <h4>Loss</h4>
      <svg part="loss-curve" viewBox="0 0 ${width} ${height}" role="img" aria-label=${summary}>
        <line class="axis" x1=${left} x2=${left} y1=${top} y2=${height - bottom}></line>
        <line class="axis" x1=${left} x2=${width - right} y1=${height - bottom} y2=${height - bottom}></line>
        <text x=${left - 4} y=${top + 8} text-anchor="end">${highest.toFixed(1)}</text>
        <text x=${left - 4} y=${height - bottom} text-anchor="end">0</text>
        <text x=${width - right} y=${height - 6} text-anchor="end">step ${count(lastStep)}</text>
        <polyline class="curve" points=${line}></polyline>
        <g part="loss-marker" data-step=${step}>
          <line class="marker" x1=${x(step)} x2=${x(step)} y1=${top} y2=${height - bottom}></line>
          ${at ? svg`<circle class="marker-dot" cx=${x(step)} cy=${y(at.loss)} r="3"></circle>` : nothing}
        </g>
      </svg>
    `;
  }
}

define('llm-training-timelapse', TrainingTimelapse);

declare global {
  interface HTMLElementTagNameMap {
    'llm-training-timelapse': TrainingTimelapse;
  }
}
