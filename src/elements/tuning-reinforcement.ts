/**
 * <llm-tuning-reinforcement>: tuning on the user's choices as big chatbots are tuned (RLHF), in small. "Train a
 * reward model on my choices" learns a reward model from the pairs and shows how well it ranks them; "Tune with
 * policy gradient" (Pause while it runs), Step and Reset then tune against it, and each report shows the mean
 * reward of the answers the model drew, the KL divergence to the reference, and the last step's answers with
 * their rewards.
 *
 * Keyboard: the buttons and fields as usual; Escape pauses a run under way.
 *
 * Properties: client (TuningReinforcementClient | null), state (TuningState | null), defaults (TuningSettings |
 *   null: the reinforcement ones).
 * Events: llm-tuning-change, llm-tuning-progress, llm-tuning-end, llm-model-change (see tuning-run.ts).
 * Parts: rl-caption, rl-train-button, rl-reward-model, rl-reference, settings, field, beta, batch-size, steps,
 *   learning-rate, the run's (play-button, step-button, reset-button, run-error, progress-bar, run-status),
 *   figures, figure (data-figure: reward, first-reward, kl, loss), rl-samples, rl-sample, rl-sample-reward, and those
 *   of <llm-tuning-margin-chart> (chart, reward-line, kl-line, legend).
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import type { TuningPoint, TuningSettings, TuningState, Uses } from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { count, signed, steps } from '../format.ts';
import { alerts, buttons, theme } from '../theme.ts';
import { showText } from '../visible-token.ts';
import { type NumberField, numberFieldStyles } from './number-fields.ts';
import { type ChartLine, DPO_LINES } from './tuning-margin-chart.ts';
import './tuning-margin-chart.ts';
import {
  BETA_FIELD,
  figureStyles,
  LEARNING_RATE_FIELD,
  pauseOnEscape,
  renderFigures,
  renderReferenceName,
  renderRunControls,
  runStyles,
  STEPS_FIELD,
  TuningRun,
  TuningSettingsForm,
  type TuningRunClient,
} from './tuning-run.ts';
import { define } from '../define.ts';

export type TuningReinforcementClient = Uses<'tuning', 'rewardTune'> & TuningRunClient;

const SAMPLES_FIELD: NumberField<'batchSize'> = {
  key: 'batchSize',
  label: 'Answers a step',
  min: 2,
  max: 64,
  step: 1,
  caption: 'Answers the model draws each step, to compare.',
};
const FIELDS = [BETA_FIELD, SAMPLES_FIELD, STEPS_FIELD, LEARNING_RATE_FIELD] as const;
/** The chart's lines: the mean reward of each step's answers, and DPO's KL line. */
const LINES: readonly ChartLine[] = [
  { figure: 'reward', label: 'mean reward of the answers drawn', tone: 'accent' },
  ...DPO_LINES.filter((line) => line.figure === 'kl'),
];
/** A reward model needs this many pairs (as the worker asks). */
const PAIRS_NEEDED = 2;

export class TuningReinforcement extends LitElement {
  static override properties = {
    client: { attribute: false },
    state: { attribute: false },
    defaults: { attribute: false },
  };

  declare client: TuningReinforcementClient | null;
  declare state: TuningState | null;
  declare defaults: TuningSettings | null;
  private readonly run = new TuningRun(this);
  /** Its `changed`: the pairs or the settings changed since the reward model was trained, so Play trains it again. */
  private readonly form = new TuningSettingsForm(this, 'reinforcement', FIELDS, 'rl-');

