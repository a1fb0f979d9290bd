// A GPU lost in the middle of a generation with the KV cache: the CPU goes on
// from the tokens drawn so far, and the text is the one the CPU alone writes.
import { expect } from 'chai';
import type { EngineApi, StreamedToken } from '../../workers/api/index.ts';
import { createEngine } from '../../workers/engine.ts';
import { type GPUContext, requestGPU } from '../../workers/engine/webgpu/device.ts';

const TRAINED_MODEL = new URL('/public/default-model.safetensors', location.href).href;
const PROMPT = 'The capital of France is';
const GREEDY = { temperature: 0, maxTokens: 24, seed: 1 };

describe('WebGPU generation falling back to the CPU', function () {
  this.timeout(180_000);

  before(async function () {
    if (!(await requestGPU())) this.skip();
  });

  it('a device lost after a few cached steps: the CPU continues the same text, and the backend says why', async () => {
    const cpu = createEngine({ findGPU: async () => null });
    await cpu.model.loadCheckpoint(TRAINED_MODEL);
    const expected = await cpu.model.generate(PROMPT, GREEDY, () => {});

    let gpu: GPUContext | null = null;
    const service: EngineApi = createEngine({ findGPU: async () => (gpu = await requestGPU()) });
    await service.model.loadCheckpoint(TRAINED_MODEL);
    expect((await service.backend.choose('webgpu')).active).to.equal('webgpu');
    // A first generation on the GPU: the same text.
    expect((await service.model.generate(PROMPT, GREEDY, () => {})).text).to.equal(expected.text);

    const streamed: StreamedToken[] = [];
    const result = await service.model.generate(PROMPT, GREEDY, (token) => {
      streamed.push(token);
      // After the prompt's forward and a few cached steps, the device goes.
      if (streamed.length === 5) gpu!.device.destroy();
    });
    expect(result.text).to.equal(expected.text);
    expect(streamed.map((token) => token.id)).to.deep.equal(expected.ids);
    expect(result.stopped).to.equal(false);
    const info = await service.backend.info();
    expect(info.active).to.equal('cpu');
    expect(info.reason).to.match(/GPU was lost.*the CPU took over/);
  });
});
