/**
 * <llm-model-library>: the models saved in this browser. Save the model the
 * playground holds (by hand, or every N training steps), open, rename,
 * duplicate, download or delete a saved one, export the active model as .safetensors and
 * import one (file, drop or URL), and see how much storage they take. The
 * storing and every check of an imported file happen in the worker, through
 * `client`; this element shows what it answers. Each saved model is drawn
 * by saved-model-card.ts; the look is in model-library.styles.ts.
 *
 * Properties:
 *   client  ModelLibraryClient: the engine's library area and requestPersistence (EngineClient, set by <llm-playground>)
 *   active  ModelInfo | null: the model the playground holds. Set anew when it changes (training, an autosave);
 *           the list is read again then, and whenever another engine on the same database changed it (client.library.watch).
 *   pretrained  PretrainedModels | null: what this browser keeps of the pretrained models, when another element read it
 *           (the Downloaded group, downloaded-models.ts, reads it itself too).
 *   saved   SavedModels | null (read-only): the list as last read.
 * Events (bubble, composed):
 *   llm-model-change   detail: ModelInfo, after a model was opened or imported (the playground swaps to it)
 *   llm-models-change  detail: SavedModels, whenever the list (or the storage it reports) changed
 *   llm-pretrained-change  detail: PretrainedModels, from the Downloaded group (a delete, a download resumed)
 * Parts: library, active-model, storage, persisted, storage-problem, save-name, save-button, autosave,
 *   export-button, status, error, models, model, active-badge, model-name, model-meta, open-button,
 *   rename-button, rename-field, rename-save, rename-cancel, duplicate-button, download-button, delete-button,
 *   confirm-delete, confirm-delete-button, cancel-delete-button, empty, import, import-file, import-url, import-url-button,
 *   import-cancel, and read-progress, read-progress-bar, read-progress-text while a file is read;
 *   downloaded-models (the Downloaded group), and its own parts forwarded: downloaded, downloaded-model, downloaded-name,
 *   downloaded-meta, downloaded-badge, downloaded-warning, downloaded-open, downloaded-delete, downloaded-confirm,
 *   downloaded-confirm-delete, downloaded-keep, downloaded-cancel, downloaded-status, downloaded-error.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import {
  type CheckpointSummary,
  type ImportSource,
  isReadCancelled,
  MAX_IMPORT_BYTES,
  messageOf,
  type ModelInfo,
  overLimit,
  type PretrainedModels,
  type ReadProgress,
  type SavedModels,
  type Uses,
} from '../../workers/api/index.ts';
import type { EngineClient } from '../client.ts';
import { emit } from '../events.ts';
import { count, formatBytes } from '../format.ts';
import { type Answer, Newest } from '../newest.ts';
import { states } from '../states.ts';
import { showText } from '../visible-token.ts';
import './downloaded-models.ts';
import type { DownloadedModelsClient } from './downloaded-models.ts';
import { modelLibraryStyles } from './model-library.styles.ts';
import { type ImportActions, renderImport } from './model-import.ts';
import { type CardAction, cardPart, renderSavedModel, type SavedModelActions } from './saved-model-card.ts';
import { define } from '../define.ts';

/** What the element asks of the engine (EngineClient has it all). */
export type ModelLibraryClient = Uses<
  'library',
  'list' | 'save' | 'open' | 'rename' | 'duplicate' | 'delete' | 'export' | 'import' | 'cancelImport' | 'setAutosave' | 'watch'
> &
  DownloadedModelsClient &
  Pick<EngineClient, 'requestPersistence'>;

/** Autosave choices in steps; 0 is off. */
const AUTOSAVE_STEPS = [0, 25, 50, 100, 500];

const NO_STORAGE = 'Saving is off: this browser gives the page no storage. The model stays in memory until the tab closes.';

/** The download reads the blob after the click returns in some browsers, so its URL lives a moment longer. */
const REVOKE_DELAY_MS = 1000;

/** Relative times ("5 minutes ago") are redrawn this often. */
const CLOCK_MS = 60_000;

/** What is running: one action at a time, named so its button can say so (and the status line, with `doing`). */
type Busy = { action: 'save' | 'export' | 'autosave' } | { action: 'import'; doing: string } | { action: CardAction; id: string };

export class ModelLibrary extends LitElement {
  static override properties = {
    client: { attribute: false },
    active: { attribute: false },
    pretrained: { attribute: false },
    ...states('saved', 'busy', 'status', 'error', 'saveName', 'renaming', 'confirmingDelete', 'dragging', 'importProgress'),
  };

