/**
 * The site's service worker, built by vite.config.ts into sw.js at the site's root.
 * The build puts PRECACHE in front of this code: every file of the site (pages,
 * chunks, the engine worker, the default model, the icon) and a hash of them all.
 *
 * - install: everything in PRECACHE goes into a cache named after the hash, so
 *   one visit is enough to have the whole playground on the device;
 * - activate: caches of older builds are deleted, and open pages are taken over
 *   at once (with skipWaiting, the first visit's reload already works offline);
 * - fetch: the site's own files cache-first (a new build has a new hash, hence a
 *   new cache); any other same-origin GET from the network, with the last copy
 *   seen as the fallback when there is none. Every answer gets the headers of
 *   cross-origin isolation (see isolated() below).
 * Weights the user trained live in IndexedDB; the service worker is not involved.
 */

/** Filled in by the build: file names relative to this script, and a hash of their names and contents. */
declare const PRECACHE: { version: string; files: string[] };
declare const self: ServiceWorkerGlobalScope;
// A module to the type checker, so `self` above is this file's alone; the build's sw.js is a plain script.
export {};

const CACHE_PREFIX = 'llm-playground-';
const cacheName = `${CACHE_PREFIX}${PRECACHE.version}`;
const precached = new Set(PRECACHE.files.map((file) => new URL(file, self.location.href).href));

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(cacheName);
      // cache: 'reload': straight from the server, not an older copy from the HTTP cache.
      await cache.addAll([...precached].map((url) => new Request(url, { cache: 'reload' })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== cacheName).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const key = precacheKey(url, request.mode);
  event.respondWith(isolated(precached.has(key) ? cacheFirst(key, request) : networkFirst(event)));
});

/**
 * The response with COOP and COEP added (what coi-serviceworker does), so that on a static host that
 * cannot send headers the pages are cross-origin isolated anyway and the CPU backend runs on all the
 * machine's threads. COEP goes on every file, as a worker takes its policy from its own script.
 * The site loads nothing from other origins but CORS fetches, which COEP lets through.
 *
 * A page is isolated only when this worker served it: not on the first visit, which it controls
 * only once the whole site is cached. No reload then, as coi-serviceworker does: by that time the
 * visitor may be typing or training, and a reload would throw that away. The first visit runs on
 * one thread, and "Runs on" says why; every later load runs on all of them.
 */
async function isolated(answer: Promise<Response>): Promise<Response> {
  const response = await answer;
  // Opaque redirects (a navigation the browser follows itself) cannot be rebuilt; a redirected
  // answer would lose its final URL, against which its own relative URLs resolve.
  if (response.type === 'opaqueredirect' || response.redirected || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/**
 * The precache entry a request asks for: the query is dropped (the default model is
 * fetched as default-model.safetensors?no-inline), and a folder's page is its index.html.
 */
function precacheKey(url: URL, mode: RequestMode): string {
  const path = mode === 'navigate' && url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
  return `${url.origin}${path}`;
}

async function cacheFirst(key: string, request: Request): Promise<Response> {
  const cache = await caches.open(cacheName);
  return (await cache.match(key)) ?? fetch(request);
}

async function networkFirst(event: FetchEvent): Promise<Response> {
  const { request } = event;
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    // Whole answers only (a 206 cannot be cached); a full disk must not cost the answer itself.
    if (response.status === 200) event.waitUntil(cache.put(request, response.clone()).catch(() => {}));
    return response;
  } catch (error) {
    // ignoreVary: servers often say Vary: Origin, and a module script's request has an Origin header.
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}
