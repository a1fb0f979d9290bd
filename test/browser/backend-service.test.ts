// The engine service on each backend: what Auto picks and why, the CPU's threads on a
// page that is not cross-origin isolated (the isolated ones: *.isolated.test.ts), the same
// answers (predictions, captured insides, greedy text) on the CPU and on WebGPU, switching
// mid-training without a jolt in the loss curve, and a lost GPU handing over to
// the CPU without losing the model or the training run.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import { type GPUContext, requestGPU } from '../../workers/engine/webgpu/device.ts';
import type { EngineApi, NewModelRequest, TrainingProgress, Uses } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';
import { relativeError } from './engine-reference.ts';

const TRAINED_MODEL = new URL('/public/default-model.safetensors', location.href).href;
const PROMPT = 'The capital of France is';

/** A service whose GPU the test can reach (to destroy it), each device its own. */
function serviceWithGPU(): { service: EngineApi; gpu: () => GPUContext } {
  let found: GPUContext | null = null;
  const service = createEngine({
    findGPU: async () => (found = await requestGPU()),
  });
  return { service, gpu: () => found! };
}

async function greedyText(service: EngineApi, prompt: string, maxTokens: number): Promise<string> {
  return (await service.model.generate(prompt, { temperature: 0, maxTokens, seed: 1 }, () => {})).text;
}

const MODEL: NewModelRequest = {
  corpus: { kind: 'builtin' },
  size: 'tiny',
  seed: 11,
  training: { batchSize: 4, totalSteps: 500, evalInterval: 1000, sampleInterval: 1000, learningRate: 3e-3, warmupSteps: 2 },
};

async function steps(service: EngineApi, count: number): Promise<TrainingProgress[]> {
  const reports: TrainingProgress[] = [];
  for (let i = 0; i < count; i++) reports.push(await service.training.step());
  return reports;
}

describe('backend choice', function () {
  this.timeout(180_000);

  it('with no GPU adapter, Auto runs on the CPU, says why, and refuses a forced WebGPU', async () => {
    const service = createEngine({ findGPU: async () => null });
    const info = await service.backend.info();
    expect(info).to.include({ choice: 'auto', active: 'cpu', webgpuAvailable: false });
    expect(info.adapter).to.equal(undefined);
    expect(info.reason).to.match(/no WebGPU adapter/);
    const refused = await service.backend.choose('webgpu').catch((error: Error) => error);
    expect(refused).to.be.instanceOf(Error);
    expect((refused as Error).message).to.match(/WebGPU is not available/);
    expect((await service.backend.info()).active).to.equal('cpu');
    const unknown = await service.backend.choose('quantum' as 'cpu').catch((error: Error) => error);
    expect((unknown as Error).message).to.match(/unknown backend "quantum"/);
    // Still answers.
    expect((await service.model.predict('a', { temperature: 1 })).probs.length).to.be.above(0);
  });

  it("on this browser's adapter, Auto picks WebGPU only for a hardware GPU, and the user can force either", async () => {
    const adapter = await requestGPU();
    const service = createEngine();
    const auto = await service.backend.info();
    if (!adapter) {
      expect(auto).to.include({ active: 'cpu', webgpuAvailable: false });
      return;
    }
    expect(auto.webgpuAvailable).to.equal(true);
    expect(auto.adapter!.name).to.be.a('string').and.not.equal('');
    expect(auto.active).to.equal(auto.adapter!.software ? 'cpu' : 'webgpu');
    if (auto.adapter!.software) expect(auto.reason).to.match(/software/);
    expect(await service.backend.choose('webgpu')).to.include({ choice: 'webgpu', active: 'webgpu' });
    expect(await service.backend.choose('cpu')).to.include({ choice: 'cpu', active: 'cpu' });
  });
});

describe('CPU threads where the page is not cross-origin isolated', function () {
  this.timeout(180_000);
  const NOT_ISOLATED = /^The CPU runs on one thread: this page is not cross-origin isolated/;

  before(() => expect(crossOriginIsolated).to.equal(false));

  /** One thread and why at the start and when asked for two, in the page's engine or the worker's; it still predicts. */
  async function expectOneThread(engine: Uses<'backend', 'info' | 'threads'> & Uses<'model', 'predict'>): Promise<void> {
    const { threads } = (await engine.backend.info()).cpu!;
    expect(threads).to.deep.include({ count: 1, asked: 0, max: 1 });
    expect(threads.note).to.match(NOT_ISOLATED);
    const two = (await engine.backend.threads(2)).cpu!.threads;
    expect(two).to.deep.include({ count: 1, asked: 2, max: 1 });
    expect(two.note).to.match(NOT_ISOLATED);
    expect((await engine.backend.info()).cpu!.threads).to.deep.equal(two);
    expect((await engine.model.predict('a', { temperature: 1 })).probs.length).to.be.above(0);
  }

  it('runs on one thread and says why, also when asked for two; a bad count is refused', async () => {
    const service = createEngine({ findGPU: async () => null });
    await expectOneThread(service);

    // One, asked for, is what runs: nothing to explain.
    expect((await service.backend.threads(1)).cpu!.threads).to.deep.equal({ count: 1, asked: 1, max: 1 });

    for (const bad of [-1, 1.5, Number.NaN, '2' as unknown as number]) {
      const refused = await service.backend.threads(bad).catch((error: Error) => error);
      expect(refused, String(bad)).to.be.instanceOf(Error);
      expect((refused as Error).message).to.match(
        /^The thread count must be a whole number, 0 \(as many as the hardware has\) or more/,
      );
    }
    expect((await service.backend.info()).cpu!.threads.asked).to.equal(1);
    // Still answers.
    expect((await service.model.predict('a', { temperature: 1 })).probs.length).to.be.above(0);
  });

  it("in the engine's worker too: one thread, and why", async () => {
    const client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
    try {
      await expectOneThread(client);
    } finally {
      client.terminate();
    }
  });
});

