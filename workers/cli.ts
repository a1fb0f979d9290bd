/**
 * `llm-playground` on the command line: the engine the page uses, driven from Node.
 *
 *   init     write a freshly initialised checkpoint
 *   forward  print the logits for a sequence of tokens
 *   loss     print the mean cross-entropy of next-token predictions (and write its gradients)
 *   sample   generate text
 *   tokenize print a text's token ids and token strings
 *   train    train a model from scratch on a text file or the built-in corpus
 *
 * Results go to stdout as JSON (sample prints text unless --json; train's
 * progress goes to stderr). Mistakes in the input are reported as one line on
 * stderr with exit code 1.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { excerpt } from './api/errors.ts';
import {
  type Checkpoint,
  CONFIG_METADATA_KEY,
  configFromHF,
  type HFConfigJSON,
  readCheckpoint,
  writeCheckpoint,
} from './engine/checkpoint.ts';
import { type GPTConfig, validateConfig } from './engine/config.ts';
import { BUILTIN_BPE_VOCAB, DEFAULT_CONFIG, DEFAULT_SEED, defaultTokenizer } from './engine/defaults.ts';
import { generateCorpus } from './corpus/corpus.ts';
import { corpusFromBytes } from './corpus/validate.ts';
import { splitTokens } from './engine/data.ts';
import { initGemm } from './engine/gemm.ts';
import { generate } from './engine/generate.ts';
import { crossEntropy, forward, lossAndGradients } from './engine/model.ts';
import { createParameters, initParameters } from './engine/params.ts';
import { MODEL_PRESETS, presetConfig } from './engine/presets.ts';
import { parseSafetensors } from './engine/safetensors.ts';
import { type TokenizerChoice, tokenizerForCorpus } from './engine/tokenizer.ts';
import { DEFAULT_TRAINING, type StepReport, Trainer, type TrainingSettings } from './engine/train.ts';

type Values = Record<string, string | boolean | undefined>;

interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the value looks like, for --help. */
  placeholder?: string;
  help: string;
}

interface Command {
  summary: string;
  options: Record<string, OptionSpec>;
  run: (values: Values) => void | Promise<void>;
}

function fail(message: string): never {
  throw new Error(message);
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

// ---- reading arguments ----

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== 'string') fail(`--${name} is required`);
  return value;
}

function readTextFile(path: string, flag: string): string {
  if (!existsSync(path)) fail(`${flag}: no such file ${path}`);
  return readFileSync(path, 'utf8');
}

