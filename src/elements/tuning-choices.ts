/**
 * <llm-tuning-choices>: the tuning panel's second tab. Ask a question; the model draws two answers to it (the
 * same text, two seeds, at the temperature set), each token with its odds (<llm-chat-reply>). Say which is
 * better, or mark either good or bad; the list keeps every choice and verdict (Remove forgets one), and a good
 * and a bad answer to the same question make a pair too. <llm-tuning-preference> then tunes on the pairs (DPO),
 * and <llm-tuning-reinforcement> as big chatbots are tuned: a reward model learned from them, then policy gradient.
 *
 * Properties: client (TuningChoicesClient | null), state (TuningState | null, from <llm-tuning-panel>),
 *   defaults (TuningSettings | null: the preference ones), rewardDefaults (TuningSettings | null: the
 *   reinforcement ones).
 * Events: llm-tuning-change (a choice or verdict recorded or forgotten), and those of <llm-tuning-preference> and
 *   <llm-tuning-reinforcement>.
 * Parts: choice-question, temperature, draw-button, choices-error, answers, answer (data-answer: a, b),
 *   answer-heading, prefer-a-button, prefer-b-button, good-button, bad-button, same-answers, recorded, choices-list, choice,
 *   verdict, forget-button, pair-count, those of <llm-chat-reply> (tokens, token, alternatives, …), of
 *   <llm-tuning-preference>, and of <llm-tuning-reinforcement>: its own (rl-caption, rl-train-button, …) and its
 *   run's, settings', figures' and chart's prefixed rl- (rl-play-button, rl-beta, rl-figure, rl-reward-line, …).
 */
