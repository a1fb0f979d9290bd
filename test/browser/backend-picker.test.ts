// <llm-backend-picker> against a stand-in client at the interface boundary
// (backend.info() / backend.choose() / backend.threads()): what it says runs, the WebGPU option, switching,
// a failed switch, a switch the worker made by itself, the CPU's threads, the keyboard, and the closed
// "Runs on" line with what must show while it is closed.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/elements/backend-picker.ts';
import type { BackendClient, BackendPicker } from '../../src/elements/backend-picker.ts';
import type { BackendChoice, BackendInfo, CpuThreads } from '../../workers/api/index.ts';
import { cpuCode } from '../../workers/backend-choice.ts';
import { waitFor } from './wait-for.ts';

/** What a page that is not cross-origin isolated runs on. */
const NOT_ISOLATED: CpuThreads = {
  count: 1,
  asked: 0,
  max: 1,
  note: 'The CPU runs on one thread: this page is not cross-origin isolated, so threads cannot share memory.',
};
/** On a four-thread machine, isolated: all four, or the one the user asked for. */
const FOUR: CpuThreads = { count: 4, asked: 0, max: 4 };
const ONE: CpuThreads = { count: 1, asked: 1, max: 4 };

const SWIFTSHADER = { name: 'SwiftShader Device (Subzero)', software: true };
const HARDWARE = { name: 'NVIDIA GeForce RTX 3060', software: false };

const AUTO_ON_SOFTWARE_GPU: BackendInfo = {
  choice: 'auto',
  active: 'cpu',
  adapter: SWIFTSHADER,
  reason: 'Auto picked the CPU: the only GPU adapter, SwiftShader, is software and slower than the CPU here.',
  webgpuAvailable: true,
};
const NO_GPU: BackendInfo = {
  choice: 'auto',
  active: 'cpu',
  reason: 'Auto picked the CPU: this browser has no GPU adapter.',
  webgpuAvailable: false,
};

/** What a worker with `adapter` would answer to backend.choose(choice). */
function switched(choice: BackendChoice, adapter = SWIFTSHADER): BackendInfo {
  const active = choice === 'webgpu' || (choice === 'auto' && !adapter.software) ? 'webgpu' : 'cpu';
  return { choice, active, adapter, reason: `You chose ${choice}.`, webgpuAvailable: true };
}

// The playground hands its EngineClient to the picker.
const engineClientFits: EngineClient extends BackendClient ? true : never = true;

/**
 * Answers backend.info() with `info`; backend.choose() and backend.threads() wait for `release()`, then answer or
 * fail with `failure`.
 */
class FakeClient implements BackendClient {
  readonly requested: BackendChoice[] = [];
  readonly threadsAsked: number[] = [];
  private gate: Promise<void> = Promise.resolve();
  private open = () => {};

  constructor(
    public info: BackendInfo,
    private readonly failure?: string,
  ) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  readonly backend = {
    info: async (): Promise<BackendInfo> => this.info,
    choose: async (choice: BackendChoice): Promise<BackendInfo> => {
      this.requested.push(choice);
      await this.gate;
      if (this.failure) throw new Error(this.failure);
      this.info = { ...switched(choice, this.info.adapter), cpu: this.info.cpu };
      return this.info;
    },
    threads: async (asked: number): Promise<BackendInfo> => {
      this.threadsAsked.push(asked);
      await this.gate;
      if (this.failure) throw new Error(this.failure);
      const cpu = this.info.cpu!;
      const max = cpu.threads.max;
      this.info = { ...this.info, cpu: { ...cpu, threads: { count: Math.min(asked || max, max), asked, max } } };
      return this.info;
    },
  };
}