/** A config given as inline JSON or as the path of a JSON file. */
function readConfigArgument(value: string, flag: string): Record<string, unknown> {
  const text = value.trimStart().startsWith('{') ? value : readTextFile(value, flag);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`${flag} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(`${flag} must be a JSON object`);
  return json as Record<string, unknown>;
}

function wholeNumber(values: Values, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  if (typeof text !== 'string' || !/^\d+$/.test(text)) fail(`--${name} must be a whole number, got ${excerpt(text)}`);
  return Number(text);
}

function decimal(values: Values, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value))
    fail(`--${name} must be a number, got ${excerpt(text)}`);
  return value;
}

function tokenIds(text: string, flag: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  if (!parts.every((part) => /^\d+$/.test(part)))
    fail(`${flag} must be token ids separated by commas, like 1,2,3; got ${excerpt(text)}`);
  return parts.map(Number);
}

// ---- checkpoints ----

/**
 * A config for files that carry none in their metadata (Hugging Face's): the
 * one named by --config, else a config.json in the checkpoint's folder.
 */
function suppliedConfig(bytes: Uint8Array, path: string, flag: string | undefined): HFConfigJSON | GPTConfig | undefined {
  if (flag !== undefined) return readConfigArgument(flag, '--config') as unknown as HFConfigJSON | GPTConfig;
  if (CONFIG_METADATA_KEY in parseSafetensors(bytes).metadata) return undefined;
  const beside = join(dirname(path), 'config.json');
  if (!existsSync(beside))
    fail(`${path} has no config in its metadata: pass --config FILE or put a Hugging Face config.json beside it`);
  return readConfigArgument(beside, beside) as unknown as HFConfigJSON;
}

function loadCheckpoint(values: Values): Checkpoint {
  const path = required(values, 'checkpoint');
  if (!existsSync(path)) fail(`checkpoint not found: ${path}`);
  const bytes = readFileSync(path);
  return readCheckpoint(bytes, { config: suppliedConfig(bytes, path, values.config as string | undefined) });
}

function encode(model: Checkpoint, text: string, flag: string): number[] {
  if (!model.tokenizer) {
    fail(
      `this checkpoint has no tokenizer in its metadata (Hugging Face files keep theirs apart): give token ids with --tokens instead of ${flag}`,
    );
  }
  const { ids, unknown } = model.tokenizer.encodeWithReport(text);
  if (unknown.length) {
    process.stderr.write(
      `note: ${unknown.map((c) => JSON.stringify(c)).join(' ')} not in the vocabulary, read as the unknown token (id 0)\n`,
    );
  }
  return ids;
}

/** The input sequence: --tokens as ids, or --text (or `textFlag`) through the checkpoint's tokenizer. */
function inputIds(values: Values, model: Checkpoint, textFlag = 'text'): number[] {
  const tokens = values.tokens as string | undefined;
  const text = values[textFlag] as string | undefined;
  if (tokens !== undefined && text !== undefined) fail(`give --tokens or --${textFlag}, not both`);
  if (tokens !== undefined) return tokenIds(tokens, '--tokens');
  if (text !== undefined) return encode(model, text, `--${textFlag}`);
  return fail(`give the input as --tokens 1,2,3 or --${textFlag} "..."`);
}

const CHECKPOINT_OPTIONS: Record<string, OptionSpec> = {
  checkpoint: { type: 'string', placeholder: 'FILE', help: 'the .safetensors checkpoint (required)' },
  config: {
    type: 'string',
    placeholder: 'FILE|JSON',
    help: 'config for a checkpoint without one in its metadata (a Hugging Face config.json); default: config.json beside the checkpoint',
  },
};

const TOKENS_OPTION: OptionSpec = { type: 'string', placeholder: '1,2,3', help: 'input token ids' };

/** --tokenizer and its --vocab-size (`vocabSize`: the size a BPE gets when none is given). */
function tokenizerChoice(values: Values, vocabSize: number | undefined): TokenizerChoice {
  const type = (values.tokenizer as string | undefined) ?? 'char';
  if (type === 'char') return { type };
  if (type !== 'bpe') fail(`--tokenizer must be char or bpe, got ${excerpt(type)}`);
  if (values['vocab-size'] === undefined && vocabSize === undefined) fail('--tokenizer bpe needs --vocab-size N');
  return { type, vocabSize: wholeNumber(values, 'vocab-size', vocabSize ?? 0) };
}

const TOKENIZER_OPTION: OptionSpec = {
  type: 'string',
  placeholder: 'char|bpe',
  help: 'characters, or word pieces (byte-level BPE) learned from the text with --vocab-size tokens (default char)',
};

// ---- commands ----

/** init's size flags and the config fields they set. */
const SIZE_FLAGS = {
  'vocab-size': 'vocabSize',
  'block-size': 'blockSize',
  'n-layer': 'nLayer',
  'n-head': 'nHead',
  'n-embd': 'nEmbd',
} as const;

/** --config for init: a Hugging Face config.json, or some of our config's fields over the defaults. */
function initConfigArgument(value: string | undefined): Partial<GPTConfig> {
  if (value === undefined) return {};
  const json = readConfigArgument(value, '--config');
  if ('vocab_size' in json) return configFromHF(json as unknown as HFConfigJSON, false);
  for (const key of Object.keys(json)) {
    if (!(key in DEFAULT_CONFIG))
      fail(`--config has an unknown field "${key}"; fields: ${Object.keys(DEFAULT_CONFIG).join(', ')}`);
  }
  return json as Partial<GPTConfig>;
}

const init: Command = {
  summary: 'write a freshly initialised checkpoint (GPT-2 initialisation)',
  options: {
    out: { type: 'string', placeholder: 'FILE', help: 'where to write the .safetensors checkpoint (required)' },
    config: { type: 'string', placeholder: 'FILE|JSON', help: 'config: ours (any of its fields) or a Hugging Face config.json' },
    ...Object.fromEntries(
      Object.entries(SIZE_FLAGS).map(([flag, field]) => [
        flag,
        { type: 'string', placeholder: 'N', help: `${field} (default ${DEFAULT_CONFIG[field]})` },
      ]),
    ),
    untied: { type: 'boolean', help: 'give the model its own unembedding matrix instead of reusing the token embedding' },
    text: {
      type: 'string',
      placeholder: 'FILE',
      help: 'build the vocabulary from this text (default: printable ASCII and newline)',
    },
    tokenizer: TOKENIZER_OPTION,
    seed: { type: 'string', placeholder: 'S', help: `random seed for the weights (default ${DEFAULT_SEED})` },
  },
  async run(values) {
    const out = required(values, 'out');
    const fromText = typeof values.text === 'string';
    const choice = tokenizerChoice(values, undefined);
    if (choice.type === 'bpe' && !fromText) fail('--tokenizer bpe needs --text FILE to learn its merges from');
    const tokenizer = fromText ? tokenizerForCorpus(readTextFile(values.text as string, '--text'), choice) : defaultTokenizer();
    const config: GPTConfig = {
      ...DEFAULT_CONFIG,
      vocabSize: tokenizer.size,
      ...initConfigArgument(values.config as string | undefined),
    };
    for (const [flag, field] of Object.entries(SIZE_FLAGS)) config[field] = wholeNumber(values, flag, config[field]);
    if (values.untied) config.tied = false;
    validateConfig(config);
    if (fromText && config.vocabSize !== tokenizer.size) {
      fail(`vocabSize ${config.vocabSize} does not match the ${tokenizer.size} tokens built from --text`);
    }
    // A vocabulary other than the default one's (e.g. GPT-2's 50257) gets no tokenizer: it is driven with --tokens.
    const fits = config.vocabSize === tokenizer.size;
    if (!fits)
      process.stderr.write(
        `note: vocabSize ${config.vocabSize} is not the default tokenizer's ${tokenizer.size}, so the checkpoint has no tokenizer; use --tokens with it\n`,
      );
    const params = initParameters(config, wholeNumber(values, 'seed', DEFAULT_SEED));
    writeFileSync(out, writeCheckpoint({ config, params, tokenizer: fits ? tokenizer : undefined }));
    print({
      out,
      config,
      parameters: params.data.length,
      tokenizer: fits ? { type: tokenizer.type, size: tokenizer.size } : null,
    });
  },
};

