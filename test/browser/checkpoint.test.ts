import { expect } from 'chai';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { createParameters, type ParameterTensors } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import {
  importCheckpoint,
  IMPORT_ERROR_PREFIX,
  MAX_IMPORT_BYTES,
  readCheckpoint,
  writeCheckpoint,
  type HFConfigJSON,
} from '../../workers/engine/checkpoint.ts';
import {
  bfloat16ToFloat32,
  float16ToFloat32,
  parseSafetensors,
  readTensor,
  writeSafetensors,
} from '../../workers/engine/safetensors.ts';

// ---- helpers that build and inspect files byte by byte, independently of the code under test ----

interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  return bytes;
}

function u16Bytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(2 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setUint16(2 * i, v, true));
  return bytes;
}

/** A safetensors file assembled by hand: no padding, tensors packed in the order given. */
function buildFile(tensors: RawTensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  return withHeader(
    JSON.stringify(header),
    tensors.map((t) => t.bytes),
    offset,
  );
}

function withHeader(headerText: string, chunks: Uint8Array[] = [], dataLength = 0): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + json.length + dataLength);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  let at = 8 + json.length;
  for (const chunk of chunks) {
    file.set(chunk, at);
    at += chunk.length;
  }
  return file;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON that the tests reshape at will
function headerOf(file: Uint8Array): { length: number; json: Record<string, any> } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { length, json: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) };
}

/** Element `index` of tensor `name`, read straight from the file's bytes. */
function f32At(file: Uint8Array, name: string, index: number): number {
  const { length, json } = headerOf(file);
  const begin = 8 + length + json[name].data_offsets[0];
  return new DataView(file.buffer, file.byteOffset).getFloat32(begin + 4 * index, true);
}

const bitsOf = (values: Float32Array): Uint32Array => new Uint32Array(values.buffer, values.byteOffset, values.length);

function randomParams(config: GPTConfig, seed: number): ParameterTensors {
  const params = createParameters(config);
  const random = new Random(seed);
  random.fillNormal(params.data, 0.5);
  return params;
}

const TEXT = 'hello, checkpoint world';

// ---- round trips ----

