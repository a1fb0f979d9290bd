/** The training panel's styles: its columns, actions and samples, on the theme's blocks, buttons and fields. */
import { css } from 'lit';
import { alerts, blocks, buttons, theme } from '../theme.ts';
import { numberFieldStyles } from './number-fields.ts';

export const trainingPanelStyles = [
  theme,
  alerts,
  buttons,
  numberFieldStyles,
  blocks,
  css`
    .columns {
      display: grid;
      gap: 1rem;
    }
    @container (min-width: 860px) {
      .columns {
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
      }
    }
    h4 {
      margin: 0;
      font-size: 1rem;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 0.6rem;
      align-items: center;
      margin: 0.6rem 0;
    }
    .actions button {
      min-width: 5.5rem;
    }
    .note {
      font-size: 0.85rem;
      color: var(--_muted);
      margin: 0;
    }
    .samples {
      list-style: none;
      margin: 0.4rem 0 0;
      padding: 0;
    }
    .samples li {
      margin-top: 0.5rem;
    }
    .samples .when {
      font-size: 0.8rem;
      color: var(--_muted);
    }
    .samples pre {
      margin: 0.15rem 0 0;
      font-family: var(--_mono);
      white-space: pre-wrap;
      word-break: break-word;
      background: var(--_background);
      border: 1px solid var(--_border);
      border-radius: calc(var(--_radius) / 2);
      padding: 0.4rem 0.55rem;
    }
    .samples strong {
      color: var(--_accent);
    }
  `,
];
