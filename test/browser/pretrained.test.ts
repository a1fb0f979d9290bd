// The pretrained loading path (workers/areas/pretrained.ts, workers/pretrained/*) on a GPT-2-shaped
// small model the dev server makes (test/gpt2-test-files.mjs): Hugging Face names with the
// `transformer.` prefix and the attn.bias buffers, no lm_head, GPT-2's own 50,257-token vocabulary.
// The streamed load must equal readCheckpoint of the same file, the tokenizer must be GPT-2's, and
// each wrong file is refused with what is wrong, nothing of it left kept.
import { config as chaiConfig, expect } from 'chai';
import { promisifyRequest } from 'idb-keyval';
import { encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';
import type { PretrainedProgress } from '../../workers/api/index.ts';
import { readCheckpoint } from '../../workers/engine/checkpoint.ts';
import { forward } from '../../workers/engine/model.ts';
import { WeightsStream } from '../../workers/pretrained/weights-stream.ts';
import { baseUrl, control, fileBytes, TEST_CONFIG, testEngines, testSource } from './pretrained-helpers.ts';
import { randomInt } from './seeded.ts';
import { engineClients } from './engine-clients.ts';
import { rejection, waitFor } from './wait-for.ts';

chaiConfig.truncateThreshold = 0;

describe('pretrained models: the loading path', function () {
  this.timeout(120_000);
  const makeEngine = testEngines();
  const makeClient = engineClients();

  it('streams the weights in parts of any size into the same buffer readCheckpoint makes (F32 and F16)', async () => {
    for (const dtype of ['F32', 'F16']) {
      const bytes = (await fileBytes({ dtype, seed: 7 }))['model.safetensors']!;
      const reference = readCheckpoint(bytes, { config: TEST_CONFIG });
      const stream = new WeightsStream(bytes.length, TEST_CONFIG);
      // Parts from 1 byte (a value split over up to four parts) to 64 kB, so boundaries fall everywhere.
      for (let at = 0; at < bytes.length;) {
        const size = randomInt(0, 3) === 0 ? randomInt(1, 7) : randomInt(1, 65_536);
        stream.push(bytes.subarray(at, at + size));
        at += size;
      }
      const { config, params } = stream.finish();
      expect(config, dtype).to.deep.equal(reference.config);
      expect(params.data.length, dtype).to.equal(reference.params.data.length);
      const first = params.data.findIndex((value, i) => !Object.is(value, reference.params.data[i]));
      expect(first, `${dtype}: first weight that differs`).to.equal(-1);
    }
  });

  it('opens the model: its logits equal readCheckpoint of the same file, its tokenizer is GPT-2’s', async () => {
    const { engine } = await makeEngine();
    const options = { seed: 3 };
    const files = await fileBytes(options);
    await engine.pretrained.setSources([testSource(baseUrl(options))]);
    const info = await engine.pretrained.open('tiny');
    expect(info.pretrained).to.equal('tiny');
    expect(info.name).to.equal('Tiny GPT-2');
    expect(info.config).to.deep.include({ vocabSize: 50257, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 32, tied: true });
    expect(info.weights).to.equal('trained');

    expect((await engine.model.tokenize('Hello world')).ids).to.deep.equal([15496, 995]);
    const texts = [
      ' The quick brown fox',
      "it's 2024, isn't it?",
      'naïve café — déjà vu',
      '   spaces  and\ttabs\n\nlines',
      '日本語のテキスト',
      '🙂 emoji 👍🏽',
    ];
    for (let i = 0; i < 40; i++) {
      texts.push(Array.from({ length: randomInt(1, 30) }, () => String.fromCodePoint(randomInt(32, 0x2fff))).join(''));
    }
    for (const text of texts) {
      const { ids } = await engine.model.tokenize(text);
      expect(ids, JSON.stringify(text)).to.deep.equal(referenceEncode(text).slice(-64));
    }

    const reference = readCheckpoint(files['model.safetensors']!, { config: TEST_CONFIG });
    const ids = Array.from({ length: 20 }, () => randomInt(0, 50256));
    const { logits } = await engine.model.forward(ids);
    const expected = forward(reference.params, ids).logits;
    expect(logits.length).to.equal(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - expected[i]!));
    expect(worst, 'largest logit difference').to.be.at.most(1e-5);
  });

  it('opening the model in use answers at once, without a request', async () => {
    const { engine } = await makeEngine();
    const tag = `again-${crypto.randomUUID()}`;
    await engine.pretrained.setSources([testSource(baseUrl({ tag }))]);
    await engine.pretrained.open('tiny');
    const before = (await control(tag)).requests.length;
    const info = await engine.pretrained.open('tiny');
    expect(info.pretrained).to.equal('tiny');
    expect((await control(tag)).requests.length).to.equal(before);
  });

  it('gives up on a download that stops sending, as other downloads do, and keeps what came', async () => {
    const { engine } = await makeEngine({ timeoutMs: 1000 });
    await engine.pretrained.setSources([testSource(baseUrl({ seed: 4, chunk: 1_000_000, delay: 5_000 }))]);
    const error = await rejection(engine.pretrained.open('tiny'));
    expect(error.message).to.match(
      /^Tiny GPT-2 could not be opened: .*\/model\.safetensors stopped sending after [\d.]+ MB: nothing more came for 1 s\. Try again later\.$/,
    );
    expect((await engine.pretrained.list()).models[0]!.state).to.equal('partial');
  });

  it('works in the worker through the page’s client: progress crosses over, and it is deleted', async () => {
    const client = makeClient();
    await client.library.useDatabase(`test-library-${crypto.randomUUID()}`);
    await client.pretrained.setSources([testSource(baseUrl({ seed: 5 }), 0, `worker-${crypto.randomUUID()}`)]);
    const { models } = await client.pretrained.list();
    const id = models[0]!.id;
    const reports: PretrainedProgress[] = [];
    try {
      const info = await client.pretrained.open(id, (progress) => reports.push(progress));
      expect(info).to.deep.include({ pretrained: id, name: 'Tiny GPT-2' });
      await waitFor(() => reports.at(-1)?.file === 'model.safetensors', 'the last report');
      expect(reports.at(-1)!.loaded).to.equal(reports.at(-1)!.total);
    } finally {
      await client.pretrained.delete(id);
    }
    expect((await client.pretrained.list()).models[0]).to.deep.include({ state: 'none', storedBytes: 0 });
  });

  it('a file kept whole whose end was not marked (the tab closed in between) is not fetched again', async () => {
    const dbName = `test-pretrained-${crypto.randomUUID()}`;
    const tag = `unmarked-${crypto.randomUUID()}`;
    const first = await makeEngine({ dbName });
    await first.engine.pretrained.setSources([testSource(baseUrl({ seed: 6, tag }))]);
    await first.engine.pretrained.open('tiny');
    const manifest = (await first.store.manifest('tiny'))!;
    const weights = manifest.files['model.safetensors']!;
    expect(weights).to.deep.include({ complete: true, stored: weights.size });
    manifest.files['model.safetensors'] = { ...weights, complete: false };
    const db = await promisifyRequest(indexedDB.open(dbName));
    const tx = db.transaction('manifests', 'readwrite');
    tx.objectStore('manifests').put(manifest);
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    await control(tag, { offline: '1' });
    const requests = (await control(tag)).requests.length;
    const second = await makeEngine({ dbName });
    await second.engine.pretrained.setSources([testSource(baseUrl({ seed: 6, tag }))]);
    expect((await second.engine.pretrained.list()).models[0]!.state).to.equal('partial');
    expect((await second.engine.pretrained.open('tiny')).pretrained).to.equal('tiny');
    expect((await control(tag)).requests.length, 'requests').to.equal(requests);
    expect((await second.engine.pretrained.list()).models[0]!.state).to.equal('stored');
  });

  const refusals: [string, Record<string, string>, RegExp][] = [
    [
      'a missing file',
      { missing: 'vocab.json' },
      /^Tiny GPT-2 could not be opened: vocab\.json is missing: .*\/vocab\.json answered 404 Not Found\. Check the model's address\.$/,
    ],
    [
      'a web page instead of the weights',
      { html: 'model.safetensors' },
      /^Tiny GPT-2 could not be opened: .*\/model\.safetensors is a web page \(HTML\), not weights: check the model's address/,
    ],
    [
      'a web page instead of config.json',
      { html: 'config.json' },
      /^Tiny GPT-2 could not be opened: .*\/config\.json is a web page \(HTML\), not JSON/,
    ],
    [
      'a config wider than the weights',
      { set: 'n_embd:48' },
      /model\.safetensors is refused: tensor transformer\.wte\.weight has shape \[50257,\s?32\] but the config needs \[50257,\s?48\]\.$/,
    ],
    [
      'a config with more layers than the weights',
      { set: 'n_layer:3' },
      /model\.safetensors is refused: tensors do not match the config .*: missing h\.2\.ln_1\.weight/,
    ],
    [
      'a vocabulary of another size',
      { vocabsize: '50000' },
      /^Tiny GPT-2 could not be opened: vocab\.json has 50,000 tokens but config\.json says vocab_size 50,257: they are not the files of one model\.$/,
    ],
  ];
  for (const [what, options, message] of refusals) {
    it(`refuses ${what}, saying what is wrong; nothing of it stays kept and the model in use stays`, async () => {
      const { engine } = await makeEngine();
      await engine.pretrained.setSources([testSource(baseUrl(options))]);
      const before = await engine.model.info();
      const error = await rejection(engine.pretrained.open('tiny'));
      expect(error.message).to.match(message);
      const { models } = await engine.pretrained.list();
      expect(models[0]).to.deep.include({ id: 'tiny', state: 'none', storedBytes: 0 });
      expect((await engine.model.info()).name).to.equal(before.name);
    });
  }
});
