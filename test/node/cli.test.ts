// The real command line, spawned as a user would run it, in a temporary folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { lossAndGradients } from '../../workers/engine/model.ts';
import { createParameters, layerView, type ParameterName } from '../../workers/engine/params.ts';
import { parseSafetensors, readTensor, type SafetensorsFile, writeSafetensors } from '../../workers/engine/safetensors.ts';
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

/** A small model of CORPUS's characters (2 layers, 2 heads, 8 wide, context 16) from `seed`, written to `out`. */
const initSmall = (seed: number, out: string): string =>
  ok(
    'init',
    '--text',
    'corpus.txt',
    '--block-size',
    '16',
    '--n-layer',
    '2',
    '--n-head',
    '2',
    '--n-embd',
    '8',
    '--seed',
    `${seed}`,
    '--out',
    out,
  );

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'llm-playground-cli-'));
  writeFileSync(join(dir, 'corpus.txt'), CORPUS);
  initSmall(77, 'model.safetensors');
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
    initSmall(78, 'other.safetensors');
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
    const { loss } = JSON.parse(
      ok('loss', '--checkpoint', 'model.safetensors', '--tokens', tokens.join(','), '--targets', targets.join(',')),
    );
    close(loss, total / tokens.length, 'loss');
    // A near-untrained model is close to guessing uniformly.
    assert.ok(Math.abs(loss - Math.log(VOCAB.length)) < 0.5);
  });

  test('targets must match the tokens one for one', () => {
    assert.match(
      fails('loss', '--checkpoint', 'model.safetensors', '--tokens', '1,2,3', '--targets', '2,3'),
      /--tokens has 3 ids but --targets has 2/,
    );
  });
});

describe('loss --grads', () => {
  const tokens = [5, 9, 2, 14, 7, 3, 5];
  const targets = [9, 2, 14, 7, 3, 11, 1];
  const lossArgs = (checkpoint: string) => [
    'loss',
    '--checkpoint',
    checkpoint,
    '--tokens',
    tokens.join(','),
    '--targets',
    targets.join(','),
  ];
  const readFile = (name: string): SafetensorsFile => parseSafetensors(readFileSync(join(dir, name)));
  let grads: SafetensorsFile;

  before(() => {
    const report = JSON.parse(ok(...lossArgs('model.safetensors'), '--grads', 'grads.safetensors'));
    assert.equal(report.grads, 'grads.safetensors');
    close(report.loss, JSON.parse(ok(...lossArgs('model.safetensors'))).loss, 'loss with --grads');
    grads = readFile('grads.safetensors');
  });

  test('writes one gradient per tensor of the checkpoint, same names and shapes', () => {
    const model = readFile('model.safetensors');
    assert.deepEqual([...grads.tensors.keys()].sort(), [...model.tensors.keys()].sort());
    for (const [name, { shape }] of model.tensors) assert.deepEqual(grads.tensors.get(name)!.shape, shape, name);
  });

  test('each named tensor holds the gradient of the parameter it names', () => {
    // Hugging Face GPT-2 names, spelled out here: per-layer ones as h.{layer}.<name>.
    const names: [string, ParameterName][] = [
      ['ln_1.weight', 'ln1w'],
      ['ln_1.bias', 'ln1b'],
      ['attn.c_attn.weight', 'qkvw'],
      ['attn.c_attn.bias', 'qkvb'],
      ['attn.c_proj.weight', 'attprojw'],
      ['attn.c_proj.bias', 'attprojb'],
      ['ln_2.weight', 'ln2w'],
      ['ln_2.bias', 'ln2b'],
      ['mlp.c_fc.weight', 'fcw'],
      ['mlp.c_fc.bias', 'fcb'],
      ['mlp.c_proj.weight', 'fcprojw'],
      ['mlp.c_proj.bias', 'fcprojb'],
    ];
    const model = readCheckpoint(readFileSync(join(dir, 'model.safetensors')));
    const expected = createParameters(model.config);
    lossAndGradients(model.params, tokens, targets, 1, tokens.length, expected);
    const L = model.config.nLayer;
    const pairs: [string, Float32Array][] = [
      ['wte.weight', expected.wte],
      ['wpe.weight', expected.wpe],
      ['ln_f.weight', expected.lnfw],
      ['ln_f.bias', expected.lnfb],
      ...names.flatMap(([hf, view]) =>
        Array.from({ length: L }, (_, l) => [`h.${l}.${hf}`, layerView(expected[view], l, L)] as [string, Float32Array]),
      ),
    ];
    assert.equal(pairs.length, grads.tensors.size);
    for (const [name, values] of pairs) {
      // The CLI may multiply matrices in WebAssembly, this process in JavaScript: equal up to rounding.
      const written = readTensor(grads, name);
      const scale = Math.max(...Array.from(values, Math.abs));
      values.forEach((value, i) =>
        assert.ok(Math.abs(written[i]! - value) <= 1e-5 * scale, `${name}[${i}]: ${written[i]} vs ${value}`),
      );
    }
  });

  test('agrees with finite differences of the loss command on the largest entries', () => {
    const model = readFile('model.safetensors');
    const h = 1e-2;
    for (const name of ['h.0.attn.c_attn.weight', 'h.1.mlp.c_fc.weight', 'wte.weight']) {
      const gradient = readTensor(grads, name);
      let index = 0;
      gradient.forEach((g, i) => {
        if (Math.abs(g) > Math.abs(gradient[index]!)) index = i;
      });
      const lossWith = (delta: number): number => {
        const tensors = [...model.tensors.keys()].map((tensorName) => {
          const data = readTensor(model, tensorName);
          if (tensorName === name) data[index]! += delta;
          return { name: tensorName, shape: model.tensors.get(tensorName)!.shape, data };
        });
        writeFileSync(join(dir, 'nudged.safetensors'), writeSafetensors(tensors, model.metadata));
        return JSON.parse(ok(...lossArgs('nudged.safetensors'))).loss;
      };
      const numeric = (lossWith(h) - lossWith(-h)) / (2 * h);
      assert.ok(
        Math.abs(numeric - gradient[index]!) <= 0.02 * Math.abs(numeric) + 1e-4,
        `${name}[${index}]: ${gradient[index]} vs ${numeric}`,
      );
    }
  });
});

