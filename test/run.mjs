// `npm test`: the Node.js version, the typecheck and the lint first (any failing
// fails the run at once), then browser tests in headless Chromium, then Node tests
// (the CLI), then one closing line with the counts of both.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { nodeProblem } from './check-node.mjs';

const nodeTooOld = nodeProblem(process.versions.node);
if (nodeTooOld) {
  console.error(nodeTooOld);
  process.exit(1);
}

const chrome = process.env.CHROME_PATH || '/usr/bin/chromium';
if (!existsSync(chrome)) {
  console.error(
    `Chromium not found at ${chrome}.\n` +
      'The browser tests run in a real headless Chromium. Install it with\n' +
      '  sudo apt-get install -y chromium        (Debian/Ubuntu)\n' +
      'or point CHROME_PATH at an installed Chrome or Chromium, e.g.\n' +
      '  CHROME_PATH=/path/to/chrome npm test',
  );
  process.exit(1);
}

for (const check of ['typecheck', 'lint']) {
  console.log(`npm run ${check}`);
  if (spawnSync('npm', ['run', '--silent', check], { stdio: 'inherit' }).status !== 0) {
    console.error(`\nnpm test stopped: \`npm run ${check}\` failed (see above).`);
    process.exit(1);
  }
}

mkdirSync('test-results', { recursive: true });
const browserCounts = 'test-results/browser-counts.json';
const nodeCounts = 'test-results/node-counts.json';
rmSync(browserCounts, { force: true });
rmSync(nodeCounts, { force: true });

const extra = process.argv.slice(2);
const browser = spawnSync('npx', ['web-test-runner', '--config', 'web-test-runner.config.mjs', ...extra], {
  stdio: 'inherit',
  env: { ...process.env, CHROME_PATH: chrome },
});

const nodeFiles = readdirSync('test/node')
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join('test/node', f));
const node = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./test/node-counting-reporter.mjs',
    `--test-reporter-destination=${nodeCounts}`,
    ...nodeFiles,
  ],
  { stdio: 'inherit' },
);

const read = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null);
const b = read(browserCounts) ?? { passed: 0, failed: 0, skipped: 0, fileErrors: 1 };
const n = read(nodeCounts) ?? { passed: 0, failed: 1, skipped: 0 };
const passed = b.passed + n.passed;
const failed = b.failed + b.fileErrors + n.failed;
const skipped = b.skipped + n.skipped;
console.log(`\nbrowser: ${b.passed} passed, ${b.failed + b.fileErrors} failed; node: ${n.passed} passed, ${n.failed} failed`);
console.log(`Total: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(browser.status === 0 && node.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
