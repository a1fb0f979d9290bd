/**
 * <llm-inspector-panel>: the "look inside" panels of the playground behind one
 * row of tabs: attention, experiments, MLP neurons, embeddings, logit lens and
 * the training time-lapse. Only the open tab's panel exists, so the others cost
 * nothing; it is made afresh when the model changes (at most every few seconds
 * while training), so what it shows is always the model in use.
 *
 * While the prompt is empty, a word-piece model's panels open on the seed's examples (panel-examples.ts):
 * attention on "a fluffy blue creature" with the shipped model's adjective head chosen (not on a pretrained model such
 * as GPT-2, whose heads are others), the experiments, MLP neurons and
 * logit lens on "Michael Jordan plays the sport of"; a line above the panel says so.
 *
 * Properties: client (InspectorPanelClient: the EngineClient, set by <llm-playground>; every panel gets it),
 *   text (the prompt), model (ModelInfo, set by <llm-playground>), sub (the section the embeddings open on, e.g.
 *   'neighbours'; cleared when the user picks a tab),
 *   panelFocus (PanelFocus: the layer, head, stage and query the attention panel shows; it follows the user's picks).
 * Events: llm-tab-change (detail { tab }) when the user picks a tab.
 * Parts: tabs, tab, tab-<id>, panel, example-note.
 * Attributes: tab ('attention' | 'matrices' | 'experiments' | 'mlp' | 'embeddings' | 'lens' | 'timelapse', reflected).
 * Keyboard: the tabs follow the WAI-ARIA pattern (arrow keys, Home, End).
 */
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { ADJECTIVE_HEAD, type LossPoint, type ModelInfo, type TrainingState, type Uses } from '../../workers/api/index.ts';
import { emit, type LlmEvent } from '../events.ts';
import { Newest } from '../newest.ts';
import { ADJECTIVES_EXAMPLE, type ExamplePrompt, FACT_EXAMPLE, usableExample } from '../panel-examples.ts';
import { states } from '../states.ts';
import { theme } from '../theme.ts';
import type { PanelFocus } from '../view-state.ts';
import type { ExperimentsClient } from './attention-experiments.ts';
import type { AttentionInspectorClient } from './attention-inspector.ts';
import type { EmbeddingExplorerClient } from './embedding-explorer.ts';
import type { HeadMatricesClient } from './head-matrices.ts';
import type { LogitLensClient } from './logit-lens.ts';
import type { MlpNeuronsClient } from './mlp-neurons.ts';
import type { TimelapseClient } from './training-timelapse.ts';
import { tabList, tabStyles } from './tabs.ts';
import './attention-experiments.ts';
import './attention-inspector.ts';
import './embedding-explorer.ts';
import './head-matrices.ts';
import './logit-lens.ts';
import './mlp-neurons.ts';
import './training-timelapse.ts';
import { define } from '../define.ts';

/** What every panel uses, and the training's loss history for the time-lapse's curve. */
export type InspectorPanelClient = AttentionInspectorClient &
  ExperimentsClient &
  MlpNeuronsClient &
  EmbeddingExplorerClient &
  HeadMatricesClient &
  LogitLensClient &
  TimelapseClient &
  Uses<'training', 'state'>;

const TABS = [
  { id: 'attention', label: 'Attention' },
  { id: 'matrices', label: 'Vectors and matrices' },
  { id: 'experiments', label: 'Experiments' },
  { id: 'mlp', label: 'MLP neurons' },
  { id: 'embeddings', label: 'Embeddings' },
  { id: 'lens', label: 'Logit lens' },
  { id: 'timelapse', label: 'Time-lapse' },
] as const;

export type InspectorTab = (typeof TABS)[number]['id'];

/** What a tab shows while the prompt is empty (the embeddings' sections have examples of their own). */
const TAB_EXAMPLES: Partial<Record<InspectorTab, ExamplePrompt>> = {
  attention: ADJECTIVES_EXAMPLE,
  matrices: ADJECTIVES_EXAMPLE,
  experiments: FACT_EXAMPLE,
  mlp: FACT_EXAMPLE,
  lens: FACT_EXAMPLE,
};

/** While training, the open panel follows the new weights at most this often. */
const TRAINING_FOLLOW_MS = 3000;

