// The chat through the real client and engine worker (web-llm loaded there on
// first use): the model list, and an error that keeps its kind (Error.name) and
// its message across the worker boundary.
import { expect } from 'chai';
import type { AppConfig } from '@mlc-ai/web-llm';
import { EngineClient } from '../../src/client.ts';

describe('chat through the worker', function () {
  this.timeout(120_000);
  let client: EngineClient;
  beforeEach(() => {
    client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
  });
  afterEach(() => client.terminate());

  it('a model with no files at its URL fails with ModelFilesMissing and our message, and nothing is loaded', async function () {
    const { chat } = client;
    const folder = `no-model-${crypto.randomUUID()}`;
    const base = new URL(`/${folder}/`, location.href).href;
    const appConfig: AppConfig = {
      model_list: [{ model: base, model_id: `${folder}-q4f32_1-MLC`, model_lib: `${base}model.wasm`, vram_required_MB: 100 }],
    };
    await chat.setAppConfig(appConfig);
    const { models, environment } = await chat.models();
    expect(models.map((model) => model.id)).to.deep.equal([`${folder}-q4f32_1-MLC`]);
    if (!environment.webgpu) this.skip();
    const progress: number[] = [];
    const error = await chat
      .load(models[0]!.id, (report) => progress.push(report.progress))
      .then(
        () => null,
        (e: Error) => e,
      );
    expect(error?.name).to.equal('ModelFilesMissing');
    expect(error?.message).to.include(base).and.include('404');
    expect((await chat.models()).loaded).to.equal(null);
    // The worker goes on answering the playground's model.
    expect((await client.model.info()).config.nLayer).to.be.greaterThan(0);
  });
});
