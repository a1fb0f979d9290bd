// What the Node tests that open the playground in headless Chromium check on its page: that it predicts,
// that Generate writes, and which weights it runs. Shared by the built site's tests (offline) and the consumer builds' (consumers).
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';

export const WAIT_MS = 30_000;

/** Waits for the playground to be ready and its next-token chart to show bars whose percentages add up to 100. */
export async function expectPrediction(page: Page): Promise<void> {
  await page.waitForSelector('llm-playground[status="ready"]', { timeout: WAIT_MS });
  const total = await page.waitForFunction(
    () => {
      const chart = document.querySelector('llm-playground')!.shadowRoot!.querySelector('llm-next-token-chart')?.shadowRoot;
      const values = [...(chart?.querySelectorAll('[part~="bar-value"]') ?? [])].map((e) => parseFloat(e.textContent!));
      return values.length > 10 ? values.reduce((a, b) => a + b, 0) : 0;
    },
    { timeout: WAIT_MS },
  );
  assert.ok(Math.abs((await total.jsonValue()) - 100) < 0.5);
}

/** Clicks Generate and waits until it is done: the prompt must have grown by the text the model wrote. */
export async function generate(page: Page): Promise<string> {
  const promptOf = () => page.evaluate(() => document.querySelector('llm-playground')!.prompt);
  const before = await promptOf();
  await page.evaluate(() => {
    const button = document
      .querySelector('llm-playground')!
      .shadowRoot!.querySelector<HTMLButtonElement>('[part~="generate-button"]')!;
    button.click();
  });
  await page.waitForFunction(
    (start: string) => {
      const playground = document.querySelector('llm-playground')!;
      const button = playground.shadowRoot!.querySelector('[part~="generate-button"]')!;
      return playground.prompt.length > start.length && button.textContent!.trim() === 'Generate';
    },
    { timeout: WAIT_MS },
    before,
  );
  const after = await promptOf();
  assert.ok(after.startsWith(before));
  return after.slice(before.length);
}

/**
 * Checks which weights the playground runs: without them it would still predict, from
 * random weights, with a notice saying why. `checkpoint`: the file's name, or a pattern
 * where a bundler renamed it.
 */
export async function expectWeightsFrom(page: Page, checkpoint: string | RegExp): Promise<void> {
  const { model, notice } = await page.evaluate(() => {
    const root = document.querySelector('llm-playground')!.shadowRoot!;
    return {
      model: root.querySelector('[part~="model"]')?.textContent ?? '',
      notice: root.querySelector('[part~="notice"]')?.textContent ?? null,
    };
  });
  assert.equal(notice, null);
  const line = model.replace(/\s+/g, ' ');
  if (typeof checkpoint === 'string') assert.ok(line.includes(`read from ${checkpoint}.`), line);
  else assert.match(line, checkpoint);
}
