/** `init`: write a freshly initialised checkpoint. */
import { writeFileSync } from 'node:fs';
import { configFromHF, type HFConfigJSON, writeCheckpoint } from '../engine/checkpoint.ts';
import { type GPTConfig, validateConfig } from '../engine/config.ts';
import { DEFAULT_CONFIG, DEFAULT_SEED, defaultTokenizer } from '../engine/defaults.ts';
import { initParameters } from '../engine/params.ts';
import { tokenizerForCorpus } from '../engine/tokenizer.ts';
import {
  type Command,
  fail,
  print,
  required,
  readTextFile,
  readConfigArgument,
  wholeNumber,
  tokenizerChoice,
  TOKENIZER_OPTION,
} from './options.ts';

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

export const init: Command = {
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
