/**
 * The box a chat message is typed in, with Send (Stop while a reply streams) and Clear: the same in the chat with this
 * model and in the web-llm chat. A render helper, not an element, so its parts stay in the chat's own shadow root.
 * Parts: message-input, send-button, clear-button.
 */
import { css, html } from 'lit';
import { live } from 'lit/directives/live.js';

export interface Compose {
  draft: string;
  placeholder: string;
  /** A reply is being written: Send reads Stop. */
  streaming: boolean;
  /** Stop was pressed and the reply has not ended yet. */
  stopping: boolean;
  /** What is typed can be sent now. */
  sendable: boolean;
  clearable: boolean;
  onDraft: (draft: string) => void;
  send: () => void;
  stop: () => void;
  clear: () => void;
}

export function renderCompose(compose: Compose) {
  const { streaming, stopping } = compose;
  const onKeydown = (event: KeyboardEvent) => {
    // Enter sends; Shift+Enter is a new line, and Enter that ends an IME composition stays in it.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    compose.send();
  };
  return html`<div class="compose">
    <textarea
      part="message-input"
      rows="2"
      aria-label="Your message"
      placeholder=${compose.placeholder}
      .value=${live(compose.draft)}
      @input=${(event: Event) => compose.onDraft((event.target as HTMLTextAreaElement).value)}
      @keydown=${onKeydown}
    ></textarea>
    <button
      class=${streaming ? '' : 'primary'}
      part="send-button"
      aria-busy=${String(stopping)}
      ?disabled=${streaming ? stopping : !compose.sendable}
      @click=${streaming ? compose.stop : compose.send}
    >
      ${streaming ? (stopping ? 'Stopping…' : 'Stop') : 'Send'}
    </button>
    <button part="clear-button" ?disabled=${!compose.clearable} @click=${compose.clear}>Clear</button>
  </div>`;
}

/** The compose row, and the name and the end note of each message, alike in both chats. */
export const composeStyles = css`
  .who {
    display: block;
    font-size: 0.75rem;
    font-weight: 600;
    color: var(--_muted);
    margin-bottom: 0.15rem;
  }
  .finish {
    display: block;
    margin-top: 0.2rem;
    font-size: 0.8rem;
    color: var(--_muted);
  }
  .compose {
    display: flex;
    gap: 0.5rem;
    align-items: flex-end;
  }
  .compose textarea {
    flex: 1 1 auto;
  }
`;
