/**
 * Labelled number inputs with a caption each, shared by the sampling controls,
 * the training settings and the custom model size. While typing, only readable
 * in-range numbers apply; when a field is left, anything else is clamped or
 * restored, so the model never gets a bad value.
 */
import { css, html } from 'lit';
import { inputs } from '../theme.ts';

export interface NumberField<K extends string> {
  key: K;
  label: string;
  min: number;
  max: number;
  /** 1 for whole numbers; 'any' for numbers such as a learning rate. */
  step: number | 'any';
  caption: string;
}

/** part names use dashes: topK -> top-k */
export const partName = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const numberFieldStyles = [
  inputs,
  css`
    .fields {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(7.5rem, 1fr));
      gap: 0.75rem;
      margin-top: 0.5rem;
    }
    .field label {
      display: block;
      margin-bottom: 0.2rem;
      font-weight: 600;
      font-size: 0.9rem;
    }
    .field .caption {
      font-size: 0.78rem;
      margin: 0.2rem 0 0;
    }
  `,
];

/**
 * The fields as a grid. `onChange` gets a key and its new valid value, only
 * when it differs from `values[key]`. Ids are `${idPrefix}${key}`.
 */
export function renderNumberFields<K extends string>(
  fields: readonly NumberField<K>[],
  values: Readonly<Record<K, number>>,
  options: { disabled: boolean; idPrefix?: string; onChange: (key: K, value: number) => void },
) {
  const prefix = options.idPrefix ?? '';
  const apply = (field: NumberField<K>, input: HTMLInputElement, leaving: boolean) => {
    const value = readNumber(field, input, values[field.key], leaving);
    if (value !== null && value !== values[field.key]) options.onChange(field.key, value);
  };
  return html`<div class="fields">
    ${fields.map(
      (field) => html`<div class="field" part="field ${partName(field.key)}">
        <label for="${prefix}${field.key}">${field.label}</label>
        <input
          id="${prefix}${field.key}"
          type="number"
          min=${field.min}
          max=${field.max}
          step=${field.step}
          .value=${String(values[field.key])}
          ?disabled=${options.disabled}
          aria-describedby="${prefix}${field.key}-caption"
          @input=${(event: Event) => apply(field, event.target as HTMLInputElement, false)}
          @change=${(event: Event) => apply(field, event.target as HTMLInputElement, true)}
        />
        <p class="caption" id="${prefix}${field.key}-caption">${field.caption}</p>
      </div>`,
    )}
  </div>`;
}

/** The value to apply, or null while a typed number is unreadable or out of range. */
function readNumber(field: NumberField<string>, input: HTMLInputElement, current: number, leaving: boolean): number | null {
  const typed = field.step === 1 ? Math.round(input.valueAsNumber) : input.valueAsNumber;
  const inRange = typed >= field.min && typed <= field.max;
  if (!leaving && !inRange) return null;
  const value = Number.isFinite(typed) ? Math.min(field.max, Math.max(field.min, typed)) : current;
  if (leaving) input.value = String(value);
  return value;
}