const forwardCommand: Command = {
  summary: 'print the logits (T×V, one row per position) for a sequence of tokens',
  options: {
    ...CHECKPOINT_OPTIONS,
    tokens: TOKENS_OPTION,
    text: { type: 'string', placeholder: 'TEXT', help: "input text, encoded with the checkpoint's tokenizer" },
  },
  run(values) {
    const model = loadCheckpoint(values);
    const { logits } = forward(model.params, inputIds(values, model));
    const V = model.config.vocabSize;
    const rows = Array.from({ length: logits.length / V }, (_, t) => Array.from(logits.subarray(t * V, (t + 1) * V)));
    print(rows);
  },
};

const loss: Command = {
  summary: 'print the mean cross-entropy of predicting each target from the tokens up to it',
  options: {
    ...CHECKPOINT_OPTIONS,
    tokens: TOKENS_OPTION,
    targets: { type: 'string', placeholder: '2,3,4', help: 'the token expected after each input position (required)' },
    grads: {
      type: 'string',
      placeholder: 'FILE',
      help: "also write the gradient of the loss for every parameter, as .safetensors with the checkpoint's tensor names",
    },
  },
  run(values) {
    const model = loadCheckpoint(values);
    const tokens = tokenIds(required(values, 'tokens'), '--tokens');
    const targets = tokenIds(required(values, 'targets'), '--targets');
    if (targets.length !== tokens.length) {
      fail(`--tokens has ${tokens.length} ids but --targets has ${targets.length}: give one target per token`);
    }
    const gradsPath = values.grads as string | undefined;
    if (gradsPath === undefined) {
      const { logits } = forward(model.params, tokens);
      print({ loss: crossEntropy(logits, targets, model.config.vocabSize) });
      return;
    }
    const grads = createParameters(model.config);
    const value = lossAndGradients(model.params, tokens, targets, 1, tokens.length, grads);
    writeFileSync(gradsPath, writeCheckpoint({ config: model.config, params: grads }));
    print({ loss: value, grads: gradsPath });
  },
};

