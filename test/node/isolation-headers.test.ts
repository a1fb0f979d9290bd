// `npm start` serves every file with the headers of cross-origin isolation (COOP same-origin, COEP
// require-corp), the engine worker's and its CPU threads' scripts too: a worker takes its policy from its
// own script. `npm run preview` is checked on the built site in offline.test.ts, with the service worker
// that adds them on hosts that send none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createServer, type ViteDevServer } from 'vite';

const root = fileURLToPath(new URL('../..', import.meta.url));
let server: ViteDevServer;
let base: string;

before(async () => {
  server = await createServer({ root, logLevel: 'error', server: { host: '127.0.0.1', port: 0, strictPort: false } });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  assert.ok(url, 'the dev server has an address');
  base = url;
});

after(async () => {
  await server?.close();
});

for (const path of [
  '',
  'src/demo/article.html',
  'src/llm-playground.ts',
  'workers/engine.worker.ts',
  'workers/engine/cpu-thread.ts',
]) {
  test(`the dev server sends COOP and COEP on /${path}`, async () => {
    const response = await fetch(new URL(path, base));
    await response.arrayBuffer();
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp');
  });
}
