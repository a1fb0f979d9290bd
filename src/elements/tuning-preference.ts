/**
 * <llm-tuning-preference>: tuning on the user's choices (Direct Preference Optimization): β, the steps and the
 * learning rate; "Tune on my choices" (Pause while it runs), Step and Reset; and, at every report, what tuning
 * changed: the margin over the reference, the tuned model's own log-probability margin, the KL divergence to the
 * reference, and how much likelier the latest choice's chosen answer is than its rejected one, now and before.
 *
 * Keyboard: the buttons and fields as usual; Escape pauses a run under way.
 *
 * Properties: client (TuningPreferenceClient | null), state (TuningState | null), defaults (TuningSettings | null:
 *   the preference ones).
 * Events: llm-tuning-change, llm-tuning-progress, llm-tuning-end, llm-model-change (see tuning-run.ts).
 * Parts: dpo-caption, dpo-reference, settings, field, beta, steps, learning-rate, the run's (play-button, step-button,
 *   reset-button, run-error, progress-bar, run-status), figures, figure (data-figure: margin, log-prob-margin, kl),
 *   odds, odds-error, and those of <llm-tuning-margin-chart> (chart, margin-line, kl-line, legend).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  messageOf,
  type Preference,
  type PreferenceOdds,
  type TuningSettings,
  type TuningState,
  type Uses,
} from '../../workers/api/index.ts';
import { signed } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { alerts, buttons, theme } from '../theme.ts';
import { numberFieldStyles } from './number-fields.ts';
import './tuning-margin-chart.ts';
import {
  BETA_FIELD,
  type Figure,
  figureStyles,
  LEARNING_RATE_FIELD,
  pauseOnEscape,
  renderRunControls,
  runStyles,
  STEPS_FIELD,
  TuningRun,
  TuningSettingsForm,
  type TuningRunClient,
  renderFigures,
  renderReferenceName,
} from './tuning-run.ts';
import { define } from '../define.ts';

export type TuningPreferenceClient = Uses<'tuning', 'preferenceTune' | 'odds'> & TuningRunClient;

const FIELDS = [BETA_FIELD, STEPS_FIELD, LEARNING_RATE_FIELD] as const;
/** Odds are asked at most this often while a run reports. */
const ODDS_INTERVAL = 250;

/** e^x as "how many times as likely": 3.3, 41, 2,900, 1.2e+6, 0.012. */
export function formatTimes(logRatio: number): string {
  const ratio = Math.exp(logRatio);
  if (ratio >= 1e5 || ratio < 1e-3) return ratio.toExponential(1);
  if (ratio >= 100) return Math.round(ratio).toLocaleString('en-US');
  return ratio.toPrecision(2);
}

/** The choice whose odds are shown: the latest preference, else the latest pair of verdicts. */
const latestChoice = (state: TuningState | null): Preference | undefined => state?.preferences.at(-1) ?? state?.pairs.at(-1);

interface Odds {
  preference: Preference;
  odds: PreferenceOdds;
}

export class TuningPreference extends LitElement {
  static override properties = {
    client: { attribute: false },
    state: { attribute: false },
    defaults: { attribute: false },
    ...states('odds', 'oddsError'),
  };

  declare client: TuningPreferenceClient | null;
  declare state: TuningState | null;
  declare defaults: TuningSettings | null;
  declare private odds: Odds | null;
  declare private oddsError: string;

  private readonly run = new TuningRun(this);
  private readonly form = new TuningSettingsForm(this, 'preference', FIELDS, 'dpo-');
  private readonly asking = new Newest<PreferenceOdds>(this, { delay: ODDS_INTERVAL, mode: 'throttle' });
  /** The step and choice the odds were last asked for. */
  private asked: { step: number; preference: Preference } | null = null;

