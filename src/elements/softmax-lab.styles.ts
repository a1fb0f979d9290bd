/** The look of <llm-softmax-lab>: the temperature slider, the table of logit bars and odds, the formula, the sampling row. */
import { css } from 'lit';
import { buttons, selects, theme } from '../theme.ts';
import { numberFieldStyles } from './number-fields.ts';

export const softmaxLabStyles = [
  theme,
  selects,
  buttons,
  numberFieldStyles,
  css`
    .temperature {
      display: grid;
      grid-template-columns: auto minmax(0, 1fr) 3rem;
      align-items: center;
      gap: 0.75rem;
      margin: 0.75rem 0 0.25rem;
    }
    input[type='range'] {
      width: 100%;
      accent-color: var(--_accent);
    }
    output,
    .number {
      font-family: var(--_mono);
      text-align: right;
    }
    label,
    th {
      font-weight: 600;
      font-size: 0.9rem;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      margin: 0.5rem 0;
    }
    thead th {
      text-align: left;
      color: var(--_muted);
      padding: 0 0.4rem 0.3rem;
    }
    td {
      padding: 0.2rem 0.4rem;
      vertical-align: middle;
    }
    .name {
      padding: 0.2rem 0.4rem;
      font-family: var(--_mono);
      white-space: pre;
      text-align: right;
    }
    input.logit {
      width: 5.5rem;
    }
    /* The logit bar: 0 in the middle, the fill from 0 to the logit. */
    .logit-bar {
      position: relative;
      height: 1.4rem;
      min-width: 8rem;
      background: var(--_surface);
      border: 1px solid var(--_border);
      border-radius: 3px;
      cursor: ew-resize;
      touch-action: none;
    }
    .logit-bar::before {
      content: '';
      position: absolute;
      left: 50%;
      top: 0;
      bottom: 0;
      border-left: 1px solid var(--_muted);
    }
    .logit-fill {
      position: absolute;
      top: 3px;
      bottom: 3px;
      background: var(--_accent);
      border-radius: 2px;
    }
    .shares {
      min-width: 8rem;
    }
    .track {
      height: 0.7rem;
      background: var(--_surface);
      border-radius: 3px;
      overflow: hidden;
    }
    .track + .track {
      margin-top: 2px;
    }
    .fill {
      display: block;
      height: 100%;
      background: var(--_accent);
      transition: width 120ms ease-out;
    }
    .sample .fill {
      background: var(--_warning);
    }
    .values {
      font-family: var(--_mono);
      font-size: 0.85rem;
      text-align: right;
      white-space: nowrap;
    }
    .values .sample-value {
      display: block;
      color: var(--_warning);
    }
    .formula {
      font-family: var(--_mono);
      font-size: 0.9rem;
      background: var(--_surface);
      border-radius: calc(var(--_radius) / 2);
      padding: 0.5rem 0.75rem;
      line-height: 1.8;
      overflow-x: auto;
    }
    .formula p {
      margin: 0;
      white-space: nowrap;
    }
    .formula p.caption {
      white-space: normal;
    }
    .formula select {
      font: inherit;
    }
    .actions,
    .sampling {
      display: flex;
      flex-wrap: wrap;
      align-items: end;
      gap: 0.75rem;
      margin: 0.75rem 0;
    }
    .sampling {
      align-items: center;
    }
    .sampling .fields {
      margin: 0;
      grid-template-columns: 9rem;
    }
    .draws label {
      display: block;
      margin-bottom: 0.2rem;
    }
    select {
      font-size: inherit;
      padding: 0.3rem;
    }
    .legend-sample {
      color: var(--_warning);
    }
    .error {
      color: var(--_error);
    }
    @media (prefers-reduced-motion: reduce) {
      .fill {
        transition: none;
      }
    }
  `,
];
