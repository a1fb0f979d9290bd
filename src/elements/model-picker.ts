/**
 * <llm-model-picker>: which model the playground runs. The built-in model (the
 * small one the playground opens with) or a pretrained one (GPT-2 small,
 * GPT-2 medium, or the host page's own), each with what this browser keeps of it:
 * kept (opens offline), partly downloaded (resumes), or its download size.
 *
 * A kept model opens at once. Any other (and one with a memory warning, such as
 * GPT-2 medium) first shows a card: its size, parameters, the storage it needs
 * against what the browser has left, the warning, and a Download (or Open)
 * button. Nothing downloads before that click. While it downloads or opens, the
 * card shows a progress bar (MB of MB, percent, time left) and Cancel; a
 * cancelled download stays for a resume. The worker's errors are shown as it words them.
 *
 * Properties:
 *   client      ModelPickerClient: the pretrained area and model.loadCheckpoint (EngineClient, set by <llm-playground>)
 *   active      ModelInfo | null: the model in use (its choice is marked)
 *   models      PretrainedModels | null: the list as last read; set from outside when another element read it anew
 *   sources     PretrainedSource[] | null: the host page's sources, given to the worker before the first list
 *   want        a pretrained id to open once the list is read: at once when kept, else its card waits for Download
 *   builtInUrl  the checkpoint the built-in choice loads (default: the shipped model)
 * Method: refresh() reads the list again.
 * Events (bubble, composed):
 *   llm-model-change       detail: ModelInfo, after a model was opened
 *   llm-pretrained-change  detail: PretrainedModels, when the list it read differs from the one shown
 * Parts: picker, choices, choice (each; also builtin-choice), choice-name, choice-state, card, card-title, card-size,
 *   card-storage, space-problem, memory-warning, stopped, card-error, download-button, cancel-button, close-button,
 *   progress, progress-bar, progress-text, error.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  isReadCancelled,
  messageOf,
  type ModelInfo,
  type PretrainedModel,
  type PretrainedModels,
  type PretrainedProgress,
  type PretrainedSource,
  type Uses,
} from '../../workers/api/index.ts';
import { DEFAULT_MODEL_URL } from '../client.ts';
import { emit } from '../events.ts';
import { formatBytes } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, buttons, theme } from '../theme.ts';
import {
  describeSize,
  describeState,
  describeStorage,
  pretrainedProgressStyles,
  renderPretrainedProgress,
} from './pretrained-progress.ts';
import { define } from '../define.ts';

/** What the element asks of the engine (EngineClient has it all). */
export type ModelPickerClient = Uses<'pretrained', 'list' | 'setSources' | 'open' | 'cancel'> & Uses<'model', 'loadCheckpoint'>;

/** The built-in model's id among the choices (no pretrained source is called this). */
const BUILT_IN = '';

/** A download or open stopped by Cancel: how far it had got. */
interface Stopped {
  id: string;
  progress: PretrainedProgress | null;
}

export class ModelPicker extends LitElement {
  static override properties = {
    client: { attribute: false },
    active: { attribute: false },
    models: { attribute: false },
    sources: { attribute: false },
    want: { type: String },
    builtInUrl: { type: String, attribute: 'built-in-url' },
    ...states('chosen', 'opening', 'progress', 'cancelling', 'stopped', 'cardError', 'error'),
  };

  declare client: ModelPickerClient | null;
  declare active: ModelInfo | null;
  declare models: PretrainedModels | null;
  declare sources: PretrainedSource[] | null;
  declare want: string;
  declare builtInUrl: string;
  /** The pretrained id whose card is shown; null: none. */
  declare private chosen: string | null;
  /** What is opening now (BUILT_IN for the built-in model); null: nothing. */
  declare private opening: string | null;
  declare private progress: PretrainedProgress | null;
  declare private cancelling: boolean;
  declare private stopped: Stopped | null;
  /** Why the last download or open of the chosen model failed, as the worker put it. */
  declare private cardError: string;
  /** Why the list could not be read, or the built-in model not loaded. */
  declare private error: string;

  private readonly listAsk = new Newest<PretrainedModels>(this);
  /** The `want` already acted on (opened, or its card shown), so a list read again does not act twice. */
  private wantDone = '';
  /** Where focus goes after the next render. */
  private focusNext = '';

