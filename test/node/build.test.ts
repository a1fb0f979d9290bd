// The two builds of vite.config.ts, checked the way a host page uses them: the
// library is served by a plain static server and loaded with one
// <script type="module"> into an ordinary page, in headless Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import puppeteer from 'puppeteer-core';

const out = mkdtempSync(join(tmpdir(), 'llm-playground-build-'));
const vite = (...args: string[]) =>
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', ...args], { stdio: 'pipe' });

const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>host</title>
<script type="module" src="./lib/llm-playground.js"></script></head>
<body><article><h1>Some article</h1><llm-playground prompt="Hello"></llm-playground></article></body></html>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html' };

function serve(root: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url!, 'http://x').pathname));
    if (path === '/' || path === '/host.html') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(HOST_PAGE);
      return;
    }
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

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

  test('a plain page that loads the library with one script tag gets a working playground', async () => {
    const server = await serve(out);
    const { port } = server.address() as { port: number };
    const browser = await puppeteer.launch({
      executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(`http://127.0.0.1:${port}/host.html`);
      await page.waitForSelector('llm-playground[status="ready"]', { timeout: 30000 });
      const description = await page.evaluate(() => document.querySelector('llm-playground')!.shadowRoot!.textContent!);
      assert.match(description, /trained beforehand and read from default-model\.safetensors/);
      // The next-token chart fills in from the worker: its bars' percentages add up to 100.
      const total = await page.waitForFunction(
        () => {
          const root = document.querySelector('llm-playground')!.shadowRoot!;
          const chart = root.querySelector('llm-next-token-chart')?.shadowRoot;
          const values = [...(chart?.querySelectorAll('[part~="bar-value"]') ?? [])].map((e) => parseFloat(e.textContent!));
          return values.length > 10 ? values.reduce((a, b) => a + b, 0) : 0;
        },
        { timeout: 30000 },
      );
      assert.ok(Math.abs((await total.jsonValue()) - 100) < 0.5);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
