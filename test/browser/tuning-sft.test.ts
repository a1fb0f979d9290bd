// The tuning area with the shipped model, in this page: fine-tuning on the built-in dialogues lowers their
// held-out loss and makes the model answer the compared question; pause stops between steps; reset puts the
// reference's weights back bit for bit.
import { expect } from 'chai';
import type { TuningProgress } from '../../workers/api/index.ts';
import { COMPARE_QUESTION } from '../../workers/corpus/tuning-dialogues.ts';
import { asked, shippedEngine, weightsOf } from './tuning-engine.ts';

const PROMPT = `A conversation between a user and a helpful assistant.\n${asked(COMPARE_QUESTION)}`;

describe('tuning: fine-tuning in the tab (SFT)', function () {
  this.timeout(300_000);

  // Measured (Chromium): the held-out answers' loss 0.609 nats a token after step 1, 0.052 after step 60;
  // the greedy reply " The plural of book is books." before, " The creature is blue." after.
  it('lowers the held-out loss and makes the compared question answered', async () => {
    const engine = await shippedEngine();
    const before = await engine.tuning.compare(PROMPT, 40);
    expect(before.after).to.deep.equal(before.before); // not tuned yet: both are the model in use
    const state = await engine.tuning.fineTune({ kind: 'builtin' });
    expect(state.dialogues).to.include({ dialogues: 254, heldOut: 37 });
    expect(state.settings).to.deep.include({ steps: 60, batchSize: 8, learningRate: 1e-3 });
    const info = await engine.model.info();
    expect(info).to.include({ name: 'default-model, tuned', weights: 'trained' });
    expect(info.tuning).to.deep.equal({ reference: 'default-model', step: 0 });

    const reports: TuningProgress[] = [];
    const outcome = await engine.tuning.play((progress) => reports.push(progress));
    expect(outcome).to.include({ reason: 'finished', step: 60 });
    const { history } = (await engine.tuning.state())!;
    expect(reports.flatMap((report) => report.points)).to.deep.equal(history);
    expect(history.map((point) => point.step)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 1));
    const heldOut = history.map((point) => point.heldOutLoss!);
    expect(heldOut.at(-1)).to.be.below(heldOut[0]! / 4);
    expect((await engine.model.info()).tuning).to.deep.equal({ reference: 'default-model', step: 60 });

    const { before: reference, after } = await engine.tuning.compare(PROMPT, 40);
    expect(before.before.text).to.not.equal(' The creature is blue.');
    expect(reference).to.deep.equal(before.before);
    expect(after.text).to.equal(' The creature is blue.');
    expect(after.finish).to.equal('stop');
    // The chat (model.reply) answers from the tuned weights too.
    const chat = await engine.model.reply(PROMPT, { temperature: 0, maxTokens: 40, seed: 1 }, () => {});
    expect(chat.text).to.equal(' The creature is blue.');
  });

  it('stops between two steps on pause, and reset puts the reference weights back exactly', async () => {
    const engine = await shippedEngine();
    const reference = await weightsOf(engine);
    const { reference: identity } = await engine.tuning.fineTune({ kind: 'builtin' }, { steps: 1000 });
    let pausedAt = -1;
    const outcome = await engine.tuning.play(async (progress) => {
      if (pausedAt < 0) {
        pausedAt = progress.step;
        await engine.tuning.pause();
      }
    });
    expect(outcome).to.include({ reason: 'paused', step: pausedAt });
    // Autosave is on (every 50 steps, as for training): the end of a run saves the new tuned model.
    expect(outcome.saved).to.include({ name: 'default-model, tuned', tunedFrom: 'default-model' });
    const paused = await engine.tuning.state();
    expect(paused).to.include({ step: pausedAt, playing: false, totalSteps: 1000 });
    const tuned = await weightsOf(engine);
    expect(tuned).to.not.deep.equal(reference);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await engine.tuning.state())!.step).to.equal(pausedAt);

    const stepped = await engine.tuning.step();
    expect(stepped.step).to.equal(pausedAt + 1);
    expect(stepped.points.map((point) => point.step)).to.deep.equal([pausedAt + 1]);

    const info = await engine.tuning.reset();
    expect(info.tuning).to.deep.equal({ reference: 'default-model', step: 0 });
    expect(info.name).to.equal('default-model, tuned');
    expect(await weightsOf(engine)).to.deep.equal(reference);
    const state = (await engine.tuning.state())!;
    expect(state.history).to.deep.equal([]);
    expect(state.reference).to.deep.equal(identity);
  });

  it("answers from the weights as tuned: the inspector's kept activations and GPU inference move on with each step", async () => {
    const engine = await shippedEngine();
    await engine.tuning.fineTune({ kind: 'builtin' });
    const last = (await engine.model.tokenize(PROMPT)).ids.length - 1;
    const lensTop = async () => (await engine.inspector.logitLens(PROMPT, last, 3)).at(-1)!.top;
    const predictedTop = async () => (await engine.model.predict(PROMPT, { temperature: 1, top: 3 })).top;
    const lensBefore = await lensTop(); // kept for the next question about the same prompt
    const gpu = (await engine.backend.choose('auto')).active === 'webgpu';
    const gpuBefore = gpu ? await predictedTop() : null; // the GPU now holds the weights before the step
    await engine.tuning.step();
    await engine.tuning.step();

    // The logit lens's last layer is the model's own prediction: from the tuned weights, not the kept ones.
    const lensAfter = await lensTop();
    expect(lensAfter).to.not.deep.equal(lensBefore);
    await engine.backend.choose('cpu');
    const cpu = await predictedTop();
    lensAfter.forEach((entry, i) => expect(entry.score).to.be.closeTo(cpu[i]!.prob, 1e-5));
    if (!gpu) return; // no GPU here: the rest is for a browser with one
    await engine.backend.choose('webgpu');
    const gpuAfter = await predictedTop();
    expect(gpuAfter).to.not.deep.equal(gpuBefore);
    gpuAfter.forEach((entry, i) => expect(entry.prob).to.be.closeTo(cpu[i]!.prob, 1e-4));
  });

  it('stops when a step diverges, keeping the last good weights, until tuning is prepared again', async () => {
    const engine = await shippedEngine();
    await engine.tuning.fineTune({ kind: 'builtin' }, { learningRate: 1e4, steps: 20 });
    const outcome = await engine.tuning.play(() => {});
    expect(outcome.reason).to.equal('diverged');
    expect(outcome.message).to.match(/^fine-tuning stopped at step \d+: the (loss|gradients) became .*lower learning rate/);
    const state = (await engine.tuning.state())!;
    expect(state).to.include({ step: outcome.step, diverged: outcome.message });
    const kept = await weightsOf(engine);
    expect((await engine.tuning.step()).diverged).to.equal(outcome.message);
    expect(await weightsOf(engine)).to.deep.equal(kept);
    expect((await engine.tuning.fineTune({ kind: 'builtin' }, { learningRate: 1e-3 })).diverged).to.equal(undefined);
  });
});