const sample: Command = {
  summary: 'generate a continuation of a prompt',
  options: {
    ...CHECKPOINT_OPTIONS,
    prompt: { type: 'string', placeholder: 'TEXT', help: "prompt text, encoded with the checkpoint's tokenizer" },
    tokens: { type: 'string', placeholder: '1,2,3', help: 'prompt as token ids (for checkpoints without a tokenizer)' },
    'max-tokens': { type: 'string', placeholder: 'N', help: 'how many tokens to generate (default 64)' },
    temperature: {
      type: 'string',
      placeholder: 'T',
      help: '0 = always the likeliest token, 1 = the model as is, >1 more random (default 1)',
    },
    'top-k': { type: 'string', placeholder: 'K', help: 'draw only from the K likeliest tokens (default 0 = off)' },
    'top-p': {
      type: 'string',
      placeholder: 'P',
      help: 'draw only from the likeliest tokens that make up probability P (default 1 = off)',
    },
    seed: { type: 'string', placeholder: 'S', help: `random seed: same seed, same text (default ${DEFAULT_SEED})` },
    json: { type: 'boolean', help: 'print {"prompt": ids, "tokens": ids, "text": continuation} instead of the text' },
  },
  run(values) {
    const model = loadCheckpoint(values);
    const promptIds = inputIds(values, model, 'prompt');
    const tokens = generate(model.params, promptIds, {
      maxTokens: wholeNumber(values, 'max-tokens', 64),
      temperature: decimal(values, 'temperature', 1),
      topK: wholeNumber(values, 'top-k', 0),
      topP: decimal(values, 'top-p', 1),
      seed: wholeNumber(values, 'seed', DEFAULT_SEED),
    });
    const { tokenizer } = model;
    if (values.json) {
      const ids = Array.from(tokens, ({ id }) => id);
      print({ prompt: promptIds, tokens: ids, text: tokenizer ? tokenizer.decode(ids) : null });
    } else if (tokenizer) {
      // Streams each token's text as it is drawn (a character split across tokens with its last one); the prompt
      // goes out with the first, so a bad option fails before any output.
      const textOf = tokenizer.streamDecoder();
      let pending = tokenizer.decode(promptIds);
      for (const { id } of tokens) {
        process.stdout.write(pending + textOf(id));
        pending = '';
      }
      process.stdout.write(`${pending}\n`);
    } else {
      print(Array.from(tokens, ({ id }) => id));
    }
  },
};

