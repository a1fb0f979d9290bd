import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParameters, KNOWN_CONFIGS } from '../../workers/engine/params.ts';

test('counts GPT-3 in node', () => {
  assert.equal(countParameters(KNOWN_CONFIGS['GPT-3 175B']!).mlpUp, 57982058496);
});
