/**
 * A row of tabs, as the WAI-ARIA tab pattern has it: one tab in the Tab order,
 * arrow keys, Home and End move between them (and focus follows), each tab
 * controls the panel with id "panel". Shared by the panels that have tabs.
 * Parts: tabs, tab, tab-<id>.
 */
import { css, html, type LitElement, type TemplateResult } from 'lit';

export interface Tab<T extends string> {
  id: T;
  label: string;
}

export function tabList<T extends string>(
  host: LitElement,
  tabs: readonly Tab<T>[],
  selected: T,
  label: string,
  select: (id: T) => void,
): TemplateResult {
  const onKeydown = (event: KeyboardEvent) => {
    const index = tabs.findIndex((tab) => tab.id === selected);
    const next = ({ ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 } as Record<string, number>)[
      event.key
    ];
    if (next === undefined) return;
    event.preventDefault();
    const id = tabs[(next + tabs.length) % tabs.length]!.id;
    select(id);
    void host.updateComplete.then(() => host.renderRoot.querySelector<HTMLElement>(`#tab-${id}`)?.focus());
  };
  return html`<div role="tablist" part="tabs" aria-label=${label} @keydown=${onKeydown}>
    ${tabs.map(
      ({ id, label: text }) => html`<button
      id="tab-${id}"
      role="tab"
      part="tab tab-${id}"
      aria-selected=${id === selected ? 'true' : 'false'}
      aria-controls="panel"
      tabindex=${id === selected ? 0 : -1}
      @click=${() => select(id)}
    >${text}</button>`,
    )}
  </div>`;
}

export const tabStyles = css`
  [role='tablist'] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem;
    border-bottom: 1px solid var(--_border);
    margin-bottom: 0.8rem;
  }
  [role='tab'] {
    font: inherit;
    color: var(--_muted);
    background: none;
    border: none;
    border-bottom: 3px solid transparent;
    border-radius: 0;
    padding: 0.45rem 0.75rem;
    cursor: pointer;
  }
  [role='tab'][aria-selected='true'] {
    color: var(--_foreground);
    border-bottom-color: var(--_accent);
    font-weight: 600;
  }
`;