const tokenize: Command = {
  summary: 'print the token ids and token strings of a text, as {"ids": [...], "tokens": [...]}',
  options: {
    ...CHECKPOINT_OPTIONS,
    text: { type: 'string', placeholder: 'TEXT', help: "the text, encoded with the checkpoint's tokenizer (required)" },
  },
  run(values) {
    const model = loadCheckpoint(values);
    const ids = encode(model, required(values, 'text'), '--text');
    print({ ids, tokens: ids.map((id) => model.tokenizer!.token(id)) });
  },
};

/** The training text: the built-in corpus, or a UTF-8 text file checked like the page checks an upload. */
function readCorpus(source: string): string {
  if (source === 'builtin') return generateCorpus().text;
  if (!existsSync(source)) fail(`--corpus: no such file ${source} (or say "builtin" for the built-in corpus)`);
  return corpusFromBytes(readFileSync(source), basename(source));
}

/** train's hyperparameter flags and the settings they set. */
const TRAINING_FLAGS = {
  'batch-size': { key: 'batchSize', whole: true, help: 'sequences per step' },
  lr: { key: 'learningRate', whole: false, help: 'peak learning rate' },
  'min-lr': { key: 'minLearningRate', whole: false, help: 'learning rate at the end of the cosine decay' },
  warmup: { key: 'warmupSteps', whole: true, help: 'steps of linear learning-rate warm-up' },
  'weight-decay': { key: 'weightDecay', whole: false, help: 'AdamW weight decay of the weight matrices' },
  'grad-clip': { key: 'gradClip', whole: false, help: 'largest gradient norm' },
  'eval-interval': { key: 'evalInterval', whole: true, help: 'steps between validation losses' },
  'eval-batches': { key: 'evalBatches', whole: true, help: 'batches per validation loss' },
} as const satisfies Record<string, { key: keyof TrainingSettings; whole: boolean; help: string }>;

const formatDuration = (seconds: number): string => {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};

/**
 * Progress on stderr: on a terminal one line rewritten every step, otherwise
 * (a log, a test) a new line at every validation.
 */
function reportProgress(
  report: StepReport,
  totalSteps: number,
  lastValidation: number | undefined,
  trainingSeconds: number,
  elapsedSeconds: number,
): void {
  const interactive = process.stderr.isTTY;
  if (!interactive && report.validationLoss === undefined) return;
  const parts = [
    `step ${report.step}/${totalSteps}`,
    `loss ${report.loss.toFixed(3)}`,
    `val ${lastValidation === undefined ? '-' : lastValidation.toFixed(3)}`,
    `${Math.round(report.tokensSeen / trainingSeconds)} tok/s`,
    `${formatDuration((elapsedSeconds / report.step) * (totalSteps - report.step))} left`,
  ];
  process.stderr.write(
    interactive ? `\r${parts.join('  ')}\x1b[K${report.step === totalSteps ? '\n' : ''}` : `${parts.join('  ')}\n`,
  );
}

