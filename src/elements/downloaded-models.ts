/**
 * <llm-downloaded-models>: the pretrained models (GPT-2) this browser keeps,
 * shown in the saved-models panel under "Downloaded": each with its size, Open
 * (Resume download for one partly downloaded) and Delete, which asks first.
 * Deleting the model in use frees the storage; the model stays open until
 * another is chosen. Nothing is drawn while no pretrained model is kept.
 *
 * Properties:
 *   client  DownloadedModelsClient: the pretrained area's list, open, cancel and delete (EngineClient)
 *   active  ModelInfo | null: the model in use (its row is marked); when it becomes another pretrained model (or none),
 *           the list is read again
 *   models  PretrainedModels | null: the list as last read; set from outside when another element read it anew
 * Method: refresh() reads the list again.
 * Events (bubble, composed):
 *   llm-model-change       detail: ModelInfo, after one was opened
 *   llm-pretrained-change  detail: PretrainedModels, when the list it read differs from the one shown
 * Parts: downloaded, downloaded-model, downloaded-name, downloaded-meta, downloaded-badge, downloaded-open,
 *   downloaded-warning (GPT-2 medium's memory warning), downloaded-delete, downloaded-confirm, downloaded-confirm-delete,
 *   downloaded-keep, downloaded-cancel, downloaded-status, downloaded-error, progress, progress-bar, progress-text.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  isReadCancelled,
  messageOf,
  type ModelInfo,
  type PretrainedModel,
  type PretrainedModels,
  type PretrainedProgress,
  type Uses,
} from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { formatBytes } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, badges, buttons, cards, theme } from '../theme.ts';
import { describeState, pretrainedProgressStyles, renderPretrainedProgress } from './pretrained-progress.ts';
import { define } from '../define.ts';

/** What the element asks of the engine (EngineClient has it all). */
export type DownloadedModelsClient = Uses<'pretrained', 'list' | 'open' | 'cancel' | 'delete'>;

type Busy = { action: 'open' | 'delete'; id: string };

export class DownloadedModels extends LitElement {
  static override properties = {
    client: { attribute: false },
    active: { attribute: false },
    models: { attribute: false },
    ...states('busy', 'progress', 'confirming', 'status', 'error'),
  };

  declare client: DownloadedModelsClient | null;
  declare active: ModelInfo | null;
  declare models: PretrainedModels | null;
  declare private busy: Busy | null;
  declare private progress: PretrainedProgress | null;
  /** Id of the model whose delete waits for a yes. */
  declare private confirming: string | null;
  declare private status: string;
  declare private error: string;

  private readonly listAsk = new Newest<PretrainedModels>(this);
  private focusNext = '';

  constructor() {
    super();
    this.client = null;
    this.active = null;
    this.models = null;
    this.busy = null;
    this.progress = null;
    this.confirming = null;
    this.status = '';
    this.error = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // A new model in use may be a pretrained one just downloaded; other changes to `active` (every refresh of the
    // playground sets it anew) leave what is kept as it was.
    const before = changed.get('active') as ModelInfo | null | undefined;
    if (changed.has('client') || (changed.has('active') && before?.pretrained !== this.active?.pretrained)) void this.refresh();
  }

  protected override updated(): void {
    if (!this.focusNext) return;
    this.renderRoot.querySelector<HTMLElement>(this.focusNext)?.focus();
    this.focusNext = '';
  }