describe('<llm-backend-picker>', function () {
  let picker: BackendPicker;
  const root = () => picker.shadowRoot!;
  const part = (name: string) => root().querySelector<HTMLElement>(`[part~="${name}"]`);
  const text = (name: string) => part(name)?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
  const select = () => part('select') as HTMLSelectElement;
  const threadsSelect = () => part('threads-select') as HTMLSelectElement;
  const details = () => part('runs-on') as HTMLDetailsElement;
  const summary = () => part('runs-on-summary')!;
  const option = (choice: BackendChoice) => select().querySelector<HTMLOptionElement>(`option[value="${choice}"]`)!;

  async function mount(client: BackendClient): Promise<void> {
    picker = document.createElement('llm-backend-picker');
    picker.client = client;
    document.body.append(picker);
    await waitFor(() => picker.info, 'the first answer');
    await picker.updateComplete;
  }

  function pick(choice: BackendChoice): void {
    select().value = choice;
    select().dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  function pickThreads(count: number): void {
    threadsSelect().value = String(count);
    threadsSelect().dispatchEvent(new Event('change', { bubbles: true, composed: true }));
  }

  afterEach(() => picker?.remove());

  it('fits the EngineClient, which the playground hands it', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('says the CPU runs and names the unused software adapter, with the reason', async () => {
    await mount(new FakeClient(AUTO_ON_SOFTWARE_GPU));
    expect(select().value).to.equal('auto');
    expect(text('status')).to.match(/^Running on the CPU \(GPU adapter SwiftShader Device \(Subzero\) software, not used\)$/);
    expect(text('software')).to.equal('software');
    expect(text('reason')).to.equal(AUTO_ON_SOFTWARE_GPU.reason);
    expect(option('webgpu').disabled).to.equal(false);
    expect(root().textContent).to.match(/software GPU only imitates one on the\s+CPU/);
    expect(part('error')).to.equal(null);
  });

  it('says WebGPU runs and on which adapter, with a software badge only for a software one', async () => {
    await mount(new FakeClient(switched('webgpu', HARDWARE)));
    expect(text('status')).to.equal(`Running on WebGPU · ${HARDWARE.name}`);
    expect(part('software')).to.equal(null);
    picker.remove();

    await mount(new FakeClient(switched('webgpu', SWIFTSHADER)));
    expect(select().value).to.equal('webgpu');
    expect(text('status')).to.equal(`Running on WebGPU · ${SWIFTSHADER.name} software`);
    expect(part('software')!.title).to.match(/imitated in software/);
  });

  it('says what the CPU runs in, and why JavaScript where WebAssembly was refused', async () => {
    await mount(new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: ONE } }));
    expect(text('status')).to.equal('Running on the CPU in WebAssembly');
    expect(part('cpu-refused')).to.equal(null);
    picker.remove();

    const refused = cpuCode(
      'js',
      "Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source",
      FOUR,
    );
    await mount(new FakeClient({ ...AUTO_ON_SOFTWARE_GPU, cpu: refused }));
    expect(text('status')).to.match(/^Running on the CPU in JavaScript × 4 threads \(GPU adapter /);
    expect(text('cpu-refused')).to.match(/several times slower .* content security policy .*'wasm-unsafe-eval'/);
    picker.remove();

    // Only while the CPU runs the model.
    await mount(new FakeClient({ ...switched('webgpu', HARDWARE), cpu: refused }));
    expect(part('cpu-refused')).to.equal(null);
  });

  it('disables WebGPU, and says why, when there is no adapter', async () => {
    await mount(new FakeClient(NO_GPU));
    expect(text('status')).to.equal('Running on the CPU');
    expect(part('adapter')).to.equal(null);
    expect(option('webgpu').disabled).to.equal(true);
    expect(option('webgpu').textContent!.trim()).to.equal('WebGPU (not available)');
    expect(option('webgpu').title).to.match(/no GPU adapter/);
    expect(root().textContent).to.match(/WebGPU is not available here/);
    expect(option('cpu').disabled).to.equal(false);
  });

  it('switches on change: busy while it runs, then the new info and an llm-backend-change event', async () => {
    const client = new FakeClient(AUTO_ON_SOFTWARE_GPU);
    await mount(client);
    const events: BackendInfo[] = [];
    document.addEventListener('llm-backend-change', (event) => events.push((event as CustomEvent).detail), { once: true });

    client.hold();
    pick('webgpu');
    await picker.updateComplete;
    expect(client.requested).to.deep.equal(['webgpu']);
    expect(select().disabled).to.equal(true);
    expect(part('picker')!.getAttribute('aria-busy')).to.equal('true');
    expect(text('status')).to.equal('Switching to WebGPU…');

    client.release();
    await waitFor(() => events.length === 1, 'the event');
    await picker.updateComplete;
    expect(events[0]).to.deep.equal(client.info);
    expect(picker.info).to.deep.equal(client.info);
    expect(select().disabled).to.equal(false);
    expect(select().value).to.equal('webgpu');
    expect(text('status')).to.equal(`Running on WebGPU · ${SWIFTSHADER.name} software`);
  });

  it('shows a failed switch as an alert and keeps what ran before', async () => {
    const client = new FakeClient(AUTO_ON_SOFTWARE_GPU, 'The GPU device could not be created.');
    await mount(client);
    let fired = false;
    const onChange = () => (fired = true);
    document.addEventListener('llm-backend-change', onChange);

    pick('webgpu');
    await waitFor(() => part('error'), 'the error');
    document.removeEventListener('llm-backend-change', onChange);
    await picker.updateComplete;
    expect(part('error')!.getAttribute('role')).to.equal('alert');
    expect(text('error')).to.equal('Could not switch to WebGPU: The GPU device could not be created.');
    expect(fired).to.equal(false);
    expect(picker.info).to.equal(AUTO_ON_SOFTWARE_GPU);
    expect(select().value).to.equal('auto');
    expect(select().disabled).to.equal(false);
    expect(text('status')).to.match(/^Running on the CPU/);

    // The next switch clears the old error.
    pick('cpu');
    await waitFor(() => text('error').startsWith('Could not switch to CPU'), 'the error of the new try');
    expect(client.requested).to.deep.equal(['webgpu', 'cpu']);
  });

  it('shows info set from outside, and a backend change it did not ask for as a warning', async () => {
    await mount(new FakeClient(switched('webgpu')));
    expect(part('reason')!.hasAttribute('role')).to.equal(false);
    const fallback: BackendInfo = {
      ...switched('webgpu'),
      active: 'cpu',
      reason: 'The GPU was lost (device destroyed); training went on on the CPU from step 100.',
    };
    picker.info = fallback;
    await picker.updateComplete;
    expect(text('status')).to.match(/^Running on the CPU/);
    expect(text('reason')).to.equal(fallback.reason);
    expect(part('reason')!.getAttribute('role')).to.equal('alert');
    expect(part('reason')!.classList.contains('warning')).to.equal(true);
  });

  it('is usable by keyboard: Tab reaches the line, Enter opens it, Tab reaches the choice and the arrow keys switch', async () => {
    const client = new FakeClient(AUTO_ON_SOFTWARE_GPU);
    await mount(client);
    const before = document.createElement('button');
    picker.before(before);
    before.focus();
    await sendKeys({ press: 'Tab' });
    expect(root().activeElement).to.equal(summary());
    expect(getComputedStyle(summary()).outlineStyle).to.equal('solid');
    await sendKeys({ press: 'Enter' });
    expect(details().open).to.equal(true);
    await sendKeys({ press: 'Tab' });
    expect(root().activeElement).to.equal(select());
    expect(getComputedStyle(select()).outlineStyle).to.equal('solid');

    await sendKeys({ press: 'ArrowDown' });
    await waitFor(() => client.requested.length === 1, 'a switch');
    expect(client.requested).to.deep.equal(['cpu']);
    await waitFor(() => picker.info?.choice === 'cpu', 'the new info');
    // Re-rendered with the new backend, it stays open; Space on the line closes it.
    expect(details().open).to.equal(true);
    summary().focus();
    await sendKeys({ press: 'Space' });
    expect(details().open).to.equal(false);
    before.remove();
  });

  it('is one closed line by default, saying what runs', async () => {
    await mount(new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: ONE } }));
    expect(details().open).to.equal(false);
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly)');
    // Only the line shows: the choice, the status and the reason wait inside.
    for (const name of ['select', 'status', 'reason']) expect(part(name)!.checkVisibility(), name).to.equal(false);
    const line = summary().getBoundingClientRect().height;
    expect(picker.getBoundingClientRect().height).to.be.at.most(line + 1);
    expect(line).to.be.below(2 * parseFloat(getComputedStyle(summary()).fontSize) * 1.5);
    picker.remove();

    await mount(new FakeClient(switched('webgpu', HARDWARE)));
    expect(text('runs-on-backend')).to.equal(`WebGPU (${HARDWARE.name})`);
    picker.remove();

    const client = new FakeClient(AUTO_ON_SOFTWARE_GPU);
    await mount(client);
    expect(text('runs-on-backend')).to.equal('the CPU');
    client.hold();
    void picker.choose('webgpu');
    await picker.updateComplete;
    expect(text('runs-on-backend')).to.equal('switching to WebGPU…');
    client.release();
    await waitFor(() => text('runs-on-backend') === `WebGPU (${SWIFTSHADER.name})`, 'the new backend on the line');
  });

  it('shows a failed switch, a GPU that failed and a refused WebAssembly while closed', async () => {
    await mount(new FakeClient(AUTO_ON_SOFTWARE_GPU, 'The GPU device could not be created.'));
    await picker.choose('webgpu');
    await picker.updateComplete;
    expect(details().open).to.equal(false);
    expect(part('error')!.checkVisibility()).to.equal(true);
    expect(text('error')).to.match(/^Could not switch to WebGPU/);
    picker.remove();

    await mount(new FakeClient(switched('webgpu')));
    picker.info = { ...switched('webgpu'), active: 'cpu', reason: 'The GPU was lost; inference goes on on the CPU.' };
    await picker.updateComplete;
    expect(part('reason')!.checkVisibility()).to.equal(true);
    expect(part('reason')!.getAttribute('role')).to.equal('alert');
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU');
    picker.remove();

    const refused = cpuCode('js', "Refused to compile WebAssembly: 'wasm-unsafe-eval' is not an allowed source", ONE);
    await mount(new FakeClient({ ...NO_GPU, cpu: refused }));
    expect(details().open).to.equal(false);
    expect(part('cpu-refused')!.checkVisibility()).to.equal(true);
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (JavaScript)');
  });

  it('says on how many threads the CPU runs: on the line from two, in the status, and not for WebGPU', async () => {
    await mount(new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: FOUR } }));
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly) × 4 threads');
    expect(text('status')).to.equal('Running on the CPU in WebAssembly × 4 threads');
    expect(part('threads-note')).to.equal(null);
    picker.remove();

    await mount(new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: { count: 2, asked: 2, max: 4 } } }));
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly) × 2 threads');
    picker.remove();

    await mount(new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: ONE } }));
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly)');
    expect(text('status')).to.equal('Running on the CPU in WebAssembly');
    picker.remove();

    await mount(new FakeClient({ ...switched('webgpu', HARDWARE), cpu: { code: 'WebAssembly', threads: FOUR } }));
    expect(text('runs-on-summary')).to.equal(`Runs on: WebGPU (${HARDWARE.name})`);
  });

  it('sets the thread count from its select: All (max) or 1 to max, busy while it runs, then the new info', async () => {
    const client = new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: FOUR } });
    await mount(client);
    const options = [...threadsSelect().options].map((option) => [option.value, option.textContent!.trim()]);
    expect(options).to.deep.equal([
      ['0', 'All (4)'],
      ['1', '1'],
      ['2', '2'],
      ['3', '3'],
      ['4', '4'],
    ]);
    expect(threadsSelect().value).to.equal('0');
    expect(threadsSelect().disabled).to.equal(false);
    expect(root().querySelector(`label[for="${threadsSelect().id}"]`)!.textContent!.trim()).to.equal('CPU threads');
    const events: BackendInfo[] = [];
    document.addEventListener('llm-backend-change', (event) => events.push((event as CustomEvent).detail), { once: true });

    client.hold();
    pickThreads(2);
    await picker.updateComplete;
    expect(client.threadsAsked).to.deep.equal([2]);
    expect(client.requested).to.deep.equal([]);
    expect(threadsSelect().disabled).to.equal(true);
    expect(select().disabled).to.equal(true);
    expect(part('picker')!.getAttribute('aria-busy')).to.equal('true');
    expect(text('status')).to.equal('Going to 2 threads…');
    expect(text('runs-on-backend')).to.equal('the CPU, going to 2 threads…');

    client.release();
    await waitFor(() => events.length === 1, 'the event');
    await picker.updateComplete;
    expect(events[0]!.cpu!.threads).to.deep.equal({ count: 2, asked: 2, max: 4 });
    expect(threadsSelect().value).to.equal('2');
    expect(threadsSelect().disabled).to.equal(false);
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly) × 2 threads');

    // Back to all of them: 0.
    pickThreads(0);
    await waitFor(() => picker.info?.cpu?.threads.asked === 0, 'all threads');
    expect(client.threadsAsked).to.deep.equal([2, 0]);
    await picker.updateComplete;
    expect(threadsSelect().value).to.equal('0');
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly) × 4 threads');
  });

  it('shows a thread count that could not be set as an alert, the count before kept', async () => {
    const client = new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: FOUR } }, 'A CPU thread could not start.');
    await mount(client);
    pickThreads(3);
    await waitFor(() => part('error'), 'the error');
    await picker.updateComplete;
    expect(text('error')).to.equal('Could not run the CPU on 3 threads: A CPU thread could not start.');
    expect(part('error')!.getAttribute('role')).to.equal('alert');
    expect(threadsSelect().value).to.equal('0');
    expect(threadsSelect().disabled).to.equal(false);
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly) × 4 threads');
  });

  it('where the page is not isolated: one thread, the choice disabled, and why under the closed line', async () => {
    await mount(new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: NOT_ISOLATED } }));
    expect(details().open).to.equal(false);
    expect(text('runs-on-summary')).to.equal('Runs on: the CPU (WebAssembly)');
    expect(part('threads-note')!.checkVisibility()).to.equal(true);
    expect(text('threads-note')).to.equal(NOT_ISOLATED.note);
    expect(part('threads-note')!.classList.contains('warning')).to.equal(false);
    expect([...threadsSelect().options].map((option) => option.textContent!.trim())).to.deep.equal(['All (1)', '1']);
    expect(threadsSelect().disabled).to.equal(true);
    expect(threadsSelect().getAttribute('aria-describedby')).to.equal(part('threads-note')!.id);
    picker.remove();

    // A thread that failed is news: a warning.
    const failed = 'The CPU runs on one thread: a thread failed (thread 1: out of memory).';
    await mount(
      new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: { count: 1, asked: 0, max: 4, note: failed } } }),
    );
    expect(text('threads-note')).to.equal(failed);
    expect(part('threads-note')!.classList.contains('warning')).to.equal(true);
    expect(threadsSelect().disabled).to.equal(false);
    picker.remove();

    // Only while the CPU runs the model.
    await mount(new FakeClient({ ...switched('webgpu', HARDWARE), cpu: { code: 'WebAssembly', threads: NOT_ISOLATED } }));
    expect(part('threads-note')).to.equal(null);
  });

  it('is usable by keyboard: Tab goes on from the backend to the threads, and the arrow keys set them', async () => {
    const client = new FakeClient({ ...NO_GPU, cpu: { code: 'WebAssembly', threads: FOUR } });
    await mount(client);
    details().open = true;
    select().focus();
    await sendKeys({ press: 'Tab' });
    expect(root().activeElement).to.equal(threadsSelect());
    expect(getComputedStyle(threadsSelect()).outlineStyle).to.equal('solid');
    await sendKeys({ press: 'ArrowDown' });
    await waitFor(() => client.threadsAsked.length === 1, 'a thread count');
    expect(client.threadsAsked).to.deep.equal([1]);
    await waitFor(() => picker.info?.cpu?.threads.count === 1, 'the new info');
    expect(details().open).to.equal(true);
  });
});

