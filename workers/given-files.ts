/**
 * The URL the page gave the engine worker for one of the files it loads (src/worker-files.ts), or null where it
 * gave none and the worker finds the file from its own URL. Read in the engine worker (and threads it starts).
 */
export function givenFile(name: 'threads' | 'webllm'): string | null {
  return new URLSearchParams(globalThis.location.hash.slice(1)).get(name);
}
