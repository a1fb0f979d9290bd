// Preference tuning (DPO) in the tab with the shipped model, in this page: a few choices and answers marked good
// and bad raise the mean margin of chosen over rejected, also on pairs of the same kind never learned from, while
// the KL to the reference stays under a bound; and what is refused, and how pasted dialogues are read.
import { expect } from 'chai';
import type { Preference } from '../../workers/api/index.ts';
import { tuningProblem } from '../../workers/areas/tuning.ts';
import { createEngine } from '../../workers/engine.ts';
import { asked, shippedEngine } from './tuning-engine.ts';
import { expectRejection } from './wait-for.ts';

/** The same kind of choice each time: the answer that goes on to offer help over the one that stops. */
const helpful = (question: string, answer: string): Preference => ({
  prompt: asked(question),
  chosen: `${answer} How can I help you?`,
  rejected: answer,
});

const CHOSEN = [
  helpful('Hello!', ' Hello!'),
  helpful('Where is the Eiffel tower?', ' The Eiffel tower is in Paris.'),
  helpful('What sport does Michael Jordan play?', ' Michael Jordan plays basketball.'),
];
/** Marked good and bad: a fourth pair of the same kind. */
const MARKED = helpful('Thank you.', ' You are welcome!');
const HELD_OUT = [
  helpful('Where is the Colosseum?', ' The Colosseum is in Rome.'),
  helpful('What sport does Serena Williams play?', ' Serena Williams plays tennis.'),
];

