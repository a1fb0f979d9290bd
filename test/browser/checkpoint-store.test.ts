// CheckpointStore against real IndexedDB in Chromium: every field back bit for
// bit, the list, crash safety (a worker killed mid-save), two writers at once,
// a real quota error, blocked storage, and a schema-1 record written by hand.
import { expect } from 'chai';
import { executeServerCommand } from '@web/test-runner-commands';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { Random } from '../../workers/engine/random.ts';
import { tokenizerFromJSON } from '../../workers/engine/tokenizer.ts';
import { DEFAULT_CHARACTERS, DEFAULT_CONFIG } from '../../workers/engine/defaults.ts';
import { DEFAULT_TRAINING } from '../../workers/engine/train.ts';
import { type CheckpointInput, CheckpointStore, ORPHAN_AGE_MS, StorageProblem } from '../../workers/store/checkpoint-store.ts';
import type { CheckpointSummary, StorageInfo } from '../../workers/api/library.ts';
import { type CheckpointRecord, SCHEMA_VERSION } from '../../workers/store/records.ts';
import type { RemoteCall, RemoteReply } from './store-remote.ts';
import type { SaveReport, SaveRequest } from './store-save.worker.ts';
import { randomFor } from './seeded.ts';
import { rejection } from './wait-for.ts';

const random = randomFor('checkpoint store');
const VOCAB = ['\uFFFD', ...DEFAULT_CHARACTERS];

/** Fresh random floats in (-1, 1), never zero. */
function randomFloats(length: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random.uniform() * 2 - 1 || 0.5;
  return out;
}

const randomText = (length: number): string =>
  Array.from({ length }, () => DEFAULT_CHARACTERS[random.int(DEFAULT_CHARACTERS.length)]).join('');

/** A record with every field set, its arrays `floats` long each. */
function trainedRecord(name: string, floats: number, id = CheckpointStore.newId()): CheckpointInput {
  const step = 1 + random.int(5000);
  return {
    id,
    name,
    config: { ...DEFAULT_CONFIG, nLayer: 1 + random.int(4) },
    tokenizer: { type: 'char', vocab: VOCAB },
    params: randomFloats(floats),
    seed: random.int(1 << 30),
    training: {
      settings: { ...DEFAULT_TRAINING, learningRate: random.uniform() / 100, seed: random.int(1000) },
      sampleInterval: 1 + random.int(500),
      step,
      tokensSeen: step * 768,
      random: new Random(random.int(1 << 30)).state(),
      optimizer: { m: randomFloats(floats), v: randomFloats(floats), updates: step },
      history: Array.from({ length: 20 }, (_, i) => ({
        step: i * 10,
        loss: 4 - random.uniform(),
        validationLoss: 4 - random.uniform(),
      })),
      samples: [{ step: 100, prompt: randomText(5), text: randomText(40) }],
      vocabulary: VOCAB,
      diverged: 'loss was NaN at step 4',
    },
    corpus: { name: 'My text', kind: 'text', text: randomText(300), characters: 300 },
    source: 'tiny.safetensors',
  };
}

/** A model not trained here: no training state, no corpus. */
function importedRecord(name: string, floats: number): CheckpointInput {
  return {
    id: CheckpointStore.newId(),
    name,
    config: DEFAULT_CONFIG,
    tokenizer: { type: 'char', vocab: VOCAB },
    params: randomFloats(floats),
    seed: 7,
    training: null,
    corpus: null,
  };
}

/** Index of the first element whose bits differ, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

const expectSameBits = (actual: Float32Array | undefined, expected: Float32Array, what: string): void => {
  expect(actual, what).to.be.instanceOf(Float32Array);
  expect(firstDifference(actual!, expected), `${what}: first differing element`).to.equal(-1);
};

/** The record with its arrays left out, for deep comparison. */
function withoutArrays(record: Omit<CheckpointInput, 'created'>): unknown {
  const { params: _params, training, ...rest } = record;
  if (!training) return { ...rest, training };
  return { ...rest, training: { ...training, optimizer: { ...training.optimizer, m: null, v: null } } };
}