describe('checkpoint round trip', () => {
  for (const tied of [true, false]) {
    it(`write → read gives bit-identical params, config and tokenizer (${tied ? 'tied' : 'untied'})`, () => {
      const tokenizer = CharTokenizer.fromText(TEXT);
      const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 7, nLayer: 2, nHead: 2, nEmbd: 6, tied };
      const params = randomParams(config, tied ? 11 : 12);
      const bytes = writeCheckpoint({ config, params, tokenizer });
      const loaded = readCheckpoint(bytes);
      expect(loaded.config).to.deep.equal(config);
      expect(Array.from(bitsOf(loaded.params.data))).to.deep.equal(Array.from(bitsOf(params.data)));
      expect(loaded.tokenizer!.vocab).to.deep.equal(tokenizer.vocab);
    });
  }

  it('write → read keeps a BPE tokenizer: its vocabulary, merges and encodings', () => {
    const tokenizer = BpeTokenizer.train(`${TEXT} — naïve 🎉\n`.repeat(20), 270);
    const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 7, nLayer: 1, nHead: 2, nEmbd: 6, tied: true };
    const loaded = readCheckpoint(writeCheckpoint({ config, params: randomParams(config, 13), tokenizer }));
    expect(loaded.tokenizer!.type).to.equal('bpe');
    expect(loaded.tokenizer!.toJSON()).to.deep.equal(tokenizer.toJSON());
    for (const text of [TEXT, ' naïve 🎉 world', '\ud800 ½ \\x41']) {
      expect(loaded.tokenizer!.encode(text)).to.deep.equal(tokenizer.encode(text));
    }
  });

  it('writes Hugging Face GPT-2 names and Conv1D layouts, checked byte by byte', () => {
    const C = 6;
    const tokenizer = CharTokenizer.fromText(TEXT);
    const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 7, nLayer: 2, nHead: 2, nEmbd: C, tied: false };
    const params = randomParams(config, 21);
    const file = writeCheckpoint({ config, params, tokenizer });
    const { length, json } = headerOf(file);

    expect(length % 8, 'header padded to 8 bytes').to.equal(0);
    // Hugging Face suffix → our stacked view, written out independently of checkpoint.ts's table: a table, four entries a line.
    // prettier-ignore
    const perLayer: [string, keyof ParameterTensors][] = [
      ['ln_1.weight', 'ln1w'], ['ln_1.bias', 'ln1b'], ['attn.c_attn.weight', 'qkvw'], ['attn.c_attn.bias', 'qkvb'],
      ['attn.c_proj.weight', 'attprojw'], ['attn.c_proj.bias', 'attprojb'], ['ln_2.weight', 'ln2w'], ['ln_2.bias', 'ln2b'],
      ['mlp.c_fc.weight', 'fcw'], ['mlp.c_fc.bias', 'fcb'], ['mlp.c_proj.weight', 'fcprojw'], ['mlp.c_proj.bias', 'fcprojb'],
    ];
    // The tensors outside the layers, the same way: a table on one line.
    // prettier-ignore
    const global: [string, keyof ParameterTensors][] = [
      ['wte.weight', 'wte'], ['wpe.weight', 'wpe'], ['ln_f.weight', 'lnfw'], ['ln_f.bias', 'lnfb'], ['lm_head.weight', 'lmHead'],
    ];
    const { __metadata__: metadata, ...tensors } = json;
    const expectedNames = [...global.map(([name]) => name), ...[0, 1].flatMap((i) => perLayer.map(([s]) => `h.${i}.${s}`))];
    expect(Object.keys(tensors).sort()).to.deep.equal(expectedNames.sort());
    expect(metadata.format).to.equal('pt');
    expect(tensors['wte.weight'].shape).to.deep.equal([config.vocabSize, C]);
    expect(tensors['h.1.attn.c_attn.weight'].shape).to.deep.equal([C, 3 * C]);
    expect(tensors['h.0.mlp.c_fc.weight'].shape).to.deep.equal([C, 4 * C]);
    expect(tensors['h.0.mlp.c_proj.weight'].shape).to.deep.equal([4 * C, C]);
    expect(tensors['h.1.ln_2.bias'].shape).to.deep.equal([C]);

    // Every value of every tensor, read from the file's bytes, equals its place in the flat views.
    const check = (name: string, source: Float32Array, start: number) => {
      const size = tensors[name].shape.reduce((a: number, b: number) => a * b, 1);
      for (let i = 0; i < size; i++) {
        if (f32At(file, name, i) !== source[start + i]) expect.fail(`${name}[${i}] differs`);
      }
    };
    for (const [name, view] of global) check(name, params[view] as Float32Array, 0);
    for (const [suffix, view] of perLayer) {
      const stacked = params[view] as Float32Array;
      for (const layer of [0, 1]) check(`h.${layer}.${suffix}`, stacked, (layer * stacked.length) / 2);
    }
    // Row r, column c of layer 1's c_attn is qkvw[1][r][c]: Conv1D layout, no transpose.
    expect(f32At(file, 'h.1.attn.c_attn.weight', 2 * 3 * C + 11)).to.equal(params.qkvw[(C + 2) * 3 * C + 11]);
  });

  it('refuses to write a tokenizer that does not fit the vocabulary', () => {
    const tokenizer = CharTokenizer.fromText(TEXT);
    const config: GPTConfig = { vocabSize: tokenizer.size + 1, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 2, tied: true };
    expect(() => writeCheckpoint({ config, params: randomParams(config, 1), tokenizer })).to.throw(
      `checkpoint: the tokenizer has ${tokenizer.size} tokens but the config's vocabSize is ${tokenizer.size + 1}`,
    );
  });
});

// ---- half-precision decoding ----

describe('F16 and BF16 decoding', () => {
  it('decodes half floats like the IEEE tables', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125], // 1 + 341/1024 times 2^-2
      [0x7bff, 65504], // largest finite half
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0000, 0],
    ];
    for (const [bits, value] of cases) expect(float16ToFloat32(bits), bits.toString(16)).to.equal(value);
    expect(Object.is(float16ToFloat32(0x8000), -0)).to.equal(true);
    expect(float16ToFloat32(0x7e00)).to.be.NaN;
  });

  it('decodes bfloat16 as the top half of a float32', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc040, -3],
      [0x4049, 3.140625], // 1.5703125 × 2
      [0x0001, 2 ** -133], // smallest subnormal
      [0x7f80, Infinity],
      [0xff80, -Infinity],
    ];
    for (const [bits, value] of cases) expect(bfloat16ToFloat32(bits), bits.toString(16)).to.equal(value);
    expect(bfloat16ToFloat32(0x7fc0)).to.be.NaN;
  });

  it('reads F16 and BF16 tensors from a file into float32', () => {
    const file = buildFile([
      { name: 'half', dtype: 'F16', shape: [2, 2], bytes: u16Bytes([0x3c00, 0xc000, 0x0001, 0x3800]) },
      { name: 'brain', dtype: 'BF16', shape: [3], bytes: u16Bytes([0x3f80, 0xc040, 0x3f00]) },
    ]);
    const parsed = parseSafetensors(file);
    expect(Array.from(readTensor(parsed, 'half'))).to.deep.equal([1, -2, 2 ** -24, 0.5]);
    expect(Array.from(readTensor(parsed, 'brain'))).to.deep.equal([1, -3, 0.5]);
  });
});

