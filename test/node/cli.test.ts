// The real command line, spawned as a user would run it, in a temporary folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors } from '../../workers/engine/safetensors.ts';
import { Random } from '../../workers/engine/random.ts';

const CLI = fileURLToPath(new URL('../../workers/cli.mjs', import.meta.url));
let dir = '';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const { status, stdout, stderr } = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
  return { status, stdout, stderr };
}

/** Runs a command that must succeed; returns its stdout. */
function ok(...args: string[]): string {
  const result = cli(...args);
  assert.equal(result.status, 0, `${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Runs a command that must fail with one clear line on stderr; returns that line. */
function fails(...args: string[]): string {
  const { status, stdout, stderr } = cli(...args);
  assert.equal(status, 1, `${args.join(' ')} should exit 1`);
  assert.equal(stdout, '');
  assert.match(stderr, /^llm-playground: [^\n]+\n$/, `not one line: ${stderr}`);
  assert.doesNotMatch(stderr, /\bat .*:\d+:\d+/, 'no stack trace');
  return stderr.trim();
}

const close = (actual: number, expected: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= 2e-5 * (1 + Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
};

// A corpus of our own, so the vocabulary is not the default one.
const CORPUS = 'the quick brown fox jumps over the lazy dog\nTHE END.\n';
/** The vocabulary a character tokenizer must build from CORPUS: unknown token, then the characters in order. */
const VOCAB = ['\uFFFD', ...[...new Set(CORPUS)].sort()];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'llm-playground-cli-'));
  writeFileSync(join(dir, 'corpus.txt'), CORPUS);
  ok('init', '--text', 'corpus.txt', '--block-size', '16', '--n-layer', '2', '--n-head', '2', '--n-embd', '8', '--seed', '77', '--out', 'model.safetensors');
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('init and forward', () => {
  test('init reports the checkpoint it wrote', () => {
    const report = JSON.parse(ok('init', '--seed', '5', '--untied', '--n-layer', '1', '--out', 'default.safetensors'));
    assert.deepEqual(report.config, { vocabSize: 97, blockSize: 64, nLayer: 1, nHead: 4, nEmbd: 64, tied: false });
    assert.equal(report.tokenizer.size, 97);
    assert.ok(existsSync(join(dir, 'default.safetensors')));
  });

  test('forward prints finite T×V logits', () => {
    const logits: number[][] = JSON.parse(ok('forward', '--checkpoint', 'model.safetensors', '--tokens', '3,1,4,1,5'));
    assert.equal(logits.length, 5);
    for (const row of logits) {
      assert.equal(row.length, VOCAB.length);
      assert.ok(row.every(Number.isFinite));
    }
    assert.notDeepEqual(logits[0], logits[1], 'positions differ');
  });

  test('--text gives the same logits as --tokens of its characters', () => {
    const text = 'the fox';
    const ids = [...text].map((c) => VOCAB.indexOf(c));
    const fromText = ok('forward', '--checkpoint', 'model.safetensors', '--text', text);
    assert.equal(fromText, ok('forward', '--checkpoint', 'model.safetensors', '--tokens', ids.join(',')));
  });

  test('seeds decide the weights', () => {
    ok('init', '--text', 'corpus.txt', '--block-size', '16', '--n-layer', '2', '--n-head', '2', '--n-embd', '8', '--seed', '78', '--out', 'other.safetensors');
    const a = ok('forward', '--checkpoint', 'model.safetensors', '--tokens', '2,7');
    const b = ok('forward', '--checkpoint', 'other.safetensors', '--tokens', '2,7');
    assert.notEqual(a, b);
  });

  test('init refuses a vocabulary size that does not fit --text', () => {
    assert.match(
      fails('init', '--text', 'corpus.txt', '--vocab-size', '50', '--out', 'bad.safetensors'),
      new RegExp(`vocabSize 50 does not match the ${VOCAB.length} tokens built from --text`),
    );
    assert.ok(!existsSync(join(dir, 'bad.safetensors')));
  });
});

describe('loss', () => {
  test('equals −mean log softmax of the logits forward prints', () => {
    const tokens = [5, 9, 2, 14, 7, 3];
    const targets = [9, 2, 14, 7, 3, 11];
    const logits: number[][] = JSON.parse(ok('forward', '--checkpoint', 'model.safetensors', '--tokens', tokens.join(',')));
    let total = 0;
    logits.forEach((row, t) => {
      const max = Math.max(...row);
      const logSumExp = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
      total += logSumExp - row[targets[t]!]!;
    });
    const { loss } = JSON.parse(ok('loss', '--checkpoint', 'model.safetensors', '--tokens', tokens.join(','), '--targets', targets.join(',')));
    close(loss, total / tokens.length, 'loss');
    // A near-untrained model is close to guessing uniformly.
    assert.ok(Math.abs(loss - Math.log(VOCAB.length)) < 0.5);
  });

  test('--grads says the backward pass is not there yet and writes nothing', () => {
    const message = fails('loss', '--checkpoint', 'model.safetensors', '--tokens', '1,2', '--targets', '2,3', '--grads', 'grads.safetensors');
    assert.equal(message, 'llm-playground: --grads is not available yet: the backward pass arrives with the trainer; nothing was written');
    assert.ok(!existsSync(join(dir, 'grads.safetensors')));
  });

  test('targets must match the tokens one for one', () => {
    assert.match(fails('loss', '--checkpoint', 'model.safetensors', '--tokens', '1,2,3', '--targets', '2,3'), /--tokens has 3 ids but --targets has 2/);
  });
});

describe('sample', () => {
  const sample = (...extra: string[]) =>
    JSON.parse(ok('sample', '--checkpoint', 'model.safetensors', '--prompt', 'the ', '--max-tokens', '12', '--json', ...extra));

  test('the same seed gives the same text, other seeds other text', () => {
    const first = sample('--seed', '1', '--temperature', '1.5');
    assert.deepEqual(sample('--seed', '1', '--temperature', '1.5'), first);
    assert.notDeepEqual(sample('--seed', '2', '--temperature', '1.5').tokens, first.tokens);
    assert.equal(first.tokens.length, 12);
    assert.equal(first.text, first.tokens.map((id: number) => VOCAB[id]).join(''));
    assert.deepEqual(first.prompt, [...'the '].map((c) => VOCAB.indexOf(c)));
  });

  test('temperature 0 is greedy: each token is the argmax of forward over the text so far', () => {
    const greedy = sample('--seed', '1', '--temperature', '0', '--max-tokens', '4');
    assert.deepEqual(sample('--seed', '999', '--temperature', '0', '--max-tokens', '4'), greedy);
    const context: number[] = [...greedy.prompt];
    for (const id of greedy.tokens) {
      const logits: number[][] = JSON.parse(ok('forward', '--checkpoint', 'model.safetensors', '--tokens', context.join(',')));
      const last = logits[logits.length - 1]!;
      assert.equal(id, last.indexOf(Math.max(...last)));
      context.push(id);
    }
  });

  test('prints the prompt and its continuation as text', () => {
    const { text } = sample('--seed', '3');
    const printed = ok('sample', '--checkpoint', 'model.safetensors', '--prompt', 'the ', '--max-tokens', '12', '--seed', '3');
    assert.equal(printed, `the ${text}\n`);
  });
});

describe('a Hugging Face GPT-2 file with config.json beside it', () => {
  const V = 11;
  const T = 8;
  const C = 16;
  const L = 2;
  const random = new Random(20240611);
  const tensor = (shape: number[], std = 0.7): { shape: number[]; data: Float32Array } => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    random.fillNormal(data, std);
    return { shape, data };
  };
  // Everything random, except the two projections back into the residual stream,
  // which are zero: each block then only adds its two output biases, so the logits
  // reduce to LayerNorm_f(wte[token] + wpe[position] + Σ biases) · wteᵀ.
  const weights: Record<string, { shape: number[]; data: Float32Array }> = {
    'transformer.wte.weight': tensor([V, C]),
    'transformer.wpe.weight': tensor([T, C]),
    'transformer.ln_f.weight': tensor([C]),
    'transformer.ln_f.bias': tensor([C]),
  };
  for (let l = 0; l < L; l++) {
    const h = `transformer.h.${l}`;
    Object.assign(weights, {
      [`${h}.ln_1.weight`]: tensor([C]),
      [`${h}.ln_1.bias`]: tensor([C]),
      [`${h}.attn.bias`]: { shape: [1, 1, T, T], data: new Float32Array(T * T).fill(1) },
      [`${h}.attn.c_attn.weight`]: tensor([C, 3 * C]),
      [`${h}.attn.c_attn.bias`]: tensor([3 * C]),
      [`${h}.attn.c_proj.weight`]: { shape: [C, C], data: new Float32Array(C * C) },
      [`${h}.attn.c_proj.bias`]: tensor([C]),
      [`${h}.ln_2.weight`]: tensor([C]),
      [`${h}.ln_2.bias`]: tensor([C]),
      [`${h}.mlp.c_fc.weight`]: tensor([C, 4 * C]),
      [`${h}.mlp.c_fc.bias`]: tensor([4 * C]),
      [`${h}.mlp.c_proj.weight`]: { shape: [4 * C, C], data: new Float32Array(4 * C * C) },
      [`${h}.mlp.c_proj.bias`]: tensor([C]),
    });
  }
  const hfConfig = { model_type: 'gpt2', vocab_size: V, n_positions: T, n_embd: C, n_layer: L, n_head: 2, activation_function: 'gelu_new' };

  /** The reduced model above, computed in float64 with plain loops. */
  function expectedLogits(tokens: number[]): number[][] {
    const w = (name: string) => weights[`transformer.${name}`]!.data;
    return tokens.map((token, t) => {
      const x = Array.from({ length: C }, (_, c) => {
        let value = w('wte.weight')[token * C + c]! + w('wpe.weight')[t * C + c]!;
        for (let l = 0; l < L; l++) value += w(`h.${l}.attn.c_proj.bias`)[c]! + w(`h.${l}.mlp.c_proj.bias`)[c]!;
        return value;
      });
      const mean = x.reduce((a, b) => a + b, 0) / C;
      const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
      const normed = x.map((v, c) => ((v - mean) / Math.sqrt(variance + 1e-5)) * w('ln_f.weight')[c]! + w('ln_f.bias')[c]!);
      return Array.from({ length: V }, (_, v) => normed.reduce((sum, n, c) => sum + n * w('wte.weight')[v * C + c]!, 0));
    });
  }

  before(() => {
    mkdirSync(join(dir, 'gpt2'));
    const tensors = Object.entries(weights).map(([name, { shape, data }]) => ({ name, shape, data }));
    writeFileSync(join(dir, 'gpt2', 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
    writeFileSync(join(dir, 'gpt2', 'config.json'), JSON.stringify(hfConfig));
  });

  test('loads and gives the logits of the reduced model', () => {
    const tokens = [4, 10, 0, 7, 7, 2];
    const logits: number[][] = JSON.parse(ok('forward', '--checkpoint', 'gpt2/model.safetensors', '--tokens', tokens.join(',')));
    const expected = expectedLogits(tokens);
    assert.equal(logits.length, tokens.length);
    logits.forEach((row, t) => {
      assert.equal(row.length, V);
      row.forEach((value, v) => close(value, expected[t]![v]!, `logit [${t}, ${v}]`));
    });
  });

  test('has no tokenizer, so text is refused and token ids work', () => {
    assert.match(fails('forward', '--checkpoint', 'gpt2/model.safetensors', '--text', 'hi'), /no tokenizer.*use --tokens|give token ids with --tokens/);
    const ids = JSON.parse(ok('sample', '--checkpoint', 'gpt2/model.safetensors', '--tokens', '1,2', '--max-tokens', '3', '--seed', '4'));
    assert.equal(ids.length, 3);
    assert.ok(ids.every((id: number) => Number.isInteger(id) && id >= 0 && id < V));
  });

  test('without config.json it asks for one; --config supplies it', () => {
    renameSync(join(dir, 'gpt2', 'config.json'), join(dir, 'hf-config.json'));
    try {
      assert.match(fails('forward', '--checkpoint', 'gpt2/model.safetensors', '--tokens', '1'), /has no config in its metadata: pass --config FILE/);
      const logits = JSON.parse(ok('forward', '--checkpoint', 'gpt2/model.safetensors', '--config', 'hf-config.json', '--tokens', '3'));
      close(logits[0][5], expectedLogits([3])[0]![5]!, 'logit with --config');
    } finally {
      renameSync(join(dir, 'hf-config.json'), join(dir, 'gpt2', 'config.json'));
    }
  });
});

describe('mistakes get one clear line and exit code 1', () => {
  test('a missing checkpoint', () => {
    assert.equal(fails('forward', '--checkpoint', 'nowhere.safetensors', '--tokens', '1'), 'llm-playground: checkpoint not found: nowhere.safetensors');
  });

  test('a token id outside the vocabulary', () => {
    assert.match(fails('forward', '--checkpoint', 'model.safetensors', '--tokens', `1,${VOCAB.length}`), new RegExp(`${VOCAB.length}, outside the vocabulary \\[0, ${VOCAB.length}\\)`));
  });

  test('token ids that are not numbers', () => {
    assert.match(fails('forward', '--checkpoint', 'model.safetensors', '--tokens', '1,x'), /--tokens must be token ids separated by commas/);
  });

  test('an unknown command or option', () => {
    assert.match(fails('train'), /unknown command "train"; commands: init, forward, loss, sample/);
    assert.match(fails('forward', '--tokenz', '1'), /forward: Unknown option '--tokenz'/);
  });

  test('a file that is not a checkpoint', () => {
    writeFileSync(join(dir, 'notes.txt'), 'just some text, not tensors');
    assert.match(fails('forward', '--checkpoint', 'notes.txt', '--tokens', '1'), /safetensors: header length \d+ runs past the end/);
  });

  test('a bad sampling setting', () => {
    assert.match(fails('sample', '--checkpoint', 'model.safetensors', '--prompt', 'a', '--top-p', '1.5'), /top-p must be between 0 and 1/);
    assert.match(fails('sample', '--checkpoint', 'model.safetensors', '--prompt', 'a', '--max-tokens', 'many'), /--max-tokens must be a whole number/);
  });
});

describe('help', () => {
  test('each command lists its options', () => {
    assert.match(ok('--help'), /Commands:\n {2}init .*\n {2}forward .*\n {2}loss .*\n {2}sample /);
    const expected: Record<string, string[]> = {
      init: ['--out', '--config', '--vocab-size', '--seed', '--text'],
      forward: ['--checkpoint', '--config', '--tokens', '--text'],
      loss: ['--checkpoint', '--tokens', '--targets', '--grads'],
      sample: ['--checkpoint', '--prompt', '--max-tokens', '--temperature', '--top-k', '--top-p', '--seed'],
    };
    for (const [command, flags] of Object.entries(expected)) {
      const help = ok(command, '--help');
      for (const flag of flags) assert.ok(help.includes(`${flag} `), `${command} --help lacks ${flag}`);
    }
  });
});