import { css, html, LitElement, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import {
  type ChatReply,
  messageOf,
  type Preference,
  type TuningSettings,
  type TuningState,
  type Uses,
  type Verdict,
} from '../../workers/api/index.ts';
import { emit } from '../events.ts';
import { count } from '../format.ts';
import { states } from '../states.ts';
import { alerts, blocks, buttons, inputs, textFields, theme } from '../theme.ts';
import { showText } from '../visible-token.ts';
import { CHAT_REPLY_PARTS } from './chat-reply.ts';
import './chat-reply.ts';
import { joined, oneLine } from './model-chat.text.ts';
import { numberFieldStyles, renderNumberFields, type NumberField } from './number-fields.ts';
import { ANSWER_TOKENS, promptFor } from './tuning-compare.ts';
import './tuning-preference.ts';
import type { TuningPreferenceClient } from './tuning-preference.ts';
import './tuning-reinforcement.ts';
import type { TuningReinforcementClient } from './tuning-reinforcement.ts';
import { define } from '../define.ts';

export type TuningChoicesClient = Uses<'tuning', 'choose' | 'mark' | 'forget'> &
  Uses<'model', 'reply'> &
  TuningPreferenceClient &
  TuningReinforcementClient;

const TEMPERATURE_FIELD: NumberField<'temperature'> = {
  key: 'temperature',
  label: 'Temperature',
  min: 0.05,
  max: 2,
  step: 0.05,
  caption: 'Higher: the two answers differ more.',
};
const DEFAULT_QUESTION = 'Where is the Eiffel tower?';

type Which = 'a' | 'b';

interface Draw {
  /** The exact text both answers continue. */
  prompt: string;
  question: string;
  a: ChatReply;
  b: ChatReply;
}

/** The question a prompt asks: its last "User: …" before "Assistant:". */
export const questionOf = (prompt: string): string => /User: (.*) Assistant:$/.exec(prompt)?.[1] ?? prompt;

export class TuningChoices extends LitElement {
  static override properties = {
    client: { attribute: false },
    state: { attribute: false },
    defaults: { attribute: false },
    rewardDefaults: { attribute: false },
    ...states('question', 'temperature', 'draw', 'drawing', 'recording', 'recorded', 'error'),
  };

  declare client: TuningChoicesClient | null;
  declare state: TuningState | null;
  declare defaults: TuningSettings | null;
  declare rewardDefaults: TuningSettings | null;
  declare private question: string;
  declare private temperature: number;
  declare private draw: Draw | null;
  declare private drawing: boolean;
  /** A choice, a verdict or a removal is on its way to the worker. */
  declare private recording: boolean;
  /** What was said about the answers shown, e.g. "A is better". */
  declare private recorded: string[];
  declare private error: string;

  /** Each draw uses two seeds of its own, so drawing again gives other answers. */
  private draws = 0;

  constructor() {
    super();
    this.client = null;
    this.state = null;
    this.defaults = null;
    this.rewardDefaults = null;
    this.question = DEFAULT_QUESTION;
    this.temperature = 1;
    this.draw = null;
    this.drawing = false;
    this.recording = false;
    this.recorded = [];
    this.error = '';
  }

  private async drawTwo(): Promise<void> {
    const client = this.client;
    const question = oneLine(this.question);
    if (!client || !question || this.drawing) return;
    const prompt = joined(promptFor(question));
    this.drawing = true;
    this.error = '';
    try {
      const seed = 2 * ++this.draws;
      const request = { maxTokens: ANSWER_TOKENS, temperature: this.temperature };
      // One after the other: the worker answers one request at a time anyway.
      const a = await client.model.reply(prompt, { ...request, seed: seed - 1 }, () => {});
      const b = await client.model.reply(prompt, { ...request, seed }, () => {});
      this.draw = { prompt, question, a, b };
      this.recorded = [];
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.drawing = false;
    }
  }

  /** Sends a choice, a verdict or a removal; the worker's refusal (same answers, too long) shows as the error. */
  private async record(send: (client: TuningChoicesClient) => Promise<TuningState>, said?: string): Promise<void> {
    const client = this.client;
    if (!client || this.recording) return;
    this.recording = true;
    this.error = '';
    try {
      emit(this, 'llm-tuning-change', await send(client));
      if (said) this.recorded = [...this.recorded, said];
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.recording = false;
    }
  }

  private prefer(draw: Draw, better: Which): Promise<void> {
    const [chosen, rejected] = better === 'a' ? [draw.a, draw.b] : [draw.b, draw.a];
    const preference: Preference = { prompt: draw.prompt, chosen: chosen.text, rejected: rejected.text };
    return this.record((client) => client.tuning.choose(preference), `${better.toUpperCase()} is better`);
  }

  private mark(draw: Draw, which: Which, good: boolean): Promise<void> {
    const verdict: Verdict = { prompt: draw.prompt, answer: draw[which].text, good };
    return this.record((client) => client.tuning.mark(verdict), `${which.toUpperCase()} is ${good ? 'good' : 'bad'}`);
  }

  static override styles = [
    theme,
    inputs,
    textFields,
    alerts,
    buttons,
    blocks,
    numberFieldStyles,
    css`
      h4 {
        margin: 0 0 0.3rem;
        font-size: 1rem;
      }
      label {
        display: block;
        font-weight: 600;
        font-size: 0.9rem;
        margin-bottom: 0.2rem;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem;
        align-items: center;
        margin: 0.6rem 0;
      }
      .answers {
        display: grid;
        gap: 0.75rem;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
      }
      .answer {
        padding: 0.5rem 0.7rem;
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
      }
      h5 {
        margin: 0 0 0.3rem;
        font-size: 0.9rem;
      }
      .answer .row button,
      .list button {
        padding: 0.25rem 0.7rem;
      }
      .list {
        list-style: none;
        margin: 0.4rem 0;
        padding: 0;
      }
      .list li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem 0.8rem;
        align-items: baseline;
        padding: 0.35rem 0;
        border-bottom: 1px solid var(--_border);
      }
      .said {
        font-family: var(--_mono);
        font-size: 0.85rem;
        word-break: break-word;
      }
      .good {
        color: var(--_accent);
      }
      .bad {
        color: var(--_error);
      }
      .list li button {
        margin-left: auto;
      }
    `,
  ];

  override render() {
    const busy = this.drawing || this.recording || !!this.state?.playing;
    return html`<div class="block">
        <h4>Two answers</h4>
        <p class="caption">
          The model draws two answers to the same text with two seeds. Say which is better, or mark either good or bad.
        </p>
        <label for="choice-question">Question</label>
        <input
          id="choice-question"
          part="choice-question"
          .value=${live(this.question)}
          @input=${(event: Event) => (this.question = (event.target as HTMLInputElement).value)}
          @keydown=${(event: KeyboardEvent) => event.key === 'Enter' && void this.drawTwo()}
        />
        ${renderNumberFields(
          [TEMPERATURE_FIELD],
          { temperature: this.temperature },
          {
            disabled: this.drawing,
            idPrefix: 'choice-',
            onChange: (_, value) => (this.temperature = value),
          },
        )}
        <div class="row">
          <button
            class="primary"
            part="draw-button"
            ?disabled=${!this.client || busy || !oneLine(this.question)}
            @click=${this.drawTwo}
          >
            ${this.drawing ? 'Drawing…' : 'Draw two answers'}
          </button>
        </div>
        ${this.error ? html`<p class="error" part="choices-error" role="alert">${showText(this.error)}</p>` : nothing}
        ${this.draw ? this.renderDraw(this.draw, busy) : nothing}
      </div>
      <div class="block">
        <h4>Your choices</h4>
        ${this.renderList(busy)}
      </div>
      <div class="block">
        <h4>Tune on your choices</h4>
        <llm-tuning-preference
          exportparts="dpo-caption, dpo-reference, settings, field, beta, steps, learning-rate, play-button, step-button, reset-button, run-error, progress-bar, run-status, figures, figure, odds, odds-error, chart, margin-line, kl-line, legend"
          .client=${this.client}
          .state=${this.state}
          .defaults=${this.defaults}
        ></llm-tuning-preference>
      </div>
      <div class="block">
        <h4>Tune with a reward model</h4>
        <llm-tuning-reinforcement
          exportparts="rl-caption, rl-train-button, rl-reward-model, rl-reference, rl-samples, rl-sample, rl-sample-reward, settings:rl-settings, field:rl-field, beta:rl-beta, batch-size:rl-batch-size, steps:rl-steps, learning-rate:rl-learning-rate, play-button:rl-play-button, step-button:rl-step-button, reset-button:rl-reset-button, run-error:rl-run-error, progress-bar:rl-progress-bar, run-status:rl-run-status, figures:rl-figures, figure:rl-figure, chart:rl-chart, reward-line:rl-reward-line, kl-line:rl-kl-line, legend:rl-legend"
          .client=${this.client}
          .state=${this.state}
          .defaults=${this.rewardDefaults}
        ></llm-tuning-reinforcement>
      </div>`;
  }

  private renderDraw(draw: Draw, busy: boolean) {
    // Two equal answers are no choice: the worker would refuse it, so the buttons say so before.
    const same = draw.a.text === draw.b.text;
    return html`<div class="answers" part="answers" aria-live="polite">
        ${(['a', 'b'] as const).map(
          (which) => html`<section class="answer" part="answer" data-answer=${which}>
            <h5 part="answer-heading">${which.toUpperCase()}</h5>
            <llm-chat-reply exportparts=${CHAT_REPLY_PARTS} .tokens=${draw[which].tokens}></llm-chat-reply>
            <div class="row">
              <button part="prefer-${which}-button" ?disabled=${busy || same} @click=${() => this.prefer(draw, which)}>
                ${which.toUpperCase()} is better
              </button>
              <button part="good-button" aria-label="${which.toUpperCase()} is good" ?disabled=${busy} @click=${() => this.mark(draw, which, true)}>
                Good
              </button>
              <button part="bad-button" aria-label="${which.toUpperCase()} is bad" ?disabled=${busy} @click=${() => this.mark(draw, which, false)}>
                Bad
              </button>
            </div>
          </section>`,
        )}
      </div>
      ${
        same
          ? html`<p class="caption" part="same-answers">
            The two answers are the same, so neither is better. Draw again; a higher temperature makes them differ more.
          </p>`
          : nothing
      }
      ${
        this.recorded.length
          ? html`<p class="caption" part="recorded" role="status">Recorded: ${this.recorded.join(', ')}.</p>`
          : nothing
      }`;
  }

  private renderList(busy: boolean) {
    const state = this.state;
    if (!state || (!state.preferences.length && !state.verdicts.length)) {
      return html`<p class="empty" part="pair-count">No choices yet.</p>`;
    }
    const fromVerdicts = state.pairs.length - state.preferences.length;
    return html`<p part="pair-count" role="status">
        ${count(state.pairs.length)} ${state.pairs.length === 1 ? 'pair' : 'pairs'} to learn from:
        ${count(state.preferences.length)} from choices, ${count(fromVerdicts)} from good and bad answers to the same question.
      </p>
      <ul class="list" part="choices-list">
        ${state.preferences.map(
          (preference, index) => html`<li part="choice">
            <span>${showText(questionOf(preference.prompt))}</span>
            <span class="said good">✓ ${showText(preference.chosen)}</span>
            <span class="said bad">✗ ${showText(preference.rejected)}</span>
            <button
              part="forget-button"
              aria-label="Remove the choice ${index + 1}"
              ?disabled=${busy}
              @click=${() => this.record((client) => client.tuning.forget({ preference: index }))}
            >
              Remove
            </button>
          </li>`,
        )}
        ${state.verdicts.map(
          (verdict, index) => html`<li part="verdict">
            <span>${showText(questionOf(verdict.prompt))}</span>
            <span class="said ${verdict.good ? 'good' : 'bad'}">${verdict.good ? 'Good' : 'Bad'}: ${showText(verdict.answer)}</span>
            <button
              part="forget-button"
              aria-label="Remove the verdict ${index + 1}"
              ?disabled=${busy}
              @click=${() => this.record((client) => client.tuning.forget({ verdict: index }))}
            >
              Remove
            </button>
          </li>`,
        )}
      </ul>`;
  }
}

define('llm-tuning-choices', TuningChoices);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tuning-choices': TuningChoices;
  }
}
