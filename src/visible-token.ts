import { UNKNOWN_TOKEN } from '../workers/api/index.ts';

/** Characters that would be invisible (or break the layout) on a chip or bar label. */
const VISIBLE_FORMS: Record<string, string> = {
  ' ': '␣',
  '\n': '⏎',
  '\t': '⇥',
  '\r': '␍',
};

/** A token as something you can see: spaces and line breaks get a symbol. */
export const visibleToken = (token: string): string => VISIBLE_FORMS[token] ?? token;

/** Words for a screen reader and the tooltip of a token. */
export function describeToken(token: string): string {
  if (token === ' ') return 'space';
  if (token === '\n') return 'line break';
  if (token === '\t') return 'tab';
  if (token === UNKNOWN_TOKEN) return 'unknown character';
  return `"${token}"`;
}

/** A probability as a percentage with enough digits to tell small ones apart. */
export function formatPercent(probability: number): string {
  const percent = probability * 100;
  return `${percent.toFixed(percent >= 10 ? 1 : 2)}%`;
}