// ---- a Hugging Face GPT-2 file, written by hand ----

const HF_CONFIG: HFConfigJSON = { vocab_size: 5, n_positions: 4, n_embd: 4, n_layer: 1, n_head: 2 };

/** The tensors of GPT2LMHeadModel.state_dict() for HF_CONFIG, as [name, shape]. */
const HF_TENSORS: [string, number[]][] = [
  ['transformer.wte.weight', [5, 4]],
  ['transformer.wpe.weight', [4, 4]],
  ['transformer.h.0.ln_1.weight', [4]],
  ['transformer.h.0.ln_1.bias', [4]],
  ['transformer.h.0.attn.bias', [1, 1, 4, 4]],
  ['transformer.h.0.attn.masked_bias', []],
  ['transformer.h.0.attn.c_attn.weight', [4, 12]],
  ['transformer.h.0.attn.c_attn.bias', [12]],
  ['transformer.h.0.attn.c_proj.weight', [4, 4]],
  ['transformer.h.0.attn.c_proj.bias', [4]],
  ['transformer.h.0.ln_2.weight', [4]],
  ['transformer.h.0.ln_2.bias', [4]],
  ['transformer.h.0.mlp.c_fc.weight', [4, 16]],
  ['transformer.h.0.mlp.c_fc.bias', [16]],
  ['transformer.h.0.mlp.c_proj.weight', [16, 4]],
  ['transformer.h.0.mlp.c_proj.bias', [4]],
  ['transformer.ln_f.weight', [4]],
  ['transformer.ln_f.bias', [4]],
];

/** Tensor k's element i holds 1000·(k+1) + i, so every value says where it came from. */
const marker = (k: number, i: number): number => 1000 * (k + 1) + i;

function hfFile(
  tensors: [string, number[]][] = HF_TENSORS,
  edit: (name: string, values: Float32Array) => void = () => {},
): Uint8Array {
  return buildFile(
    tensors.map(([name, shape], k) => {
      const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => marker(k, i));
      edit(name, values);
      return { name, dtype: 'F32', shape, bytes: f32Bytes(values) };
    }),
  );
}

const indexOf = (name: string): number => HF_TENSORS.findIndex(([n]) => n === name);

