// Browser tests run in the system's Chromium (Debian's `chromium`, or CHROME_PATH).
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter, summaryReporter } from '@web/test-runner';
import { countingReporter } from './test/counting-reporter.mjs';
import { fetchTestRoutes } from './test/fetch-test-routes.mjs';
import { storageQuotaPlugin } from './test/storage-quota-plugin.mjs';

// One seed for the run's random test inputs (test/browser/seeded.ts): TEST_SEED replays a failure.
const seed = Number(process.env.TEST_SEED) || 1 + Math.floor(Math.random() * 2 ** 31);
console.log(`Random test inputs use TEST_SEED=${seed}`);

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  // Servers that never answer, stall or trickle, for the download tests.
  middleware: [fetchTestRoutes],
  concurrency: 1,
  testsFinishTimeout: 10 * 60 * 1000,
  testFramework: { config: { timeout: 120000 } },
  testRunnerHtml: (testFramework) =>
    `<!DOCTYPE html><html><head><script>globalThis.TEST_SEED = ${seed};</script></head><body><script type="module" src="${testFramework}"></script></body></html>`,
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.json' }), storageQuotaPlugin()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
        args: [
          '--no-sandbox',
          '--enable-unsafe-webgpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      },
    }),
  ],
  reporters: [defaultReporter(), summaryReporter({ flatten: false }), countingReporter()],
};
