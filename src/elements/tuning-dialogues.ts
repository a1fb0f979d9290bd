/**
 * <llm-tuning-dialogues>: the tuning panel's first tab, supervised fine-tuning. Pick the dialogues (the built-in
 * ones, or lines "User: … Assistant: …" pasted), see what will be learned and what is skipped, set the steps and
 * the learning rate, then Play, Pause, Step or Reset. Each step shows the model a batch of dialogues and lowers
 * the loss of their answers only; the held-out dialogues' loss says whether it learned to answer or only learned
 * these answers. Before / After asks one question of the reference and of the tuned model (<llm-tuning-compare>).
 *
 * Keyboard: the buttons and fields as usual; Escape pauses a run under way.
 *
 * Properties: client (TuningDialoguesClient | null), model (ModelInfo | null: the model in use), state (TuningState |
 *   null, from <llm-tuning-panel>), defaults (TuningSettings | null: the supervised ones).
 * Events: llm-tuning-change, llm-tuning-progress, llm-tuning-end, llm-model-change (see tuning-run.ts).
 * Parts: sources, source (data-source: builtin, text), paste, dialogue-summary, examples, skipped, unknown,
 *   dialogues-error, settings, field, steps, learning-rate, the run's (play-button, step-button, reset-button,
 *   run-error, progress-bar, run-status), those of <llm-loss-chart> and of <llm-tuning-compare>.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { live } from 'lit/directives/live.js';
import {
  type DialogueSet,
  type DialogueSource,
  type LossPoint,
  messageOf,
  type ModelInfo,
  type TuningSettings,
  type TuningState,
  type Uses,
} from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, blocks, buttons, theme } from '../theme.ts';
import { showText } from '../visible-token.ts';
import './loss-chart.ts';
import { numberFieldStyles } from './number-fields.ts';
import './tuning-compare.ts';
import type { TuningCompareClient } from './tuning-compare.ts';
import {
  LEARNING_RATE_FIELD,
  modelProperty,
  pauseOnEscape,
  renderRunControls,
  runStyles,
  STEPS_FIELD,
  TuningRun,
  TuningSettingsForm,
  type TuningRunClient,
} from './tuning-run.ts';
import { define } from '../define.ts';

export type TuningDialoguesClient = Uses<'tuning', 'readDialogues' | 'fineTune'> & TuningRunClient & TuningCompareClient;

const FIELDS = [STEPS_FIELD, LEARNING_RATE_FIELD] as const;
/** Pasted text is read once typing stops this long. */
const TYPING_DELAY = 400;
/** Skipped lines listed; the count says how many more. */
const SHOWN_SKIPPED = 8;

const PASTE_EXAMPLE = 'User: What colour is the happy red fox? Assistant: The fox is red.';

/** The fine-tuning points as the loss chart draws them: the held-out loss is its validation line. */
export const lossPoints = (state: TuningState | null): LossPoint[] =>
  (state?.history ?? [])
    .filter((point) => point.kind === 'supervised')
    .map(({ step, loss, heldOutLoss }) =>
      heldOutLoss === undefined ? { step, loss } : { step, loss, validationLoss: heldOutLoss },
    );

export class TuningDialogues extends LitElement {
  static override properties = {
    client: { attribute: false },
    model: modelProperty,
    state: { attribute: false },
    defaults: { attribute: false },
    ...states('source', 'pasted', 'dialogues', 'readError'),
  };

  declare client: TuningDialoguesClient | null;
  declare model: ModelInfo | null;
  declare state: TuningState | null;
  declare defaults: TuningSettings | null;
  declare private source: DialogueSource['kind'];
  declare private pasted: string;
  /** The dialogues as read for the source shown; null while being read. */
  declare private dialogues: DialogueSet | null;
  declare private readError: string;
  private readonly run = new TuningRun(this);
  private readonly form = new TuningSettingsForm(this, 'supervised', FIELDS, 'sft-');
  private readonly reading = new Newest<DialogueSet>(this, { delay: TYPING_DELAY });

