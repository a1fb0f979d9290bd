// The package as an app gets it: `npm pack` (which builds the library), the tarball installed into fresh
// projects (a Vite vanilla-TS app, a Vite + React app that uses the wrapper, a plain page of static files),
// each type-checked in strict TypeScript and built, then served by a small server that logs what it serves,
// and opened in headless Chromium. The page must reach `ready`, predict and generate, with the engine worker,
// its CPU threads (the server sends the isolation headers), the default model and, on the chat's first use
// only, web-llm's chunk all loaded from the app's own build output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { ISOLATION_HEADERS } from '../../vite.config.ts';
import { expectPrediction, expectWeightsFrom, generate, WAIT_MS } from './playground-page.ts';
import { launchChromium } from '../first-screen.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ours = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  customElements: string;
  types: string;
};
const work = mkdtempSync(join(tmpdir(), 'llm-playground-consumers-'));
/** Consumers take the versions this project tests with, which `npm ci` has already put in npm's cache. */
const version = (name: string) => ours.devDependencies[name]!;

let tarball: string;
let browser: Browser;

before(async () => {
  execFileSync('npm', ['pack', '--pack-destination', work], { cwd: root, stdio: 'pipe' });
  tarball = join(
    work,
    readdirSync(work).find((name) => name.endsWith('.tgz'))!,
  );
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh project in its own folder: these files, and the tarball and `dependencies` installed by npm. */
function project(name: string, files: Record<string, string>, dependencies: string[]): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const deps = Object.fromEntries([['llm-playground', `file:${tarball}`], ...dependencies.map((dep) => [dep, version(dep)])]);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module', dependencies: deps }),
  );
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'pipe' });
  return dir;
}

/** Runs a tool installed in the project (tsc, vite) from the project's folder; its output is the error's message. */
function run(dir: string, bin: string, ...args: string[]): void {
  try {
    execFileSync(join(dir, 'node_modules/.bin', bin), args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    assert.fail(`${bin} ${args.join(' ')} failed in the ${dir.split(sep).pop()} app:\n${stdout}${stderr}`);
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
};

interface Served {
  url: string;
  /** The paths asked for, in order. */
  asked: string[];
  close(): Promise<void>;
}

/** Serves `dir` as static files with the isolation headers, as a host of the app would, and logs every path asked for. */
async function serve(dir: string): Promise<Served> {
  const asked: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url!, 'http://host').pathname);
    asked.push(path);
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, ISOLATION_HEADERS).end('not found');
      return;
    }
    response.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', ...ISOLATION_HEADERS });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    asked,
    // Chromium keeps its connections open: without closing them, close() would wait for them to time out.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The app's page in a new tab; every request it or its workers make is kept, to check where they went. */
async function open(served: Served): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => void requests.push(request.url()));
  page.on('pageerror', (error) => void errors.push(String(error)));
  await page.goto(served.url);
  return { page, requests, errors };
}

/** The one path asked for that matches `pattern` (a built file's name changes with its contents). */
function askedFor(served: Served, pattern: RegExp): string[] {
  return served.asked.filter((path) => pattern.test(path));
}

/**
 * The checks every consumer passes: ready, a prediction, a generated continuation, the engine worker, a CPU
 * thread's script and the default model from the app's own files (`assets` is where its build puts them), the
 * chat's web-llm chunk only once the chat opens, and no request that leaves the app's server.
 */
