/**
 * `npm run screenshot`: writes the README's picture of the first screen
 * (public/screenshot.png) from the site as built now. test/node/screenshot.test.ts
 * fails when the first screen no longer looks like it.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { captureFirstScreen, launchChromium, SCREENSHOT, VIEWPORT } from './first-screen.ts';

const browser = await launchChromium();
try {
  writeFileSync(SCREENSHOT, await captureFirstScreen(browser));
  console.log(`Wrote ${relative(process.cwd(), SCREENSHOT)} (${VIEWPORT.width}×${VIEWPORT.height}).`);
} finally {
  await browser.close();
}
