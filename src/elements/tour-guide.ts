/**
 * <llm-tour>: the tour's card on the first screen. Before it starts, it offers "Take the tour" (or "Resume the tour
 * at step k" when one was left); while it runs, it shows step n of N, the chapter's title, one or two sentences and
 * what to notice, with Back, Next and Leave. It only says which step is on: <llm-playground> puts the playground in
 * the step's state. The step reached is kept in localStorage, so a tour left (or a page closed) resumes there.
 *
 * Properties: steps (TourStep[], default: TOUR_STEPS), step (the step shown, from 0; -1: not touring; reflected).
 * Attributes: storage-key (the localStorage key of the step reached; default 'llm-playground-tour').
 * Methods: start(index = 0), leave().
 * Events: llm-tour-step (detail { index }: a step is on, by the user or start()), llm-tour-leave (detail { index }:
 *   the tour was left, or finished after its last step).
 * Keyboard: the buttons; and, while focus is in the card, ArrowLeft / ArrowRight for Back / Next, Escape to leave.
 * Parts: tour, intro, start-button, resume-button, counter, title, text, notice, back-button, next-button, leave-button.
 */
import { css, html, LitElement, nothing } from 'lit';
import { emit } from '../events.ts';
import { states } from '../states.ts';
import { buttons, theme } from '../theme.ts';
import { stepTitle, TOUR_STEPS, type TourStep } from '../tour/steps.ts';
import { define } from '../define.ts';

const NOT_TOURING = -1;

export class TourGuide extends LitElement {
  static override properties = {
    steps: { attribute: false },
    step: { type: Number, reflect: true },
    storageKey: { type: String, attribute: 'storage-key' },
    ...states('saved'),
  };

  declare steps: readonly TourStep[];
  declare step: number;
  declare storageKey: string;
  /** The step a left tour resumes at, or NOT_TOURING. */
  declare private saved: number;
  /** Where focus goes once the next render is in: a selector in this shadow root. */
  private focusNext = '';

  constructor() {
    super();
    this.steps = TOUR_STEPS;
    this.step = NOT_TOURING;
    this.storageKey = 'llm-playground-tour';
    this.saved = NOT_TOURING;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const saved = Number(this.storage('get'));
    this.saved = Number.isInteger(saved) && saved > 0 && saved < this.steps.length ? saved : NOT_TOURING;
  }

  /** Shows step `index` (clamped to the tour) and says so. */
  start(index = 0): void {
    const step = Math.min(Math.max(0, Math.trunc(index) || 0), this.steps.length - 1);
    if (step !== this.step) this.focusNext = this.step === NOT_TOURING ? '#title' : '';
    this.step = step;
    this.saved = step;
    this.storage('set', String(step));
    emit(this, 'llm-tour-step', { index: step });
  }

  /** Leaves the tour; the step stays kept, to resume. */
  leave(): void {
    if (this.step === NOT_TOURING) return;
    const index = this.step;
    this.step = NOT_TOURING;
    this.focusNext = '[part~="resume-button"]';
    emit(this, 'llm-tour-leave', { index });
  }

  /** The last step's Next: the tour is over, and the next one starts from the beginning. */
  private finish(): void {
    this.storage('remove');
    this.saved = NOT_TOURING;
    this.leave();
    this.focusNext = '[part~="start-button"]';
  }

  private next(): void {
    if (this.step === this.steps.length - 1) this.finish();
    else this.start(this.step + 1);
  }

  private back(): void {
    if (this.step > 0) this.start(this.step - 1);
  }

  /** localStorage, where the browser allows it (a blocked one only means the tour won't resume). */
  private storage(action: 'get' | 'set' | 'remove', value = ''): string | null {
    try {
      if (action === 'get') return localStorage.getItem(this.storageKey);
      if (action === 'set') localStorage.setItem(this.storageKey, value);
      else localStorage.removeItem(this.storageKey);
    } catch {
      // storage refused: nothing kept
    }
    return null;
  }

  private onKeydown(event: KeyboardEvent): void {
    const action = { ArrowLeft: this.back, ArrowRight: this.next, Escape: this.leave }[event.key];
    if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    action.call(this);
  }

  protected override updated(): void {
    if (!this.focusNext) return;
    // Without scrolling: the playground scrolls to the step's highlighted element.
    this.renderRoot.querySelector<HTMLElement>(this.focusNext)?.focus({ preventScroll: true });
    this.focusNext = '';
  }

  override render() {
    const step = this.steps[this.step];
    return step ? this.renderStep(step) : this.renderIntro();
  }

  private renderIntro() {
    const chapters = this.steps.at(-1)?.chapter ?? 0;
    return html`<section class="intro" part="intro" aria-labelledby="intro-title">
      <h3 id="intro-title">New here? Take the tour</h3>
      <p class="caption">
        ${chapters} chapters, from the next token's odds to the size of GPT-3, each on the panel that shows it, with the
        model below. Leave whenever you like; it picks up where you were.
      </p>
      <div class="buttons">
        ${
          this.saved === NOT_TOURING
            ? html`<button class="primary" part="start-button" @click=${() => this.start(0)}>Take the tour</button>`
            : html`<button class="primary" part="resume-button" @click=${() => this.start(this.saved)}>
                  Resume the tour at step ${this.saved + 1}
                </button>
                <button part="start-button" @click=${() => this.start(0)}>Start from the beginning</button>`
        }
      </div>
    </section>`;
  }

  private renderStep(step: TourStep) {
    const last = this.step === this.steps.length - 1;
    return html`<section class="tour" part="tour" aria-labelledby="title" @keydown=${this.onKeydown}>
      <p class="counter caption" part="counter">Tour: step ${this.step + 1} of ${this.steps.length}</p>
      <h3 id="title" part="title" tabindex="-1">${stepTitle(step)}</h3>
      <p part="text">${step.text}</p>
      <p class="notice" part="notice"><strong>What to notice:</strong> ${step.notice}</p>
      <div class="buttons">
        <button part="back-button" ?disabled=${this.step === 0} @click=${this.back}>Back</button>
        <button class="primary" part="next-button" @click=${this.next}>${last ? 'Finish' : 'Next'}</button>
        <button part="leave-button" @click=${this.leave}>Leave the tour</button>
        ${last ? nothing : html`<span class="caption keys">← → to move, Esc to leave</span>`}
      </div>
    </section>`;
  }

  static override styles = [
    theme,
    buttons,
    css`
      :host {
        display: block;
      }
      section {
        border: 1px solid var(--_border);
        border-left: 4px solid var(--_accent);
        border-radius: var(--_radius);
        background: var(--_surface);
        padding: 0.75rem 1rem;
      }
      h3 {
        margin: 0 0 0.4rem;
        font-size: 1.1rem;
      }
      h3:focus {
        outline: none;
      }
      h3:focus-visible {
        outline: 2px solid var(--_accent);
        outline-offset: 2px;
      }
      p {
        margin: 0 0 0.5rem;
        max-width: 48rem;
      }
      .counter {
        margin: 0 0 0.2rem;
      }
      .buttons {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
      }
    `,
  ];
}

define('llm-tour', TourGuide);

declare global {
  interface HTMLElementTagNameMap {
    'llm-tour': TourGuide;
  }
}
