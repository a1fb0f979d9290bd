/**
 * Hundreds of damaged .safetensors files, made from one good checkpoint of a
 * small model with fresh random weights. Every one must be refused by
 * importCheckpoint with a message that names its problem, and the good file
 * must still import, bit for bit. The files are edited here byte by byte,
 * independently of the code under test.
 */
import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { CharTokenizer, UNKNOWN_TOKEN } from '../../workers/engine/tokenizer.ts';
import { importCheckpoint, IMPORT_ERROR_PREFIX, writeCheckpoint } from '../../workers/engine/checkpoint.ts';
import { ModelLibrary } from '../../workers/model-library.ts';
import { createEngine } from '../../workers/engine.ts';
import { RUN_SEED, randomFor } from './seeded.ts';
import { CheckpointStore } from '../../workers/store/checkpoint-store.ts';

const SEED = RUN_SEED;
const random = randomFor('import fuzz');

const TEXT = 'the quick brown fox jumps over the lazy dog';
const tokenizer = CharTokenizer.fromText(TEXT);
const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, tied: false };
const params = createParameters(config);
random.fillNormal(params.data, 0.5);
const valid = writeCheckpoint({ config, params, tokenizer });
const pristine = valid.slice();

const bitsOf = (values: Float32Array): number[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pick = <T>(items: readonly T[]): T => items[random.int(items.length)]!;
/** An integer in [low, high). */
const between = (low: number, high: number): number => low + random.int(high - low);

// ---- the file as parts: the header as an object, and the data buffer ----

interface TensorJSON {
  dtype: unknown;
  shape: unknown;
  data_offsets: [number, number];
}

interface Parts {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON that the tests reshape at will
  header: Record<string, any>;
  data: Uint8Array;
}

const headerLengthOf = (file: Uint8Array): number => Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));

function partsOf(file: Uint8Array): Parts {
  const length = headerLengthOf(file);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length)));
  return { header, data: file.slice(8 + length) };
}

/** Header text with no padding, then the data; `headerLength` overrides the length field. */
function assemble({ header, data }: Parts, headerLength?: bigint): Uint8Array {
  return withHeaderBytes(new TextEncoder().encode(JSON.stringify(header)), data, headerLength);
}

function withHeaderBytes(headerBytes: Uint8Array, data: Uint8Array, headerLength = BigInt(headerBytes.length)): Uint8Array {
  const file = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(file.buffer).setBigUint64(0, headerLength, true);
  file.set(headerBytes, 8);
  file.set(data, 8 + headerBytes.length);
  return file;
}

/** Tensor names in the order of their bytes. */
function tensorNames({ header }: Parts): string[] {
  return Object.keys(header)
    .filter((name) => name !== '__metadata__')
    .sort((a, b) => header[a].data_offsets[0] - header[b].data_offsets[0]);
}

const entry = (parts: Parts, name: string): TensorJSON => parts.header[name];
const sizeOf = (parts: Parts, name: string): number => entry(parts, name).data_offsets[1] - entry(parts, name).data_offsets[0];

/** Puts `bytes` into the data at `at`, moving every tensor that starts there or later. */
function insertBytes(parts: Parts, at: number, bytes: Uint8Array): Parts {
  const copy = structuredClone(parts);
  for (const name of tensorNames(copy)) {
    const offsets = entry(copy, name).data_offsets;
    if (offsets[0] >= at) entry(copy, name).data_offsets = [offsets[0] + bytes.length, offsets[1] + bytes.length];
  }
  copy.data = new Uint8Array(parts.data.length + bytes.length);
  copy.data.set(parts.data.subarray(0, at));
  copy.data.set(bytes, at);
  copy.data.set(parts.data.subarray(at), at + bytes.length);
  return copy;
}

/** Drops a tensor from the header and its bytes from the data, closing the gap. */
function removeTensor(parts: Parts, name: string): Parts {
  const [begin, end] = entry(parts, name).data_offsets;
  const copy = structuredClone(parts);
  delete copy.header[name];
  for (const other of tensorNames(copy)) {
    const offsets = entry(copy, other).data_offsets;
    if (offsets[0] >= end) entry(copy, other).data_offsets = [offsets[0] - (end - begin), offsets[1] - (end - begin)];
  }
  copy.data = new Uint8Array([...parts.data.subarray(0, begin), ...parts.data.subarray(end)]);
  return copy;
}

function appendTensor(parts: Parts, name: string, shape: number[]): Parts {
  const copy = structuredClone(parts);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  random.fillNormal(values, 1);
  const bytes = new Uint8Array(values.buffer);
  copy.header[name] = { dtype: 'F32', shape, data_offsets: [parts.data.length, parts.data.length + bytes.length] };
  copy.data = new Uint8Array([...parts.data, ...bytes]);
  return copy;
}

function editTensor(parts: Parts, name: string, edit: Partial<Record<keyof TensorJSON, unknown>>): Parts {
  const copy = structuredClone(parts);
  copy.header[name] = { ...copy.header[name], ...edit };
  return copy;
}

function withMetadata(parts: Parts, edit: Record<string, string | undefined>): Parts {
  const copy = structuredClone(parts);
  const metadata = { ...copy.header.__metadata__, ...edit };
  for (const key of Object.keys(metadata)) if (metadata[key] === undefined) delete metadata[key];
  copy.header.__metadata__ = metadata;
  return copy;
}

const randomBytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => random.int(256));

const good = partsOf(valid);
const names = tensorNames(good);
const HEADER_LENGTH = headerLengthOf(valid);
const headerText = new TextDecoder().decode(valid.subarray(8, 8 + HEADER_LENGTH));
/** Where character `index` of the header text starts, in bytes (the tokenizer's "\uFFFD" takes three). */
const byteIndex = (index: number): number => new TextEncoder().encode(headerText.slice(0, index)).length;
const PADDING = HEADER_LENGTH - byteIndex(headerText.trimEnd().length);
const DATA_LENGTH = good.data.length;

// ---- the malformed files, by category ----

interface Malformed {
  what: string;
  file: Uint8Array;
  /** What the message must say, after IMPORT_ERROR_PREFIX. */
  problem: RegExp;
  maxBytes?: number;
}

const TOO_SHORT = /^file is \d+ bytes, too short to hold the 8-byte header length$/;
const PAST_THE_END = /^header length \d+ runs past the end of the \d+-byte file/;
const OUTSIDE = /^tensor "[^"]+" data_offsets \[\d+, \d+\] fall outside the \d+-byte data buffer$/;
const NOT_TEXT_OR_JSON = /^header (of \d+ bytes is not UTF-8 text|is not valid JSON)/;
const NOT_AN_OBJECT = /^header must start with "\{" but starts with byte 0x[0-9a-f]{2}/;
/** Anything the header's structure can get wrong: what a damaged header byte may cause. */
const DAMAGED_HEADER = new RegExp(
  [
    NOT_TEXT_OR_JSON.source,
    OUTSIDE.source,
    'data_offsets \\[\\d+, \\d+\\] end before they begin',
    '^header gives the key ".*" twice',
    '^tensor "[^"]*" (must be an object|has dtype|shape must be|data_offsets must be|has \\d+ bytes but shape)',
    'overlap tensor',
    'belong to no tensor',
    '^tensors do not match the config',
    '^tensor \\S+ has shape',
  ].join('|'),
);

function truncated(): Malformed[] {
  const lengths = new Set<number>([...Array(16).keys(), 8 + HEADER_LENGTH, valid.length - 1]);
  while (lengths.size < 60) lengths.add(between(16, 8 + HEADER_LENGTH));
  while (lengths.size < 120) lengths.add(between(8 + HEADER_LENGTH, valid.length));
  return [...lengths].map((length) => ({
    what: `cut to ${length} bytes`,
    file: valid.slice(0, length),
    problem: length < 8 ? TOO_SHORT : length < 8 + HEADER_LENGTH ? PAST_THE_END : OUTSIDE,
  }));
}

function headerLengths(): Malformed[] {
  const withLength = (length: bigint): Uint8Array => {
    const file = valid.slice();
    new DataView(file.buffer).setBigUint64(0, length, true);
    return file;
  };
  const cases: Malformed[] = [
    { what: 'header length 0', file: withLength(0n), problem: /^header length is 0: the file has no header/ },
  ];
  const beyond = [valid.length - 7, valid.length, 2 ** 32, 2 ** 53, 2 ** 63, between(valid.length, 2 ** 30)].map(BigInt);
  for (const length of [...beyond, 2n ** 64n - 1n]) {
    cases.push({ what: `header length ${length}, past the end`, file: withLength(length), problem: PAST_THE_END });
  }
  // A little too long: the header takes in data bytes; if they happen to be white space, the buffer comes up short.
  for (let extra = 1; extra <= 12; extra++) {
    cases.push({
      what: `header length ${extra} too big`,
      file: withLength(BigInt(HEADER_LENGTH + extra)),
      problem: new RegExp(`${NOT_TEXT_OR_JSON.source}|${OUTSIDE.source}`),
    });
  }
  // Too short by no more than the padding: the header still parses, and the data buffer starts early.
  for (let fewer = 1; fewer <= PADDING; fewer++) {
    cases.push({
      what: `header length ${fewer} too small, within the padding`,
      file: withLength(BigInt(HEADER_LENGTH - fewer)),
      problem: new RegExp(
        `^the last ${fewer} bytes of the data buffer belong to no tensor \\(after the last tensor, "${literal(names.at(-1)!)}"\\)$`,
      ),
    });
  }
  for (let i = 0; i < 15; i++) {
    const fewer = between(PADDING + 1, HEADER_LENGTH);
    cases.push({
      what: `header length ${fewer} too small`,
      file: withLength(BigInt(HEADER_LENGTH - fewer)),
      problem: NOT_TEXT_OR_JSON,
    });
  }
  return cases;
}

