/**
 * <llm-tuning-panel>: teach the model in use to answer, in the tab. First fine-tune it on dialogues (supervised
 * fine-tuning), then tune it on your own choices between its answers (Direct Preference Optimization). Tuning
 * begins on a copy: the tuned model is a new one named after the model in use, and the original stays as it was,
 * saved or not, frozen as the reference Before / After compares with. The tuning itself runs in the worker, on the CPU, through `client`.
 *
 * Keyboard: arrow keys, Home and End move between the tabs; Escape pauses a run under way; Enter in the choices'
 * question draws two answers. Only the progress bar, the charts and the figures change as reports come, with no
 * transition, so reduced motion asks nothing more; colours come from the theme's variables (dark mode).
 *
 * Properties: client (TuningPanelClient | null: EngineClient, set by <llm-playground>), model (ModelInfo | null: the
 *   model in use; another model makes the panel read the tuning state again), tab ('dialogues' | 'choices').
 * Events (bubble, composed):
 *   llm-model-change     detail: ModelInfo, when tuning begins (the tuned copy is in use), after each run or step,
 *                        and on Reset: the playground refreshes its panels
 *   llm-tuning-change    detail: TuningState, whenever what tuning holds changed (a run, a choice, a reset)
 *   llm-tuning-progress  detail: TuningProgress, a few times a second while tuning
 *   llm-tuning-end       detail: TuningOutcome, when a run stops (paused, finished or diverged)
 *   llm-tab-change       detail: { tab }, when the user picks a tab
 * Parts: tabs, tab, tab-dialogues, tab-choices, panel, reference, tuning-error, and those of the tabs'
 *   elements, exported through: <llm-tuning-dialogues> (sources, source, paste, dialogue-summary, examples,
 *   skipped, unknown, dialogues-error, settings, field, steps, learning-rate, play-button, step-button,
 *   reset-button, run-error, progress-bar, run-status, chart, train-line, validation-line, legend, question, text,
 *   text-part, replies, reply, reply-heading, compare-error, tokens, token, alternatives, …) and
 *   <llm-tuning-choices> (choice-question, temperature, draw-button, choices-error, answers, answer,
 *   answer-heading, prefer-a-button, prefer-b-button, good-button, bad-button, same-answers, recorded, choices-list, choice,
 *   verdict, forget-button, pair-count, dpo-caption, dpo-reference, beta, figures, figure, odds, odds-error, margin-line,
 *   kl-line, rl-caption, rl-train-button, rl-reward-model, rl-samples, rl-sample, rl-play-button, rl-figure,
 *   rl-reward-line, …): the parts of both tabs are prefixed sft- and dpo- (e.g. sft-play-button, dpo-play-button);
 *   policy gradient's (in the choices tab, under DPO) are rl- ones.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { messageOf, type ModelInfo, type TuningDefaults, type TuningState, type Uses } from '../../workers/api/index.ts';
import { emit, type LlmEvent } from '../events.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, theme } from '../theme.ts';
import { type Tab, tabList, tabStyles } from './tabs.ts';
import './tuning-choices.ts';
import type { TuningChoicesClient } from './tuning-choices.ts';
import './tuning-dialogues.ts';
import type { TuningDialoguesClient } from './tuning-dialogues.ts';
import { modelProperty, renderReferenceName } from './tuning-run.ts';
import { define } from '../define.ts';

export type TuningPanelClient = TuningDialoguesClient & TuningChoicesClient & Uses<'tuning', 'defaults' | 'state'>;

export type TuningTab = 'dialogues' | 'choices';

const TABS: readonly Tab<TuningTab>[] = [
  { id: 'dialogues', label: '1. Fine-tune on dialogues' },
  { id: 'choices', label: '2. Tune on your choices' },
];

/** Parts of a tab's element, passed on with its prefix. */
const DIALOGUES_PARTS = [
  'sources',
  'source',
  'paste',
  'dialogue-summary',
  'examples',
  'skipped',
  'unknown',
  'dialogues-error',
  'train-line',
  'validation-line',
  'question',
  'text',
  'text-part',
  'replies',
  'reply',
  'reply-heading',
  'compare-error',
];
const CHOICES_PARTS = [
  'choice-question',
  'temperature',
  'draw-button',
  'choices-error',
  'answers',
  'answer',
  'answer-heading',
  'prefer-a-button',
  'prefer-b-button',
  'good-button',
  'bad-button',
  'same-answers',
  'recorded',
  'choices-list',
  'choice',
  'verdict',
  'forget-button',
  'pair-count',
  'dpo-caption',
  'dpo-reference',
  'beta',
  'figures',
  'figure',
  'odds',
  'odds-error',
  'margin-line',
  'kl-line',
  'rl-caption',
  'rl-train-button',
  'rl-reward-model',
  'rl-reference',
  'rl-samples',
  'rl-sample',
  'rl-sample-reward',
  'rl-settings',
  'rl-field',
  'rl-beta',
  'rl-batch-size',
  'rl-steps',
  'rl-learning-rate',
  'rl-play-button',
  'rl-step-button',
  'rl-reset-button',
  'rl-run-error',
  'rl-progress-bar',
  'rl-run-status',
  'rl-figures',
  'rl-figure',
  'rl-chart',
  'rl-reward-line',
  'rl-kl-line',
  'rl-legend',
];
const SHARED_PARTS = [
  'settings',
  'field',
  'steps',
  'learning-rate',
  'play-button',
  'step-button',
  'reset-button',
  'run-error',
  'progress-bar',
  'run-status',
  'chart',
  'legend',
  'tokens',
  'token',
  'selected-token',
  'alternatives',
  'alternative',
  'chosen',
];
const exportParts = (names: readonly string[], prefix: string) => names.map((name) => `${name}:${prefix}${name}`).join(', ');

