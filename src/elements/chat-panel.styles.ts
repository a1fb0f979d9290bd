/** The look of <llm-chat-panel>: its two blocks, the models' cards, badges and load progress, the messages and the compose row. */
import { css } from 'lit';
import { alerts, badges, blocks, buttons, cards, theme } from '../theme.ts';
import { composeStyles } from './chat-compose.ts';
import { numberFieldStyles } from './number-fields.ts';

export const chatPanelStyles = [
  theme,
  cards,
  badges,
  alerts,
  buttons,
  numberFieldStyles,
  composeStyles,
  blocks,
  css`
    h4 {
      margin: 0 0 0.4rem;
      font-size: 1rem;
    }
    .line {
      margin: 0.2rem 0;
      font-size: 0.9rem;
    }
    .problem {
      margin: 0.5rem 0;
      padding: 0.7rem 0.9rem;
      border: 2px solid var(--_warning);
      border-radius: var(--_radius);
    }
    .problem strong {
      display: block;
      color: var(--_warning);
      margin-bottom: 0.2rem;
    }
    .status {
      margin: 0.3rem 0;
      min-height: 1.3em;
      font-size: 0.9rem;
    }
    .error {
      display: flex;
      flex-wrap: wrap;
      gap: 0.3rem 0.6rem;
      align-items: baseline;
    }
    .error span {
      flex: 1 1 16rem;
    }
    .error button {
      padding: 0.2rem 0.65rem;
      font-size: 0.85rem;
      border-color: var(--_error);
      color: var(--_error);
    }
    .name {
      font-weight: 600;
    }
    .meta {
      margin: 0.15rem 0 0.35rem;
      font-size: 0.85rem;
      color: var(--_muted);
    }
    .reason {
      margin: 0.15rem 0 0.35rem;
      font-size: 0.85rem;
      color: var(--_warning);
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      align-items: center;
    }
    .actions button,
    .confirm button {
      padding: 0.2rem 0.65rem;
      font-size: 0.85rem;
    }
    .confirm {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      align-items: center;
      margin-top: 0.3rem;
    }
    button.danger {
      border-color: var(--_error);
      color: var(--_error);
    }
    .progress {
      margin-top: 0.5rem;
    }
    .track {
      height: 0.8rem;
      background: var(--_surface);
      border: 1px solid var(--_border);
      border-radius: 999px;
      overflow: hidden;
    }
    .fill {
      display: block;
      height: 100%;
      background: var(--_accent);
      transition: width 150ms ease-out;
    }
    .numbers {
      margin: 0.25rem 0 0;
      font-family: var(--_mono);
      font-size: 0.85rem;
    }
    .web-llm-line {
      margin: 0.1rem 0 0;
      font-size: 0.8rem;
      color: var(--_muted);
      word-break: break-word;
    }
    label.heading {
      display: block;
      font-weight: 600;
      font-size: 0.9rem;
      margin-bottom: 0.2rem;
    }
    textarea {
      resize: vertical;
    }
    .messages {
      list-style: none;
      margin: 0 0 0.6rem;
      padding: 0;
      max-height: 28rem;
      overflow-y: auto;
    }
    .messages li {
      margin: 0.4rem 0;
      padding: 0.5rem 0.7rem;
      border-radius: var(--_radius);
      max-width: 90%;
    }
    .messages li[data-role='user'] {
      margin-left: auto;
      background: var(--_background);
      border: 1px solid var(--_border);
      white-space: pre-wrap;
      word-break: break-word;
    }
    .messages li[data-role='assistant'] {
      background: var(--_background);
      border: 1px solid var(--_accent);
    }
    @media (prefers-reduced-motion: reduce) {
      .fill {
        transition: none;
      }
    }
  `,
];
