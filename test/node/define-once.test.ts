// Every custom element of the package registers through src/define.ts, which a second copy
// of the package on the page does not crash (test/browser/two-copies.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src', import.meta.url));

test('no element of src/ calls customElements.define() itself', () => {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  const direct = files.filter(
    (file) => file !== 'define.ts' && readFileSync(join(src, file), 'utf8').includes('customElements.define('),
  );
  assert.deepEqual(direct, []);
  const defined = files.filter((file) => /^define\('llm-[a-z-]+', /m.test(readFileSync(join(src, file), 'utf8')));
  assert.ok(defined.length >= 50, `elements that register through define(): ${defined.length}`);
});