export class InspectorPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    text: { type: String },
    model: { attribute: false },
    tab: { type: String, reflect: true },
    sub: { type: String },
    panelFocus: { attribute: false },
    ...states('shownVersion', 'points'),
  };

  declare client: InspectorPanelClient | null;
  declare text: string;
  declare model: ModelInfo | null;
  declare tab: InspectorTab;
  declare sub: string;
  declare panelFocus: PanelFocus | null;
  /** The model the open panel shows (it is made again when this changes). */
  declare private shownVersion: string;
  /** The loss history, for the time-lapse's curve. */
  declare private points: LossPoint[];
  /** The training's state, asked for when the time-lapse is opened or follows the model: the newest ask's answer is shown. */
  private readonly trainingState = new Newest<TrainingState | null>(this);
  private followTimer: ReturnType<typeof setTimeout> | undefined;
  /** The model's vocabulary, the same array until its tokens change (a new array makes the explorer ask again). */
  private vocabulary: string[] = [];

  constructor() {
    super();
    this.client = null;
    this.text = '';
    this.model = null;
    this.tab = 'attention';
    this.sub = '';
    this.panelFocus = null;
    this.shownVersion = '';
    this.points = [];
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.followTimer);
    this.followTimer = undefined;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('model') && !changed.has('client')) return;
    const tokens = this.model?.vocabulary ?? [];
    if (!sameStrings(tokens, this.vocabulary)) this.vocabulary = tokens;
    const version = versionOf(this.model);
    if (version === this.shownVersion) return;
    // A new model shows at once; training steps of the same one at most every few seconds.
    const sameModel = this.shownVersion.split('|')[0] === version.split('|')[0];
    if (!sameModel || this.model?.weights !== 'training') {
      clearTimeout(this.followTimer);
      this.followTimer = undefined;
      this.follow();
    } else {
      this.followTimer ??= setTimeout(() => {
        this.followTimer = undefined;
        this.follow();
      }, TRAINING_FOLLOW_MS);
    }
  }

  /** Shows the model as it is now: the panel is made again, the time-lapse re-read with its loss curve. */
  private follow(): void {
    this.shownVersion = versionOf(this.model);
    if (this.tab === 'timelapse') void this.refreshTimelapse();
  }

  /** Reads the loss history again, then has the time-lapse re-read its frames. */
  private async refreshTimelapse(): Promise<void> {
    const { client } = this;
    await this.trainingState.ask(
      async () => (client ? client.training.state() : null),
      async (answer) => {
        this.points = answer.value?.history ?? [];
        await this.updateComplete;
        await this.renderRoot.querySelector('llm-training-timelapse')?.refresh();
      },
    );
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('tab') && this.tab === 'timelapse') void this.refreshTimelapse();
  }

  private select(tab: InspectorTab): void {
    this.tab = tab;
    // Back on the embeddings, they open on their first section, as before the sub-tab was set.
    this.sub = '';
    emit(this, 'llm-tab-change', { tab });
  }

  /** The user's picks are kept, so a panel made again (a new model, another tab and back) opens on them. */
  private onFocusChange(event: LlmEvent<'llm-focus-change'>): void {
    this.panelFocus = event.detail;
  }

  /** The open tab's example, when the prompt is empty and the model's vocabulary has the example's tokens. */
  private get example(): ExamplePrompt | null {
    const example = TAB_EXAMPLES[this.tab];
    return this.text || !example ? null : usableExample(example, this.vocabulary);
  }

  private renderTab(example: ExamplePrompt | null): TemplateResult {
    const { client } = this;
    const text = this.text || example?.text || '';
    switch (this.tab) {
      case 'attention':
        return html`<llm-attention-inspector .client=${client} .text=${text} .panelFocus=${this.panelFocus}
          .start=${example && !this.model?.pretrained ? ADJECTIVE_HEAD : null}
          @llm-focus-change=${this.onFocusChange}></llm-attention-inspector>`;
      case 'experiments':
        return html`<llm-attention-experiments .client=${client} .text=${text}></llm-attention-experiments>`;
      case 'mlp':
        return html`<llm-mlp-neurons .client=${client} .text=${text}></llm-mlp-neurons>`;
      case 'matrices':
        return html`<llm-head-matrices .client=${client} .text=${text} .panelFocus=${this.panelFocus}
          .start=${example && !this.model?.pretrained ? ADJECTIVE_HEAD : null}
          @llm-focus-change=${this.onFocusChange}></llm-head-matrices>`;
      case 'embeddings':
        return html`<llm-embedding-explorer .client=${client} .text=${this.text} .vocabulary=${this.vocabulary}
          .blockSize=${this.model?.config.blockSize ?? 0} .section=${this.sub || 'neighbours'}></llm-embedding-explorer>`;
      case 'lens':
        return html`<llm-logit-lens .client=${client} .text=${text}></llm-logit-lens>`;
      case 'timelapse':
        return html`<llm-training-timelapse .client=${client} .points=${this.points}></llm-training-timelapse>`;
    }
  }

  override render() {
    const example = this.example;
    return html`
      ${tabList(this, TABS, this.tab, 'Look inside the model', (tab) => this.select(tab))}
      <div id="panel" role="tabpanel" aria-labelledby="tab-${this.tab}" part="panel">
        ${
          example && this.client
            ? html`<p class="caption" part="example-note">
                The prompt box is empty, so this shows the example "${example.text}". Type a prompt to see yours.
              </p>`
            : nothing
        }
        ${
          this.client
            ? // The time-lapse keeps its slider position; it is re-read rather than made again.
              keyed(this.tab === 'timelapse' ? 'timelapse' : `${this.tab}|${this.shownVersion}`, this.renderTab(example))
            : html`<p class="caption">Starting the model…</p>`
        }
      </div>
    `;
  }

  static override styles = [theme, tabStyles];
}

/**
 * The same strings in the same order. Compared one by one: joining GPT-2's 50,257 tokens twice to compare took
 * 2–12 ms of the main thread on every refresh (each info() brings a new array).
 */
function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Which weights a ModelInfo describes: the model, and how far it is trained. */
const versionOf = (model: ModelInfo | null): string =>
  model ? `${model.saved?.id ?? model.name}:${model.config.vocabSize}:${model.parameters.total}|${model.step}` : '';

define('llm-inspector-panel', InspectorPanel);

declare global {
  interface HTMLElementTagNameMap {
    'llm-inspector-panel': InspectorPanel;
  }
}
