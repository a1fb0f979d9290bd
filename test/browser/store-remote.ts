// A CheckpointStore that the opener drives by postMessage: lets a test use one
// in another origin (a fresh one, whose storage quota it can set before any use).
import { promisifyRequest } from 'idb-keyval';
import { CheckpointStore, StorageProblem } from '../../workers/store/checkpoint-store.ts';

export interface RemoteCall {
  call: number;
  dbName: string;
  /** A store method, or deleteDatabase to clean up after the test. */
  method: 'save' | 'load' | 'list' | 'info' | 'deleteDatabase';
  args: unknown[];
}

export type RemoteReply =
  { call: number; result: unknown } | { call: number; problem: { kind: string; message: string } | null; error: string };

const stores = new Map<string, CheckpointStore>();

addEventListener('message', async ({ data, source, origin }: MessageEvent<RemoteCall>) => {
  let store = stores.get(data.dbName);
  if (!store) stores.set(data.dbName, (store = new CheckpointStore({ dbName: data.dbName })));
  let reply: RemoteReply;
  try {
    const result =
      data.method === 'deleteDatabase'
        ? await promisifyRequest(indexedDB.deleteDatabase(data.dbName))
        : await (store[data.method] as (...args: unknown[]) => Promise<unknown>).apply(store, data.args);
    reply = { call: data.call, result };
  } catch (error) {
    const problem = error instanceof StorageProblem ? { kind: error.kind, message: error.message } : null;
    reply = { call: data.call, problem, error: String(error) };
  }
  (source as WindowProxy).postMessage(reply, origin);
});

opener?.postMessage('ready', '*');
