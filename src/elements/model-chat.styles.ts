/** The look of <llm-model-chat>: the text the model continues, a colour for each part, the messages and the compose row. */
import { css } from 'lit';
import { alerts, buttons, inputs, theme } from '../theme.ts';
import { composeStyles } from './chat-compose.ts';
import { numberFieldStyles } from './number-fields.ts';

export const modelChatStyles = [
  theme,
  inputs,
  buttons,
  alerts,
  numberFieldStyles,
  composeStyles,
  css`
    /* One colour a part, mixed from the theme's so that dark mode has its own. */
    :host {
      --_system: color-mix(in srgb, var(--_muted) 22%, transparent);
      --_user: color-mix(in srgb, var(--_accent) 22%, transparent);
      --_assistant: color-mix(in srgb, var(--_warning) 22%, transparent);
    }
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
    .text {
      margin: 0.3rem 0;
      padding: 0.55rem 0.7rem;
      font-family: var(--_mono);
      font-size: 0.85rem;
      line-height: 1.7;
      white-space: pre-wrap;
      word-break: break-word;
      background: var(--_background);
      border: 1px solid var(--_border);
      border-radius: calc(var(--_radius) / 2);
    }
    .system {
      background: var(--_system);
    }
    .user {
      background: var(--_user);
    }
    .assistant {
      background: var(--_assistant);
    }
    .writing {
      background: var(--_assistant);
      outline: 1px dashed var(--_warning);
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