async function expectWorking(dir: string, assets: string, alsoCheck?: (page: Page) => Promise<void>): Promise<void> {
  const served = await serve(dir);
  try {
    const { page, requests, errors } = await open(served);
    await expectPrediction(page);
    await expectWeightsFrom(page, /read from default-model[\w-]*\.safetensors\./);
    assert.ok((await generate(page)).length > 0, 'Generate wrote something');
    await alsoCheck?.(page);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the server sends the isolation headers');
    // A one-core machine runs one thread, and never asks for a CPU thread's script.
    const manyCores = (await page.evaluate(() => navigator.hardwareConcurrency)) > 1;
    if (manyCores) {
      const threads = await page.waitForFunction(
        () => {
          const picker = document.querySelector('llm-playground')!.shadowRoot!.querySelector('llm-backend-picker');
          return picker?.shadowRoot?.textContent?.match(/× (\d+) threads/)?.[1] ?? null;
        },
        { timeout: WAIT_MS },
      );
      assert.ok(Number(await threads.jsonValue()) >= 2, 'the CPU backend runs on more than one thread');
    }

    const files: [string, RegExp][] = [
      ['the engine worker', /engine\.worker[^/]*\.js$/],
      ['the default model', /default-model[^/]*\.safetensors$/],
    ];
    if (manyCores) files.push(['a CPU thread', /cpu-thread[^/]*\.js$/]);
    for (const [what, pattern] of files) {
      const paths = askedFor(served, pattern);
      assert.ok(paths.length > 0, `${what} was not asked for: ${served.asked.join(', ')}`);
      for (const path of paths)
        assert.ok(path.startsWith(`/${assets}`), `${what} came from ${path}, not from the app's ${assets}`);
      for (const path of paths) assert.ok(existsSync(join(dir, path)), `${what} (${path}) is a file of the app's build`);
    }
    assert.deepEqual(askedFor(served, /web-llm/), [], "web-llm's chunk is loaded only when the chat opens");

    await page.evaluate(() => document.querySelector('llm-playground')!.toggleAttribute('chat', true));
    await waitUntil(() => askedFor(served, /web-llm[^/]*\.js$/).length > 0, "web-llm's chunk once the chat opened");
    assert.ok(askedFor(served, /web-llm[^/]*\.js$/).every((path) => path.startsWith(`/${assets}`)));

    const elsewhere = requests.filter((url) => !url.startsWith(served.url) && !/^(data|blob):/.test(url));
    assert.deepEqual(elsewhere, [], 'every request goes to the app');
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await served.close();
  }
}

