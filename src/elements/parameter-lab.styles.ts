/** The look of <llm-parameter-lab>: the choice of model, the breakdown table, the stacked bar and its legend, memory and context. */
import { css } from 'lit';
import { theme } from '../theme.ts';
import { numberFieldStyles } from './number-fields.ts';

export const parameterLabStyles = [
  theme,
  numberFieldStyles,
  css`
    h4 {
      margin: 1rem 0 0.3rem;
      font-size: 1rem;
    }
    fieldset {
      border: 0;
      padding: 0;
      margin: 0;
    }
    legend {
      font-weight: 600;
      margin-bottom: 0.3rem;
    }
    .models {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem 1rem;
    }
    .models label {
      display: flex;
      gap: 0.4rem;
      align-items: baseline;
    }
    .custom {
      margin-top: 0.4rem;
    }
    .tied {
      display: flex;
      gap: 0.4rem;
      align-items: baseline;
      margin-top: 0.5rem;
      font-size: 0.9rem;
    }
    .status {
      min-height: 1.3em;
      margin: 0.4rem 0;
      font-size: 0.9rem;
      color: var(--_muted);
    }
    .error,
    .mismatch {
      margin: 0.4rem 0;
      padding: 0.5rem 0.7rem;
      border: 1px solid var(--_error);
      border-radius: var(--_radius);
      color: var(--_error);
    }
    .match {
      margin: 0.4rem 0;
      font-size: 0.9rem;
    }
    .match .mark {
      color: var(--_accent);
      font-weight: 700;
    }
    .numbers {
      font-family: var(--_mono);
    }
    .table-wrap {
      overflow-x: auto;
    }
    table {
      width: 100%;
      border-collapse: collapse;
      font-size: 0.88rem;
    }
    th,
    td {
      padding: 0.2rem 0.4rem;
      text-align: left;
      vertical-align: baseline;
    }
    thead th {
      font-weight: 600;
      border-bottom: 1px solid var(--_border);
    }
    tbody th {
      font-weight: normal;
    }
    td.number {
      font-family: var(--_mono);
      text-align: right;
      white-space: nowrap;
    }
    td.formula {
      color: var(--_muted);
    }
    tfoot th,
    tfoot td {
      font-weight: 600;
      border-top: 1px solid var(--_border);
    }
    svg {
      display: block;
      width: 100%;
      height: auto;
      margin-top: 0.6rem;
      font-family: var(--_font);
      font-size: 13px;
    }
    .attention {
      fill: var(--_accent);
      background: var(--_accent);
    }
    .mlp {
      fill: var(--_warning);
      background: var(--_warning);
    }
    .embeddings {
      fill: var(--_muted);
      background: var(--_muted);
    }
    rect {
      stroke: var(--_background);
      stroke-width: 1;
    }
    svg text {
      fill: var(--_background);
      font-weight: 600;
      pointer-events: none;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 0.2rem 1rem;
      list-style: none;
      margin: 0.4rem 0 0;
      padding: 0;
      font-size: 0.82rem;
      color: var(--_muted);
    }
    .swatch {
      display: inline-block;
      width: 0.8rem;
      height: 0.8rem;
      margin-right: 0.3rem;
      border-radius: 2px;
      vertical-align: -0.1em;
    }
    dl {
      display: grid;
      grid-template-columns: auto auto 1fr;
      gap: 0.2rem 0.8rem;
      margin: 0;
      font-size: 0.9rem;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
    }
    dd.number {
      font-family: var(--_mono);
      text-align: right;
    }
    dd.note {
      color: var(--_muted);
    }
    .line {
      margin: 0.25rem 0;
      font-size: 0.9rem;
    }
    .tried {
      margin-top: 0.4rem;
    }
  `,
];
