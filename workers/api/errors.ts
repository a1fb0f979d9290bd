/** Errors as both sides of the contract see them (Comlink keeps an Error's name and message). */

/** What went wrong, in the words of the error (or of whatever was thrown). */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A request whose model was replaced (a new model, one opened, imported or
 * loaded) before it could answer. The page drops such an answer: it asks again
 * for the new model anyway.
 */
export class ModelReplaced extends Error {
  override name = 'ModelReplaced';

  constructor() {
    super('The model was replaced before this answer was ready.');
  }
}

/** True for a ModelReplaced error, also after it crossed from the worker. */
export const isModelReplaced = (error: unknown): boolean => error instanceof Error && error.name === 'ModelReplaced';

/** About how many characters of a bad value an error message quotes. */
export const EXCERPT_LENGTH = 60;

/**
 * A value as an error message quotes it: its JSON (strings in quotes), cut to
 * about `max` characters with "…" and the whole size, so a huge bad value (a
 * shape of millions of entries, a megabyte-long name) cannot flood the message.
 * Only as much of the value is walked as is shown.
 */
export function excerpt(value: unknown, max = EXCERPT_LENGTH): string {
  let text = '';
  /** Appends a piece; false once there is no room left (the piece is then cut). */
  const put = (piece: string): boolean => {
    const room = max - text.length;
    if (piece.length <= room) {
      text += piece;
      return true;
    }
    // Never keep half of a surrogate pair.
    const cut = /[\uD800-\uDBFF]$/.test(piece.slice(0, room)) ? room - 1 : room;
    text += piece.slice(0, Math.max(0, cut));
    return false;
  };
  const walk = (item: unknown): boolean => {
    if (typeof item === 'string') {
      const head = firstCodePoints(item, max - text.length);
      const quoted = JSON.stringify(head);
      // A string cut short loses its closing quote, so it does not read as whole.
      return head.length === item.length ? put(quoted) : (put(quoted.slice(0, -1)), false);
    }
    if (Array.isArray(item)) {
      if (!put('[')) return false;
      for (let i = 0; i < item.length; i++) if ((i > 0 && !put(',')) || !walk(item[i])) return false;
      return put(']');
    }
    if (typeof item === 'object' && item !== null) {
      if (!put('{')) return false;
      let first = true;
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue;
        if ((!first && !put(',')) || !put(`${JSON.stringify(firstCodePoints(key, max))}:`)) return false;
        if (!walk((item as Record<string, unknown>)[key])) return false;
        first = false;
      }
      return put('}');
    }
    return put(String(item));
  };
  if (walk(value)) return text;
  const size = Array.isArray(value)
    ? ` (${counted(value.length, 'entry', 'entries')})`
    : typeof value === 'string'
      ? ` (${counted(codePointCount(value), 'character', 'characters')})`
      : '';
  return `${text}…${size}`;
}

/** Text (a name) as an error message shows it unquoted: cut to about `max` characters with "…". */
export function cut(text: string, max = EXCERPT_LENGTH): string {
  const head = firstCodePoints(text, max);
  return head.length === text.length ? text : `${head}…`;
}

const counted = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function codePointCount(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++, count++) if (text.codePointAt(i)! > 0xffff) i++;
  return count;
}

/** The first `count` code points of `text` (all of it when shorter), without reading past them. */
function firstCodePoints(text: string, count: number): string {
  let end = 0;
  for (let n = 0; n < count && end < text.length; n++) end += text.codePointAt(end)! > 0xffff ? 2 : 1;
  return text.slice(0, end);
}

/** A response's status as messages quote it: "404 Not Found". */
export const statusOf = (response: Response): string => `${response.status} ${response.statusText}`.trim();

/** What to do when one of the library's scripts is missing: they are built together and must be served together. */
export const SERVE_ASSETS = "serve the library's assets/ folder next to llm-playground.js, or all of your build's files";

/**
 * Why the script at `url` did not load, where the browser does not say (a worker that fails to load fires a bare
 * 'error' event): a fetch of it tells whether it is missing (an error status, or a server's page in its place).
 */
export async function scriptProblem(url: string): Promise<string> {
  const response = await fetch(url).catch(() => null);
  if (!response) return `${url} could not be fetched`;
  void response.body?.cancel().catch(() => {});
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (response.ok && /javascript|ecmascript/i.test(type)) return `${url} was found but did not start`;
  return `${url} answered ${response.ok ? `with ${type || 'no type'}, not a script` : statusOf(response)}; ${SERVE_ASSETS}`;
}
