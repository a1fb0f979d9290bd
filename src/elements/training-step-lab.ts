/**
 * <llm-training-step-lab>: one training step up close. Pick a sentence of the
 * corpus the model in use learned from (or type one): the model reads all but
 * its last token and predicts each next one, and each position shows its loss,
 * −log p of the true next token, as a bar under the tokens. "Take one step"
 * runs the trainer's own step in the worker (forward, compare, backpropagation,
 * clipping, AdamW) on a copy of the model; each position then shows the true
 * token's probability before and after, each weight matrix the size of its
 * gradient and of its change, and "Step again" goes on on the same copy, with a
 * history of the mean probability. "Start over" goes back to the model in use,
 * which the steps never change. Every number comes from `client`.
 *
 * Keyboard: the picker, the text box (Enter uses it), the buttons and the checkbox are native controls.
 * Its properties and parts are the tags of the class comment.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  type MatrixStep,
  messageOf,
  type ModelInfo,
  type StepSentence,
  type StepSentences,
  type TrainingStepResult,
  type Uses,
} from '../../workers/api/index.ts';
import { count } from '../format.ts';
import { Newest } from '../newest.ts';
import { states } from '../states.ts';
import { styleProperties } from '../style-properties.ts';
import { describeToken, formatPercent, showToken } from '../visible-token.ts';
import { OwnClient } from './own-client.ts';
import { trainingStepLabStyles } from './training-step-lab.styles.ts';
import { define } from '../define.ts';

/** What the training-step lab asks of the engine. */
export type TrainingStepLabClient = Uses<'labs', 'stepSentences' | 'startStep' | 'trainingStep'>;

/** How many of the corpus's sentences the picker offers. */
const OFFERED_SENTENCES = 8;

/** The sentence on the model in use, and the copy's last step on it (null before the first). */
interface View {
  start: StepSentence;
  step: TrainingStepResult | null;
}

/** One position as drawn: what it reads, what comes next, and its numbers. */
interface PositionView {
  token: string;
  target: string;
  loss: number;
  before: number;
  after: number | null;
}

/** Two decimals, or two significant digits below 1, so a loss near 0 still shows its change. */
const formatLoss = (loss: number): string => (loss >= 1 ? loss.toFixed(2) : loss.toPrecision(2));
const formatNorm = (value: number): string => (value === 0 ? '0' : value.toPrecision(3));
const percentWidth = (fraction: number): string => `${(Math.max(0, Math.min(1, fraction)) * 100).toFixed(2)}%`;
/** What tells one model from another: a step of training keeps it the same model. */
const identityOf = (model: ModelInfo | null | undefined): string =>
  model ? JSON.stringify([model.name, model.seed, model.config]) : '';
const rowName = ({ layer, label }: MatrixStep): string => (layer === null ? label : `layer ${layer + 1} · ${label}`);

function positionsOf({ start, step }: View): PositionView[] {
  if (!step) {
    const { tokens, loss, prob } = start;
    return [...loss].map((value, t) => ({
      token: tokens[t]!,
      target: tokens[t + 1]!,
      loss: value,
      before: prob[t]!,
      after: null,
    }));
  }
  const { tokens, lossBefore, probBefore, probAfter } = step;
  return [...lossBefore].map((value, t) => ({
    token: tokens[t]!,
    target: tokens[t + 1]!,
    loss: value,
    before: probBefore[t]!,
    after: probAfter[t]!,
  }));
}

/**
 * @tagname llm-training-step-lab
 * @summary One training step up close: each position's loss, then what one AdamW step changes.
 *
 * @prop client - TrainingStepLabClient | null. When none is set by the time the element connects, it starts its own
 * EngineClient (the shipped model) and ends it when disconnected.
 * @prop sentence - The sentence stepped on; set by the picker and the text box (default: the corpus's first offered
 * sentence).
 * @prop model - ModelInfo | null: the model in use, when the page knows it (<llm-playground> through the labs panel).
 * Another model (not the same one trained further) lists its corpus's sentences and starts over.
 *
 * @csspart explanation
 * @csspart sentence-picker
 * @csspart sentence-input
 * @csspart step-button
 * @csspart again-button
 * @csspart reset-button
 * @csspart settings
 * @csspart busy
 * @csspart status
 * @csspart error
 * @csspart refusal
 * @csspart summary
 * @csspart positions
 * @csspart position
 * @csspart token
 * @csspart target
 * @csspart loss-bar
 * @csspart loss
 * @csspart prob-before
 * @csspart prob-after
 * @csspart probs
 * @csspart history
 * @csspart history-bar
 * @csspart gradients
 * @csspart gradient-row
 * @csspart gradient-bar
 * @csspart all-parameters
 */
