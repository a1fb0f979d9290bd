// ChatService with the real @mlc-ai/web-llm package, where no model can be
// downloaded: a model whose files are not at its URL (this test server has none)
// ends in our "files missing" error naming the file; a browser without a WebGPU
// adapter ends in our "no WebGPU" error before anything is fetched; the default
// list is web-llm's own small models, smallest first.
import { expect } from 'chai';
import type { AppConfig } from '@mlc-ai/web-llm';
import { ChatService } from '../../workers/chat/chat-service.ts';
import { rejection } from './wait-for.ts';

const loadWebLLM = () => import('@mlc-ai/web-llm');

/** A record on this test server, where no model files are. */
function localModel(folder: string): AppConfig {
  const base = new URL(`/${folder}/`, location.href).href;
  return {
    model_list: [{ model: base, model_id: `${folder}-q4f32_1-MLC`, model_lib: `${base}model.wasm`, vram_required_MB: 100 }],
  };
}

describe('chat with the real web-llm package', function () {
  this.timeout(60_000);

  it('a model whose files are not at its URL ends in ModelFilesMissing, naming the file', async function () {
    if (!navigator.gpu || !(await navigator.gpu.requestAdapter())) this.skip();
    const service = new ChatService({ loadWebLLM });
    const appConfig = localModel(`no-such-model-${Date.now()}`);
    await service.setAppConfig(appConfig);
    const progress: unknown[] = [];
    const error = await rejection(service.load(appConfig.model_list[0].model_id, (report) => progress.push(report)));
    expect(error.name).to.equal('ModelFilesMissing');
    const configUrl = `${appConfig.model_list[0].model}resolve/main/mlc-chat-config.json`;
    expect(error.message).to.include(configUrl).and.include('answered 404').and.include('model list');
    expect((await service.models()).loaded).to.equal(null);
  });

  it('no WebGPU adapter ends in NoAdapter, before web-llm fetches anything', async () => {
    const service = new ChatService({ loadWebLLM, gpu: () => ({ requestAdapter: async () => null }) as unknown as GPU });
    const appConfig = localModel(`no-adapter-${Date.now()}`);
    await service.setAppConfig(appConfig);
    const error = await rejection(service.load(appConfig.model_list[0].model_id, () => {}));
    expect(error.name).to.equal('NoAdapter');
    expect(error.message)
      .to.match(/WebGPU/)
      .and.match(/no GPU/);
    const fetched = performance
      .getEntriesByType('resource')
      .filter((entry) => entry.name.startsWith(appConfig.model_list[0].model));
    expect(fetched).to.deep.equal([]);
    const { environment } = await service.models();
    expect(environment).to.include({ webgpu: false, shaderF16: false, cacheBackend: 'cache' });
    expect(environment.problem).to.equal(error.message);
  });

  it("offers web-llm's prebuilt SmolLM2 135M/360M and Qwen2.5 0.5B Instruct models, every quantization", async () => {
    const offline = async () => {
      throw new TypeError('Failed to fetch');
    };
    const service = new ChatService({ loadWebLLM, fetch: offline });
    const { models, environment, offline: unreachable } = await service.models();
    const { prebuiltAppConfig } = await loadWebLLM();
    const expected = prebuiltAppConfig.model_list
      .map((record) => record.model_id)
      .filter((id) => /^(SmolLM2-135M|SmolLM2-360M|Qwen2\.5-0\.5B)-Instruct-q\d/.test(id));
    expect(models.map((model) => model.id)).to.have.members(expected);
    expect(expected.length).to.be.at.least(6);
    for (const model of models) {
      expect(model.label).to.match(/^(SmolLM2 (135M|360M)|Qwen2\.5 0\.5B) Instruct \(q\d+f(16|32)(_1)?\)$/);
      expect(model.cached).to.equal(false);
      expect(model.downloadBytes).to.equal(undefined);
      expect(model.vramMB).to.be.above(0);
    }
    expect(environment.cacheBackend).to.equal('cache');
    expect(unreachable).to.equal(true);
    // The first offer is the smallest this GPU can run (not web-llm's first, a 1.7 GB one).
    const runnable = models.filter((model) => !model.disabled).map((model) => model.vramMB!);
    expect(models[0]!.vramMB).to.equal(Math.min(...runnable));
  });
});
