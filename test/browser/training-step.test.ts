// One training step up close (workers/engine/step-close-up.ts through the labs area), in the page: its losses
// and probabilities against the real Trainer stepping the same sentence from the same weights, its gradient norms
// against float64 finite differences, the model in use untouched, the shipped model learning its corpus's
// sentences step after step, and a GPT-2-sized model refused.
import { expect } from 'chai';
import { ActiveModel, type LoadedModel } from '../../workers/areas/active-model.ts';
import { LabsArea } from '../../workers/areas/labs.ts';
import { importCheckpoint } from '../../workers/engine/checkpoint.ts';
import type { GPTConfig } from '../../workers/engine/config.ts';
import { defaultTokenizer } from '../../workers/engine/defaults.ts';
import { forward } from '../../workers/engine/model.ts';
import { createParameters, KNOWN_CONFIGS, layerView, type ParameterTensors } from '../../workers/engine/params.ts';
import { STEP_LEARNING_RATE, StepCloseUp } from '../../workers/engine/step-close-up.ts';
import { Trainer } from '../../workers/engine/train.ts';
import type { TrainingSession } from '../../workers/training-session.ts';
import { randomizeParameters, randomTokens, refForward, type RefParameters } from './engine-reference.ts';
import { pick, randomFor } from './seeded.ts';
import { expectRejection } from './wait-for.ts';

const SHIPPED_MODEL = new URL('/public/default-model.safetensors', location.href).href;

let shipped: LoadedModel | undefined;
async function shippedModel(): Promise<LoadedModel> {
  if (!shipped) {
    const bytes = new Uint8Array(await (await fetch(SHIPPED_MODEL)).arrayBuffer());
    const { config, params, tokenizer } = importCheckpoint(bytes);
    shipped = { name: 'shipped', config, params, tokenizer, seed: 1, checkpoint: 'default-model.safetensors' };
  }
  return shipped;
}

/** A labs area on a copy of the shipped model (so no test can change another's weights). */
async function shippedArea(): Promise<{ labs: LabsArea; model: LoadedModel }> {
  const { params, ...rest } = await shippedModel();
  const model = { ...rest, params: createParameters(params.config, params.data.slice()) };
  return { labs: new LabsArea(new ActiveModel(model)), model };
}

/** p(target) per position, in float64 from the engine's logits. */
function targetProbabilities(params: ParameterTensors, inputs: ArrayLike<number>, targets: ArrayLike<number>): number[] {
  const { logits } = forward(params, inputs);
  const V = params.config.vocabSize;
  return Array.from(targets, (target, t) => {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    let sum = 0;
    for (const logit of row) sum += Math.exp(logit - max);
    return Math.exp(row[target]! - max) / sum;
  });
}

