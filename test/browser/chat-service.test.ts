// ChatService against a fake web-llm (module, engine, network and GPU): the model
// list, load progress in bytes, streamed tokens with their alternatives, stopping,
// every error kind, the chat template's exact text, and deleting a model.
import { expect } from 'chai';
import type {
  AppConfig,
  ChatCompletionChunk,
  ChatCompletionRequestStreaming,
  InitProgressCallback,
  ModelRecord,
} from '@mlc-ai/web-llm';
import { ChatService, type ChatEngine, type ChatWebLLM } from '../../workers/chat/chat-service.ts';
import type { ChatLoadProgress, ChatMessage, ChatSettings, ChatToken } from '../../workers/api/index.ts';
import { random, randomInt, shuffle } from './seeded.ts';
import { rejection } from './wait-for.ts';

const HUB = 'https://models.test/mlc-ai/';
const LIBS = 'https://libs.test/';

function record(id: string, fields: Partial<ModelRecord> = {}): ModelRecord {
  return {
    model: `${HUB}${id}`,
    model_id: id,
    model_lib: `${LIBS}${id}.wasm`,
    vram_required_MB: 100 + random() * 900,
    ...fields,
  };
}

const F16 = { required_features: ['shader-f16'] };
/** Shaped like web-llm's prebuilt list: the small models (Qwen's f16 records lack required_features there too) among bigger ones. */
const PREBUILT: AppConfig = {
  model_list: [
    record('Llama-3.2-1B-Instruct-q4f32_1-MLC'),
    record('SmolLM2-1.7B-Instruct-q4f16_1-MLC', F16),
    record('SmolLM2-360M-Instruct-q0f16-MLC', F16),
    record('SmolLM2-360M-Instruct-q4f32_1-MLC'),
    record('SmolLM2-135M-Instruct-q0f16-MLC', F16),
    record('SmolLM2-135M-Instruct-q0f32-MLC'),
    record('Qwen2.5-0.5B-Instruct-q4f16_1-MLC'),
    record('Qwen2.5-0.5B-Instruct-q4f32_1-MLC'),
    record('Qwen2.5-1.5B-Instruct-q4f32_1-MLC'),
    record('Phi-3.5-mini-instruct-q4f32_1-MLC'),
  ],
};
const SMALL = PREBUILT.model_list.filter((r) => /^(SmolLM2-(135M|360M)|Qwen2\.5-0\.5B)-/.test(r.model_id));
const F32_MODEL = 'SmolLM2-135M-Instruct-q0f32-MLC';

/** A model's files on the fake hub: random shard sizes, a wasm with its length, and a chat config. */
interface ModelFiles {
  shards: number[];
  wasmBytes: number;
  chatConfig: unknown;
}

const fixture = async (name: string) => (await fetch(new URL(`./chat-fixtures/${name}`, import.meta.url))).json();

class FakeNetwork {
  files = new Map<string, ModelFiles>();
  offline = false;
  requests: { url: string; method: string }[] = [];
  missing = new Set<string>();

  add(id: string, chatConfig: unknown = {}): ModelFiles {
    const files = {
      shards: Array.from({ length: randomInt(2, 9) }, () => randomInt(1, 40) * 1_048_576 + randomInt(0, 9999)),
      wasmBytes: randomInt(1e6, 9e6),
      chatConfig,
    };
    this.files.set(id, files);
    return files;
  }

  fetch: typeof fetch = async (input, init) => {
    const url = String(input);
    this.requests.push({ url, method: init?.method ?? 'GET' });
    if (this.offline) throw new TypeError('Failed to fetch');
    const id = /\/([^/]+?)(?:\.wasm|\/resolve\/main\/.*)$/.exec(url)?.[1];
    const files = id === undefined ? undefined : this.files.get(id);
    if (!files || this.missing.has(url)) return new Response('Not Found', { status: 404 });
    if (url.endsWith('.wasm')) return new Response(null, { headers: { 'content-length': String(files.wasmBytes) } });
    if (url.endsWith('/tensor-cache.json')) {
      return Response.json({ records: files.shards.map((nbytes, i) => ({ dataPath: `params_shard_${i}.bin`, nbytes })) });
    }
    if (url.endsWith('/mlc-chat-config.json')) return Response.json(files.chatConfig);
    return new Response('Not Found', { status: 404 });
  };
}