function notJSON(): Malformed[] {
  const text = (header: string): Uint8Array => withHeaderBytes(new TextEncoder().encode(header), good.data);
  const cases: Malformed[] = [];
  for (let i = 0; i < 8; i++) {
    const bytes = randomBytes(HEADER_LENGTH);
    bytes[0] = 0x7b; // "{"
    cases.push({ what: 'random bytes after "{"', file: withHeaderBytes(bytes, good.data), problem: NOT_TEXT_OR_JSON });
  }
  for (let i = 0; i < 8; i++) {
    const bytes = randomBytes(HEADER_LENGTH);
    if (bytes[0] === 0x7b) bytes[0] = 0x7a;
    cases.push({ what: 'random bytes', file: withHeaderBytes(bytes, good.data), problem: NOT_AN_OBJECT });
  }
  const starts = ['[{"a": 1}]', 'null', '"text"', '123', ' {"a": 1}', '\uFEFF{}', 'hello', '<html></html>', 'PK\u0003\u0004'];
  for (const header of starts)
    cases.push({ what: `header ${JSON.stringify(header)}`, file: text(header), problem: NOT_AN_OBJECT });
  const broken = [
    "{'wte.weight': {'dtype': 'F32'}}",
    '{"a": 1,}',
    '{"a": [1, 2}',
    '{"a": NaN}',
    '{"a": 1} {"b": 2}',
    headerText.trimEnd().slice(0, -1),
    headerText.slice(0, between(1, headerText.length - PADDING - 1)),
  ];
  for (const header of broken)
    cases.push({
      what: `header ${JSON.stringify(header.slice(0, 40))}`,
      file: text(header),
      problem: /^header is not valid JSON/,
    });
  // Latin-1 where UTF-8 is expected.
  const latin1 = new TextEncoder().encode('{"wte.weight\u00e9": {}}').filter((byte) => byte !== 0xc3);
  cases.push({
    what: 'a Latin-1 tensor name',
    file: withHeaderBytes(latin1, good.data),
    problem: /^header of \d+ bytes is not UTF-8 text/,
  });
  return cases;
}

function headerFlips(): Malformed[] {
  // Only the tensor entries: any change to them breaks the file, while some changes to the
  // metadata (nHead 2 → 1, a vocabulary letter) leave a different but well-formed model.
  // The writer puts __metadata__ first; the tensors start at the comma after it.
  const from = byteIndex(headerText.indexOf(`,"${names[0]}":`));
  const to = HEADER_LENGTH - PADDING;
  const cases: Malformed[] = [];
  for (let i = 0; i < 60; i++) {
    const file = valid.slice();
    const at = 8 + between(from, to);
    const flip = between(1, 256);
    file[at]! ^= flip;
    cases.push({ what: `header byte ${at} XOR 0x${flip.toString(16)}`, file, problem: DAMAGED_HEADER });
  }
  return cases;
}

function offsetsOutOfRange(): Malformed[] {
  const cases: Malformed[] = [];
  for (let i = 0; i < 10; i++) {
    const name = pick(names);
    const size = sizeOf(good, name);
    const end = DATA_LENGTH + between(1, 1000);
    const problem = new RegExp(
      `^tensor "${literal(name)}" data_offsets \\[${end - size}, ${end}\\] fall outside the ${DATA_LENGTH}-byte data buffer$`,
    );
    cases.push({
      what: `${name} ending at ${end}`,
      file: assemble(editTensor(good, name, { data_offsets: [end - size, end] })),
      problem,
    });
  }
  for (let i = 0; i < 4; i++) {
    const name = pick(names);
    const [begin, end] = entry(good, name).data_offsets;
    cases.push({
      what: `${name} with begin and end swapped`,
      file: assemble(editTensor(good, name, { data_offsets: [end, begin] })),
      problem: new RegExp(`^tensor "${literal(name)}" data_offsets \\[${end}, ${begin}\\] end before they begin$`),
    });
  }
  const malformed: unknown[] = [
    [-4, 8],
    [0.5, 12],
    ['0', '12'],
    [0],
    [0, 12, 24],
    null,
    'all',
    [2 ** 53, 2 ** 53 + 8],
    { begin: 0, end: 12 },
  ];
  for (const offsets of malformed) {
    const name = pick(names);
    cases.push({
      what: `${name} with data_offsets ${JSON.stringify(offsets)}`,
      file: assemble(editTensor(good, name, { data_offsets: offsets })),
      problem: new RegExp(
        `^tensor "${literal(name)}" data_offsets must be \\[begin, end\\], got ${literal(JSON.stringify(offsets) ?? 'undefined')}$`,
      ),
    });
  }
  return cases;
}

