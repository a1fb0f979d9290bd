// Saved models through the real client and worker: training that resumes
// exactly where it was saved, the saved-models list, export and import (and
// imports that must change nothing), storage that fails, and a worker that dies.
import { expect } from 'chai';
import { DEFAULT_MODEL_URL, EngineClient, type RestartEvent } from '../../src/client.ts';
import '../../src/llm-playground.ts';
import type { NewModelRequest, TrainingProgress } from '../../workers/api/index.ts';
import { importCheckpoint } from '../../workers/engine/checkpoint.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { parseSafetensors, readTensor } from '../../workers/engine/safetensors.ts';
import { Random } from '../../workers/engine/random.ts';
import { BpeTokenizer } from '../../workers/engine/bpe.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import { engineClients } from './engine-clients.ts';
import { pick, randomInt } from './seeded.ts';
import { ModelLibrary } from '../../workers/model-library.ts';
import { createEngine } from '../../workers/engine.ts';
import { type CheckpointInput, CheckpointStore } from '../../workers/store/checkpoint-store.ts';
import { waitFor } from './wait-for.ts';

const database = (): string => `test-${crypto.randomUUID()}`;

/** Words in a fresh random order: a corpus no other test trains on. */
function randomText(): string {
  const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'to', 'sun', 'and', 'hid', 'red', 'box'];
  let text = '';
  while (text.length < 3000) text += `${pick(words)} `;
  return text;
}

/** Every worker a client makes, so a test can kill the one in use. */
function workerFactory() {
  const workers: Worker[] = [];
  const createWorker = () => {
    const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module' });
    workers.push(worker);
    return worker;
  };
  return { workers, createWorker };
}

const nextRestart = (client: EngineClient): Promise<RestartEvent['detail']> =>
  new Promise((resolve) =>
    client.addEventListener('restart', (event) => resolve((event as RestartEvent).detail), { once: true }),
  );