describe('train', () => {
  // Long enough for the corpus checks (1,000 characters) and for a validation window.
  const TEXT = 'the quick brown fox jumps over the lazy dog. the lazy dog sleeps in the sun.\n'.repeat(30);
  const args = ['--corpus', 'train.txt', '--preset', 'tiny', '--seed', '5', '--batch-size', '4', '--eval-interval', '10'];

  before(() => writeFileSync(join(dir, 'train.txt'), TEXT));

  test('writes a checkpoint whose loss is well below that of its starting weights, with progress on stderr', () => {
    const { status, stdout, stderr } = cli('train', ...args, '--steps', '30', '--out', 'trained.safetensors');
    assert.equal(status, 0, stderr);
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 3, stderr);
    lines.forEach((line, i) =>
      assert.match(line, new RegExp(`^step ${10 * (i + 1)}/30  loss \\d+\\.\\d{3}  val \\d+\\.\\d{3}  \\d+ tok/s  \\d+s left$`)),
    );
    const report = JSON.parse(stdout);
    assert.deepEqual(report.config, {
      vocabSize: new Set(TEXT).size + 1,
      blockSize: 64,
      nLayer: 2,
      nHead: 4,
      nEmbd: 32,
      tied: true,
    });
    assert.equal(report.tokens, 30 * 4 * 64);
    assert.ok(report.tokensPerSecond > 0 && Number.isFinite(report.validationLoss));

    // The same config and seed through init: the weights training started from.
    ok(
      'init',
      '--text',
      'train.txt',
      '--block-size',
      '64',
      '--n-layer',
      '2',
      '--n-head',
      '4',
      '--n-embd',
      '32',
      '--seed',
      '5',
      '--out',
      'start.safetensors',
    );
    const ids = JSON.parse(
      ok('sample', '--checkpoint', 'trained.safetensors', '--prompt', TEXT.slice(0, 41), '--max-tokens', '1', '--json'),
    ).prompt as number[];
    const lossOf = (checkpoint: string): number =>
      JSON.parse(
        ok('loss', '--checkpoint', checkpoint, '--tokens', ids.slice(0, -1).join(','), '--targets', ids.slice(1).join(',')),
      ).loss;
    const before = lossOf('start.safetensors');
    assert.ok(Math.abs(before - Math.log(report.config.vocabSize)) < 0.3, `start loss ${before}`);
    assert.ok(lossOf('trained.safetensors') < before - 0.5, 'training lowered the loss');
  });

  test('the same seed gives the same checkpoint', () => {
    ok('train', ...args, '--steps', '3', '--out', 'a.safetensors');
    ok('train', ...args, '--steps', '3', '--out', 'b.safetensors');
    assert.deepEqual(readFileSync(join(dir, 'a.safetensors')), readFileSync(join(dir, 'b.safetensors')));
  });

  test('trains on the built-in corpus', () => {
    const report = JSON.parse(
      ok(
        'train',
        '--corpus',
        'builtin',
        '--preset',
        'tiny',
        '--steps',
        '1',
        '--batch-size',
        '2',
        '--eval-batches',
        '1',
        '--out',
        'builtin.safetensors',
      ),
    );
    assert.equal(report.steps, 1);
    assert.ok(existsSync(join(dir, 'builtin.safetensors')));
  });

  test('says clearly what is wrong with its input', () => {
    assert.match(fails('train', '--corpus', 'missing.txt', '--out', 'x.safetensors'), /--corpus: no such file missing.txt/);
    assert.match(
      fails('train', '--corpus', 'corpus.txt', '--out', 'x.safetensors'),
      /has only \d+ characters; training needs at least 1,000/,
    );
    assert.match(
      fails('train', '--corpus', 'train.txt', '--preset', 'huge', '--out', 'x.safetensors'),
      /unknown model preset "huge"/,
    );
    assert.match(fails('train', '--corpus', 'train.txt', '--lr', 'fast', '--out', 'x.safetensors'), /--lr must be a number/);
    assert.match(fails('train', '--corpus', 'train.txt'), /--out is required/);
    assert.ok(!existsSync(join(dir, 'x.safetensors')));
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
    assert.deepEqual(
      first.prompt,
      [...'the '].map((c) => VOCAB.indexOf(c)),
    );
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
  const hfConfig = {
    model_type: 'gpt2',
    vocab_size: V,
    n_positions: T,
    n_embd: C,
    n_layer: L,
    n_head: 2,
    activation_function: 'gelu_new',
  };

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
    assert.match(
      fails('forward', '--checkpoint', 'gpt2/model.safetensors', '--text', 'hi'),
      /no tokenizer.*use --tokens|give token ids with --tokens/,
    );
    const ids = JSON.parse(
      ok('sample', '--checkpoint', 'gpt2/model.safetensors', '--tokens', '1,2', '--max-tokens', '3', '--seed', '4'),
    );
    assert.equal(ids.length, 3);
    assert.ok(ids.every((id: number) => Number.isInteger(id) && id >= 0 && id < V));
  });

  test('without config.json it asks for one; --config supplies it', () => {
    renameSync(join(dir, 'gpt2', 'config.json'), join(dir, 'hf-config.json'));
    try {
      assert.match(
        fails('forward', '--checkpoint', 'gpt2/model.safetensors', '--tokens', '1'),
        /has no config in its metadata: pass --config FILE/,
      );
      const logits = JSON.parse(
        ok('forward', '--checkpoint', 'gpt2/model.safetensors', '--config', 'hf-config.json', '--tokens', '3'),
      );
      close(logits[0][5], expectedLogits([3])[0]![5]!, 'logit with --config');
    } finally {
      renameSync(join(dir, 'hf-config.json'), join(dir, 'gpt2', 'config.json'));
    }
  });
});

