// The engine worker on CPU threads in a cross-origin isolated page, through the
// real client: all the hardware's threads by default, a count the page sets, and
// a worker ended in the middle of a threaded step leaves nothing waiting.
import { expect } from 'chai';
import type { RestartEvent } from '../../src/client.ts';
import type { NewModelRequest } from '../../workers/api/index.ts';
import { engineClients } from './engine-clients.ts';

const nextRestart = (target: EventTarget): Promise<RestartEvent['detail']> =>
  new Promise((resolve) =>
    target.addEventListener('restart', (event) => resolve((event as RestartEvent).detail), { once: true }),
  );

const request = (totalSteps: number, size: NewModelRequest['size'] = { nLayer: 2, nHead: 4, nEmbd: 128, blockSize: 64 }) =>
  ({
    corpus: { kind: 'builtin' as const },
    size,
    seed: 5,
    training: { totalSteps, batchSize: 8, learningRate: 1e-2, warmupSteps: 2, evalInterval: 5, sampleInterval: 10 },
  }) satisfies NewModelRequest;

describe('the engine worker on CPU threads (cross-origin isolated page)', function () {
  this.timeout(120_000);
  const client = engineClients();
  const hardware = Math.min(16, navigator.hardwareConcurrency);

  it('runs on the hardware threads by default, and on the count the page sets', async () => {
    const engine = client({ database: `test-${crypto.randomUUID()}` });
    await engine.backend.choose('cpu');
    expect((await engine.backend.info()).cpu?.threads).to.deep.equal({ count: hardware, asked: 0, max: hardware });
    expect((await engine.backend.threads(1)).cpu?.threads).to.deep.equal({ count: 1, asked: 1, max: hardware });
    const two = Math.min(2, hardware);
    expect((await engine.backend.threads(two)).cpu?.threads).to.include({ count: two, asked: two });
    await engine.training.newModel(request(3));
    const report = await engine.training.step();
    expect(report.loss).to.be.a('number').and.satisfy(Number.isFinite);
  });

  it('predicts and generates on 2 threads exactly as on one', async () => {
    const engine = client({ database: `test-${crypto.randomUUID()}` });
    await engine.backend.choose('cpu');
    // 512 wide: a 16-token forward's products are big enough to be cut across threads (one token's are not).
    await engine.training.newModel(request(3, { nLayer: 1, nHead: 8, nEmbd: 512, blockSize: 32 }));
    const run = async (threads: number) => {
      await engine.backend.threads(threads);
      const { logits } = await engine.model.forward(Array.from({ length: 16 }, (_, i) => i + 1));
      const { text } = await engine.model.generate('the ', { temperature: 1, maxTokens: 40, seed: 9 }, () => {});
      return { logits: Array.from(logits), text };
    };
    const one = await run(1);
    const two = await run(Math.min(2, hardware));
    expect(two.logits).to.deep.equal(one.logits);
    expect(two.text).to.equal(one.text);
  });

  it('survives the worker ended mid-step: the new worker runs on threads again and trains', async () => {
    const workers: Worker[] = [];
    const createWorker = () => {
      const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module' });
      workers.push(worker);
      return worker;
    };
    const engine = client({ database: `test-${crypto.randomUUID()}`, createWorker });
    await engine.backend.choose('cpu');
    await engine.backend.threads(0);
    await engine.training.newModel(request(10_000));
    const restarted = nextRestart(engine);
    let steps = 0;
    const playing = engine.training.play(() => {
      // A report arrives between steps; the next step is under way when the worker is ended.
      if (++steps === 2) setTimeout(() => workers.at(-1)!.terminate(), 1);
    });
    const failure = await playing.then(
      () => null,
      (error: Error) => error,
    );
    expect(failure?.message).to.match(/worker stopped/);
    await restarted;
    expect(workers).to.have.length(2);
    expect((await engine.backend.info()).cpu?.threads).to.include({ count: hardware, asked: 0 });
    await engine.training.newModel(request(3));
    const report = await engine.training.step();
    expect(report.step).to.equal(1);
  });
});
