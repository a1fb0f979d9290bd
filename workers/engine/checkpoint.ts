/**
 * Checkpoints as .safetensors with Hugging Face GPT-2 tensor names, so our
 * files open in other tools and GPT-2 files from the Hub open here.
 *
 * Our config and tokenizer travel in the header's __metadata__ as JSON
 * strings. Hugging Face's own files have neither: their config comes from the
 * config.json published beside them, and their tokenizer lives in files of its
 * own (vocab.json, merges.txt: BpeTokenizer.fromGpt2), so such a model alone is
 * driven with token ids.
 */
import { cut, excerpt } from '../api/errors.ts';
import { MAX_IMPORT_BYTES } from '../api/reading.ts';
import { type GPTConfig, validateConfig } from './config.ts';
import { forward } from './model.ts';
import {
  countParameters,
  createParameters,
  layerView,
  PARAMETER_NAMES,
  parameterShapes,
  type ParameterName,
  type ParameterTensors,
} from './params.ts';
import { type NamedTensor, parseSafetensors, readTensor, type SafetensorsFile, writeSafetensors } from './safetensors.ts';
import { tokenizerFromJSON, type Tokenizer } from './tokenizer.ts';

/** A model as the playground holds it. */
export interface GPTModel {
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer: Tokenizer;
}

/** What a checkpoint file holds: the tokenizer is missing from Hugging Face's files. */
export interface Checkpoint {
  config: GPTConfig;
  params: ParameterTensors;
  tokenizer?: Tokenizer;
}

/** The fields of a Hugging Face GPT-2 config.json that decide the tensor shapes. */
export interface HFConfigJSON {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** Hugging Face's default is true (GPT-2 ties them). */
  tie_word_embeddings?: boolean;
  /** MLP width; null means 4·n_embd, the only width this engine builds. */
  n_inner?: number | null;
  activation_function?: string;
  layer_norm_epsilon?: number;
}

export const CONFIG_METADATA_KEY = 'llm_playground_config';
export const TOKENIZER_METADATA_KEY = 'tokenizer';

/**
 * Our parameter view ↔ Hugging Face name. Per-layer tensors are stored once per
 * layer as `h.{i}.<hf>`. Both layouts are Conv1D (y = x·W), so no transposes.
 * Reading and writing both walk this one table.
 */
const HF_NAMES: readonly { view: ParameterName; hf: string; perLayer: boolean }[] = [
  { view: 'wte', hf: 'wte.weight', perLayer: false },
  { view: 'wpe', hf: 'wpe.weight', perLayer: false },
  { view: 'ln1w', hf: 'ln_1.weight', perLayer: true },
  { view: 'ln1b', hf: 'ln_1.bias', perLayer: true },
  { view: 'qkvw', hf: 'attn.c_attn.weight', perLayer: true },
  { view: 'qkvb', hf: 'attn.c_attn.bias', perLayer: true },
  { view: 'attprojw', hf: 'attn.c_proj.weight', perLayer: true },
  { view: 'attprojb', hf: 'attn.c_proj.bias', perLayer: true },
  { view: 'ln2w', hf: 'ln_2.weight', perLayer: true },
  { view: 'ln2b', hf: 'ln_2.bias', perLayer: true },
  { view: 'fcw', hf: 'mlp.c_fc.weight', perLayer: true },
  { view: 'fcb', hf: 'mlp.c_fc.bias', perLayer: true },
  { view: 'fcprojw', hf: 'mlp.c_proj.weight', perLayer: true },
  { view: 'fcprojb', hf: 'mlp.c_proj.bias', perLayer: true },
  { view: 'lnfw', hf: 'ln_f.weight', perLayer: false },
  { view: 'lnfb', hf: 'ln_f.bias', perLayer: false },
  { view: 'lmHead', hf: 'lm_head.weight', perLayer: false },
];

const LM_HEAD = 'lm_head.weight';
/** GPT2LMHeadModel nests everything but the head under `transformer.`. */
const TRANSFORMER_PREFIX = 'transformer.';
/** GPT-2's causal-mask buffers: constants, not parameters. */
const MASK_BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/;

export interface HFTensor {
  name: string;
  shape: number[];
  /** Where it lives in the flat parameter buffer: a named view, and the layer for per-layer views. */
  view: ParameterName;
  layer?: number;
}

/**
 * Every tensor a checkpoint of `config` holds, named and shaped as in Hugging
 * Face's GPT-2. Nothing is allocated, so a file can be checked against its
 * config before the weights get a buffer.
 */