describe('reading a Hugging Face GPT-2 file', () => {
  it('puts each tensor in its place, ignoring the mask buffers', () => {
    const { config, params, tokenizer } = readCheckpoint(hfFile(), { config: HF_CONFIG });
    expect(config).to.deep.equal({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 4, tied: true });
    expect(tokenizer).to.equal(undefined);
    const wte = indexOf('transformer.wte.weight');
    expect(params.wte[2 * 4 + 3]).to.equal(marker(wte, 11));
    expect(params.wpe[15]).to.equal(marker(indexOf('transformer.wpe.weight'), 15));
    expect(params.qkvw[1 * 12 + 7]).to.equal(marker(indexOf('transformer.h.0.attn.c_attn.weight'), 19));
    expect(params.qkvb[11]).to.equal(marker(indexOf('transformer.h.0.attn.c_attn.bias'), 11));
    expect(params.attprojw[5]).to.equal(marker(indexOf('transformer.h.0.attn.c_proj.weight'), 5));
    expect(params.ln1b[1]).to.equal(marker(indexOf('transformer.h.0.ln_1.bias'), 1));
    expect(params.ln2b[2]).to.equal(marker(indexOf('transformer.h.0.ln_2.bias'), 2));
    expect(params.fcw[3 * 16 + 15]).to.equal(marker(indexOf('transformer.h.0.mlp.c_fc.weight'), 63));
    expect(params.fcprojw[10 * 4 + 1]).to.equal(marker(indexOf('transformer.h.0.mlp.c_proj.weight'), 41));
    expect(params.lnfw[0]).to.equal(marker(indexOf('transformer.ln_f.weight'), 0));
    expect(params.lnfb[3]).to.equal(marker(indexOf('transformer.ln_f.bias'), 3));
  });

  it('takes an lm_head.weight outside the transformer prefix to mean untied', () => {
    const tensors: [string, number[]][] = [...HF_TENSORS, ['lm_head.weight', [5, 4]]];
    const { config, params } = readCheckpoint(hfFile(tensors), { config: HF_CONFIG });
    expect(config.tied).to.equal(false);
    expect(params.lmHead[19]).to.equal(marker(tensors.length - 1, 19));
  });

  it('names what is missing, unexpected or the wrong shape', () => {
    const without = HF_TENSORS.filter(([n]) => n !== 'transformer.h.0.ln_2.bias');
    expect(() => readCheckpoint(hfFile(without), { config: HF_CONFIG })).to.throw(/missing h\.0\.ln_2\.bias$/);
    const extra: [string, number[]][] = [...HF_TENSORS, ['transformer.h.1.ln_1.weight', [4]]];
    expect(() => readCheckpoint(hfFile(extra), { config: HF_CONFIG })).to.throw(/: unexpected h\.1\.ln_1\.weight$/);
    expect(() => readCheckpoint(hfFile(), { config: { ...HF_CONFIG, tie_word_embeddings: false } })).to.throw(
      /missing lm_head\.weight/,
    );
    expect(() => readCheckpoint(hfFile(), { config: { ...HF_CONFIG, n_positions: 3 } })).to.throw(
      'checkpoint: tensor transformer.wpe.weight has shape [4,4] but the config needs [3,4]',
    );
  });

  it('rejects NaN and infinite weights with the tensor name', () => {
    const poison = (value: number) => (name: string, values: Float32Array) => {
      if (name === 'transformer.h.0.mlp.c_fc.bias') values[3] = value;
    };
    expect(() => readCheckpoint(hfFile(HF_TENSORS, poison(NaN)), { config: HF_CONFIG })).to.throw(
      'checkpoint: tensor transformer.h.0.mlp.c_fc.bias holds NaN at index 3',
    );
    expect(() => readCheckpoint(hfFile(HF_TENSORS, poison(-Infinity)), { config: HF_CONFIG })).to.throw(
      'tensor transformer.h.0.mlp.c_fc.bias holds -Infinity at index 3',
    );
  });

  it('rejects finite weights whose forward pass overflows, as the CLI reads the file', () => {
    const huge = (name: string, values: Float32Array) => {
      if (name === 'transformer.ln_f.weight') values.fill(3.4e38);
    };
    expect(() => readCheckpoint(hfFile(HF_TENSORS, huge), { config: HF_CONFIG })).to.throw(
      /^checkpoint: its weights are too large to compute with \(running it on 4 tokens gives (NaN|-?Infinity) where odds/,
    );
  });

  it('needs a config when the file has none, and rejects one that disagrees with the file', () => {
    expect(() => readCheckpoint(hfFile())).to.throw('checkpoint: the file has no config in its metadata');
    const tokenizer = CharTokenizer.fromText('abcd');
    const config: GPTConfig = { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 4, tied: false };
    const ours = writeCheckpoint({ config, params: randomParams(config, 3), tokenizer });
    expect(readCheckpoint(ours, { config: { ...HF_CONFIG, tie_word_embeddings: false } }).config).to.deep.equal(config);
    expect(() => readCheckpoint(ours, { config: { ...HF_CONFIG, tie_word_embeddings: true } })).to.throw(
      /the file's own config \(.*untied\) differs/,
    );
  });

  it('rejects architectures this engine does not build', () => {
    expect(() => readCheckpoint(hfFile(), { config: { ...HF_CONFIG, n_inner: 8 } })).to.throw(/n_inner 8 is not supported/);
    expect(() => readCheckpoint(hfFile(), { config: { ...HF_CONFIG, activation_function: 'relu' } })).to.throw(
      /activation_function "relu" is not supported/,
    );
  });
});

// ---- malformed files ----

describe('safetensors validation', () => {
  const good = writeSafetensors([{ name: 'x', shape: [3], data: new Float32Array([1, 2, 3]) }]);

  it('round-trips the generic writer', () => {
    const parsed = parseSafetensors(good);
    expect(parsed.tensors.get('x')!.shape).to.deep.equal([3]);
    expect(Array.from(readTensor(parsed, 'x'))).to.deep.equal([1, 2, 3]);
  });

  const cases: [string, Uint8Array, string | RegExp][] = [
    [
      'a file shorter than 8 bytes',
      new Uint8Array(5),
      'safetensors: file is 5 bytes, too short to hold the 8-byte header length',
    ],
    [
      'a header length past the end',
      good.subarray(0, 20),
      /safetensors: header length \d+ runs past the end of the 20-byte file/,
    ],
    ['a header that is not JSON', withHeader('{"x": '), /safetensors: header is not valid JSON/],
    [
      'a header that does not start with "{"',
      withHeader('[1, 2]'),
      'safetensors: header must start with "{" but starts with byte 0x5b',
    ],
    ['a header length of 0', withHeader(''), 'safetensors: header length is 0: the file has no header'],
    [
      'a header that is not UTF-8',
      withHeader('{"x": "ab"}').map((byte, i) => (i === 8 + 7 ? 0xff : byte)),
      /safetensors: header of \d+ bytes is not UTF-8 text/,
    ],
    [
      'a tensor given twice',
      withHeader(
        '{"x": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "x": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}',
      ),
      'safetensors: header gives the key "x" twice',
    ],
    [
      'a field given twice inside a tensor',
      withHeader('{"x": {"dtype": "F32", "shape": [0], "dtype": "F16", "data_offsets": [0, 0]}}'),
      'safetensors: header gives the key "dtype" twice in "x"',
    ],
    [
      'a tensor entry that is not an object',
      withHeader('{"x": [1]}'),
      'safetensors: tensor "x" must be an object with dtype, shape and data_offsets, got [1]',
    ],
    [
      'offsets beyond the data',
      buildFile([{ name: 'x', dtype: 'F32', shape: [3], bytes: f32Bytes([1, 2, 3]) }]).subarray(0, -4),
      'safetensors: tensor "x" data_offsets [0, 12] fall outside the 8-byte data buffer',
    ],
    [
      'a size that does not match the shape',
      buildFile([{ name: 'x', dtype: 'F32', shape: [3], bytes: f32Bytes([1, 2]) }]),
      'safetensors: tensor "x" has 8 bytes but shape [3] of F32 needs 12',
    ],
    [
      'an unsupported dtype',
      buildFile([{ name: 'ids', dtype: 'I64', shape: [1], bytes: new Uint8Array(8) }]),
      'safetensors: tensor "ids" has dtype "I64"; supported: F32, F16, BF16',
    ],
    ['non-string metadata', withHeader('{"__metadata__": {"n": 3}}'), 'safetensors: __metadata__ "n" must be a string, got 3'],
  ];
  for (const [what, file, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(file)).to.throw(message);
    });
  }

  it('tells escaped keys from plain ones when looking for keys given twice', () => {
    // "\u0078" is "x": the same key spelled two ways.
    const twice = withHeader('{"x": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "\\u0078": {}}');
    expect(() => parseSafetensors(twice)).to.throw('safetensors: header gives the key "x" twice');
    // Equal strings as values, or in different objects, are fine.
    const fine = withHeader(
      '{"__metadata__": {"a": "F32", "b": "F32"}, "a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}}',
    );
    expect(parseSafetensors(fine).metadata).to.deep.equal({ a: 'F32', b: 'F32' });
  });

  /** A header with the given data_offsets for three 3-float tensors a, b, c, over a 36-byte buffer. */
  const withOffsets = (offsets: Record<string, [number, number]>, dataLength = 36): Uint8Array => {
    const header = Object.fromEntries(
      Object.entries(offsets).map(([name, data_offsets]) => [name, { dtype: 'F32', shape: [3], data_offsets }]),
    );
    return withHeader(
      JSON.stringify(header),
      [f32Bytes(Float32Array.from({ length: dataLength / 4 }, (_, i) => i + 0.5))],
      dataLength,
    );
  };

  it('reads tensors stored in any order, as long as they tile the buffer', () => {
    const parsed = parseSafetensors(withOffsets({ c: [24, 36], a: [0, 12], b: [12, 24] }));
    expect(Array.from(readTensor(parsed, 'c'))).to.deep.equal([6.5, 7.5, 8.5]);
    expect([...parsed.tensors.keys()]).to.deep.equal(['c', 'a', 'b']);
  });

  const coverage: [string, Uint8Array, string][] = [
    [
      'offsets that end before they begin',
      withOffsets({ a: [0, 12], b: [24, 12], c: [24, 36] }),
      'safetensors: tensor "b" data_offsets [24, 12] end before they begin',
    ],
    [
      'overlapping tensors',
      withOffsets({ a: [0, 12], b: [8, 20], c: [24, 36] }),
      'safetensors: tensor "b" data_offsets [8, 20] overlap tensor "a", which ends at 12',
    ],
    [
      'two tensors on the same bytes',
      withOffsets({ a: [0, 12], b: [12, 24], c: [12, 24] }),
      'safetensors: tensor "c" data_offsets [12, 24] overlap tensor "b", which ends at 24',
    ],
    [
      'a gap between tensors',
      withOffsets({ a: [0, 12], b: [16, 28], c: [28, 40] }, 40),
      'safetensors: bytes 12 to 16 of the data buffer belong to no tensor (a gap between "a" and "b")',
    ],
    [
      'a gap before the first tensor',
      withOffsets({ a: [4, 16], b: [16, 28], c: [28, 40] }, 40),
      'safetensors: bytes 0 to 4 of the data buffer belong to no tensor (a gap before "a")',
    ],
    [
      'bytes after the last tensor',
      withOffsets({ a: [0, 12], b: [12, 24], c: [24, 36] }, 40),
      'safetensors: the last 4 bytes of the data buffer belong to no tensor (after the last tensor, "c")',
    ],
    [
      'data and no tensors',
      withOffsets({}, 8),
      'safetensors: the last 8 bytes of the data buffer belong to no tensor (the file has no tensors)',
    ],
  ];
  for (const [what, file, message] of coverage) {
    it(`rejects ${what}`, () => {
      expect(() => parseSafetensors(file)).to.throw(message);
    });
  }

  it('rejects a checkpoint cut short in its data', () => {
    const tokenizer = CharTokenizer.fromText('ab');
    const config: GPTConfig = { vocabSize: 3, blockSize: 2, nLayer: 1, nHead: 1, nEmbd: 2, tied: true };
    const bytes = writeCheckpoint({ config, params: randomParams(config, 5), tokenizer });
    expect(() => readCheckpoint(bytes.subarray(0, bytes.length - 1))).to.throw(
      /safetensors: tensor "[^"]+" data_offsets .* fall outside/,
    );
  });
});