  /** Reads the list again; tells the page when it changed. A list that cannot be read leaves the group out. */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return this.listAsk.drop();
    await this.listAsk.ask(
      () => client.pretrained.list(),
      (answer) => {
        if (answer.error !== undefined) return;
        const changed = JSON.stringify(answer.value) !== JSON.stringify(this.models);
        this.models = answer.value;
        if (changed) emit(this, 'llm-pretrained-change', answer.value);
      },
    );
  }

  private async run(busy: Busy, work: (client: DownloadedModelsClient) => Promise<string>): Promise<void> {
    const client = this.client;
    if (!client || this.busy) return;
    this.busy = busy;
    this.status = '';
    this.error = '';
    try {
      this.status = await work(client);
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.busy = null;
      this.progress = null;
    }
    await this.refresh();
  }

  private open(model: PretrainedModel): Promise<void> {
    return this.run({ action: 'open', id: model.id }, async (client) => {
      try {
        const info = await client.pretrained.open(model.id, (progress) => (this.progress = progress));
        emit(this, 'llm-model-change', info);
        return `Opened ${model.name}`;
      } catch (error) {
        if (!isReadCancelled(error)) throw error;
        return `Stopped; what ${model.name} has downloaded is kept for a resume.`;
      }
    });
  }

  private askDelete(id: string): void {
    this.confirming = id;
    this.focusNext = `li[data-id="${CSS.escape(id)}"] [part~="downloaded-keep"]`;
  }

  private keep(id: string): void {
    this.confirming = null;
    this.focusNext = `li[data-id="${CSS.escape(id)}"] [part~="downloaded-delete"]`;
  }

  private delete(model: PretrainedModel): Promise<void> {
    const inUse = this.active?.pretrained === model.id;
    return this.run({ action: 'delete', id: model.id }, async (client) => {
      await client.pretrained.delete(model.id);
      this.confirming = null;
      return inUse
        ? `Deleted ${model.name} from this browser; it stays open in the playground until you choose another model.`
        : `Deleted ${model.name} from this browser.`;
    });
  }

  static override styles = [
    theme,
    cards,
    badges,
    buttons,
    alerts,
    pretrainedProgressStyles,
    css`
      h4 {
        margin: 0.8rem 0 0.3rem;
        font-size: 1rem;
      }
      .cards > li {
        background: var(--_surface);
      }
      .name {
        font-weight: 600;
      }
      .notice {
        margin: 0.15rem 0 0.35rem;
        font-size: 0.85rem;
        color: var(--_warning);
      }
      .meta,
      .status {
        margin: 0.15rem 0 0.35rem;
        font-size: 0.85rem;
        color: var(--_muted);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
      }
      .actions button {
        padding: 0.2rem 0.65rem;
        font-size: 0.85rem;
      }
      button.danger {
        border-color: var(--_error);
        color: var(--_error);
      }
    `,
  ];

  override render() {
    const kept = (this.models?.models ?? []).filter((model) => model.state !== 'none');
    if (!kept.length && !this.status && !this.error) return nothing;
    return html`<div part="downloaded" aria-busy=${this.busy ? 'true' : 'false'}>
      <h4>Downloaded</h4>
      ${
        kept.length
          ? html`<ul class="cards" aria-label="Downloaded pretrained models">
              ${kept.map((model) => this.renderModel(model))}
            </ul>`
          : nothing
      }
      <p class="status" part="downloaded-status" role="status">${this.status}</p>
      ${this.error ? html`<p class="error" part="downloaded-error" role="alert">${this.error}</p>` : nothing}
    </div>`;
  }

  private renderModel(model: PretrainedModel) {
    const inUse = this.active?.pretrained === model.id;
    const running = this.busy?.id === model.id ? this.busy.action : null;
    const locked = !this.client || !!this.busy;
    return html`<li part="downloaded-model" data-id=${model.id} aria-current=${inUse ? 'true' : nothing}>
      <span class="name" part="downloaded-name">${model.name}</span>${
        inUse ? html`<span class="badge accent" part="downloaded-badge">in use</span>` : nothing
      }
      <p class="meta" part="downloaded-meta">
        ${model.state === 'partial' ? describeState(model) : `${formatBytes(model.storedBytes)}, opens offline`}
      </p>
      ${model.memoryWarning ? html`<p class="notice" part="downloaded-warning">${model.memoryWarning}</p>` : nothing}
      ${running === 'open' ? renderPretrainedProgress(this.progress, `Opening ${model.name}`) : nothing}
      ${
        this.confirming === model.id
          ? html`<div
              class="actions"
              part="downloaded-confirm"
              role="group"
              aria-label="Delete ${model.name}?"
              @keydown=${(event: KeyboardEvent) => event.key === 'Escape' && this.keep(model.id)}
            >
              <span>Delete ${model.name} from this browser? Using it again means downloading it again.</span>
              <button class="danger" part="downloaded-confirm-delete" ?disabled=${locked} @click=${() => this.delete(model)}>
                ${running === 'delete' ? 'Deleting…' : 'Delete'}
              </button>
              <button part="downloaded-keep" ?disabled=${locked} @click=${() => this.keep(model.id)}>Keep</button>
            </div>`
          : html`<div class="actions">
              ${
                running === 'open'
                  ? html`<button part="downloaded-cancel" @click=${() => this.client?.pretrained.cancel()}>Cancel</button>`
                  : html`<button part="downloaded-open" ?disabled=${locked || inUse} @click=${() => this.open(model)}>
                      ${model.state === 'partial' ? 'Resume download' : 'Open'}
                    </button>`
              }
              <button class="danger" part="downloaded-delete" ?disabled=${locked} @click=${() => this.askDelete(model.id)}>
                Delete
              </button>
            </div>`
      }
    </li>`;
  }
}

define('llm-downloaded-models', DownloadedModels);

declare global {
  interface HTMLElementTagNameMap {
    'llm-downloaded-models': DownloadedModels;
  }
}
