// Offline after one visit: the built site is served, opened once in headless
// Chromium (its service worker caches the site), then the server goes away and
// the network is switched off, and the reloaded page must still predict and
// generate. Each stage is a helper, so a stage can be added between two others
// (e.g. training a few steps before going offline).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { build, preview, type PreviewServer } from 'vite';
import { expectPrediction, expectWeightsFrom, generate, WAIT_MS } from './playground-page.ts';
import { launchChromium } from '../first-screen.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'llm-playground-offline-'));

let browser: Browser;
let server: PreviewServer | undefined;

before(async () => {
  await build({ root, logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
  browser = await launchChromium();
});

after(async () => {
  if (server?.httpServer.listening) await server.close();
  await browser?.close();
  rmSync(out, { recursive: true, force: true });
});

/** The built site on 127.0.0.1 (a secure context, so service workers are allowed). */
async function serveSite(): Promise<{ server: PreviewServer; url: string }> {
  server = await preview({
    root,
    logLevel: 'error',
    build: { outDir: out },
    preview: { host: '127.0.0.1', port: 0 },
  });
  const url = server.resolvedUrls?.local[0];
  assert.ok(url, 'the preview server has an address');
  return { server, url };
}

/**
 * The built site as a static host that sends no headers of its own would serve it: vite's preview without
 * the project's config (which adds COOP and COEP).
 */
async function serveBare(): Promise<{ server: PreviewServer; url: string }> {
  const bare = await preview({
    root,
    configFile: false,
    logLevel: 'error',
    build: { outDir: out },
    preview: { host: '127.0.0.1', port: 0 },
  });
  const url = bare.resolvedUrls?.local[0];
  assert.ok(url, 'the preview server has an address');
  return { server: bare, url };
}

/** The built engine worker's script and its CPU threads' where it has them (names change with each build), from the site's root. */
const workerScripts = (): string[] =>
  readdirSync(join(out, 'assets'))
    .filter((name) => /^(engine\.worker|cpu-thread)-.*\.js$/.test(name))
    .map((name) => `assets/${name}`);

/** Opens the page and waits until its service worker controls it (the site is cached by then). */
async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url);
  // It takes control once it is active, which is after everything has been cached.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, { timeout: WAIT_MS });
}

/** No server and no network: whatever loads now comes from the service worker's cache. */
async function goOffline(page: Page, server: PreviewServer): Promise<void> {
  await server.close();
  await page.setOfflineMode(true);
}

test('after one visit the site loads, predicts and generates with the network off', { timeout: 90_000 }, async () => {
  const { server, url } = await serveSite();
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));

  await visit(page, url);
  await expectPrediction(page);
  await expectWeightsFrom(page, 'default-model.safetensors');

  await goOffline(page, server);
  await page.reload();
  await expectPrediction(page);
  await expectWeightsFrom(page, 'default-model.safetensors');
  assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'served by the service worker');
  const written = await generate(page);
  assert.ok(written.length > 0);
  assert.deepEqual(errors, []);
});

/** The playground's line about its model, whitespace collapsed. */
const modelLine = (page: Page): Promise<string> =>
  page.evaluate(
    () =>
      document.querySelector('llm-playground')!.shadowRoot!.querySelector('[part~="model"]')?.textContent?.replace(/\s+/g, ' ') ??
      '',
  );

/**
 * The next-token chart's labels and percentages, in order, once the tokens shown are those of `prompt`: the
 * playground gets the tokens and the odds in one answer, so the bars are then the prompt's too.
 */
async function barValues(page: Page, prompt: string): Promise<string[]> {
  const bars = await page.waitForFunction(
    (prompt: string) => {
      const root = document.querySelector('llm-playground')!.shadowRoot!;
      const tokens = root.querySelector('llm-prompt-tokens') as unknown as { tokenization: { pieces: string[] } | null };
      if (tokens.tokenization?.pieces.join('') !== prompt) return null;
      const chart = root.querySelector('llm-next-token-chart')!.shadowRoot!;
      const values = [...chart.querySelectorAll('[part~="bar-label"], [part~="bar-value"]')].map((e) => e.textContent!.trim());
      return values.length ? values : null;
    },
    { timeout: WAIT_MS },
    prompt,
  );
  return (await bars.jsonValue())!;
}

/** The bars for `prompt` once they stop changing (the playground refreshes them a moment after training or typing). */
async function settledBars(page: Page, prompt: string): Promise<string[]> {
  let previous = await barValues(page, prompt);
  for (let tries = 0; tries < 50; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const now = await barValues(page, prompt);
    if (now.join() === previous.join()) return now;
    previous = now;
  }
  throw new Error('the next-token chart kept changing');
}

/**
 * Opens the training panel, plays until a few steps are done, and pauses: pausing saves the model in IndexedDB.
 * Returns the step it paused at, as the panel's llm-training-end says: the worker trains on while the pause is
 * on its way, and may autosave (every 50 steps) before it lands, so the first "Saved … at step N" the page shows
 * need not be the pause's save.
 */