describe('the same model on both backends', function () {
  this.timeout(300_000);
  let gpuAvailable = false;

  before(async function () {
    gpuAvailable = (await requestGPU()) !== null;
    if (!gpuAvailable) this.skip();
  });

  it('predictions, captured attention and MLP activations, and greedy text agree', async () => {
    const service = createEngine();
    await service.model.loadCheckpoint(TRAINED_MODEL);
    expect((await service.model.info()).weights).to.equal('trained');
    await service.backend.choose('cpu');
    const cpuPrediction = await service.model.predict(PROMPT, { temperature: 1 });
    const cpuForward = await service.model.forward(PROMPT, { capture: true });
    const cpuText = await greedyText(service, PROMPT, 80);

    expect((await service.backend.choose('webgpu')).active).to.equal('webgpu');
    const gpuPrediction = await service.model.predict(PROMPT, { temperature: 1 });
    const gpuForward = await service.model.forward(PROMPT, { capture: true });
    const gpuText = await greedyText(service, PROMPT, 80);

    expect(relativeError(gpuPrediction.probs, cpuPrediction.probs)).to.be.below(1e-4);
    expect(gpuPrediction.top.map((t) => t.id)).to.deep.equal(cpuPrediction.top.map((t) => t.id));
    expect(relativeError(gpuForward.logits, cpuForward.logits)).to.be.below(1e-4);
    const cpuLayers = cpuForward.capture!.layers;
    gpuForward.capture!.layers.forEach((layer, l) => {
      expect(layer.pattern.length).to.equal(cpuLayers[l]!.pattern.length);
      expect(Array.from(layer.mask)).to.deep.equal(Array.from(cpuLayers[l]!.mask));
      for (const name of ['scores', 'pattern', 'mlpPre', 'mlpPost', 'residAfterAttn', 'residAfterMlp'] as const) {
        expect(relativeError(layer[name], cpuLayers[l]![name]), `layer ${l} ${name}`).to.be.below(1e-4);
      }
    });
    // 80 tokens from a context of 64: the window slides on both.
    expect(gpuText).to.equal(cpuText);
    expect(gpuText.length).to.be.above(40);
  });

  it('switching CPU → WebGPU → CPU mid-training: the loss curve goes on as on the CPU alone', async () => {
    const reference = createEngine({ findGPU: async () => null });
    await reference.training.newModel(MODEL);
    const expected = (await steps(reference, 12)).map((r) => r.loss);

    const service = createEngine();
    await service.backend.choose('cpu');
    await service.training.newModel(MODEL);
    const losses = (await steps(service, 4)).map((r) => r.loss);
    await service.backend.choose('webgpu');
    losses.push(...(await steps(service, 4)).map((r) => r.loss));
    // Predictions while the GPU trains come from the GPU's weights.
    const duringGPU = await service.model.predict(PROMPT, { temperature: 1 });
    await service.backend.choose('cpu');
    const afterSwitch = await service.model.predict(PROMPT, { temperature: 1 });
    expect(relativeError(duringGPU.probs, afterSwitch.probs)).to.be.below(1e-4);
    losses.push(...(await steps(service, 4)).map((r) => r.loss));

    losses.forEach((loss, s) =>
      expect(Math.abs(loss - expected[s]!), `step ${s + 1}: ${loss} vs ${expected[s]}`).to.be.below(1e-3),
    );
    expect((await service.training.state())!.history.map((point) => point.step)).to.deep.equal(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    expect(expected[11]).to.be.below(expected[0]!); // it learnt something, so agreeing means something
  });

  it('a lost GPU mid-training: the next report says so and training goes on on the CPU, the history unbroken', async () => {
    const { service, gpu } = serviceWithGPU();
    await service.backend.choose('webgpu');
    await service.training.newModel(MODEL);
    await steps(service, 3);
    gpu().device.destroy();
    const report = await service.training.step();
    expect(report.fellBack, 'a fallback report').to.not.equal(undefined);
    expect(report.fellBack!.resumedFrom).to.be.within(0, 3);
    expect(report.backend).to.include({ active: 'cpu', choice: 'webgpu' });
    expect(report.backend!.reason).to.match(/GPU was lost.*CPU/);
    expect(report.step).to.equal(report.fellBack!.resumedFrom + 1);
    await steps(service, 3);
    const history = (await service.training.state())!.history;
    expect(history.map((point) => point.step)).to.deep.equal(Array.from({ length: history.length }, (_, i) => i + 1));
    expect(history.every((point) => Number.isFinite(point.loss))).to.equal(true);
    expect((await service.backend.info()).active).to.equal('cpu');
  });

  it('a lost GPU while predicting: the CPU answers the same, and the backend says why', async () => {
    const { service, gpu } = serviceWithGPU();
    await service.model.loadCheckpoint(TRAINED_MODEL);
    await service.backend.choose('webgpu');
    const before = await service.model.predict(PROMPT, { temperature: 1 });
    gpu().device.destroy();
    const after = await service.model.predict(PROMPT, { temperature: 1 });
    expect(relativeError(after.probs, before.probs)).to.be.below(1e-4);
    const info = await service.backend.info();
    expect(info.active).to.equal('cpu');
    expect(info.reason).to.match(/GPU was lost.*the CPU took over/);
    // Asked for again, WebGPU comes back on a fresh device.
    expect((await service.backend.choose('webgpu')).active).to.equal('webgpu');
    const again = await service.model.predict(PROMPT, { temperature: 1 });
    expect(relativeError(again.probs, before.probs)).to.be.below(1e-4);
  });
});
