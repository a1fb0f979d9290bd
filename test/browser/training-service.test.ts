// The engine worker as a trainer, through the real client: the starting
// checkpoint, corpora and their errors, and play / pause / step / reset.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { NewModelRequest, TrainingProgress } from '../../workers/api/index.ts';
import { writeCheckpoint } from '../../workers/engine/checkpoint.ts';
import { DEFAULT_CONFIG } from '../../workers/engine/defaults.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';
import { expectRejection } from './wait-for.ts';

/** A Blob URL serving `bytes`, as a web server would serve a .safetensors file. */
const serveBytes = (bytes: Uint8Array): string => URL.createObjectURL(new Blob([bytes as BlobPart]));

describe('starting checkpoint', () => {
  const random = new Random(4242);

  it('opens with the checkpoint at modelUrl: its config, vocabulary and weights', async () => {
    const tokenizer = CharTokenizer.fromText('the quick brown fox jumps');
    const config = { vocabSize: tokenizer.size, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8, tied: false };
    const { vocabSize: V, nEmbd: C } = config;
    // Attention and MLP weights all zero: each block adds nothing, so the logits are
    // LayerNorm(wte[id] + wpe[t]) · lmHeadᵀ, which the test computes itself.
    const params = createParameters(config);
    for (const name of ['wte', 'wpe', 'lnfw', 'lnfb', 'lmHead'] as const) random.fillNormal(params[name], 0.5);
    const url = serveBytes(writeCheckpoint({ config, params, tokenizer }));
    const client = new EngineClient({ modelUrl: url, database: `test-${crypto.randomUUID()}` });
    try {
      const info = await client.model.info();
      expect(info.config).to.deep.equal(config);
      expect(info.vocabulary).to.deep.equal([...tokenizer.vocab]);
      expect(info).to.include({ weights: 'trained', step: 0, checkpoint: url.slice(url.lastIndexOf('/') + 1) });
      expect(info.notice).to.equal(undefined);

      const ids = Array.from({ length: 5 }, () => random.int(V));
      const { logits } = await client.model.forward(ids);
      ids.forEach((id, t) => {
        const x = Array.from({ length: C }, (_, c) => params.wte[id * C + c]! + params.wpe[t * C + c]!);
        const mean = x.reduce((a, b) => a + b, 0) / C;
        const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
        const normed = x.map((v, c) => ((v - mean) / Math.sqrt(variance + 1e-5)) * params.lnfw[c]! + params.lnfb[c]!);
        for (let v = 0; v < V; v++) {
          const expected = normed.reduce((sum, n, c) => sum + n * params.lmHead[v * C + c]!, 0);
          expect(logits[t * V + v]).to.be.closeTo(expected, 1e-4);
        }
      });
    } finally {
      client.terminate();
      URL.revokeObjectURL(url);
    }
  });

  it('falls back to random weights with a notice when the file is not a checkpoint', async () => {
    const url = serveBytes(new TextEncoder().encode('<!doctype html><p>Not found</p>'));
    const client = new EngineClient({ modelUrl: url, database: `test-${crypto.randomUUID()}` });
    try {
      const info = await client.model.info();
      expect(info.config).to.deep.equal(DEFAULT_CONFIG);
      expect(info.weights).to.equal('random');
      expect(info.notice).to.match(/could not be loaded .* random weights/);
    } finally {
      client.terminate();
      URL.revokeObjectURL(url);
    }
  });

  it('falls back with a notice naming the status when the file is missing', async () => {
    const url = new URL('/no-such-model.safetensors', location.href).href;
    const client = new EngineClient({ modelUrl: url, database: `test-${crypto.randomUUID()}` });
    try {
      const info = await client.model.info();
      expect(info.weights).to.equal('random');
      expect(info.notice).to.contain('no-such-model.safetensors').and.match(/404/);
    } finally {
      client.terminate();
    }
  });
});

const WORDS = ['the', 'cat', 'sat', 'on', 'a', 'red', 'mat', 'and', 'dog', 'ran', 'to', 'big', 'hat'];

