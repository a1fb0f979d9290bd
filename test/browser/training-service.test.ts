// The engine worker as a trainer, through the real client: the starting checkpoint.
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import { writeCheckpoint } from '../../workers/engine/checkpoint.ts';
import { DEFAULT_CONFIG } from '../../workers/engine/defaults.ts';
import { createParameters } from '../../workers/engine/params.ts';
import { Random } from '../../workers/engine/random.ts';
import { CharTokenizer } from '../../workers/engine/tokenizer.ts';

/** A Blob URL serving `bytes`, as a web server would serve a .safetensors file. */
const serveBytes = (bytes: Uint8Array): string => URL.createObjectURL(new Blob([bytes as BlobPart]));

describe('starting checkpoint', () => {
  const random = new Random(4242);

  it('opens with the checkpoint at modelUrl: its config, vocabulary and weights', async () => {
    const tokenizer = CharTokenizer.fromText('the quick brown fox jumps');
    const config = { vocabSize: tokenizer.size, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8, tied: false };
    const { vocabSize: V, nEmbd: C } = config;
    // Attention and MLP weights all zero: each block adds nothing, so the logits are
    // LayerNorm(wte[id] + wpe[t]) · lmHeadᵀ, which the test computes itself.
    const params = createParameters(config);
    for (const name of ['wte', 'wpe', 'lnfw', 'lnfb', 'lmHead'] as const) random.fillNormal(params[name], 0.5);
    const url = serveBytes(writeCheckpoint({ config, params, tokenizer }));
    const client = new EngineClient({ modelUrl: url });
    try {
      const info = await client.info();
      expect(info.config).to.deep.equal(config);
      expect(info.vocabulary).to.deep.equal([...tokenizer.vocab]);
      expect(info).to.include({ weights: 'trained', step: 0, checkpoint: url.slice(url.lastIndexOf('/') + 1) });
      expect(info.notice).to.equal(undefined);

      const ids = Array.from({ length: 5 }, () => random.int(V));
      const { logits } = await client.forward(ids);
      ids.forEach((id, t) => {
        const x = Array.from({ length: C }, (_, c) => params.wte[id * C + c]! + params.wpe[t * C + c]!);
        const mean = x.reduce((a, b) => a + b, 0) / C;
        const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
        const normed = x.map((v, c) => ((v - mean) / Math.sqrt(variance + 1e-5)) * params.lnfw[c]! + params.lnfb[c]!);
        for (let v = 0; v < V; v++) {
          const expected = normed.reduce((sum, n, c) => sum + n * params.lmHead[v * C + c]!, 0);
          expect(logits[t * V + v]).to.be.closeTo(expected, 1e-4);
        }
      });
    } finally {
      client.terminate();
      URL.revokeObjectURL(url);
    }
  });

  it('falls back to random weights with a notice when the file is not a checkpoint', async () => {
    const url = serveBytes(new TextEncoder().encode('<!doctype html><p>Not found</p>'));
    const client = new EngineClient({ modelUrl: url });
    try {
      const info = await client.info();
      expect(info.config).to.deep.equal(DEFAULT_CONFIG);
      expect(info.weights).to.equal('random');
      expect(info.notice).to.match(/could not be loaded .* random weights/);
    } finally {
      client.terminate();
      URL.revokeObjectURL(url);
    }
  });

  it('falls back with a notice naming the status when the file is missing', async () => {
    const url = new URL('/no-such-model.safetensors', location.href).href;
    const client = new EngineClient({ modelUrl: url });
    try {
      const info = await client.info();
      expect(info.weights).to.equal('random');
      expect(info.notice).to.contain('no-such-model.safetensors').and.match(/404/);
    } finally {
      client.terminate();
    }
  });
});