  constructor() {
    super();
    this.client = null;
    this.state = null;
    this.defaults = null;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('defaults')) this.form.follow({ defaults: this.defaults });
    if (changed.has('state'))
      this.form.follow({ state: this.state, previous: changed.get('state') as TuningState | null | undefined });
  }

  /** Trains the reward model on the pairs as they are, and gets a run ready with the settings shown. */
  private rewardTune = () => this.client!.tuning.rewardTune(this.form.take());

  private prepare = () => (this.form.needsPreparing(this.state) || !this.state?.rewardModel ? this.rewardTune() : null);

  private train = () =>
    this.client && void this.run.guarded(async () => emit(this, 'llm-tuning-change', await this.rewardTune()));

  static override styles = [
    theme,
    alerts,
    buttons,
    numberFieldStyles,
    runStyles,
    figureStyles,
    css`
      .samples {
        list-style: none;
        padding: 0;
        margin: 0.4rem 0;
        display: grid;
        gap: 0.2rem;
      }
      .samples li {
        display: flex;
        gap: 0.75rem;
        align-items: baseline;
      }
      .reward {
        font-family: var(--_mono);
        min-width: 4.5rem;
        text-align: right;
        color: var(--_muted);
      }
    `,
  ];

  override render() {
    const state = this.state;
    const settings = this.form.values;
    const locked = this.run.locked || !!state?.playing;
    const enough = (state?.pairs.length ?? 0) >= PAIRS_NEEDED;
    const ready = !!this.client && !!settings && enough && !state?.playing;
    return html`<div @keydown=${pauseOnEscape(this.run, this.client)}>
      <p class="caption" part="rl-caption">
        This is how big chatbots are tuned, in small. First a reward model learns from your choices to score answers:
        here, a weighted sum of the frozen reference's last layer, averaged over the answer. Then the model draws
        answers to your questions, one question a step, and policy gradient makes the higher-scored ones likelier, while
        a KL penalty (β) holds it near the reference.
      </p>
      <div part="settings">
        ${this.form.render(locked)}
      </div>
      <div class="actions">
        <button part="rl-train-button" ?disabled=${!ready || locked} @click=${this.train}>
          Train a reward model on my choices
        </button>
      </div>
      ${
        enough
          ? nothing
          : html`<p class="note">A reward model needs at least ${PAIRS_NEEDED} pairs: make a few more choices to train one.</p>`
      }
      ${this.renderRewardModel()}
      ${renderRunControls({
        run: this.run,
        client: this.client,
        prepare: this.prepare,
        ready,
        playLabel: 'Tune with policy gradient',
        state,
        kind: 'reinforcement',
        plannedSteps: settings?.steps ?? 0,
      })}
      ${this.renderFigures()}
      <llm-tuning-margin-chart
        exportparts="chart, reward-line, kl-line, legend"
        .points=${this.points()}
        .lines=${LINES}
      ></llm-tuning-margin-chart>
      ${this.renderSamples()}
    </div>`;
  }

  /** How well the reward model ranks the pairs it learned from, and the frozen model it reads. */
  private renderRewardModel() {
    const report = this.state?.rewardModel;
    if (!report) return nothing;
    const reference = this.state!.preferenceReference;
    return html`<p class="note" part="rl-reward-model">
        The reward model scores the chosen answer higher in ${Math.round(report.accuracy * 100)}% of the
        ${count(report.pairs)} pairs it learned from, by ${signed(report.margin, 2)} on average.
      </p>
      ${
        reference
          ? html`<p class="note" part="rl-reference">
            It reads, and policy gradient is held near: ${renderReferenceName(reference)}.
          </p>`
          : nothing
      }`;
  }

  private points(): TuningPoint[] {
    return this.state?.history.filter((point) => point.kind === 'reinforcement') ?? [];
  }

  /**
   * The mean reward of the answers drawn over the last round of questions and over the first (each step asks one
   * question in turn, and some questions score higher than others), and the latest step's KL and loss.
   */
  private renderFigures() {
    const state = this.state;
    const points = this.points();
    const latest = points.at(-1);
    if (!state || !latest) return nothing;
    const round = Math.min(points.length, Math.max(1, new Set(state.pairs.map(({ prompt }) => prompt)).size));
    const meanReward = (some: TuningPoint[]) => (some.reduce((sum, point) => sum + (point.reward ?? 0), 0) / round).toFixed(3);
    return renderFigures([
      ['reward', `Mean reward of the answers drawn, the last ${steps(round)}`, meanReward(points.slice(-round))],
      ['first-reward', `The same, the first ${steps(round)}`, meanReward(points.slice(0, round))],
      ['kl', 'KL to the reference', latest.kl === undefined ? '–' : `${latest.kl.toFixed(4)} nats a token`],
      ['loss', 'Loss: −(reward − β·log π/π_ref)', latest.loss.toFixed(4)],
    ]);
  }

  /** The answers the last step drew, the highest rewarded first. */
  private renderSamples() {
    const latest = this.points().at(-1);
    if (!latest?.samples?.length) return nothing;
    const samples = [...latest.samples].sort((a, b) => b.reward - a.reward);
    return html`<p class="note">The answers drawn at step ${count(latest.step)}, the highest rewarded first:</p>
      <ol class="samples" part="rl-samples">
        ${samples.map(
          (sample) =>
            html`<li part="rl-sample">
              <span class="reward" part="rl-sample-reward">${signed(sample.reward, 2)}</span>
              <span>${showText(sample.answer)}${sample.ended ? nothing : '…'}</span>
            </li>`,
        )}
      </ol>`;
  }
}

define('llm-tuning-reinforcement', TuningReinforcement);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-reinforcement': TuningReinforcement;
  }
}
