// Downloading a pretrained model into this browser (workers/areas/pretrained.ts, workers/pretrained/*)
// from the dev server's GPT-2-shaped small model (test/fetch-test-routes.mjs, gpt2/ route), which can
// send slowly, break off, refuse Range requests, change its files and go offline: progress, cancel
// and resume with a Range request, a clean restart when resuming cannot work, storage that is too
// small before or during the download, reopening offline in a new engine, and deleting.
import { executeServerCommand } from '@web/test-runner-commands';
import { config as chaiConfig, expect } from 'chai';
import { isReadCancelled, type PretrainedProgress } from '../../workers/api/index.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { forward } from '../../workers/engine/model.ts';
import { baseUrl, control, fileBytes, TEST_CONFIG, testEngines, type TestEngine, testSource } from './pretrained-helpers.ts';
import type { RemoteDownload, RemoteResult } from './pretrained-remote.ts';
import { randomInt } from './seeded.ts';
import { rejection } from './wait-for.ts';

chaiConfig.truncateThreshold = 0;

const CHUNK = 256 * 1024;
const WEIGHTS = 'model.safetensors';

/** The open model's logits equal readCheckpoint's of the server's file, on a few tokens. */
async function expectSameModel({ engine }: TestEngine, weights: Uint8Array): Promise<void> {
  const reference = readCheckpoint(weights, { config: TEST_CONFIG });
  const ids = Array.from({ length: 6 }, () => randomInt(0, 50256));
  const { logits } = await engine.model.forward(ids);
  const expected = forward(reference.params, ids).logits;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - expected[i]!));
  expect(worst, 'largest logit difference from readCheckpoint').to.be.at.most(1e-5);
}

const sum = (files: Record<string, Uint8Array>): number => Object.values(files).reduce((total, bytes) => total + bytes.length, 0);

