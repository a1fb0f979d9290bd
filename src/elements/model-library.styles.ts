/** The look of <llm-model-library> and its saved-model cards: the shared pieces, then its own. */
import { css } from 'lit';
import { alerts, badges, buttons, cards, inputs, selects, theme } from '../theme.ts';
import { readProgressStyles } from './read-progress.ts';

export const modelLibraryStyles = [
  theme,
  cards,
  badges,
  selects,
  alerts,
  buttons,
  inputs,
  readProgressStyles,
  css`
    .library {
      border: 2px solid transparent;
      border-radius: var(--_radius);
      padding: 0.25rem;
    }
    .library.dragging {
      border: 2px dashed var(--_accent);
      background: var(--_surface);
    }
    h4 {
      margin: 0.8rem 0 0.3rem;
      font-size: 1rem;
    }
    .line {
      margin: 0.2rem 0;
      font-size: 0.9rem;
    }
    .notice {
      margin: 0.4rem 0;
      padding: 0.5rem 0.7rem;
      border: 1px solid var(--_warning);
      border-radius: var(--_radius);
      color: var(--_warning);
      font-size: 0.9rem;
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      gap: 0.5rem;
      align-items: center;
      margin: 0.4rem 0;
    }
    .row label {
      font-weight: 600;
      font-size: 0.9rem;
    }
    input[type='text'] {
      box-sizing: border-box;
      font: inherit;
      padding: 0.3rem 0.45rem;
      color: var(--_foreground);
      background: var(--_background);
      border: 1px solid var(--_border);
      border-radius: calc(var(--_radius) / 2);
    }
    .row input[type='text'],
    .row input[type='url'] {
      flex: 1 1 12rem;
      width: auto;
    }
    .status {
      margin: 0.3rem 0;
      min-height: 1.3em;
      font-size: 0.9rem;
    }
    /* The saved models stand out from the panel's background. */
    .cards > li {
      background: var(--_surface);
    }
    .name {
      font-weight: 600;
      word-break: break-word;
    }
    .meta {
      margin: 0.15rem 0 0.35rem;
      font-size: 0.85rem;
      color: var(--_muted);
    }
    .model-actions {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      align-items: center;
    }
    .model-actions button {
      padding: 0.2rem 0.65rem;
      font-size: 0.85rem;
    }
    button.danger {
      border-color: var(--_error);
      color: var(--_error);
    }
  `,
];