  declare client: ModelLibraryClient | null;
  declare active: ModelInfo | null;
  declare pretrained: PretrainedModels | null;
  /** The last list the worker gave; null before the first. */
  declare saved: SavedModels | null;
  declare private busy: Busy | null;
  /** What the last action did (or what the running one does), for the status line. */
  declare private status: string;
  declare private error: string;
  /** The name typed for Save; null: the active model's own name. */
  declare private saveName: string | null;
  /** Id of the model whose name is being edited. */
  declare private renaming: string | null;
  /** Id of the model whose delete waits for a yes. */
  declare private confirmingDelete: string | null;
  declare private dragging: boolean;
  /** How much of the file being imported the worker has read; null before it says. */
  declare private importProgress: ReadProgress | null;

  /** Persistence is asked for once, on the first save. */
  private persistenceAsked = false;
  /** The newest reading of the list; older answers are dropped. */
  private readonly listAsk = new Newest<SavedModels>(this);
  /** Drag enters and leaves of the panel's children, so moving over them keeps the highlight. */
  private dragDepth = 0;
  private clock: ReturnType<typeof setInterval> | undefined;
  /** Where focus goes once the next render is done, first match wins (what they name may be new in it). */
  private focusNext: string[] = [];
  /** What had focus when an action started: it gets focus back if disabling the buttons lost it. */
  private restoreFocus: HTMLElement | null = null;
  /** What the buttons on a saved model's card do. */
  private readonly cardActions: SavedModelActions = {
    open: (model) => this.open(model),
    startRename: (model) => this.startRename(model.id),
    commitRename: (model) => this.commitRename(model),
    stopRename: (model) => this.stopRename(model.id),
    duplicate: (model) => this.duplicate(model),
    download: (model) => this.export(model),
    askDelete: (model) => this.askDelete(model.id),
    cancelDelete: (model) => this.cancelDelete(model.id),
    confirmDelete: (model) => this.confirmDelete(model),
  };

  private readonly importActions: ImportActions = {
    importFile: (file) => this.importFile(file),
    importUrl: (url) => this.importUrl(url),
    cancel: () => this.cancelImport(),
  };

  constructor() {
    super();
    this.client = null;
    this.active = null;
    this.pretrained = null;
    this.saved = null;
    this.busy = null;
    this.status = '';
    this.error = '';
    this.saveName = null;
    this.renaming = null;
    this.confirmingDelete = null;
    this.dragging = false;
    this.importProgress = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.clock = setInterval(() => this.requestUpdate(), CLOCK_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.clock);
  }