describe('pretrained models: download, resume, quota, offline', function () {
  this.timeout(120_000);
  const makeEngine = testEngines();

  it('reports progress across the four files, at most about ten times a second, and keeps them', async () => {
    const test = await makeEngine();
    const options = { seed: 11, chunk: 65_536, delay: 15 };
    const files = await fileBytes(options);
    const total = sum(files);
    await test.engine.pretrained.setSources([testSource(baseUrl(options), 9_000_000)]);
    const before = await test.engine.pretrained.list();
    expect(before.models[0]).to.deep.include({ id: 'tiny', state: 'none', storedBytes: 0, bytes: 9_000_000 });
    const reports: PretrainedProgress[] = [];
    const started = performance.now();
    await test.engine.pretrained.open('tiny', (progress) => reports.push(progress));
    const seconds = (performance.now() - started) / 1000;
    expect(reports.length, 'reports').to.be.greaterThan(4);
    expect(reports.length, 'reports a second, at most about 10').to.be.at.most(10 * seconds + 6);
    expect(reports[0]).to.deep.include({ phase: 'download', file: 'config.json', loaded: 0, resumedFrom: 0 });
    expect(reports.at(-1)).to.deep.include({ phase: 'download', file: WEIGHTS, loaded: total, total });
    for (let i = 1; i < reports.length; i++) expect(reports[i]!.loaded).to.be.at.least(reports[i - 1]!.loaded);
    const timed = reports.find((report) => report.bytesPerSecond !== undefined);
    expect(timed, 'a report with the speed').to.not.equal(undefined);
    expect(timed!.bytesPerSecond).to.be.above(0);
    expect(timed!.secondsLeft).to.be.at.least(0);
    const { models } = await test.engine.pretrained.list();
    expect(models[0]).to.deep.include({ state: 'stored', storedBytes: total, bytes: total });
    expect(models[0]!.spaceProblem).to.equal(undefined);
    await expectSameModel(test, files[WEIGHTS]!);
  });

  it('cancel keeps what came; the next open resumes with a Range request and fetches only the rest', async () => {
    const test = await makeEngine();
    const tag = `resume-${crypto.randomUUID()}`;
    const options = { seed: 12, chunk: 65_536, delay: 20, tag };
    const files = await fileBytes(options);
    await test.engine.pretrained.setSources([testSource(baseUrl(options), sum(files))]);
    const stopAt = randomInt(2, 4) * 2 ** 20;
    let cancelled = false;
    const first = test.engine.pretrained.open('tiny', (progress) => {
      if (!cancelled && progress.file === WEIGHTS && progress.loaded > stopAt) {
        cancelled = true;
        void test.engine.pretrained.cancel();
      }
    });
    expect(isReadCancelled(await rejection(first)), 'cancelled').to.equal(true);
    const kept = (await test.store.manifest('tiny'))!.files[WEIGHTS]!;
    expect(kept.stored, 'what came is kept').to.be.above(0);
    const listed = (await test.engine.pretrained.list()).models[0]!;
    expect(listed.state).to.equal('partial');
    const sentBefore = (await control(tag)).bytes;

    const reports: PretrainedProgress[] = [];
    const info = await test.engine.pretrained.open('tiny', (progress) => reports.push(progress));
    expect(info.pretrained).to.equal('tiny');
    expect(reports[0]!.resumedFrom).to.equal(listed.storedBytes);
    expect(reports[0]!.loaded).to.equal(listed.storedBytes);
    const { requests, bytes } = await control(tag);
    const weightRequests = requests.filter((request) => request.file === WEIGHTS);
    expect(weightRequests.at(-1)).to.deep.equal({ file: WEIGHTS, range: `bytes=${kept.stored}-` });
    expect(bytes - sentBefore, 'bytes sent for the resume').to.equal(files[WEIGHTS]!.length - kept.stored);
    expect((await test.engine.pretrained.list()).models[0]).to.deep.include({ state: 'stored', storedBytes: sum(files) });
    await expectSameModel(test, files[WEIGHTS]!);
  });

  it('a download that breaks off says so, and resumes from the last whole chunk', async () => {
    const test = await makeEngine();
    const tag = `broken-${crypto.randomUUID()}`;
    const stop = randomInt(1_000_000, 5_000_000);
    const options = { seed: 13, stop, tag };
    const files = await fileBytes({ seed: 13 });
    await test.engine.pretrained.setSources([testSource(baseUrl(options), sum(files))]);
    const error = await rejection(test.engine.pretrained.open('tiny'));
    expect(error.message).to.match(
      /^Tiny GPT-2 could not be opened: The download of .*\/model\.safetensors broke off after [\d.]+ MB \(.*\)\. Open it again to resume\.$/,
    );
    // Whole chunks of what arrived before the break (the browser drops what it had not handed on yet).
    const kept = (await test.store.manifest('tiny'))!.files[WEIGHTS]!;
    expect(kept.stored, 'kept').to.be.above(0);
    expect(kept.stored).to.be.at.most(stop);
    expect(kept.stored % CHUNK).to.equal(0);
    await test.engine.pretrained.open('tiny');
    const weightRequests = (await control(tag)).requests.filter((request) => request.file === WEIGHTS);
    expect(weightRequests).to.deep.equal([{ file: WEIGHTS }, { file: WEIGHTS, range: `bytes=${kept.stored}-` }]);
    await expectSameModel(test, files[WEIGHTS]!);
  });

  it('restarts cleanly when the server cannot resume (no Range, or a part it does not place) or the file changed', async () => {
    for (const how of ['no range', 'unplaced part', 'new version']) {
      const test = await makeEngine();
      const tag = `restart-${crypto.randomUUID()}`;
      const options: Record<string, string | number> = { seed: 14, stop: 3_000_000, tag };
      if (how === 'no range') options['range'] = 'no';
      if (how === 'unplaced part') options['range'] = 'hidden';
      const files = await fileBytes({ seed: 14 });
      await test.engine.pretrained.setSources([testSource(baseUrl(options), sum(files))]);
      await rejection(test.engine.pretrained.open('tiny'));
      const kept = (await test.store.manifest('tiny'))!.files[WEIGHTS]!.stored;
      expect(kept, how).to.be.above(0);
      if (how === 'new version') await control(tag, { version: '2' });
      const sentBefore = (await control(tag)).bytes;
      const reports: PretrainedProgress[] = [];
      await test.engine.pretrained.open('tiny', (progress) => reports.push(progress));
      const { requests, bytes } = await control(tag);
      const weightRequests = requests.filter((request) => request.file === WEIGHTS);
      const expected =
        how === 'no range'
          ? [{ file: WEIGHTS }, { file: WEIGHTS, range: `bytes=${kept}-` }]
          : [{ file: WEIGHTS }, { file: WEIGHTS, range: `bytes=${kept}-` }, { file: WEIGHTS }];
      expect(weightRequests, how).to.deep.equal(expected);
      expect(bytes - sentBefore, `${how}: the whole file again`).to.be.at.least(files[WEIGHTS]!.length);
      // What was kept of the old download went: the restart counts from 0.
      const restarted = reports.filter((report) => report.file === WEIGHTS);
      expect(
        restarted.some((report) => report.loaded < reports[0]!.resumedFrom),
        `${how}: progress went back`,
      ).to.equal(true);
      expect((await test.engine.pretrained.list()).models[0], how).to.deep.include({ state: 'stored', storedBytes: sum(files) });
      await expectSameModel(test, files[WEIGHTS]!);
    }
  });

  it('a second open cancels the first; opening the one in use answers at once', async () => {
    const test = await makeEngine();
    const tag = `twice-${crypto.randomUUID()}`;
    await test.engine.pretrained.setSources([
      testSource(baseUrl({ seed: 15, chunk: 65_536, delay: 30, tag }), 0, 'slow'),
      testSource(baseUrl({ seed: 16 }), 0, 'fast'),
    ]);
    const slow = rejection(test.engine.pretrained.open('slow'));
    for (let tries = 0; !(await control(tag)).requests.some((request) => request.file === WEIGHTS); tries++) {
      if (tries > 500) throw new Error('the slow download did not start');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const fast = await test.engine.pretrained.open('fast');
    expect(fast.pretrained).to.equal('fast');
    expect(isReadCancelled(await slow)).to.equal(true);
    expect((await test.engine.model.info()).pretrained).to.equal('fast');
  });

  it('reopens offline in a new engine, without a single request, and deletes', async () => {
    const libraryDb = `test-library-${crypto.randomUUID()}`;
    const dbName = `test-pretrained-${crypto.randomUUID()}`;
    const first = await makeEngine({ dbName, libraryDb });
    const tag = `offline-${crypto.randomUUID()}`;
    const options = { seed: 17, tag };
    const files = await fileBytes({ seed: 17 });
    const sources = [testSource(baseUrl(options), sum(files))];
    await first.engine.pretrained.setSources(sources);
    await first.engine.pretrained.open('tiny');
    await control(tag, { offline: '1' });
    const requests = (await control(tag)).requests.length;

    // Reload: a new engine on the same databases reopens the model that was in use.
    const second = await makeEngine({ dbName, libraryDb });
    await second.engine.pretrained.setSources(sources);
    const restored = await second.engine.library.restoreActive();
    expect(restored?.pretrained).to.equal('tiny');
    expect((await second.engine.model.tokenize('Hello world')).ids).to.deep.equal([15496, 995]);
    await expectSameModel(second, files[WEIGHTS]!);

    // Opening it in yet another engine reads it from here: progress says 'open'.
    const third = await makeEngine({ dbName, libraryDb: `test-library-${crypto.randomUUID()}` });
    await third.engine.pretrained.setSources(sources);
    const reports: PretrainedProgress[] = [];
    await third.engine.pretrained.open('tiny', (progress) => reports.push(progress));
    expect(reports.every((report) => report.phase === 'open')).to.equal(true);
    expect(reports.at(-1)).to.deep.include({ loaded: sum(files), total: sum(files), resumedFrom: 0 });
    expect((await control(tag)).requests.length, 'requests while offline').to.equal(requests);

    // Deleted: it is no longer kept, the model in use stays, and a reload no longer reopens it.
    await third.engine.pretrained.delete('tiny');
    expect((await third.engine.pretrained.list()).models[0]).to.deep.include({ state: 'none', storedBytes: 0 });
    expect((await third.engine.model.info()).pretrained).to.equal('tiny');
    const fourth = await makeEngine({ dbName, libraryDb });
    await fourth.engine.pretrained.setSources(sources);
    expect(await fourth.engine.library.restoreActive()).to.equal(null);
    expect((await fourth.engine.model.info()).notice).to.match(
      /^The pretrained model "tiny" could not be reopened: Tiny GPT-2 is no longer kept whole in this browser\./,
    );
    const offline = await rejection(fourth.engine.pretrained.open('tiny'));
    expect(offline.message).to.match(/^Tiny GPT-2 could not be opened: .*config\.json could not be reached/);
  });

  it('a pretrained model in use is not saved, exported or trained on; a new model still trains', async () => {
    const test = await makeEngine();
    await test.engine.pretrained.setSources([testSource(baseUrl({ seed: 18 }))]);
    await test.engine.pretrained.open('tiny');
    expect((await rejection(test.engine.library.save())).message).to.match(
      /^Tiny GPT-2 is kept in this browser as the files it was downloaded as, not as a saved model/,
    );
    expect((await rejection(test.engine.library.export())).message).to.match(
      /^Tiny GPT-2 is not exported: its file would take another [\d.]+ MB in this tab\./,
    );
    expect((await rejection(test.engine.training.keepGoing(10))).message).to.match(
      /^Tiny GPT-2 is not trained further here:.*Train a new model from scratch instead\.$/,
    );
    expect((await test.engine.library.list()).models).to.deep.equal([]);
    const { model } = await test.engine.training.newModel({ corpus: { kind: 'builtin' }, size: 'tiny', seed: 1 });
    expect(model.pretrained).to.equal(undefined);
  });

  it('storage too small before the download: said in the list and by open, and nothing is fetched or kept', async () => {
    const test = await makeEngine({ estimate: async () => ({ usage: 1_000_000, quota: 3_000_000 }) });
    const tag = `small-${crypto.randomUUID()}`;
    const files = await fileBytes({ seed: 19 });
    await test.engine.pretrained.setSources([testSource(baseUrl({ seed: 19, tag }), sum(files))]);
    const expected = `Tiny GPT-2 needs ${Math.ceil((sum(files) / 2 ** 20) * 10) / 10} MB more storage, but this browser lets this site store only 1.9 MB more. Delete saved models, or free space on this computer, and try again.`;
    expect((await test.engine.pretrained.list()).models[0]!.spaceProblem).to.equal(expected);
    expect((await rejection(test.engine.pretrained.open('tiny'))).message).to.equal(
      `Tiny GPT-2 could not be opened: ${expected}`,
    );
    expect((await control(tag)).requests).to.deep.equal([]);
    expect((await test.engine.pretrained.list()).models[0]).to.deep.include({ state: 'none', storedBytes: 0 });
  });

  it('storage that fills during the download: a clear message, and what was kept of it is removed', async () => {
    // A popup on an origin of its own (a fresh *.localhost name, which Chromium serves from this machine)
    // that has stored nothing yet, so the quota set now is the one IndexedDB meets.
    const origin = `${location.protocol}//pretrained-${randomInt(0, 2 ** 30)}.localhost:${location.port}`;
    const files = await fileBytes({ seed: 20 });
    await executeServerCommand('set-storage-quota', { origin, quotaSize: 4_000_000 });
    const remote = window.open(`${origin}/test/browser/pretrained-remote.html`)!;
    try {
      await new Promise<void>((resolve) => {
        const ready = ({ data, source }: MessageEvent): void => {
          if (source !== remote || data !== 'ready') return;
          removeEventListener('message', ready);
          resolve();
        };
        addEventListener('message', ready);
      });
      const result = await new Promise<RemoteResult>((resolve) => {
        const listener = ({ data, source }: MessageEvent<RemoteResult>): void => {
          if (source !== remote) return;
          removeEventListener('message', listener);
          resolve(data);
        };
        addEventListener('message', listener);
        const request: RemoteDownload = {
          dbName: `test-pretrained-${crypto.randomUUID()}`,
          baseUrl: `${origin}/fetch-test/gpt2/seed=20/`,
          bytes: sum(files),
        };
        remote.postMessage(request, origin);
      });
      expect(result.message).to.match(
        /^Tiny GPT-2 could not be opened: This browser's storage is full: it refused to keep more of Tiny GPT-2 after [\d.]+ MB of [\d.]+ MB\. What was kept of it is removed\. Delete saved models, or free space on this computer, and try again\.$/,
      );
      expect(result).to.deep.include({ manifest: false, state: 'none', storedBytes: 0 });
    } finally {
      await executeServerCommand('set-storage-quota', { origin });
      remote.close();
    }
  });
});