  constructor() {
    super();
    this.client = null;
    this.state = null;
    this.defaults = null;
    this.odds = null;
    this.oddsError = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('defaults')) this.form.follow({ defaults: this.defaults });
    if (changed.has('state')) {
      this.form.follow({ state: this.state, previous: changed.get('state') as TuningState | null | undefined });
      this.askOdds();
    }
  }

  /** The latest choice's odds, at each new step (throttled while a run reports) and for each new choice. */
  private askOdds(): void {
    const client = this.client;
    const preference = latestChoice(this.state);
    if (!client || !preference) {
      this.asking.drop();
      this.odds = null;
      return;
    }
    const step = this.state!.step;
    if (this.asked?.step === step && this.asked.preference === preference) return;
    this.asked = { step, preference };
    void this.asking.ask(
      () => client.tuning.odds(preference),
      (answer) => {
        this.oddsError = answer.error === undefined ? '' : messageOf(answer.error);
        if (answer.value) this.odds = { preference, odds: answer.value };
      },
      this.run.playing ? undefined : 0,
    );
  }

  private prepare = () => {
    const client = this.client!;
    if (!this.form.needsPreparing(this.state)) return null;
    return client.tuning.preferenceTune(this.form.take());
  };

  static override styles = [
    theme,
    alerts,
    buttons,
    numberFieldStyles,
    runStyles,
    figureStyles,
    css`
      .odds {
        margin: 0.5rem 0;
        padding: 0.5rem 0.75rem;
        border-left: 3px solid var(--_accent);
      }
      .odds strong {
        font-family: var(--_mono);
      }
    `,
  ];

  override render() {
    const state = this.state;
    const settings = this.form.values;
    const locked = this.run.locked || !!state?.playing;
    const pairs = state?.pairs.length ?? 0;
    return html`<div @keydown=${pauseOnEscape(this.run, this.client)}>
      <p class="caption" part="dpo-caption">
        This is Direct Preference Optimization (DPO): it raises the chosen answer's odds relative to a frozen reference,
        the model as it was when tuning on your choices began, directly from your choices. β sets how near the reference
        it stays. The RLHF of big chatbots first trains a reward model on many people's choices, then tunes the chatbot
        against it with policy-gradient reinforcement learning, also held near a reference: the block below does that, in
        small.
      </p>
      <div part="settings">
        ${this.form.render(locked)}
      </div>
      ${renderRunControls({
        run: this.run,
        client: this.client,
        prepare: this.prepare,
        ready: !!this.client && !!settings && pairs > 0 && !state?.playing,
        playLabel: 'Tune on my choices',
        state,
        kind: 'preference',
        plannedSteps: settings?.steps ?? 0,
      })}
      ${pairs ? nothing : html`<p class="note">Choose between two answers, or mark a good and a bad one, to tune on.</p>`}
      ${this.renderReference()} ${this.renderFigures()} ${this.renderOdds()}
      <llm-tuning-margin-chart
        exportparts="chart, margin-line, kl-line, legend"
        .points=${(state?.history ?? []).filter((point) => point.kind === 'preference')}
      ></llm-tuning-margin-chart>
    </div>`;
  }

  /** DPO's reference: the figures and the odds are measured against it. */
  private renderReference() {
    const reference = this.state?.preferenceReference;
    if (!reference) return nothing;
    return html`<p class="note" part="dpo-reference">
      Reference: ${renderReferenceName(reference)}.
    </p>`;
  }

  private renderFigures() {
    const latest = this.state?.history.filter((point) => point.kind === 'preference').at(-1);
    if (!latest) return nothing;
    const figures: Figure[] = [
      ['margin', 'Margin over the reference', latest.margin === undefined ? '–' : `${signed(latest.margin, 3)} nats`],
      [
        'log-prob-margin',
        'log p(chosen) − log p(rejected)',
        latest.logProbMargin === undefined ? '–' : `${signed(latest.logProbMargin, 3)} nats`,
      ],
      ['kl', 'KL to the reference', latest.kl === undefined ? '–' : `${latest.kl.toFixed(4)} nats a token`],
      ['loss', 'DPO loss', latest.loss.toFixed(4)],
    ];
    return renderFigures(figures);
  }

  private renderOdds() {
    if (this.oddsError) return html`<p class="error" part="odds-error" role="alert">${this.oddsError}</p>`;
    if (!this.odds) return nothing;
    const { odds } = this.odds;
    return html`<p class="odds" part="odds">
      On the latest choice, the chosen answer is e<sup>${signed(odds.tuned, 2)}</sup> =
      <strong>${formatTimes(odds.tuned)}×</strong> as likely as the rejected one; under the reference:
      <strong>${formatTimes(odds.reference)}×</strong>.
    </p>`;
  }
}

define('llm-tuning-preference', TuningPreference);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-preference': TuningPreference;
  }
}
