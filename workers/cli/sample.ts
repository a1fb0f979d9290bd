/** `sample`: a continuation of a prompt. */
import { DEFAULT_SEED } from '../engine/defaults.ts';
import { generate } from '../engine/generate.ts';
import { type Command, print, wholeNumber, decimal, loadCheckpoint, inputIds, CHECKPOINT_OPTIONS } from './options.ts';

export const sample: Command = {
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
