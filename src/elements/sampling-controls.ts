/**
 * <llm-sampling-controls>: how the next token is picked: temperature, top-k,
 * top-p, the seed of the random draws, and how many tokens Generate writes.
 * It holds no state of its own: it shows `settings` and fires
 * `sampling-change` (bubbles, composed; detail: the new SamplingSettings).
 *
 * Parts: field, temperature, top-k, top-p, seed, max-tokens.
 */
import { css, html, LitElement } from 'lit';
import { theme } from '../theme.ts';

export interface SamplingSettings {
  temperature: number;
  /** 0 = off */
  topK: number;
  /** 1 = off */
  topP: number;
  seed: number;
  maxTokens: number;
}

export const DEFAULT_SETTINGS: SamplingSettings = { temperature: 1, topK: 0, topP: 1, seed: 42, maxTokens: 100 };

type NumericField = {
  key: keyof SamplingSettings;
  label: string;
  min: number;
  max: number;
  step: number;
  caption: string;
};

const NUMBER_FIELDS: NumericField[] = [
  { key: 'topK', label: 'Top-k', min: 0, max: 100000, step: 1, caption: 'Keep only the k likeliest tokens. 0: off.' },
  { key: 'topP', label: 'Top-p', min: 0.05, max: 1, step: 0.05, caption: 'Keep the likeliest until they add up to p. 1: off.' },
  { key: 'seed', label: 'Seed', min: 0, max: 4294967295, step: 1, caption: 'Same seed and prompt, same text.' },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 2000, step: 1, caption: 'How many Generate writes.' },
];

/** part names use dashes: topK -> top-k */
const partName = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export class SamplingControls extends LitElement {
  static override properties = {
    settings: { attribute: false },
    disabled: { type: Boolean, reflect: true },
  };

  declare settings: SamplingSettings;
  declare disabled: boolean;

  constructor() {
    super();
    this.settings = { ...DEFAULT_SETTINGS };
    this.disabled = false;
  }

  static override styles = [
    theme,
    css`
      .temperature {
        display: grid;
        grid-template-columns: auto minmax(0, 1fr) 3rem;
        align-items: center;
        gap: 0.75rem;
      }
      input[type='range'] {
        width: 100%;
        accent-color: var(--_accent);
      }
      output {
        font-family: var(--_mono);
        text-align: right;
      }
      .fields {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(7.5rem, 1fr));
        gap: 0.75rem;
        margin-top: 0.5rem;
      }
      label {
        font-weight: 600;
        font-size: 0.9rem;
      }
      .field label {
        display: block;
        margin-bottom: 0.2rem;
      }
      input[type='number'] {
        box-sizing: border-box;
        width: 100%;
        font: inherit;
        font-family: var(--_mono);
        padding: 0.3rem 0.45rem;
        color: var(--_foreground);
        background: var(--_background);
        border: 1px solid var(--_border);
        border-radius: calc(var(--_radius) / 2);
      }
      .field .caption {
        font-size: 0.78rem;
        margin: 0.2rem 0 0;
      }
    `,
  ];

  override render() {
    const { temperature } = this.settings;
    return html`
      <div class="temperature" part="field temperature">
        <label for="temperature">Temperature</label>
        <input
          id="temperature"
          type="range"
          min="0"
          max="2"
          step="0.05"
          .value=${String(temperature)}
          ?disabled=${this.disabled}
          aria-describedby="temperature-caption"
          @input=${(event: Event) => this.change('temperature', (event.target as HTMLInputElement).valueAsNumber)}
        />
        <output for="temperature">${temperature.toFixed(2)}</output>
      </div>
      <p class="caption" id="temperature-caption">
        Temperature reshapes the scores before a token is drawn: 0 always picks the top one, 1 keeps the model's own
        odds, higher flattens them towards equal.
      </p>
      <div class="fields">
        ${NUMBER_FIELDS.map(
          (field) => html`<div class="field" part="field ${partName(field.key)}">
            <label for=${field.key}>${field.label}</label>
            <input
              id=${field.key}
              type="number"
              min=${field.min}
              max=${field.max}
              step=${field.step}
              .value=${String(this.settings[field.key])}
              ?disabled=${this.disabled}
              aria-describedby="${field.key}-caption"
              @input=${(event: Event) => this.changeNumber(field, event.target as HTMLInputElement, false)}
              @change=${(event: Event) => this.changeNumber(field, event.target as HTMLInputElement, true)}
            />
            <p class="caption" id="${field.key}-caption">${field.caption}</p>
          </div>`,
        )}
      </div>
    `;
  }

  /**
   * While typing, only readable in-range numbers apply; when the field is left
   * (change), anything else is clamped or restored, so the model never gets a bad value.
   */
  private changeNumber(field: NumericField, input: HTMLInputElement, leaving: boolean): void {
    const typed = field.step === 1 ? Math.round(input.valueAsNumber) : input.valueAsNumber;
    const inRange = typed >= field.min && typed <= field.max;
    if (!leaving && !inRange) return;
    const value = Number.isFinite(typed) ? Math.min(field.max, Math.max(field.min, typed)) : this.settings[field.key];
    if (leaving) input.value = String(value);
    if (value !== this.settings[field.key]) this.change(field.key, value);
  }

  private change(key: keyof SamplingSettings, value: number): void {
    this.settings = { ...this.settings, [key]: value };
    this.dispatchEvent(
      new CustomEvent<SamplingSettings>('sampling-change', { detail: this.settings, bubbles: true, composed: true }),
    );
  }
}

customElements.define('llm-sampling-controls', SamplingControls);

declare global {
  interface HTMLElementTagNameMap {
    'llm-sampling-controls': SamplingControls;
  }
}
