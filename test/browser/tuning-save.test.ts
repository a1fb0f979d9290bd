// A tuned model saved and reopened offline, in this page: a fresh engine on the same database reopens it with its
// weights, its reference (fingerprint and weights), its choices, settings and history, and tuning goes on.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import type { TuningProgress } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { CheckpointStore } from '../../workers/store/checkpoint-store.ts';
import { asked, database, SHIPPED_MODEL, shippedEngine, weightsOf } from './tuning-engine.ts';

describe('tuning: saving and reopening a tuned model', function () {
  this.timeout(300_000);

  it('reopens with the same weights, reference, choices and history, and can go on tuning', async () => {
    const name = database();
    const engine = await shippedEngine(name);
    const original = await engine.library.save();
    const referenceWeights = await weightsOf(engine);

    await engine.tuning.fineTune({ kind: 'builtin' }, { steps: 3 });
    await engine.tuning.play(() => {});
    const prompt = asked('Hello!');
    await engine.tuning.choose({ prompt, chosen: ' Hello! How can I help you?', rejected: ' Hello.' });
    await engine.tuning.mark({ prompt, answer: ' Hi!', good: true });
    await engine.tuning.mark({ prompt, answer: ' Go away.', good: false });
    await engine.tuning.preferenceTune({ steps: 2, beta: 0.2 });
    await engine.tuning.play(() => {});
    const saved = await engine.library.save();
    const state = (await engine.tuning.state())!;
    const weights = await weightsOf(engine);

    // The tuned model is a new saved model; the one it was tuned from stays, and is its reference.
    expect(saved.id).to.not.equal(original.id);
    expect(saved).to.include({ name: 'default-model, tuned', tunedFrom: 'default-model' });
    // Its weights, the reference's, and DPO's reference's: the model after fine-tuning.
    expect(saved.bytes).to.equal(3 * original.bytes);
    expect(state.reference).to.include({ name: 'default-model', savedId: original.id });
    expect(state.preferenceReference).to.include({ name: 'default-model after 3 tuning steps' });
    expect(state.reference.fingerprint).to.match(/^[0-9a-f]{16}$/);
    expect(state.history.map((point) => point.kind)).to.deep.equal([...Array(3).fill('supervised'), 'preference', 'preference']);
    const { models } = await engine.library.list();
    expect(models.map((model) => model.id).sort()).to.deep.equal([original.id, saved.id].sort());

    const reopened = createEngine();
    await reopened.library.useDatabase(name);
    const info = await reopened.library.restoreActive();
    expect(info).to.deep.include({ name: 'default-model, tuned', tuning: { reference: 'default-model', step: 5 } });
    expect(await weightsOf(reopened)).to.deep.equal(weights);
    expect(await reopened.tuning.state()).to.deep.equal(state);

    // It goes on: a step (DPO, the run's kind, with its settings), then the reference's weights back on reset.
    // AdamW's first step (the optimizer starts afresh) moves no weight by more than the learning rate, 3e-5 (and
    // float32 rounding): not SFT's 1e-3.
    const progress = await reopened.tuning.step();
    expect(progress).to.include({ kind: 'preference', step: 6 });
    const [was, now] = [weights, await weightsOf(reopened)].map((bytes) => readCheckpoint(bytes).params.data);
    const moved = now!.reduce((most, value, i) => Math.max(most, Math.abs(value - was![i]!)), 0);
    expect(moved)
      .to.be.above(0)
      .and.below(1.1 * state.settings.learningRate);
    expect(progress.points[0]!.margin).to.be.a('number');
    expect((await reopened.tuning.state())!.settings.beta).to.equal(0.2);
    await reopened.tuning.reset();
    expect(await weightsOf(reopened)).to.deep.equal(referenceWeights);
    // Saving it again replaces its own record.
    expect((await reopened.library.save()).id).to.equal(saved.id);
  });

  it('works through the worker and the client as the page calls it', async () => {
    const client = new EngineClient({ modelUrl: SHIPPED_MODEL, database: database() });
    try {
      await client.model.loadCheckpoint(SHIPPED_MODEL);
      await client.tuning.fineTune({ kind: 'builtin' }, { steps: 2 });
      const reports: TuningProgress[] = [];
      const outcome = await client.tuning.play((progress) => reports.push(progress));
      expect(outcome).to.include({ reason: 'finished', step: 2 });
      expect(outcome.saved).to.include({ tunedFrom: 'default-model' });
      expect(reports.flatMap((report) => report.points).map((point) => point.step)).to.deep.equal([1, 2]);
      expect((await client.model.info()).tuning).to.deep.equal({ reference: 'default-model', step: 2 });
      const { models } = await client.library.list();
      expect(models.map((model) => model.tunedFrom)).to.deep.equal(['default-model']);
    } finally {
      client.terminate();
    }
  });

  it('does not reopen a tuned model whose reference weights do not match their fingerprint, and says why', async () => {
    const name = database();
    const engine = await shippedEngine(name);
    await engine.tuning.choose({ prompt: asked('Hello!'), chosen: ' Hello!', rejected: ' Go away.' });
    const saved = await engine.library.save();
    const store = new CheckpointStore({ dbName: name });
    const record = (await store.load(saved.id))!;
    const referenceParams = record.tuning!.referenceParams.slice();
    referenceParams[0] += 1e-3;
    await store.save({ ...record, tuning: { ...record.tuning!, referenceParams } }, { baseUpdated: record.updated });

    const reopened = createEngine();
    await reopened.library.useDatabase(name);
    expect(await reopened.library.restoreActive()).to.equal(null);
    expect((await reopened.model.info()).notice).to.match(
      /"default-model, tuned" could not be reopened: the weights kept of default-model, the model it was tuned from, do not match their fingerprint/,
    );
  });
});