  // Asked here, not in updated(): the update Newest requests when the ask starts is this one, not a second.
  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') || changed.has('active')) void this.refresh();
    // Another playground (or tab) on the same database changed the saved models: the list follows at once.
    if (changed.has('client')) this.client?.library.watch(() => void this.refresh()).catch(() => {});
  }

  protected override updated(): void {
    if (this.busy) return;
    const lost = !this.shadowRoot!.activeElement && document.activeElement === document.body;
    const restore = lost && this.restoreFocus?.isConnected ? this.restoreFocus : undefined;
    const target =
      this.focusNext.map((selector) => this.renderRoot.querySelector<HTMLElement>(selector)).find(Boolean) ?? restore;
    this.focusNext = [];
    this.restoreFocus = null;
    target?.focus();
    if (target instanceof HTMLInputElement && target.type === 'text') target.select();
  }

  private focusAfterRender(...selectors: string[]): void {
    this.focusNext = selectors;
    this.requestUpdate();
  }

  /**
   * Reads the current client's list again; tells the page when it differs from the one shown. Each ask drops the
   * ones before it (every client change makes one), and with no client those under way are dropped.
   */
  private async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return this.listAsk.drop();
    await this.listAsk.ask(
      () => client.library.list(),
      (answer) => this.showList(answer),
    );
  }

  /** Shows the list read (or why it could not be read). */
  private showList(answer: Answer<SavedModels>): void {
    if (answer.error !== undefined) {
      if (!this.error) this.error = `Could not read the saved models: ${messageOf(answer.error)}`;
      return;
    }
    const saved = answer.value;
    const changed = JSON.stringify(saved) !== JSON.stringify(this.saved);
    if (activeSummary(saved)?.id !== activeSummary(this.saved)?.id) this.saveName = null;
    this.saved = saved;
    if (changed) emit(this, 'llm-models-change', saved);
  }

  /**
   * Runs one action with every action button disabled, then reads the list again and says what happened
   * (`done` sees the new list, and may say where focus goes) or shows the worker's error.
   */
  private async run<T>(busy: Busy, work: (client: ModelLibraryClient) => Promise<T>, done: (result: T) => string): Promise<void> {
    const client = this.client;
    if (!client || this.busy) return;
    const focused = this.shadowRoot!.activeElement as HTMLElement | null;
    this.focusNext = [];
    this.busy = busy;
    this.error = '';
    this.status = '';
    try {
      const result = await work(client);
      await this.refresh();
      this.status = done(result);
    } catch (error) {
      this.error = messageOf(error);
      await this.refresh();
    } finally {
      this.restoreFocus = focused;
      this.busy = null;
    }
  }

  private save(): Promise<void> {
    const name = this.currentSaveName();
    if (!name) return Promise.resolve();
    return this.run(
      { action: 'save' },
      async (client) => {
        if (!this.persistenceAsked) {
          this.persistenceAsked = true;
          // Saving goes ahead whatever the browser answers; the storage line shows whether it promised.
          await client.requestPersistence().catch(() => false);
        }
        return client.library.save(name);
      },
      (summary) => {
        this.saveName = null;
        return `Saved '${summary.name}' at step ${count(summary.step)}`;
      },
    );
  }

  private open(model: CheckpointSummary): Promise<void> {
    return this.run(
      { action: 'open', id: model.id },
      async (client) => emit(this, 'llm-model-change', await client.library.open(model.id)),
      () => `Opened '${model.name}'`,
    );
  }

  private startRename(id: string): void {
    this.renaming = id;
    this.confirmingDelete = null;
    this.focusAfterRender(cardPart(id, 'rename-field'));
  }

  private stopRename(id: string): void {
    this.renaming = null;
    this.focusAfterRender(cardPart(id, 'rename-button'));
  }

  private async commitRename(model: CheckpointSummary): Promise<void> {
    const field = this.renderRoot.querySelector<HTMLInputElement>(cardPart(model.id, 'rename-field'));
    const name = field?.value.trim() ?? '';
    if (!name || name === model.name) return this.stopRename(model.id);
    await this.run(
      { action: 'rename', id: model.id },
      (client) => client.library.rename(model.id, name),
      (summary) => {
        this.stopRename(model.id);
        return `Renamed '${model.name}' to '${summary.name}'`;
      },
    );
  }

  private duplicate(model: CheckpointSummary): Promise<void> {
    return this.run(
      { action: 'duplicate', id: model.id },
      (client) => client.library.duplicate(model.id),
      (copy) => `Duplicated '${model.name}' as '${copy.name}'`,
    );
  }

  private askDelete(id: string): void {
    this.confirmingDelete = id;
    this.renaming = null;
    this.focusAfterRender(cardPart(id, 'cancel-delete-button'));
  }

  private cancelDelete(id: string): void {
    this.confirmingDelete = null;
    this.focusAfterRender(cardPart(id, 'delete-button'));
  }

  private confirmDelete(model: CheckpointSummary): Promise<void> {
    const models = this.saved?.models ?? [];
    const index = models.findIndex((entry) => entry.id === model.id);
    // Focus moves to the row that takes its place (or the one above), else to the name to save under.
    const neighbours = [models[index + 1], models[index - 1]].filter((entry) => entry !== undefined);
    return this.run(
      { action: 'delete', id: model.id },
      (client) => client.library.delete(model.id),
      () => {
        this.confirmingDelete = null;
        this.focusAfterRender(...neighbours.map((entry) => cardPart(entry.id, 'open-button')), '[part~="save-name"]');
        return `Deleted '${model.name}'`;
      },
    );
  }

  private setAutosave(everySteps: number): Promise<void> {
    return this.run(
      { action: 'autosave' },
      (client) => client.library.setAutosave(everySteps),
      () => (everySteps ? `Saves itself every ${count(everySteps)} training steps` : 'Saves only when you ask'),
    );
  }

  /** Downloads the model in use, or the saved model given, as .safetensors. */
  private export(saved?: CheckpointSummary): Promise<void> {
    return this.run(
      saved ? { action: 'download', id: saved.id } : { action: 'export' },
      async (client) => {
        const { fileName, bytes } = await client.library.export(saved?.id);
        // Bytes from the worker arrive in a plain ArrayBuffer (structured clone), never a shared one.
        const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
        const link = document.createElement('a');
        link.href = url;
        link.download = fileName;
        link.hidden = true;
        this.renderRoot.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), REVOKE_DELAY_MS);
        return fileName;
      },
      (fileName) => `Exported ${fileName}`,
    );
  }

  /**
   * Refuses a file over the limit by its size alone, before anything reads it; else hands the File itself to
   * the worker (no copy here: the worker reads it).
   */
  private importFile(file: File): Promise<void> {
    if (file.size <= MAX_IMPORT_BYTES) {
      return this.importFrom(`Importing ${file.name} (${formatBytes(file.size)})…`, { kind: 'file', file });
    }
    if (!this.busy) {
      this.status = '';
      this.error = overLimit(file.name, file.size, MAX_IMPORT_BYTES);
    }
    return Promise.resolve();
  }

  private importUrl(typed: string): Promise<void> {
    if (!typed) return Promise.resolve();
    // The worker fetches it; a relative address means the page's.
    const url = new URL(typed, document.baseURI).href;
    return this.importFrom(`Importing ${url}…`, { kind: 'url', url });
  }

  /** The worker reads and checks the file, telling how far it got; Cancel stops it and nothing changes. */
  private importFrom(doing: string, source: ImportSource): Promise<void> {
    this.importProgress = null;
    return this.run(
      { action: 'import', doing },
      async (client) => {
        try {
          const info = await client.library.import(source, (progress) => (this.importProgress = progress));
          emit(this, 'llm-model-change', info);
          return info;
        } catch (error) {
          if (isReadCancelled(error)) return null;
          throw error;
        }
      },
      // The worker's own name for it: the saved list may not have it (storage off) or not be read again yet.
      (info) => (info ? `Imported '${info.name}'` : 'Import cancelled; nothing changed.'),
    );
  }

  private cancelImport(): void {
    void this.client?.library.cancelImport();
  }

  private onDragEnter(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    this.dragDepth++;
    this.dragging = true;
  }

  private onDragOver(event: DragEvent): void {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = this.busy ? 'none' : 'copy';
  }

  private onDragLeave(): void {
    this.dragDepth = Math.max(0, this.dragDepth - 1);
    this.dragging = this.dragDepth > 0;
  }

  private onDrop(event: DragEvent): void {
    event.preventDefault();
    this.dragDepth = 0;
    this.dragging = false;
    const file = event.dataTransfer?.files[0];
    if (file) void this.importFile(file);
  }

  private currentSaveName(): string {
    return (this.saveName ?? this.suggestedName()).trim();
  }

  /** The name the active model is saved under, or goes by. */
  private suggestedName(): string {
    return activeSummary(this.saved)?.name ?? (this.active?.name || 'My model');
  }

  static override styles = modelLibraryStyles;

  override render() {
    const saved = this.saved;
    const storage = saved?.storage;
    const canSave = storage?.available ?? false;
    const locked = !this.client || !!this.busy;
    // A pretrained model is kept as its downloaded files: saving or exporting it would copy 500 MB more.
    const keptAsFiles = this.active?.pretrained
      ? `${this.active.name} is kept as its downloaded files (below): it is not saved or exported as a model.`
      : '';
    const notice = storage?.problem || (storage && !storage.available ? NO_STORAGE : '') || keptAsFiles;
    return html`
      <div
        class="library ${this.dragging ? 'dragging' : ''}"
        part="library"
        aria-busy=${this.busy ? 'true' : 'false'}
        @dragenter=${this.onDragEnter}
        @dragover=${this.onDragOver}
        @dragleave=${this.onDragLeave}
        @drop=${this.onDrop}
      >
        ${this.renderActive()} ${this.renderStorage()}
        ${notice ? html`<p id="storage-problem" class="notice" part="storage-problem" role="status">${showText(notice)}</p>` : nothing}
        <div class="row">
          <label for="save-name">Save as</label>
          <input
            id="save-name"
            part="save-name"
            type="text"
            .value=${live(this.saveName ?? this.suggestedName())}
            @input=${(event: Event) => (this.saveName = (event.target as HTMLInputElement).value)}
            @keydown=${(event: KeyboardEvent) => event.key === 'Enter' && canSave && this.save()}
          />
          <button
            class="primary"
            part="save-button"
            ?disabled=${locked || !canSave || !!keptAsFiles || !this.currentSaveName()}
            aria-busy=${String(this.isBusy('save'))}
            aria-describedby=${notice ? 'storage-problem' : nothing}
            @click=${this.save}
          >
            ${this.isBusy('save') ? 'Saving…' : 'Save'}
          </button>
        </div>
        <div class="row">
          <label for="autosave">Autosave</label>
          <select
            id="autosave"
            part="autosave"
            ?disabled=${locked || !saved || !canSave || !!keptAsFiles}
            aria-busy=${String(this.isBusy('autosave'))}
            aria-describedby=${notice ? 'storage-problem' : nothing}
            @change=${(event: Event) => this.setAutosave(Number((event.target as HTMLSelectElement).value))}
          >
            ${autosaveChoices(saved?.autosaveEvery ?? 0).map(
              (steps) => html`<option value=${steps} .selected=${live(steps === (saved?.autosaveEvery ?? 0))}>
                ${steps ? `every ${count(steps)} steps` : 'Off'}
              </option>`,
            )}
          </select>
          <button part="export-button" ?disabled=${locked || !!keptAsFiles} aria-busy=${String(this.isBusy('export'))} @click=${() => this.export()}>
            ${this.isBusy('export') ? 'Exporting…' : 'Export .safetensors'}
          </button>
        </div>
        <p class="status" part="status" role="status">${showText(this.busy && 'doing' in this.busy ? this.busy.doing : this.status)}</p>
        ${this.error ? html`<p class="error" part="error" role="alert">${showText(this.error)}</p>` : nothing}
        <h4>Saved models</h4>
        ${this.renderModels(locked, canSave)}
        <llm-downloaded-models
          part="downloaded-models"
          exportparts="downloaded, downloaded-model, downloaded-name, downloaded-meta, downloaded-badge, downloaded-warning, downloaded-open,
            downloaded-delete, downloaded-confirm, downloaded-confirm-delete, downloaded-keep, downloaded-cancel,
            downloaded-status, downloaded-error"
          .client=${this.client}
          .active=${this.active}
          .models=${this.pretrained}
        ></llm-downloaded-models>
        ${renderImport({ locked, importing: this.isBusy('import'), progress: this.importProgress }, this.importActions)}
      </div>
    `;
  }

  private renderActive() {
    const saved = activeSummary(this.saved);
    if (saved) return html`<p class="line" part="active-model">In the playground: <strong>${showText(saved.name)}</strong></p>`;
    if (!this.active) return nothing;
    return html`<p class="line" part="active-model">The model in the playground is not saved yet.</p>`;
  }

  private renderStorage() {
    const storage = this.saved?.storage;
    if (!storage?.available) return nothing;
    const { usage, quota, persisted } = storage;
    const used =
      usage === undefined
        ? 'The browser does not say how much storage the page uses.'
        : quota === undefined
          ? `Using ${formatBytes(usage)}`
          : `Using ${formatBytes(usage)} of ${formatBytes(quota)}`;
    return html`<p class="line" part="storage">
      ${used} ${
        persisted
          ? html`<span class="badge accent" part="persisted" title="The browser promised not to clear these models to free space."
            >persistent</span
          >`
          : nothing
      }
    </p>`;
  }

  private renderModels(locked: boolean, canSave: boolean) {
    const saved = this.saved;
    if (!saved)
      return html`<p class="empty">${this.client ? 'Reading the saved models…' : 'Not connected to the model yet.'}</p>`;
    if (!saved.models.length) {
      return html`<p class="empty" part="empty">No saved models yet. Save the one in the playground, or import one.</p>`;
    }
    return html`<ul class="cards" part="models" aria-label="Saved models">
      ${repeat(
        saved.models,
        (model) => model.id,
        (model) => this.renderModel(model, model.id === saved.activeId, locked, canSave),
      )}
    </ul>`;
  }

  private renderModel(model: CheckpointSummary, active: boolean, locked: boolean, canSave: boolean) {
    const mode = this.renaming === model.id ? 'rename' : this.confirmingDelete === model.id ? 'confirm-delete' : 'view';
    const running = this.busy && 'id' in this.busy && this.busy.id === model.id ? this.busy.action : null;
    return renderSavedModel({ model, active, locked, canSave, mode, running }, this.cardActions);
  }

  /** Whether the panel-wide action runs (a card's own action is the card's `running`). */
  private isBusy(action: Exclude<Busy['action'], CardAction>): boolean {
    return this.busy?.action === action;
  }
}

const activeSummary = (saved: SavedModels | null): CheckpointSummary | undefined =>
  saved?.models.find((model) => model.id === saved.activeId);

/** The fixed choices, plus the current interval when it is another one. */
const autosaveChoices = (current: number): number[] =>
  AUTOSAVE_STEPS.includes(current) ? AUTOSAVE_STEPS : [...AUTOSAVE_STEPS, current].sort((a, b) => a - b);

define('llm-model-library', ModelLibrary);

declare global {
  interface HTMLElementTagNameMap {
    'llm-model-library': ModelLibrary;
  }
}
