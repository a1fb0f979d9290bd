/** `loss`: the cross-entropy of next-token predictions, and its gradients. */
import { writeFileSync } from 'node:fs';
import { writeCheckpoint } from '../engine/checkpoint.ts';
import { crossEntropy, forward, lossAndGradients } from '../engine/model.ts';
import { createParameters } from '../engine/params.ts';
import { type Command, fail, print, required, tokenIds, loadCheckpoint, CHECKPOINT_OPTIONS, TOKENS_OPTION } from './options.ts';

export const loss: Command = {
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
