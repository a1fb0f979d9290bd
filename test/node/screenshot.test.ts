// The README's picture (public/screenshot.png) is the first screen as it is now:
// rendered the way `npm run screenshot` renders it, same size, and few pixels
// differing noticeably (a caret or a font's rounding, not a moved or new block).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { captureFirstScreen, comparePngs, launchChromium, SCREENSHOT, VIEWPORT } from '../first-screen.ts';

/** At most this share of the pixels may differ: a line of text changed or moved is already more. */
const MOST_DIFFERING = 0.005;

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(() => browser?.close());

test("the README's screenshot matches the first screen; `npm run screenshot` makes a new one", async () => {
  const now = await captureFirstScreen(browser);
  const { size, otherSize, differing } = await comparePngs(browser, now, readFileSync(SCREENSHOT));
  assert.deepEqual(size, [VIEWPORT.width, VIEWPORT.height]);
  assert.deepEqual(otherSize, size, 'the committed screenshot has the size of the first screen');
  assert.ok(
    differing <= MOST_DIFFERING,
    `${(differing * 100).toFixed(2)}% of the pixels differ (at most ${MOST_DIFFERING * 100}%): run \`npm run screenshot\` and commit public/screenshot.png`,
  );
});

test('the comparison sees a change: an image against itself differs nowhere, against a changed copy somewhere', async () => {
  const committed = readFileSync(SCREENSHOT);
  assert.equal((await comparePngs(browser, committed, committed)).differing, 0);
  const page = await browser.newPage();
  await page.setViewport(VIEWPORT);
  await page.setContent(
    '<body style="margin:0;background:#fff"><div style="margin:100px;width:400px;height:60px;background:#25c"></div>',
  );
  const block = await page.screenshot({ type: 'png' });
  await page.evaluate(() => document.querySelector('div')!.style.setProperty('margin-left', '130px'));
  const moved = await page.screenshot({ type: 'png' });
  await page.close();
  const { differing } = await comparePngs(browser, block, moved);
  // A 400×60 block moved 30 px right: two 30×60 strips change.
  assert.equal(differing, (2 * 30 * 60) / (VIEWPORT.width * VIEWPORT.height));
});
