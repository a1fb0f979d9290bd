/** `tokenize`: a text's token ids and token strings. */
import { type Command, print, required, loadCheckpoint, encode, CHECKPOINT_OPTIONS } from './options.ts';

export const tokenize: Command = {
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