export class TrainingStepLab extends LitElement {
  static override properties = {
    client: { attribute: false },
    sentence: { type: String },
    model: { attribute: false },
    ...states('offered', 'view', 'error', 'allParameters', 'typed'),
  };

  declare client: TrainingStepLabClient | null;
  declare sentence: string;
  declare model: ModelInfo | null;
  /** The corpus's sentences, or why the model is refused; null until the worker answers. */
  declare private offered: StepSentences | null;
  declare private view: View | null;
  declare private error: string;
  /** Biases and LayerNorm gains and shifts listed with the matrices. */
  declare private allParameters: boolean;
  /** What the text box holds. */
  declare private typed: string;

  private readonly listing = new Newest<StepSentences>(this);
  /** Starts and steps share one: the last one asked is the one shown. */
  private readonly asking = new Newest<View>(this);

  constructor() {
    super();
    new OwnClient(this); // a worker of its own when the page gives none
    this.client = null;
    this.sentence = '';
    this.model = null;
    this.offered = null;
    this.view = null;
    this.error = '';
    this.allParameters = false;
    this.typed = '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const before = identityOf(changed.get('model'));
    const anotherModel = changed.has('model') && before !== '' && before !== identityOf(this.model);
    // The new model's corpus has sentences of its own: the first of them is taken.
    if (anotherModel) this.sentence = '';
    if (changed.has('client') || anotherModel) void this.listSentences();
    if ((changed.has('client') || changed.has('sentence')) && this.sentence) void this.start();
  }

  private async listSentences(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await this.listing.ask(
      () => client.labs.stepSentences(OFFERED_SENTENCES),
      (answer) => {
        if (answer.error !== undefined) {
          this.error = `Could not read the corpus: ${messageOf(answer.error)}`;
          return;
        }
        this.offered = answer.value;
        if (!this.sentence) this.sentence = answer.value.sentences[0] ?? '';
      },
    );
  }

  /** The sentence on the model in use; the worker drops its copy, so the next step starts from the model. */
  private async start(): Promise<void> {
    const { client, sentence } = this;
    if (!client) return;
    await this.show(async () => ({ start: await client.labs.startStep(sentence), step: null }));
  }

  private async step(): Promise<void> {
    const { client, sentence, view } = this;
    if (!client || !view || this.asking.busy) return;
    await this.show(async () => ({ start: view.start, step: await client.labs.trainingStep(sentence) }));
  }

  private async show(request: () => Promise<View>): Promise<void> {
    this.error = '';
    await this.asking.ask(request, (answer) => {
      if (answer.error !== undefined) {
        this.view = null;
        this.error = messageOf(answer.error);
      } else {
        this.view = answer.value;
      }
    });
  }

  /** Enter uses the sentence (a sentence has no line breaks). */
  private onTypedKey(event: KeyboardEvent): void {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    this.useTyped();
  }

  private useTyped(): void {
    const typed = this.typed.trim();
    if (typed && typed !== this.sentence) this.sentence = typed;
  }

  static override styles = trainingStepLabStyles;

  override render() {
    const refusal = this.offered?.refusal;
    return html`
      <p class="caption" part="explanation">
        A training step on one sentence. The model reads the sentence but its last token and predicts each next token
        (forward); the loss at each position is −log p of the true next token (compare). Backpropagation gives every
        weight a gradient, and AdamW moves every weight a little, so the true tokens become more likely. The steps run
        on a copy: the model in use stays as it is.
      </p>
      ${refusal ? html`<p class="error" part="refusal" role="alert">${refusal}</p>` : this.renderControls()}
      ${this.error ? html`<p class="error" part="error" role="alert">${this.error}</p>` : nothing}
      ${this.view && !refusal ? this.renderView(this.view) : nothing}
    `;
  }

