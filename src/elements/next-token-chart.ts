/**
 * <llm-next-token-chart>: the model's next-token distribution as horizontal
 * bars, the likeliest tokens first and everything else summed in one last bar.
 * Spaces and line breaks are drawn as ␣ and ⏎ so they can be seen.
 *
 * Parts: bars (the list), bar (each row; the last also has part "rest"),
 * bar-label, bar-fill, bar-value.
 */
import { css, html, LitElement } from 'lit';
import { barRows, theme } from '../theme.ts';
import { describeToken, formatPercent, showToken } from '../visible-token.ts';
import type { Prediction } from '../../workers/api/index.ts';
import { styleProperties } from '../style-properties.ts';
import { define } from '../define.ts';

export class NextTokenChart extends LitElement {
  static override properties = {
    prediction: { attribute: false },
  };

  declare prediction: Prediction | null;

  constructor() {
    super();
    this.prediction = null;
  }

  static override styles = [
    theme,
    barRows,
    css`
      .label .id {
        color: var(--_muted);
        font-size: 0.7rem;
        margin-left: 0.35rem;
      }
      .bar-rows .fill {
        transition: width 120ms ease-out;
      }
      .rest .fill {
        background: var(--_muted);
      }
      .rest .label {
        font-family: var(--_font);
        font-size: 0.8rem;
        color: var(--_muted);
      }
      .value {
        font-family: var(--_mono);
        font-size: 0.85rem;
        text-align: right;
        min-width: 4.2rem;
      }
      @media (prefers-reduced-motion: reduce) {
        .bar-rows .fill {
          transition: none;
        }
      }
    `,
  ];

  override render() {
    const prediction = this.prediction;
    if (!prediction) return html`<p class="empty">Waiting for the model…</p>`;
    const others = prediction.probs.length - prediction.top.length;
    return html`
      <ol class="bar-rows" part="bars" aria-label="Next-token probabilities">
        ${prediction.top.map(
          ({ id, token, prob }) => html`<li part="bar" aria-label="${describeToken(token)}: ${formatPercent(prob)}">
            ${this.row(html`${showToken(token)}<span class="id">${id}</span>`, prob)}
          </li>`,
        )}
        <li part="bar rest" class="rest" aria-label="all ${others} other tokens: ${formatPercent(prediction.rest)}">
          ${this.row(html`all ${others} others`, prediction.rest)}
        </li>
      </ol>
    `;
  }

  private row(label: unknown, prob: number) {
    return html`
      <span class="label" part="bar-label" aria-hidden="true">${label}</span>
      <span class="track" aria-hidden="true"><span class="fill" part="bar-fill" ${styleProperties({ width: `${(prob * 100).toFixed(2)}%` })}></span></span>
      <span class="value" part="bar-value" aria-hidden="true">${formatPercent(prob)}</span>
    `;
  }
}

define('llm-next-token-chart', NextTokenChart);

declare global {
  interface HTMLElementTagNameMap {
    'llm-next-token-chart': NextTokenChart;
  }
}
