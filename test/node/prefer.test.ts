// `prefer` (DPO) run as a user runs it, on the shipped model, with pairs made here: on held-out
// pairs of the same kind the margin of chosen over rejected must rise while the KL to the reference stays small.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { scratchCli, SHIPPED_MODEL } from './scratch-cli.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { withEndOfReply } from '../../workers/engine/dialogue.ts';
import { preferenceLoss } from '../../workers/engine/fine-tune.ts';

const BETA = 0.1;
const { cli, path, writeLines } = scratchCli('llm-prefer-');

/** One kind of preference: the garden over the river, for every noun. */
const NOUNS = [
  'apple',
  'dog',
  'cat',
  'king',
  'queen',
  'prince',
  'tree',
  'house',
  'river',
  'bird',
  'horse',
  'ship',
  'wolf',
  'castle',
];
const pair = (noun: string) => ({
  prompt: `User: Where is the ${noun}? Assistant:`,
  chosen: ` The ${noun} is in the garden.`,
  rejected: ` The ${noun} is in the river.`,
});
const TRAINING = NOUNS.filter((_, i) => i % 4 !== 3).map(pair);
const HELD_OUT = NOUNS.filter((_, i) => i % 4 === 3).map(pair); // king, house, ship: never tuned on

/** DPO's figures on the held-out pairs for a tuned checkpoint against the shipped one. */
function heldOut(path: string) {
  const reference = readCheckpoint(readFileSync(SHIPPED_MODEL));
  const model = readCheckpoint(readFileSync(path));
  const encode = (text: string) => model.tokenizer!.encode(text);
  const pairs = HELD_OUT.map(({ prompt, chosen, rejected }) => ({
    prompt: encode(prompt),
    chosen: encode(withEndOfReply(chosen)),
    rejected: encode(withEndOfReply(rejected)),
  }));
  return preferenceLoss(model.params, reference.params, pairs, BETA);
}

describe('prefer', () => {
  test('raises the margin of chosen over rejected on held-out pairs, the KL to the reference under 0.5 nats', () => {
    const data = writeLines('pairs.jsonl', TRAINING);
    const args = ['--data', data, '--beta', String(BETA), '--steps', '20', '--out', 'tuned.safetensors'];
    const result = cli('prefer', '--checkpoint', SHIPPED_MODEL, ...args);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 20);
    // The first step is measured before any update: the policy is the reference.
    assert.equal(lines[0], 'step 1/20  loss 0.6931  margin 0.0000  kl 0.0000');
    const before = heldOut(SHIPPED_MODEL);
    const after = heldOut(path('tuned.safetensors'));
    // Measured: margin 0 → 18.1 nats, log-probability margin 2.1 → 20.1, KL 0.30 nats a token.
    assert.equal(before.margin, 0);
    assert.ok(after.margin > 5, `held-out margin ${after.margin}`);
    assert.ok(after.logProbMargin > before.logProbMargin + 5, `log-prob margin ${before.logProbMargin} → ${after.logProbMargin}`);
    assert.ok(after.kl < 0.5, `KL ${after.kl}`);
  });

  test('skips a pair too long for the context, refuses chosen equal to rejected', () => {
    const long = { prompt: `User: ${'word '.repeat(80)}Assistant:`, chosen: ' yes.', rejected: ' no.' };
    const data = writeLines('long.jsonl', [long, pair('dog')]);
    const result = cli('prefer', '--checkpoint', SHIPPED_MODEL, '--data', data, '--steps', '1', '--out', 'x.safetensors');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /--data line 1 skipped: prompt and answer are \d+ tokens; the model reads at most 65/);
    assert.equal(JSON.parse(result.stdout).pairs, 1);

    const same = writeLines('same.jsonl', [pair('dog'), { ...pair('cat'), rejected: pair('cat').chosen }]);
    const refused = cli('prefer', '--checkpoint', SHIPPED_MODEL, '--data', same, '--out', 'x.safetensors');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^llm-playground: --data line 2: the chosen answer is the same as the rejected one/);

    const none = cli(
      'prefer',
      '--checkpoint',
      SHIPPED_MODEL,
      '--data',
      writeLines('none.jsonl', [long]),
      '--out',
      'x.safetensors',
    );
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--data has no pair the model can learn from/);
    assert.match(
      cli('prefer', '--checkpoint', SHIPPED_MODEL, '--data', data, '--beta', '0', '--out', 'x').stderr,
      /--beta must be > 0/,
    );
  });
});
