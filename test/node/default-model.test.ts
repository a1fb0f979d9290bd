// The model the playground opens with (public/default-model.safetensors, made by
// `npm run train:default`): small enough to ship, and it has learned the
// built-in corpus, facts included.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FACTS, generateCorpus } from '../../workers/corpus/corpus.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { crossEntropy, forward } from '../../workers/engine/model.ts';

const FILE = fileURLToPath(new URL('../../public/default-model.safetensors', import.meta.url));
const model = readCheckpoint(new Uint8Array(readFileSync(FILE)));
const tokenizer = model.tokenizer!;

/** Greedy continuation, recomputing the whole (cropped) context for every token: no KV cache involved. */
function greedy(prompt: string, count: number): string {
  const ids = tokenizer.encode(prompt);
  const V = model.config.vocabSize;
  for (let i = 0; i < count; i++) {
    const context = ids.slice(-model.config.blockSize);
    const logits = forward(model.params, context).logits.subarray((context.length - 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[v]! > logits[best]!) best = v;
    ids.push(best);
  }
  return tokenizer.decode(ids.slice(-count));
}

describe('the shipped default model', () => {
  test('is a few MB at most and carries its config and character vocabulary', () => {
    assert.ok(statSync(FILE).size < 4 * 1024 * 1024, `${statSync(FILE).size} bytes`);
    assert.ok(model.tokenizer, 'tokenizer in the metadata');
    const corpusCharacters = new Set(generateCorpus().text);
    for (const char of corpusCharacters) assert.notEqual(tokenizer.encode(char)[0], 0, `knows ${JSON.stringify(char)}`);
  });

  test('completes most facts of the built-in corpus greedily', () => {
    const wrong = FACTS.filter((fact) => !greedy(fact.prompt, fact.answer.length).startsWith(fact.answer));
    const correct = FACTS.length - wrong.length;
    assert.ok(correct >= 0.8 * FACTS.length, `${correct}/${FACTS.length}; wrong: ${wrong.map((f) => f.prompt).join('; ')}`);
  });

  test('predicts held-out text of the corpus far better than chance', () => {
    // The last tenth of the corpus is the validation split the trainer never trains on.
    const ids = tokenizer.encode(generateCorpus().text);
    const validation = ids.slice(Math.round(ids.length * 0.9));
    const T = model.config.blockSize;
    let total = 0;
    let windows = 0;
    for (let start = 0; start + T + 1 <= validation.length && windows < 40; start += 7 * T, windows++) {
      const { logits } = forward(model.params, validation.slice(start, start + T));
      total += crossEntropy(logits, validation.slice(start + 1, start + T + 1), model.config.vocabSize);
    }
    const loss = total / windows;
    assert.ok(loss < 0.7, `validation loss ${loss.toFixed(3)} (chance: ${Math.log(model.config.vocabSize).toFixed(2)})`);
  });
});