  constructor() {
    super();
    this.client = null;
    this.active = null;
    this.models = null;
    this.sources = null;
    this.want = '';
    this.builtInUrl = DEFAULT_MODEL_URL;
    this.chosen = null;
    this.opening = null;
    this.progress = null;
    this.cancelling = false;
    this.stopped = null;
    this.cardError = '';
    this.error = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('client') || changed.has('sources')) void this.refresh();
  }

  protected override updated(): void {
    if (!this.focusNext) return;
    this.renderRoot.querySelector<HTMLElement>(this.focusNext)?.focus();
    this.focusNext = '';
  }

  /** Reads the list again (after the host's sources reached the worker); tells the page when it changed. */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return this.listAsk.drop();
    const sources = this.sources;
    await this.listAsk.ask(
      async () => {
        if (sources) await client.pretrained.setSources(sources);
        return client.pretrained.list();
      },
      (answer) => {
        if (answer.error !== undefined) {
          this.error = `Could not read the pretrained models: ${messageOf(answer.error)}`;
          return;
        }
        this.error = '';
        const changed = JSON.stringify(answer.value) !== JSON.stringify(this.models);
        this.models = answer.value;
        if (changed) emit(this, 'llm-pretrained-change', answer.value);
        this.actOnWant();
      },
    );
  }

  /** The `want` attribute, once: opened when kept here, else its card shown (nothing downloads without a click). */
  private actOnWant(): void {
    const want = this.want;
    if (!want || want === this.wantDone || !this.models) return;
    this.wantDone = want;
    const model = this.find(want);
    if (!model) {
      this.error = `There is no pretrained model called "${want}".`;
      return;
    }
    if (this.active?.pretrained === want) return;
    if (model.state === 'stored') void this.open(model);
    else this.chosen = want;
  }

  private find(id: string): PretrainedModel | undefined {
    return this.models?.models.find((model) => model.id === id);
  }

  /** A choice was pressed: a kept model without a warning opens, any other shows its card (pressed again: hidden). */
  private choose(model: PretrainedModel): void {
    if (this.opening !== null) return;
    if (this.active?.pretrained === model.id) {
      this.chosen = null;
      return;
    }
    if (this.chosen === model.id) {
      this.chosen = null;
      return;
    }
    this.cardError = '';
    if (this.stopped?.id !== model.id) this.stopped = null;
    if (model.state === 'stored' && !model.memoryWarning) {
      void this.open(model);
      return;
    }
    this.chosen = model.id;
    this.focusNext = '[part~="download-button"]';
  }

  /** Downloads (or resumes, or reads from this browser) and opens it; the card shows how far it got. */
  private async open(model: PretrainedModel): Promise<void> {
    const client = this.client;
    if (!client || this.opening !== null) return;
    this.chosen = model.id;
    this.opening = model.id;
    this.progress = null;
    this.stopped = null;
    this.cardError = '';
    this.error = '';
    try {
      const info = await client.pretrained.open(model.id, (progress) => {
        if (this.opening === model.id) this.progress = progress;
      });
      this.chosen = null;
      emit(this, 'llm-model-change', info);
      this.focusNext = `[part~="choice"][data-id="${CSS.escape(model.id)}"]`;
    } catch (error) {
      if (isReadCancelled(error)) this.stopped = { id: model.id, progress: this.progress };
      else this.cardError = messageOf(error);
      this.focusNext = '[part~="download-button"]';
    } finally {
      this.opening = null;
      this.progress = null;
      this.cancelling = false;
    }
    await this.refresh();
  }

  private async cancel(): Promise<void> {
    if (!this.client || this.opening === null || this.cancelling) return;
    this.cancelling = true;
    await this.client.pretrained.cancel().catch((error) => (this.cardError = messageOf(error)));
  }

  private closeCard(): void {
    if (this.opening !== null || !this.chosen) return;
    const id = this.chosen;
    this.chosen = null;
    this.focusNext = `[part~="choice"][data-id="${CSS.escape(id)}"]`;
  }

  /** Back to the built-in model: the checkpoint the playground opens with. */
  async chooseBuiltIn(): Promise<void> {
    const client = this.client;
    if (!client || this.opening !== null || this.builtInActive()) return;
    this.chosen = null;
    this.opening = BUILT_IN;
    this.error = '';
    try {
      emit(this, 'llm-model-change', await client.model.loadCheckpoint(this.builtInUrl));
    } catch (error) {
      this.error = `Could not open the built-in model: ${messageOf(error)}`;
    } finally {
      this.opening = null;
    }
  }

  /** Whether the model in use is the built-in checkpoint, as loaded (not trained on since). */
  private builtInActive(): boolean {
    const active = this.active;
    return !!active && !active.pretrained && active.weights === 'trained' && active.checkpoint === fileName(this.builtInUrl);
  }

  static override styles = [
    theme,
    buttons,
    alerts,
    pretrainedProgressStyles,
    css`
      .choices {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: stretch;
      }
      .label {
        align-self: center;
        font-weight: 600;
        font-size: 0.9rem;
        margin-right: 0.2rem;
      }
      .choices button {
        display: flex;
        flex-direction: column;
        align-items: flex-start;
        padding: 0.3rem 0.7rem;
        text-align: left;
        font-size: 0.9rem;
      }
      .choice-state {
        font-weight: 400;
        font-size: 0.78rem;
        opacity: 0.85;
      }
      .card {
        margin-top: 0.5rem;
        padding: 0.6rem 0.8rem;
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        background: var(--_surface);
        font-size: 0.9rem;
      }
      .card h4 {
        margin: 0 0 0.2rem;
        font-size: 1rem;
      }
      .card p {
        margin: 0.2rem 0;
      }
      .notice {
        color: var(--_warning);
      }
      .card-actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        margin-top: 0.4rem;
      }
      .card-actions button {
        padding: 0.25rem 0.8rem;
      }
      .error {
        margin: 0.4rem 0 0;
        font-size: 0.9rem;
      }
    `,
  ];

  override render() {
    const busy = this.opening !== null;
    const chosen = this.chosen ? this.find(this.chosen) : undefined;
    return html`<div class="picker" part="picker" aria-busy=${busy ? 'true' : 'false'}>
      <div class="choices" part="choices" role="group" aria-labelledby="picker-label">
        <span class="label" id="picker-label">Choose a model</span>
        <button
          part="choice builtin-choice"
          aria-pressed=${this.builtInActive() ? 'true' : 'false'}
          ?disabled=${!this.client || busy}
          @click=${this.chooseBuiltIn}
        >
          <span part="choice-name">Built-in</span>
          <span class="choice-state" part="choice-state">${this.opening === BUILT_IN ? 'opening…' : 'small, comes with the page, opens at once'}</span>
        </button>
        ${(this.models?.models ?? []).map((model) => this.renderChoice(model, busy))}
      </div>
      ${chosen ? this.renderCard(chosen) : nothing}
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
    </div>`;
  }

  private renderChoice(model: PretrainedModel, busy: boolean) {
    const inUse = this.active?.pretrained === model.id;
    const state = this.opening === model.id ? 'opening…' : inUse ? 'in use' : describeState(model, true);
    return html`<button
      part="choice"
      data-id=${model.id}
      aria-pressed=${inUse ? 'true' : 'false'}
      aria-expanded=${this.chosen === model.id ? 'true' : 'false'}
      aria-controls=${this.chosen === model.id ? 'card' : nothing}
      ?disabled=${!this.client || busy}
      @click=${() => this.choose(model)}
    >
      <span part="choice-name">${model.name}</span>
      <span class="choice-state" part="choice-state">${state}</span>
    </button>`;
  }

  private renderCard(model: PretrainedModel) {
    const opening = this.opening === model.id;
    const stopped = this.stopped?.id === model.id ? this.stopped : null;
    const action = model.state === 'stored' ? 'Open' : model.state === 'partial' ? 'Resume download' : 'Download';
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        if (opening) void this.cancel();
        else this.closeCard();
      }
    };
    return html`<section id="card" class="card" part="card" aria-labelledby="card-title" @keydown=${onKey}>
      <h4 id="card-title" part="card-title">${model.name}</h4>
      <p part="card-size">${describeSize(model)}</p>
      <p part="card-storage">${describeStorage(model, this.models?.storage)}</p>
      ${model.spaceProblem ? html`<p id="space-problem" class="notice" part="space-problem">${model.spaceProblem}</p>` : nothing}
      ${model.memoryWarning ? html`<p class="notice" part="memory-warning">${model.memoryWarning}</p>` : nothing}
      ${opening ? renderPretrainedProgress(this.progress, `Opening ${model.name}`) : nothing}
      ${
        stopped && !opening
          ? html`<p part="stopped" role="status">
              Stopped${stopped.progress ? ` at ${formatBytes(stopped.progress.loaded)} of ${formatBytes(stopped.progress.total)}` : ''}.
              ${model.state === 'partial' ? 'What was downloaded is kept: Resume download goes on from there.' : ''}
            </p>`
          : nothing
      }
      ${this.cardError && !opening ? html`<p class="error" part="card-error" role="alert">${this.cardError}</p>` : nothing}
      <div class="card-actions">
        ${
          opening
            ? html`<button part="cancel-button" ?disabled=${this.cancelling} @click=${this.cancel}>
                ${this.cancelling ? 'Cancelling…' : 'Cancel'}
              </button>`
            : html`<button
                  class="primary"
                  part="download-button"
                  aria-describedby=${model.spaceProblem ? 'space-problem' : nothing}
                  @click=${() => this.open(model)}
                >
                  ${action}
                </button>
                <button part="close-button" @click=${this.closeCard}>Not now</button>`
        }
      </div>
    </section>`;
  }
}

/** The file name a checkpoint URL gives the model (as the worker names it): the last path segment. */
function fileName(url: string): string {
  try {
    return decodeURIComponent(new URL(url, document.baseURI).pathname.split('/').pop() ?? '');
  } catch {
    return url;
  }
}

define('llm-model-picker', ModelPicker);

declare global {
  interface HTMLElementTagNameMap {
    'llm-model-picker': ModelPicker;
  }
}
