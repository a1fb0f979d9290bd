/**
 * Web pages given as a corpus: how to tell one from plain text, and its text
 * without the markup. The worker has no DOM, so the markup is taken apart with
 * patterns: enough for a page's readable text, not a full HTML parser.
 */

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

/** A doctype, or an html, head or body tag, before any text. */
const HTML_START = /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]/i;

/** True when a server or a file called it HTML (`type`: a MIME type), or its text starts like a web page. */
export function looksLikeHtml(text: string, type = ''): boolean {
  return HTML_TYPES.has(type.split(';')[0]!.trim().toLowerCase()) || HTML_START.test(text.slice(0, 4096));
}

/** Elements whose content is not text a reader sees. */
const HIDDEN = /<(script|style|noscript|template|svg)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
/** Tags that end a line of text where they stand (the rest join their neighbours: "<b>bo</b>ld" is "bold"). */
const BLOCK_TAG =
  /<\/?(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|tr|table|section|article|header|footer|nav|aside|main|blockquote|pre|title|figure|figcaption)\b[^>]*>/gi;

/** The named entities pages use most; an unknown one stays as written. */
const ENTITIES = new Map(
  Object.entries({
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: ' ',
    shy: '',
    ndash: '–',
    mdash: '—',
    hellip: '…',
    lsquo: '‘',
    rsquo: '’',
    ldquo: '“',
    rdquo: '”',
    laquo: '«',
    raquo: '»',
    bull: '•',
    middot: '·',
    deg: '°',
    times: '×',
    copy: '©',
    reg: '®',
    trade: '™',
    sect: '§',
    para: '¶',
    euro: '€',
    pound: '£',
    szlig: 'ß',
    aelig: 'æ',
    AElig: 'Æ',
    oslash: 'ø',
    Oslash: 'Ø',
  }),
);

/** Accented letters (&eacute;, &Uuml;, …): the letter and a combining mark, composed. */
const MARKS = new Map(
  Object.entries({
    acute: '\u0301',
    grave: '\u0300',
    circ: '\u0302',
    uml: '\u0308',
    tilde: '\u0303',
    cedil: '\u0327',
    ring: '\u030a',
  }),
);

function decodeEntity(entity: string, name: string): string {
  if (name[0] === '#') {
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  }
  const mark = MARKS.get(name.slice(1));
  if (mark) return `${name[0]}${mark}`.normalize('NFC');
  return ENTITIES.get(name) ?? entity;
}

/**
 * The text a reader sees on a page: scripts, styles and comments dropped, tags
 * removed (block tags end a line), entities decoded, spaces collapsed, at most
 * one empty line in a row.
 */
export function textOfHtml(html: string): string {
  const text = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(HIDDEN, '')
    .replace(BLOCK_TAG, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#\d+|#x[\da-f]+|[a-z]+);/gi, decodeEntity);
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
