/// <reference types="vite/client" />
/**
 * Registers the site's service worker (src/offline/service-worker.ts), so that after
 * one visit the pages load and sample with the network off. Only the site's pages
 * import this: the library leaves caching to the page that hosts it, and the dev
 * server has no service worker (the build makes sw.js).
 */
import { trustedScriptURL } from '../trusted-script-url.ts';

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  // The built chunk sits in assets/, one folder below the site's root, where sw.js is;
  // the worker's scope is that root, so it serves every page of the site.
  const script = new URL(/* @vite-ignore */ '../sw.js', import.meta.url);
  navigator.serviceWorker.register(trustedScriptURL(script)).catch((error: unknown) => {
    // Without it the playground works as before, only not offline.
    console.warn('The offline copy of the playground could not be set up:', error);
  });
}