  private renderControls() {
    const offered = this.offered;
    const busy = this.asking.busy;
    const stepped = !!this.view?.step;
    const inList = offered?.sentences.includes(this.sentence) ?? false;
    return html`
      <div class="controls">
        <label>
          A sentence of ${offered?.corpus ?? 'the corpus'}
          <select
            part="sentence-picker"
            ?disabled=${!offered}
            @change=${(event: Event) => (this.sentence = (event.target as HTMLSelectElement).value)}
          >
            ${inList ? nothing : html`<option value="" selected disabled>Your own sentence</option>`}
            ${(offered?.sentences ?? []).map(
              (sentence) => html`<option .value=${sentence} ?selected=${sentence === this.sentence}>${sentence}</option>`,
            )}
          </select>
        </label>
        <label class="own">
          or your own
          <textarea
            part="sentence-input"
            rows="1"
            placeholder="Type a sentence, then Enter"
            .value=${this.typed}
            @input=${(event: Event) => (this.typed = (event.target as HTMLTextAreaElement).value)}
            @keydown=${(event: KeyboardEvent) => this.onTypedKey(event)}
            @change=${() => this.useTyped()}
          ></textarea>
        </label>
      </div>
      <div class="actions">
        ${
          stepped
            ? html`<button part="again-button" class="primary" ?disabled=${busy} @click=${() => this.step()}>Step again</button>`
            : html`<button part="step-button" class="primary" ?disabled=${busy || !this.view} @click=${() => this.step()}>
              Take one step
            </button>`
        }
        <button part="reset-button" ?disabled=${busy || !stepped} @click=${() => this.start()}>Start over</button>
        ${busy ? html`<progress part="busy" aria-label="Working"></progress>` : nothing}
      </div>
    `;
  }

  private renderView(view: View) {
    const { learningRate, trainingLearningRate } = view.start;
    const { step } = view;
    return html`
      <p class="caption" part="settings">
        Learning rate ${learningRate} (training rises to ${trainingLearningRate}), AdamW with the trainer's settings, and
        the gradient clipped as in training.
      </p>
      ${step ? this.renderSummary(step) : nothing} ${this.renderPositions(view)}
      ${step ? html`${this.renderHistory(step)} ${this.renderGradients(step)}` : nothing}
    `;
  }

  private renderSummary(step: TrainingStepResult) {
    const meanBefore = step.history.at(-2) ?? 0;
    const meanAfter = step.history.at(-1) ?? 0;
    const clipped = step.gradientNorm > step.gradClip ? `, clipped to ${step.gradClip}` : '';
    return html`<p part="summary" role="status">
      Step ${count(step.steps)} of the copy: mean loss ${formatLoss(step.meanLossBefore)} → ${formatLoss(step.meanLossAfter)},
      mean probability of the true next token ${formatPercent(meanBefore)} → ${formatPercent(meanAfter)}. Gradient norm
      ${formatNorm(step.gradientNorm)}${clipped}.
    </p>`;
  }

  private renderPositions(view: View) {
    const positions = positionsOf(view);
    const maxLoss = Math.max(1, ...positions.map(({ loss }) => loss));
    const stepped = !!view.step;
    return html`<figure class="positions-figure">
      <figcaption class="caption">
        Each position reads the tokens up to it and is scored on the next one: the bar is its loss${
          stepped ? html` before the step; below, the true token's probability` : html`; below, the true token's probability.`
        }
        ${
          stepped
            ? html`<span class="legend"><span class="swatch before"></span> before and <span class="swatch after"></span> after.</span>`
            : nothing
        }
      </figcaption>
      <ol part="positions" class="positions">
        ${positions.map((position) => this.renderPosition(position, maxLoss))}
      </ol>
    </figure>`;
  }

