/**
 * One saved model in <llm-model-library>'s list: its name (or the field that
 * renames it), steps, size, age and origin, and its buttons (or the question
 * that confirms a delete). The library keeps the state and runs the actions;
 * this draws a card in the library's shadow root, so its styles and focus
 * handling reach every part.
 *
 * Parts: model, active-badge, model-name, model-meta, open-button, rename-button, rename-field, rename-save,
 *   rename-cancel, duplicate-button, download-button, delete-button, confirm-delete, confirm-delete-button,
 *   cancel-delete-button.
 */
import { html, nothing } from 'lit';
import type { CheckpointSummary } from '../../workers/api/index.ts';
import { formatBytes, relativeTime, steps } from '../format.ts';
import { showText, visibleText } from '../visible-token.ts';

/** What a card's buttons start (the library runs one action at a time). */
export type CardAction = 'open' | 'rename' | 'duplicate' | 'download' | 'delete';

export interface SavedModelCard {
  model: CheckpointSummary;
  /** The saved model the playground holds. */
  active: boolean;
  /** An action runs: every button waits. */
  locked: boolean;
  /** Storage works: duplicating can be done. */
  canSave: boolean;
  /** Showing the name, the field to rename it, or the question before a delete. */
  mode: 'view' | 'rename' | 'confirm-delete';
  /** This model's action that runs now, if one does. */
  running: CardAction | null;
}

/** What the library does when a card's button is pressed (what it returns is not used). */
export interface SavedModelActions {
  open(model: CheckpointSummary): unknown;
  startRename(model: CheckpointSummary): unknown;
  /** Renames to what the card's field holds. */
  commitRename(model: CheckpointSummary): unknown;
  stopRename(model: CheckpointSummary): unknown;
  duplicate(model: CheckpointSummary): unknown;
  /** Downloads the save as .safetensors without opening it (a save that cannot be opened too). */
  download(model: CheckpointSummary): unknown;
  askDelete(model: CheckpointSummary): unknown;
  cancelDelete(model: CheckpointSummary): unknown;
  confirmDelete(model: CheckpointSummary): unknown;
}

/** A selector for one part of the card of the saved model `id`. */
export const cardPart = (id: string, part: string): string => `li[data-id="${CSS.escape(id)}"] [part~="${part}"]`;

export function renderSavedModel(card: SavedModelCard, actions: SavedModelActions) {
  const { model, active, locked, mode } = card;
  const origin = model.tunedFrom
    ? `tuned from ${model.tunedFrom}`
    : model.corpus
      ? `trained on ${model.corpus}`
      : model.source
        ? `from ${model.source}`
        : '';
  return html`<li part="model" data-id=${model.id} aria-current=${active ? 'true' : nothing}>
    ${
      mode === 'rename'
        ? renderRename(card, actions)
        : html`<span class="name" part="model-name">${showText(model.name)}</span>${
            active ? html`<span class="badge accent" part="active-badge">in use</span>` : nothing
          }`
    }
    <p class="meta" part="model-meta">
      ${steps(model.step)} · ${formatBytes(model.bytes)} · updated
      <time datetime=${new Date(model.updated).toISOString()} title=${new Date(model.updated).toLocaleString('en-US')}
        >${relativeTime(model.updated)}</time
      >${origin ? html` · ${showText(origin)}` : ''}
    </p>
    ${
      mode === 'confirm-delete'
        ? html`<div
          class="model-actions"
          part="confirm-delete"
          role="group"
          aria-label="Delete ${visibleText(model.name)}?"
          @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && actions.cancelDelete(model)}
        >
          <span>Delete '${showText(model.name)}'? This cannot be undone.</span>
          <button
            class="danger"
            part="confirm-delete-button"
            ?disabled=${locked}
            aria-busy=${String(card.running === 'delete')}
            @click=${() => actions.confirmDelete(model)}
          >
            ${card.running === 'delete' ? 'Deleting…' : 'Delete'}
          </button>
          <button part="cancel-delete-button" ?disabled=${locked} @click=${() => actions.cancelDelete(model)}>Keep</button>
        </div>`
        : renderButtons(card, actions)
    }
  </li>`;
}

/** The name as a field: Enter renames, Escape leaves the old name. */
function renderRename({ model, locked, running }: SavedModelCard, actions: SavedModelActions) {
  const onKey = (event: KeyboardEvent) => {
    if (event.key !== 'Enter' && event.key !== 'Escape') return;
    event.preventDefault();
    if (event.key === 'Enter') actions.commitRename(model);
    else actions.stopRename(model);
  };
  return html`<div class="row">
    <input type="text" part="rename-field" aria-label="New name for ${visibleText(model.name)}" .value=${model.name} ?disabled=${locked} @keydown=${onKey} />
    <button part="rename-save" ?disabled=${locked} aria-busy=${String(running === 'rename')} @click=${() => actions.commitRename(model)}>
      ${running === 'rename' ? 'Renaming…' : 'Rename'}
    </button>
    <button part="rename-cancel" ?disabled=${locked} @click=${() => actions.stopRename(model)}>Cancel</button>
  </div>`;
}

function renderButtons({ model, locked, canSave, running }: SavedModelCard, actions: SavedModelActions) {
  return html`<div class="model-actions">
    <button part="open-button" ?disabled=${locked} aria-busy=${String(running === 'open')} @click=${() => actions.open(model)}>
      ${running === 'open' ? 'Opening…' : 'Open'}
    </button>
    <button part="rename-button" ?disabled=${locked} @click=${() => actions.startRename(model)}>Rename</button>
    <button
      part="duplicate-button"
      ?disabled=${locked || !canSave}
      aria-busy=${String(running === 'duplicate')}
      aria-describedby=${canSave ? nothing : 'storage-problem'}
      @click=${() => actions.duplicate(model)}
    >
      ${running === 'duplicate' ? 'Duplicating…' : 'Duplicate'}
    </button>
    <button part="download-button" ?disabled=${locked} aria-busy=${String(running === 'download')} @click=${() => actions.download(model)}>
      ${running === 'download' ? 'Downloading…' : 'Download'}
    </button>
    <button class="danger" part="delete-button" ?disabled=${locked} @click=${() => actions.askDelete(model)}>Delete</button>
  </div>`;
}