describe('mistakes get one clear line and exit code 1', () => {
  test('a missing checkpoint', () => {
    assert.equal(
      fails('forward', '--checkpoint', 'nowhere.safetensors', '--tokens', '1'),
      'llm-playground: checkpoint not found: nowhere.safetensors',
    );
  });

  test('a token id outside the vocabulary', () => {
    assert.match(
      fails('forward', '--checkpoint', 'model.safetensors', '--tokens', `1,${VOCAB.length}`),
      new RegExp(`${VOCAB.length}, outside the vocabulary \\[0, ${VOCAB.length}\\)`),
    );
  });

  test('token ids that are not numbers', () => {
    assert.match(
      fails('forward', '--checkpoint', 'model.safetensors', '--tokens', '1,x'),
      /--tokens must be token ids separated by commas/,
    );
  });

  test('an unknown command or option', () => {
    assert.match(fails('fly'), /unknown command "fly"; commands: init, forward, loss, sample, tokenize, train/);
    assert.match(fails('forward', '--tokenz', '1'), /forward: Unknown option '--tokenz'/);
  });

  test('a file that is not a checkpoint', () => {
    writeFileSync(join(dir, 'notes.txt'), 'just some text, not tensors');
    assert.match(
      fails('forward', '--checkpoint', 'notes.txt', '--tokens', '1'),
      /safetensors: header length \d+ runs past the end/,
    );
  });

  test('a bad sampling setting', () => {
    assert.match(
      fails('sample', '--checkpoint', 'model.safetensors', '--prompt', 'a', '--top-p', '1.5'),
      /top-p must be between 0 and 1/,
    );
    assert.match(
      fails('sample', '--checkpoint', 'model.safetensors', '--prompt', 'a', '--max-tokens', 'many'),
      /--max-tokens must be a whole number/,
    );
  });
});

