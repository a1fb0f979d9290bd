/** `forward`: the logits of a sequence. */
import { forward } from '../engine/model.ts';
import { type Command, print, loadCheckpoint, inputIds, CHECKPOINT_OPTIONS, TOKENS_OPTION } from './options.ts';

export const forwardCommand: Command = {
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
