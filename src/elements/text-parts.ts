/**
 * The text a model continues, shown in coloured parts (model-chat.text.ts lays them out): the same in the chat with
 * this model and in the tuning panel. A render helper with its styles, not an element, so its parts stay in the
 * shadow root of whoever shows it. Parts: text-part (data-role: system, user, assistant, writing).
 */
import { css, html } from 'lit';
import type { TextPart } from './model-chat.text.ts';

const WHO: Record<TextPart['role'], string> = {
  system: 'system prompt',
  user: "user's turn",
  assistant: "assistant's turn",
  writing: 'being written',
};

export const renderTextPart = (part: TextPart) =>
  html`<span part="text-part" class=${part.role} data-role=${part.role} title=${WHO[part.role]}>${part.text}</span>`;

/** A box of text (class "text") and one colour a role, mixed from the theme's so that dark mode has its own. */
export const textPartStyles = css`
  :host {
    --_system: color-mix(in srgb, var(--_muted) 22%, transparent);
    --_user: color-mix(in srgb, var(--_accent) 22%, transparent);
    --_assistant: color-mix(in srgb, var(--_warning) 22%, transparent);
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
`;