interface StreamedToken {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

function randomTokens(count: number): StreamedToken[] {
  const words = ['The', ' cat', ' sat', ' on', ' a', ' mat', '.', ' It', ' was', ' warm', '!', ' very'];
  return Array.from({ length: count }, () => {
    const logits = words.map(() => random() * 6);
    const norm = Math.log(logits.reduce((sum, l) => sum + Math.exp(l), 0));
    const ranked = words.map((token, i) => ({ token, logprob: logits[i] - norm })).sort((a, b) => b.logprob - a.logprob);
    const top = ranked.slice(0, 5);
    const chosen = ranked[randomInt(0, 8)];
    // web-llm sends them most likely first; shuffled here, so the order is ours to make.
    return { token: chosen.token, logprob: chosen.logprob, top: shuffle(top) };
  });
}

/** The parts of MLCEngine the service uses, scripted by each test. */
class FakeEngine implements ChatEngine {
  appConfig?: AppConfig;
  progress?: InitProgressCallback;
  reloads: string[] = [];
  unloads = 0;
  interrupts = 0;
  requests: ChatCompletionRequestStreaming[] = [];
  /** What the next reload reports and how it ends. */
  reloadReports: { progress: number; text: string }[] = [];
  reloadFailure?: unknown;
  hangReload = false;
  /** What the next reply streams. */
  reply: StreamedToken[] = [];
  replyFinish: 'stop' | 'length' = 'stop';
  failAfter?: { tokens: number; error: unknown };
  tokenDelayMs = 0;
  private interrupted = false;
  private releaseReload?: () => void;

  setAppConfig(appConfig: AppConfig) {
    this.appConfig = appConfig;
  }
  setInitProgressCallback(callback: InitProgressCallback) {
    this.progress = callback;
  }
  async reload(modelId: string | string[]) {
    this.reloads.push(String(modelId));
    await new Promise((resolve) => setTimeout(resolve));
    for (const report of this.reloadReports) this.progress?.({ ...report, timeElapsed: 0 });
    // Like web-llm: unload() aborts a reload, which then returns quietly.
    if (this.hangReload) await new Promise<void>((resolve) => (this.releaseReload = resolve));
    if (this.reloadFailure !== undefined) throw this.reloadFailure;
  }
  async unload() {
    this.unloads++;
    this.releaseReload?.();
  }
  async interruptGenerate() {
    this.interrupts++;
    this.interrupted = true;
  }
  chat = {
    completions: {
      create: async (request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>> => {
        this.requests.push(request);
        return this.stream();
      },
    },
  };

  private async *stream(): AsyncGenerator<ChatCompletionChunk> {
    // Like web-llm: a new generation forgets earlier interrupts.
    this.interrupted = false;
    const chunk = (choice: Partial<ChatCompletionChunk.Choice> | null): ChatCompletionChunk => ({
      id: 'x',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'fake',
      choices: choice ? [{ index: 0, delta: {}, finish_reason: null, ...choice } as ChatCompletionChunk.Choice] : [],
    });
    let finish: 'stop' | 'length' | 'abort' = this.replyFinish;
    for (const [i, token] of this.reply.entries()) {
      if (this.interrupted) {
        finish = 'abort';
        break;
      }
      if (this.failAfter && i === this.failAfter.tokens) throw this.failAfter.error;
      if (this.tokenDelayMs) await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
      yield chunk({
        delta: { content: token.token, role: 'assistant' },
        logprobs: {
          content: [
            { token: token.token, bytes: [], logprob: token.logprob, top_logprobs: token.top.map((t) => ({ ...t, bytes: [] })) },
          ],
        },
      });
    }
    yield chunk({ finish_reason: finish });
    yield chunk(null);
  }
}

function fakeGPU(features: string[]): () => GPU {
  const adapter = {
    features: new Set(features),
    info: { vendor: 'fakevendor', architecture: 'fakearch', description: 'Fake GPU 9000' },
  };
  return () => ({ requestAdapter: async () => adapter }) as unknown as GPU;
}

interface Setup {
  service: ChatService;
  engine: FakeEngine;
  network: FakeNetwork;
  cached: Set<string>;
  deleted: { id: string; appConfig?: AppConfig }[];
  moduleLoads: () => number;
}

function setup(options: { gpu?: () => GPU | undefined; prebuilt?: AppConfig } = {}): Setup {
  const engine = new FakeEngine();
  const network = new FakeNetwork();
  const cached = new Set<string>();
  const deleted: Setup['deleted'] = [];
  let loads = 0;
  const module: ChatWebLLM = {
    MLCEngine: class {
      constructor() {
        return engine;
      }
    } as unknown as ChatWebLLM['MLCEngine'],
    prebuiltAppConfig: options.prebuilt ?? PREBUILT,
    TENSOR_CACHE_MANIFEST_FILENAME: 'tensor-cache.json',
    hasModelInCache: async (id) => cached.has(id),
    deleteModelAllInfoInCache: async (id, appConfig) => {
      deleted.push({ id, appConfig });
      cached.delete(id);
    },
  };
  const service = new ChatService({
    loadWebLLM: async () => (loads++, module),
    gpu: options.gpu ?? fakeGPU([]),
    fetch: network.fetch,
  });
  return { service, engine, network, cached, deleted, moduleLoads: () => loads };
}

const SETTINGS: ChatSettings = { temperature: 0.7, topP: 0.9, maxTokens: 64 };
const CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'You are a pirate.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Ahoy!' },
  { role: 'user', content: 'Where is the gold?' },
];

