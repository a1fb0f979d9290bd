/** The look of <llm-training-step-lab>: the sentence controls, the positions' bars, the history, the gradient table. */
import { css } from 'lit';
import { alerts, buttons, inputs, selects, tables, theme } from '../theme.ts';

export const trainingStepLabStyles = [
  theme,
  inputs,
  selects,
  buttons,
  alerts,
  tables,
  css`
    .controls {
      display: grid;
      grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
      gap: 0.75rem;
      margin: 0.5rem 0;
    }
    label {
      display: grid;
      gap: 0.25rem;
      font-weight: 600;
      font-size: 0.9rem;
    }
    select {
      max-width: 100%;
    }
    textarea {
      resize: vertical;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5rem;
      margin: 0.5rem 0;
    }
    progress {
      accent-color: var(--_accent);
    }
    figure {
      margin: 0.75rem 0;
    }
    .number {
      font-family: var(--_mono);
      font-size: 0.8rem;
    }
    /* One column per position: the token read, the true next token, the loss bar, the probability bars. */
    .positions {
      list-style: none;
      margin: 0;
      padding: 0 0 0.4rem;
      display: flex;
      gap: 2px;
      overflow-x: auto;
    }
    .position {
      display: grid;
      justify-items: center;
      gap: 2px;
      min-width: 3.6rem;
      padding: 0.3rem 0.2rem;
      background: var(--_surface);
      border-radius: 4px;
    }
    .token,
    .target {
      font-family: var(--_mono);
      white-space: pre;
      font-size: 0.85rem;
    }
    .target {
      color: var(--_muted);
    }
    .loss-track,
    .prob-track,
    .history-track {
      position: relative;
      display: block;
      width: 1.2rem;
      height: 3rem;
      background: var(--_background);
      border: 1px solid var(--_border);
      border-radius: 3px;
      overflow: hidden;
    }
    .loss-bar,
    .prob,
    .history-bar {
      position: absolute;
      left: 0;
      right: 0;
      bottom: 0;
      background: var(--_accent);
      transition: height 160ms ease-out;
    }
    .loss-bar {
      background: var(--_warning);
    }
    .prob.before,
    .swatch.before {
      background: var(--_muted);
    }
    .swatch {
      display: inline-block;
      width: 0.7em;
      height: 0.7em;
      border-radius: 2px;
      background: var(--_accent);
      vertical-align: -0.05em;
    }
    .probs {
      display: flex;
      gap: 2px;
    }
    .prob-track {
      width: 0.8rem;
      height: 2.4rem;
    }
    .after-value {
      color: var(--_accent);
    }
    .history {
      list-style: none;
      margin: 0;
      padding: 0;
      display: flex;
      gap: 4px;
      overflow-x: auto;
    }
    .history-point {
      display: grid;
      justify-items: center;
      gap: 2px;
    }
    .check {
      display: flex;
      align-items: center;
      gap: 0.4rem;
      font-weight: normal;
      margin-bottom: 0.4rem;
    }
    table {
      width: 100%;
    }
    th.number {
      text-align: right;
    }
    .bar-cell {
      width: 40%;
    }
    .gradient-track {
      display: block;
      height: 0.7rem;
      background: var(--_surface);
      border-radius: 3px;
      overflow: hidden;
    }
    .gradient-bar {
      display: block;
      height: 100%;
      background: var(--_accent);
    }
    @media (prefers-reduced-motion: reduce) {
      .loss-bar,
      .prob,
      .history-bar {
        transition: none;
      }
    }
  `,
];
