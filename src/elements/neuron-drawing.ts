/**
 * How <llm-mlp-neurons> draws a neuron, in both its views: the GELU curve with
 * the neuron's point on it, and the chips of the tokens it pushes up. The
 * curves are SVG, so they stay sharp at any device pixel ratio; the element
 * draws only the GELU formula itself, every other number comes from the worker.
 */
import { css, html } from 'lit';
import { gelu, type Neuron, type TokenScore } from '../../workers/api/index.ts';
import { describeToken, visibleToken } from '../visible-token.ts';

/** The GELU chart's size in CSS pixels, its margin, and how many points draw the curve. */
const CHART_WIDTH = 132;
const CHART_HEIGHT = 84;
const CHART_MARGIN = 8;
const CURVE_POINTS = 61;

/**
 * Where a report's curves are drawn: x from −reach to reach, y from low to high,
 * the same for every neuron of the report so their points can be compared.
 */
interface ChartFrame {
  reach: number;
  low: number;
  high: number;
  /** Data to pixels: X = scaleX·x + shiftX, Y = shiftY − scaleY·y. */
  scaleX: number;
  scaleY: number;
  shiftX: number;
  shiftY: number;
  /** The curve as an SVG path in data coordinates (drawn through the same transform). */
  path: string;
}

export function chartFrame(neurons: readonly Neuron[]): ChartFrame {
  const reach = Math.max(3, ...neurons.map((neuron) => Math.abs(neuron.pre) * 1.1));
  const high = Math.max(gelu(reach), ...neurons.map((neuron) => neuron.post));
  const low = -0.2 - 0.1 * reach;
  const scaleX = (CHART_WIDTH - 2 * CHART_MARGIN) / (2 * reach);
  const scaleY = (CHART_HEIGHT - 2 * CHART_MARGIN) / (high - low);
  const points = Array.from({ length: CURVE_POINTS }, (_, i) => {
    const x = -reach + (2 * reach * i) / (CURVE_POINTS - 1);
    return `${x.toFixed(4)},${gelu(x).toFixed(4)}`;
  });
  return {
    reach,
    low,
    high,
    scaleX,
    scaleY,
    shiftX: CHART_MARGIN + reach * scaleX,
    shiftY: CHART_MARGIN + high * scaleY,
    path: `M${points.join('L')}`,
  };
}

/** Activations as the panel prints them (and reads them out): three decimals, a plain hyphen-minus. */
export const formatActivation = (value: number): string => value.toFixed(3);
const formatScore = (score: number): string => score.toFixed(2);

/**
 * Whether a promoted token begins the fact's answer: a word piece such as
 * " basketball" (its leading space included), or for a character model its first
 * letter, where it commits to one sport or city. A blank token never does (the
 * space before the answer is the same for every fact).
 */
export const startsAnswer = (token: string, answer: string): boolean =>
  token.trim() !== '' && (answer.startsWith(token) || answer.trimStart().startsWith(token));

/** The GELU curve in data coordinates under one transform, the neuron's point in pixels through the same map. */
export function geluCurve(neuron: Neuron, frame: ChartFrame) {
  const { scaleX, scaleY, shiftX, shiftY, reach, low, high } = frame;
  const pointX = scaleX * neuron.pre + shiftX;
  const pointY = shiftY - scaleY * neuron.post;
  return html`<svg
    part="gelu"
    role="img"
    aria-label="GELU curve: ${formatActivation(neuron.pre)} before GELU gives ${formatActivation(neuron.post)} after"
    width=${CHART_WIDTH}
    height=${CHART_HEIGHT}
    viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}"
  >
    <g transform="matrix(${scaleX} 0 0 ${-scaleY} ${shiftX} ${shiftY})">
      <line class="axis" x1=${-reach} y1="0" x2=${reach} y2="0" vector-effect="non-scaling-stroke"></line>
      <line class="axis" x1="0" y1=${low} x2="0" y2=${high} vector-effect="non-scaling-stroke"></line>
      <line class="drop" x1=${neuron.pre} y1="0" x2=${neuron.pre} y2=${neuron.post} vector-effect="non-scaling-stroke"></line>
      <path class="curve" part="gelu-curve" d=${frame.path} vector-effect="non-scaling-stroke"></path>
    </g>
    <circle class="point" part="gelu-point" cx=${pointX.toFixed(2)} cy=${pointY.toFixed(2)} r="3.5"></circle>
  </svg>`;
}

/** Promoted tokens with their scores; those that start `answer` are marked. */
export function promotedTokens(promotes: readonly TokenScore[], answer: string | null) {
  return html`<ul class="promotes" part="promotes">
    ${promotes.map(({ token, score }) => {
      const starts = answer !== null && startsAnswer(token, answer);
      return html`<li
        class="promote ${starts ? 'answer' : ''}"
        part=${starts ? 'promote answer' : 'promote'}
        aria-label="${describeToken(token)}: ${formatScore(score)}${starts ? ', starts the answer' : ''}"
      ><span class="token-text" part="promote-token">${visibleToken(token)}</span><span class="score" part="promote-score">${formatScore(score)}</span></li>`;
    })}
  </ul>`;
}

/** The styles of the curve and the chips. */
export const neuronDrawingStyles = css`
  ul.promotes {
    display: inline-flex;
    flex-wrap: wrap;
    gap: 3px;
    list-style: none;
    margin: 0;
    padding: 0;
    vertical-align: top;
  }
  .promote {
    padding: 0 0.3rem;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 2);
    background: var(--_background);
    font-family: var(--_mono);
    font-size: 0.8rem;
  }
  .promote .token-text {
    white-space: pre;
  }
  .promote .score {
    color: var(--_muted);
    margin-left: 0.25rem;
  }
  .promote.answer {
    border: 2px solid var(--_accent);
    font-weight: 700;
  }
  svg {
    display: block;
    overflow: visible;
  }
  .axis {
    stroke: var(--_border);
    stroke-width: 1;
  }
  .curve {
    fill: none;
    stroke: var(--_muted);
    stroke-width: 1.5;
  }
  .drop {
    stroke: var(--_accent);
    stroke-width: 1;
    stroke-dasharray: 2 2;
  }
  .point {
    fill: var(--_accent);
    stroke: var(--_background);
    stroke-width: 1.5;
  }
`;