describe('word pieces (BPE)', () => {
  // A text where " king" and " queen" are frequent enough to become tokens of their own.
  const TEXT = 'the king and the queen. the king saw the queen and the prince.\n'.repeat(40);
  const small = ['--block-size', '16', '--n-layer', '1', '--n-head', '2', '--n-embd', '8'];

  before(() => {
    writeFileSync(join(dir, 'bpe.txt'), TEXT);
    ok('init', '--tokenizer', 'bpe', '--vocab-size', '272', '--text', 'bpe.txt', ...small, '--out', 'bpe.safetensors');
  });

  test('init learns the merges from --text and keeps them in the checkpoint', () => {
    const report = JSON.parse(
      ok('init', '--tokenizer', 'bpe', '--vocab-size', '264', '--text', 'bpe.txt', ...small, '--out', 'bpe264.safetensors'),
    );
    assert.deepEqual(report.tokenizer, { type: 'bpe', size: 264 });
    assert.equal(report.config.vocabSize, 264);
    const metadata = parseSafetensors(readFileSync(join(dir, 'bpe264.safetensors'))).metadata;
    const tokenizer = JSON.parse(metadata.tokenizer!);
    assert.equal(tokenizer.type, 'bpe');
    assert.equal(tokenizer.vocab.length, 264);
    assert.equal(tokenizer.merges.length, 264 - 256);
    // ids 0–255 are the bytes themselves.
    assert.equal(tokenizer.vocab[0x41], 'A');
    assert.equal(tokenizer.vocab[0xc3], '\\xC3');
  });

  test('tokenize prints ids and word pieces, a leading space kept with its word', () => {
    const text = ' the king and the queen';
    const { ids, tokens } = JSON.parse(ok('tokenize', '--checkpoint', 'bpe.safetensors', '--text', text));
    assert.equal(tokens.join(''), text);
    assert.ok(tokens.includes(' king') && tokens.includes(' queen'), tokens.join('|'));
    assert.equal(ids.length, tokens.length);
    assert.ok(ids.every((id: number) => Number.isInteger(id) && id >= 0 && id < 272));
    // Bytes of a character the text never had: each byte its own token, written \xNN.
    const emoji = JSON.parse(ok('tokenize', '--checkpoint', 'bpe.safetensors', '--text', '🎉'));
    assert.deepEqual(emoji, { ids: [0xf0, 0x9f, 0x8e, 0x89], tokens: ['\\xF0', '\\x9F', '\\x8E', '\\x89'] });
  });

  test('tokenize on a character model prints its characters', () => {
    const { ids, tokens } = JSON.parse(ok('tokenize', '--checkpoint', 'model.safetensors', '--text', 'the fox'));
    assert.deepEqual(tokens, [...'the fox']);
    assert.deepEqual(
      ids,
      [...'the fox'].map((c) => VOCAB.indexOf(c)),
    );
  });

  test('sample streams the same UTF-8 text it decodes at once, bytes split across tokens included', () => {
    const args = ['--checkpoint', 'bpe.safetensors', '--prompt', 'the king', '--max-tokens', '40', '--seed', '3'];
    const { text, tokens } = JSON.parse(ok('sample', ...args, '--json'));
    assert.ok(
      tokens.some((id: number) => id >= 0x80 && id < 0x100),
      'random weights draw bytes that are not ASCII',
    );
    assert.equal(ok('sample', ...args), `the king${text}\n`);
  });

  test('train --tokenizer bpe trains on word pieces of the corpus', () => {
    writeFileSync(join(dir, 'bpe-train.txt'), TEXT.repeat(2));
    const report = JSON.parse(
      ok(
        'train',
        '--corpus',
        'bpe-train.txt',
        '--tokenizer',
        'bpe',
        '--vocab-size',
        '272',
        '--preset',
        'tiny',
        '--steps',
        '2',
        '--batch-size',
        '2',
        '--out',
        'bpe-trained.safetensors',
      ),
    );
    assert.equal(report.tokenizer, 'bpe');
    assert.equal(report.config.vocabSize, 272);
    const { tokens } = JSON.parse(ok('tokenize', '--checkpoint', 'bpe-trained.safetensors', '--text', ' the queen'));
    assert.deepEqual(tokens, [' the', ' queen']);
  });

  test('says what is wrong with a tokenizer choice', () => {
    assert.match(
      fails('train', '--tokenizer', 'words', '--out', 'x.safetensors'),
      /--tokenizer must be char or bpe, got "words"/,
    );
    assert.match(fails('train', '--vocab-size', '300', '--out', 'x.safetensors'), /--vocab-size is for --tokenizer bpe/);
    assert.match(fails('init', '--tokenizer', 'bpe', '--vocab-size', '300', '--out', 'x.safetensors'), /needs --text FILE/);
    assert.match(fails('init', '--tokenizer', 'bpe', '--text', 'bpe.txt', '--out', 'x.safetensors'), /needs --vocab-size N/);
    assert.match(
      fails('init', '--tokenizer', 'bpe', '--vocab-size', '4000', '--text', 'bpe.txt', '--out', 'x.safetensors'),
      /too small for 4000 tokens.*choose at most \d+ tokens/,
    );
    assert.ok(!existsSync(join(dir, 'x.safetensors')));
  });
});

