/**
 * <llm-sampling-controls>: how the next token is picked: temperature, top-k,
 * top-p, the seed of the random draws, and how many tokens Generate writes.
 * It holds no state of its own: it shows `settings` and fires
 * `llm-sampling-change` (bubbles, composed; detail: the new SamplingSettings).
 *
 * Parts: field, temperature, top-k, top-p, seed, max-tokens.
 */
import { css, html, LitElement } from 'lit';
import { emit } from '../events.ts';
import { theme } from '../theme.ts';
import { type NumberField, numberFieldStyles, renderNumberFields } from './number-fields.ts';
import { define } from '../define.ts';

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

const NUMBER_FIELDS: NumberField<keyof SamplingSettings>[] = [
  { key: 'topK', label: 'Top-k', min: 0, max: 100000, step: 1, caption: 'Keep only the k likeliest tokens. 0: off.' },
  { key: 'topP', label: 'Top-p', min: 0.05, max: 1, step: 0.05, caption: 'Keep the likeliest until they add up to p. 1: off.' },
  { key: 'seed', label: 'Seed', min: 0, max: 4294967295, step: 1, caption: 'Same seed and prompt, same text.' },
  { key: 'maxTokens', label: 'Max tokens', min: 1, max: 2000, step: 1, caption: 'How many Generate writes.' },
];

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
    numberFieldStyles,
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
      label {
        font-weight: 600;
        font-size: 0.9rem;
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
      ${renderNumberFields(NUMBER_FIELDS, this.settings, {
        disabled: this.disabled,
        onChange: (key, value) => this.change(key, value),
      })}
    `;
  }

  private change(key: keyof SamplingSettings, value: number): void {
    this.settings = { ...this.settings, [key]: value };
    emit(this, 'llm-sampling-change', this.settings);
  }
}

define('llm-sampling-controls', SamplingControls);

declare global {
  interface HTMLElementTagNameMap {
    'llm-sampling-controls': SamplingControls;
  }
}
