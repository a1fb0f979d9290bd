// `finetune` run as a user runs it, on the shipped model, with dialogues made here:
// SFT must lower the answer loss on dialogues it never saw, and refuse or skip bad lines clearly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { scratchCli, SHIPPED_MODEL } from './scratch-cli.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { splitDialogue } from '../../workers/engine/dialogue.ts';
import { answerLoss } from '../../workers/engine/fine-tune.ts';

const { cli, path, writeLines } = scratchCli('llm-finetune-');

/** A kind of exchange the built-in corpus never has: the answer repeats a word of the question. */
const NOUNS = ['apple', 'dog', 'cat', 'king', 'queen', 'prince', 'tree', 'house', 'river', 'bird', 'horse', 'ship'];
const dialogue = (noun: string) => `User: Say the word ${noun} twice. Assistant: ${noun} ${noun}.`;
const TRAINING = NOUNS.filter((_, i) => i % 4 !== 3).map((noun) => ({ text: dialogue(noun) }));
const HELD_OUT = NOUNS.filter((_, i) => i % 4 === 3).map(dialogue); // king, house, ship: never trained on

/** The mean −log p of the held-out answers' tokens (end marker included) under a checkpoint. */
function heldOutLoss(path: string): number {
  const model = readCheckpoint(readFileSync(path));
  const texts = HELD_OUT.map((text) => {
    const { prompt, answer } = splitDialogue(text)!;
    return { prompt: model.tokenizer!.encode(prompt), answer: model.tokenizer!.encode(answer) };
  });
  return answerLoss(model.params, texts);
}

describe('finetune', () => {
  test('lowers the answer loss on held-out dialogues of the kind it was tuned on', () => {
    const data = writeLines('dialogues.jsonl', TRAINING);
    const result = cli('finetune', '--checkpoint', SHIPPED_MODEL, '--data', data, '--out', 'tuned.safetensors', '--steps', '20');
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 20);
    assert.match(lines[0]!, /^step 1\/20 {2}loss \d+\.\d{4}$/);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.dialogues, TRAINING.length);
    const before = heldOutLoss(SHIPPED_MODEL);
    const after = heldOutLoss(path('tuned.safetensors'));
    // Measured: 8.47 nats a token before, 1.52 after.
    assert.ok(before > 5, `held-out loss before ${before}`);
    assert.ok(after < before / 3, `held-out loss ${before} → ${after}`);
  });

  test('takes {"prompt", "answer"} lines, skips one too long for the context, and takes any character', () => {
    const long = 'word '.repeat(80);
    const data = writeLines('mixed.jsonl', [
      { prompt: 'User: Say the word dog twice. Assistant:', answer: ' dog dog.' },
      { prompt: `User: ${long} Assistant:`, answer: ' no.' },
      { text: 'User: Say the word cat twice. Assistant: cat cat ☃.' },
    ]);
    const result = cli('finetune', '--checkpoint', SHIPPED_MODEL, '--data', data, '--out', 'mixed.safetensors', '--steps', '2');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /--data line 2 skipped: prompt and answer are \d+ tokens; the model reads at most 65/);
    // The shipped model's byte-level BPE spells ☃ from its UTF-8 bytes, as training does: nothing is unknown.
    assert.doesNotMatch(result.stderr, /not in the vocabulary/);
    assert.deepEqual(JSON.parse(result.stdout).skipped, 1);
    assert.ok(readCheckpoint(readFileSync(path('mixed.safetensors'))).tokenizer, 'the tuned checkpoint keeps its tokenizer');
  });

  test('reads characters a character vocabulary lacks as the unknown token, with one note, as training does', () => {
    const init = cli('init', '--out', 'char.safetensors', '--n-layer', '1', '--n-head', '2', '--n-embd', '16');
    assert.equal(init.status, 0, init.stderr);
    const data = writeLines('snow.jsonl', [{ text: 'User: Snow? Assistant: ☃ and ❄.' }, { text: 'User: Sun? Assistant: ☀.' }]);
    const result = cli(
      'finetune',
      '--checkpoint',
      'char.safetensors',
      '--data',
      data,
      '--out',
      'snow.safetensors',
      '--steps',
      '1',
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^note: "☃" "❄" "☀" not in the vocabulary, read as the unknown token \(id 0\)$/m);
  });

  test('bad lines fail with one clear message', () => {
    const cases: [unknown[], RegExp][] = [
      [[{ text: 'no cue here' }], /line 1: "text" must read "User: … Assistant: …"/],
      [[{ prompt: 'User: hi Assistant:' }], /line 1: "answer" must be a non-empty string/],
      [[{ other: 1 }], /line 1: give \{"prompt": …, "answer": …\} or \{"text": …\}/],
    ];
    for (const [objects, message] of cases) {
      const result = cli(
        'finetune',
        '--checkpoint',
        SHIPPED_MODEL,
        '--data',
        writeLines('bad.jsonl', objects),
        '--out',
        'x.safetensors',
      );
      assert.equal(result.status, 1);
      assert.match(result.stderr, message);
    }
    writeFileSync(path('broken.jsonl'), '{"text": \n');
    assert.match(
      cli('finetune', '--checkpoint', SHIPPED_MODEL, '--data', 'broken.jsonl', '--out', 'x').stderr,
      /line 1 is not valid JSON/,
    );
  });
});
