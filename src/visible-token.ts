import { html, type TemplateResult } from 'lit';
import { UNKNOWN_TOKEN } from '../workers/api/index.ts';

/** Characters that would be invisible (or break the layout) on a chip or bar label. */
const VISIBLE_FORMS: Record<string, string> = {
  ' ': '␣',
  '\n': '⏎',
  '\t': '⇥',
  '\r': '␍',
};

/**
 * Characters shown as their code (U+202E) wherever the playground shows text: control characters (C0 but line
 * breaks and tabs, DEL, C1), format characters (the bidirectional controls and marks, zero-width ones, the soft
 * hyphen, the byte-order mark), line and paragraph separators, lone surrogates, and whatever else Unicode draws as
 * nothing. Shown raw, a right-to-left override would reverse the rest of its line, and an invisible one hides.
 */
const HIDDEN = /((?![\n\r\t])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}])/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');

/** What the commonest hidden characters are, for tooltips and screen readers. */
const HIDDEN_NAMES: Record<string, string> = {
  '\u00ad': 'soft hyphen',
  '\u061c': 'Arabic letter mark',
  '\u200b': 'zero-width space',
  '\u200c': 'zero-width non-joiner',
  '\u200d': 'zero-width joiner',
  '\u200e': 'left-to-right mark',
  '\u200f': 'right-to-left mark',
  '\u202a': 'left-to-right embedding',
  '\u202b': 'right-to-left embedding',
  '\u202c': 'pop directional formatting',
  '\u202d': 'left-to-right override',
  '\u202e': 'right-to-left override',
  '\u2060': 'word joiner',
  '\u2066': 'left-to-right isolate',
  '\u2067': 'right-to-left isolate',
  '\u2068': 'first strong isolate',
  '\u2069': 'pop directional isolate',
  '\ufeff': 'zero-width no-break space',
  '\u007f': 'delete',
};

/** A hidden character's code as shown: U+202E. */
const codeOf = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** A hidden character in words: its code and what it is. */
function describeHidden(char: string): string {
  const name = HIDDEN_NAMES[char] ?? (/\p{Cc}/u.test(char) ? 'control character' : 'invisible character');
  return `${codeOf(char)} (${name})`;
}

/** Text with every hidden character replaced by its code, for places that take plain text (attributes, canvas). */
export const visibleText = (text: string): string => text.replace(HIDDEN_ALL, codeOf);

/** A token as something you can see: spaces and line breaks get a symbol, hidden characters their code. */
export const visibleToken = (token: string): string => VISIBLE_FORMS[token] ?? visibleText(token);

/** Text as the page shows it: each hidden character as its code, marked (class "escape", styled by the theme). */
export function showText(text: string): TemplateResult | string {
  if (!HIDDEN.test(text)) return text;
  // split() with a capturing group puts the hidden characters at the odd indices.
  return html`${text
    .split(HIDDEN)
    .map((piece, i) => (i % 2 ? html`<span class="escape" title=${describeHidden(piece)}>${codeOf(piece)}</span>` : piece))}`;
}

/** A token on a chip or bar: as visibleToken, with hidden characters marked as in showText. */
export const showToken = (token: string): TemplateResult | string => VISIBLE_FORMS[token] ?? showText(token);

/** Words for a screen reader and the tooltip of a token. */
export function describeToken(token: string): string {
  if (token === ' ') return 'space';
  if (token === '\n') return 'line break';
  if (token === '\t') return 'tab';
  if (token === UNKNOWN_TOKEN) return 'unknown character';
  if ([...token].length === 1 && HIDDEN.test(token)) return describeHidden(token);
  return `"${visibleText(token)}"`;
}

/** A probability as a percentage with enough digits to tell small ones apart. */
export function formatPercent(probability: number): string {
  const percent = probability * 100;
  return `${percent.toFixed(percent >= 10 ? 1 : 2)}%`;
}