/** Every field of `actual` is `expected`'s, the arrays bit for bit (times are the store's). */
function expectSameRecord(actual: CheckpointRecord | null, expected: CheckpointInput, what = 'record'): void {
  expect(actual, what).to.not.equal(null);
  const { schema, created, updated, ...rest } = actual!;
  const { created: _created, ...expectedRest } = expected;
  expect(schema).to.equal(SCHEMA_VERSION);
  expect(created).to.be.a('number');
  expect(updated).to.be.at.least(created);
  expect(withoutArrays(rest)).to.deep.equal(withoutArrays(expectedRest));
  expectSameBits(rest.params, expected.params, `${what} params`);
  if (expected.training) {
    expectSameBits(rest.training?.optimizer.m, expected.training.optimizer.m, `${what} optimizer m`);
    expectSameBits(rest.training?.optimizer.v, expected.training.optimizer.v, `${what} optimizer v`);
  }
}

const recordBytes = (record: CheckpointInput): number =>
  4 * (record.params.length + 2 * (record.training?.optimizer.m.length ?? 0)) + 2 * (record.corpus?.text?.length ?? 0);

// ---- the database below the store, opened and closed per call so it never blocks deleting it ----

function openRaw(dbName: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(dbName);
    request.onupgradeneeded = () => request.result.createObjectStore('models');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function raw<T>(dbName: string, work: (store: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await openRaw(dbName);
  try {
    const transaction = db.transaction('models', 'readwrite');
    const request = work(transaction.objectStore('models'));
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onabort = transaction.onerror = () => reject(transaction.error);
    });
    return request ? request.result : undefined;
  } finally {
    db.close();
  }
}

const dataKeys = async (dbName: string): Promise<IDBValidKey[][]> =>
  ((await raw(dbName, (store) => store.getAllKeys())) ?? []).filter(
    (key): key is IDBValidKey[] => Array.isArray(key) && key[0] === 'data',
  );

function deleteDatabase(dbName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(dbName);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
  });
}

