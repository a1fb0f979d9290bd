// The engine worker through the real client (Comlink, a real module worker), and
// the service class directly where the page cannot see what happens (transfers).
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { StreamedToken } from '../../workers/api/index.ts';
import { DEFAULT_CONFIG } from '../../workers/engine/defaults.ts';
import { Random } from '../../workers/engine/random.ts';
import { createEngine } from '../../workers/engine.ts';

const { vocabSize: V, blockSize: T, nLayer: L, nHead: NH, nEmbd: C } = DEFAULT_CONFIG;

/** Default vocabulary, by construction: id 0 unknown, 1 line break, then printable ASCII from space (code 32) as id 2. */
const expectedId = (char: string): number => {
  if (char === '\n') return 1;
  const code = char.charCodeAt(0);
  return code >= 32 && code < 127 ? code - 30 : 0;
};

/** A fresh random printable prompt. */
function randomPrompt(random: Random, length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(32 + random.int(95));
  return text;
}

/** softmax(logits / temperature) in float64, written out for the test. */
function referenceSoftmax(logits: ArrayLike<number>, temperature: number): number[] {
  const scaled = Array.from(logits, (x) => x / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

const sum = (values: ArrayLike<number>): number => Array.from(values).reduce((a, b) => a + b, 0);

describe('engine worker through the client', function () {
  let client: EngineClient;
  const random = new Random(20240611);

  before(() => {
    client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
  });
  after(() => client.terminate());

  it('answers info: the default config and its parameter count', async () => {
    const info = await client.model.info();
    expect(info.config).to.deep.equal(DEFAULT_CONFIG);
    // wte + wpe + per layer (qkv 3C²+3C, proj C²+C, fc 4C²+4C, fcproj 4C²+C, two LayerNorms 4C) + final LayerNorm
    const expected = V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C;
    expect(info.parameters.total).to.equal(expected);
    expect(info.vocabulary).to.have.length(V);
    expect(info.vocabulary[0]).to.equal('\uFFFD');
    expect(info.weights).to.equal('random');
  });

  it('tokenizes: ids by character, unknown characters reported, long text cut to the context', async () => {
    const prompt = randomPrompt(random, 12) + '\né';
    const result = await client.model.tokenize(prompt);
    expect(result.ids).to.deep.equal([...prompt].map(expectedId));
    expect(result.pieces).to.deep.equal([...prompt]);
    expect(result.tokens.at(-1)).to.equal('\uFFFD');
    expect(result.unknown).to.deep.equal(['é']);
    expect(result.truncated).to.equal(false);

    const long = randomPrompt(random, T + 9);
    const cut = await client.model.tokenize(long);
    expect(cut.truncated).to.equal(true);
    expect(cut.dropped).to.equal(9);
    expect(cut.ids).to.deep.equal([...long.slice(9)].map(expectedId));
  });

  it('predicts softmax(logits / T) of the last position, summing to 1', async () => {
    const prompt = randomPrompt(random, 20);
    const temperature = 0.6 + random.uniform();
    const prediction = await client.model.predict(prompt, { temperature, top: 12 });
    const { logits } = await client.model.forward(prompt);
    const expected = referenceSoftmax(logits.subarray((prompt.length - 1) * V), temperature);

    expect(prediction.probs).to.be.instanceOf(Float32Array);
    expect(prediction.probs).to.have.length(V);
    expect(sum(prediction.probs)).to.be.closeTo(1, 1e-5);
    prediction.probs.forEach((p, id) => expect(p).to.be.closeTo(expected[id]!, 1e-6));

    expect(prediction.top).to.have.length(12);
    const byChance = [...expected.keys()].sort((a, b) => expected[b]! - expected[a]!);
    expect(prediction.top.map((entry) => entry.id)).to.deep.equal(byChance.slice(0, 12));
    const topMass = sum(prediction.top.map((entry) => entry.prob));
    expect(prediction.rest).to.be.closeTo(1 - topMass, 1e-6);
  });

  it('puts all probability on the largest logit at temperature 0', async () => {
    const prompt = randomPrompt(random, 9);
    const prediction = await client.model.predict(prompt, { temperature: 0 });
    const { logits } = await client.model.forward(prompt);
    const last = Array.from(logits.subarray((prompt.length - 1) * V));
    const best = last.indexOf(Math.max(...last));
    expect(prediction.top[0]).to.include({ id: best, prob: 1 });
    expect(prediction.rest).to.equal(0);
  });

  it('reads an empty prompt as a single line break', async () => {
    const empty = await client.model.predict('', { temperature: 1 });
    const lineBreak = await client.model.predict('\n', { temperature: 1 });
    expect(empty.contextLength).to.equal(1);
    expect(Array.from(empty.probs)).to.deep.equal(Array.from(lineBreak.probs));
  });

  it('returns forward logits and captured insides with their documented sizes', async () => {
    const ids = Array.from({ length: 7 }, () => random.int(V));
    const { logits, capture } = await client.model.forward(ids, { capture: true });
    expect(logits)
      .to.be.instanceOf(Float32Array)
      .with.length(7 * V);
    expect(capture!.tokenEmbedding).to.have.length(7 * C);
    expect(capture!.layers).to.have.length(L);
    expect(capture!.layers[0]!.mask)
      .to.be.instanceOf(Uint8Array)
      .with.length(NH * 7 * 7);
    expect(capture!.layers[L - 1]!.mlpPost).to.have.length(7 * 4 * C);
  });

  it('streams generated tokens to the callback in order', async () => {
    const streamed: StreamedToken[] = [];
    const result = await client.model.generate(randomPrompt(random, 5), { temperature: 1, maxTokens: 20, seed: 7 }, (token) =>
      streamed.push(token),
    );
    expect(result.stopped).to.equal(false);
    expect(result.ids).to.have.length(20);
    expect(streamed.map((token) => token.index)).to.deep.equal([...Array(20).keys()]);
    expect(streamed.map((token) => token.id)).to.deep.equal(result.ids);
    expect(streamed.map((token) => token.token).join('')).to.equal(result.text);
    for (const token of streamed) expect(token.prob).to.be.greaterThan(0).and.at.most(1);
  });

  it('stops early when cancelled, keeping what it streamed', async () => {
    const streamed: number[] = [];
    const result = await client.model.generate('Hello', { temperature: 1, maxTokens: 5000, seed: 1 }, (token) => {
      streamed.push(token.id);
      if (streamed.length === 3) void client.model.cancel();
    });
    expect(result.stopped).to.equal(true);
    expect(result.ids.length).to.be.at.least(3).and.below(5000);
    expect(result.ids).to.deep.equal(streamed);
  });

  it('cancels a running generation when a new one starts', async () => {
    const first = client.model.generate('abc', { temperature: 1, maxTokens: 5000, seed: 2 }, () => {});
    const second = client.model.generate('abc', { temperature: 1, maxTokens: 6, seed: 2 }, () => {});
    const [a, b] = await Promise.all([first, second]);
    expect(a.stopped).to.equal(true);
    expect(a.ids.length).to.be.below(5000);
    expect(b).to.include({ stopped: false });
    expect(b.ids).to.have.length(6);
  });

  it('gives the same text for the same seed, and another for another seed', async () => {
    const prompt = randomPrompt(random, 8);
    const request = { temperature: 1.2, topK: 40, topP: 0.95, maxTokens: 30 };
    const a = await client.model.generate(prompt, { ...request, seed: 99 }, () => {});
    const b = await client.model.generate(prompt, { ...request, seed: 99 }, () => {});
    const c = await client.model.generate(prompt, { ...request, seed: 100 }, () => {});
    expect(a.text).to.have.length(30);
    expect(b.text).to.equal(a.text);
    expect(c.text).to.not.equal(a.text);
  });

  it('steps one token: the first token Generate would draw with that seed', async () => {
    const prompt = randomPrompt(random, 6);
    const sampling = { temperature: 0.9 };
    const step = await client.model.sample(prompt, sampling, 31);
    const again = await client.model.sample(prompt, sampling, 31);
    const generated = await client.model.generate(prompt, { ...sampling, maxTokens: 1, seed: 31 }, () => {});
    expect(again).to.deep.equal(step);
    expect(step.id).to.equal(generated.ids[0]);
    expect(step.token).to.equal(generated.text);
  });

  it('turns a worker that fails to start into a rejected call with its error', async () => {
    const source = URL.createObjectURL(new Blob(['throw new Error("engine exploded")'], { type: 'text/javascript' }));
    const broken = new EngineClient({ createWorker: () => new Worker(source, { type: 'module' }), modelUrl: null });
    try {
      await broken.model.info();
      expect.fail('info() should have rejected');
    } catch (error) {
      expect((error as Error).message).to.match(/worker failed.*engine exploded/);
    } finally {
      broken.terminate();
      URL.revokeObjectURL(source);
    }
  });
});

describe('engine service transfers', () => {
  const random = new Random(77);

  /** A service that records the transfer list of every answer. */
  function recordingService() {
    const lists: Transferable[][] = [];
    const service = createEngine({
      transfer: (value, transfers) => {
        lists.push(transfers);
        return value;
      },
    });
    return { service, lists };
  }

  it('moves the probabilities of predict instead of copying them', async () => {
    const { service, lists } = recordingService();
    const prompt = randomPrompt(random, 10);
    const prediction = await service.model.predict(prompt, { temperature: 1 });
    expect(lists).to.have.length(1);
    expect(lists[0]).to.deep.equal([prediction.probs.buffer]);
    // Transferring really detaches it, and the service answers the same afterwards.
    const copy = Array.from(prediction.probs);
    structuredClone(prediction, { transfer: lists[0] });
    expect(prediction.probs.length).to.equal(0);
    expect(Array.from((await service.model.predict(prompt, { temperature: 1 })).probs)).to.deep.equal(copy);
  });

  it('lists every buffer of forward, each once, and none the model still uses', async () => {
    const { service, lists } = recordingService();
    const ids = Array.from({ length: 11 }, () => random.int(V));
    const output = await service.model.forward(ids, { capture: true });
    const list = lists[0]!;
    const arrays = [
      output.logits,
      output.capture!.tokenEmbedding,
      output.capture!.positionEmbedding,
      ...output.capture!.layers.flatMap((layer) => Object.values(layer)),
    ];
    expect(arrays).to.have.length(3 + 7 * L);
    expect(new Set(list).size).to.equal(list.length);
    for (const array of arrays) expect(list).to.include(array.buffer);

    const logitsBefore = Array.from(output.logits);
    structuredClone(output, { transfer: list });
    for (const array of arrays) expect(array.byteLength).to.equal(0);
    // The parameters and the engine's scratch memory were not handed away: same input, same logits.
    const again = await service.model.forward(ids, { capture: true });
    expect(Array.from(again.logits)).to.deep.equal(logitsBefore);
  });
});
