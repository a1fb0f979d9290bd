/**
 * Checks a user's corpus (a file, a download or pasted text) before training,
 * with messages that say what is wrong and what to do.
 */
import { cut } from '../api/errors.ts';
import { MAX_CORPUS_BYTES, overLimit, pastedTextOverLimit } from '../api/reading.ts';
import { CorpusIsWebPage } from '../api/training.ts';
import { looksLikeHtml, textOfHtml } from './html.ts';

export const CORPUS_LIMITS = {
  /** Fewer characters than this cannot fill even a few training batches. */
  minChars: 1_000,
  /** Bigger files, downloads or pasted texts take too long to read and tokenize in a tab. */
  maxBytes: MAX_CORPUS_BYTES,
  /** A character vocabulary must stay small: every character is a row of the embedding. */
  maxVocabulary: 256,
} as const;

/** Share of control bytes (other than tab, newline, carriage return, form feed) above which a file is binary. */
const MAX_CONTROL_SHARE = 0.01;
/** Binary detection looks at the start of the file, as `file` and git do. */
const SNIFF_BYTES = 64 * 1024;

const formatCount = (n: number): string => n.toLocaleString('en-US');

function looksBinary(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, SNIFF_BYTES);
  let control = 0;
  for (const byte of sample) {
    if (byte === 0) return true;
    const whitespace = byte === 9 || byte === 10 || byte === 12 || byte === 13;
    if ((byte < 32 && !whitespace) || byte === 127) control++;
  }
  return control > sample.length * MAX_CONTROL_SHARE;
}

/** Strict UTF-8 (a leading byte-order mark is dropped); null when the bytes are not UTF-8. */
function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** How a corpus is read: the MIME type its server or file gave, and whether to train on a web page's text. */
export interface CorpusReading {
  type?: string;
  /** The corpus is a web page: train on its text (scripts, styles and tags dropped) rather than refuse it. */
  htmlToText?: boolean;
}

/**
 * Decodes a file's bytes to training text. Throws a clear Error when the file
 * is too big, binary, not UTF-8, a web page (CorpusIsWebPage, unless
 * `htmlToText`), too short or uses too many characters. Windows line ends
 * become "\n" so "\r" does not become a token.
 */
export function corpusFromBytes(bytes: Uint8Array, name: string, reading: CorpusReading = {}): string {
  const file = `"${cut(name)}"`;
  if (bytes.length > CORPUS_LIMITS.maxBytes) throw new Error(overLimit(name, bytes.length, CORPUS_LIMITS.maxBytes));
  // UTF-16 text is full of zero bytes: call it what it is rather than binary.
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (!utf16 && looksBinary(bytes)) {
    throw new Error(`${file} looks like a binary file, not text. Choose a plain-text file (.txt).`);
  }
  const text = utf16 ? null : decodeUtf8(bytes);
  if (text === null) throw new Error(`${file} is not UTF-8 text. Save it as UTF-8 (plain text) and try again.`);
  return trainingText(text, file, reading);
}

/** Pasted text as training text: the same size limit as a file (counted in UTF-8 bytes), then the same checks. */
export function corpusFromText(text: string, name: string, reading: CorpusReading = {}): string {
  const tooBig = pastedTextOverLimit(text, name);
  if (tooBig) throw new Error(tooBig);
  return trainingText(text, name, reading);
}

/** A web page is refused (or, with htmlToText, becomes its text); line ends become "\n"; then checkCorpusText. */
function trainingText(text: string, source: string, reading: CorpusReading): string {
  if (reading.htmlToText) text = textOfHtml(text);
  else if (looksLikeHtml(text, reading.type)) throw new CorpusIsWebPage(source);
  return checkCorpusText(text.replace(/\r\n?/g, '\n'), source);
}

/**
 * Returns `text` if it can be trained on; throws a clear Error when it is too
 * short or uses too many distinct characters. `source` names it in messages.
 */
export function checkCorpusText(text: string, source = 'The text'): string {
  let length = 0;
  const characters = new Set<string>();
  for (const character of text) {
    length++;
    characters.add(character);
  }
  if (length < CORPUS_LIMITS.minChars) {
    throw new Error(
      `${source} has only ${formatCount(length)} characters; training needs at least ${formatCount(CORPUS_LIMITS.minChars)}. Add more text.`,
    );
  }
  if (characters.size > CORPUS_LIMITS.maxVocabulary) {
    throw new Error(
      `${source} uses ${formatCount(characters.size)} different characters; the limit is ${CORPUS_LIMITS.maxVocabulary}, because each one becomes a token. Use text in one language with few symbols.`,
    );
  }
  return text;
}
