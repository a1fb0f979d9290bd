/** The look of <llm-model-chat>: the text the model continues (its colours: text-parts.ts), the messages and the compose row. */
import { css } from 'lit';
import { alerts, buttons, inputs, theme } from '../theme.ts';
import { composeStyles } from './chat-compose.ts';
import { numberFieldStyles } from './number-fields.ts';
import { textPartStyles } from './text-parts.ts';

export const modelChatStyles = [
  theme,
  inputs,
  buttons,
  alerts,
  numberFieldStyles,
  composeStyles,
  textPartStyles,
  css`
    .heading {
      display: block;
      font-weight: 600;
      font-size: 0.9rem;
      margin-bottom: 0.2rem;
    }
    textarea {
      width: 100%;
      box-sizing: border-box;
      resize: vertical;
    }
    .text-heading {
      display: flex;
      gap: 0.6rem;
      align-items: baseline;
      justify-content: space-between;
      margin-top: 0.6rem;
    }
    .token {
      box-shadow: inset -1px 0 0 var(--_foreground);
    }
    .dropped {
      opacity: 0.45;
    }
    .messages {
      list-style: none;
      margin: 0.6rem 0;
      padding: 0;
    }
    .messages li {
      margin: 0.4rem 0;
      padding: 0.5rem 0.7rem;
      border-radius: var(--_radius);
      max-width: 90%;
      border: 1px solid var(--_border);
    }
    .messages li[data-role='user'] {
      margin-left: auto;
      background: var(--_user);
      word-break: break-word;
    }
    .messages li[data-role='assistant'] {
      background: var(--_background);
      border-color: var(--_warning);
    }
    .error {
      color: var(--_error);
    }
  `,
];
