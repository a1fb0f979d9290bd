/**
 * The readable form of a byte-level token: its bytes as text where they are valid
 * UTF-8, each byte that is not written \xNN, and a backslash written \\ so that the
 * form reads back to exactly the same bytes.
 */

const utf8 = new TextEncoder();

/** Length of the valid UTF-8 sequence starting at `at`, or 0 when the byte there does not start one. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at];
  if (lead < 0x80) return 1;
  // The allowed range of the second byte rules out overlong forms, surrogates and code points past U+10FFFF.
  let length: number, low: number, high: number;
  if (lead >= 0xc2 && lead <= 0xdf) [length, low, high] = [2, 0x80, 0xbf];
  else if (lead === 0xe0) [length, low, high] = [3, 0xa0, 0xbf];
  else if (lead === 0xed) [length, low, high] = [3, 0x80, 0x9f];
  else if (lead >= 0xe1 && lead <= 0xef) [length, low, high] = [3, 0x80, 0xbf];
  else if (lead === 0xf0) [length, low, high] = [4, 0x90, 0xbf];
  else if (lead === 0xf4) [length, low, high] = [4, 0x80, 0x8f];
  else if (lead >= 0xf1 && lead <= 0xf3) [length, low, high] = [4, 0x80, 0xbf];
  else return 0;
  if (at + length > bytes.length || bytes[at + 1] < low || bytes[at + 1] > high) return 0;
  for (let i = at + 2; i < at + length; i++) if (bytes[i] < 0x80 || bytes[i] > 0xbf) return 0;
  return length;
}

const hexByte = (byte: number): string => '\\x' + byte.toString(16).toUpperCase().padStart(2, '0');

/** The readable form of `bytes`. */
export function readableBytes(bytes: Uint8Array): string {
  let text = '';
  for (let at = 0; at < bytes.length;) {
    const length = sequenceLength(bytes, at);
    if (length === 0) {
      text += hexByte(bytes[at++]);
      continue;
    }
    let codePoint = length === 1 ? bytes[at] : bytes[at] & (0xff >> (length + 1));
    for (let i = at + 1; i < at + length; i++) codePoint = (codePoint << 6) | (bytes[i] & 0x3f);
    text += codePoint === 0x5c ? '\\\\' : String.fromCodePoint(codePoint);
    at += length;
  }
  return text;
}

/** The bytes a readable form stands for, or undefined when `text` is not one (as readableBytes would write it). */
export function bytesOfReadable(text: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let at = 0; at < text.length;) {
    const escape = /^\\(\\|x[0-9A-F]{2})/.exec(text.slice(at, at + 4));
    if (escape) {
      bytes.push(escape[1] === '\\' ? 0x5c : parseInt(escape[1].slice(1), 16));
      at += escape[0].length;
      continue;
    }
    if (text[at] === '\\') return undefined;
    const char = String.fromCodePoint(text.codePointAt(at)!);
    bytes.push(...utf8.encode(char));
    at += char.length;
  }
  const result = Uint8Array.from(bytes);
  // Only the form readableBytes writes counts: a lone surrogate, or \xNN for a byte that reads as text, is refused.
  return readableBytes(result) === text ? result : undefined;
}

/** Why `entry` cannot be a byte-level token, or undefined. */
export function readableEntryProblem(entry: unknown): string | undefined {
  if (typeof entry !== 'string') return 'is not a string';
  if (entry === '') return 'is empty';
  return bytesOfReadable(entry) ? undefined : 'is not bytes in readable form (text, \\xNN for a byte that is not UTF-8, \\\\)';
}
