/**
 * The files the engine worker loads beside itself: its CPU threads' script and web-llm's chunk (loaded on the
 * chat's first use). Here none: the worker finds them from its own URL, as it does in the site and the tests.
 *
 * The library build replaces this module (vite.config.ts, `workerFilesNamed`) with one that names them with
 * `new URL('./assets/…', import.meta.url)`. An app's bundler copies what such a call names into the app's own
 * build, under a new name, but copies the engine worker as it is, without the files it loads: so the page
 * hands the worker their new URLs (`withWorkerFiles`, in the worker's script URL's hash).
 */
export const workerFiles = (): Record<string, string> => ({});

/** `script` (the engine worker's URL) with the URLs of the files it loads in its hash; read by workers/given-files.ts. */
export function withWorkerFiles(script: URL): URL {
  const files = workerFiles();
  if (Object.keys(files).length === 0) return script;
  const url = new URL(script);
  url.hash = new URLSearchParams(files).toString();
  return url;
}