  private renderPosition({ token, target, loss, before, after }: PositionView, maxLoss: number) {
    const label =
      `After ${describeToken(token)}, the true next token ${describeToken(target)}: loss ${formatLoss(loss)}, ` +
      `probability ${formatPercent(before)}${after === null ? '' : ` before, ${formatPercent(after)} after`}`;
    return html`<li part="position" class="position" aria-label=${label} title=${label}>
      <span part="token" class="token">${showToken(token)}</span>
      <span part="target" class="target">→ ${showToken(target)}</span>
      <span class="loss-track" aria-hidden="true">
        <span part="loss-bar" class="loss-bar" ${styleProperties({ height: percentWidth(loss / maxLoss) })}></span>
      </span>
      <span part="loss" class="number">${formatLoss(loss)}</span>
      <span part="probs" class="probs" aria-hidden="true">
        <span class="prob-track"><span part="prob-before" class="prob before" ${styleProperties({ height: percentWidth(before) })}></span></span>
        ${
          after === null
            ? nothing
            : html`<span class="prob-track"
              ><span part="prob-after" class="prob after" ${styleProperties({ height: percentWidth(after) })}></span
            ></span>`
        }
      </span>
      <span class="number">${formatPercent(before)}</span>
      ${after === null ? nothing : html`<span class="number after-value">${formatPercent(after)}</span>`}
    </li>`;
  }

  private renderHistory({ history }: TrainingStepResult) {
    const first = history.length > 0 ? history.length - 1 : 0;
    return html`<figure class="history-figure">
      <figcaption class="caption">
        Mean probability of the true next token: before the first step, then after each of the ${count(first)} steps.
      </figcaption>
      <ol part="history" class="history">
        ${history.map(
          (mean, i) =>
            html`<li class="history-point" title="${i === 0 ? 'Before' : `After step ${i}`}: ${formatPercent(mean)}">
              <span class="history-track"
                ><span part="history-bar" class="history-bar" ${styleProperties({ height: percentWidth(mean) })}></span
              ></span>
              <span class="number">${formatPercent(mean)}</span>
            </li>`,
        )}
      </ol>
    </figure>`;
  }

  private renderGradients({ matrices, learningRate }: TrainingStepResult) {
    const rows = matrices.filter((row) => this.allParameters || row.matrix).sort((a, b) => b.gradientNorm - a.gradientNorm);
    const largest = Math.max(Number.MIN_VALUE, ...rows.map((row) => row.gradientNorm));
    return html`<figure class="gradients-figure">
      <figcaption class="caption">
        The size of each weight matrix's gradient (the square root of the sum of its squares, before clipping), largest
        first, and how far this step moved the matrix. AdamW scales each weight's move by its own gradients so far: on
        the first step every weight with a gradient moves by about the learning rate, ${learningRate}.
      </figcaption>
      <label class="check">
        <input
          part="all-parameters"
          type="checkbox"
          .checked=${this.allParameters}
          @change=${(event: Event) => (this.allParameters = (event.target as HTMLInputElement).checked)}
        />
        Biases and LayerNorm gains and shifts too
      </label>
      <table part="gradients">
        <thead>
          <tr>
            <th scope="col">Weights</th>
            <th scope="col" colspan="2">Gradient size</th>
            <th scope="col" class="number">Change</th>
            <th scope="col" class="number">Values</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (row) => html`<tr part="gradient-row">
              <th scope="row">${rowName(row)}</th>
              <td class="bar-cell" aria-hidden="true">
                <span class="gradient-track"
                  ><span part="gradient-bar" class="gradient-bar" ${styleProperties({ width: percentWidth(row.gradientNorm / largest) })}></span
                ></span>
              </td>
              <td class="number">${formatNorm(row.gradientNorm)}</td>
              <td class="number">${formatNorm(row.changeNorm)}</td>
              <td class="number">${count(row.values)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </figure>`;
  }
}

define('llm-training-step-lab', TrainingStepLab);

declare global {
  interface HTMLElementTagNameMap {
    'llm-training-step-lab': TrainingStepLab;
  }
}