export function hfTensors(config: GPTConfig): HFTensor[] {
  const shapes = parameterShapes(config);
  const tensors: HFTensor[] = [];
  for (const { view, hf, perLayer } of HF_NAMES) {
    if (view === 'lmHead' && config.tied) continue;
    if (!perLayer) {
      tensors.push({ name: hf, shape: shapes[view], view });
      continue;
    }
    for (let layer = 0; layer < config.nLayer; layer++) {
      tensors.push({ name: `h.${layer}.${hf}`, shape: shapes[view].slice(1), view, layer });
    }
  }
  return tensors;
}

/** The slice of `params`' flat buffer that tensor fills. */
export const viewOf = (params: ParameterTensors, { view, layer }: HFTensor): Float32Array =>
  layer === undefined ? params[view] : layerView(params[view], layer, params.config.nLayer);

function fail(message: string): never {
  throw new Error(`checkpoint: ${message}`);
}

const describeConfig = (c: GPTConfig): string =>
  `vocabSize ${c.vocabSize}, blockSize ${c.blockSize}, nLayer ${c.nLayer}, nHead ${c.nHead}, nEmbd ${c.nEmbd}, ${c.tied ? 'tied' : 'untied'}`;

const sameConfig = (a: GPTConfig, b: GPTConfig): boolean => describeConfig(a) === describeConfig(b);

/** Keeps only GPTConfig's fields, so stray keys in a file never reach the model. */
function pickConfig(value: unknown): GPTConfig {
  const { vocabSize, blockSize, nLayer, nHead, nEmbd, tied } = (value ?? {}) as GPTConfig;
  return validateConfig({ vocabSize, blockSize, nLayer, nHead, nEmbd, tied });
}

/**
 * Hugging Face GPT-2 config → ours. When the file does not say whether the
 * embeddings are tied, a separate lm_head.weight in the checkpoint means untied.
 */
export function configFromHF(hf: HFConfigJSON, hasLmHead: boolean): GPTConfig {
  const sizes = ['vocab_size', 'n_positions', 'n_layer', 'n_head', 'n_embd'] as const;
  for (const key of sizes) {
    if (!Number.isInteger(hf[key]) || hf[key] < 1) fail(`config.json ${key} must be a positive integer, got ${excerpt(hf[key])}`);
  }
  if (hf.n_inner != null && hf.n_inner !== 4 * hf.n_embd) {
    fail(`config.json n_inner ${excerpt(hf.n_inner)} is not supported: this engine's MLP is 4·n_embd = ${4 * hf.n_embd} wide`);
  }
  if (hf.activation_function !== undefined && !['gelu_new', 'gelu_pytorch_tanh'].includes(hf.activation_function)) {
    fail(
      `config.json activation_function ${excerpt(hf.activation_function)} is not supported: this engine uses GPT-2's tanh GELU (gelu_new)`,
    );
  }
  if (hf.layer_norm_epsilon !== undefined && hf.layer_norm_epsilon !== 1e-5) {
    fail(`config.json layer_norm_epsilon ${excerpt(hf.layer_norm_epsilon)} is not supported: this engine uses 1e-5`);
  }
  return validateConfig({
    vocabSize: hf.vocab_size,
    blockSize: hf.n_positions,
    nLayer: hf.n_layer,
    nHead: hf.n_head,
    nEmbd: hf.n_embd,
    tied: hf.tie_word_embeddings ?? !hasLmHead,
  });
}

/** Decodes one of the JSON entries we write into __metadata__, saying which one when it is not what we write. */
function fromMetadata<T>(file: Pick<SafetensorsFile, 'metadata'>, key: string, what: string, read: (json: unknown) => T): T {
  let json: unknown;
  try {
    json = JSON.parse(file.metadata[key]!);
  } catch {
    return fail(`the ${what} in the file's metadata (__metadata__ "${key}") is not valid JSON`);
  }
  try {
    return read(json);
  } catch (error) {
    return fail(`the ${what} in the file's metadata is invalid: ${(error as Error).message}`);
  }
}

function checkTokenizerFits(tokenizer: Tokenizer, config: GPTConfig): void {
  if (tokenizer.size !== config.vocabSize) {
    fail(`the tokenizer has ${tokenizer.size} tokens but the config's vocabSize is ${config.vocabSize}`);
  }
}

/** The config stored in the file wins; a given one fills in when the file has none and must agree when it has. */
function resolveConfig(
  file: Pick<SafetensorsFile, 'metadata'>,
  given: HFConfigJSON | GPTConfig | undefined,
  hasLmHead: boolean,
): GPTConfig {
  const own = CONFIG_METADATA_KEY in file.metadata ? fromMetadata(file, CONFIG_METADATA_KEY, 'config', pickConfig) : undefined;
  const supplied = given === undefined ? undefined : 'vocab_size' in given ? configFromHF(given, hasLmHead) : pickConfig(given);
  if (own && supplied && !sameConfig(own, supplied)) {
    fail(`the file's own config (${describeConfig(own)}) differs from the one given (${describeConfig(supplied)})`);
  }
  const config = own ?? supplied;
  if (!config) fail('the file has no config in its metadata; supply one (a Hugging Face config.json)');
  return config;
}