async function loaded(s: Setup, id = F32_MODEL, chatConfig: unknown = {}): Promise<void> {
  s.network.add(id, chatConfig);
  await s.service.load(id, () => {});
}

describe('ChatService: the model list', () => {
  it('offers the small prebuilt models, labelled, sized, with their GPU memory and whether cached; f16 ones disabled without shader-f16', async () => {
    const s = setup({ gpu: fakeGPU([]) });
    const files = new Map(SMALL.map((r) => [r.model_id, s.network.add(r.model_id)]));
    s.cached.add('SmolLM2-360M-Instruct-q4f32_1-MLC');
    const { models, environment, loaded: loadedId } = await s.service.models();

    expect(loadedId).to.equal(null);
    expect(environment).to.deep.equal({ webgpu: true, adapter: 'Fake GPU 9000', shaderF16: false, cacheBackend: 'cache' });
    expect(models.map((m) => m.id)).to.have.members(SMALL.map((r) => r.model_id));
    const byId = new Map(models.map((m) => [m.id, m]));
    expect(byId.get('SmolLM2-135M-Instruct-q0f32-MLC')!.label).to.equal('SmolLM2 135M Instruct (q0f32)');
    expect(byId.get('Qwen2.5-0.5B-Instruct-q4f16_1-MLC')!.label).to.equal('Qwen2.5 0.5B Instruct (q4f16_1)');
    for (const r of SMALL) {
      const model = byId.get(r.model_id)!;
      const f = files.get(r.model_id)!;
      expect(model.downloadBytes).to.equal(f.shards.reduce((a, b) => a + b, 0) + f.wasmBytes);
      expect(model.vramMB).to.equal(r.vram_required_MB);
      expect(model.cached).to.equal(r.model_id === 'SmolLM2-360M-Instruct-q4f32_1-MLC');
      // Qwen's f16 record has no required_features, but its kernels need shader-f16 all the same.
      const f16 = /q\df16/.test(r.model_id);
      expect(model.disabled === undefined, r.model_id).to.equal(!f16);
      if (f16)
        expect(model.disabled)
          .to.match(/shader-f16/)
          .and.match(/q4f32 or q0f32/);
    }
    // The usable ones first.
    const firstDisabled = models.findIndex((m) => m.disabled !== undefined);
    expect(models.slice(firstDisabled).every((m) => m.disabled !== undefined)).to.equal(true);
  });

  it('with shader-f16 nothing is disabled; offline the sizes are absent, and asked again later', async () => {
    const s = setup({ gpu: fakeGPU(['shader-f16']) });
    for (const r of SMALL) s.network.add(r.model_id);
    s.network.offline = true;
    const offline = await s.service.models();
    expect(offline.environment.shaderF16).to.equal(true);
    expect(offline.models.every((m) => m.disabled === undefined && m.downloadBytes === undefined)).to.equal(true);
    expect(offline.offline).to.equal(true);
    s.network.offline = false;
    const online = await s.service.models();
    expect(online.models.every((m) => (m.downloadBytes ?? 0) > 1e6)).to.equal(true);
    expect(online.offline).to.equal(false);
  });

  it('files that answer 404 leave the size unknown but are not "offline"', async () => {
    const s = setup();
    const { models, offline } = await s.service.models();
    expect(models.every((m) => m.downloadBytes === undefined)).to.equal(true);
    expect(offline).to.equal(false);
  });

  it('the default list: the models this GPU can run first, each group smallest first (the GPU memory it needs)', async () => {
    // Listed largest first, as web-llm's own list may be: its order is never the right one here.
    const prebuilt: AppConfig = {
      model_list: PREBUILT.model_list.map((r, i) => ({ ...r, vram_required_MB: 3000 - 200 * i + random() * 100 })),
    };
    const small = prebuilt.model_list.filter((r) => SMALL.some((s) => s.model_id === r.model_id));
    const ascending = (records: ModelRecord[]) => records.map((r) => r.vram_required_MB!).sort((a, b) => a - b);
    const f16 = (r: ModelRecord) => /q\df16/.test(r.model_id);
    const withoutF16 = await setup({ gpu: fakeGPU([]), prebuilt }).service.models();
    expect(withoutF16.models.map((m) => m.vramMB)).to.deep.equal([
      ...ascending(small.filter((r) => !f16(r))),
      ...ascending(small.filter(f16)),
    ]);
    const withF16 = await setup({ gpu: fakeGPU(['shader-f16']), prebuilt }).service.models();
    expect(withF16.models.map((m) => m.vramMB)).to.deep.equal(ascending(small));
  });

  it("a host page's list keeps its own order", async () => {
    const s = setup({ gpu: fakeGPU(['shader-f16']) });
    const ids = ['Big-q4f32_1-MLC', 'Middle-q4f32_1-MLC', 'Small-q4f32_1-MLC'];
    await s.service.setAppConfig({ model_list: ids.map((id, i) => record(id, { vram_required_MB: 3000 - 1000 * i })) });
    expect((await s.service.models()).models.map((m) => m.id)).to.deep.equal(ids);
  });

  it("a host page's AppConfig replaces the list (its cacheBackend too); null goes back to the default", async () => {
    const s = setup();
    const host: AppConfig = {
      model_list: [record('My-Tiny-Chat-q4f32_1-MLC'), record('Other-Model')],
      cacheBackend: 'indexeddb',
    };
    await s.service.setAppConfig(host);
    const mine = await s.service.models();
    expect(mine.models.map((m) => [m.id, m.label])).to.deep.equal([
      ['My-Tiny-Chat-q4f32_1-MLC', 'My Tiny Chat (q4f32_1)'],
      ['Other-Model', 'Other Model'],
    ]);
    expect(mine.environment.cacheBackend).to.equal('indexeddb');
    await loaded(s, 'My-Tiny-Chat-q4f32_1-MLC');
    expect(s.engine.appConfig).to.deep.equal(host);
    await s.service.setAppConfig(null);
    const back = await s.service.models();
    expect(back.models.map((m) => m.id)).to.have.members(SMALL.map((r) => r.model_id));
    expect(back.environment.cacheBackend).to.equal('cache');
  });

  it('loads web-llm only when first used, and once', async () => {
    const s = setup();
    expect(s.moduleLoads()).to.equal(0);
    await s.service.models();
    await s.service.models();
    expect(s.moduleLoads()).to.equal(1);
  });
});

