// How error messages quote a bad value: its JSON when short, else a prefix of
// its JSON cut at about EXCERPT_LENGTH characters with "…" and the whole size,
// however big or deep the value is.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cut, excerpt, EXCERPT_LENGTH } from '../../workers/api/errors.ts';
import { decideBackend } from '../../workers/backend-choice.ts';
import { corpusFromBytes } from '../../workers/corpus/validate.ts';
import { validateConfig } from '../../workers/engine/config.ts';
import type { TokenDataset } from '../../workers/engine/data.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { presetConfig } from '../../workers/engine/presets.ts';
import { Trainer } from '../../workers/engine/train.ts';

/** Longest quote excerpt() may give: the excerpt, "…" and a size such as " (5,000,000 entries)". */
const MOST = EXCERPT_LENGTH + 40;

describe('excerpt', () => {
  test('quotes a short value as JSON.stringify does', () => {
    const values = [0, -1.5, 'ab', '"quoted"\n', 'é😀', null, true, [], {}, [1, [2, 'x']], { a: 1, b: [null, 'c'] }];
    for (const value of values) assert.equal(excerpt(value), JSON.stringify(value));
  });

  test('names what JSON cannot hold', () => {
    assert.equal(excerpt(undefined), 'undefined');
    assert.equal(excerpt(NaN), 'NaN');
    assert.equal(excerpt(-Infinity), '-Infinity');
  });

  test('cuts a long value to a prefix of its JSON, with its size', () => {
    const cases: [unknown, string][] = [
      [new Array(5_000_000).fill(1), '(5,000,000 entries)'],
      [Array.from({ length: 1000 }, (_, i) => ({ dim: i })), '(1,000 entries)'],
      ['x'.repeat(1_000_000), '(1,000,000 characters)'],
      ['😀'.repeat(500), '(500 characters)'],
      [Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key${i}`, i])), ''],
    ];
    for (const [value, size] of cases) {
      const quoted = excerpt(value);
      assert.ok(quoted.length <= MOST, quoted);
      const [head] = quoted.split('…');
      assert.ok(head!.length >= EXCERPT_LENGTH - 2, quoted);
      // The one reference that walks the value whole, on values small enough for it.
      const json = JSON.stringify(value);
      assert.ok(json.startsWith(head!), quoted);
      assert.ok(quoted.endsWith(size ? `… ${size}` : '…'), quoted);
      assert.doesNotMatch(head!, /[\uD800-\uDBFF]$/, 'no half of a surrogate pair');
    }
  });

  test('quotes a value nested 100,000 deep without walking it', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.throws(() => JSON.stringify(deep), RangeError);
    assert.equal(excerpt(deep), `${'['.repeat(EXCERPT_LENGTH)}… (1 entry)`);
  });
});

describe('cut', () => {
  test('keeps short text and cuts long text by code points', () => {
    assert.equal(cut('h.0.attn.c_attn.bias'), 'h.0.attn.c_attn.bias');
    assert.equal(cut('n'.repeat(1_000_000)), `${'n'.repeat(EXCERPT_LENGTH)}…`);
    assert.equal(cut('😀'.repeat(EXCERPT_LENGTH + 1)), `${'😀'.repeat(EXCERPT_LENGTH)}…`);
  });
});

describe('messages about what a caller sends', () => {
  test('quote a huge training setting, preset, backend or corpus name as an excerpt', () => {
    const huge = 'z'.repeat(1_000_000);
    const params = createParameters(validateConfig({ vocabSize: 4, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, tied: true }));
    const dataset = { train: new Uint16Array(64), validation: new Uint16Array(64) } as unknown as TokenDataset;
    const failures = [
      () => new Trainer(params, dataset, { totalSteps: huge as never }),
      () => new Trainer(params, dataset, { beta1: [huge] as never }),
      () => presetConfig(huge, 10),
      () => decideBackend(huge as never, null),
      () => corpusFromBytes(new Uint8Array([0, 1, 2, 3, 0, 0, 0, 0]), huge),
    ];
    for (const fail of failures) {
      assert.throws(fail, (error: Error) => {
        assert.ok(error.message.length < 400, `${error.message.length} characters: ${error.message.slice(0, 120)}`);
        assert.match(error.message, /zzzz/);
        return true;
      });
    }
  });
});
