// Shared by the pretrained tests: engines on databases of their own, and the dev server's
// GPT-2-shaped small model (test/fetch-test-routes.mjs, gpt2/ route; test/gpt2-test-files.mjs).
import { promisifyRequest } from 'idb-keyval';
import type { EngineWorker, PretrainedSource } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';
import { PretrainedStore } from '../../workers/pretrained/store.ts';

/** The test model's config.json. */
export const TEST_CONFIG = { vocab_size: 50257, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 4 };

/** Where the test model's files are: `options` as the route reads them (`key=value` pairs joined by commas). */
export const baseUrl = (options: Record<string, string | number> = {}): string => {
  const text = Object.entries(options)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`)
    .join(',');
  return new URL(`/fetch-test/gpt2/${text || '-'}/`, location.href).href;
};

export interface Requests {
  requests: { file: string; range?: string }[];
  bytes: number;
}

/** What the server saw of `tag`'s requests; `set` changes how it answers them (offline=1, version=2). */
export async function control(tag: string, set: Record<string, string> = {}): Promise<Requests> {
  const query = new URLSearchParams({ tag, ...set });
  return (await (await fetch(`/fetch-test/gpt2-control?${query.toString()}`)).json()) as Requests;
}

/** The four files' sizes as the server makes them, from one download (not counted under any tag used by a test). */
export async function fileBytes(options: Record<string, string | number> = {}): Promise<Record<string, Uint8Array>> {
  const files = ['config.json', 'vocab.json', 'merges.txt', 'model.safetensors'];
  const base = baseUrl({ ...options, tag: `sizes-${crypto.randomUUID()}` });
  const all = await Promise.all(files.map(async (file) => new Uint8Array(await (await fetch(base + file)).arrayBuffer())));
  return Object.fromEntries(files.map((file, i) => [file, all[i]!]));
}

export interface TestEngine {
  engine: EngineWorker;
  store: PretrainedStore;
  libraryDb: string;
}

/** Engines made in this describe block, on databases of their own; the databases go after each test. */
export interface TestEngineOptions {
  dbName?: string;
  libraryDb?: string;
  chunkBytes?: number;
  timeoutMs?: number;
  estimate?: () => Promise<StorageEstimate>;
}

export function testEngines(): (options?: TestEngineOptions) => Promise<TestEngine> {
  const databases = new Set<string>();
  afterEach(async () => {
    for (const name of databases) await promisifyRequest(indexedDB.deleteDatabase(name)).catch(() => {});
    databases.clear();
  });
  return async (options = {}) => {
    const dbName = options.dbName ?? `test-pretrained-${crypto.randomUUID()}`;
    const libraryDb = options.libraryDb ?? `test-library-${crypto.randomUUID()}`;
    databases.add(dbName).add(libraryDb);
    const { estimate } = options;
    const store = new PretrainedStore({
      dbName,
      chunkBytes: options.chunkBytes ?? 256 * 1024,
      ...(estimate ? { estimate } : {}),
    });
    const engine = createEngine({
      findGPU: async () => null,
      pretrainedStore: store,
      fetchTimeoutMs: options.timeoutMs ?? 5_000,
    });
    await engine.library.useDatabase(libraryDb);
    return { engine, store, libraryDb };
  };
}

/** A source for the test model at `base`, its size `bytes` (0 when not known). */
export const testSource = (base: string, bytes = 0, id = 'tiny'): PretrainedSource => ({
  id,
  name: 'Tiny GPT-2',
  baseUrl: base,
  bytes,
  parameters: 1_640_000,
});