describe('help', () => {
  test('each command lists its options', () => {
    assert.match(ok('--help'), /Commands:\n {2}init .*\n {2}forward .*\n {2}loss .*\n {2}sample .*\n {2}tokenize .*\n {2}train /);
    const expected: Record<string, string[]> = {
      init: ['--out', '--config', '--vocab-size', '--seed', '--text', '--tokenizer'],
      tokenize: ['--checkpoint', '--text'],
      forward: ['--checkpoint', '--config', '--tokens', '--text'],
      loss: ['--checkpoint', '--tokens', '--targets', '--grads'],
      sample: ['--checkpoint', '--prompt', '--max-tokens', '--temperature', '--top-k', '--top-p', '--seed'],
      train: [
        '--corpus',
        '--tokenizer',
        '--vocab-size',
        '--preset',
        '--steps',
        '--seed',
        '--out',
        '--batch-size',
        '--lr',
        '--min-lr',
        '--warmup',
        '--weight-decay',
        '--grad-clip',
        '--eval-interval',
        '--eval-batches',
      ],
    };
    for (const [command, flags] of Object.entries(expected)) {
      const help = ok(command, '--help');
      for (const flag of flags) assert.ok(help.includes(`${flag} `), `${command} --help lacks ${flag}`);
    }
  });
});
