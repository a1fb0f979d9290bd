/**
 * The README's picture of the first screen, made the same way by `npm run screenshot`
 * (which writes it) and by test/node/screenshot.test.ts (which compares it): the site
 * built by vite into a temporary folder, served by vite preview on a free port, opened
 * in headless Chromium at a fixed size, captured once the first prediction is drawn.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { build, preview } from 'vite';

export const SCREENSHOT = fileURLToPath(new URL('../public/screenshot.png', import.meta.url));

/** The README shows this much of the page, at one CSS pixel per image pixel. */
export const VIEWPORT = { width: 1280, height: 820, deviceScaleFactor: 1 };

const root = fileURLToPath(new URL('..', import.meta.url));
const WAIT_MS = 60_000;

export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** The first screen of the built site, as PNG bytes. */
export async function captureFirstScreen(browser: Browser): Promise<Uint8Array> {
  const out = mkdtempSync(join(tmpdir(), 'llm-playground-screenshot-'));
  try {
    await build({ root, logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
    const server = await preview({ root, logLevel: 'error', build: { outDir: out }, preview: { host: '127.0.0.1', port: 0 } });
    try {
      const page = await browser.newPage();
      await page.setViewport(VIEWPORT);
      // The bars grow with a transition; without motion they are drawn at their final width at once.
      await page.emulateMediaFeatures([{ name: 'prefers-reduced-motion', value: 'reduce' }]);
      await page.goto(server.resolvedUrls!.local[0]!);
      await page.waitForSelector('llm-playground[status="ready"]', { timeout: WAIT_MS });
      await page.waitForFunction(
        () => {
          const chart = document.querySelector('llm-playground')!.shadowRoot!.querySelector('llm-next-token-chart')?.shadowRoot;
          return (chart?.querySelectorAll('[part~="bar-value"]').length ?? 0) > 10;
        },
        { timeout: WAIT_MS },
      );
      // Fonts loaded and two frames drawn since the last change.
      await page.evaluate(async () => {
        await document.fonts.ready;
        for (let frame = 0; frame < 2; frame++) await new Promise(requestAnimationFrame);
      });
      const png = await page.screenshot({ type: 'png' });
      await page.close();
      return png;
    } finally {
      await server.close();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export interface PngComparison {
  size: [number, number];
  otherSize: [number, number];
  /** Share of pixels (0 … 1) where a channel differs by more than `tolerance` (0 … 255); 1 when the sizes differ. */
  differing: number;
}

/** Decodes both PNGs in a page (an <img> each, drawn on a canvas) and counts the pixels that differ noticeably. */
export async function comparePngs(browser: Browser, png: Uint8Array, other: Uint8Array, tolerance = 40): Promise<PngComparison> {
  const page = await browser.newPage();
  try {
    const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
    return await page.evaluate(
      // No named functions in here: tsx would wrap them in a helper (__name) that the page lacks.
      async (a: string, b: string, tolerance: number) => {
        const [first, second] = await Promise.all(
          [a, b].map(async (url) => {
            const image = new Image();
            image.src = url;
            await image.decode();
            const context = new OffscreenCanvas(image.naturalWidth, image.naturalHeight).getContext('2d')!;
            context.drawImage(image, 0, 0);
            return context.getImageData(0, 0, image.naturalWidth, image.naturalHeight);
          }),
        );
        const size: [number, number] = [first.width, first.height];
        const otherSize: [number, number] = [second.width, second.height];
        if (first.width !== second.width || first.height !== second.height) return { size, otherSize, differing: 1 };
        let differing = 0;
        for (let i = 0; i < first.data.length; i += 4) {
          for (let channel = 0; channel < 4; channel++) {
            if (Math.abs(first.data[i + channel]! - second.data[i + channel]!) > tolerance) {
              differing++;
              break;
            }
          }
        }
        return { size, otherSize, differing: differing / (first.width * first.height) };
      },
      dataUrl(png),
      dataUrl(other),
      tolerance,
    );
  } finally {
    await page.close();
  }
}
