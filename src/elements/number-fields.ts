/**
 * Labelled number inputs with a caption each, shared by the sampling controls,
 * the training settings and the custom model size; and one bare field (numberInput,
 * the fact lab's cells). While typing, only readable
 * in-range numbers apply; when a field is left, anything else is clamped or
 * restored, so the model never gets a bad value.
 */
import { css, html, noChange } from 'lit';
import { Directive, directive, type ElementPart } from 'lit/directive.js';
import { ifDefined } from 'lit/directives/if-defined.js';
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

/** What a field accepts. */
type NumberRange = Pick<NumberField<string>, 'min' | 'max' | 'step'>;

/**
 * One unlabelled number field for `value` (a cell of a vector, say), with the fields' rule: `apply` gets each new
 * valid value that differs from `value`.
 */
export function numberInput(
  value: number,
  range: NumberRange,
  apply: (value: number) => void,
  { part, id, label, describedBy }: { part: string; id?: string; label?: string; describedBy?: string },
) {
  const read = (event: Event, leaving: boolean) => {
    const typed = readNumber(range, event.target as HTMLInputElement, value, leaving);
    if (typed !== null && typed !== value) apply(typed);
  };
  return html`<input
    type="number"
    part=${part}
    id=${ifDefined(id)}
    step=${range.step}
    min=${range.min}
    max=${range.max}
    aria-label=${ifDefined(label)}
    aria-describedby=${ifDefined(describedBy)}
    ${numberValue(value)}
    @input=${(event: Event) => read(event, false)}
    @change=${(event: Event) => read(event, true)}
  />`;
}

/**
 * Sets a number field's value, but leaves alone text that already reads as it ("-0" on the way to "-0.5",
 * "2.50") and a half-typed number in the focused field ("-"): rewriting them would undo the typing.
 */
class NumberValue extends Directive {
  render(_value: number) {
    return noChange;
  }

  override update(part: ElementPart, [value]: [number]) {
    const input = part.element as HTMLInputElement;
    const shown = input.valueAsNumber;
    if (shown !== value && !(Number.isNaN(shown) && input.matches(':focus'))) input.value = String(value);
    return noChange;
  }
}

const numberValue = directive(NumberValue);

/** The value to apply, or null while a typed number is unreadable or out of range. */
function readNumber(field: NumberRange, input: HTMLInputElement, current: number, leaving: boolean): number | null {
  const typed = field.step === 1 ? Math.round(input.valueAsNumber) : input.valueAsNumber;
  const inRange = typed >= field.min && typed <= field.max;
  if (!leaving && !inRange) return null;
  const value = Number.isFinite(typed) ? Math.min(field.max, Math.max(field.min, typed)) : current;
  if (leaving) input.value = String(value);
  return value;
}