const OVERLAP = /^tensor "[^"]+" data_offsets \[\d+, \d+\] overlap tensor "[^"]+", which ends at \d+$/;

function overlapping(): Malformed[] {
  const cases: Malformed[] = [];
  for (let i = 0; i < 15; i++) {
    const k = between(1, names.length);
    const [begin, end] = entry(good, names[k]!).data_offsets;
    const back = between(1, Math.min(begin, end - begin) + 1);
    cases.push({
      what: `${names[k]} moved ${back} bytes back`,
      file: assemble(editTensor(good, names[k]!, { data_offsets: [begin - back, end - back] })),
      problem: OVERLAP,
    });
  }
  // One tensor pointing at another's bytes: same size, same place.
  const bySize = new Map<number, string[]>();
  for (const name of names) bySize.set(sizeOf(good, name), [...(bySize.get(sizeOf(good, name)) ?? []), name]);
  const twins = [...bySize.values()].filter((group) => group.length > 1);
  for (let i = 0; i < 8; i++) {
    const group = pick(twins);
    const [a, b] = [group[0]!, group[between(1, group.length)]!];
    cases.push({
      what: `${b} on ${a}'s bytes`,
      file: assemble(editTensor(good, b, { data_offsets: entry(good, a).data_offsets })),
      problem: OVERLAP,
    });
  }
  return cases;
}

function holes(): Malformed[] {
  const cases: Malformed[] = [];
  for (let i = 0; i < 12; i++) {
    const k = between(0, names.length - 1);
    const at = entry(good, names[k]!).data_offsets[1];
    const gap = between(1, 65);
    cases.push({
      what: `${gap} bytes between ${names[k]} and ${names[k + 1]}`,
      file: assemble(insertBytes(good, at, randomBytes(gap))),
      problem: new RegExp(
        `^bytes ${at} to ${at + gap} of the data buffer belong to no tensor \\(a gap between "${literal(names[k]!)}" and "${literal(names[k + 1]!)}"\\)$`,
      ),
    });
  }
  for (let i = 0; i < 4; i++) {
    const gap = between(1, 65);
    cases.push({
      what: `${gap} bytes before the first tensor`,
      file: assemble(insertBytes(good, 0, randomBytes(gap))),
      problem: new RegExp(
        `^bytes 0 to ${gap} of the data buffer belong to no tensor \\(a gap before "${literal(names[0]!)}"\\)$`,
      ),
    });
  }
  for (let i = 0; i < 6; i++) {
    const extra = between(1, 300);
    cases.push({
      what: `${extra} bytes after the last tensor`,
      file: assemble({ ...good, data: new Uint8Array([...good.data, ...randomBytes(extra)]) }),
      problem: new RegExp(
        `^the last ${extra} bytes of the data buffer belong to no tensor \\(after the last tensor, "${literal(names.at(-1)!)}"\\)$`,
      ),
    });
  }
  return cases;
}

function unsupportedDtypes(): Malformed[] {
  const dtypes: unknown[] = [
    'F64',
    'I64',
    'I32',
    'I16',
    'I8',
    'U8',
    'U16',
    'U32',
    'U64',
    'BOOL',
    'F8_E4M3',
    'F8_E5M2',
    'C64',
    'f32',
    'float32',
    '',
    null,
    32,
  ];
  const dtypeProblem = (name: string, dtype: unknown): RegExp =>
    new RegExp(`^tensor "${literal(name)}" has dtype ${literal(JSON.stringify(dtype))}; supported: F32, F16, BF16$`);
  const cases: Malformed[] = dtypes.map((dtype) => {
    const name = pick(names);
    return {
      what: `${name} as ${JSON.stringify(dtype)}`,
      file: assemble(editTensor(good, name, { dtype })),
      problem: dtypeProblem(name, dtype),
    };
  });
  // Whole files written honestly in another dtype: the first tensor is refused, by name.
  const encoders: [string, number, (view: DataView, at: number, value: number) => void][] = [
    ['F64', 8, (view, at, value) => view.setFloat64(at, value, true)],
    ['I32', 4, (view, at, value) => view.setInt32(at, Math.round(value * 1000), true)],
    ['U8', 1, (view, at, value) => view.setUint8(at, Math.abs(Math.round(value * 100)) % 256)],
    ['I64', 8, (view, at, value) => view.setBigInt64(at, BigInt(Math.round(value * 1000)), true)],
  ];
  for (const [dtype, width, write] of encoders) {
    const parts = structuredClone(good);
    const floats = new DataView(good.data.buffer, good.data.byteOffset);
    const data = new Uint8Array((DATA_LENGTH / 4) * width);
    const view = new DataView(data.buffer);
    for (let i = 0; i < DATA_LENGTH / 4; i++) write(view, i * width, floats.getFloat32(4 * i, true));
    for (const name of names) {
      const [begin, end] = entry(good, name).data_offsets;
      parts.header[name] = { ...parts.header[name], dtype, data_offsets: [(begin / 4) * width, (end / 4) * width] };
    }
    parts.data = data;
    cases.push({ what: `the whole file as ${dtype}`, file: assemble(parts), problem: dtypeProblem(names[0]!, dtype) });
  }
  return cases;
}

const DESCRIBED = literal(`(vocabSize ${config.vocabSize}, blockSize 8, nLayer 2, nHead 2, nEmbd 8, untied)`);

function missingAndExtra(): Malformed[] {
  const cases: Malformed[] = names.map((name) => ({
    what: `without ${name}`,
    file: assemble(removeTensor(good, name)),
    problem: new RegExp(`^tensors do not match the config ${DESCRIBED}: missing ${literal(name)}$`),
  }));
  const extras: [string, number[]][] = [
    ['h.2.ln_1.weight', [8]],
    ['h.0.attn.c_attn.extra', [8, 24]],
    ['lm_head.bias', [config.vocabSize]],
    ['score.weight', [2, 8]],
    ['h.10.mlp.c_fc.weight', [8, 32]],
    ['', [1]],
    [`x${between(0, 1e6)}`, [between(1, 9), between(1, 9)]],
  ];
  for (const [name, shape] of extras) {
    cases.push({
      what: `with an extra ${JSON.stringify(name)}`,
      file: assemble(appendTensor(good, name, shape)),
      problem: new RegExp(`^tensors do not match the config ${DESCRIBED}: unexpected ${literal(name)}$`),
    });
  }
  for (const name of ['wte.weight', 'h.1.ln_2.bias']) {
    cases.push({
      what: `with transformer.${name} beside ${name}`,
      file: assemble(appendTensor(good, `transformer.${name}`, entry(good, name).shape as number[])),
      problem: new RegExp(`^tensor ${literal(name)} appears twice \\(with and without the "transformer\\." prefix\\)$`),
    });
  }
  return cases;
}

function shapes(): Malformed[] {
  const reshapes = (shape: number[]): number[][] => {
    const count = shape.reduce((a, b) => a * b, 1);
    const options = [[count], [1, ...shape], [...shape, 1], [...shape].reverse()];
    return options.filter((option) => option.join() !== shape.join());
  };
  const cases: Malformed[] = [];
  for (let i = 0; i < 20; i++) {
    const name = pick(names);
    const shape = entry(good, name).shape as number[];
    const reshaped = pick(reshapes(shape));
    cases.push({
      what: `${name} as [${reshaped}]`,
      file: assemble(editTensor(good, name, { shape: reshaped })),
      problem: new RegExp(
        `^tensor ${literal(name)} has shape ${literal(JSON.stringify(reshaped))} but the config needs ${literal(JSON.stringify(shape))}$`,
      ),
    });
  }
  // The config in the metadata no longer describes the tensors.
  const configured = (edit: Partial<GPTConfig>): Uint8Array =>
    assemble(withMetadata(good, { llm_playground_config: JSON.stringify({ ...config, ...edit }) }));
  const needs = (name: string, found: number[], needed: number[]): RegExp =>
    new RegExp(
      `^tensor ${literal(name)} has shape ${literal(JSON.stringify(found))} but the config needs ${literal(JSON.stringify(needed))}$`,
    );
  cases.push(
    { what: 'config blockSize 9', file: configured({ blockSize: 9 }), problem: needs('wpe.weight', [8, 8], [9, 8]) },
    { what: 'config blockSize 4', file: configured({ blockSize: 4 }), problem: needs('wpe.weight', [8, 8], [4, 8]) },
    {
      what: 'config vocabSize + 1',
      file: configured({ vocabSize: config.vocabSize + 1 }),
      problem: needs('wte.weight', [config.vocabSize, 8], [config.vocabSize + 1, 8]),
    },
    {
      what: 'config nEmbd 4',
      file: configured({ nEmbd: 4 }),
      problem: needs('wte.weight', [config.vocabSize, 8], [config.vocabSize, 4]),
    },
    {
      what: 'config nLayer 3',
      file: configured({ nLayer: 3 }),
      problem: /^tensors do not match the config \(.*nLayer 3.*\): missing h\.2\.ln_1\.weight, .* and \d+ more$/,
    },
    {
      what: 'config nLayer 1',
      file: configured({ nLayer: 1 }),
      problem: /^tensors do not match the config \(.*nLayer 1.*\): unexpected h\.1\.ln_1\.weight, .* and \d+ more$/,
    },
    {
      what: 'config tied',
      file: configured({ tied: true }),
      problem: /^tensors do not match the config \(.*, tied\): unexpected lm_head\.weight$/,
    },
  );
  return cases;
}

function nonFinite(): Malformed[] {
  const poisons: [string, number][] = [
    ['NaN', 0x7fc00000],
    ['NaN', 0xffc00000],
    ['NaN', 0x7f800001], // signalling
    ['NaN', 0x7fffffff],
    ['Infinity', 0x7f800000],
    ['-Infinity', 0xff800000],
  ];
  const cases: Malformed[] = [];
  for (let i = 0; i < 48; i++) {
    const name = pick(names);
    const [begin, end] = entry(good, name).data_offsets;
    const index = between(0, (end - begin) / 4);
    const [text, bits] = poisons[i % poisons.length]!;
    const parts = structuredClone(good);
    new DataView(parts.data.buffer).setUint32(begin + 4 * index, bits, true);
    cases.push({
      what: `${name}[${index}] = ${text} (0x${bits.toString(16)})`,
      file: assemble(parts),
      problem: new RegExp(`^tensor ${literal(name)} holds ${literal(text)} at index ${index}: the weights are corrupt$`),
    });
  }
  return cases;
}

const TOO_LARGE =
  /^its weights are too large to compute with \(running it on 8 tokens gives (NaN|-?Infinity) where odds should be\), so it could not predict anything$/;

/** Finite weights so large that the forward pass overflows: the issue's two examples, and one layer's bias at random. */
function overflowing(): Malformed[] {
  const filled = (tensors: string[], value: number): Uint8Array => {
    const parts = structuredClone(good);
    for (const name of tensors) {
      const [begin, end] = entry(parts, name).data_offsets;
      new Float32Array(parts.data.buffer, parts.data.byteOffset + begin, (end - begin) / 4).fill(value);
    }
    return assemble(parts);
  };
  const biases = names.filter((name) => name.endsWith('.attn.c_attn.bias'));
  const layer = between(0, config.nLayer);
  return [
    { what: 'every ln_f.weight 3.4e38', file: filled(['ln_f.weight'], 3.4e38), problem: TOO_LARGE },
    { what: 'every c_attn.bias 3e38', file: filled(biases, 3e38), problem: TOO_LARGE },
    { what: `every h.${layer}.attn.c_attn.bias 3e38`, file: filled([`h.${layer}.attn.c_attn.bias`], 3e38), problem: TOO_LARGE },
  ];
}

/** What the header's parse is bounded by: its nesting and its number of tensors. Each message quotes only a short excerpt. */
function headerBounds(): Malformed[] {
  const withHeader = (text: string): Uint8Array => withHeaderBytes(new TextEncoder().encode(text), good.data);
  const nested = (depth: number): string => `{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
  const TOO_DEEP = /^header nests more than 64 levels deep, where a safetensors header needs 3$/;
  const manyTensors = (count: number): string =>
    `{${Array.from({ length: count }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',')}}`;
  // A shape padded with ones holds as many values: it passes the size checks and must still be quoted short.
  const ones = (count: number, dtype = 'F32'): Parts =>
    editTensor(good, 'ln_f.weight', { shape: [...new Array<number>(count).fill(1), config.nEmbd], dtype });
  const TOO_LONG =
    /^header has a list of more than 64 entries \(in "shape" of "ln_f\.weight"\), where a shape has one per dimension$/;
  return [
    { what: 'nested 100,000 deep', file: withHeader(nested(100_000)), problem: TOO_DEEP },
    { what: 'nested 65 deep', file: withHeader(nested(65)), problem: TOO_DEEP },
    // 64 levels are read, and refused for what they are.
    {
      what: 'nested 64 deep',
      file: withHeader(nested(64)),
      problem: /^tensor "x" must be an object with dtype, shape and data_offsets, got \[{20}\[*… \(1 entry\)$/,
    },
    {
      what: '10,001 tensors',
      file: withHeader(manyTensors(10_001)),
      problem: /^header lists more than 10,000 tensors, the most this reads$/,
    },
    { what: 'a shape of 5,000,001 entries', file: assemble(ones(5_000_000)), problem: TOO_LONG },
    { what: 'a shape of 65 entries', file: assemble(ones(64)), problem: TOO_LONG },
    // 64 are read, and quoted short where they are wrong.
    {
      what: 'a shape of 64 entries',
      file: assemble(ones(63)),
      problem: /^tensor ln_f\.weight has shape \[1(,1)+,?… \(64 entries\) but the config needs \[8\]$/,
    },
    {
      what: 'a shape of 64 entries and the wrong byte count',
      file: assemble(ones(63, 'F16')),
      problem: /^tensor "ln_f\.weight" has 32 bytes but shape \[1(,1)+,?… \(64 entries\) of F16 needs 16$/,
    },
    {
      what: 'a dtype of a million characters',
      file: assemble(editTensor(good, 'wte.weight', { dtype: 'F'.repeat(1_000_000) })),
      problem: /^tensor "wte\.weight" has dtype "F+… \(1,000,000 characters\); supported: F32, F16, BF16$/,
    },
    {
      what: 'a tensor name of a million characters',
      file: assemble(appendTensor(good, 'n'.repeat(1_000_000), [1])),
      problem: /^tensors do not match the config \(.*\): unexpected n+…$/,
    },
  ];
}

function overTheLimit(): Malformed[] {
  const limits = [0, 8, valid.length - 1, ...Array.from({ length: 9 }, () => between(1, valid.length))];
  return limits.map((maxBytes) => ({
    what: `a limit of ${maxBytes} bytes`,
    file: valid,
    maxBytes,
    problem: new RegExp(`^it is ${valid.length} bytes, over the ${maxBytes} bytes limit$`),
  }));
}

function tokenizers(): Malformed[] {
  const metadata = (edit: Record<string, string | undefined>): Uint8Array => assemble(withMetadata(good, edit));
  const vocabulary = (vocab: unknown[]): string => JSON.stringify({ type: 'char', vocab });
  const invalid = (reason: string): RegExp => new RegExp(`^the tokenizer in the file's metadata is invalid: ${reason}`);
  const ours = [...tokenizer.vocab];
  const cases: Malformed[] = [
    { what: 'no tokenizer', file: metadata({ tokenizer: undefined }), problem: /^it has no tokenizer in its metadata/ },
    {
      what: 'neither config nor tokenizer (a Hugging Face file)',
      file: metadata({ tokenizer: undefined, llm_playground_config: undefined }),
      problem:
        /^it has no playground config or tokenizer in its metadata, as with a Hugging Face GPT-2 file\. .*\.safetensors exported from the playground/,
    },
    {
      what: 'a tokenizer with a duplicated character',
      file: metadata({ tokenizer: vocabulary([...ours.slice(0, -1), ours[1]!]) }),
      problem: invalid(`token ${literal(JSON.stringify(ours[1]))} appears twice in the vocabulary`),
    },
    {
      what: 'a tokenizer without the unknown token first',
      file: metadata({ tokenizer: vocabulary([...ours.slice(1), 'Z']) }),
      problem: invalid('tokenizer vocabulary must start with the unknown token'),
    },
    {
      what: 'a BPE tokenizer',
      file: metadata({ tokenizer: JSON.stringify({ type: 'bpe', vocab: ours }) }),
      problem: invalid('tokenizer must be'),
    },
    { what: 'a tokenizer that is a number', file: metadata({ tokenizer: '5' }), problem: invalid('tokenizer must be') },
    {
      what: 'a tokenizer with a two-letter token',
      file: metadata({ tokenizer: vocabulary([...ours.slice(0, -1), 'ab']) }),
      problem: invalid(`token ${ours.length - 1} is not a single character`),
    },
    // The issue's entries that slipped through or broke the check, and a long one: each named by its index, quoted short.
    ...(
      [
        [['abc'], '["abc"]', 'is not a string: \\["abc"\\]'],
        [null, 'null', 'is not a string: null'],
        [5, '5', 'is not a string: 5'],
        ['ab', '"ab"', 'is not a single character: "ab"'],
        ['', 'empty', 'is not a single character: ""'],
        ['x'.repeat(100_000), '100,000 x', 'is not a single character: "x+… \\(100,000 characters\\)'],
        ['e\u0301', 'e and a combining accent', 'is not a single character: "e\u0301"'],
      ] as const
    ).map(([token, what, reason]) => {
      const index = between(1, ours.length);
      const vocab: unknown[] = [...ours];
      vocab[index] = token;
      return {
        what: `token ${index} ${what}`,
        file: metadata({ tokenizer: vocabulary(vocab) }),
        problem: invalid(`token ${index} ${reason}$`),
      };
    }),
    // Word pieces (BPE): the same vocabulary read as bytes, with merges; each broken entry named by its index.
    ...(
      [
        ['\\q', 'a backslash that escapes nothing', 'is not bytes in readable form.*"\\\\\\\\q"'],
        ['\\x41', '\\x41 for a byte that reads as text', 'is not bytes in readable form'],
        ['\ud800', 'a lone surrogate', 'is not bytes in readable form'],
        ['', 'empty', 'is empty'],
        [7, '7', 'is not a string: 7'],
      ] as const
    ).map(([token, what, reason]) => {
      const index = between(1, ours.length);
      const vocab: unknown[] = [...ours];
      vocab[index] = token;
      return {
        what: `BPE token ${index} ${what}`,
        file: metadata({ tokenizer: JSON.stringify({ type: 'bpe', vocab, merges: [] }) }),
        problem: invalid(`token ${index} ${reason}`),
      };
    }),
    {
      what: 'a BPE merge of a token not in the vocabulary',
      file: metadata({
        tokenizer: JSON.stringify({
          type: 'bpe',
          vocab: ours,
          merges: [
            [ours[1], ours[2]],
            [ours[1], '\u{1F600}'],
          ],
        }),
      }),
      problem: invalid(`merge 0 makes ${literal(JSON.stringify(ours[1]! + ours[2]!))}, which is not in the vocabulary`),
    },
    {
      what: 'BPE merges that are not pairs',
      file: metadata({ tokenizer: JSON.stringify({ type: 'bpe', vocab: ours, merges: [[ours[1]]] }) }),
      problem: invalid('merge 0 is not a pair of tokens'),
    },
    {
      what: 'a tokenizer that is not JSON',
      file: metadata({ tokenizer: vocabulary(ours).slice(0, -3) }),
      problem: /^the tokenizer in the file's metadata \(__metadata__ "tokenizer"\) is not valid JSON$/,
    },
  ];
  for (const size of [1, 2, 5, config.vocabSize - 1, config.vocabSize + 1, config.vocabSize + between(2, 40)]) {
    const vocab = [UNKNOWN_TOKEN, ...Array.from({ length: size - 1 }, (_, i) => String.fromCodePoint(0x4e00 + i))];
    cases.push({
      what: `a tokenizer of ${size} tokens`,
      file: metadata({ tokenizer: vocabulary(vocab) }),
      problem: new RegExp(`^the tokenizer has ${size} tokens but the config's vocabSize is ${config.vocabSize}$`),
    });
  }
  // A non-string metadata value is refused by the parser itself.
  const parts = structuredClone(good);
  parts.header.__metadata__.tokenizer = tokenizer.toJSON();
  cases.push({
    what: 'a tokenizer as an object, not a string',
    file: assemble(parts),
    problem: /^__metadata__ "tokenizer" must be a string, got \{/,
  });
  return cases;
}

function configs(): Malformed[] {
  const configured = (value: string | undefined): Uint8Array => assemble(withMetadata(good, { llm_playground_config: value }));
  const invalid = (reason: string): RegExp => new RegExp(`^the config in the file's metadata is invalid: ${reason}`);
  const json = (edit: Record<string, unknown>): string => JSON.stringify({ ...config, ...edit });
  return [
    { what: 'no config', file: configured(undefined), problem: /^it has a tokenizer but no playground config in its metadata$/ },
    {
      what: 'config not JSON',
      file: configured(json({}).slice(0, -1)),
      problem: /^the config in the file's metadata \(__metadata__ "llm_playground_config"\) is not valid JSON$/,
    },
    {
      what: 'config nHead 3',
      file: configured(json({ nHead: 3 })),
      problem: invalid(literal('config.nEmbd (8) must be divisible by config.nHead (3)')),
    },
    {
      what: 'config nLayer 0',
      file: configured(json({ nLayer: 0 })),
      problem: invalid('config.nLayer must be a positive integer, got 0'),
    },
    {
      what: 'config nEmbd -8',
      file: configured(json({ nEmbd: -8 })),
      problem: invalid('config.nEmbd must be a positive integer, got -8'),
    },
    {
      what: 'config blockSize 7.5',
      file: configured(json({ blockSize: 7.5 })),
      problem: invalid(literal('config.blockSize must be a positive integer, got 7.5')),
    },
    {
      what: 'config vocabSize "27"',
      file: configured(json({ vocabSize: String(config.vocabSize) })),
      problem: invalid('config.vocabSize must be a positive integer'),
    },
    { what: 'config tied "yes"', file: configured(json({ tied: 'yes' })), problem: invalid('config.tied must be true or false') },
    { what: 'config {}', file: configured('{}'), problem: invalid('config.vocabSize must be a positive integer, got undefined') },
    {
      what: 'config null',
      file: configured('null'),
      problem: invalid('config.vocabSize must be a positive integer, got undefined'),
    },
    {
      what: 'config with a billion layers',
      file: configured(json({ nLayer: 1e9 })),
      problem: /^the config \(.*nLayer 1000000000.*\) needs \d+ weights, more than the file's \d+ bytes of tensors hold$/,
    },
    {
      what: 'config with a huge vocabulary',
      file: configured(json({ vocabSize: 2 ** 40 })),
      problem: /^the config \(vocabSize 1099511627776.*\) needs \d+ weights, more than the file's \d+ bytes of tensors hold$/,
    },
  ];
}

const CATEGORIES: [string, () => Malformed[]][] = [
  ['truncated', truncated],
  ['header length wrong', headerLengths],
  ['header not JSON', notJSON],
  ['header byte flipped', headerFlips],
  ['offsets out of range', offsetsOutOfRange],
  ['offsets overlapping', overlapping],
  ['holes in the data', holes],
  ['unsupported dtypes', unsupportedDtypes],
  ['missing and extra tensors', missingAndExtra],
  ['shapes not matching the config', shapes],
  ['NaN and infinite weights', nonFinite],
  ['weights too large to compute with', overflowing],
  ['header bounds', headerBounds],
  ['over the size limit', overTheLimit],
  ['tokenizer missing or mismatched', tokenizers],
  ['config metadata invalid', configs],
];

describe(`import fuzz: malformed .safetensors files (seed ${SEED})`, () => {
  const counts: [string, number][] = [];

  /** The good file is untouched and still imports bit for bit. */
  const expectGoodStillImports = (): void => {
    expect(Array.from(valid)).to.deep.equal(Array.from(pristine));
    const model = importCheckpoint(valid);
    expect(model.config).to.deep.equal(config);
    expect(model.tokenizer.vocab).to.deep.equal(tokenizer.vocab);
    expect(bitsOf(model.params.data)).to.deep.equal(bitsOf(params.data));
  };

  it('the good file imports, bit for bit', expectGoodStillImports);

  for (const [category, make] of CATEGORIES) {
    it(`refuses every file: ${category}`, () => {
      const files = make();
      const wrong: string[] = [];
      for (const { what, file, problem, maxBytes } of files) {
        const bytes = file.slice();
        try {
          importCheckpoint(file, { maxBytes });
          wrong.push(`${what}: imported`);
        } catch (error) {
          const message = (error as Error).message;
          const reason = message.slice(IMPORT_ERROR_PREFIX.length);
          if (!message.startsWith(IMPORT_ERROR_PREFIX) || !problem.test(reason))
            wrong.push(`${what}: "${message}" does not match ${problem}`);
        }
        if (file.some((byte, i) => byte !== bytes[i])) wrong.push(`${what}: the file's bytes were changed`);
      }
      expect(wrong, `seed ${SEED}`).to.deep.equal([]);
      counts.push([category, files.length]);
      expectGoodStillImports();
    });
  }

  it('through the service, with a saved model in IndexedDB: every file refused, the store and the model in use unchanged', async () => {
    const service = createEngine({
      findGPU: async () => null,
      library: new ModelLibrary(new CheckpointStore({ dbName: `test-${crypto.randomUUID()}` })),
    });
    const good = await service.library.import({ kind: 'file', file: new File([valid.slice()], 'good.safetensors') });
    const listBefore = await service.library.list();
    const prompt = TEXT.slice(0, 1 + random.int(TEXT.length - 1));
    const oddsBefore = (await service.model.predict(prompt, { temperature: 1 })).probs;
    // The size-limit files are only over the limits their tests set, far below the service's.
    const files = CATEGORIES.filter(([category]) => category !== 'over the size limit').flatMap(([, make]) => make());
    const imported: string[] = [];
    for (const { what, file } of files) {
      const refused = await service.library.import({ kind: 'file', file: new File([file.slice()], `${what}.safetensors`) }).then(
        () => false,
        () => true,
      );
      if (!refused) imported.push(what);
    }
    expect(imported).to.deep.equal([]);
    const listAfter = await service.library.list();
    expect(listAfter.models).to.deep.equal(listBefore.models);
    expect(listAfter.activeId).to.equal(listBefore.activeId);
    expect(await service.model.info()).to.deep.equal(good);
    expect(Array.from((await service.model.predict(prompt, { temperature: 1 })).probs)).to.deep.equal(Array.from(oddsBefore));
    console.log(
      `import fuzz (seed ${SEED}): ${files.length} malformed files refused by the service, its store and model unchanged`,
    );
  });

  after(() => {
    const total = counts.reduce((sum, [, count]) => sum + count, 0);
    console.log(
      `import fuzz (seed ${SEED}): ${total} malformed files refused; ${counts.map(([c, n]) => `${c} ${n}`).join(', ')}`,
    );
    expect(total).to.be.greaterThan(300);
  });
});
