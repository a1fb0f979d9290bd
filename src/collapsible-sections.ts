/**
 * The playground's collapsible sections: a heading whose button (an arrow, a
 * title, a hint) opens and closes a panel. A panel is built the first time it
 * opens, then kept, hidden when closed, so training goes on and nothing in it
 * is lost (and the chat's web-llm loads only once the chat is opened).
 *
 * A render helper rather than an element of its own: the button and the panel
 * stay in the playground's shadow root, where aria-controls and
 * aria-labelledby reach them by id and the playground's parts are.
 */
import { css, html, nothing, type TemplateResult } from 'lit';

export interface Section {
  /** The button's id and part, e.g. 'train-toggle'. */
  toggle: string;
  /** The panel's id and part, e.g. 'training' (the panel's template sets them). */
  panel: string;
  title: string;
  hint: string;
  open: boolean;
  disabled: boolean;
  onToggle: () => void;
  /** The panel, hidden or shown. */
  content: (hidden: boolean) => TemplateResult;
}

export class CollapsibleSections {
  /** The panels opened once, so built. */
  private readonly built = new Set<string>();

  render({ toggle, panel, title, hint, open, disabled, onToggle, content }: Section): TemplateResult {
    if (open) this.built.add(panel);
    return html`<section class="collapsible" aria-labelledby=${toggle}>
      <h3>
        <button
          id=${toggle}
          class="toggle"
          part=${toggle}
          aria-expanded=${open ? 'true' : 'false'}
          aria-controls=${panel}
          ?disabled=${disabled}
          @click=${onToggle}
        >
          <span class="arrow" aria-hidden="true">▸</span> ${title}
          <span class="hint">${hint}</span>
        </button>
      </h3>
      ${this.built.has(panel) ? content(!open) : nothing}
    </section>`;
  }
}

/** The toggle buttons' look: a full-width heading with an arrow that turns when open. */
export const collapsibleStyles = css`
  .toggle {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    width: 100%;
    text-align: left;
    font-size: 1.05rem;
    background: var(--_surface);
    color: var(--_foreground);
    border-color: var(--_border);
    padding: 0.7rem 1rem;
  }
  .toggle .arrow {
    display: inline-block;
    transition: transform 0.15s;
  }
  .toggle[aria-expanded='true'] .arrow {
    transform: rotate(90deg);
  }
  .toggle .hint {
    font-weight: normal;
    font-size: 0.875rem;
    color: var(--_muted);
  }
`;
