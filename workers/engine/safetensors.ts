/**
 * The .safetensors format (Hugging Face's), read and written in plain
 * TypeScript so it works the same in a browser and in Node:
 *
 *   8 bytes    header length N, unsigned 64-bit little-endian
 *   N bytes    JSON header: { "<name>": { "dtype": "F32", "shape": [2, 3],
 *                                          "data_offsets": [begin, end] }, ...,
 *                             "__metadata__": { "<key>": "<string>" } }
 *   the rest   the data buffer; offsets are relative to its start
 *
 * We read F32, F16 and BF16 (converted to Float32Array) and write F32.
 * Reading checks everything the spec requires (a header of UTF-8 JSON that
 * starts with "{", no key given twice, tensors that tile the data buffer
 * exactly), so a damaged file fails with a message that says where.
 */

import { excerpt } from '../api/errors.ts';

export type Dtype = 'F32' | 'F16' | 'BF16';

const BYTES_PER_ELEMENT: Record<Dtype, number> = { F32: 4, F16: 2, BF16: 2 };
const SUPPORTED_DTYPES = Object.keys(BYTES_PER_ELEMENT) as Dtype[];

/** The spec caps the header at 100 MB; a bigger length means a corrupt or foreign file. */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * Deepest nesting a header may have. A safetensors header is 3 deep (the header,
 * a tensor, its shape); anything that walks a value recursively (JSON.stringify,
 * structured cloning) overflows the stack on one nested 100,000 deep.
 */
export const MAX_HEADER_DEPTH = 64;
/** Most tensors a header may list: GPT-2 XL, the largest GPT-2, has under 700 (with its mask buffers). */
export const MAX_TENSORS = 10_000;
/**
 * Most entries a list in the header may have. Its lists are shapes (one entry
 * per dimension; GPT-2's have 1 or 2) and data_offsets (2): a shape of millions
 * of entries is refused before JSON.parse spends a second reading it.
 */
export const MAX_LIST_ENTRIES = 64;
/** The header's entry for the file's string metadata: every other entry is a tensor. */
const METADATA_KEY = '__metadata__';

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  /** Where this tensor's bytes start and end, counted from the start of the file. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  bytes: Uint8Array;
  /** Tensors in the order the header lists them. */
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export interface NamedTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function fail(message: string): never {
  throw new Error(`safetensors: ${message}`);
}

