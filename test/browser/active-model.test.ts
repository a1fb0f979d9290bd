// The model in use changes one way only (ActiveModel.replace()): creating,
// opening, importing or loading a model while a generation, an inspection and a
// training run are in flight stops each of them cleanly, and everything then
// answers for the new model.
import { expect } from 'chai';
import { type EngineWorker, isModelReplaced, type ModelInfo, type NewModelRequest } from '../../workers/api/index.ts';
import { ActiveModel } from '../../workers/areas/active-model.ts';
import { DEFAULT_CONFIG, defaultTokenizer } from '../../workers/engine/defaults.ts';
import { initParameters } from '../../workers/engine/params.ts';
import { createEngine } from '../../workers/engine.ts';
import type { TrainingSession } from '../../workers/training-session.ts';
import { randomInt } from './seeded.ts';

const SHIPPED_MODEL = new URL('/public/default-model.safetensors', location.href).href;

const request = (seed: number): NewModelRequest => ({
  corpus: { kind: 'builtin' },
  size: { nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 32 },
  seed,
  training: { batchSize: 2, totalSteps: 100_000, evalInterval: 100_000, sampleInterval: 100_000 },
});

interface InFlight {
  playing: ReturnType<EngineWorker['training']['play']>;
  generating: ReturnType<EngineWorker['model']['generate']>;
  /** The inspection's config when it answered, or why it did not. */
  inspecting: Promise<{ answered: ModelInfo['config'] } | { rejected: unknown }>;
}

/** Starts a generation and a training run (and waits until each is under way), then an inspection. */
async function startWork(engine: EngineWorker): Promise<InFlight> {
  let tokenArrived!: () => void;
  let reported!: () => void;
  const started = Promise.all([
    new Promise<void>((resolve) => (tokenArrived = resolve)),
    new Promise<void>((resolve) => (reported = resolve)),
  ]);
  const generating = engine.model.generate('the ', { temperature: 1, maxTokens: 100_000, seed: 7 }, () => tokenArrived());
  const playing = engine.training.play(() => reported());
  await started;
  const inspecting = engine.inspector.inspect('the fluffy blue creature').then(
    (inspection) => ({ answered: inspection.config }),
    (error: unknown) => ({ rejected: error }),
  );
  return { playing, generating, inspecting };
}

/** Each way a model comes into use; `prepare` runs before anything is in flight. */
const PATHS: { name: string; prepare: (engine: EngineWorker) => Promise<(engine: EngineWorker) => Promise<ModelInfo>> }[] = [
  {
    name: 'creating a new model',
    prepare: async () => async (engine) => (await engine.training.newModel(request(99))).model,
  },
  {
    name: 'opening a saved model',
    prepare: async (engine) => {
      const saved = await engine.library.save('the one to open');
      await engine.training.newModel(request(5));
      return (engine) => engine.library.open(saved.id);
    },
  },
  {
    name: 'importing a file',
    prepare: async (engine) => {
      const { bytes } = await engine.library.export();
      await engine.training.newModel(request(6));
      return (engine) =>
        engine.library.import({ kind: 'file', file: new File([bytes as Uint8Array<ArrayBuffer>], 'imported.safetensors') });
    },
  },
  {
    name: 'loading a checkpoint',
    prepare: async () => (engine) => engine.model.loadCheckpoint(SHIPPED_MODEL),
  },
];

describe('replacing the model in use', function () {
  this.timeout(120_000);

  for (const path of PATHS) {
    it(`${path.name} stops the generation, the inspection and the training run under way`, async () => {
      const engine = createEngine({ findGPU: async () => null });
      await engine.library.useDatabase(`test-${crypto.randomUUID()}`);
      await engine.library.setAutosave(0);
      await engine.training.newModel(request(randomInt(1_000, 1e6)));
      const replace = await path.prepare(engine);
      const before = await engine.model.info();
      const inFlight = await startWork(engine);
      const after = await replace(engine);
      expect([after.name, after.seed]).to.not.deep.equal([before.name, before.seed]);

      const generated = await inFlight.generating;
      expect(generated.stopped, 'the generation stopped').to.equal(true);
      expect(generated.ids.length).to.be.below(100_000);

      const outcome = await inFlight.playing;
      expect(outcome.reason, 'the training run stopped').to.equal('paused');

      // An inspection answers for the model it began on, or says that model was replaced: never a mix of the two.
      const inspected = await inFlight.inspecting;
      if ('rejected' in inspected) expect(isModelReplaced(inspected.rejected), String(inspected.rejected)).to.equal(true);
      else expect(inspected.answered).to.deep.equal(before.config);

      // Everything now answers for the new model.
      expect(await engine.model.info()).to.deep.include({ name: after.name, config: after.config });
      const inspection = await engine.inspector.inspect('the cat');
      expect(inspection.config).to.deep.equal(after.config);
      const prediction = await engine.model.predict('the cat', { temperature: 1 });
      expect(prediction.probs.length).to.equal(after.config.vocabSize);
      const more = await engine.model.generate('the cat', { temperature: 1, maxTokens: 5, seed: 1 }, () => {});
      expect(more).to.include({ stopped: false });
      expect(more.ids).to.have.length(5);
    });
  }
});

describe('ActiveModel', () => {
  it('a request reading the weights when the model is replaced rejects with ModelReplaced', async () => {
    let release!: () => void;
    const readBack = new Promise<void>((resolve) => (release = resolve));
    const params = initParameters(DEFAULT_CONFIG, 1);
    // A training run whose weights are still being read back (as from a GPU).
    const session = { currentParameters: async () => (await readBack, params), destroy: () => {} } as unknown as TrainingSession;
    const active = new ActiveModel({
      name: 'old',
      config: DEFAULT_CONFIG,
      params,
      tokenizer: defaultTokenizer(),
      seed: 1,
      session,
    });
    const changes: number[] = [];
    active.onChange(() => changes.push(active.version));
    const reading = active.use().then(
      () => 'answered',
      (error: unknown) => error,
    );
    active.replace({ name: 'new', config: DEFAULT_CONFIG, params, tokenizer: defaultTokenizer(), seed: 2 });
    release();
    expect(isModelReplaced(await reading)).to.equal(true);
    expect(changes).to.deep.equal([1]);
    expect((await active.use()).model.name).to.equal('new');
  });
});