  constructor() {
    super();
    this.client = null;
    this.model = null;
    this.state = null;
    this.defaults = null;
    this.source = 'builtin';
    this.pasted = '';
    this.dialogues = null;
    this.readError = '';
  }

  private get dialogueSource(): DialogueSource {
    return this.source === 'builtin' ? { kind: 'builtin' } : { kind: 'text', text: this.pasted };
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('defaults')) this.form.follow({ defaults: this.defaults });
    if (changed.has('state')) {
      this.form.follow({ state: this.state });
      this.showPasted(this.state?.dialogueSource);
    }
    if (changed.has('client') && this.client) void this.read(this.client, 0);
  }

  /** Dialogues pasted before (a reopened model's) fill the untouched box, so that Play goes on with them. */
  private showPasted(source: DialogueSource | null | undefined): void {
    if (source?.kind !== 'text' || this.source !== 'builtin' || this.pasted || this.form.changed) return;
    this.source = 'text';
    this.pasted = source.text;
    if (this.client) void this.read(this.client, 0);
  }

  private async read(client: TuningDialoguesClient, delay?: number): Promise<void> {
    const source = this.dialogueSource;
    this.dialogues = null;
    await this.reading.ask(
      () => client.tuning.readDialogues(source),
      (answer) => {
        this.readError = answer.error === undefined ? '' : messageOf(answer.error);
        this.dialogues = answer.value ?? null;
      },
      delay,
    );
  }

  private pick(source: DialogueSource['kind']): void {
    if (source === this.source) return;
    this.source = source;
    this.form.changed = true;
    if (this.client) void this.read(this.client, 0);
  }

  private onPaste(text: string): void {
    this.pasted = text;
    this.form.changed = true;
    if (this.client) void this.read(this.client);
  }

  private prepare = () => {
    const client = this.client!;
    if (!this.form.needsPreparing(this.state)) return null;
    return client.tuning.fineTune(this.dialogueSource, this.form.take());
  };

  static override styles = [
    theme,
    alerts,
    buttons,
    blocks,
    numberFieldStyles,
    runStyles,
    css`
      .columns {
        display: grid;
        gap: 1rem;
      }
      @container (min-width: 860px) {
        .columns {
          grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        }
      }
      h4 {
        margin: 0 0 0.3rem;
        font-size: 1rem;
      }
      .sources {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin: 0.4rem 0;
      }
      textarea {
        min-height: 6rem;
        resize: vertical;
      }
      .examples {
        margin: 0.3rem 0;
        padding-left: 1.2rem;
        font-family: var(--_mono);
        font-size: 0.82rem;
      }
      .skipped {
        margin: 0.3rem 0;
        padding-left: 1.2rem;
        font-size: 0.85rem;
      }
      .line {
        font-family: var(--_mono);
      }
      .unknown {
        color: var(--_warning);
      }
    `,
  ];

  override render() {
    const settings = this.form.values;
    const locked = this.run.locked || !!this.state?.playing;
    const usable = !!this.dialogues && this.dialogues.dialogues > 0 && !this.reading.busy;
    return html`<div class="columns" @keydown=${pauseOnEscape(this.run, this.client)}>
      <div>
        <div class="block">
          <h4>Dialogues</h4>
          <p class="caption">
            One dialogue a line, as the chat lays them out. Tuning lowers the loss of the answers only: the model learns
            to answer, not to ask.
          </p>
          ${this.renderSource(locked)} ${this.renderDialogues()}
        </div>
        <div class="block" part="settings">
          <h4>Settings</h4>
          ${this.form.render(locked)}
        </div>
      </div>
      <div>
        <div class="block">
          <h4>Fine-tune</h4>
          ${renderRunControls({
            run: this.run,
            client: this.client,
            prepare: this.prepare,
            ready: !!this.client && !!settings && usable && !this.state?.playing,
            playLabel: 'Play',
            state: this.state,
            kind: 'supervised',
            plannedSteps: settings?.steps ?? 0,
          })}
          <llm-loss-chart
            exportparts="chart, train-line, validation-line, legend"
            .points=${lossPoints(this.state)}
            total-steps=${this.state?.kind === 'supervised' ? this.state.totalSteps : (this.state?.step ?? 0) + (settings?.steps ?? 0)}
          ></llm-loss-chart>
        </div>
        <div class="block">
          <h4>Before / After</h4>
          <p class="caption">The reference and the tuned model continue the same text, each taking its likeliest token.</p>
          <llm-tuning-compare
            exportparts="question, text, text-part, replies, reply, reply-heading, compare-error, tokens, token, selected-token, alternatives, alternative, chosen"
            .client=${this.client}
            .model=${this.model}
            ?tuned=${!!this.state}
            step=${this.state?.step ?? 0}
            ?playing=${this.run.playing || !!this.state?.playing}
          ></llm-tuning-compare>
        </div>
      </div>
    </div>`;
  }

  private renderSource(locked: boolean) {
    const kinds: [DialogueSource['kind'], string][] = [
      ['builtin', 'Built-in dialogues'],
      ['text', 'Paste your own'],
    ];
    return html`<div class="sources" part="sources" role="group" aria-label="Dialogues to learn from">
        ${kinds.map(
          ([kind, label]) => html`<button
            part="source"
            data-source=${kind}
            aria-pressed=${String(this.source === kind)}
            ?disabled=${locked}
            @click=${() => this.pick(kind)}
          >
            ${label}
          </button>`,
        )}
      </div>
      ${
        this.source === 'text'
          ? html`<textarea
            part="paste"
            aria-label="Dialogues, one a line"
            placeholder=${PASTE_EXAMPLE}
            .value=${live(this.pasted)}
            ?disabled=${locked}
            @input=${(event: Event) => this.onPaste((event.target as HTMLTextAreaElement).value)}
          ></textarea>`
          : nothing
      }`;
  }

  private renderDialogues() {
    if (this.readError) return html`<p class="error" part="dialogues-error" role="alert">${showText(this.readError)}</p>`;
    const set = this.dialogues;
    if (!set) return html`<p class="empty" role="status">Reading the dialogues…</p>`;
    const { dialogues, heldOut, examples, skipped, unknown } = set;
    return html`<p part="dialogue-summary" role="status">
        ${count(dialogues)} ${dialogues === 1 ? 'dialogue' : 'dialogues'} to learn from, ${count(heldOut)} held out
        ${heldOut ? '(their answers are measured, never learned from)' : '(10 usable lines or more hold 1 in 10 out)'}.
      </p>
      ${
        examples.length
          ? html`<ul class="examples" part="examples" aria-label="Examples">
            ${examples.map((line) => html`<li>${showText(line)}</li>`)}
          </ul>`
          : nothing
      }
      ${
        skipped.length
          ? html`<p class="caption">${count(skipped.length)} ${skipped.length === 1 ? 'line is' : 'lines are'} skipped:</p>
            <ul class="skipped" part="skipped">
              ${skipped
                .slice(0, SHOWN_SKIPPED)
                .map(
                  ({ line, text, reason }) => html`<li>Line ${line} <span class="line">${showText(text)}</span>: ${reason}</li>`,
                )}
              ${skipped.length > SHOWN_SKIPPED ? html`<li>and ${count(skipped.length - SHOWN_SKIPPED)} more.</li>` : nothing}
            </ul>`
          : nothing
      }
      ${
        unknown.length
          ? html`<p class="caption" part="unknown">
            Characters the vocabulary lacks, read as the unknown token:
            ${unknown.map((character) => html`<span class="unknown line">${showText(character)}</span> `)}
          </p>`
          : nothing
      }`;
  }
}

define('llm-tuning-dialogues', TuningDialogues);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-dialogues': TuningDialogues;
  }
}
