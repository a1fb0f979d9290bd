// Keep going, through the real client and worker: a finished run trains on at
// its final learning rate, exactly as a run planned that long from the start,
// and a save made after it reopens with the longer run.
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import type { LossPoint, NewModelRequest, TrainingProgress } from '../../workers/api/index.ts';
import { DEFAULT_TRAINING } from '../../workers/engine/train.ts';
import { engineClients } from './engine-clients.ts';
import { pick, randomInt } from './seeded.ts';
import { expectRejection } from './wait-for.ts';

/** Words in a random order: a corpus no other test trains on. */
function randomText(): string {
  const words = ['the', 'owl', 'sat', 'in', 'a', 'fir', 'fox', 'ran', 'by', 'sea', 'and', 'dug', 'old', 'den'];
  let text = '';
  while (text.length < 3000) text += `${pick(words)} `;
  return text;
}

describe('keep going', function () {
  this.timeout(120_000);
  const shape = { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 };
  let text: string;
  let seed: number;
  const request = (totalSteps: number, decaySteps?: number): NewModelRequest => ({
    corpus: { kind: 'text', text, name: 'words' },
    size: shape,
    seed,
    training: {
      totalSteps,
      ...(decaySteps && { decaySteps }),
      batchSize: 4,
      learningRate: 1e-2,
      warmupSteps: 3,
      evalInterval: 10,
      sampleInterval: 10,
    },
  });
  const engineClient = engineClients();
  const client = (database = `test-${crypto.randomUUID()}`): EngineClient => engineClient({ database });

  beforeEach(() => {
    text = randomText();
    seed = randomInt(1, 1e6);
  });

  /** Plays to the end: every loss point, and the last report. */
  async function playToEnd(engine: EngineClient): Promise<{ points: LossPoint[]; last: TrainingProgress }> {
    const reports: TrainingProgress[] = [];
    const outcome = await engine.training.play((progress) => reports.push(progress));
    expect(outcome.reason).to.equal('finished');
    return { points: reports.flatMap((report) => report.points), last: reports.at(-1)! };
  }

  it('trains on after the end like a run planned that long, and a save reopens with the longer run', async () => {
    // The reference: 60 steps planned from the start, the learning rate's decay over the first 30.
    const planned = client();
    await planned.library.setAutosave(0);
    await planned.training.newModel(request(60, 30));
    const reference = (await playToEnd(planned)).points;
    expect(reference).to.have.length(60);

    const database = `test-${crypto.randomUUID()}`;
    const first = client(database);
    await first.training.newModel(request(30));
    expect((await playToEnd(first)).points).to.deep.equal(reference.slice(0, 30));
    expect(await first.training.keepGoing(20)).to.equal(50);
    const state = (await first.training.state())!;
    expect(state).to.include({ step: 30, finished: false });
    expect(state.settings).to.include({ totalSteps: 50, decaySteps: 30 });

    const more = await playToEnd(first);
    expect(more.points).to.deep.equal(reference.slice(30, 50));
    expect(more.points.filter((point) => 'validationLoss' in point).map((point) => point.step)).to.deep.equal([40, 50]);
    expect(more.last).to.include({ step: 50, totalSteps: 50, learningRate: DEFAULT_TRAINING.minLearningRate });
    // Finishing saved it: a new worker reopens the longer run and goes on from it the same way.
    first.terminate();
    const second = client(database);
    expect(await second.model.info()).to.include({ weights: 'trained', step: 50 });
    const reopened = (await second.training.state())!;
    expect(reopened.settings).to.include({ totalSteps: 50, decaySteps: 30 });
    expect(reopened.history).to.deep.equal(reference.slice(0, 50));
    expect(await second.training.keepGoing(10)).to.equal(60);
    expect((await playToEnd(second)).points).to.deep.equal(reference.slice(50));

    // Reset goes back to the plan: 30 steps, the decay over all of them.
    await second.training.reset();
    const reset = (await second.training.state())!;
    expect(reset).to.include({ step: 0 });
    expect(reset.settings.totalSteps).to.equal(30);
    expect(reset.settings).to.not.have.property('decaySteps');
  });

  it('refuses a number of steps that is not a positive whole number, and a run that diverged', async () => {
    const engine = client();
    await engine.library.setAutosave(0);
    await engine.training.newModel(request(5));
    for (const steps of [0, -3, 2.5, Number.NaN]) {
      await expectRejection(engine.training.keepGoing(steps), /positive whole number/);
    }
    await engine.training.newModel({ ...request(30), training: { ...request(30).training, learningRate: 1e30, warmupSteps: 0 } });
    expect((await engine.training.play(() => {})).reason).to.equal('diverged');
    await expectRejection(engine.training.keepGoing(10), /training stopped at step \d+.*Reset to train again/);
  });
});
