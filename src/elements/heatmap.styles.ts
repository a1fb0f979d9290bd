/** <llm-heatmap>'s styles. */
import { css } from 'lit';
import { theme } from '../theme.ts';

export const heatmapStyles = [
  theme,
  css`
    :host {
      display: inline-block;
      max-width: 100%;
    }
    .chart {
      display: grid;
      grid-template-columns: auto auto auto;
      grid-template-rows: auto auto auto;
      align-items: end;
      justify-content: start;
    }
    canvas {
      display: block;
      grid-column: 3;
      grid-row: 3;
      image-rendering: pixelated;
      cursor: crosshair;
    }
    :host([compact]) canvas {
      cursor: pointer;
      border-radius: 2px;
    }
    /* The chosen thumbnail, as every panel that shows thumbnails marks it. */
    :host([compact]) canvas[aria-pressed='true'] {
      outline: 3px solid var(--_accent);
      outline-offset: 1px;
    }
    .col-axis {
      grid-column: 3;
      grid-row: 1;
    }
    .row-axis {
      grid-column: 1;
      grid-row: 3;
      writing-mode: vertical-rl;
      transform: rotate(180deg);
      align-self: center;
    }
    .col-axis,
    .row-axis {
      color: var(--_muted);
      font-size: 0.8rem;
      text-align: center;
      padding: 2px;
    }
    .col-labels {
      grid-column: 3;
      grid-row: 2;
      display: flex;
    }
    .row-labels {
      grid-column: 2;
      grid-row: 3;
      display: flex;
      flex-direction: column;
      align-items: end;
    }
    .col-labels span,
    .row-labels span {
      font-family: var(--_mono);
      white-space: pre;
      overflow: hidden;
      line-height: 1;
      display: flex;
      align-items: center;
      justify-content: center;
    }
    .col-labels span {
      padding-bottom: 2px;
    }
    .row-labels span {
      padding-right: 4px;
      cursor: pointer;
    }
    .row-labels span.selected {
      color: var(--_accent);
      font-weight: 700;
    }
    .readout {
      font-family: var(--_mono);
      font-size: 0.85rem;
      min-height: 1.3em;
      margin: 0.35rem 0 0;
      white-space: pre;
    }
    /* Off screen for the eye, still read by screen readers; content-visibility skips laying out its thousands of cells. */
    .visually-hidden {
      position: absolute;
      left: -10000px;
      width: 1px;
      height: 1px;
      overflow: hidden;
      content-visibility: auto;
    }
  `,
];
