/** <llm-playground>'s own look; theme.ts holds what the panels share. */
import { css } from 'lit';
import { collapsibleStyles } from './collapsible-sections.ts';
import { alerts, blocks, buttons, inputs, theme } from './theme.ts';
import { highlightStyles } from './tour/highlight.ts';

export const playgroundStyles = [
  theme,
  buttons,
  inputs,
  blocks,
  alerts,
  collapsibleStyles,
  highlightStyles,
  css`
    :host {
      container-type: inline-size;
      background: var(--_background);
      border-radius: var(--_radius);
      line-height: 1.5;
    }
    .playground {
      display: grid;
      gap: 1.25rem;
      padding: 1.25rem;
    }
    @container (min-width: 860px) {
      .playground {
        grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
      }
      header,
      llm-tour,
      llm-pipeline-strip,
      .status,
      .error,
      .collapsible {
        grid-column: 1 / -1;
      }
    }
    /* While touring, the step stays in view as the page scrolls to what it highlights. */
    llm-tour:not([step='-1']) {
      position: sticky;
      top: 0;
      z-index: 6;
    }
    header h2 {
      margin: 0;
      font-size: 1.35rem;
    }
    llm-model-picker,
    llm-backend-picker {
      margin-top: 0.6rem;
    }
    .model {
      margin: 0.35rem 0 0;
      font-size: 0.9rem;
    }
    .notice {
      margin: 0.35rem 0 0;
      font-size: 0.9rem;
      color: var(--_warning);
    }
    .model strong {
      font-family: var(--_mono);
      font-weight: 600;
    }
    section {
      min-width: 0;
    }
    h3 {
      margin: 0;
      font-size: 1rem;
    }
    #prompt {
      min-height: 7rem;
      resize: vertical;
      font-size: 1rem;
      padding: 0.6rem 0.7rem;
    }
    textarea[readonly] {
      opacity: 0.85;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.6rem;
      margin-top: 0.6rem;
    }
    .actions button {
      min-width: 6.5rem;
    }
    llm-training-panel {
      margin-top: 0.75rem;
    }
    .drawn {
      font-size: 0.85rem;
      color: var(--_muted);
    }
    .status {
      margin: 0;
      color: var(--_muted);
    }
    .error {
      margin: 0;
      padding: 0.75rem 1rem;
    }
    .error p {
      margin: 0.25rem 0 0;
    }
  `,
];