const trainCommand: Command = {
  summary: 'train a model from scratch (a tokenizer made from the corpus, a size preset) and write it as a checkpoint',
  options: {
    corpus: {
      type: 'string',
      placeholder: 'FILE|builtin',
      help: 'UTF-8 text to train on, or "builtin" for the built-in corpus (default builtin)',
    },
    preset: {
      type: 'string',
      placeholder: 'P',
      help: `model size: ${MODEL_PRESETS.map((p) => p.id).join(', ')} (default small)`,
    },
    tokenizer: TOKENIZER_OPTION,
    'vocab-size': { type: 'string', placeholder: 'N', help: `tokens of a BPE tokenizer (default ${BUILTIN_BPE_VOCAB})` },
    steps: { type: 'string', placeholder: 'N', help: `optimisation steps (default ${DEFAULT_TRAINING.totalSteps})` },
    seed: { type: 'string', placeholder: 'S', help: `random seed for the weights and the batches (default ${DEFAULT_SEED})` },
    out: { type: 'string', placeholder: 'FILE', help: 'where to write the .safetensors checkpoint (required)' },
    ...Object.fromEntries(
      Object.entries(TRAINING_FLAGS).map(([flag, { key, whole, help }]) => [
        flag,
        { type: 'string', placeholder: whole ? 'N' : 'X', help: `${help} (default ${DEFAULT_TRAINING[key]})` },
      ]),
    ),
  },
  async run(values) {
    const out = required(values, 'out');
    const seed = wholeNumber(values, 'seed', DEFAULT_SEED);
    const settings: Partial<TrainingSettings> = { seed, totalSteps: wholeNumber(values, 'steps', DEFAULT_TRAINING.totalSteps) };
    for (const [flag, { key, whole }] of Object.entries(TRAINING_FLAGS)) {
      if (values[flag] !== undefined) settings[key] = whole ? wholeNumber(values, flag, 0) : decimal(values, flag, 0);
    }
    const choice = tokenizerChoice(values, BUILTIN_BPE_VOCAB);
    if (choice.type === 'char' && values['vocab-size'] !== undefined) fail('--vocab-size is for --tokenizer bpe');
    const text = readCorpus((values.corpus as string | undefined) ?? 'builtin');
    const tokenizer = tokenizerForCorpus(text, choice);
    const config = presetConfig((values.preset as string | undefined) ?? 'small', tokenizer.size);
    const params = initParameters(config, seed);
    const trainer = new Trainer(params, splitTokens(tokenizer.encode(text)), settings);
    const { totalSteps } = trainer.settings;

    const started = performance.now();
    let trainingMs = 0;
    let last: StepReport | undefined;
    let validationLoss: number | undefined;
    while (trainer.stepCount < totalSteps) {
      last = await trainer.step();
      trainingMs += last.milliseconds;
      validationLoss = last.validationLoss ?? validationLoss;
      reportProgress(last, totalSteps, validationLoss, trainingMs / 1000, (performance.now() - started) / 1000);
    }
    writeFileSync(out, writeCheckpoint({ config, params, tokenizer }));
    print({
      out,
      config,
      tokenizer: tokenizer.type,
      parameters: params.data.length,
      steps: totalSteps,
      tokens: trainer.tokensSeen,
      loss: last!.loss,
      validationLoss,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      tokensPerSecond: Math.round(trainer.tokensSeen / (trainingMs / 1000)),
    });
  },
};

const COMMANDS: Record<string, Command> = { init, forward: forwardCommand, loss, sample, tokenize, train: trainCommand };

// ---- help and dispatch ----

const PROGRAM = 'llm-playground';

function overview(): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(8)} ${summary}`);
  return `Usage: ${PROGRAM} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun ${PROGRAM} <command> --help for its options.\n`;
}

function commandHelp(name: string, command: Command): string {
  const flags = Object.entries(command.options).map(
    ([flag, { placeholder }]) => `--${flag}${placeholder ? ` ${placeholder}` : ''}`,
  );
  const width = Math.max(...flags.map((f) => f.length));
  const lines = Object.values(command.options).map(({ help }, i) => `  ${flags[i]!.padEnd(width)}  ${help}`);
  return `Usage: ${PROGRAM} ${name} [options]\n\n${command.summary}\n\nOptions:\n${lines.join('\n')}\n  ${'--help'.padEnd(width)}  show this help\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(overview());
    process.exitCode = 1;
    return;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return;
  }
  const command = COMMANDS[name];
  if (!command) fail(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')} (see ${PROGRAM} --help)`);
  let values: Values;
  try {
    ({ values } = parseArgs({ args, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (error) {
    // Node's own wording, up to its hint about positionals, which does not apply here.
    const reason = (error as Error).message.split('. To specify')[0];
    return fail(`${name}: ${reason} (see ${PROGRAM} ${name} --help)`);
  }
  if (values.help) {
    process.stdout.write(commandHelp(name, command));
    return;
  }
  await initGemm(); // the WebAssembly matrix multiply, when this Node has SIMD; JavaScript otherwise
  await command.run(values);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${PROGRAM}: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
