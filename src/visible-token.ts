import { html, type TemplateResult } from 'lit';
import { type Tokenization, UNKNOWN_ID, UNKNOWN_TOKEN } from '../workers/api/index.ts';

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

/** Text as the page shows it: each hidden character as its code, marked (class "escape", styled by the theme). */
export function showText(text: string): TemplateResult | string {
  if (!HIDDEN.test(text)) return text;
  // split() with a capturing group puts the hidden characters at the odd indices.
  return html`${text
    .split(HIDDEN)
    .map((piece, i) => (i % 2 ? html`<span class="escape" title=${describeHidden(piece)}>${codeOf(piece)}</span>` : piece))}`;
}

/**
 * A word piece split into what is drawn differently: whitespace (a word piece's leading space), a byte that is not
 * a whole character (written \xNN in a BPE vocabulary), and plain text. A one-character token is always plain or
 * whitespace: only a BPE token (several characters) is read for \xNN and \\ (its escaped backslash).
 */
type Piece = { kind: 'space'; char: string } | { kind: 'byte'; hex: string } | { kind: 'text'; text: string };

const PIECES = /([ \n\t\r])|\\x([0-9A-Fa-f]{2})|(\\\\)/u;

function piecesOf(token: string): Piece[] {
  if ([...token].length === 1) return [VISIBLE_FORMS[token] ? { kind: 'space', char: token } : { kind: 'text', text: token }];
  const pieces: Piece[] = [];
  // split() with three capturing groups: each match gives text, then the three groups (one of them set).
  const parts = token.split(PIECES);
  for (let i = 0; i < parts.length; i += 4) {
    if (parts[i]) pieces.push({ kind: 'text', text: parts[i]! });
    const [space, hex, backslash] = parts.slice(i + 1, i + 4);
    if (space) pieces.push({ kind: 'space', char: space });
    else if (hex) pieces.push({ kind: 'byte', hex: hex.toUpperCase() });
    else if (backslash) pieces.push({ kind: 'text', text: '\\' });
  }
  // Neighbouring text pieces (a backslash beside letters) read as one.
  return pieces.reduce<Piece[]>((merged, piece) => {
    const last = merged.at(-1);
    if (last?.kind === 'text' && piece.kind === 'text') last.text += piece.text;
    else merged.push({ ...piece });
    return merged;
  }, []);
}

/** What a byte piece is, for tooltips and screen readers. */
const describeByte = (hex: string): string => `byte ${hex}`;

/** A token as something you can see (plain text, for options and canvas): spaces and line breaks as symbols, hidden characters as their code. */
export const visibleToken = (token: string): string =>
  piecesOf(token)
    .map((piece) =>
      piece.kind === 'space' ? VISIBLE_FORMS[piece.char] : piece.kind === 'byte' ? `\\x${piece.hex}` : visibleText(piece.text),
    )
    .join('');

/**
 * A token on a chip or bar: as visibleToken, marked. A word piece's space (or line break) is a dimmed symbol (class
 * "space-mark"), a byte a dotted \xNN (class "byte"), a hidden character as in showText. A token that is one space
 * keeps its symbol undimmed: it is all there is to see.
 */
export function showToken(token: string): TemplateResult | string {
  const pieces = piecesOf(token);
  if (pieces.length === 1 && pieces[0]!.kind === 'space') return VISIBLE_FORMS[pieces[0]!.char]!;
  if (pieces.length === 1 && pieces[0]!.kind === 'text') return showText(pieces[0]!.text);
  return html`${pieces.map((piece) =>
    piece.kind === 'space'
      ? html`<span class="space-mark" title=${describeToken(piece.char)}>${VISIBLE_FORMS[piece.char]}</span>`
      : piece.kind === 'byte'
        ? html`<span class="byte" title=${describeByte(piece.hex)}>\\x${piece.hex}</span>`
        : showText(piece.text),
  )}`;
}

/** Words for one character: what a symbol or code stands for, else the character in quotes. */
function describeChar(char: string): string {
  if (char === ' ') return 'space';
  if (char === '\n') return 'line break';
  if (char === '\t') return 'tab';
  if (char === '\r') return 'carriage return';
  if (char === UNKNOWN_TOKEN) return 'unknown character';
  if (HIDDEN.test(char)) return describeHidden(char);
  return `"${char}"`;
}

/** Words for a screen reader and the tooltip of a token: a word piece's leading space is said, e.g. 'space then "king"'. */
export function describeToken(token: string): string {
  if ([...token].length === 1) return describeChar(token);
  return piecesOf(token)
    .map((piece) =>
      piece.kind === 'space'
        ? describeChar(piece.char)
        : piece.kind === 'byte'
          ? describeByte(piece.hex)
          : `"${visibleText(piece.text)}"`,
    )
    .join(' then ');
}

/** A token of a prompt that the vocabulary lacks: read as the unknown token (a BPE with all 256 bytes has none). */
export const isUnknownAt = ({ ids, tokens }: Tokenization, i: number): boolean =>
  ids[i] === UNKNOWN_ID && tokens[i] === UNKNOWN_TOKEN;

/**
 * What a chip shows for a prompt's token i: the vocabulary's string (a word piece, \xNN for part of a character),
 * or for an unknown character the character typed.
 */
export const tokenTextAt = (tokenization: Tokenization, i: number): string =>
  (isUnknownAt(tokenization, i) ? tokenization.pieces[i] : tokenization.tokens[i]) ?? '';

/** A probability as a percentage with enough digits to tell small ones apart. */
export function formatPercent(probability: number): string {
  const percent = probability * 100;
  return `${percent.toFixed(percent >= 10 ? 1 : 2)}%`;
}