describe('one training step up close', function () {
  this.timeout(120_000);

  it("its losses and before/after probabilities are the Trainer's own, step after step", async () => {
    const { labs, model } = await shippedArea();
    const { sentences } = await labs.stepSentences(8);
    const sentence = pick(sentences);
    const ids = model.tokenizer.encode(sentence);
    const [inputs, targets] = [ids.slice(0, -1), ids.slice(1)];
    const T = inputs.length;
    // The same weights, the sentence as the only window, a constant learning rate: the trainer takes the same steps.
    const weights = createParameters(model.config, model.params.data.slice());
    const corpus = Uint16Array.from(ids);
    const trainer = new Trainer(
      weights,
      { train: corpus, validation: corpus },
      {
        batchSize: 1,
        seqLen: T,
        learningRate: STEP_LEARNING_RATE,
        minLearningRate: STEP_LEARNING_RATE,
        warmupSteps: 0,
        totalSteps: 1000,
        evalInterval: 1000,
      },
    );
    const start = await labs.startStep(sentence);
    expect(start.tokens).to.deep.equal(ids.map((id) => model.tokenizer.token(id)));
    expect(Array.from(start.targets)).to.deep.equal(targets);
    let before = targetProbabilities(weights, inputs, targets);
    expect(Array.from(start.prob)).to.have.lengthOf(T);
    start.prob.forEach((p, t) => expect(p, `start, position ${t}`).to.be.closeTo(before[t]!, 1e-6));
    for (let step = 1; step <= 3; step++) {
      const result = await labs.trainingStep(sentence);
      const report = await trainer.step();
      const after = targetProbabilities(weights, inputs, targets);
      expect(result.steps).to.equal(step);
      expect(result.trainerLoss, `step ${step}`).to.equal(report.loss);
      expect(result.meanLossBefore).to.be.closeTo(report.loss, 1e-5);
      expect(result.gradientNorm).to.be.closeTo(report.gradNorm, 1e-5 * report.gradNorm);
      expect(result.learningRate).to.equal(report.learningRate);
      for (let t = 0; t < T; t++) {
        expect(result.probBefore[t], `step ${step}, position ${t} before`).to.be.closeTo(before[t]!, 1e-6);
        expect(result.probAfter[t], `step ${step}, position ${t} after`).to.be.closeTo(after[t]!, 1e-6);
        expect(result.lossAfter[t]).to.be.closeTo(-Math.log(after[t]!), 1e-4);
      }
      expect(result.history.at(-1)).to.be.closeTo(after.reduce((a, b) => a + b) / T, 1e-6);
      before = after;
    }
  });

  it('measures each matrix: gradient norms as float64 finite differences give them, changes as the weights moved', async () => {
    const config: GPTConfig = { vocabSize: 11, blockSize: 7, nLayer: 2, nHead: 2, nEmbd: 8, tied: true };
    const random = randomFor('one training step: gradient norms');
    // Weights this large give a gradient norm over the clipping limit (above 3 on 300 seeds tried).
    const source = randomizeParameters(createParameters(config), random, 1.2);
    const ids = randomTokens(random, 6, config.vocabSize);
    const closeUp = new StepCloseUp(source, ids);
    const start = closeUp.params.data.slice();
    const result = await closeUp.step();
    // Every named parameter, per layer for the stacked ones; tied, so no unembedding of its own.
    expect(result.matrices).to.have.lengthOf(4 + 12 * config.nLayer);
    expect(result.gradientNorm, 'the clipping is on the path checked').to.be.above(result.gradClip);

    const reference = { config } as RefParameters;
    const float64 = new Float64Array(source.data);
    const views = createParameters(config);
    for (const name of Object.keys(views) as (keyof typeof views)[]) {
      if (name === 'config' || name === 'data') continue;
      const offset = views[name].byteOffset / 4;
      Object.assign(reference, { [name]: float64.subarray(offset, offset + views[name].length) });
    }
    const loss = () => {
      const { logits } = refForward(reference, ids.slice(0, -1));
      return (
        logits.reduce((sum, row, t) => {
          const max = Math.max(...row);
          const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max;
          return sum + logSum - row[ids[t + 1]!]!;
        }, 0) / logits.length
      );
    };
    const h = 1e-5;
    const numeric = new Float64Array(float64.length);
    for (let i = 0; i < float64.length; i++) {
      const x = float64[i]!;
      float64[i] = x + h;
      const up = loss();
      float64[i] = x - h;
      numeric[i] = (up - loss()) / (2 * h);
      float64[i] = x;
    }
    const numericParams = createParameters(config, Float32Array.from(numeric));
    const changed = createParameters(
      config,
      closeUp.params.data.map((value, i) => value - start[i]!),
    );
    for (const row of result.matrices) {
      const name = row.name as keyof typeof numericParams & 'wte';
      const slice = (tensors: ParameterTensors) =>
        row.layer === null ? tensors[name] : layerView(tensors[name], row.layer, config.nLayer);
      const norm = (values: Float32Array) => Math.hypot(...values);
      const expected = norm(slice(numericParams));
      const what = `${row.label} ${row.layer ?? ''}`;
      expect(row.gradientNorm, `gradient of ${what}`).to.be.closeTo(expected, 1e-3 * expected + 1e-7);
      expect(row.changeNorm, `change of ${what}`).to.be.closeTo(norm(slice(changed)), 1e-6);
      expect(row.values).to.equal(slice(numericParams).length);
    }
  });

  it('leaves the model in use as it was, and starts over from it', async () => {
    const { labs, model } = await shippedArea();
    const weights = model.params.data.slice();
    const [sentence] = (await labs.stepSentences(1)).sentences;
    const first = await labs.trainingStep(sentence!);
    await labs.trainingStep(sentence!);
    expect(model.params.data).to.deep.equal(weights);
    await labs.startStep(sentence!);
    const again = await labs.trainingStep(sentence!);
    expect(again.steps).to.equal(1);
    expect(Array.from(again.probAfter)).to.deep.equal(Array.from(first.probAfter));
  });

  it("raises the shipped model's odds of its corpus sentences, step after step", async () => {
    const { labs, model } = await shippedArea();
    const { corpus, sentences } = await labs.stepSentences(8);
    expect(corpus).to.equal('the built-in corpus');
    expect(sentences).to.have.lengthOf(8);
    const rises: number[] = [];
    for (const sentence of sentences) {
      const ids = model.tokenizer.encode(sentence);
      expect(ids.length, sentence).to.be.within(2, model.config.blockSize + 1);
      let result = await labs.trainingStep(sentence);
      for (let step = 2; step <= 3; step++) result = await labs.trainingStep(sentence);
      const [start, ...after] = result.history;
      // Measured: every sentence's first step raised its mean probability ('Look, three dogs bark over there.':
      // 63% → 82% → 94% → 98%).
      expect(after[0], `${sentence}: ${result.history.join(' → ')}`).to.be.above(start!);
      expect(after[2], `${sentence}: ${result.history.join(' → ')}`).to.be.above(start!);
      rises.push(after[2]! - start!);
    }
    expect(Math.max(...rises)).to.be.above(0.3);
  });

  it('refuses a model of GPT-2 small’s size, saying what it would need', async () => {
    const config = KNOWN_CONFIGS['GPT-2 small']!;
    // Only the config is read before the refusal: no 500 MB of weights are made.
    const params = { config } as ParameterTensors;
    const labs = new LabsArea(new ActiveModel({ name: 'GPT-2', config, params, tokenizer: defaultTokenizer(), seed: 1 }));
    const { refusal, sentences } = await labs.stepSentences(8);
    expect(sentences).to.deep.equal([]);
    expect(refusal).to.match(/124,439,808 parameters.*about 2\.0 GB.*up to 8,000,000 parameters/);
    await expectRejection(labs.trainingStep('The cat sat.'), /124,439,808 parameters.*about 2\.0 GB/);
    await expectRejection(labs.startStep('The cat sat.'), /124,439,808 parameters/);
  });

  it("offers a model trained here its own corpus's sentences, from the part it trains on", async () => {
    const { model } = await shippedArea();
    const text = Array.from({ length: 40 }, (_, i) => `Line ${i} has a cat.`).join(' ');
    const session = { corpus: { name: 'cats.txt', text } } as unknown as TrainingSession;
    const labs = new LabsArea(new ActiveModel({ ...model, session }));
    const { corpus, sentences } = await labs.stepSentences(8);
    expect(corpus).to.equal('cats.txt');
    expect(sentences).to.have.lengthOf(8);
    expect(sentences[0]).to.equal('Line 0 has a cat.');
    // The last tenth of the tokens is held out for validation: no sentence comes from there.
    for (const sentence of sentences) expect(Number(/\d+/.exec(sentence)![0])).to.be.below(36);
  });

  it('says when a sentence is too short or too long for the model', async () => {
    const { labs, model } = await shippedArea();
    await expectRejection(labs.startStep('a'), /at least 2 tokens/);
    const long = Array.from({ length: 80 }, () => 'the cat').join(' ');
    expect(model.tokenizer.encode(long).length).to.be.above(model.config.blockSize + 1);
    await expectRejection(labs.trainingStep(long), /reads at most 64/);
  });
});