/** A small text of random sentences over a few words: easy to learn, fresh for every seed. */
function sentences(random: Random, characters: number): string {
  let text = '';
  while (text.length < characters) {
    const length = 3 + random.int(5);
    const words = Array.from({ length }, () => WORDS[random.int(WORDS.length)]!);
    text += `${words.join(' ')}.\n`;
  }
  return text;
}

describe('training in the worker', function () {
  const random = new Random(9001);
  const text = sentences(random, 6000);
  const shape = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 };
  const request = (totalSteps: number): NewModelRequest => ({
    corpus: { kind: 'text', text, name: 'sentences' },
    size: shape,
    seed: 5,
    training: { totalSteps, batchSize: 8, learningRate: 1e-2, warmupSteps: 2, evalInterval: 10, sampleInterval: 10 },
  });
  let client: EngineClient;

  beforeEach(() => {
    client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
  });
  afterEach(() => client.terminate());

  it('builds a model for the corpus: its vocabulary, split and parameter counts', async () => {
    const { corpus, model } = await client.training.newModel(request(30));
    const characters = [...new Set(text)].sort();
    expect(corpus.vocabulary).to.deep.equal(['\uFFFD', ...characters]);
    expect(corpus.characters).to.equal(text.length);
    expect(corpus.trainTokens + corpus.validationTokens).to.equal(text.length);
    expect(corpus.validationTokens / text.length).to.be.closeTo(0.1, 0.01);
    const V = characters.length + 1;
    const C = shape.nEmbd;
    expect(model.config).to.deep.equal({ ...shape, vocabSize: V, tied: true });
    // Tied: wte + wpe + one layer (qkv 3C²+3C, proj C²+C, fc 4C²+4C, fcproj 4C²+C, two LayerNorms 4C) + final LayerNorm
    expect(model.parameters.total).to.equal(V * C + shape.blockSize * C + 12 * C * C + 13 * C + 2 * C);
    expect(model).to.include({ weights: 'random', step: 0, corpus: 'sentences' });
    expect(await client.model.countParameters(model.config)).to.deep.equal(model.parameters);
  });

  it('trains: the loss starts near ln(V) and falls; progress arrives in order; predictions change', async () => {
    const { model } = await client.training.newModel(request(30));
    const before = await client.model.predict('the cat ', { temperature: 1 });
    const reports: TrainingProgress[] = [];
    const outcome = await client.training.play((progress) => reports.push(progress));
    expect(outcome).to.include({ reason: 'finished', step: 30 });
    // Finishing saves the model (autosave is on by default).
    expect(outcome.saved).to.include({ step: 30, name: model.name });

    const steps = reports.map((report) => report.step);
    expect(steps).to.deep.equal([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).to.equal(steps.length);
    expect(steps.at(-1)).to.equal(30);
    // Every step's loss arrives exactly once, in order.
    const points = reports.flatMap((report) => report.points);
    expect(points.map((point) => point.step)).to.deep.equal([...Array(30).keys()].map((i) => i + 1));
    expect(points.filter((point) => 'validationLoss' in point).map((point) => point.step)).to.deep.equal([10, 20, 30]);

    // Untrained GPT-2-style weights give nearly even odds: a loss of about ln(vocabulary size).
    expect(points[0]!.loss).to.be.closeTo(Math.log(model.config.vocabSize), 0.15);
    const lastFive = points.slice(-5).reduce((sum, point) => sum + point.loss, 0) / 5;
    expect(lastFive).to.be.below(points[0]!.loss - 0.5);

    const last = reports.at(-1)!;
    expect(last).to.include({ totalSteps: 30, tokensSeen: 30 * 8 * shape.blockSize, secondsLeft: 0 });
    expect(last.tokensPerSecond).to.be.greaterThan(0);
    expect(last.validationLoss).to.equal(points[29]!.validationLoss);
    const samples = reports.flatMap((report) => report.samples);
    expect(samples.map((sample) => sample.step)).to.deep.equal([0, 10, 20, 30]);
    expect(samples[0]!.prompt).to.equal(text.slice(0, 24).slice(0, text.slice(0, 24).lastIndexOf(' ')));

    const info = await client.model.info();
    expect(info).to.include({ weights: 'trained', step: 30 });
    const after = await client.model.predict('the cat ', { temperature: 1 });
    const change = after.probs.reduce((sum, p, id) => sum + Math.abs(p - before.probs[id]!), 0);
    expect(change).to.be.greaterThan(0.1);
    const state = (await client.training.state())!;
    expect(state.history).to.deep.equal(points);
    expect(state.samples.map((sample) => sample.step)).to.deep.equal([0, 10, 20, 30]);
  });

  it('pauses within a step, steps exactly one, and resets to the same start', async () => {
    await client.training.newModel(request(1000));
    const first = await client.training.step();
    expect(first.step).to.equal(1);
    expect(first.points.map((point) => point.step)).to.deep.equal([1]);
    const second = await client.training.step();
    expect(second.step).to.equal(2);
    expect((await client.model.info()).weights).to.equal('training');

    let pausedAt = -1;
    let lastReported = -1;
    const outcome = await client.training.play((progress) => {
      lastReported = progress.step;
      if (pausedAt < 0 && progress.step >= 5) {
        pausedAt = progress.step;
        void client.training.pause();
      }
    });
    expect(outcome.reason).to.equal('paused');
    expect(outcome.step).to.be.within(pausedAt, pausedAt + 1);
    // The page hears of every step taken, also the one the pause caught.
    expect(lastReported).to.equal(outcome.step);
    expect((await client.training.state())!.playing).to.equal(false);
    expect((await client.training.step()).step).to.equal(outcome.step + 1);

    const info = await client.training.reset();
    expect(info).to.include({ weights: 'random', step: 0 });
    const again = await client.training.step();
    expect(again.step).to.equal(1);
    expect(again.loss).to.equal(first.loss);
    expect((await client.training.step()).loss).to.equal(second.loss);
  });

  it('stops with a clear message when the loss is no longer a number, and stays stopped', async () => {
    await client.training.newModel({ ...request(50), training: { ...request(50).training, learningRate: 1e30, warmupSteps: 0 } });
    const outcome = await client.training.play(() => {});
    expect(outcome.reason).to.equal('diverged');
    expect(outcome.message).to.match(/training stopped at step \d+/);
    const state = (await client.training.state())!;
    expect(state.diverged).to.equal(outcome.message);
    expect(state.step).to.equal(outcome.step);
    // Another play does not run past it.
    expect((await client.training.play(() => {})).reason).to.equal('diverged');
  });

  it('reads a corpus File in the worker', async () => {
    const summary = await client.training.describeCorpus({ kind: 'file', file: new File([text], 'words.txt') });
    expect(summary).to.include({ name: 'words.txt', characters: text.length });
  });

  it('says what is wrong with a corpus that cannot be trained on', async () => {
    const tooShort = client.training.describeCorpus({ kind: 'text', text: 'the cat sat', name: 'Your text' });
    await expectRejection(tooShort, /Your text has only 11 characters/);
    const binary = new Uint8Array(4000).map(() => random.int(256));
    binary[10] = 0;
    await expectRejection(
      client.training.describeCorpus({ kind: 'file', file: new File([binary], 'photo.txt') }),
      /photo\.txt.*binary/,
    );
    const latin1 = new Uint8Array([...new TextEncoder().encode(text.slice(0, 2000)), 0xe9, 0x20]);
    await expectRejection(
      client.training.describeCorpus({ kind: 'file', file: new File([latin1], 'old.txt') }),
      /old\.txt.*not UTF-8/,
    );
    const missing = new URL('/no-such-corpus.txt', location.href).href;
    await expectRejection(client.training.describeCorpus({ kind: 'url', url: missing }), /no-such-corpus\.txt answered 404/);
    await expectRejection(
      client.training.describeCorpus({ kind: 'url', url: 'http://127.0.0.1:9/corpus.txt' }),
      /could not be reached/,
    );
    await expectRejection(client.training.step(), /no model to train/);
  });
});