// ---- importing: the one entry point for files from outside ----

describe('importCheckpoint', () => {
  const tokenizer = CharTokenizer.fromText(TEXT);
  const config: GPTConfig = { vocabSize: tokenizer.size, blockSize: 5, nLayer: 2, nHead: 2, nEmbd: 4, tied: false };
  const params = randomParams(config, 31);
  const good = writeCheckpoint({ config, params, tokenizer });

  /** The same checkpoint with its metadata replaced (the tensors stay as written). */
  const withMetadata = (metadata: Record<string, string>): Uint8Array => {
    const { length, json } = headerOf(good);
    return withHeader(JSON.stringify({ ...json, __metadata__: metadata }), [good.subarray(8 + length)], good.length - 8 - length);
  };
  const ourMetadata = (): Record<string, string> => ({ ...headerOf(good).json.__metadata__ });

  it('returns the whole model, bit for bit, and leaves the bytes alone', () => {
    const copy = good.slice();
    const model = importCheckpoint(good);
    expect(model.config).to.deep.equal(config);
    expect(model.tokenizer.vocab).to.deep.equal(tokenizer.vocab);
    expect(Array.from(bitsOf(model.params.data))).to.deep.equal(Array.from(bitsOf(params.data)));
    expect(Array.from(good)).to.deep.equal(Array.from(copy));
    expect(model.params.data.buffer).to.not.equal(good.buffer);
  });

  it('refuses a file over the size limit before reading it', () => {
    expect(MAX_IMPORT_BYTES).to.equal(512 * 1024 * 1024);
    expect(() => importCheckpoint(good, { maxBytes: good.length - 1 })).to.throw(
      `${IMPORT_ERROR_PREFIX}it is ${good.length} bytes, over the ${good.length - 1} bytes limit`,
    );
    expect(() => importCheckpoint(new Uint8Array(1.5 * 2 ** 20), { maxBytes: 2 ** 20 })).to.throw(
      `${IMPORT_ERROR_PREFIX}it is 1.5 MiB, over the 1 MiB limit`,
    );
    expect(importCheckpoint(good, { maxBytes: good.length }).config).to.deep.equal(config);
  });

  it('says what to do with a Hugging Face GPT-2 file', () => {
    expect(() => importCheckpoint(hfFile())).to.throw(
      /^This file can't be imported: it has no playground config or tokenizer in its metadata, as with a Hugging Face GPT-2 file\. .*exported from the playground/,
    );
  });

  it('drops the module prefix and keeps the cause', () => {
    try {
      importCheckpoint(good.subarray(0, 5));
      expect.fail('imported a 5-byte file');
    } catch (error) {
      expect((error as Error).message).to.equal(
        `${IMPORT_ERROR_PREFIX}file is 5 bytes, too short to hold the 8-byte header length`,
      );
      expect(((error as Error).cause as Error).message).to.match(/^safetensors: /);
    }
  });

  const metadataCases: [string, () => Record<string, string>, string | RegExp][] = [
    [
      'no tokenizer',
      () => ({ ...ourMetadata(), tokenizer: undefined! }),
      "This file can't be imported: it has no tokenizer in its metadata",
    ],
    [
      'no config',
      () => ({ ...ourMetadata(), llm_playground_config: undefined! }),
      "This file can't be imported: it has a tokenizer but no playground config",
    ],
    [
      'a tokenizer that does not fit the vocabulary',
      () => ({ ...ourMetadata(), tokenizer: JSON.stringify(CharTokenizer.fromText('abc').toJSON()) }),
      `This file can't be imported: the tokenizer has 4 tokens but the config's vocabSize is ${config.vocabSize}`,
    ],
    [
      'a tokenizer that is not one',
      () => ({ ...ourMetadata(), tokenizer: JSON.stringify({ type: 'char', vocab: ['\uFFFD', 'ab'] }) }),
      `This file can't be imported: the tokenizer in the file's metadata is invalid: token 1 is not a single character: "ab"`,
    ],
    [
      'a BPE tokenizer whose merge makes a token not in its vocabulary',
      () => ({
        ...ourMetadata(),
        tokenizer: JSON.stringify({
          type: 'bpe',
          vocab: Array.from({ length: config.vocabSize }, (_, i) => `t${i}`),
          merges: [['t1', 't2']],
        }),
      }),
      `This file can't be imported: the tokenizer in the file's metadata is invalid: a vocabulary without the unknown token`,
    ],
    [
      'a BPE merge of tokens not in the vocabulary',
      () => {
        const vocab = ['\uFFFD', ...'abcdefghijklmnopqrstuvwxyz'].slice(0, config.vocabSize);
        return { ...ourMetadata(), tokenizer: JSON.stringify({ type: 'bpe', vocab, merges: [['zz', 'q']] }) };
      },
      `This file can't be imported: the tokenizer in the file's metadata is invalid: merge 0 joins a token that is not in the vocabulary: ["zz","q"]`,
    ],
    [
      'a tokenizer that is not JSON',
      () => ({ ...ourMetadata(), tokenizer: '{"type": "char", ' }),
      `This file can't be imported: the tokenizer in the file's metadata (__metadata__ "tokenizer") is not valid JSON`,
    ],
    [
      'a config with a bad field',
      () => ({ ...ourMetadata(), llm_playground_config: JSON.stringify({ ...config, nHead: 3 }) }),
      "This file can't be imported: the config in the file's metadata is invalid: config.nEmbd (4) must be divisible by config.nHead (3)",
    ],
    [
      'a config far bigger than the file',
      () => ({ ...ourMetadata(), llm_playground_config: JSON.stringify({ ...config, nLayer: 1e9 }) }),
      /^This file can't be imported: the config \(.*nLayer 1000000000.*\) needs \d+ weights, more than the file's \d+ bytes of tensors hold$/,
    ],
  ];
  for (const [what, metadata, message] of metadataCases) {
    it(`refuses ${what}`, () => {
      const entries = Object.entries(metadata()).filter(([, value]) => value !== undefined);
      expect(() => importCheckpoint(withMetadata(Object.fromEntries(entries)))).to.throw(message);
    });
  }
});
