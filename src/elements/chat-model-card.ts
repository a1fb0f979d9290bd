/**
 * The chat panel's card for one model, as a render function: its name, size
 * and GPU memory, whether it is loaded or cached, why it cannot run, its
 * buttons (load; delete from the cache, after a yes in the card), and the load
 * progress. The panel (chat-panel.ts) keeps the state and does the actions.
 */
import { html, nothing } from 'lit';
import type { ChatEnvironment, ChatLoadProgress, ChatModelInfo } from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { styleProperties } from '../style-properties.ts';

/** What a model's card shows besides the model, and what its buttons do. */
export interface ModelCard {
  /** It is the loaded model. */
  loaded: boolean;
  environment: ChatEnvironment;
  /** No action can start: no client, an action under way, or a reply streaming. */
  locked: boolean;
  /** The action under way on this model, if any. */
  busy: 'load' | 'delete' | null;
  /** Its delete waits for a yes. */
  confirmingDelete: boolean;
  /** The latest report of its load. */
  progress: ChatLoadProgress | null;
  load(): void;
  askDelete(): void;
  cancelDelete(): void;
  confirmDelete(): void;
}

const MB = 1024 * 1024;

/** "270 MB", "0.4 MB": whole megabytes, or one decimal below 10. */
function megabytes(bytes: number): string {
  const value = bytes / MB;
  return `${value < 10 ? value.toFixed(1) : count(Math.round(value))} MB`;
}

/** The card (an <li> of the panel's list of models); `index` makes its ids unique. */
export function renderModelCard(model: ChatModelInfo, index: number, card: ModelCard) {
  const { loaded, environment, locked } = card;
  const unusable = !!environment.problem || !!model.disabled;
  const reasons = [environment.problem ? 'environment-problem' : '', model.disabled ? `disabled-${index}` : ''].filter(Boolean);
  // An unknown size (offline) is left out: the panel says once, above the cards, why.
  const size = model.downloadBytes === undefined ? null : megabytes(model.downloadBytes);
  const gpuMemory =
    model.vramMB === undefined
      ? nothing
      : html`${size === null ? 'Needs' : ' · needs'} <span part="gpu-memory">${count(Math.round(model.vramMB))} MB</span> of
        GPU memory`;
  const loading = card.busy === 'load';
  const deleting = card.busy === 'delete';
  return html`<li part="model" data-id=${model.id} aria-current=${loaded ? 'true' : nothing}>
    <span class="name" part="model-name">${model.label}</span>
    ${loaded ? html`<span class="badge accent" part="loaded-badge">loaded</span>` : nothing}
    <span class="badge ${model.cached ? 'accent' : ''}" part="cache-state">${model.cached ? 'cached' : 'download'}</span>
    ${
      size === null && model.vramMB === undefined
        ? nothing
        : html`<p class="meta" part="model-meta">
          ${size === null ? nothing : html`<span part="download-size">${size}</span>`}${gpuMemory}
        </p>`
    }
    ${model.disabled ? html`<p class="reason" part="disabled-reason" id="disabled-${index}">${model.disabled}</p>` : nothing}
    ${
      card.confirmingDelete
        ? html`<div
          class="confirm"
          part="confirm-delete"
          role="group"
          aria-label="Delete ${model.label} from the cache?"
          @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && card.cancelDelete()}
        >
          <span>Delete ${model.label} from this browser? Using it again downloads ${size ?? 'it'} again.</span>
          <button
            class="danger"
            part="confirm-delete-button"
            ?disabled=${locked}
            aria-busy=${String(deleting)}
            @click=${() => card.confirmDelete()}
          >
            ${deleting ? 'Deleting…' : 'Delete'}
          </button>
          <button part="cancel-delete-button" ?disabled=${locked} @click=${() => card.cancelDelete()}>Keep</button>
        </div>`
        : html`<div class="actions">
          ${
            loaded
              ? nothing
              : html`<button
                class="primary"
                part="load-button"
                ?disabled=${locked || unusable}
                aria-busy=${String(loading)}
                aria-describedby=${reasons.length ? reasons.join(' ') : nothing}
                @click=${() => card.load()}
              >
                ${loading ? 'Loading…' : model.cached ? 'Load' : 'Download & load'}
              </button>`
          }
          ${
            model.cached
              ? html`<button class="danger" part="delete-button" ?disabled=${locked} @click=${() => card.askDelete()}>
                Delete from cache
              </button>`
              : nothing
          }
        </div>`
    }
    ${loading ? renderProgress(model, card.progress) : nothing}
  </li>`;
}

function renderProgress(model: ChatModelInfo, progress: ChatLoadProgress | null) {
  const percent = Math.floor((progress?.progress ?? 0) * 100);
  const { loadedBytes, totalBytes } = progress ?? {};
  const bytes =
    loadedBytes === undefined || totalBytes === undefined ? '' : `${megabytes(loadedBytes)} of ${megabytes(totalBytes)}`;
  const numbers = [`${percent}%`, bytes, progress ? `${Math.round(progress.seconds)} s` : ''].filter(Boolean).join(' · ');
  return html`<div class="progress" part="progress">
    <div
      class="track"
      part="progress-bar"
      role="progressbar"
      aria-label="Loading ${model.label}"
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${percent}
      aria-valuetext=${bytes ? `${percent}%, ${bytes}` : `${percent}%`}
    >
      <span class="fill" part="progress-fill" ${styleProperties({ width: `${percent}%` })}></span>
    </div>
    <p class="numbers" part="progress-numbers">${numbers}</p>
    <p class="web-llm-line" part="progress-text">${progress?.text ?? 'Starting…'}</p>
  </div>`;
}
