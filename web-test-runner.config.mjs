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

/**
 * Test files named *.isolated.test.ts run in a cross-origin isolated page (SharedArrayBuffer, the CPU's
 * threads); every other file in an ordinary one, on one thread, as most visitors' pages are. A test page's
 * URL names only its session, so the file is read from the page the runner wrote (its __WTR_CONFIG__).
 * COOP goes on those pages alone: elsewhere it would cut the popups some tests open from their opener.
 * COEP goes on every response: a worker takes its policy from its own script's response, and Chromium
 * does not start a worker without it from an isolated page. Elsewhere it changes nothing here: the tests
 * load only same-origin files, and fetch in CORS mode. (No Cross-Origin-Resource-Policy is needed: COEP
 * asks it only of other origins' files fetched without CORS.)
 */
async function crossOriginIsolation(ctx, next) {
  ctx.set('Cross-Origin-Embedder-Policy', 'require-corp');
  await next();
  if (ctx.path !== '/' || !ctx.response.is('html')) return;
  const page = typeof ctx.body === 'string' ? ctx.body : Buffer.isBuffer(ctx.body) ? ctx.body.toString() : '';
  const file = ctx.query['wtr-test-file'] ?? /"testFile":\s*"([^"]*)"/.exec(page)?.[1] ?? '';
  if (/\.isolated\.test\.ts(\?|$)/.test(String(file))) ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
}

/**
 * `/missing/NAME/…` serves the project as `/…`, but answers 404 for the file whose path ends in NAME (URL-encoded);
 * `/page-for/NAME/…` answers that file with a web page instead, as a single-page app's server does. Code loaded
 * from there starts its workers and fetches its files from there too (they are relative to import.meta.url), so
 * a test sees what a page that does not serve that one file gets (missing-assets tests).
 */
async function missingFile(ctx, next) {
  const marked = /^\/(missing|page-for)\/([^/]+)(\/.*)$/.exec(ctx.path);
  if (!marked) return next();
  const [, answer, name, path] = marked;
  if (path.endsWith(`/${decodeURIComponent(name)}`)) {
    if (answer === 'missing') ctx.status = 404;
    else ctx.body = '<!doctype html><title>An app</title><p>The app.</p>'; // 200, text/html
    return;
  }
  ctx.url = ctx.querystring ? `${path}?${ctx.querystring}` : path;
  return next();
}

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  // Servers that never answer, stall or trickle, for the download tests; files missing, or a page in their place.
  middleware: [crossOriginIsolation, fetchTestRoutes, missingFile],
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
