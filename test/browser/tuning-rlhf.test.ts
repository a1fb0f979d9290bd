// The RLHF of big chatbots, in small, in the tab with the shipped model, in this page: a reward model learned from a
// few choices of one kind ranks them all right; policy-gradient steps on the model's own answers raise their mean
// reward while the KL to the reference stays under a bound; what is refused; and a saved model keeps its reward model.
// The session's draws are seeded, so the figures are the same on every run.
import { expect } from 'chai';
import type { Preference, TuningPoint } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';
import { asked, database, shippedEngine } from './tuning-engine.ts';
import { expectRejection } from './wait-for.ts';

/** One kind of choice: to "What colour is …?", the answer that says its colour over one about something else. */
const colour = (adjective: string, name: string, animal: string, offTopic: string): Preference => ({
  prompt: asked(`What colour is the ${adjective} ${name} ${animal}?`),
  chosen: ` The ${animal} is ${name}.`,
  rejected: offTopic,
});

const PAIRS = [
  colour('happy', 'red', 'fox', ' Michael Jordan plays basketball.'),
  colour('small', 'green', 'owl', ' The Eiffel tower is in Paris.'),
  colour('fluffy', 'blue', 'cat', ' Serena Williams plays tennis.'),
  colour('big', 'yellow', 'dog', ' The Colosseum is in Rome.'),
];

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

describe('tuning: policy gradient against a reward model in the tab (RLHF)', function () {
  this.timeout(300_000);

  // Measured (Chromium, the defaults: 10 steps of 8 answers, 5e-5, β 0.1, one of the 4 questions a step in turn):
  // the reward model ranks all 4 pairs right, by 9.5 on average; the steps' answers' mean reward 2.14 over steps
  // 1–4, 3.32 over steps 7–10; the KL to the reference 0.14 nats a token at most.
  it('trains a reward model that ranks its pairs, then raises the reward of sampled answers near the reference', async () => {
    const engine = await shippedEngine();
    for (const pair of PAIRS) await engine.tuning.choose(pair);

    const ready = await engine.tuning.rewardTune();
    expect(ready).to.include({ kind: 'reinforcement', step: 0, totalSteps: 10 });
    expect(ready.settings).to.deep.equal({ steps: 10, batchSize: 8, learningRate: 5e-5, beta: 0.1 });
    // Its reference is the model tuning on choices started from: here, the one tuning began with.
    expect(ready.preferenceReference).to.deep.equal(ready.reference);
    const report = ready.rewardModel!;
    expect(report).to.include({ pairs: 4, accuracy: 1 });
    expect(report.margin).to.be.above(1);

    const outcome = await engine.tuning.play(() => {});
    expect(outcome).to.include({ reason: 'finished', step: 10 });
    const { history } = (await engine.tuning.state())!;
    expect(history.map((point) => point.kind)).to.deep.equal(Array(10).fill('reinforcement'));
    for (const point of history) {
      expect(point.samples).to.have.length(8);
      expect(point.reward).to.be.closeTo(mean(point.samples!.map((sample) => sample.reward)), 1e-4);
      expect(point.kl).to.be.below(0.3);
    }
    // Steps 1–4 and 7–10 each sample once to every prompt.
    const rewardOf = (points: TuningPoint[]) => mean(points.map((point) => point.reward!));
    const [first, last] = [rewardOf(history.slice(0, 4)), rewardOf(history.slice(6))];
    expect(last, `mean reward ${first} → ${last}`).to.be.above(first + 0.8);
  });

  it('refuses without pairs, and with one pair, saying why', async () => {
    const engine = await shippedEngine();
    await expectRejection(engine.tuning.rewardTune(), /There is no pair to learn from yet/);
    await engine.tuning.choose(PAIRS[0]!);
    await expectRejection(engine.tuning.rewardTune(), /A reward model needs at least 2 pairs/);
    expect((await engine.tuning.state())!.rewardModel).to.equal(null);
  });

  it('saves the reward model with the tuned model, and it reopens; a reset forgets it', async () => {
    const name = database();
    const engine = await shippedEngine(name);
    for (const pair of PAIRS.slice(0, 2)) await engine.tuning.choose(pair);
    await engine.tuning.rewardTune({ steps: 2, batchSize: 4 });
    await engine.tuning.play(() => {});
    await engine.library.save();
    const state = (await engine.tuning.state())!;
    expect(state.rewardModel).to.include({ pairs: 2, accuracy: 1 });

    const reopened = createEngine();
    await reopened.library.useDatabase(name);
    await reopened.library.restoreActive();
    expect(await reopened.tuning.state()).to.deep.equal(state);
    // It goes on with the same reward model: one more step of the run's kind.
    const progress = await reopened.tuning.step();
    expect(progress.points[0]).to.include({ kind: 'reinforcement', step: 3 });
    expect(progress.points[0]!.samples).to.have.length(4);
    await reopened.tuning.reset();
    expect((await reopened.tuning.state())!.rewardModel).to.equal(null);
  });
});
