// <llm-chat-panel> against an in-memory chat area at the contract's boundary
// (workers/api/chat.ts): the model list and the browser's WebGPU, loading
// with progress, deleting from the cache, the system prompt and the template
// text, streaming, stopping, each token's alternatives, the settings sent,
// every error kind in role=alert with a working Retry, and the keyboard.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { AppConfig } from '@mlc-ai/web-llm';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/chat-panel.ts';
import type { ChatPanel, ChatPanelClient } from '../../src/elements/chat-panel.ts';
import type {
  ChatAlternative,
  ChatEnvironment,
  ChatErrorKind,
  ChatLoadProgress,
  ChatMessage,
  ChatModelInfo,
  ChatToken,
} from '../../workers/api/index.ts';
import { pick, random, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element: it must have every method the element calls.
const engineClientFits: EngineClient extends ChatPanelClient ? true : never = true;

const MB = 1024 * 1024;
// A word list, twelve words a line.
// prettier-ignore
const WORDS = [
  'otter', 'lantern', 'harbour', 'quartz', 'meadow', 'cobalt', 'fable', 'juniper', 'tundra', 'saffron', 'ember', 'willow',
];
const ERROR_KINDS: ChatErrorKind[] = [
  'NoWebGPU',
  'NoAdapter',
  'NeedsShaderF16',
  'OutOfMemory',
  'ModelFilesMissing',
  'NetworkUnreachable',
  'StorageFull',
  'Interrupted',
  'NoModelLoaded',
];

const randomWord = (): string => pick(WORDS);
const randomSentence = (words = randomInt(3, 8)): string => Array.from({ length: words }, randomWord).join(' ');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function randomModel(overrides: Partial<ChatModelInfo> = {}): ChatModelInfo {
  const name = `${randomWord()}-${randomInt(100, 999)}M`;
  return {
    id: `${name}-Instruct-q4f32_1-MLC`,
    label: `${name} Instruct (q4f32)`,
    downloadBytes: randomInt(20 * MB, 900 * MB),
    vramMB: randomInt(200, 3000) + random(),
    cached: false,
    ...overrides,
  };
}

/** A generated token: the drawn one among 3–6 alternatives with decreasing probabilities that add up to less than 1. */
function randomToken(): ChatToken {
  const count = randomInt(3, 7);
  let left = 0.5 + random() * 0.45;
  const alternatives: ChatAlternative[] = Array.from({ length: count }, (_, index) => {
    const prob = left * (0.4 + random() * 0.4);
    left -= prob;
    const token = index === 0 && random() < 0.15 ? '\n' : `${random() < 0.7 ? ' ' : ''}${randomWord()}${index}`;
    return { token, logprob: Math.log(prob), prob };
  });
  const drawn = alternatives[randomInt(0, count)]!;
  return { ...drawn, alternatives };
}

const chatError = (kind: string, message: string): Error => Object.assign(new Error(message), { name: kind });

type Chat = ChatPanelClient['chat'];
type Method = keyof Chat;

/**
 * Keeps the models in memory and records every call. A method fails once, with a named error, on request;
 * loads can be held (reporting progress by hand) until released; replies stream a token every `tokenDelayMs`.
 */
class FakeChat implements ChatPanelClient {
  readonly calls: { method: Method; args: unknown[] }[] = [];
  readonly failures: Partial<Record<Method, { kind: string; message: string }>> = {};
  models: ChatModelInfo[];
  environment: ChatEnvironment;
  loaded: string | null = null;
  /** The models' files could not be reached (no network). */
  offline = false;
  /** The tokens of the next reply. */
  reply: ChatToken[] = Array.from({ length: randomInt(5, 12) }, randomToken);
  tokenDelayMs = 0;
  /** The text chat.prompt answers. */
  template = '';
  private onProgress: ((progress: ChatLoadProgress) => unknown) | null = null;
  private stopped = false;
  private gate: Promise<void> = Promise.resolve();
  private open = () => {};

  constructor(models?: ChatModelInfo[], environment: Partial<ChatEnvironment> = {}) {
    const disabled = `Needs shader-f16, which ${randomWord()} GPU lacks.`;
    this.models = models ?? [randomModel(), randomModel({ cached: true }), randomModel({ disabled })];
    const adapter = `${randomWord()} GPU ${randomInt(100, 999)}`;
    this.environment = { webgpu: true, adapter, shaderF16: false, cacheBackend: 'cache', ...environment };
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  /** A progress report for the load being held. */
  report(progress: ChatLoadProgress): void {
    this.onProgress!(progress);
  }

  failOnce(method: Method, kind: string): string {
    const message = `${randomSentence()} (${randomInt(1000, 9999)}): ${randomSentence()}.`;
    this.failures[method] = { kind, message };
    return message;
  }

  called(method: Method): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  private async enter(method: Method, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    const failure = this.failures[method];
    if (!failure) return;
    delete this.failures[method];
    throw chatError(failure.kind, failure.message);
  }

  /** The chat area, as the panel calls it. */
  readonly chat: Chat = {
    models: async () => {
      await this.enter('models');
      return structuredClone({ models: this.models, environment: this.environment, loaded: this.loaded, offline: this.offline });
    },
    setAppConfig: async (appConfig) => {
      await this.enter('setAppConfig', appConfig);
      if (appConfig)
        this.models = appConfig.model_list.map((record) => randomModel({ id: record.model_id, label: record.model_id }));
    },
    load: async (id, onProgress) => {
      this.onProgress = onProgress;
      await this.enter('load', id);
      await this.gate;
      this.loaded = id;
      this.models = this.models.map((model) => (model.id === id ? { ...model, cached: true } : model));
    },
    prompt: async (messages) => {
      await this.enter('prompt', messages);
      return this.template;
    },
    reply: async (messages, settings, onToken) => {
      await this.enter('reply', structuredClone(messages), { ...settings });
      this.stopped = false;
      const tokens: ChatToken[] = [];
      for (const token of this.reply) {
        if (this.tokenDelayMs) await sleep(this.tokenDelayMs);
        if (this.stopped) break;
        tokens.push(token);
        onToken(token);
      }
      return { text: tokens.map((token) => token.token).join(''), tokens, finish: this.stopped ? 'abort' : 'stop' };
    },
    stop: async () => {
      await this.enter('stop');
      this.stopped = true;
    },
    delete: async (id) => {
      await this.enter('delete', id);
      if (this.loaded === id) this.loaded = null;
      this.models = this.models.map((model) => (model.id === id ? { ...model, cached: false } : model));
    },
  };
}

describe('<llm-chat-panel>', function () {
  let panel: ChatPanel;
  let client: FakeChat;
  const root = () => panel.shadowRoot!;
  const part = <E extends HTMLElement = HTMLElement>(name: string, within: ParentNode = root()) =>
    within.querySelector<E>(`[part~="${name}"]`);
  const text = (element: Element | null | undefined) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
  const row = (id: string) => root().querySelector<HTMLLIElement>(`[part~="model"][data-id="${id}"]`);
  const inRow = <E extends HTMLElement = HTMLButtonElement>(id: string, name: string) =>
    row(id) ? part<E>(name, row(id)!) : null;
  const messages = () => [...root().querySelectorAll<HTMLLIElement>('[part~="message"]')];
  const lastReply = () => messages().at(-1)!.querySelector('llm-chat-reply')!;
  /** The tokens of the last reply (none before there is one). */
  const tokenButtons = () => {
    const reply = messages().at(-1)?.querySelector('llm-chat-reply');
    return [...(reply?.shadowRoot?.querySelectorAll<HTMLButtonElement>('[part~="token"]') ?? [])];
  };
  const input = () => part<HTMLTextAreaElement>('message-input')!;
  /** "What the model receives": <llm-chat-template>, and a part inside it. */
  const templateElement = () => root().querySelector('llm-chat-template')!;
  const inTemplate = (name: string) => part(name, templateElement().shadowRoot!);
  const openTemplate = () => inTemplate('template')!.querySelector('summary')!.click();
  const settled = async () => {
    await waitFor(() => part('chat-panel')?.getAttribute('aria-busy') === 'false', 'the panel to be idle');
    await panel.updateComplete;
  };

  async function mount(fake: FakeChat, appConfig: AppConfig | null = null, listed = true): Promise<void> {
    client = fake;
    panel = document.createElement('llm-chat-panel');
    panel.appConfig = appConfig;
    panel.client = fake;
    document.body.append(panel);
    if (listed) await waitFor(() => part('models') ?? part('empty'), 'the model list');
    await panel.updateComplete;
  }

  /** Mounts with the second model (cached) loaded. */
  async function mountLoaded(fake = new FakeChat()): Promise<ChatModelInfo> {
    fake.loaded = fake.models[1]!.id;
    await mount(fake);
    return fake.models[1]!;
  }

  async function type(into: HTMLTextAreaElement, value: string): Promise<void> {
    into.focus();
    into.select();
    await sendKeys({ type: value });
  }

  async function ask(question: string): Promise<void> {
    const calls = client.called('reply').length;
    await type(input(), question);
    await sendKeys({ press: 'Enter' });
    await waitFor(() => client.called('reply').length > calls, 'the chat call');
    await settled();
  }

  afterEach(() => panel?.remove());

  it('has every method it calls on the EngineClient', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('lists the models: label, download size, GPU memory, cached or not, and why one cannot run; names the adapter', async () => {
    await mount(new FakeChat());
    const [fresh, cached, disabled] = client.models as [ChatModelInfo, ChatModelInfo, ChatModelInfo];
    part('show-all-button')!.click();
    await panel.updateComplete;
    for (const model of client.models) {
      expect(text(inRow(model.id, 'model-name'))).to.equal(model.label);
      expect(text(inRow(model.id, 'download-size'))).to.equal(`${Math.round(model.downloadBytes! / MB)} MB`);
      expect(text(inRow(model.id, 'gpu-memory'))).to.equal(`${Math.round(model.vramMB!).toLocaleString('en-US')} MB`);
      expect(text(inRow(model.id, 'cache-state'))).to.equal(model.cached ? 'cached' : 'download');
    }
    expect(text(inRow(fresh.id, 'load-button'))).to.equal('Download & load');
    expect(inRow(fresh.id, 'delete-button')).to.equal(null);
    expect(text(inRow(cached.id, 'load-button'))).to.equal('Load');
    expect(text(inRow(cached.id, 'delete-button'))).to.equal('Delete from cache');
    expect(inRow(fresh.id, 'load-button')!.disabled).to.equal(false);

    const reason = inRow<HTMLElement>(disabled.id, 'disabled-reason')!;
    expect(text(reason)).to.equal(disabled.disabled);
    const load = inRow(disabled.id, 'load-button')!;
    expect(load.disabled).to.equal(true);
    expect(load.getAttribute('aria-describedby')).to.equal(reason.id);
    expect(root().querySelectorAll('[part~="disabled-reason"]')).to.have.length(1);

    expect(text(part('environment'))).to.include(`GPU: ${client.environment.adapter} (no shader-f16, so f32 models only)`);
    expect(part('environment-problem')).to.equal(null);
    expect(part('loaded-badge')).to.equal(null);
    expect(text(part('messages-empty'))).to.equal('Load a model to chat with it.');
  });

  it('offers only the models this GPU can run, the others behind Show all, which toggles', async () => {
    const cannot = (n: number) => randomModel({ disabled: `Needs shader-f16 (${n}), which this GPU lacks.` });
    const models = [randomModel(), cannot(1), randomModel({ cached: true }), cannot(2), cannot(3)];
    await mount(new FakeChat(models));
    const listed = () => [...root().querySelectorAll('[part~="model"]')].map((card) => card.getAttribute('data-id'));
    const runnable = models.filter((model) => !model.disabled).map((model) => model.id);
    expect(listed()).to.deep.equal(runnable);
    expect(part('disabled-reason')?.outerHTML).to.equal(undefined);

    const toggle = part<HTMLButtonElement>('show-all-button')!;
    expect(text(toggle)).to.equal('Show all (3 more this GPU cannot run)');
    expect(toggle.getAttribute('aria-expanded')).to.equal('false');
    expect(toggle.getAttribute('aria-controls')).to.equal(part('models')!.id);
    toggle.click();
    await panel.updateComplete;
    expect(listed()).to.deep.equal(models.map((model) => model.id));
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    expect(text(toggle)).to.equal('Show only the models this GPU can run');
    expect([...root().querySelectorAll('[part~="disabled-reason"]')].map(text)).to.deep.equal(
      models.filter((model) => model.disabled).map((model) => model.disabled),
    );
    toggle.click();
    await panel.updateComplete;
    expect(listed()).to.deep.equal(runnable);
  });

  it('when no model can run on this GPU, lists them all, each saying why, with no Show all', async () => {
    const models = [1, 2].map((n) => randomModel({ disabled: `Needs shader-f16 (${n}).` }));
    await mount(new FakeChat(models));
    expect(root().querySelectorAll('[part~="model"]')).to.have.length(2);
    expect(root().querySelectorAll('[part~="disabled-reason"]')).to.have.length(2);
    expect(part('show-all-button')?.outerHTML).to.equal(undefined);
  });

  it('with no network, says once above the cards that the models need the internet once; no card says "size unknown"', async () => {
    const models = [randomModel(), randomModel(), randomModel({ cached: true })].map(({ downloadBytes: _, ...model }) => model);
    const fake = new FakeChat(models);
    fake.offline = true;
    await mount(fake);
    const notes = root().querySelectorAll('[part~="offline-note"]');
    expect(notes).to.have.length(1);
    expect(text(notes[0])).to.equal(
      'No network: each model needs the internet once, to download it. A downloaded one works offline.',
    );
    expect(notes[0]!.compareDocumentPosition(part('models')!) & Node.DOCUMENT_POSITION_FOLLOWING).to.not.equal(0);
    expect(text(part('models'))).to.not.match(/unknown/i);
    for (const model of models) {
      expect(inRow(model.id, 'download-size')?.outerHTML).to.equal(undefined);
      const memory = `${Math.round(model.vramMB!).toLocaleString('en-US')} MB`;
      expect(text(inRow(model.id, 'model-meta'))).to.equal(`Needs ${memory} of GPU memory`);
    }
  });

  it('a model of unknown size and memory shows neither, and the loaded model is marked', async () => {
    const unsized = randomModel({ cached: true });
    delete unsized.downloadBytes;
    delete unsized.vramMB;
    const fake = new FakeChat([randomModel(), unsized], { shaderF16: true });
    fake.loaded = unsized.id;
    await mount(fake);
    expect(inRow(unsized.id, 'model-meta')?.outerHTML).to.equal(undefined);
    expect(part('offline-note')?.outerHTML).to.equal(undefined);
    expect(text(inRow(unsized.id, 'loaded-badge'))).to.equal('loaded');
    expect(row(unsized.id)!.getAttribute('aria-current')).to.equal('true');
    expect(inRow(unsized.id, 'load-button')?.outerHTML).to.equal(undefined);
    expect(text(part('environment'))).to.include('(has shader-f16)');
  });

  it("shows the environment's problem first and prominently, and no model can be loaded", async () => {
    const problem = `This browser has no WebGPU (${randomInt(10, 99)}): use a recent Chrome or Edge, or turn WebGPU on.`;
    // Without an adapter no model is marked as needing a feature: the problem says it for all of them.
    const fake = new FakeChat([randomModel(), randomModel({ cached: true })], { webgpu: false, problem });
    delete fake.environment.adapter;
    await mount(fake);
    const notice = part('environment-problem')!;
    expect(text(notice)).to.equal(`The chat cannot run in this browser${problem}`.replace(/\s+/g, ' '));
    expect(text(part('environment'))).to.match(/^GPU: none found\./);
    for (const model of client.models) {
      const load = inRow(model.id, 'load-button')!;
      expect(load.disabled).to.equal(true);
      expect(load.getAttribute('aria-describedby')!.split(' ')).to.include(notice.id);
    }
  });

  it('loads with a progress bar (percent, bytes, web-llm line), then the model is ready and the input has focus', async () => {
    await mount(new FakeChat());
    const target = client.models[0]!;
    client.hold();
    inRow(target.id, 'load-button')!.click();
    await waitFor(() => client.called('load').length, 'load');
    await panel.updateComplete;
    expect(client.called('load')[0]![0]).to.equal(target.id);
    expect(text(part('status'))).to.equal(`Loading ${target.label}…`);
    expect(text(inRow(target.id, 'load-button'))).to.equal('Loading…');
    expect(inRow(target.id, 'load-button')!.getAttribute('aria-busy')).to.equal('true');
    expect(part('chat-panel')!.getAttribute('aria-busy')).to.equal('true');
    // Every other action waits.
    const actions = [...root().querySelectorAll<HTMLButtonElement>('[part~="load-button"], [part~="delete-button"]')];
    expect(actions.filter((button) => !button.disabled)).to.deep.equal([]);

    for (let report = 0; report < 3; report++) {
      const totalBytes = randomInt(100 * MB, 900 * MB);
      const loadedBytes = randomInt(10 * MB, totalBytes);
      const progress = loadedBytes / totalBytes;
      const line = `Fetching param cache[${randomInt(1, 20)}/20]: ${randomInt(10, 900)}MB fetched. ${randomSentence()}`;
      const seconds = random() * 90;
      client.report({ progress, text: line, loadedBytes, totalBytes, seconds });
      await panel.updateComplete;
      const bar = inRow<HTMLElement>(target.id, 'progress-bar')!;
      const percent = Math.floor(progress * 100);
      const bytes = `${Math.round(loadedBytes / MB)} MB of ${Math.round(totalBytes / MB)} MB`;
      expect(bar.getAttribute('role')).to.equal('progressbar');
      expect(bar.getAttribute('aria-valuenow')).to.equal(String(percent));
      expect(bar.getAttribute('aria-valuetext')).to.equal(`${percent}%, ${bytes}`);
      expect(part<HTMLElement>('progress-fill', bar)!.style.width).to.equal(`${percent}%`);
      expect(text(inRow(target.id, 'progress-numbers'))).to.equal(`${percent}% · ${bytes} · ${Math.round(seconds)} s`);
      expect(text(inRow(target.id, 'progress-text'))).to.equal(line.replace(/\s+/g, ' '));
    }

    client.release();
    await waitFor(() => inRow(target.id, 'loaded-badge'), 'the loaded badge');
    await settled();
    expect(inRow(target.id, 'progress')).to.equal(null);
    expect(text(inRow(target.id, 'cache-state'))).to.equal('cached');
    expect(text(part('status'))).to.equal(`${target.label} is ready: ask it something.`);
    expect(root().activeElement).to.equal(input());
    expect(text(part('messages-empty'))).to.equal('No messages yet.');
  });

  it('deletes from the cache only after a yes in the row: Keep cancels, Delete deletes', async () => {
    const model = await mountLoaded();
    inRow(model.id, 'delete-button')!.click();
    await panel.updateComplete;
    expect(text(inRow(model.id, 'confirm-delete'))).to.include(`Delete ${model.label} from this browser?`);
    expect(root().activeElement).to.equal(inRow(model.id, 'cancel-delete-button'));
    inRow(model.id, 'cancel-delete-button')!.click();
    await panel.updateComplete;
    expect(inRow(model.id, 'confirm-delete')).to.equal(null);
    expect(root().activeElement).to.equal(inRow(model.id, 'delete-button'));
    expect(client.called('delete')).to.have.length(0);

    inRow(model.id, 'delete-button')!.click();
    await panel.updateComplete;
    inRow(model.id, 'confirm-delete-button')!.click();
    await waitFor(() => text(inRow(model.id, 'cache-state')) === 'download', 'the model to leave the cache');
    await settled();
    expect(client.called('delete')).to.deep.equal([[model.id]]);
    expect(text(part('status'))).to.equal(`Deleted ${model.label} from the cache.`);
    expect(inRow(model.id, 'delete-button')).to.equal(null);
    expect(inRow(model.id, 'loaded-badge')).to.equal(null);
    expect(text(inRow(model.id, 'load-button'))).to.equal('Download & load');
    expect(root().activeElement).to.equal(inRow(model.id, 'load-button'));
  });

  it('streams a reply token by token, after the system prompt and the question', async () => {
    await mountLoaded();
    client.tokenDelayMs = 25;
    const question = randomSentence();
    await type(input(), question);
    part('send-button')!.click();
    await waitFor(() => tokenButtons().length >= 2, 'the first tokens');
    const streamed = tokenButtons().length;
    expect(streamed).to.be.below(client.reply.length);
    expect(text(part('finish', messages().at(-1)!))).to.equal('writing…');
    expect(text(part('send-button'))).to.equal('Stop');
    expect(input().value).to.equal('');
    await settled();

    expect(client.called('reply')[0]![0]).to.deep.equal([
      { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
      { role: 'user', content: question },
    ]);
    const [user, assistant] = messages();
    expect(user!.dataset['role']).to.equal('user');
    expect(text(part('message-text', user!))).to.equal(question);
    expect(assistant!.dataset['role']).to.equal('assistant');
    expect(tokenButtons().map((button) => button.textContent)).to.deep.equal(
      client.reply.map((token) => token.token.replace(/\n/g, '⏎')),
    );
    expect(part('finish', assistant!)).to.equal(null);
    expect(text(part('send-button'))).to.equal('Send');

    // The next turn carries the conversation so far.
    const reply = client.reply.map((token) => token.token).join('');
    client.reply = Array.from({ length: 4 }, randomToken);
    const follow = randomSentence();
    await ask(follow);
    expect(client.called('reply')[1]![0]).to.deep.equal([
      { role: 'system', content: 'You are a helpful assistant. Answer briefly.' },
      { role: 'user', content: question },
      { role: 'assistant', content: reply },
      { role: 'user', content: follow },
    ]);
    expect(messages()).to.have.length(4);
  });

  it('Stop calls chat.stop; the reply ends where it was, marked stopped', async () => {
    await mountLoaded();
    client.reply = Array.from({ length: 60 }, randomToken);
    client.tokenDelayMs = 30;
    await type(input(), randomSentence());
    await sendKeys({ press: 'Enter' });
    await waitFor(() => tokenButtons().length >= 3, 'some tokens');
    part('send-button')!.click();
    await settled();
    expect(client.called('stop')).to.have.length(1);
    const shown = tokenButtons().length;
    expect(shown).to.be.within(3, 59);
    expect(tokenButtons().map((button) => button.textContent)).to.deep.equal(
      client.reply.slice(0, shown).map((token) => token.token.replace(/\n/g, '⏎')),
    );
    expect(text(part('finish', messages().at(-1)!))).to.equal('Stopped.');
    expect(text(part('send-button'))).to.equal('Send');
    expect(root().querySelector<HTMLInputElement>('#chat-temperature')!.disabled).to.equal(false);
  });

  it("a token shows the alternatives the model weighed, with the fake's probabilities, the drawn one marked", async () => {
    await mountLoaded();
    client.reply = Array.from({ length: 8 }, randomToken);
    await ask(randomSentence());
    const index = randomInt(1, 8);
    const token = client.reply[index]!;
    tokenButtons()[index]!.click();
    await lastReply().updateComplete;
    const reply = lastReply().shadowRoot!;
    expect(tokenButtons()[index]!.getAttribute('aria-pressed')).to.equal('true');
    const rows = [...reply.querySelectorAll<HTMLElement>('[part~="alternative"]')];
    expect(rows.map((li) => text(part('alternative-label', li)).replace(' ✓', ''))).to.deep.equal(
      token.alternatives.map((alternative) => alternative.token.replace(/\n/g, '⏎').trim()),
    );
    token.alternatives.forEach((alternative, i) => {
      const percent = alternative.prob * 100;
      expect(text(part('alternative-value', rows[i]!))).to.equal(`${percent.toFixed(percent >= 10 ? 1 : 2)}%`);
      expect(parseFloat(part<HTMLElement>('alternative-fill', rows[i]!)!.style.width)).to.be.closeTo(percent, 0.006);
      expect(rows[i]!.title).to.equal(`log probability ${alternative.logprob.toFixed(3)}`);
    });
    const chosen = rows.filter((li) => li.getAttribute('part')!.split(' ').includes('chosen'));
    expect(chosen).to.have.length(1);
    expect(chosen[0]!.getAttribute('aria-current')).to.equal('true');
    expect(text(part('alternative-label', chosen[0]!))).to.match(/✓$/);
    const before = client.reply
      .slice(0, index)
      .map((t) => t.token)
      .join('');
    expect(part('alternatives-caption', reply)!.textContent!.replace(/\s+/g, ' ')).to.include(
      before.slice(-40).replace(/\s+/g, ' '),
    );

    // The same token again closes them.
    tokenButtons()[index]!.click();
    await lastReply().updateComplete;
    expect(part('alternatives', reply)).to.equal(null);
  });

  it('says when the drawn token was not among the likeliest', async () => {
    await mountLoaded();
    const rare = randomToken();
    client.reply = [{ ...rare, token: `${rare.token}-rare`, prob: 0.001, logprob: Math.log(0.001) }];
    await ask(randomSentence());
    tokenButtons()[0]!.click();
    await lastReply().updateComplete;
    const reply = lastReply().shadowRoot!;
    expect(reply.querySelectorAll('[part~="chosen"]')).to.have.length(0);
    expect(text(part('outside-top', reply))).to.match(/^The drawn token was not among the likeliest/);
  });

  it('shows the text the model receives: chat.prompt of the conversation and the message being typed, special tokens marked', async () => {
    const fake = new FakeChat();
    const system = randomSentence();
    const user = randomSentence();
    fake.template = `<|im_start|>system\n${system}<|im_end|>\n<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
    await mountLoaded(fake);
    await type(part<HTMLTextAreaElement>('system-prompt')!, system);
    await type(input(), user);
    expect(client.called('prompt')).to.have.length(0);

    const details = inTemplate('template')!;
    openTemplate();
    const pre = await waitFor(() => inTemplate('template-text'), 'the template text');
    expect(pre.textContent).to.equal(client.template);
    expect([...pre.querySelectorAll('[part~="special-token"]')].map((mark) => mark.textContent)).to.deep.equal([
      '<|im_start|>',
      '<|im_end|>',
      '<|im_start|>',
      '<|im_end|>',
      '<|im_start|>',
    ]);
    expect(client.called('prompt').at(-1)).to.deep.equal([
      [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
    ]);
    expect(text(details)).to.include('writes its reply by continuing it');

    // Typing more asks again.
    const more = randomWord();
    await sendKeys({ type: ` ${more}` });
    await waitFor(
      () => (client.called('prompt').at(-1)![0] as ChatMessage[]).at(-1)!.content === `${user} ${more}`,
      'the new template',
    );
  });

  it('asks for no template before a model is loaded, and shows why one could not be read', async () => {
    await mount(new FakeChat());
    openTemplate();
    await templateElement().updateComplete;
    expect(text(inTemplate('template-note'))).to.equal('Load a model to see the text it receives.');
    expect(client.called('prompt')).to.have.length(0);
    panel.remove();

    const fake = new FakeChat();
    const message = fake.failOnce('prompt', 'NoModelLoaded');
    await mountLoaded(fake);
    openTemplate();
    await waitFor(() => text(inTemplate('template-note')).startsWith('Could not'), 'the template error');
    expect(text(inTemplate('template-note'))).to.equal(`Could not read the template: ${message}`.replace(/\s+/g, ' '));
  });

  it('sends the system prompt as edited, and none when it is empty', async () => {
    await mountLoaded();
    const system = randomSentence();
    await type(part<HTMLTextAreaElement>('system-prompt')!, system);
    const question = randomSentence();
    await ask(question);
    expect(client.called('reply')[0]![0]).to.deep.equal([
      { role: 'system', content: system },
      { role: 'user', content: question },
    ]);

    part<HTMLTextAreaElement>('system-prompt')!.select();
    await sendKeys({ press: 'Backspace' });
    part('clear-button')!.click();
    await ask(question);
    expect(client.called('reply')[1]![0]).to.deep.equal([{ role: 'user', content: question }]);
  });

  it('sends temperature, top-p and max tokens as set', async () => {
    await mountLoaded();
    const settings = { temperature: randomInt(0, 40) * 0.05, topP: randomInt(1, 20) * 0.05, maxTokens: randomInt(1, 4096) };
    for (const [id, value] of [
      ['chat-temperature', settings.temperature],
      ['chat-topP', settings.topP],
      ['chat-maxTokens', settings.maxTokens],
    ] as const) {
      const field = root().querySelector<HTMLInputElement>(`#${id}`)!;
      field.value = String(value);
      field.dispatchEvent(new Event('change'));
    }
    await ask(randomSentence());
    expect(client.called('reply')[0]![1]).to.deep.equal(settings);
  });

  it('Clear empties the conversation', async () => {
    await mountLoaded();
    await ask(randomSentence());
    client.reply = Array.from({ length: 3 }, randomToken);
    await ask(randomSentence());
    expect(messages()).to.have.length(4);
    part('clear-button')!.click();
    await panel.updateComplete;
    expect(messages()).to.have.length(0);
    expect(text(part('messages-empty'))).to.equal('No messages yet.');
    expect(part<HTMLButtonElement>('clear-button')!.disabled).to.equal(true);
    await ask(randomSentence());
    expect(client.called('reply')[2]![0]).to.have.length(2);
  });

  describe('errors: each in role=alert with its title and message, and Retry works', () => {
    const alert = () => part('error');
    const expectAlert = (kind: string, message: string) => {
      const shown = alert()!;
      expect(shown.getAttribute('role')).to.equal('alert');
      expect(shown.dataset['kind']).to.equal(kind);
      expect(text(part('error-message', shown))).to.equal(message.replace(/\s+/g, ' '));
      expect(text(part('error-title', shown))).to.not.equal('');
    };

    it('loading fails with each kind; the buttons come back; Retry loads', async () => {
      await mount(new FakeChat());
      const target = client.models[0]!;
      const titles = new Set<string>();
      for (const kind of ERROR_KINDS) {
        const message = client.failOnce('load', kind);
        inRow(target.id, 'load-button')!.click();
        await waitFor(() => alert()?.dataset['kind'] === kind, `the ${kind} alert`);
        await settled();
        expectAlert(kind, message);
        titles.add(text(part('error-title')));
        expect(inRow(target.id, 'progress')).to.equal(null);
        expect(inRow(target.id, 'load-button')!.disabled).to.equal(false);
        expect(text(part('status'))).to.equal('');
      }
      expect(titles.size).to.equal(ERROR_KINDS.length);
      part('retry-button')!.click();
      await waitFor(() => inRow(target.id, 'loaded-badge'), 'the retried load');
      await settled();
      expect(alert()).to.equal(null);
      expect(client.called('load').at(-1)![0]).to.equal(target.id);
    });

    it('a reply cut off by an error is marked, not sent back, and Retry asks again', async () => {
      await mountLoaded();
      for (const kind of ['Interrupted', 'OutOfMemory', 'NoModelLoaded'] as const) {
        const message = client.failOnce('reply', kind);
        const question = randomSentence();
        await ask(question);
        expectAlert(kind, message);
        expect(text(part('finish', messages().at(-1)!))).to.equal('Cut off by an error.');
        expect(text(part('send-button'))).to.equal('Send');
        const calls = client.called('reply').length;
        part('retry-button')!.click();
        await waitFor(() => client.called('reply').length === calls + 1, 'the retried chat');
        await settled();
        expect(alert()).to.equal(null);
        const sent = client.called('reply').at(-1)![0] as ChatMessage[];
        expect(sent.at(-1)).to.deep.equal({ role: 'user', content: question });
        expect(tokenButtons()).to.have.length(client.reply.length);
        expect(part('finish', messages().at(-1)!)).to.equal(null);
      }
      // Three questions, three replies: the cut-off ones are gone.
      expect(messages().map((li) => li.dataset['role'])).to.deep.equal([
        'user',
        'assistant',
        'user',
        'assistant',
        'user',
        'assistant',
      ]);
    });

    it('reading the models, deleting and stopping fail with a message, and Retry does them again', async () => {
      const fake = new FakeChat();
      fake.loaded = fake.models[1]!.id;
      let message = fake.failOnce('models', 'NoAdapter');
      await mount(fake, null, false);
      await waitFor(() => alert(), 'the list alert');
      expectAlert('NoAdapter', message);
      part('retry-button')!.click();
      await waitFor(() => part('models'), 'the list');
      await settled();
      expect(alert()).to.equal(null);

      const model = client.models[1]!;
      message = client.failOnce('delete', 'StorageFull');
      inRow(model.id, 'delete-button')!.click();
      await panel.updateComplete;
      inRow(model.id, 'confirm-delete-button')!.click();
      await waitFor(() => alert(), 'the delete alert');
      await settled();
      expectAlert('StorageFull', message);
      expect(text(inRow(model.id, 'cache-state'))).to.equal('cached');
      part('retry-button')!.click();
      await waitFor(() => text(inRow(model.id, 'cache-state')) === 'download', 'the retried delete');
      await settled();
      expect(alert()).to.equal(null);

      panel.remove();
      await mountLoaded();
      client.reply = Array.from({ length: 40 }, randomToken);
      client.tokenDelayMs = 30;
      message = client.failOnce('stop', 'Interrupted');
      await type(input(), randomSentence());
      await sendKeys({ press: 'Enter' });
      await waitFor(() => tokenButtons().length >= 2, 'some tokens');
      part('send-button')!.click();
      await waitFor(() => alert(), 'the stop alert');
      expectAlert('Interrupted', message);
      part('retry-button')!.click();
      await settled();
      expect(client.called('stop')).to.have.length(2);
      expect(text(part('finish', messages().at(-1)!))).to.equal('Stopped.');
    });

    it('an unnamed error still shows its message, without a title', async () => {
      await mountLoaded();
      const message = client.failOnce('reply', 'TypeError');
      await ask(randomSentence());
      expect(alert()!.dataset['kind']).to.equal('TypeError');
      expect(text(part('error-message'))).to.equal(message.replace(/\s+/g, ' '));
      expect(part('error-title')).to.equal(null);
    });
  });

  it('hands the appConfig property to chat.setAppConfig (and null back), then lists its models', async () => {
    const records = (count: number): AppConfig => ({
      model_list: Array.from({ length: count }, () => ({
        model: `https://example.org/${randomWord()}`,
        model_id: `${randomWord()}-${randomInt(1000, 9999)}-MLC`,
        model_lib: `https://example.org/${randomWord()}.wasm`,
      })),
    });
    const first = records(randomInt(1, 4));
    await mount(new FakeChat(), first);
    expect(client.called('setAppConfig')).to.deep.equal([[first]]);
    expect(client.calls[0]!.method).to.equal('setAppConfig');
    await waitFor(() => root().querySelectorAll('[part~="model"]').length === first.model_list.length, 'the host models');
    expect([...root().querySelectorAll('[part~="model-name"]')].map((name) => text(name))).to.deep.equal(
      first.model_list.map((record) => record.model_id),
    );

    const second = records(randomInt(2, 5));
    panel.appConfig = second;
    await waitFor(() => root().querySelectorAll('[part~="model"]').length === second.model_list.length, 'the new host models');
    panel.appConfig = null;
    await waitFor(() => client.called('setAppConfig').length === 3, 'the default list');
    expect(client.called('setAppConfig')).to.deep.equal([[first], [second], [null]]);

    // A failed hand-over says so, and Retry hands it over again.
    const third = records(1);
    const message = client.failOnce('setAppConfig', 'NetworkUnreachable');
    panel.appConfig = third;
    await waitFor(() => part('error'), 'the alert');
    expect(text(part('error-message'))).to.equal(message.replace(/\s+/g, ' '));
    part('retry-button')!.click();
    await waitFor(() => client.called('setAppConfig').length === 5, 'the retry');
    expect(client.called('setAppConfig').at(-1)).to.deep.equal([third]);
    await waitFor(() => !part('error'), 'the alert to go');
  });

  it('without appConfig, the default list is used: chat.setAppConfig is not called', async () => {
    await mount(new FakeChat());
    expect(client.called('setAppConfig')).to.have.length(0);
    expect(client.called('models')).to.have.length(1);
  });

  it('keyboard: Enter sends, Shift+Enter adds a line; Tab reaches the tokens, arrows move, Enter opens, Escape closes', async () => {
    await mountLoaded();
    client.reply = Array.from({ length: 6 }, randomToken);
    const first = randomSentence(2);
    const second = randomSentence(2);
    input().focus();
    await sendKeys({ type: first });
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'Enter' });
    await sendKeys({ up: 'Shift' });
    await sendKeys({ type: second });
    expect(input().value).to.equal(`${first}\n${second}`);
    expect(client.called('reply')).to.have.length(0);
    await sendKeys({ press: 'Enter' });
    await waitFor(() => client.called('reply').length, 'the chat call');
    await settled();
    expect((client.called('reply')[0]![0] as ChatMessage[]).at(-1)).to.deep.equal({
      role: 'user',
      content: `${first}\n${second}`,
    });

    // From the system prompt, Tab goes to the template's summary and then to the reply's tokens (one stop).
    part<HTMLTextAreaElement>('system-prompt')!.focus();
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Tab' });
    const focusedToken = () => lastReply().shadowRoot!.activeElement;
    expect(focusedToken()).to.equal(tokenButtons()[0]);
    await sendKeys({ press: 'ArrowRight' });
    await sendKeys({ press: 'ArrowRight' });
    await lastReply().updateComplete;
    expect(focusedToken()).to.equal(tokenButtons()[2]);
    await sendKeys({ press: 'Enter' });
    await lastReply().updateComplete;
    const reply = lastReply().shadowRoot!;
    expect(reply.querySelectorAll('[part~="alternative"]')).to.have.length(client.reply[2]!.alternatives.length);
    // With them open, they follow the arrow keys.
    await sendKeys({ press: 'End' });
    await lastReply().updateComplete;
    expect(focusedToken()).to.equal(tokenButtons()[5]);
    expect(reply.querySelectorAll('[part~="alternative"]')).to.have.length(client.reply[5]!.alternatives.length);
    await sendKeys({ press: 'Escape' });
    await lastReply().updateComplete;
    expect(part('alternatives', reply)).to.equal(null);
    expect(focusedToken()).to.equal(tokenButtons()[5]);
    expect(tokenButtons().filter((button) => button.tabIndex === 0)).to.deep.equal([tokenButtons()[5]]);
  });

  it('cannot send before a model is loaded, nor an empty message', async () => {
    await mount(new FakeChat());
    await type(input(), randomSentence());
    expect(part<HTMLButtonElement>('send-button')!.disabled).to.equal(true);
    await sendKeys({ press: 'Enter' });
    await panel.updateComplete;
    expect(client.called('reply')).to.have.length(0);
    panel.remove();

    await mountLoaded();
    await type(input(), '   ');
    expect(part<HTMLButtonElement>('send-button')!.disabled).to.equal(true);
    await sendKeys({ press: 'Enter' });
    expect(client.called('reply')).to.have.length(0);
  });
});