const listNames = (names: string[]): string =>
  names.length <= 8 ? names.map((name) => cut(name)).join(', ') : `${listNames(names.slice(0, 8))} and ${names.length - 8} more`;

/** Serialises a model to .safetensors bytes (F32, Hugging Face GPT-2 names). */
export function writeCheckpoint(model: Checkpoint): Uint8Array {
  const { config, params, tokenizer } = model;
  if (!sameConfig(config, params.config)) fail('model.config and model.params.config differ');
  if (tokenizer) checkTokenizerFits(tokenizer, config);
  const tensors: NamedTensor[] = hfTensors(config).map((tensor) => ({
    name: tensor.name,
    shape: tensor.shape,
    data: viewOf(params, tensor),
  }));
  const metadata: Record<string, string> = { format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(config) };
  if (tokenizer) metadata[TOKENIZER_METADATA_KEY] = JSON.stringify(tokenizer.toJSON());
  return writeSafetensors(tensors, metadata);
}

/**
 * Loads a checkpoint written by `writeCheckpoint` or a Hugging Face GPT-2
 * file. `options.config` (ours or a Hugging Face config.json) is needed when the
 * file carries no config of its own.
 */
export function readCheckpoint(bytes: Uint8Array, options: { config?: HFConfigJSON | GPTConfig } = {}): Checkpoint {
  return readTensors(parseSafetensors(bytes), options.config);
}

// The limit lives in the contract, so the page can check a file's size before it reads it.
export { MAX_IMPORT_BYTES };

const describeBytes = (bytes: number): string =>
  bytes < 2 ** 20 ? `${bytes} bytes` : `${(bytes / 2 ** 20).toFixed(1).replace(/\.0$/, '')} MiB`;

/** What importCheckpoint's errors start with; the rest says what is wrong with the file. */
export const IMPORT_ERROR_PREFIX = "This file can't be imported: ";

/**
 * The one way a file from outside becomes a model: the whole file is checked
 * (size, header, offsets, dtypes, tensors against the config, finite weights
 * and a finite forward pass, a tokenizer that fits) before anything is
 * returned, and nothing outside is changed. Throws an Error whose message
 * starts with IMPORT_ERROR_PREFIX and says what is wrong, in words for the user.
 */
export function importCheckpoint(bytes: Uint8Array, options: { maxBytes?: number } = {}): GPTModel {
  try {
    const maxBytes = options.maxBytes ?? MAX_IMPORT_BYTES;
    if (bytes.length > maxBytes) fail(`it is ${describeBytes(bytes.length)}, over the ${describeBytes(maxBytes)} limit`);
    const file = parseSafetensors(bytes);
    const hasConfig = CONFIG_METADATA_KEY in file.metadata;
    const hasTokenizer = TOKENIZER_METADATA_KEY in file.metadata;
    if (!hasConfig && !hasTokenizer) {
      fail(
        'it has no playground config or tokenizer in its metadata, as with a Hugging Face GPT-2 file. ' +
          'Such a model comes with its config.json, vocab.json and merges.txt: open it from Choose a model, which reads all four. ' +
          'Here, import a .safetensors exported from the playground or made with `npx llm-playground train`',
      );
    }
    if (!hasConfig) fail('it has a tokenizer but no playground config in its metadata');
    if (!hasTokenizer) fail('it has no tokenizer in its metadata, so its token ids cannot be turned into text');
    const { config, params, tokenizer } = readTensors(file, undefined);
    return { config, params, tokenizer: tokenizer! };
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^(safetensors|checkpoint): /, '') : String(error);
    throw new Error(IMPORT_ERROR_PREFIX + reason, { cause: error });
  }
}

/** A tensor of the file placed in the flat parameter buffer: its name in the file, and where it goes. */
export interface PlacedTensor {
  fileName: string;
  target: HFTensor;
}

/**
 * The checks behind every reader of a checkpoint, on the header alone: the
 * config (the file's own, or `givenConfig`), every tensor's name and shape
 * against it (mask buffers skipped, the `transformer.` prefix accepted, a tied
 * lm_head absent), and the tokenizer in the metadata when there is one. Nothing
 * is allocated, so a file is refused before its weights get a buffer.
 */
