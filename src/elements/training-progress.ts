/**
 * <llm-training-progress>: how far training has got: a progress bar over the
 * steps, the tokens seen, the speed, the time left, and the latest losses; and
 * a warning when the model memorises its text instead of learning from it.
 *
 * Properties: progress (TrainingProgress | null), playing (boolean).
 * Parts: progress-bar, stats, stat, memorising.
 */
import { css, html, LitElement, nothing } from 'lit';
import type { Memorising } from '../../workers/api/index.ts';
import type { TrainingProgress } from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { theme } from '../theme.ts';
import { define } from '../define.ts';

/** Seconds as "45 s", "3 min 20 s" or "1 h 5 min". */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${whole % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export class TrainingProgressView extends LitElement {
  static override properties = {
    progress: { attribute: false },
    playing: { type: Boolean },
  };

  declare progress: TrainingProgress | null;
  declare playing: boolean;

  constructor() {
    super();
    this.progress = null;
    this.playing = false;
  }

  static override styles = [
    theme,
    css`
      progress {
        width: 100%;
        height: 0.9rem;
        accent-color: var(--_accent);
      }
      dl {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr));
        gap: 0.4rem 1rem;
        margin: 0.5rem 0 0;
      }
      dt {
        font-size: 0.78rem;
        color: var(--_muted);
      }
      dd {
        margin: 0;
        font-family: var(--_mono);
        font-size: 0.95rem;
      }
      .warning {
        margin: 0.6rem 0 0;
        padding: 0.5rem 0.75rem;
        border-left: 3px solid var(--_warning);
        font-size: 0.9rem;
      }
    `,
  ];

  override render() {
    const progress = this.progress;
    if (!progress) return html`<progress part="progress-bar" max="1" value="0" aria-label="Training progress"></progress>`;
    const { step, totalSteps, loss, validationLoss, learningRate, tokensSeen, tokensPerSecond, secondsLeft } = progress;
    const measured = tokensPerSecond > 0;
    const stats: [string, string][] = [
      ['Step', `${count(step)} of ${count(totalSteps)}`],
      ['Loss', Number.isFinite(loss) ? loss.toFixed(3) : '–'],
      ['Validation loss', validationLoss === undefined ? 'not yet' : validationLoss.toFixed(3)],
      ['Learning rate', learningRate > 0 ? learningRate.toExponential(2) : '–'],
      ['Tokens seen', count(tokensSeen)],
      ['Tokens per second', measured ? count(Math.round(tokensPerSecond)) : '–'],
      ['Time left', step >= totalSteps ? 'done' : measured && this.playing ? `about ${formatDuration(secondsLeft)}` : '–'],
    ];
    return html`
      <progress
        part="progress-bar"
        max=${totalSteps}
        .value=${step}
        aria-label="Training progress: step ${step} of ${totalSteps}"
      ></progress>
      <dl part="stats">
        ${stats.map(([label, value]) => html`<div part="stat"><dt>${label}</dt><dd>${value}</dd></div>`)}
      </dl>
      ${progress.memorising ? memorisingWarning(progress.memorising) : nothing}
    `;
  }
}

/** What to say when the validation loss climbs while the training loss falls, and what to do about it. */
function memorisingWarning({ bestStep, best, latest }: Memorising) {
  return html`<p class="warning" part="memorising" role="status">
    <strong>It is memorising this text</strong> rather than learning from it: the validation loss has risen from
    ${best.toFixed(2)} at step ${count(bestStep)} to ${latest.toFixed(2)} while the training loss kept falling. Try a
    longer text, a smaller model, or stopping at about step ${count(bestStep)}, where the validation loss was lowest.
  </p>`;
}

define('llm-training-progress', TrainingProgressView);

declare global {
  interface HTMLElementTagNameMap {
    'llm-training-progress': TrainingProgressView;
  }
}