describe('<llm-backend-picker> with the real worker', function () {
  let client: EngineClient;
  let picker: BackendPicker;
  const status = () => picker.shadowRoot!.querySelector('[part~="status"]')!.textContent!.replace(/\s+/g, ' ').trim();

  before(() => {
    client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
  });

  after(() => {
    picker?.remove();
    client.terminate();
  });

  it('Auto takes WebGPU only on a hardware adapter (SwiftShader here: the CPU), and WebGPU can be forced', async () => {
    // The page's own look at WebGPU, independent of the worker's.
    const adapter = await navigator.gpu?.requestAdapter();
    picker = document.createElement('llm-backend-picker');
    picker.client = client;
    document.body.append(picker);
    const auto = await waitFor(() => picker.info, 'the first answer', 60000);
    expect(auto.choice).to.equal('auto');
    expect(auto.webgpuAvailable).to.equal(!!adapter);
    expect(auto.active).to.equal(auto.adapter && !auto.adapter.software ? 'webgpu' : 'cpu');
    // The worker compiles its WebAssembly kernels, which Chromium runs (SIMD), on one thread: this page is not isolated.
    expect(auto.cpu!.code).to.equal('WebAssembly');
    expect(auto.cpu!.threads).to.include({ count: 1, asked: 0, max: 1 });
    expect(auto.cpu!.threads.note).to.match(/not cross-origin isolated/);
    if (auto.adapter?.software)
      expect(status()).to.match(/^Running on the CPU in WebAssembly \(GPU adapter .+ software, not used\)$/);
    expect(auto.reason).to.not.equal('');
    if (!adapter) return;

    const changed = new Promise<CustomEvent<BackendInfo>>((resolve) =>
      picker.addEventListener('llm-backend-change', resolve as EventListener, { once: true }),
    );
    const select = picker.shadowRoot!.querySelector('select')!;
    select.value = 'webgpu';
    select.dispatchEvent(new Event('change'));
    const { detail } = await changed;
    expect(detail).to.include({ choice: 'webgpu', active: 'webgpu' });
    expect(detail.adapter!.name).to.equal(auto.adapter!.name);
    await picker.updateComplete;
    expect(status().startsWith(`Running on WebGPU · ${detail.adapter!.name}`)).to.equal(true, status());
    expect(await client.backend.info()).to.deep.equal(detail);
  });
});