describe('saved models', function () {
  this.timeout(120_000);
  const shape = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 };
  let text: string;
  let seed: number;
  const request = (totalSteps: number): NewModelRequest => ({
    corpus: { kind: 'text', text, name: 'words' },
    size: shape,
    seed,
    training: { totalSteps, batchSize: 4, learningRate: 1e-2, warmupSteps: 3, evalInterval: 5, sampleInterval: 6 },
  });
  const client = engineClients();

  beforeEach(() => {
    text = randomText();
    seed = randomInt(1, 1e6);
  });

  /** A record written straight into the store as the save to reopen, as an older version may have left it. */
  async function savedAsActive(
    db: string,
    record: Pick<CheckpointInput, 'name' | 'config' | 'tokenizer' | 'params'>,
  ): Promise<{ id: string }> {
    const store = new CheckpointStore({ dbName: db });
    const { summary } = await store.save({ id: CheckpointStore.newId(), seed, training: null, corpus: null, ...record });
    await store.setActive(summary.id);
    return summary;
  }

  /** Plays to the end, collecting every loss point. */
  async function playToEnd(engine: EngineClient): Promise<TrainingProgress['points']> {
    const points: TrainingProgress['points'] = [];
    await engine.training.play((progress) => points.push(...progress.points));
    return points;
  }

  it('resumes training exactly: saved on pause and reopened in a new worker, the losses equal an unbroken run', async () => {
    const unbroken = client({ database: database() });
    await unbroken.library.setAutosave(0);
    await unbroken.training.newModel(request(15));
    const reference = await playToEnd(unbroken);
    expect(reference).to.have.length(15);

    const db = database();
    const first = client({ database: db });
    await first.library.setAutosave(4);
    await first.training.newModel(request(15));
    const autosaves: number[] = [];
    const outcome = await first.training.play((progress) => {
      if (progress.saved) autosaves.push(progress.saved.step);
      if (progress.step >= 9) void first.training.pause();
    });
    // Every 4 steps exactly, and once more when paused.
    expect(autosaves).to.deep.equal([4, 8]);
    const savedAt = outcome.saved!.step;
    expect(savedAt).to.be.within(9, 14);
    first.terminate();

    const second = client({ database: db });
    const reopened = await second.model.info();
    expect(reopened).to.include({ weights: 'training', step: savedAt, corpus: 'words' });
    expect(reopened.saved).to.include({ step: savedAt });
    const state = await second.training.state();
    expect(state!.history).to.deep.equal(reference.slice(0, savedAt));
    const rest = await playToEnd(second);
    // Same weights, AdamW moments, schedule position and batch order: the same numbers, bit for bit.
    expect(rest).to.deep.equal(reference.slice(savedAt));
  });

  it('lists, renames, duplicates, opens and deletes saved models; the active one reopens in a new client', async () => {
    const db = database();
    const engine = client({ database: db });
    const { model } = await engine.training.newModel(request(4));
    await engine.training.step();
    const saved = await engine.library.save('first run');
    expect(saved).to.include({ name: 'first run', step: 1 });
    expect(saved.bytes).to.be.greaterThan(model.parameters.total * 4 * 3); // weights and two moments
    const copy = await engine.library.duplicate(saved.id);
    expect(copy.id).to.not.equal(saved.id);
    const renamed = await engine.library.rename(copy.id, 'a copy');
    expect(renamed.name).to.equal('a copy');

    let list = await engine.library.list();
    expect(list.models.map((m) => m.name).sort()).to.deep.equal(['a copy', 'first run']);
    expect(list.activeId).to.equal(saved.id);
    expect(list.storage.available).to.equal(true);

    const opened = await engine.library.open(copy.id);
    expect(opened).to.include({ name: 'a copy', step: 1 });
    list = await engine.library.list();
    expect(list.activeId).to.equal(copy.id);

    const later = client({ database: db });
    expect(await later.model.info()).to.include({ name: 'a copy', step: 1 });
    await later.library.delete(copy.id);
    expect((await later.library.list()).models.map((m) => m.id)).to.deep.equal([saved.id]);
    expect((await later.model.info()).saved).to.equal(undefined); // still in memory, no longer saved
  });

  it('exports the model as .safetensors and imports it back: same weights, same predictions', async () => {
    const engine = client({ database: database() });
    await engine.training.newModel(request(3));
    await engine.training.step();
    const prompt = text.slice(0, 12);
    const before = await engine.model.predict(prompt, { temperature: 1 });
    const { fileName, bytes } = await engine.library.export();
    expect(fileName).to.match(/\.safetensors$/);
    const model = importCheckpoint(bytes);
    expect(model.config.nEmbd).to.equal(shape.nEmbd);

    const other = client({ database: database() });
    const imported = await other.library.import({ kind: 'file', file: new File([bytes.slice()], 'mine.safetensors') });
    expect(imported).to.include({ name: 'mine', weights: 'trained', checkpoint: 'mine.safetensors' });
    expect(imported.saved).to.include({ name: 'mine' });
    const after = await other.model.predict(prompt, { temperature: 1 });
    expect([...after.probs]).to.deep.equal([...before.probs]);
  });

  it('reopens, exports and imports a word-piece (BPE) model: same vocabulary, merges, tokens and predictions', async () => {
    const db = database();
    const tokenizer = BpeTokenizer.train(`${text} naïve 🎉`, 270);
    const config = { ...shape, vocabSize: tokenizer.size, tied: true };
    const params = createParameters(config);
    new Random(seed).fillNormal(params.data, 0.1);
    const name = `Pieces ${randomInt(1, 1000)}`;
    // As the store keeps it: tokenizer JSON that went through structured clone.
    await savedAsActive(db, { name, config, tokenizer: tokenizer.toJSON(), params: params.data });

    const engine = client({ database: db });
    const info = await engine.model.info();
    expect(info).to.include({ name, tokenizer: 'bpe' });
    expect(info.vocabulary).to.deep.equal(tokenizer.vocab);
    // Short enough for the context (16 tokens): a three-letter word and " naïve" are 11 bytes.
    const prompt = ` ${text.trim().split(' ')[0]} naïve`;
    const tokens = await engine.model.tokenize(prompt);
    expect(tokens.dropped).to.equal(0);
    expect(tokens.ids).to.deep.equal(tokenizer.encode(prompt));
    expect(tokens.tokens).to.deep.equal(tokens.ids.map((id) => tokenizer.token(id)));
    expect(tokens.pieces.join('')).to.equal(prompt);
    const before = await engine.model.predict(prompt, { temperature: 1 });

    // Streamed text joins to the generated text, whatever bytes the random weights draw.
    const streamed: string[] = [];
    const generated = await engine.model.generate(prompt, { maxTokens: 30, temperature: 1, seed }, ({ text }) =>
      streamed.push(text),
    );
    // (A last character still incomplete is U+FFFD in the text and not yet streamed.)
    expect(generated.text.startsWith(streamed.join(''))).to.equal(true);
    expect(generated.text.slice(streamed.join('').length)).to.match(/^\uFFFD*$/);
    expect(generated.text).to.equal(tokenizer.decode(generated.ids));

    const { bytes } = await engine.library.export();
    expect(importCheckpoint(bytes).tokenizer.toJSON()).to.deep.equal(tokenizer.toJSON());
    const other = client({ database: database() });
    const imported = await other.library.import({ kind: 'file', file: new File([bytes.slice()], 'pieces.safetensors') });
    expect(imported).to.include({ name: 'pieces', tokenizer: 'bpe' });
    expect(imported.vocabulary).to.deep.equal(tokenizer.vocab);
    expect([...(await other.model.predict(prompt, { temperature: 1 })).probs]).to.deep.equal([...before.probs]);
    // Reopened from storage after a reload, it is the same model.
    const later = client({ database: db });
    expect(await later.model.info()).to.deep.equal(info);
  });

  it('refuses malformed files with a specific message and changes nothing: not the list, not the model', async () => {
    const engine = client({ database: database() });
    await engine.training.newModel(request(3));
    await engine.training.step();
    await engine.library.save();
    const { bytes } = await engine.library.export();
    const listBefore = await engine.library.list();
    const infoBefore = await engine.model.info();
    const prompt = text.slice(0, 10);
    const predictionBefore = await engine.model.predict(prompt, { temperature: 1 });

    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const withNaN = bytes.slice();
    new DataView(withNaN.buffer).setFloat32(8 + headerLength + 4 * randomInt(0, 100), NaN, true);
    const notJSON = bytes.slice();
    notJSON[8] = 0x7a; // 'z' where the header's '{' was
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated', bytes.slice(0, 8 + headerLength + randomInt(0, 100)), /data|truncat|past the end|outside/i],
      ['NaN weight', withNaN, /NaN/],
      ['header not JSON', notJSON, /JSON|header/i],
      ['too short', bytes.slice(0, 5), /too short|8-byte/i],
    ];
    for (const [what, file, message] of cases) {
      const refused = await engine.library.import({ kind: 'file', file: new File([file.slice()], `${what}.safetensors`) }).then(
        () => null,
        (error: Error) => error,
      );
      expect(refused, what).to.be.an('error');
      expect(refused!.message, what).to.match(message);
    }
    const listAfter = await engine.library.list();
    expect(listAfter.models).to.deep.equal(listBefore.models);
    expect(listAfter.activeId).to.equal(listBefore.activeId);
    expect((await engine.model.info()).name).to.equal(infoBefore.name);
    expect([...(await engine.model.predict(prompt, { temperature: 1 })).probs]).to.deep.equal([...predictionBefore.probs]);
  });

  it('starts from the shipped model when the saved one cannot be opened, names it and why, keeps it listed and downloadable', async () => {
    const tokenizer = CharTokenizer.fromText(text);
    const config = { ...shape, vocabSize: tokenizer.size, tied: false };
    const params = createParameters(config);
    new Random(seed).fillNormal(params.data, 0.1);
    // Saved before such saves were refused: finite weights that overflow, and a vocabulary entry that is no character.
    const overflowing = params.data.slice();
    createParameters(config, overflowing).lnfw.fill(3.4e38);
    const broken: [string, Partial<CheckpointInput>, string][] = [
      ['every ln_f.weight 3.4e38', { params: overflowing }, 'its weights are too large to compute with'],
      [
        'a vocabulary entry ["abc"]',
        { tokenizer: { type: 'char', vocab: [...tokenizer.vocab.slice(0, -1), ['abc'] as never] } },
        'token \\d+ is not a string: \\["abc"\\]',
      ],
    ];
    for (const [what, edit, reason] of broken) {
      const db = database();
      const name = `${pick(['Mine', 'Old run', 'Tiny'])} ${randomInt(1, 1000)}`;
      const summary = await savedAsActive(db, { name, config, tokenizer: tokenizer.toJSON(), params: params.data, ...edit });

      const engine = client({ database: db, modelUrl: DEFAULT_MODEL_URL });
      const info = await engine.model.info();
      expect(info, what).to.include({ checkpoint: 'default-model.safetensors', weights: 'trained' });
      expect(info.notice, what).to.match(
        new RegExp(
          `^Your saved model "${name}" could not be reopened: ${reason}.*\\. The playground started without it; it stays in Saved models, where you can download or delete it\\.$`,
        ),
      );
      const list = await engine.library.list();
      expect(
        list.models.map(({ id }) => id),
        what,
      ).to.deep.equal([summary.id]);
      expect(list.activeId, what).to.equal(null);
      const odds = (await engine.model.predict('the ', { temperature: 1 })).probs;
      expect(odds.every(Number.isFinite), what).to.equal(true);

      // Opened by hand, it is refused for the same reason and the model in use stays.
      const refused = await engine.library.open(summary.id).then(
        () => null,
        (error: Error) => error,
      );
      expect(refused?.message, what).to.match(new RegExp(`^The saved model "${name}" could not be opened: ${reason}`));
      expect(await engine.model.info(), what).to.deep.equal(info);
      expect(Array.from((await engine.model.predict('the ', { temperature: 1 })).probs), what).to.deep.equal(Array.from(odds));

      // It can still be downloaded as it is, when its parts can be read at all.
      const exported = await engine.library.export(summary.id).then(
        ({ bytes }) => bytes,
        (error: Error) => error,
      );
      if (edit.params) {
        const file = parseSafetensors(exported as Uint8Array);
        expect(Array.from(readTensor(file, 'ln_f.weight')), what).to.deep.equal(new Array(shape.nEmbd).fill(Math.fround(3.4e38)));
        expect(() => importCheckpoint(exported as Uint8Array), what).to.throw(new RegExp(reason));
      } else {
        expect((exported as Error).message, what).to.match(new RegExp(`^The saved model "${name}" could not be read: ${reason}`));
      }
    }
  });

  it('shows the playground why its saved model was not reopened', async () => {
    const db = database();
    const tokenizer = CharTokenizer.fromText(text);
    const config = { ...shape, vocabSize: tokenizer.size, tied: true };
    const params = createParameters(config);
    params.qkvb.fill(3e38);
    const name = `Run ${randomInt(1, 1000)}`;
    await savedAsActive(db, { name, config, tokenizer: tokenizer.toJSON(), params: params.data });

    const playground = document.createElement('llm-playground');
    playground.setAttribute('database', db);
    document.body.append(playground);
    try {
      const notice = () => playground.shadowRoot?.querySelector('[part="notice"]')?.textContent ?? '';
      await waitFor(() => notice().includes(name), 'the notice naming the saved model');
      expect(notice()).to.match(new RegExp(`^Your saved model "${name}" could not be reopened: its weights are too large`));
      expect(playground.status).to.equal('ready');
    } finally {
      playground.remove();
    }
  });

  it('keeps training in memory when storage is unavailable, and says why saving failed', async () => {
    const blocked = () => {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    };
    const service = createEngine({ library: new ModelLibrary(new CheckpointStore({ dbName: database(), indexedDB: blocked })) });
    await service.training.newModel(request(4));
    const report = await service.training.step();
    expect(report.step).to.equal(1);
    const refused = await service.library.save().then(
      () => null,
      (error: Error) => error,
    );
    expect(refused!.message).to.match(/private window|blocked storage|stay in memory/i);
    expect((await service.model.info()).storageProblem).to.equal(refused!.message);
    const list = await service.library.list();
    expect(list.storage.available).to.equal(false);
    expect(list.models).to.deep.equal([]);
    // Training goes on; its autosave reports the problem instead of stopping.
    await service.library.setAutosave(1);
    const next = await service.training.step();
    expect(next.step).to.equal(2);
    expect(next.saveProblem).to.match(/private window|blocked storage|stay in memory/i);
  });

  it('survives a worker killed mid-generation: the call fails clearly, a new worker reopens the saved model', async () => {
    const { workers, createWorker } = workerFactory();
    const engine = client({ database: database(), createWorker });
    await engine.training.newModel(request(5));
    await engine.training.step();
    await engine.training.step();
    const saved = await engine.library.save('before the crash');
    const restarted = nextRestart(engine);
    let tokens = 0;
    const generation = engine.model.generate('the ', { temperature: 1, maxTokens: 100_000, seed: 3 }, () => {
      tokens++;
      if (tokens === 5) workers.at(-1)!.terminate();
    });
    const failure = await generation.then(
      () => null,
      (error: Error) => error,
    );
    expect(failure!.message).to.match(/worker stopped/);
    const { message, model } = await restarted;
    expect(message).to.match(/restarted.*"before the crash".*step 2/);
    expect(model).to.include({ name: 'before the crash', step: 2 });
    expect(workers).to.have.length(2);
    // The new worker answers, from the saved weights and training state.
    expect((await engine.model.info()).saved?.id).to.equal(saved.id);
    expect((await engine.training.state())!.step).to.equal(2);
    const token = await engine.model.sample('the ', { temperature: 1 }, 1);
    expect(token.token).to.be.a('string');
  });

  it('survives a worker killed mid-training: play fails clearly, training goes on from the last autosave', async () => {
    const { workers, createWorker } = workerFactory();
    const engine = client({ database: database(), createWorker });
    await engine.library.setAutosave(3);
    await engine.training.newModel(request(400));
    const restarted = nextRestart(engine);
    let lastSaved = 0;
    const playing = engine.training.play((progress) => {
      if (progress.saved) lastSaved = progress.saved.step;
      if (lastSaved >= 6 && progress.step > lastSaved) workers.at(-1)!.terminate();
    });
    const failure = await playing.then(
      () => null,
      (error: Error) => error,
    );
    expect(failure!.message).to.match(/worker stopped/);
    const { model } = await restarted;
    expect(model!.step).to.equal(lastSaved);
    // The restarted worker still autosaves every 3 steps (the setting was applied again) and trains on.
    await engine.training.step();
    await engine.training.step();
    const report = await engine.training.step();
    expect(report.step).to.equal(lastSaved + 3);
    expect(report.saved?.step).to.equal(lastSaved + 3);
  });

  it('gives a restarted worker every setting the page made, the last of each, and none that was refused', async () => {
    const { workers, createWorker } = workerFactory();
    const engine = client({ database: database(), createWorker });
    const every = randomInt(2, 6);
    await engine.library.setAutosave(randomInt(7, 50));
    await engine.library.setAutosave(0);
    await engine.backend.choose('cpu');
    await engine.inspector.setTimelapse({ prompt: 'the', every });
    const refused = await engine.inspector.setTimelapse({ prompt: 'the', every: 0 }).then(
      () => null,
      (error: Error) => error,
    );
    expect(refused!.message).to.match(/whole number/);
    const restarted = nextRestart(engine);
    workers.at(-1)!.terminate();
    await restarted;
    expect(workers).to.have.length(2);
    expect((await engine.library.list()).autosaveEvery).to.equal(0);
    expect(await engine.backend.info()).to.include({ choice: 'cpu', active: 'cpu' });
    await engine.training.newModel(request(2 * every));
    await engine.training.play(() => {});
    expect((await engine.inspector.timelapse()).map((frame) => frame.step)).to.deep.equal([0, every, 2 * every]);
  });

  it('hears when another engine on its database changes the saved models, also after a restart', async () => {
    const db = database();
    const { workers, createWorker } = workerFactory();
    const watching = client({ database: db, createWorker });
    let heard = 0;
    await watching.library.watch(() => heard++);
    const other = client({ database: db });
    await other.training.newModel(request(3));
    const theirs = await other.library.save('theirs');
    await waitFor(() => heard === 1, 'word of the save');
    let list = await watching.library.list();
    expect(list.models.map((model) => model.id)).to.deep.equal([theirs.id]);
    // The list marks the saved model this engine holds, not the one the other saved.
    expect(list.activeId).to.equal(null);

    const restarted = nextRestart(watching);
    workers.at(-1)!.terminate();
    await restarted;
    await other.library.rename(theirs.id, 'renamed');
    await waitFor(() => heard === 2, 'word of the rename, heard by the restarted worker');
    await other.library.delete(theirs.id);
    await waitFor(() => heard === 3, 'word of the delete');
    list = await watching.library.list();
    expect(list.models).to.deep.equal([]);
  });

  it('gives up after repeated deaths instead of restarting forever', async () => {
    const { workers, createWorker } = workerFactory();
    const engine = client({ database: database(), createWorker });
    await engine.model.info();
    const messages: string[] = [];
    engine.addEventListener('restart', (event) => messages.push((event as RestartEvent).detail.message));
    for (let death = 0; death < 4; death++) {
      workers.at(-1)!.terminate();
      await waitFor(() => messages.length > death, `restart ${death + 1}`);
      if (death < 3) await engine.model.info();
    }
    expect(messages.at(-1)).to.match(/stopped 4 times in a minute/);
    expect(workers).to.have.length(4);
  });
});
