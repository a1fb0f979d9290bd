// The inspector's questions through the real client and worker: the answers are
// the engine's own numbers (the capture of forward(), the model's odds), and the
// training time-lapse records its frames at the steps asked for.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { NewModelRequest } from '../../workers/api/index.ts';
import { randomInt } from './seeded.ts';

describe('inspector through the worker', function () {
  this.timeout(120_000);
  let client: EngineClient;
  let text: string;

  beforeEach(() => {
    client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'red', 'box'];
    text = '';
    while (text.length < 2000) text += `${words[randomInt(0, words.length)]} `;
  });
  afterEach(() => client.terminate());

  const request = (totalSteps: number): NewModelRequest => ({
    corpus: { kind: 'text', text, name: 'words' },
    size: { nLayer: 2, nHead: 2, nEmbd: 16, blockSize: 32 },
    seed: 1 + randomInt(0, 1000),
    training: { totalSteps, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, evalInterval: 50, sampleInterval: 50 },
  });

  it('inspect() gives the capture forward() gives, and the odds predict() gives', async () => {
    await client.training.newModel(request(10));
    for (let i = 0; i < 3; i++) await client.training.step();
    const prompt = text.slice(randomInt(0, 100), 100 + randomInt(0, 20));
    const inspection = await client.inspector.inspect(prompt);
    const { capture, ids } = await client.model.forward(prompt, { capture: true });
    expect(inspection.ids).to.deep.equal(ids);
    inspection.capture.layers.forEach((layer, l) => {
      expect(Array.from(layer.scores)).to.deep.equal(Array.from(capture!.layers[l]!.scores));
      expect(Array.from(layer.pattern)).to.deep.equal(Array.from(capture!.layers[l]!.pattern));
      expect(Array.from(layer.mask)).to.deep.equal(Array.from(capture!.layers[l]!.mask));
    });
    const { probs } = await client.model.predict(prompt, { temperature: 1 });
    Array.from(probs).forEach((p, id) => expect(inspection.next[id]).to.be.closeTo(p, 1e-6));
    // Interventions change the answer, not the model.
    const ablated = await client.inspector.inspect(prompt, {
      ablate: [
        [0, 0],
        [1, 1],
      ],
    });
    expect(Array.from(ablated.next)).to.not.deep.equal(Array.from(inspection.next));
    expect(Array.from((await client.inspector.inspect(prompt)).next)).to.deep.equal(Array.from(inspection.next));
    expect(await client.inspector.headUpdates(prompt, ids.length - 1)).to.have.length(4);
  });

  it('records a time-lapse frame now and every N steps while training; a reset starts again', async () => {
    await client.training.newModel(request(12));
    const prompt = text.slice(0, 10);
    await client.inspector.setTimelapse({ prompt, every: 4 });
    await client.training.play(() => {});
    const frames = await client.inspector.timelapse();
    expect(frames.map((frame) => frame.step)).to.deep.equal([0, 4, 8, 12]);
    // The last frame is the trained model's view of the prompt.
    const now = await client.inspector.inspect(prompt);
    expect(frames.at(-1)!.top.map((t) => t.token)).to.deep.equal(now.top.slice(0, frames.at(-1)!.top.length).map((t) => t.token));
    expect(frames.at(-1)!.tokens).to.deep.equal(now.tokens);
    expect(frames.at(-1)!.patterns).to.have.length(2);
    expect(Array.from(frames.at(-1)!.patterns[1]!)).to.deep.equal(Array.from(now.capture.layers[1]!.pattern));
    await client.training.reset();
    expect((await client.inspector.timelapse()).map((frame) => frame.step)).to.deep.equal([0]);
  });
});