/** Polls `done` (what the server logged) until it holds, for up to WAIT_MS. */
async function waitUntil(done: () => boolean, what: string): Promise<void> {
  for (const start = Date.now(); !done();) {
    if (Date.now() - start > WAIT_MS) assert.fail(`waited for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const STRICT_TS = {
  compilerOptions: {
    target: 'ES2022',
    module: 'ESNext',
    moduleResolution: 'Bundler',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    strict: true,
    noEmit: true,
    // As Vite's templates set it: web-llm's own declarations name types (chrome.*) that a web app lacks.
    skipLibCheck: true,
    jsx: 'react-jsx',
  },
  include: ['src'],
};

const page = (body: string, script: string) =>
  `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>An app</title></head>\n<body>\n${body}\n<script type="module" src="${script}"></script>\n</body>\n</html>\n`;

describe('the packed package in fresh apps', { timeout: 600_000 }, () => {
  test('the tarball holds the library, its types, its manifest and the CLI, and nothing else', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line && !line.endsWith('/'))
      .map((line) => line.replace(/^package\//, ''));
    for (const file of [
      'package.json',
      'README.md',
      'dist/lib/llm-playground.js',
      'dist/lib/react.js',
      'dist/lib/default-model.safetensors',
      'dist/lib/assets/engine.worker.js',
      'dist/lib/assets/cpu-thread.js',
      'dist/lib/assets/web-llm.js',
      'dist/lib/custom-elements.json',
      'dist/lib/types/src/index.d.ts',
      'dist/lib/types/src/react.d.ts',
      'workers/cli.mjs',
    ]) {
      assert.ok(files.includes(file), `${file} is in the tarball`);
    }
    const unwanted = files.filter((file) => /^(src|test|bench|public)\/|\.map$|\.test\.|wasm\/(build|gemm|gelu)\.ts$/.test(file));
    assert.deepEqual(unwanted, [], 'tests, bench, sources of the site and source maps stay out');
    assert.ok(files.includes(ours.customElements) && files.includes(ours.types.replace(/^\.\//, '')), 'package.json names them');
  });

  test('a Vite vanilla-TS app: typed, built, and the element works from the build', async () => {
    const dir = project(
      'vanilla',
      {
        'index.html': page('<llm-playground prompt="The queen sat on the"></llm-playground>', '/src/main.ts'),
        'tsconfig.json': JSON.stringify(STRICT_TS),
        'src/main.ts': `import 'llm-playground';
import type { LlmPlayground, ModelInfo, StreamedToken } from 'llm-playground';

const playground: LlmPlayground = document.querySelector('llm-playground')!;
const tokens: StreamedToken[] = [];
playground.addEventListener('llm-ready', (event) => {
  const info: ModelInfo = event.detail;
  document.title = info.name;
});
playground.addEventListener('llm-token', (event) => tokens.push(event.detail));
const element: LlmPlayground = document.createElement('llm-playground');
element.prompt = 'typed';
// @ts-expect-error: the status is 'loading', 'ready' or 'error'
element.status = 'asleep';
// @ts-expect-error: an llm-ready event's detail is a ModelInfo
playground.addEventListener('llm-ready', (event) => event.detail.notAField);
`,
      },
      ['vite', 'typescript'],
    );
    run(dir, 'tsc', '-p', '.');
    run(dir, 'vite', 'build');
    await expectWorking(join(dir, 'dist'), 'assets/');
  });

  test('a Vite + React app with the wrapper: typed events, built, and it works', async () => {
    const dir = project(
      'react',
      {
        'index.html': page('<div id="root"></div>', '/src/main.tsx'),
        'tsconfig.json': JSON.stringify(STRICT_TS),
        'src/main.tsx': `import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { ModelInfo } from 'llm-playground';
import { LlmPlayground } from 'llm-playground/react';

function App() {
  const [model, setModel] = useState<ModelInfo | null>(null);
  return (
    <>
      <p id="heard">{model ? 'ready: ' + model.name : 'loading'}</p>
      <LlmPlayground prompt="The queen sat on the" onReady={(event) => setModel(event.detail)} />
    </>
  );
}

// Never rendered: for the type check only.
export const misread = () => (
  // @ts-expect-error: onReady's event carries a ModelInfo, not a string
  <LlmPlayground onReady={(event: CustomEvent<string>) => event.detail.length} />
);

createRoot(document.getElementById('root')!).render(<App />);
`,
      },
      ['vite', 'typescript', 'react', 'react-dom', '@types/react', '@types/react-dom'],
    );
    run(dir, 'tsc', '-p', '.');
    run(dir, 'vite', 'build');
    await expectWorking(join(dir, 'dist'), 'assets/', async (page) => {
      const heard = await page.waitForFunction(() => document.querySelector('#heard')!.textContent!.startsWith('ready: '), {
        timeout: WAIT_MS,
      });
      assert.ok(await heard.jsonValue(), "the wrapper's onReady prop heard llm-ready");
    });
  });

  test('a plain page of static files, with the library folder copied beside it', async () => {
    const dir = project('static', {}, []);
    const site = join(dir, 'site');
    cpSync(join(dir, 'node_modules/llm-playground/dist/lib'), join(site, 'lib'), { recursive: true });
    writeFileSync(
      join(site, 'index.html'),
      page('<llm-playground prompt="The queen sat on the"></llm-playground>', './lib/llm-playground.js'),
    );
    await expectWorking(site, 'lib/');
  });

  test('a page that forgot the assets folder: the element says which file is missing', async () => {
    const site = join(work, 'forgot');
    mkdirSync(site);
    execFileSync('tar', ['-xzf', tarball, '-C', site, '--strip-components=2', 'package/dist/lib']);
    rmSync(join(site, 'lib/assets'), { recursive: true });
    writeFileSync(join(site, 'index.html'), page('<llm-playground></llm-playground>', './lib/llm-playground.js'));
    const served = await serve(site);
    try {
      const { page } = await open(served);
      await page.waitForSelector('llm-playground[status="error"]', { timeout: WAIT_MS });
      const error = await page.evaluate(
        () => document.querySelector('llm-playground')!.shadowRoot!.querySelector('[part~="error"]')!.textContent!,
      );
      assert.match(
        error,
        new RegExp(`${served.url}lib/assets/engine\\.worker\\.js answered 404 Not Found; serve the library's assets/`),
      );
      await page.close();
    } finally {
      await served.close();
    }
  });
});
