// Saves one record into a CheckpointStore when asked, saying "saving" just
// before, so a test can terminate it at chosen moments during the save.
import { type CheckpointInput, CheckpointStore } from '../../workers/store/checkpoint-store.ts';

export interface SaveRequest {
  record: CheckpointInput;
  baseUpdated?: number;
}

export type SaveReport = 'ready' | 'saving' | { saved: number } | { error: string };

const post = (report: SaveReport): void => postMessage(report);
const dbName = new URL(self.location.href).searchParams.get('db')!;
const store = new CheckpointStore({ dbName });

self.onmessage = async ({ data }: MessageEvent<SaveRequest>) => {
  post('saving');
  try {
    const { summary } = await store.save(data.record, data.baseUpdated === undefined ? {} : { baseUpdated: data.baseUpdated });
    post({ saved: summary.updated });
  } catch (error) {
    post({ error: String(error) });
  }
};

// Open the database before the test starts timing, so kills land in the save itself.
store.list().then(
  () => post('ready'),
  (error: unknown) => post({ error: String(error) }),
);