const isNonNegativeInteger = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** Parses and validates the header; tensor data stays in `bytes` until `readTensor` decodes it. */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short to hold the 8-byte header length`);
  const dataStart = headerEnd(bytes, bytes.length);
  const { tensors, metadata } = parseSafetensorsHeader(bytes.subarray(8, dataStart), bytes.length - dataStart);
  return { bytes, tensors, metadata };
}

/**
 * Where the header of a file of `fileLength` bytes ends (the data buffer starts),
 * read from its first 8 bytes; checks the length against the file and the 100 MB
 * cap. `fileLength` undefined: the file's size is not known yet (a download
 * without Content-Length), so only the cap is checked.
 */
export function headerEnd(first8: Uint8Array, fileLength: number | undefined): number {
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength === 0n) fail('header length is 0: the file has no header (truncated, or not a safetensors file)');
  if (fileLength !== undefined && headerLength > BigInt(fileLength - 8)) {
    fail(`header length ${headerLength} runs past the end of the ${fileLength}-byte file (truncated, or not a safetensors file)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} is over the 100 MB limit`);
  return 8 + Number(headerLength);
}

/**
 * Parses and validates a header (the bytes after the 8-byte length) for a data
 * buffer of `dataLength` bytes: what parseSafetensors checks, for a reader that
 * has the header but not yet the data (a download parsed as it arrives).
 * `dataLength` undefined: not known, taken as where the tensors end (the reader
 * must then check the data buffer is that long). Offsets come back counted from
 * the start of the file.
 */
export function parseSafetensorsHeader(
  headerBytes: Uint8Array,
  dataLength: number | undefined,
): { tensors: Map<string, TensorEntry>; metadata: Record<string, string>; dataStart: number; dataLength: number } {
  const dataStart = 8 + headerBytes.length;
  const header = parseHeader(headerBytes);
  const { [METADATA_KEY]: rawMetadata = {}, ...rawTensors } = header;
  if (typeof rawMetadata !== 'object' || rawMetadata === null || Array.isArray(rawMetadata)) {
    fail('__metadata__ must be an object of strings');
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawMetadata as object)) {
    if (typeof value !== 'string') fail(`__metadata__ ${excerpt(key)} must be a string, got ${excerpt(value)}`);
    metadata[key] = value;
  }

  const tensors = new Map<string, TensorEntry>();
  let furthest = 0;
  for (const [name, raw] of Object.entries(rawTensors)) {
    const tensor = `tensor ${excerpt(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      fail(`${tensor} must be an object with dtype, shape and data_offsets, got ${excerpt(raw)}`);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!SUPPORTED_DTYPES.includes(dtype as Dtype)) {
      fail(`${tensor} has dtype ${excerpt(dtype)}; supported: ${SUPPORTED_DTYPES.join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      fail(`${tensor} shape must be a list of non-negative integers, got ${excerpt(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
      fail(`${tensor} data_offsets must be [begin, end], got ${excerpt(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`${tensor} data_offsets [${begin}, ${end}] end before they begin`);
    if (dataLength !== undefined && end > dataLength) {
      fail(`${tensor} data_offsets [${begin}, ${end}] fall outside the ${dataLength}-byte data buffer`);
    }
    const needed = elementCount(shape as number[]) * BYTES_PER_ELEMENT[dtype as Dtype];
    if (end - begin !== needed) {
      fail(`${tensor} has ${end - begin} bytes but shape ${excerpt(shape)} of ${dtype} needs ${needed}`);
    }
    furthest = Math.max(furthest, end);
    tensors.set(name, { dtype: dtype as Dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
  }
  const length = dataLength ?? furthest;
  checkCoverage(tensors, dataStart, length);
  return { tensors, metadata, dataStart, dataLength: length };
}

/** The header as an object: UTF-8 JSON starting with "{" (trailing spaces pad it), no key given twice. */
function parseHeader(headerBytes: Uint8Array): Record<string, unknown> {
  if (headerBytes[0] !== 0x7b) {
    fail(
      `header must start with "{" but starts with byte 0x${headerBytes[0]!.toString(16).padStart(2, '0')} (not a safetensors file, or the header length is wrong)`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail(`header of ${headerBytes.length} bytes is not UTF-8 text (the file is damaged, or the header length is wrong)`);
  }
  const twice = scanHeader(text);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`);
  }
  // Valid JSON that starts with "{" is an object.
  if (twice) fail(`header gives the key ${excerpt(twice.key)} twice${twice.within ? ` in ${excerpt(twice.within)}` : ''}`);
  return header as Record<string, unknown>;
}

/**
 * One pass over the header's text before JSON.parse reads it: refuses nesting
 * deeper than MAX_HEADER_DEPTH, more than MAX_TENSORS tensors and lists of more
 * than MAX_LIST_ENTRIES entries, and returns
 * the first key some object gives twice, with the key of that object (undefined
 * at the top). JSON.parse silently keeps the last of two, which would hide a
 * tensor; the caller reports it once the text is known to be JSON.
 */
function scanHeader(text: string): { key: string; within?: string } | undefined {
  // One entry per open object or array: the keys seen so far (null for an array), the entries
  // after the first (an array's commas), and the key the container sits under.
  const open: { keys: Set<string> | null; commas: number; under?: string }[] = [];
  let lastKey: string | undefined;
  let expectKey = false;
  let tensors = 0;
  let twice: { key: string; within?: string } | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{' || char === '[') {
      if (open.length === MAX_HEADER_DEPTH) {
        fail(`header nests more than ${MAX_HEADER_DEPTH} levels deep, where a safetensors header needs 3`);
      }
      open.push({ keys: char === '{' ? new Set() : null, commas: 0, under: lastKey });
      expectKey = char === '{';
    } else if (char === '}' || char === ']') {
      open.pop();
      expectKey = false;
    } else if (char === ',') {
      const container = open.at(-1);
      expectKey = container?.keys != null;
      if (container?.keys === null && ++container.commas === MAX_LIST_ENTRIES) {
        const where = [container.under, open.at(-2)?.under].filter((key) => key !== undefined).map((key) => excerpt(key));
        fail(
          `header has a list of more than ${MAX_LIST_ENTRIES} entries${where.length ? ` (in ${where.join(' of ')})` : ''}, ` +
            'where a shape has one per dimension',
        );
      }
    } else if (char === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const keys = open.at(-1)?.keys;
      if (!expectKey || !keys) continue;
      expectKey = false;
      const key = stringLiteral(text.slice(start, i + 1));
      if (open.length === 1 && key !== METADATA_KEY && ++tensors > MAX_TENSORS) {
        fail(`header lists more than ${MAX_TENSORS.toLocaleString('en-US')} tensors, the most this reads`);
      }
      if (keys.has(key)) twice ??= { key, within: open.at(-1)!.under };
      keys.add(key);
      lastKey = key;
    }
  }
  return twice;
}

/** A JSON string literal's value; text that is not one (the header is not JSON) stays as it is, for JSON.parse to refuse. */
function stringLiteral(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal;
  }
}

/**
 * The spec requires the tensors to tile the data buffer: no byte shared by two
 * tensors, none left over. Anything else means offsets were damaged, and
 * reading on would hand back the wrong bytes.
 */
function checkCoverage(tensors: Map<string, TensorEntry>, dataStart: number, dataLength: number): void {
  const byOffset = [...tensors].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: string | undefined;
  for (const [name, { begin, end }] of byOffset) {
    const [from, to] = [begin - dataStart, end - dataStart];
    if (from < covered) {
      fail(`tensor ${excerpt(name)} data_offsets [${from}, ${to}] overlap tensor ${excerpt(previous)}, which ends at ${covered}`);
    }
    if (from > covered) {
      const where = previous === undefined ? `before ${excerpt(name)}` : `between ${excerpt(previous)} and ${excerpt(name)}`;
      fail(`bytes ${covered} to ${from} of the data buffer belong to no tensor (a gap ${where})`);
    }
    covered = to;
    previous = name;
  }
  if (covered < dataLength) {
    const where = previous === undefined ? 'the file has no tensors' : `after the last tensor, ${excerpt(previous)}`;
    fail(`the last ${dataLength - covered} bytes of the data buffer belong to no tensor (${where})`);
  }
}

/** IEEE half precision: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 is the top half of a float32, so widening is a 16-bit shift. */
export function bfloat16ToFloat32(bits: number): number {
  BFLOAT_SCRATCH_BITS[0] = bits << 16;
  return BFLOAT_SCRATCH[0]!;
}
const BFLOAT_SCRATCH = new Float32Array(1);
const BFLOAT_SCRATCH_BITS = new Uint32Array(BFLOAT_SCRATCH.buffer);

/** Decodes one tensor to float32, into `out` when given (e.g. a view of a flat parameter buffer). */
export function readTensor(file: SafetensorsFile, name: string, out?: Float32Array): Float32Array {
  const entry = file.tensors.get(name);
  if (!entry) return fail(`no tensor named ${excerpt(name)}`);
  const count = elementCount(entry.shape);
  const result = out ?? new Float32Array(count);
  if (result.length !== count) fail(`tensor ${excerpt(name)} has ${count} values but the destination holds ${result.length}`);
  // DataView reads little-endian whatever the host, and tolerates unaligned offsets.
  const view = new DataView(file.bytes.buffer, file.bytes.byteOffset + entry.begin, entry.end - entry.begin);
  if (entry.dtype === 'F32') {
    for (let i = 0; i < count; i++) result[i] = view.getFloat32(4 * i, true);
  } else {
    const widen = entry.dtype === 'F16' ? float16ToFloat32 : bfloat16ToFloat32;
    for (let i = 0; i < count; i++) result[i] = widen(view.getUint16(2 * i, true));
  }
  return result;
}

/**
 * Decodes `count` values of `dtype` from `bytes` (little-endian, any alignment)
 * into `out` from index `at`: readTensor's loop, for a tensor that arrives in parts.
 */
export function decodeInto(dtype: Dtype, bytes: Uint8Array, out: Float32Array, at: number): void {
  if (dtype === 'F32' && LITTLE_ENDIAN) {
    // On a little-endian host (every browser's) the bytes are the floats: copied at once, through an
    // aligned scratch buffer when they do not start on a multiple of 4 (a network part cut anywhere).
    let aligned = bytes;
    if (bytes.byteOffset % 4 !== 0) {
      if (scratch.length < bytes.length) scratch = new Uint8Array(Math.max(bytes.length, 2 * scratch.length));
      scratch.set(bytes);
      aligned = scratch;
    }
    out.set(new Float32Array(aligned.buffer, aligned.byteOffset, bytes.length >> 2), at);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') {
    const count = bytes.length >> 2;
    for (let i = 0; i < count; i++) out[at + i] = view.getFloat32(4 * i, true);
  } else {
    const widen = dtype === 'F16' ? float16ToFloat32 : bfloat16ToFloat32;
    const count = bytes.length >> 1;
    for (let i = 0; i < count; i++) out[at + i] = widen(view.getUint16(2 * i, true));
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** decodeInto's aligned copy of unaligned float32 bytes; grows to the largest part seen. */
let scratch = new Uint8Array(0);

/** Bytes one value of `dtype` takes. */
export const bytesPerElement = (dtype: Dtype): number => BYTES_PER_ELEMENT[dtype];

/** Writes F32 tensors, in the given order, with string metadata. */
export function writeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let dataLength = 0;
  for (const { name, shape, data } of tensors) {
    if (name in header) fail(`tensor name "${name}" is used twice`);
    if (data.length !== elementCount(shape)) {
      fail(`tensor "${name}" has ${data.length} values but shape [${shape.join(', ')}] needs ${elementCount(shape)}`);
    }
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [dataLength, dataLength + 4 * data.length] };
    dataLength += 4 * data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Spaces pad the header so the data starts 8-byte aligned, as the spec recommends.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + headerLength + dataLength);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  bytes.set(json, 8);
  bytes.fill(0x20, 8 + json.length, 8 + headerLength);
  let offset = 8 + headerLength;
  for (const { data } of tensors) {
    for (let i = 0; i < data.length; i++, offset += 4) view.setFloat32(offset, data[i]!, true);
  }
  return bytes;
}
