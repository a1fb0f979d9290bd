// The two builds of vite.config.ts, checked file by file. How a page and an app use the library,
// in headless Chromium, is consumers.test.ts (from the packed package).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = mkdtempSync(join(tmpdir(), 'llm-playground-build-'));
const vite = (...args: string[]) =>
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', ...args], { stdio: 'pipe' });

describe('vite builds', () => {
  before(() => {
    vite('--outDir', join(out, 'site'));
    vite('--mode', 'lib', '--outDir', join(out, 'lib'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test('the site build holds the full-page demo, the article page and the default model', () => {
    assert.ok(existsSync(join(out, 'site', 'index.html')));
    assert.ok(existsSync(join(out, 'site', 'src', 'demo', 'article.html')));
    assert.ok(existsSync(join(out, 'site', 'default-model.safetensors')));
  });

  test('the library is one ES module with its worker as a separate file loaded by URL', () => {
    const library = readFileSync(join(out, 'lib', 'llm-playground.js'), 'utf8');
    const workers = readdirSync(join(out, 'lib', 'assets')).filter((f) => f.startsWith('engine.worker'));
    assert.equal(workers.length, 1);
    assert.ok(library.includes(`new URL("assets/${workers[0]}", import.meta.url)`), 'worker referenced by URL');
    // Vite inlines a worker as a data: URL or as a Blob of its source typed text/javascript (the export button's Blob is another).
    assert.ok(
      !library.includes('data:text/javascript') && !library.includes('text/javascript;charset=utf-8'),
      'worker not inlined',
    );
    // Every element registers through src/define.ts (the bundle renames it), which calls customElements.define once.
    assert.match(library, /\b[\w$]+\("llm-playground", [\w$]+\)/);
    assert.equal(library.split('customElements.define(').length - 1, 1);
    // The default model ships as a file beside the module, not inlined into it.
    assert.ok(library.includes('new URL("default-model.safetensors", import.meta.url)'));
    assert.ok(existsSync(join(out, 'lib', 'default-model.safetensors')));
    // A budget for the elements' own code, unminified as a library ships it (the host's bundler minifies): 509 KB
    // (137 KB gzipped) once the tuning panels came; a bound to notice a library that suddenly grows.
    assert.ok(library.length < 600_000, `library is ${library.length} bytes`);
  });

  test("web-llm is not in the library's initial chunk nor in the worker's: it is a chunk of its own, loaded when the chat is used", () => {
    // web-llm's code names the repository of its compiled model libraries.
    const WEB_LLM = 'binary-mlc-llm-libs';
    const assets = readdirSync(join(out, 'lib', 'assets'));
    const read = (name: string) => readFileSync(join(out, 'lib', 'assets', name), 'utf8');
    assert.ok(!readFileSync(join(out, 'lib', 'llm-playground.js'), 'utf8').includes(WEB_LLM), 'not in the initial chunk');
    const worker = assets.find((f) => f.startsWith('engine.worker'))!;
    assert.ok(!read(worker).includes(WEB_LLM), 'not in the worker chunk');
    const chunks = assets.filter((f) => f.endsWith('.js') && read(f).includes(WEB_LLM));
    assert.equal(chunks.length, 1, `one chunk holds web-llm: ${chunks.join(', ')}`);
    assert.ok(read(worker).includes(chunks[0]!), 'the worker imports it by name (dynamically)');
  });

  test("the library names its worker's files in the form an app's bundler follows, and the React entry imports it", () => {
    const library = readFileSync(join(out, 'lib', 'llm-playground.js'), 'utf8');
    for (const file of ['cpu-thread.js', 'web-llm.js']) {
      assert.ok(library.includes(`new URL("./assets/${file}", import.meta.url)`), `${file} named from the main module`);
      assert.ok(existsSync(join(out, 'lib', 'assets', file)));
    }
    const react = readFileSync(join(out, 'lib', 'react.js'), 'utf8');
    assert.match(react, /from "\.\/llm-playground\.js";/);
    assert.match(react, /from "react";/);
    assert.ok(!react.includes('customElements.define('), 'one copy of the elements: the entry defines them');
  });
});