async function trainAndPause(page: Page, steps: number): Promise<number> {
  const clickPlay = () =>
    page.evaluate(() => {
      const playground = document.querySelector('llm-playground')!;
      const panel = playground.shadowRoot!.querySelector('llm-training-panel')!;
      panel.shadowRoot!.querySelector<HTMLButtonElement>('[part~="play-button"]')!.click();
    });
  await page.evaluate(() => document.querySelector('llm-playground')!.setAttribute('train', ''));
  await page.waitForFunction(
    () =>
      document
        .querySelector('llm-playground')!
        .shadowRoot!.querySelector('llm-training-panel')
        ?.shadowRoot?.querySelector('[part~="play-button"]:not([disabled])'),
    { timeout: WAIT_MS },
  );
  await clickPlay();
  const ended = page.evaluate(
    () =>
      new Promise<number>((resolve) =>
        document.addEventListener('llm-training-end', (event) => resolve((event as CustomEvent<{ step: number }>).detail.step), {
          once: true,
        }),
      ),
  );
  await page.waitForFunction(
    (least: number) => {
      const text = document.querySelector('llm-playground')!.shadowRoot!.querySelector('[part~="model"]')?.textContent ?? '';
      const done = /\(([\d,]+) training steps? so far\)/.exec(text);
      return done !== null && Number(done[1]!.replace(/,/g, '')) >= least;
    },
    { timeout: WAIT_MS },
    steps,
  );
  await clickPlay();
  const pausedAt = await ended;
  // The playground shows the pause's save once it has re-read the model after the pause.
  await page.waitForFunction(
    (step: string) => {
      const text = document.querySelector('llm-playground')!.shadowRoot!.querySelector('[part~="model"]')?.textContent ?? '';
      return text.replace(/\s+/g, ' ').includes(`" at step ${step}.`);
    },
    { timeout: WAIT_MS },
    pausedAt.toLocaleString('en-US'),
  );
  return pausedAt;
}

test('a model trained here reopens from IndexedDB with the network off, and samples', { timeout: 120_000 }, async () => {
  const { server, url } = await serveSite();
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));

  await visit(page, url);
  await expectPrediction(page);
  const step = await trainAndPause(page, 3);
  assert.ok(step >= 3, `saved at step ${step}`);
  // The chart shows the trained weights once the playground has refreshed after the pause.
  await page.evaluate(() => {
    const playground = document.querySelector('llm-playground')!;
    playground.prompt = 'the ';
  });
  await expectPrediction(page);
  const trained = await settledBars(page, 'the ');

  await goOffline(page, server);
  await page.reload();
  await page.evaluate(() => {
    document.querySelector('llm-playground')!.prompt = 'the ';
  });
  await expectPrediction(page);
  const line = await modelLine(page);
  assert.ok(line.includes(`(${step} training steps so far)`), line);
  assert.ok(line.includes(`at step ${step}.`), line);
  assert.deepEqual(await settledBars(page, 'the '), trained, 'the same weights: the same odds');
  const written = await generate(page);
  assert.ok(written.length > 0);
  assert.deepEqual(errors, []);
});

test('npm run preview sends COOP and COEP on the pages and the workers', { timeout: 30_000 }, async () => {
  const { server, url } = await serveSite();
  try {
    const scripts = workerScripts();
    assert.ok(
      scripts.some((name) => name.startsWith('assets/engine.worker-')),
      `the engine worker is among ${scripts.join(', ')}`,
    );
    for (const path of ['', 'src/demo/article.html', ...scripts]) {
      const response = await fetch(new URL(path, url));
      await response.arrayBuffer();
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp', path);
    }
  } finally {
    await server.close();
  }
});

test(
  'on a host that sends no headers, the service worker isolates the pages from the second load on',
  { timeout: 90_000 },
  async () => {
    const { server, url } = await serveBare();
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      const first = await page.goto(url);
      assert.equal(first?.headers()['cross-origin-embedder-policy'], undefined, 'the host sends no COEP');
      assert.equal(await page.evaluate(() => crossOriginIsolated), false, 'the first visit is not isolated');
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, { timeout: WAIT_MS });

      await page.reload();
      assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'served by the service worker, the page is isolated');
      // What the service worker answers, the page's own address and the workers' scripts.
      for (const path of ['', ...workerScripts()]) {
        const headers = await page.evaluate(async (address: string) => {
          const response = await fetch(address);
          return [response.headers.get('cross-origin-opener-policy'), response.headers.get('cross-origin-embedder-policy')];
        }, new URL(path, url).href);
        assert.deepEqual(headers, ['same-origin', 'require-corp'], path);
      }
      // Nothing the page loads is refused under require-corp: the playground predicts as before.
      await expectPrediction(page);
      await expectWeightsFrom(page, 'default-model.safetensors');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await server.close();
    }
  },
);