export function planTensors(
  file: Pick<SafetensorsFile, 'tensors' | 'metadata'>,
  givenConfig: HFConfigJSON | GPTConfig | undefined,
): { config: GPTConfig; tokenizer?: Tokenizer; placed: PlacedTensor[] } {
  // Our name (no `transformer.` prefix) → the name in the file.
  const inFile = new Map<string, string>();
  for (const name of file.tensors.keys()) {
    const ours = name.startsWith(TRANSFORMER_PREFIX) ? name.slice(TRANSFORMER_PREFIX.length) : name;
    if (MASK_BUFFER.test(ours)) continue;
    if (inFile.has(ours)) fail(`tensor ${cut(ours)} appears twice (with and without the "${TRANSFORMER_PREFIX}" prefix)`);
    inFile.set(ours, name);
  }

  const config = resolveConfig(file, givenConfig, inFile.has(LM_HEAD));
  // The smallest dtype takes 2 bytes a value; a config needing more cannot describe this file, and listing its tensors could take forever.
  const needed = countParameters(config).total;
  const dataBytes = [...inFile.values()]
    .map((name) => file.tensors.get(name)!)
    .reduce((sum, { begin, end }) => sum + end - begin, 0);
  if (2 * needed > dataBytes) {
    fail(
      `the config (${describeConfig(config)}) needs ${needed} weights, more than the file's ${dataBytes} bytes of tensors hold`,
    );
  }
  const expected = hfTensors(config);

  const missing = expected.filter(({ name }) => !inFile.has(name)).map(({ name }) => name);
  const expectedNames = new Set(expected.map(({ name }) => name));
  const unexpected = [...inFile.keys()].filter((name) => !expectedNames.has(name));
  if (missing.length || unexpected.length) {
    const problems = [
      missing.length ? `missing ${listNames(missing)}` : '',
      unexpected.length ? `unexpected ${listNames(unexpected)}` : '',
    ].filter(Boolean);
    fail(`tensors do not match the config (${describeConfig(config)}): ${problems.join('; ')}`);
  }
  for (const { name, shape } of expected) {
    const fileName = inFile.get(name)!;
    const found = file.tensors.get(fileName)!.shape;
    if (found.length !== shape.length || found.some((size, axis) => size !== shape[axis])) {
      fail(`tensor ${cut(fileName)} has shape ${excerpt(found)} but the config needs ${excerpt(shape)}`);
    }
  }

  let tokenizer: Tokenizer | undefined;
  if (TOKENIZER_METADATA_KEY in file.metadata) {
    tokenizer = fromMetadata(file, TOKENIZER_METADATA_KEY, 'tokenizer', tokenizerFromJSON);
    checkTokenizerFits(tokenizer, config);
  }
  const placed = expected.map((target) => ({ fileName: inFile.get(target.name)!, target }));
  return tokenizer ? { config, tokenizer, placed } : { config, placed };
}

/** Why a decoded tensor cannot be used (a value that is not finite), or undefined. */
export function tensorProblem(fileName: string, values: Float32Array): string | undefined {
  // A plain loop: a callback a value costs several times more on GPT-2's 124 M weights.
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return `tensor ${cut(fileName)} holds ${values[i]} at index ${i}: the weights are corrupt`;
  }
  return undefined;
}

/** The checks and decoding behind readCheckpoint and importCheckpoint, for a parsed file. */
function readTensors(file: SafetensorsFile, givenConfig: HFConfigJSON | GPTConfig | undefined): Checkpoint {
  const { config, tokenizer, placed } = planTensors(file, givenConfig);
  // Only now, with every name and shape checked, do the weights get a buffer.
  const params = createParameters(config);
  for (const { fileName, target } of placed) {
    const view = viewOf(params, target);
    readTensor(file, fileName, view);
    const problem = tensorProblem(fileName, view);
    if (problem) fail(problem);
  }
  const problem = weightsProblem(params);
  if (problem) fail(problem);
  return { config, params, tokenizer };
}

/** How many tokens the forward pass of weightsProblem reads. */
const CHECKED_TOKENS = 8;

/**
 * Why these weights cannot make a working model, or undefined: a value that is
 * not finite, or a forward pass that is not. Weights can be finite and still so
 * large that the pass overflows (every ln_f.weight 3.4e38, a c_attn.bias of
 * 3e38): such a model gives NaN odds and cannot draw a token. One pass over a
 * few token ids spread over the vocabulary finds it at the cost of one prediction.
 */
export function weightsProblem(params: ParameterTensors): string | undefined {
  for (const name of PARAMETER_NAMES) {
    const values = params[name];
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) return `its weights hold ${values[i]} (${name}, index ${i}), so they are corrupt`;
    }
  }
  const { vocabSize, blockSize } = params.config;
  const count = Math.min(CHECKED_TOKENS, blockSize);
  const tokens = Array.from({ length: count }, (_, i) => Math.floor((i * vocabSize) / count));
  const { logits } = forward(params, tokens);
  const bad = logits.find((value) => !Number.isFinite(value));
  if (bad === undefined) return undefined;
  return `its weights are too large to compute with (running it on ${count} tokens gives ${bad} where odds should be), so it could not predict anything`;
}
