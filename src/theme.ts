/**
 * Shared look of the playground's elements. Every colour and font comes from a
 * public custom property with a light and a dark default, so a page can retheme
 * the element from outside its shadow DOM. The defaults follow prefers-color-scheme;
 * the internal --_* names are not API. custom-elements-manifest.config.mjs gives
 * each public element these tags, one line each:
 *
 * @cssprop --llm-playground-background - element background
 * @cssprop --llm-playground-surface - panels, chips and inputs
 * @cssprop --llm-playground-foreground - text
 * @cssprop --llm-playground-muted - captions and secondary text
 * @cssprop --llm-playground-border - lines around panels, chips and inputs
 * @cssprop --llm-playground-accent - buttons, bars, focus ring
 * @cssprop --llm-playground-on-accent - text on accent-coloured buttons
 * @cssprop --llm-playground-warning - unknown characters, cut-off context
 * @cssprop --llm-playground-error - error messages
 * @cssprop --llm-playground-font - body font
 * @cssprop --llm-playground-mono-font - font of tokens and numbers
 * @cssprop --llm-playground-radius - corner radius
 */
import { css } from 'lit';

export const theme = css`
  :host {
    --_background: var(--llm-playground-background, #ffffff);
    --_surface: var(--llm-playground-surface, #f4f5f7);
    --_foreground: var(--llm-playground-foreground, #1b1d22);
    --_muted: var(--llm-playground-muted, #5b6170);
    --_border: var(--llm-playground-border, #d3d6dd);
    --_accent: var(--llm-playground-accent, #2f5fd0);
    --_on-accent: var(--llm-playground-on-accent, #ffffff);
    --_warning: var(--llm-playground-warning, #a5530a);
    --_error: var(--llm-playground-error, #b3261e);
    --_font: var(--llm-playground-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_mono: var(--llm-playground-mono-font, ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace);
    --_radius: var(--llm-playground-radius, 8px);
    display: block;
    color: var(--_foreground);
    font-family: var(--_font);
  }
  :host([hidden]) {
    display: none;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_background: var(--llm-playground-background, #16181d);
      --_surface: var(--llm-playground-surface, #20232b);
      --_foreground: var(--llm-playground-foreground, #e6e8ee);
      --_muted: var(--llm-playground-muted, #a0a6b4);
      --_border: var(--llm-playground-border, #3a3f4b);
      --_accent: var(--llm-playground-accent, #7ea2ff);
      --_on-accent: var(--llm-playground-on-accent, #0e1320);
      --_warning: var(--llm-playground-warning, #f0a35c);
      --_error: var(--llm-playground-error, #ff8a80);
    }
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  .caption {
    color: var(--_muted);
    font-size: 0.875rem;
    line-height: 1.45;
    margin: 0.25rem 0 0.5rem;
  }
  /* A character that would be invisible or reorder its line, shown as its code (visible-token.ts). */
  .escape {
    font-family: var(--_mono);
    font-size: 0.8em;
    font-style: normal;
    color: var(--_warning);
    border: 1px dashed currentColor;
    border-radius: 3px;
    padding: 0 0.15em;
    unicode-bidi: isolate;
  }
  /* A word piece's leading space or line break, as its symbol (visible-token.ts): there, but not part of the word. */
  .space-mark {
    color: var(--_muted);
  }
  /* A byte of a character split across tokens, written \\xNN (visible-token.ts). */
  .byte {
    font-family: var(--_mono);
    font-size: 0.8em;
    border: 1px dotted currentColor;
    border-radius: 3px;
    padding: 0 0.15em;
  }
  /* One token as a small boxed chip: the merges view, the corpus's vocabulary. */
  .token-chip {
    min-width: 1.2rem;
    padding: 0 3px;
    text-align: center;
    font-family: var(--_mono);
    font-size: 0.85rem;
    border: 1px solid var(--_border);
    border-radius: 3px;
    background: var(--_background);
    white-space: pre;
  }
  /* What an element shows before it has anything to show. */
  .empty {
    color: var(--_muted);
    font-style: italic;
    margin: 0;
  }
`;

/** Text boxes and number fields: monospace, on the page background. */
export const inputs = css`
  textarea,
  input[type='number'],
  input[type='url'] {
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
`;

/** One-line text fields for words people type (a question): the inputs' box in the text's own font. */
export const textFields = css`
  input:not([type]),
  input[type='text'] {
    box-sizing: border-box;
    width: 100%;
    font: inherit;
    padding: 0.3rem 0.45rem;
    color: var(--_foreground);
    background: var(--_background);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 2);
  }
`;

