// A pretrained download that the opener starts by postMessage: lets a test run one in another
// origin (a fresh one, whose storage quota it can set before any use), where a real
// QuotaExceededError stops it part way. The estimate says there is room, as when another tab
// fills the disk while the download runs.
import { promisifyRequest } from 'idb-keyval';
import { createEngine } from '../../workers/engine.ts';
import { PretrainedStore } from '../../workers/pretrained/store.ts';

export interface RemoteDownload {
  dbName: string;
  baseUrl: string;
  bytes: number;
}

export interface RemoteResult {
  /** What open rejected with ('' when it opened). */
  message: string;
  /** Whether anything of the model is still kept, and the list's line for it. */
  manifest: boolean;
  state: string;
  storedBytes: number;
}

addEventListener('message', async ({ data, source, origin }: MessageEvent<RemoteDownload>) => {
  const store = new PretrainedStore({
    dbName: data.dbName,
    chunkBytes: 256 * 1024,
    estimate: async () => ({ usage: 0, quota: 1e12 }),
  });
  const engine = createEngine({ findGPU: async () => null, pretrainedStore: store });
  await engine.pretrained.setSources([
    { id: 'tiny', name: 'Tiny GPT-2', baseUrl: data.baseUrl, bytes: data.bytes, parameters: 0 },
  ]);
  let message = '';
  try {
    await engine.pretrained.open('tiny');
  } catch (error) {
    message = (error as Error).message;
  }
  const manifest = (await store.manifest('tiny')) !== undefined;
  const { state, storedBytes } = (await engine.pretrained.list()).models[0]!;
  await promisifyRequest(indexedDB.deleteDatabase(data.dbName)).catch(() => {});
  const result: RemoteResult = { message, manifest, state, storedBytes };
  (source as WindowProxy).postMessage(result, origin);
});

opener?.postMessage('ready', '*');
