/**
 * `vite build`             the demo site: index.html and the article page into dist/
 * `vite build --mode lib`  the library: dist/lib/llm-playground.js (an ES module that
 *                          registers <llm-playground>) plus its worker as a separate file
 *                          beside it, loaded by URL, so one <script type="module"> is enough.
 */
import { defineConfig, type UserConfig } from 'vite';

const shared: UserConfig = {
  // Relative URLs: the site and the library work from any folder, not only a domain's root,
  // and the library finds its worker next to itself (new URL('./assets/…', import.meta.url)).
  base: './',
  // The worker is an ES module (it imports the engine), so it is built as one.
  worker: { format: 'es' },
};

const site: UserConfig = {
  ...shared,
  build: {
    outDir: 'dist',
    rolldownOptions: {
      input: { main: 'index.html', article: 'src/demo/article.html' },
    },
  },
};

const library: UserConfig = {
  ...shared,
  publicDir: false,
  build: {
    outDir: 'dist/lib',
    emptyOutDir: true,
    lib: {
      entry: 'src/llm-playground.ts',
      formats: ['es'],
      fileName: () => 'llm-playground.js',
    },
  },
};

export default defineConfig(({ mode }) => (mode === 'lib' ? library : site));