export class TuningPanel extends LitElement {
  static override properties = {
    client: { attribute: false },
    model: modelProperty,
    tab: { reflect: true },
    ...states('defaults', 'tuning', 'error'),
  };

  declare client: TuningPanelClient | null;
  declare model: ModelInfo | null;
  declare tab: TuningTab;
  declare private defaults: TuningDefaults | null;
  /** What the worker's tuning holds; null while the model in use is not being tuned. */
  declare private tuning: TuningState | null;
  declare private error: string;

  private readonly reading = new Newest<TuningState | null>(this);

  constructor() {
    super();
    this.client = null;
    this.model = null;
    this.tab = 'dialogues';
    this.defaults = null;
    this.tuning = null;
    this.error = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const client = this.client;
    if (!client) return;
    if (changed.has('client')) {
      client.tuning.defaults().then(
        (defaults) => (this.defaults = defaults),
        (error) => (this.error = messageOf(error)),
      );
    }
    // Another model (opened, reset, restarted): its tuning, if any. A run under way reports its own.
    if ((changed.has('client') || changed.has('model')) && !this.tuning?.playing) void this.readState(client);
  }

  private readState(client: TuningPanelClient): Promise<void> {
    return this.reading.ask(
      () => client.tuning.state(),
      (answer) => {
        if (answer.error !== undefined) this.error = messageOf(answer.error);
        else this.tuning = answer.value;
      },
    );
  }

  /** A tab's new state; when it is the first, tuning began and a tuned copy took the model's place. */
  private async onChange(event: LlmEvent<'llm-tuning-change'>): Promise<void> {
    const began = !this.tuning;
    this.reading.drop();
    this.tuning = event.detail;
    this.error = '';
    if (!began || !this.client) return;
    try {
      emit(this, 'llm-model-change', await this.client.model.info());
    } catch (error) {
      this.error = messageOf(error);
    }
  }

  /** The run's new points and step, as the worker's state will have them. */
  private onProgress(event: LlmEvent<'llm-tuning-progress'>): void {
    const tuning = this.tuning;
    if (!tuning) return;
    const { kind, step, totalSteps, points, diverged } = event.detail;
    this.tuning = {
      ...tuning,
      kind,
      step,
      totalSteps,
      playing: !diverged,
      ...(diverged ? { diverged } : {}),
      history: points.length ? [...tuning.history, ...points] : tuning.history,
    };
  }

  private select(tab: TuningTab): void {
    this.tab = tab;
    emit(this, 'llm-tab-change', { tab });
  }

  static override styles = [
    theme,
    tabStyles,
    alerts,
    css`
      :host {
        container-type: inline-size;
      }
      .reference {
        margin: 0 0 0.8rem;
        padding: 0.5rem 0.75rem;
        border-left: 3px solid var(--_accent);
        background: var(--_surface);
        font-size: 0.9rem;
      }
      code {
        font-family: var(--_mono);
      }
    `,
  ];

  override render() {
    const tuning = this.tuning;
    return html`${tabList(this, TABS, this.tab, 'Tune the model', (tab) => this.select(tab))}
      <div
        id="panel"
        role="tabpanel"
        part="panel"
        aria-labelledby="tab-${this.tab}"
        @llm-tuning-change=${this.onChange}
        @llm-tuning-progress=${this.onProgress}
      >
        ${this.renderReference()}
        ${this.error ? html`<p class="error" part="tuning-error" role="alert">${this.error}</p>` : nothing}
        <!-- Both tabs stay in place, the other one hidden: a run goes on, and reports, while the other tab is open. -->
        <llm-tuning-dialogues
          exportparts="${exportParts(DIALOGUES_PARTS, '')}, ${exportParts(SHARED_PARTS, 'sft-')}"
          ?hidden=${this.tab !== 'dialogues'}
          .client=${this.client}
          .model=${this.model}
          .state=${tuning}
          .defaults=${this.defaults?.supervised ?? null}
        ></llm-tuning-dialogues>
        <llm-tuning-choices
          exportparts="${exportParts(CHOICES_PARTS, '')}, ${exportParts(SHARED_PARTS, 'dpo-')}"
          ?hidden=${this.tab !== 'choices'}
          .client=${this.client}
          .state=${tuning}
          .defaults=${this.defaults?.preference ?? null}
          .rewardDefaults=${this.defaults?.reinforcement ?? null}
        ></llm-tuning-choices>
      </div>`;
  }

  private renderReference() {
    const reference = this.tuning?.reference;
    if (!reference) {
      const name = this.model?.name;
      return html`<p class="reference" part="reference">
        Tuning begins with the first Play, Step or choice: a copy${name ? html` named <strong>${name}, tuned</strong>` : nothing}
        takes the place of the model in use, and is what tuning changes. The original stays as it was, and is the
        reference Before / After compares with.
      </p>`;
    }
    return html`<p class="reference" part="reference">
      Tuning ${this.model?.tuning ? html`<strong>${this.model.name}</strong>` : 'a copy'} of the reference
      ${renderReferenceName(reference)},
      frozen: it stays as it was, and saving saves the tuned model as a new one.
    </p>`;
  }
}

define('llm-tuning-panel', TuningPanel);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-panel': TuningPanel;
  }
}
