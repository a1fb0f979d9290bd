/**
 * `vite build`             the demo site: index.html and the article page into dist/, with
 *                          a service worker (sw.js) that keeps the site for offline use
 * `vite build --mode lib`  the library: dist/lib/llm-playground.js (an ES module that
 *                          registers <llm-playground>) plus its worker as a separate file
 *                          beside it, loaded by URL, so one <script type="module"> is enough;
 *                          and dist/lib/react.js, the React components.
 *                          No service worker: the page that hosts it decides what it caches.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig, type Plugin, type UserConfig } from 'vite';

const SERVICE_WORKER = 'sw.js';
/** Files of public/ that the pages never load (the README's picture): not worth a place in every visitor's cache. */
const NOT_PRECACHED = new Set(['screenshot.png']);

/**
 * Builds src/offline/service-worker.ts into sw.js at the site's root and puts in front
 * of it the list of every file the build writes (pages, chunks, the engine worker)
 * and of public/ (the default model, the icon), with a hash of their names and
 * contents, which names the cache: a new build with any file changed gets a new cache.
 */
function serviceWorker(): Plugin {
  let publicDir = '';
  return {
    name: 'llm-playground-service-worker',
    apply: 'build',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    buildStart() {
      this.emitFile({ type: 'chunk', id: 'src/offline/service-worker.ts', fileName: SERVICE_WORKER });
    },
    generateBundle: {
      // After the other plugins: the engine worker's chunk is added to the bundle on the way.
      order: 'post',
      handler(_options, bundle) {
        const files = new Map<string, string | Uint8Array>();
        for (const [name, output] of Object.entries(bundle)) {
          if (name === SERVICE_WORKER) continue;
          files.set(name, output.type === 'chunk' ? output.code : output.source);
        }
        for (const name of publicFiles(publicDir)) {
          if (!NOT_PRECACHED.has(name)) files.set(name, readFileSync(join(publicDir, name)));
        }
        const names = [...files.keys()].sort();
        const hash = createHash('sha256');
        for (const name of names) hash.update(name).update('\0').update(files.get(name)!).update('\0');
        const precache = { version: hash.digest('hex').slice(0, 16), files: names };
        const worker = bundle[SERVICE_WORKER];
        if (worker?.type !== 'chunk') throw new Error(`${SERVICE_WORKER} is missing from the build`);
        worker.code = `const PRECACHE = ${JSON.stringify(precache)};\n${worker.code}`;
      },
    },
  };
}

/** The files under public/ (copied to the site's root as they are), as paths with forward slashes. */
function publicFiles(dir: string): string[] {
  if (!dir) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(join(dir, name)).isFile())
    .map((name) => name.split('\\').join('/'));
}

/**
 * Cross-origin isolation: with these on a page, and COEP on its workers' scripts, the page may share
 * memory between threads (SharedArrayBuffer), and the CPU backend runs on all the machine's threads.
 * Sent on every response, the workers' included. Everything the site loads is its own (same origin),
 * and the chat's downloads (Hugging Face, GitHub) are CORS fetches, which COEP lets through.
 * The built site on a static host gets them from its service worker (src/offline/service-worker.ts).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const shared: UserConfig = {
  // Relative URLs: the site and the library work from any folder, not only a domain's root,
  // and the library finds its worker next to itself (new URL('./assets/…', import.meta.url)).
  base: './',
  // The worker is an ES module (it imports the engine), so it is built as one.
  worker: { format: 'es' },
  // `npm start` and `npm run preview`.
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
};

const site: UserConfig = {
  ...shared,
  plugins: [serviceWorker()],
  build: {
    outDir: 'dist',
    rolldownOptions: {
      input: { main: 'index.html', article: 'src/demo/article.html' },
    },
  },
};

/**
 * The React wrapper (dist/lib/react.js) imports the package's entry as ./llm-playground.js, beside it, so an app
 * that imports both gets one copy of the elements; React and @lit/react are the app's own (dependencies).
 */
function reactWrapperShares(): Plugin {
  return {
    name: 'llm-playground-react-wrapper',
    enforce: 'pre',
    apply: 'build',
    resolveId(source, importer) {
      if (importer?.endsWith('/src/react.ts') && source === './index.ts') return { id: './llm-playground.js', external: true };
      return null;
    },
  };
}

/** The library's names for what the engine worker loads beside itself (see src/worker-files.ts). */
const WORKER_FILES = { threads: 'assets/cpu-thread.js', webllm: 'assets/web-llm.js' };

/**
 * Names the engine worker's files from the main module (src/worker-files.ts), with `new URL('./assets/…',
 * import.meta.url)`, which an app's bundler follows: it copies them, and the page hands their URLs to the worker.
 */
function workerFilesNamed(): Plugin {
  return {
    name: 'llm-playground-worker-files',
    apply: 'build',
    enforce: 'pre',
    load(id) {
      if (!id.endsWith('/src/worker-files.ts')) return null;
      const source = readFileSync(id, 'utf8');
      const named = Object.entries(WORKER_FILES).map(([key, file]) => `${key}: new URL('./${file}', import.meta.url).href`);
      return source.replace(/export const workerFiles = .*\n/, `export const workerFiles = () => ({ ${named.join(', ')} });\n`);
    },
    // Vite turns `import.meta.url` into `"" + import.meta.url` where it finds no file to copy at build time (none is
    // there beside src/): back to the form that an app's bundler follows.
    renderChunk(code) {
      let named = code;
      for (const file of Object.values(WORKER_FILES)) {
        named = named.replaceAll(`new URL("./${file}", "" + import.meta.url)`, `new URL("./${file}", import.meta.url)`);
      }
      return named === code ? null : named;
    },
  };
}

const library: UserConfig = {
  ...shared,
  publicDir: false,
  plugins: [reactWrapperShares(), workerFilesNamed()],
  // Names without hashes: the main module names these files (WORKER_FILES), and an app's bundler hashes them anyway.
  worker: {
    format: 'es',
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name].js',
        chunkFileNames: (chunk) =>
          chunk.moduleIds.some((id) => id.includes('@mlc-ai/web-llm')) ? WORKER_FILES.webllm : 'assets/[name].js',
      },
    },
  },
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    lib: {
      entry: { 'llm-playground': 'src/index.ts', react: 'src/react.ts' },
      formats: ['es'],
      fileName: (_format, entry) => `${entry}.js`,
    },
    rolldownOptions: { external: ['react', '@lit/react'] },
  },
};

export default defineConfig(({ mode }) => (mode === 'lib' ? library : site));