describe('ChatService: loading', () => {
  it("turns web-llm's progress reports into bytes, percent and seconds", async () => {
    const s = setup();
    const files = s.network.add(F32_MODEL);
    await s.service.models(); // the shard list is read by now
    const total = files.shards.reduce((a, b) => a + b, 0);
    let fetched = 0;
    s.engine.reloadReports = [{ progress: 0, text: 'Start to fetch params' }];
    for (const [i, shard] of files.shards.entries()) {
      fetched += shard;
      s.engine.reloadReports.push({
        progress: fetched / total,
        text: `Fetching param cache[${i + 1}/${files.shards.length}]: ${Math.ceil(fetched / 1048576)}MB fetched. ${Math.floor((fetched * 100) / total)}% completed, 1 secs elapsed.`,
      });
    }
    s.engine.reloadReports.push({ progress: 1, text: 'Finish loading on WebGPU - fake' });
    const reports: ChatLoadProgress[] = [];
    await s.service.load(F32_MODEL, (report) => reports.push(report));

    expect(reports.map((r) => r.text)).to.deep.equal(s.engine.reloadReports.map((r) => r.text));
    expect(reports[0].loadedBytes).to.equal(undefined);
    let sum = 0;
    files.shards.forEach((shard, i) => {
      sum += shard;
      expect(reports[i + 1]).to.include({ loadedBytes: sum, totalBytes: total, progress: sum / total });
    });
    expect(reports.at(-1)).to.include({ progress: 1 });
    for (let i = 1; i < reports.length; i++) expect(reports[i].seconds).to.be.at.least(reports[i - 1].seconds);
    expect((await s.service.models()).loaded).to.equal(F32_MODEL);
    expect(s.engine.reloads).to.deep.equal([F32_MODEL]);
  });

  it('without the shard list, the total comes from the MB in the text and the progress', async () => {
    const s = setup();
    s.network.offline = true;
    const mb = randomInt(20, 400);
    const progress = random() * 0.8 + 0.1;
    s.engine.reloadReports = [
      { progress, text: `Loading model from cache[3/9]: ${mb}MB loaded. 40% completed, 2 secs elapsed.` },
    ];
    const reports: ChatLoadProgress[] = [];
    await s.service.load(F32_MODEL, (report) => reports.push(report));
    expect(reports[0].totalBytes).to.be.closeTo((mb * 1048576) / progress, 1);
    expect(reports[0].loadedBytes).to.be.closeTo(mb * 1048576, 1);
  });
});