/** A chart's legend under it: a swatch of each line's colour, the accent's, or the warning's with class "warning". */
export const legends = css`
  .legend {
    display: flex;
    flex-wrap: wrap;
    gap: 1.25rem;
    margin: 0.25rem 0 0;
    font-size: 0.85rem;
    color: var(--_muted);
  }
  .swatch {
    display: inline-block;
    width: 1.2rem;
    height: 3px;
    vertical-align: middle;
    margin-right: 0.35rem;
    background: var(--_accent);
  }
  .swatch.warning {
    background: var(--_warning);
  }
`;

/** Buttons: outlined by default, filled with class "primary" or when pressed (aria-pressed="true"). */
export const buttons = css`
  button {
    font: inherit;
    font-weight: 600;
    padding: 0.45rem 1rem;
    border-radius: calc(var(--_radius) / 2);
    border: 1px solid var(--_accent);
    background: transparent;
    color: var(--_accent);
    cursor: pointer;
  }
  /* A primary action, and a toggle that is on (aria-pressed): filled. */
  button.primary,
  button[aria-pressed='true'] {
    background: var(--_accent);
    color: var(--_on-accent);
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
`;

/** What went wrong (role=alert), boxed in the error colour: class "error". */
export const alerts = css`
  .error {
    margin: 0.5rem 0;
    padding: 0.6rem 0.8rem;
    border: 1px solid var(--_error);
    border-radius: var(--_radius);
    color: var(--_error);
  }
`;

/**
 * Rows of labelled bars (token, bar, value) in one grid so the bars line up:
 * an <ol class="bar-rows"> of <li>s, each with .label, .track > .fill, and a value.
 */
export const barRows = css`
  .bar-rows {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    grid-template-columns: auto minmax(0, 1fr) auto;
    gap: 3px 0.5rem;
    align-items: center;
  }
  .bar-rows > li {
    display: grid;
    grid-column: 1 / -1;
    grid-template-columns: subgrid;
    align-items: center;
  }
  .bar-rows .label {
    font-family: var(--_mono);
    white-space: pre;
    text-align: right;
    min-width: 2.5rem;
  }
  .bar-rows .track {
    height: 1.1rem;
    background: var(--_background);
    border-radius: 3px;
    overflow: hidden;
  }
  .bar-rows .fill {
    display: block;
    height: 100%;
    background: var(--_accent);
  }
`;

/** Drop-down lists, on the page background like the text boxes. */
export const selects = css`
  select {
    font: inherit;
    font-size: 0.9rem;
    padding: 0.2rem 0.4rem;
    color: var(--_foreground);
    background: var(--_background);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 2);
  }
`;

/** A list of cards, one per item (a model), the current one (aria-current) outlined: <ul class="cards">. */
export const cards = css`
  .cards {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .cards > li {
    padding: 0.55rem 0.7rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_background);
  }
  .cards > li + li {
    margin-top: 0.5rem;
  }
  .cards > li[aria-current='true'] {
    border-color: var(--_accent);
  }
`;

/** For screen readers only (a chart's table of numbers): class "visually-hidden". */
export const visuallyHidden = css`
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
`;

/** Tables of figures: ruled rows, the caption at the left, numbers (td class "number") at the right in the mono font. */
export const tables = css`
  table {
    border-collapse: collapse;
    font-size: 0.875rem;
  }
  caption {
    text-align: left;
  }
  th,
  td {
    text-align: left;
    padding: 0.25rem 0.8rem 0.25rem 0;
    border-bottom: 1px solid var(--_border);
  }
  td.number {
    text-align: right;
    font-family: var(--_mono);
  }
`;

/** Small rounded labels beside a name ("loaded", "cached"): class "badge", muted; with "accent", in the accent colour. */
export const badges = css`
  .badge {
    display: inline-block;
    margin-left: 0.4rem;
    padding: 0 0.45rem;
    border: 1px solid var(--_muted);
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 600;
    color: var(--_muted);
    vertical-align: 0.1em;
  }
  .badge.accent {
    border-color: var(--_accent);
    color: var(--_accent);
  }
`;

/** Boxed blocks of a panel, one under the other: class "block". */
export const blocks = css`
  .block {
    background: var(--_surface);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.9rem 1rem;
    min-width: 0;
  }
  .block + .block {
    margin-top: 1rem;
  }
`;