/** A moment, so that saves made one after the other have different times. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 3));

describe('CheckpointStore', function () {
  let dbNames: string[] = [];
  const freshDbName = (): string => {
    const name = `test-store-${CheckpointStore.newId()}`;
    dbNames.push(name);
    return name;
  };
  const freshStore = (): CheckpointStore => new CheckpointStore({ dbName: freshDbName() });

  afterEach(async () => {
    await Promise.all(dbNames.map(deleteDatabase));
    dbNames = [];
  });

  it('gives back every field of a saved record, arrays bit for bit', async () => {
    const store = freshStore();
    const trained = trainedRecord('Shakespeare run', 10_000 + random.int(1000));
    const imported = importedRecord('From a file', 5000 + random.int(1000));
    const before = Date.now();
    const { summary, replaced } = await store.save(trained);
    await store.save(imported);
    expect(replaced).to.equal(undefined);
    expect(summary.created).to.be.within(before, Date.now());
    expect(summary.updated).to.equal(summary.created);

    const loaded = await store.load(trained.id);
    expectSameRecord(loaded, trained);
    expect(loaded!.created).to.equal(summary.created);
    expectSameRecord(await store.load(imported.id), imported, 'imported');
    expect(await store.load(CheckpointStore.newId())).to.equal(null);
  });

  it('gives back a word-piece (BPE) tokenizer as saved: vocabulary and merges', async () => {
    const store = freshStore();
    const tokenizer = BpeTokenizer.train(`${randomText(2000)} naïve 🎉`.repeat(3), 300);
    const record = { ...importedRecord('Pieces', 1000), tokenizer: tokenizer.toJSON() };
    await store.save(record);
    const loaded = await store.load(record.id);
    expectSameRecord(loaded, record);
    expect(tokenizerFromJSON(loaded!.tokenizer).toJSON()).to.deep.equal(tokenizer.toJSON());
  });

  it('lists the models most recently saved first, with their sizes', async () => {
    const store = freshStore();
    const records = [trainedRecord('a', 3000), importedRecord('b', 4000), trainedRecord('c', 2000)];
    for (const record of records) {
      await store.save(record);
      await tick();
    }
    // Saving the first again moves it to the top and keeps its created time.
    const first = await store.list();
    const resaved = await store.save({ ...records[0]!, params: randomFloats(3000) });

    const list = await store.list();
    expect(list.map((s) => s.name)).to.deep.equal(['a', 'c', 'b']);
    for (const summary of list) {
      const record = records.find((r) => r.id === summary.id)!;
      expect(summary.bytes, summary.name).to.equal(recordBytes(record));
      expect(summary.config).to.deep.equal(record.config);
      expect(summary.step).to.equal(record.training?.step ?? 0);
      expect(summary.corpus).to.equal(record.corpus?.name);
      expect(summary.source).to.equal(record.source);
    }
    const firstSaved = first.find((s) => s.id === records[0]!.id)!;
    expect(resaved.summary.created).to.equal(firstSaved.created);
    expect(resaved.summary.updated).to.be.above(firstSaved.updated);
    // One revision per model: each save deleted the one it replaced.
    expect((await dataKeys(dbNames[0]!)).length).to.equal(3);
  });

  it('renames, duplicates, deletes, and remembers the active model', async () => {
    const store = freshStore();
    const original = trainedRecord('first', 2000);
    const other = importedRecord('second', 1000);
    const { summary } = await store.save(original);
    await store.save(other);
    await tick();
    expect(await store.activeId()).to.equal(null);
    await store.setActive(original.id);
    expect(await store.activeId()).to.equal(original.id);

    const renamed = await store.rename(original.id, 'renamed');
    expect(renamed.name).to.equal('renamed');
    expect(renamed.updated).to.be.above(summary.updated);
    const loaded = await store.load(original.id);
    expectSameRecord(loaded, { ...original, name: 'renamed' });
    expect(loaded!.updated).to.equal(renamed.updated);
    expect(((await rejection(store.rename(CheckpointStore.newId(), 'x'))) as StorageProblem).kind).to.equal('failed');

    await tick();
    const copy = await store.duplicate(original.id);
    expect(copy.id).to.not.equal(original.id);
    expect(copy.name).to.equal('renamed (copy)');
    expectSameRecord(await store.load(copy.id), { ...original, id: copy.id, name: 'renamed (copy)' });
    await tick();
    const named = await store.duplicate(other.id, 'mine');
    expect(named.name).to.equal('mine');
    expect((await store.list()).map((s) => s.name)).to.deep.equal(['mine', 'renamed (copy)', 'renamed', 'second']);

    await store.delete(original.id);
    expect(await store.load(original.id)).to.equal(null);
    expect(await store.activeId(), 'a deleted model is not active').to.equal(null);
    expect((await store.list()).map((s) => s.name)).to.deep.equal(['mine', 'renamed (copy)', 'second']);
    expectSameRecord(await store.load(copy.id), { ...original, id: copy.id, name: 'renamed (copy)' }, 'copy after delete');
    await store.setActive(other.id);
    await store.setActive(null);
    expect(await store.activeId()).to.equal(null);
    expect((await dataKeys(dbNames[0]!)).length).to.equal(3);
  });

  it('says when a save replaced a copy saved after the one it started from', async () => {
    const store = freshStore();
    const record = trainedRecord('shared', 1000);
    const first = await store.save(record);
    const second = await store.save(record, { baseUpdated: first.summary.updated });
    expect(second.replaced).to.equal(undefined);
    const stale = await store.save(record, { baseUpdated: first.summary.updated });
    expect(stale.replaced).to.deep.equal({ updated: second.summary.updated });
  });

  it('clears out revisions left by saves that never finished, once they are old', async () => {
    const dbName = freshDbName();
    const store = new CheckpointStore({ dbName });
    const record = importedRecord('kept', 1000);
    await store.save(record);
    const old = `${Date.now() - ORPHAN_AGE_MS - 1000}:left-by-a-closed-tab`;
    const young = `${Date.now()}:another-tab-saving`;
    await raw(dbName, (s) => {
      s.put(record, ['data', record.id, old]);
      s.put(record, ['data', 'gone', old]);
      s.put(record, ['data', record.id, young]);
    });
    expect(await dataKeys(dbName)).to.have.length(4);
    await store.list();
    const left = await dataKeys(dbName);
    expect(left).to.have.length(2);
    expect(left.map((key) => key[2])).to.include(young);
    expectSameRecord(await store.load(record.id), record);
  });

  it('keeps a complete checkpoint when the saving worker is killed at any moment', async function () {
    this.timeout(600_000);
    const dbName = freshDbName();
    const store = new CheckpointStore({ dbName });
    const id = CheckpointStore.newId();
    // The new record is big (3 × 3M floats, 36 MB) and of another size than the old, so a mix would show.
    const big = trainedRecord('big', 3_000_000, id);
    /** The worker's next report that `wanted` accepts. */
    const report = (worker: Worker, wanted: (report: SaveReport) => boolean): Promise<SaveReport> =>
      new Promise((resolve) => {
        const listener = ({ data }: MessageEvent<SaveReport>): void => {
          if (!wanted(data)) return;
          worker.removeEventListener('message', listener);
          resolve(data);
        };
        worker.addEventListener('message', listener);
      });
    const isDone = (r: SaveReport): boolean => typeof r === 'object';
    /** A worker that has opened the store and just said it starts saving `big`; `done` is its last report. */
    const startSave = async (): Promise<{ worker: Worker; done: Promise<SaveReport> }> => {
      const url = new URL(`./store-save.worker.ts?db=${encodeURIComponent(dbName)}`, import.meta.url);
      const worker = new Worker(url, { type: 'module' });
      const ready = await report(worker, (r) => r === 'ready' || isDone(r));
      expect(ready, 'the worker opened the store').to.equal('ready');
      const done = report(worker, isDone);
      const saving = report(worker, (r) => r === 'saving');
      const request: SaveRequest = { record: big };
      worker.postMessage(request);
      await saving;
      return { worker, done };
    };

    // How long one whole save takes here, to spread the kills over it.
    await store.save(trainedRecord('good', 1000, id));
    const timed = await startSave();
    const start = performance.now();
    const outcome = await timed.done;
    const saveMs = performance.now() - start;
    timed.worker.terminate();
    expect(outcome).to.have.property('saved');
    expectSameRecord(await store.load(id), big, 'uninterrupted save');

    const kills = 12;
    const outcomes = { old: 0, new: 0 };
    for (let i = 0; i < kills; i++) {
      const good = trainedRecord(`good ${i}`, 1000 + random.int(1000), id);
      await store.save(good);
      const run = await startSave();
      const delay = (saveMs * 2 * i) / (kills - 1) + random.uniform() * 5;
      await new Promise((resolve) => setTimeout(resolve, delay));
      run.worker.terminate();

      const list = await store.list();
      expect(
        list.map((s) => s.id),
        `kill ${i} after ${delay.toFixed(0)} ms`,
      ).to.deep.equal([id]);
      const loaded = await store.load(id);
      const isNew = loaded?.params.length === big.params.length;
      expectSameRecord(loaded, isNew ? big : good, `kill ${i} after ${delay.toFixed(0)} ms (${isNew ? 'new' : 'old'})`);
      expect(list[0]!.name).to.equal(isNew ? 'big' : good.name);
      outcomes[isNew ? 'new' : 'old']++;
    }
    console.log(
      `worker killed ${kills} times over a ${saveMs.toFixed(0)} ms save: old record ${outcomes.old}, new ${outcomes.new}`,
    );
    expect(outcomes.old, 'kills early in the save keep the old record').to.be.above(0);
  });

  it('two writers saving one model at once: one whole record wins, the later writer hears it replaced one', async () => {
    const dbName = freshDbName();
    const stores = [new CheckpointStore({ dbName }), new CheckpointStore({ dbName })];
    const id = CheckpointStore.newId();
    const base = await stores[0]!.save(trainedRecord('base', 1000, id));
    for (let round = 0; round < 3; round++) {
      const records = [
        trainedRecord('tab A', 200_000 + random.int(1000), id),
        trainedRecord('tab B', 200_000 + random.int(1000), id),
      ];
      const baseUpdated = round === 0 ? base.summary.updated : (await stores[0]!.list())[0]!.updated;
      const results = await Promise.all(stores.map((store, i) => store.save(records[i]!, { baseUpdated })));

      const told = results.map((result) => result.replaced !== undefined);
      expect(told.filter(Boolean), `round ${round}: exactly one writer hears of the other`).to.have.length(1);
      const winner = told.indexOf(true);
      const loser = 1 - winner;
      expect(results[winner]!.replaced!.updated).to.equal(results[loser]!.summary.updated);
      for (const store of stores) {
        expect(await store.list()).to.deep.equal([results[winner]!.summary]);
        expectSameRecord(await store.load(id), records[winner]!, `round ${round} winner`);
      }
      expect(await dataKeys(dbName), 'only the winning revision is left').to.have.length(1);
    }
  });

  it('a full disk is a quota problem that harms nothing saved', async () => {
    // A popup on another origin (127.0.0.1 for localhost) that has stored nothing yet, so the quota set now applies.
    const origin = `${location.protocol}//127.0.0.1:${location.port}`;
    await executeServerCommand('set-storage-quota', { origin, quotaSize: 2_000_000 });
    const remote = window.open(`${origin}/test/browser/store-remote.html`)!;
    try {
      await new Promise<void>((resolve) => {
        const ready = ({ data, source }: MessageEvent): void => {
          if (source !== remote || data !== 'ready') return;
          removeEventListener('message', ready);
          resolve();
        };
        addEventListener('message', ready);
      });
      const dbName = `test-store-${CheckpointStore.newId()}`;
      let calls = 0;
      const call = (method: RemoteCall['method'], ...args: unknown[]): Promise<RemoteReply> => {
        const request: RemoteCall = { call: ++calls, dbName, method, args };
        const reply = new Promise<RemoteReply>((resolve) => {
          const listener = ({ data, source }: MessageEvent<RemoteReply>): void => {
            if (source !== remote || data.call !== request.call) return;
            removeEventListener('message', listener);
            resolve(data);
          };
          addEventListener('message', listener);
        });
        remote.postMessage(request, origin);
        return reply;
      };
      const result = (reply: RemoteReply): unknown => {
        if (!('result' in reply)) throw new Error(reply.error);
        return reply.result;
      };

      const kept = trainedRecord('kept', 20_000);
      result(await call('save', kept));
      const tooBig = await call('save', trainedRecord('too big', 2_000_000));
      expect(tooBig).to.have.property('problem');
      const problem = (tooBig as { problem: { kind: string; message: string } }).problem;
      expect(problem.kind).to.equal('quota');
      expect(problem.message).to.match(
        /^Not enough storage space to save "too big": the browser refused to store more\. Delete saved models or free disk space; training goes on in memory\.$/,
      );
      const resave = await call('save', { ...kept, params: randomFloats(2_000_000) });
      expect(resave).to.have.nested.property('problem.kind', 'quota');
      expect((result(await call('info')) as StorageInfo).problem).to.match(/^Not enough storage space to save "kept"/);
      expect((result(await call('list')) as CheckpointSummary[]).map((s) => s.name)).to.deep.equal(['kept']);
      expectSameRecord(result(await call('load', kept.id)) as CheckpointRecord, kept, 'kept under the quota');

      await executeServerCommand('set-storage-quota', { origin });
      result(await call('save', trainedRecord('fits again', 2_000_000)));
      expect((result(await call('info')) as StorageInfo).problem).to.equal(undefined);
      expectSameRecord(result(await call('load', kept.id)) as CheckpointRecord, kept, 'kept after the quota');
      result(await call('deleteDatabase'));
    } finally {
      await executeServerCommand('set-storage-quota', { origin });
      remote.close();
    }
  });

  it('blocked storage: every call says so, and info() says it is unavailable', async () => {
    const blocked = [
      () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
      () =>
        ({
          open: () => {
            throw new DOMException('IndexedDB is off', 'InvalidStateError');
          },
        }) as unknown as IDBFactory,
    ];
    for (const indexedDB of blocked) {
      const store = new CheckpointStore({ dbName: 'never-opened', indexedDB });
      const calls = [
        () => store.save(importedRecord('x', 10)),
        () => store.list(),
        () => store.load('x'),
        () => store.activeId(),
      ];
      for (const call of calls) {
        const problem = await rejection(call());
        expect(problem).to.be.instanceOf(StorageProblem);
        expect((problem as StorageProblem).kind).to.equal('unavailable');
        expect((problem as StorageProblem).message).to.equal(
          'This browser does not let the page store data here (private window or blocked storage): models stay in memory until the tab closes.',
        );
      }
      const info = await store.info();
      expect(info.available).to.equal(false);
      expect(info.problem).to.match(/^This browser does not let the page store data here/);
    }
    const working = await freshStore().info();
    expect(working.available).to.equal(true);
    expect(working.problem).to.equal(undefined);
    expect(working.quota).to.be.above(0);
    expect(working.usage).to.be.a('number');
    expect(working.persisted).to.be.a('boolean');
  });

  it('opens a schema-1 record written by an older version, and refuses an unknown schema clearly', async () => {
    const dbName = freshDbName();
    const id = 'from-schema-1';
    const weights = randomFloats(4321);
    const savedAt = Date.now() - 86_400_000;
    const v1 = {
      version: 1,
      name: 'old model',
      config: DEFAULT_CONFIG,
      vocab: VOCAB,
      weights: weights.slice().buffer,
      step: 300,
      history: [
        [0, 4.5],
        [100, 3.2],
        [300, 2.5],
      ],
      savedAt,
    };
    const summary = {
      id,
      name: 'old model',
      config: DEFAULT_CONFIG,
      step: 300,
      bytes: weights.byteLength,
      created: savedAt,
      updated: savedAt,
    };
    await raw(dbName, (s) => {
      s.put(v1, ['data', id, `${savedAt}:v1`]);
      s.put({ [id]: { revision: `${savedAt}:v1`, summary } }, 'index');
    });
    const store = new CheckpointStore({ dbName });
    const loaded = await store.load(id);
    expect(loaded).to.deep.include({
      schema: 2,
      id,
      name: 'old model',
      config: DEFAULT_CONFIG,
      tokenizer: { type: 'char', vocab: VOCAB },
      seed: 0,
      training: null,
      corpus: null,
      created: savedAt,
      updated: savedAt,
    });
    expectSameBits(loaded!.params, weights, 'schema-1 weights');
    // Saved again, it is a schema-2 record.
    await store.save({ ...loaded!, name: 'old model, saved again' });
    const raws = await raw(dbName, (s) => s.getAll());
    expect(raws!.filter((value) => value.schema === 2)).to.have.length(1);
    expect(raws!.filter((value) => value.version === 1)).to.have.length(0);

    await raw(dbName, (s) => {
      s.put({ schema: 3, id: 'future' }, ['data', 'future', `${savedAt}:v3`]);
      const request = s.get('index');
      request.onsuccess = () =>
        s.put({ ...request.result, future: { revision: `${savedAt}:v3`, summary: { ...summary, id: 'future' } } }, 'index');
    });
    const problem = await rejection(store.load('future'));
    expect((problem as StorageProblem).kind).to.equal('failed');
    expect((problem as StorageProblem).message).to.equal(
      'Could not open the saved model: saved model future has schema version 3; this version of the playground reads 1 to 2.',
    );
  });
});