describe('ChatService: errors', () => {
  it('no navigator.gpu: NoWebGPU, before web-llm loads anything', async () => {
    const s = setup({ gpu: () => undefined });
    const error = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(error.name).to.equal('NoWebGPU');
    expect(error.message)
      .to.match(/no WebGPU/)
      .and.match(/Chrome or Edge/);
    expect(s.engine.reloads).to.deep.equal([]);
    const { environment } = await s.service.models();
    expect(environment).to.deep.include({ webgpu: false, problem: error.message });
  });

  it('no adapter: NoAdapter', async () => {
    const s = setup({ gpu: () => ({ requestAdapter: async () => null }) as unknown as GPU });
    const error = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(error.name).to.equal('NoAdapter');
    expect(error.message)
      .to.match(/WebGPU/)
      .and.match(/hardware acceleration/);
    expect(s.engine.reloads).to.deep.equal([]);
  });

  it('an f16 model without shader-f16: NeedsShaderF16, naming the way out', async () => {
    const s = setup({ gpu: fakeGPU([]) });
    for (const id of ['SmolLM2-360M-Instruct-q0f16-MLC', 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC']) {
      const error = await rejection(s.service.load(id, () => {}));
      expect(error.name).to.equal('NeedsShaderF16');
      expect(error.message)
        .to.match(/shader-f16/)
        .and.match(/q4f32 or q0f32/);
    }
    expect(s.engine.reloads).to.deep.equal([]);
    // With shader-f16 it loads.
    const f16 = setup({ gpu: fakeGPU(['shader-f16']) });
    await loaded(f16, 'SmolLM2-360M-Instruct-q0f16-MLC');
  });

  it("web-llm's DeviceLostError while loading: OutOfMemory, with the memory it needs", async () => {
    const s = setup();
    s.network.add(F32_MODEL);
    const lost = new Error('The WebGPU device was lost while loading the model.');
    lost.name = 'DeviceLostError';
    s.engine.reloadFailure = lost;
    const error = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(error.name).to.equal('OutOfMemory');
    const vram = Math.round(SMALL.find((r) => r.model_id === F32_MODEL)!.vram_required_MB!);
    expect(error.message)
      .to.include(`${vram} MB`)
      .and.match(/smaller model/);
    expect((await s.service.models()).loaded).to.equal(null);
  });

  it("the Cache API's failed add() on a 404: ModelFilesMissing, naming the missing file", async () => {
    const s = setup();
    s.engine.reloadFailure = new TypeError("Failed to execute 'add' on 'Cache': Request failed");
    // No files at all: the config is the first one web-llm asks for.
    const noFiles = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(noFiles.name).to.equal('ModelFilesMissing');
    expect(noFiles.message).to.include(`${HUB}${F32_MODEL}/resolve/main/mlc-chat-config.json answered 404`);
    // The config is there, the model library is not.
    s.network.add(F32_MODEL);
    s.network.missing.add(`${LIBS}${F32_MODEL}.wasm`);
    const noWasm = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(noWasm.name).to.equal('ModelFilesMissing');
    expect(noWasm.message).to.include(`${LIBS}${F32_MODEL}.wasm answered 404`);
  });

  it('offline: NetworkUnreachable, naming the host', async () => {
    const s = setup();
    s.network.offline = true;
    s.engine.reloadFailure = new TypeError('Failed to fetch');
    const error = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(error.name).to.equal('NetworkUnreachable');
    expect(error.message)
      .to.include('models.test')
      .and.match(/internet connection/);
  });

  it("the browser's quota: StorageFull", async () => {
    const s = setup();
    s.network.add(F32_MODEL);
    s.engine.reloadFailure = new DOMException('Quota exceeded.', 'QuotaExceededError');
    const error = await rejection(s.service.load(F32_MODEL, () => {}));
    expect(error.name).to.equal('StorageFull');
    expect(error.message)
      .to.match(/no room/)
      .and.match(/Delete a downloaded model/);
  });

  it('deleting the model while it loads: the load ends Interrupted, the engine unloads, the cache is emptied', async () => {
    const s = setup();
    s.network.add(F32_MODEL);
    s.engine.hangReload = true;
    const loading = rejection(s.service.load(F32_MODEL, () => {}));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await s.service.delete(F32_MODEL);
    const error = await loading;
    expect(error.name).to.equal('Interrupted');
    expect(error.message).to.match(/Loading SmolLM2 135M Instruct \(q0f32\) stopped part way/);
    expect(s.engine.unloads).to.equal(1);
    expect(s.deleted.map((d) => d.id)).to.deep.equal([F32_MODEL]);
    expect((await s.service.models()).loaded).to.equal(null);
  });

  it('an aborted fetch: Interrupted', async () => {
    const s = setup();
    s.network.add(F32_MODEL);
    s.engine.reloadFailure = new DOMException('The operation was aborted.', 'AbortError');
    expect((await rejection(s.service.load(F32_MODEL, () => {}))).name).to.equal('Interrupted');
  });

  it('chatting or asking for the prompt before loading: NoModelLoaded', async () => {
    const s = setup();
    expect((await rejection(s.service.reply(CONVERSATION, SETTINGS, () => {}))).name).to.equal('NoModelLoaded');
    expect((await rejection(s.service.prompt(CONVERSATION))).name).to.equal('NoModelLoaded');
  });

  it('the device lost mid-reply: OutOfMemory and the model unloaded; another failure: Interrupted, still loaded', async () => {
    const s = setup();
    await loaded(s);
    s.engine.reply = randomTokens(6);
    s.engine.failAfter = { tokens: 2, error: new Error('Device was lost. This can happen due to insufficient memory.') };
    const tokens: ChatToken[] = [];
    const lost = await rejection(s.service.reply(CONVERSATION, SETTINGS, (token) => tokens.push(token)));
    expect(lost.name).to.equal('OutOfMemory');
    expect(tokens.length).to.equal(2);
    expect((await s.service.models()).loaded).to.equal(null);

    await loaded(s);
    s.engine.failAfter = { tokens: 3, error: new Error('something odd') };
    const odd = await rejection(s.service.reply(CONVERSATION, SETTINGS, () => {}));
    expect(odd.name).to.equal('Interrupted');
    expect(odd.message).to.include('something odd');
    expect((await s.service.models()).loaded).to.equal(F32_MODEL);
  });
});

describe('ChatService: chatting', () => {
  it('streams every token with its probability and the likeliest alternatives, most likely first', async () => {
    const s = setup();
    await loaded(s);
    const script = randomTokens(randomInt(5, 12));
    s.engine.reply = script;
    const streamed: ChatToken[] = [];
    const reply = await s.service.reply(CONVERSATION, SETTINGS, (token) => streamed.push(token));

    expect(s.engine.requests[0]).to.deep.equal({
      messages: CONVERSATION,
      stream: true,
      logprobs: true,
      top_logprobs: 5,
      temperature: SETTINGS.temperature,
      top_p: SETTINGS.topP,
      max_tokens: SETTINGS.maxTokens,
      stream_options: { include_usage: true },
    });
    expect(reply.finish).to.equal('stop');
    expect(reply.text).to.equal(script.map((t) => t.token).join(''));
    expect(reply.tokens).to.deep.equal(streamed);
    expect(streamed.length).to.equal(script.length);
    streamed.forEach((token, i) => {
      expect(token.token).to.equal(script[i].token);
      expect(token.logprob).to.equal(script[i].logprob);
      expect(token.prob).to.be.closeTo(Math.exp(script[i].logprob), 1e-12);
      const expected = [...script[i].top].sort((a, b) => b.logprob - a.logprob);
      expect(token.alternatives.map((a) => a.token)).to.deep.equal(expected.map((a) => a.token));
      for (const alternative of token.alternatives) expect(alternative.prob).to.be.closeTo(Math.exp(alternative.logprob), 1e-12);
      expect(token.alternatives[0].prob).to.be.at.least(token.alternatives.at(-1)!.prob);
    });
  });

  it("maxTokens reached: finish 'length'", async () => {
    const s = setup();
    await loaded(s);
    s.engine.reply = randomTokens(4);
    s.engine.replyFinish = 'length';
    expect((await s.service.reply(CONVERSATION, SETTINGS, () => {})).finish).to.equal('length');
  });

  it("stop() mid-reply: finish 'abort', fewer tokens, the engine interrupted", async () => {
    const s = setup();
    await loaded(s);
    s.engine.reply = randomTokens(50);
    s.engine.tokenDelayMs = 2;
    let count = 0;
    const reply = await s.service.reply(CONVERSATION, SETTINGS, () => {
      if (++count === 3) void s.service.stop();
    });
    expect(reply.finish).to.equal('abort');
    expect(reply.tokens.length).to.be.within(3, 5);
    expect(reply.text).to.equal(reply.tokens.map((t) => t.token).join(''));
    expect(s.engine.interrupts).to.equal(1);
  });

  it("stop() before the first token (web-llm forgets that interrupt): still 'abort'", async () => {
    const s = setup();
    await loaded(s);
    s.engine.reply = randomTokens(50);
    const replying = s.service.reply(CONVERSATION, SETTINGS, () => {});
    await s.service.stop();
    const reply = await replying;
    expect(reply.finish).to.equal('abort');
    expect(reply.tokens.length).to.be.at.most(1);
  });
});

describe('ChatService: the text the model receives', () => {
  it('a chatml template (SmolLM2): system, turns, and the assistant prefix; the default system prompt without one', async () => {
    const s = setup();
    await loaded(s, F32_MODEL, await fixture('chatml-chat-config.json'));
    expect(await s.service.prompt(CONVERSATION)).to.equal(
      '<|im_start|>system\nYou are a pirate.<|im_end|>\n' +
        '<|im_start|>user\nHi<|im_end|>\n' +
        '<|im_start|>assistant\nAhoy!<|im_end|>\n' +
        '<|im_start|>user\nWhere is the gold?<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    expect(await s.service.prompt([{ role: 'user', content: 'Hi' }])).to.equal(
      '<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('a Llama 3 template', async () => {
    const s = setup();
    await loaded(s, F32_MODEL, await fixture('llama3-chat-config.json'));
    expect(await s.service.prompt([{ role: 'user', content: 'Hi' }])).to.equal(
      '<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful, respectful and honest assistant.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it("a template with role templates, alternating separators, web-llm's default ': ', no role after the system prompt, and conv_config over it", async () => {
    const s = setup();
    await loaded(s, F32_MODEL, await fixture('plain-chat-config.json'));
    const [, ...turns] = CONVERSATION;
    expect(await s.service.prompt([{ role: 'system', content: 'Be brief.' }, ...turns])).to.equal(
      '[SYSTEM] Be brief.\n"Hi" ASSISTANT: Ahoy!</s>USER: "Where is the gold?" ASSISTANT: ',
    );
    // An empty system message is not rendered, so the first turn keeps its role.
    expect(await s.service.prompt(turns)).to.equal('USER: "Hi" ASSISTANT: Ahoy!</s>USER: "Where is the gold?" ASSISTANT: ');
  });

  it("the model record's overrides count, as in web-llm", async () => {
    const s = setup();
    const id = 'Pirate-Chat-q4f32_1-MLC';
    await s.service.setAppConfig({ model_list: [record(id, { overrides: { conv_config: { system_message: 'Arr.' } } })] });
    await loaded(s, id, await fixture('chatml-chat-config.json'));
    expect(await s.service.prompt([{ role: 'user', content: 'Hi' }])).to.match(/^<\|im_start\|>system\nArr\.<\|im_end\|>\n/);
  });
});

describe('ChatService: deleting', () => {
  it("unloads the loaded model, then removes it from web-llm's cache with the list's AppConfig", async () => {
    const s = setup();
    await loaded(s);
    s.cached.add(F32_MODEL);
    await s.service.delete(F32_MODEL);
    expect(s.engine.unloads).to.equal(1);
    expect(s.deleted).to.have.length(1);
    expect(s.deleted[0].id).to.equal(F32_MODEL);
    expect(s.deleted[0].appConfig!.model_list.map((r) => r.model_id)).to.include(F32_MODEL);
    const after = await s.service.models();
    expect(after.loaded).to.equal(null);
    expect(after.models.find((m) => m.id === F32_MODEL)!.cached).to.equal(false);
    expect((await rejection(s.service.reply(CONVERSATION, SETTINGS, () => {}))).name).to.equal('NoModelLoaded');
  });

  it('a model that is not loaded is removed without unloading the one that is', async () => {
    const s = setup();
    await loaded(s);
    await s.service.delete('Qwen2.5-0.5B-Instruct-q4f32_1-MLC');
    expect(s.engine.unloads).to.equal(0);
    expect(s.deleted.map((d) => d.id)).to.deep.equal(['Qwen2.5-0.5B-Instruct-q4f32_1-MLC']);
    expect((await s.service.models()).loaded).to.equal(F32_MODEL);
  });
});