describe('tuning: preference tuning in the tab (DPO)', function () {
  this.timeout(300_000);

  // Measured (Chromium, the defaults: β 0.1, 3e-5, 20 steps, all 4 pairs a step): the mean margin over the pairs
  // 1.02 nats after step 1, 10.4 after step 20; the held-out pairs' 7.5; the KL 0.31 nats a token at most; the tuned
  // model's own log-probability margin of chosen over rejected −7.9 after step 1, +1.5 after step 20.
  it('raises the margin of chosen over rejected, on held-out pairs too, with the KL under 0.5 nats a token', async () => {
    const engine = await shippedEngine();
    await Promise.all(CHOSEN.map((preference) => engine.tuning.choose(preference)));
    await engine.tuning.mark({ prompt: MARKED.prompt, answer: MARKED.chosen, good: true });
    const marked = await engine.tuning.mark({ prompt: MARKED.prompt, answer: MARKED.rejected, good: false });
    expect(marked.pairs).to.deep.equal([...CHOSEN, MARKED]);
    expect((await engine.model.info()).name).to.equal('default-model, tuned');
    const heldOutBefore = await Promise.all(HELD_OUT.map((pair) => engine.tuning.odds(pair)));
    for (const odds of heldOutBefore) expect(odds.tuned).to.equal(odds.reference); // the tuned model is the reference

    const ready = await engine.tuning.preferenceTune();
    expect(ready).to.include({ kind: 'preference', step: 0, totalSteps: 20 });
    expect(ready.settings).to.deep.equal({ steps: 20, batchSize: 8, learningRate: 3e-5, beta: 0.1 });
    const outcome = await engine.tuning.play(() => {});
    expect(outcome).to.include({ reason: 'finished', step: 20 });

    const { history } = (await engine.tuning.state())!;
    const margins = history.map((point) => point.margin!);
    expect(margins[0]).to.be.above(0);
    expect(margins.at(-1)).to.be.above(5);
    expect(margins.at(-1)).to.be.above(margins[0]! * 2);
    for (const point of history) expect(point.kl).to.be.below(0.5);

    for (const pair of [...CHOSEN, MARKED]) {
      const odds = await engine.tuning.odds(pair);
      expect(odds.tuned, pair.prompt).to.be.above(odds.reference);
    }
    const heldOut = await Promise.all(HELD_OUT.map((pair) => engine.tuning.odds(pair)));
    const heldOutMargin = heldOut.reduce((sum, { tuned, reference }) => sum + tuned - reference, 0) / heldOut.length;
    expect(heldOutMargin).to.be.above(3);
  });

  // Measured: 5 fine-tuning steps moved the pair's log-probability margin by −4.2 nats from the model fine-tuning
  // started from. Against the fine-tuned model, the first step on choices has a margin of +1.6 nats (its own
  // doing) and a KL of 0.003 nats a token; against the first reference it would have read about −2.6.
  it('after fine-tuning, measures tuning on choices from the fine-tuned model, which it keeps as its reference', async () => {
    const engine = await shippedEngine();
    await engine.tuning.fineTune({ kind: 'builtin' }, { steps: 5 });
    await engine.tuning.play(() => {});
    await engine.tuning.choose(CHOSEN[0]!);
    const before = await engine.tuning.odds(CHOSEN[0]!);
    const ready = await engine.tuning.preferenceTune({ steps: 1 });
    const start = ready.preferenceReference!;
    expect(start.name).to.equal('default-model after 5 tuning steps');
    expect(start.fingerprint)
      .to.match(/^[0-9a-f]{16}$/)
      .and.not.equal(ready.reference.fingerprint);
    // Until tuning on choices began, odds were measured against the model fine-tuning started from; now against
    // the fine-tuned one, which is the tuned model as it stands: both figures agree.
    expect(Math.abs(before.tuned - before.reference)).to.be.above(2);
    const atStart = await engine.tuning.odds(CHOSEN[0]!);
    expect(atStart.tuned).to.be.closeTo(atStart.reference, 1e-9);

    const { points } = await engine.tuning.step();
    expect(points[0]!.kl).to.be.below(0.01);
    expect(points[0]!.margin).to.be.above(0).and.below(3);
    // Another run on choices keeps the same reference; fine-tuning again drops it.
    expect((await engine.tuning.preferenceTune({ steps: 1 })).preferenceReference).to.deep.equal(start);
    expect((await engine.tuning.fineTune({ kind: 'builtin' })).preferenceReference).to.equal(null);
  });

  it('refuses a pair whose answers are the same, or too long for the context, naming why, without beginning', async () => {
    const engine = await shippedEngine();
    const prompt = asked('Hello!');
    await expectRejection(engine.tuning.choose({ prompt, chosen: ' Hi.', rejected: ' Hi. \n' }), /same as the rejected one/);
    const long = asked(`Tell me about ${'the blue cat and '.repeat(20)}the dog.`);
    await expectRejection(
      engine.tuning.choose({ prompt: long, chosen: ' Yes.', rejected: ' No.' }),
      /prompt and answer are \d+ tokens; the model reads at most 65 \(its context of 64/,
    );
    await expectRejection(
      engine.tuning.mark({ prompt: long, answer: ' Yes.', good: true }),
      /cannot be learned from: prompt and answer/,
    );
    await expectRejection(engine.tuning.preferenceTune(), /not being tuned yet/);
    expect(await engine.tuning.state()).to.equal(null);
    expect((await engine.model.info()).name).to.equal('default-model');

    await engine.tuning.choose({ prompt, chosen: ' Hello!', rejected: ' Go.' });
    await engine.tuning.forget({ preference: 0 });
    // Marking the same answer again changes its verdict: a good and a bad answer make one pair, then none.
    await engine.tuning.mark({ prompt, answer: ' Hi!', good: true });
    const pair = await engine.tuning.mark({ prompt, answer: ' Go.', good: false });
    expect(pair.pairs).to.deep.equal([{ prompt, chosen: ' Hi!', rejected: ' Go.' }]);
    const remarked = await engine.tuning.mark({ prompt, answer: ' Go. ', good: true });
    expect(remarked.verdicts).to.deep.equal([
      { prompt, answer: ' Hi!', good: true },
      { prompt, answer: ' Go. ', good: true },
    ]);
    expect(remarked.pairs).to.deep.equal([]);
    await expectRejection(engine.tuning.preferenceTune(), /no pair to learn from/);
    await engine.tuning.forget({ verdict: 1 });
    await expectRejection(engine.tuning.forget({ verdict: 1 }), /there is no verdict 1 to forget/);
  });

  it('refuses models too large to tune on the CPU here, GPT-2 among them', async () => {
    const engine = createEngine();
    await engine.library.useDatabase(`test-${crypto.randomUUID()}`);
    // 6 layers of 384: 10.7M parameters, over the 8M limit.
    const shape = { nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 16 };
    await engine.training.newModel({ corpus: { kind: 'text', name: 'abc', text: 'abc '.repeat(300) }, size: shape, seed: 1 });
    await expectRejection(engine.tuning.fineTune({ kind: 'builtin' }), /too large to tune here: .* up to 8,000,000 parameters/);
    expect(await engine.tuning.state()).to.equal(null);

    const gpt2 = { vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, tied: true };
    const problem = tuningProblem({ name: 'GPT-2', config: gpt2, pretrained: 'gpt2' });
    expect(problem).to.match(/^GPT-2 is too large to tune here: .*124,439,808 parameters.*Open the built-in model/);
  });

  it('reads pasted dialogues: lines skipped with their reasons, characters the vocabulary lacks, 1 in 10 held out', async () => {
    const engine = createEngine();
    await engine.library.useDatabase(`test-${crypto.randomUUID()}`);
    // Characters only: the vocabulary is this text's, so "é" and "€" are not in it; the context is 32 tokens.
    const alphabet = 'User: Assistant: abcdefghijklmnopqrstuvwxyz?.!\n';
    const shape = { nLayer: 1, nHead: 1, nEmbd: 8, blockSize: 32 };
    await engine.training.newModel({
      corpus: { kind: 'text', name: 'letters', text: alphabet.repeat(30) },
      size: shape,
      seed: 1,
    });
    const usable = Array.from({ length: 11 }, (_, i) => `User: hi ${'abcdefghijk'[i]}? Assistant: ok.`);
    const text = [
      ...usable.slice(0, 5),
      'just a line',
      '',
      'User: café? Assistant: 5 €.',
      'User: what is it? Assistant:   ',
      `User: ${'long '.repeat(10)}? Assistant: no.`,
      ...usable.slice(5),
    ].join('\n');
    const set = await engine.tuning.readDialogues({ kind: 'text', text });
    expect(set.skipped).to.deep.equal([
      { line: 6, text: 'just a line', reason: 'there is no answer after "Assistant:" to learn' },
      { line: 9, text: 'User: what is it? Assistant:   ', reason: 'there is no answer after "Assistant:" to learn' },
      {
        line: 10,
        text: `User: ${'long '.repeat(10)}? Assistant: no.`,
        reason: 'prompt and answer are 73 tokens; the model reads at most 33 (its context of 32, then the token it predicts)',
      },
    ]);
    expect(set.unknown.sort()).to.deep.equal(['5', 'é', '€'].sort());
    // 12 usable lines (the 11, and the one read with unknown characters): the 10th is held out.
    expect(set).to.include({ dialogues: 11, heldOut: 1 });
    expect(set.examples).to.deep.equal(usable.slice(0, 3));
    expect(await engine.tuning.state()).to.equal(null); // reading does not begin tuning
    // Fine-tuning on it keeps the text whole, for the panel to show again.
    const state = await engine.tuning.fineTune({ kind: 'text', text });
    expect(state.dialogueSource).to.deep.equal({ kind: 'text', text });
    expect({ ...state.dialogues, unknown: state.dialogues!.unknown.sort() }).to.deep.equal(set); // set's was sorted above
  });
});
