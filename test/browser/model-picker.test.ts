// <llm-model-picker> against an in-memory pretrained area (fake-pretrained.ts): the choices and what this
// browser keeps of each, the card shown before anything downloads, Download with its progress, Cancel, the
// worker's errors, the keyboard, the built-in model and the `want` a host page gives.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/model-picker.ts';
import type { ModelPicker, ModelPickerClient } from '../../src/elements/model-picker.ts';
import type { ModelInfo, PretrainedModels, PretrainedSource } from '../../workers/api/index.ts';
import { FakePretrained, MB, pretrainedInfo } from './fake-pretrained.ts';
import { randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element: it must have every method the element calls.
const engineClientFits: EngineClient extends ModelPickerClient ? true : never = true;

/** The built-in model, as the worker describes it once loaded from `url`. */
const builtInInfo = (url: string): ModelInfo => ({
  ...pretrainedInfo({ id: '', name: 'default-model', baseUrl: '', bytes: 0, parameters: 0 }),
  pretrained: undefined,
  checkpoint: new URL(url).pathname.split('/').pop()!,
});

class FakeClient extends FakePretrained implements ModelPickerClient {
  readonly loaded: string[] = [];
  readonly model = {
    loadCheckpoint: async (url: string) => {
      this.loaded.push(url);
      return builtInInfo(url);
    },
  };
}

/** 1.0 MB as formatBytes writes it. */
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

describe('<llm-model-picker>', function () {
  let picker: ModelPicker;
  const root = () => picker.shadowRoot!;
  const part = <E extends HTMLElement = HTMLElement>(name: string) => root().querySelector<E>(`[part~="${name}"]`);
  const text = (element: Element | null) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
  const choice = (id: string) => root().querySelector<HTMLButtonElement>(`[part~="choice"][data-id="${id}"]`)!;
  const choiceState = (id: string) => text(choice(id).querySelector('[part~="choice-state"]'));
  const focused = () => root().activeElement?.getAttribute('part') ?? 'outside the element';
  const nextEvent = <T>(type: string) =>
    new Promise<T>((resolve) =>
      document.addEventListener(type, (event) => resolve((event as CustomEvent<T>).detail), { once: true }),
    );

  async function mount(fake: FakeClient, setup: Partial<Pick<ModelPicker, 'want' | 'sources' | 'active' | 'builtInUrl'>> = {}) {
    picker = document.createElement('llm-model-picker');
    Object.assign(picker, setup);
    picker.client = fake;
    document.body.append(picker);
    await waitFor(() => picker.models, 'the first list');
    await picker.updateComplete;
  }

  afterEach(() => picker?.remove());

  it('EngineClient has every method the element calls', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('lists the built-in model, GPT-2 small and medium, each with what this browser keeps of it', async () => {
    const fake = new FakeClient();
    const partial = randomInt(10 * MB, 400 * MB);
    fake.kept.set('gpt2', { state: 'stored', storedBytes: fake.sources[0]!.bytes });
    fake.kept.set('gpt2-medium', { state: 'partial', storedBytes: partial });
    await mount(fake);
    const names = [...root().querySelectorAll('[part~="choice"] [part~="choice-name"]')].map(text);
    expect(names).to.deep.equal(['Built-in', 'GPT-2 small', 'GPT-2 medium']);
    expect(choiceState('gpt2')).to.equal('kept here, opens offline');
    expect(choiceState('gpt2-medium')).to.equal(`partly downloaded, ${mb(partial)} of 1.4 GB`);

    fake.kept.clear();
    await picker.refresh();
    await picker.updateComplete;
    expect(choiceState('gpt2')).to.equal(`${mb(550_000_000)} to download`);
    expect(choiceState('gpt2-medium')).to.equal('1.4 GB to download');
  });

  it('shows, before anything downloads, the size, the parameters, the storage needed and what is wrong with it', async () => {
    const fake = new FakeClient();
    fake.storage = { available: true, usage: 100 * MB, quota: 400 * MB };
    const problem = `Only ${mb(300 * MB)} is left for this page; GPT-2 small needs ${mb(550_000_000)}.`;
    fake.spaceProblems.set('gpt2', problem);
    await mount(fake);
    choice('gpt2').click();
    await picker.updateComplete;
    expect(text(part('card-title'))).to.equal('GPT-2 small');
    expect(text(part('card-size'))).to.equal(`About ${mb(550_000_000)}, 124,439,808 parameters.`);
    expect(text(part('card-storage'))).to.equal(
      `It needs ${mb(550_000_000)} more of this browser's storage; ${mb(300 * MB)} is left for this page.`,
    );
    expect(text(part('space-problem'))).to.equal(problem);
    expect(part('memory-warning')).to.equal(null);
    expect(text(part('download-button'))).to.equal('Download');
    expect(choice('gpt2').getAttribute('aria-expanded')).to.equal('true');
    expect(fake.called('open')).to.deep.equal([]);

    // GPT-2 medium warns about memory, kept or not.
    choice('gpt2-medium').click();
    await picker.updateComplete;
    expect(text(part('card-title'))).to.equal('GPT-2 medium');
    expect(text(part('memory-warning'))).to.match(/GPT-2 medium needs about 1\.5 GB of memory/);
    expect(fake.called('open')).to.deep.equal([]);
  });

  it('downloads on Download: MB of MB, percent, speed, time left, where it resumed; then the page swaps to it', async () => {
    const fake = new FakeClient();
    await mount(fake);
    choice('gpt2').click();
    await picker.updateComplete;
    part('download-button')!.click();
    await waitFor(() => fake.pending, 'the open call');
    expect(fake.called('open')).to.deep.equal([['gpt2']]);
    await picker.updateComplete;
    expect(text(part('progress-text'))).to.equal('Starting…');
    expect(part('download-button')).to.equal(null);

    const total = 548_000_000;
    const loaded = randomInt(50 * MB, 500 * MB);
    fake.progress({ loaded, total, bytesPerSecond: 2 * MB, secondsLeft: 200, resumedFrom: 40 * MB });
    await picker.updateComplete;
    const percent = Math.floor((loaded / total) * 100);
    expect(text(part('progress-text'))).to.equal(
      `Downloading: ${mb(loaded)} of ${mb(total)} (${percent}%), 2.0 MB/s, about 3 min 20 s left, resuming from 40.0 MB`,
    );
    const bar = part<HTMLProgressElement>('progress-bar')!;
    expect([bar.value, bar.max]).to.deep.equal([loaded, total]);

    fake.progress({ phase: 'open', loaded: total, total });
    await picker.updateComplete;
    expect(text(part('progress-text'))).to.equal(`Reading it from this browser: ${mb(total)} of ${mb(total)} (100%)`);

    const changed = nextEvent<ModelInfo>('llm-model-change');
    const listed = nextEvent<PretrainedModels>('llm-pretrained-change');
    fake.finish();
    expect((await changed).pretrained).to.equal('gpt2');
    expect((await listed).models[0]!.state).to.equal('stored');
    await picker.updateComplete;
    expect(part('card')).to.equal(null);
    picker.active = pretrainedInfo(fake.sources[0]!);
    await picker.updateComplete;
    expect(choice('gpt2').getAttribute('aria-pressed')).to.equal('true');
    expect(choiceState('gpt2')).to.equal('in use');
  });

  it('Cancel calls cancel; the card says it stopped and offers to resume', async () => {
    const fake = new FakeClient();
    await mount(fake);
    choice('gpt2').click();
    await picker.updateComplete;
    part('download-button')!.click();
    await waitFor(() => fake.pending, 'the open call');
    fake.progress({ loaded: 120 * MB, total: 548_000_000 });
    await picker.updateComplete;
    let changed = false;
    document.addEventListener('llm-model-change', () => (changed = true), { once: true });
    part('cancel-button')!.click();
    await waitFor(() => part('stopped'), 'the stopped note');
    expect(fake.called('cancel')).to.have.length(1);
    await waitFor(() => text(part('download-button')) === 'Resume download', 'Resume download');
    expect(text(part('stopped'))).to.equal(
      `Stopped at 120.0 MB of ${mb(548_000_000)}. What was downloaded is kept: Resume download goes on from there.`,
    );
    expect(choiceState('gpt2')).to.match(/^partly downloaded, 120\.0 MB of/);
    expect(changed).to.equal(false);
  });

  it("shows the worker's error word for word, and the choice stays open to try again", async () => {
    const fake = new FakeClient();
    await mount(fake);
    for (const message of [
      'model.safetensors could not be downloaded: the server answered 404 Not Found.',
      'The browser has no room left for GPT-2 small: it stopped at 212.4 MB. Free some space and download again.',
      'config.json is an HTML page, not a model configuration: is the base URL right?',
    ]) {
      choice('gpt2').click();
      await picker.updateComplete;
      part('download-button')!.click();
      await waitFor(() => fake.pending, 'the open call');
      fake.fail(message);
      await waitFor(() => part('card-error'), 'the error');
      expect(text(part('card-error'))).to.equal(message);
      expect(part('card-error')!.getAttribute('role')).to.equal('alert');
      expect(part('download-button')).to.not.equal(null);
      part('close-button')!.click();
      await picker.updateComplete;
    }
  });

  it('works from the keyboard: Enter shows the card, Escape closes it, Enter downloads, Escape cancels', async () => {
    const fake = new FakeClient();
    await mount(fake);
    choice('gpt2').focus();
    await sendKeys({ press: 'Enter' });
    await waitFor(() => focused() === 'download-button', 'focus on Download');
    await sendKeys({ press: 'Escape' });
    await waitFor(() => !part('card'), 'the card to close');
    await waitFor(() => root().activeElement === choice('gpt2'), 'focus back on the choice');
    expect(fake.called('open')).to.deep.equal([]);

    await sendKeys({ press: 'Space' });
    await waitFor(() => focused() === 'download-button', 'focus on Download');
    await sendKeys({ press: 'Enter' });
    await waitFor(() => fake.pending, 'the open call');
    await picker.updateComplete;
    part('cancel-button')!.focus();
    await sendKeys({ press: 'Escape' });
    await waitFor(() => fake.called('cancel').length === 1, 'the cancel call');
    await waitFor(() => focused() === 'download-button', 'focus back on the button');
  });

  it('opens a kept model at once when chosen; GPT-2 medium asks first because of its memory warning', async () => {
    const fake = new FakeClient();
    fake.kept.set('gpt2', { state: 'stored', storedBytes: 550_000_000 });
    fake.kept.set('gpt2-medium', { state: 'stored', storedBytes: 1_522_000_000 });
    await mount(fake);
    choice('gpt2-medium').click();
    await picker.updateComplete;
    expect(text(part('download-button'))).to.equal('Open');
    expect(text(part('card-storage'))).to.equal('All of it is kept in this browser: it opens without the network.');
    expect(fake.called('open')).to.deep.equal([]);
    part('close-button')!.click();
    await picker.updateComplete;

    choice('gpt2').click();
    await waitFor(() => fake.pending, 'the open call');
    expect(fake.called('open')).to.deep.equal([['gpt2']]);
  });

  it('goes back to the built-in model: loads the checkpoint the playground opens with', async () => {
    const fake = new FakeClient();
    const url = new URL(`/models/default-${randomInt(1, 1e6)}.safetensors`, location.href).href;
    await mount(fake, { active: pretrainedInfo(fake.sources[0]!), builtInUrl: url });
    const changed = nextEvent<ModelInfo>('llm-model-change');
    part('builtin-choice')!.click();
    expect((await changed).checkpoint).to.equal(builtInInfo(url).checkpoint);
    expect(fake.loaded).to.deep.equal([url]);
  });

  describe('want (the `model` attribute)', () => {
    it('opens a model kept in this browser at once, with no click', async () => {
      const fake = new FakeClient();
      fake.kept.set('gpt2', { state: 'stored', storedBytes: 550_000_000 });
      await mount(fake, { want: 'gpt2' });
      await waitFor(() => fake.pending, 'the open call');
      expect(fake.called('open')).to.deep.equal([['gpt2']]);
      const changed = nextEvent<ModelInfo>('llm-model-change');
      fake.finish();
      expect((await changed).pretrained).to.equal('gpt2');
    });

    it('shows the card of one not kept and waits for Download', async () => {
      const fake = new FakeClient();
      fake.kept.set('gpt2-medium', { state: 'partial', storedBytes: 100 * MB });
      await mount(fake, { want: 'gpt2-medium' });
      await picker.updateComplete;
      expect(text(part('card-title'))).to.equal('GPT-2 medium');
      expect(text(part('download-button'))).to.equal('Resume download');
      expect(text(part('card-storage'))).to.match(/^It needs .* more of this browser's storage/);
      await picker.refresh();
      expect(fake.called('open')).to.deep.equal([]);
    });

    it("gives the host page's sources to the worker before listing them, and names an unknown id", async () => {
      const fake = new FakeClient();
      const sources: PretrainedSource[] = [
        { id: 'tiny', name: 'Tiny GPT-2', baseUrl: `${location.origin}/tiny/`, bytes: 3 * MB, parameters: 1_234_567 },
      ];
      await mount(fake, { want: 'nope', sources });
      expect(fake.calls.slice(0, 2).map((call) => call.method)).to.deep.equal(['setSources', 'list']);
      expect(fake.called('setSources')).to.deep.equal([[sources]]);
      expect(text(choice('tiny').querySelector('[part~="choice-name"]'))).to.equal('Tiny GPT-2');
      expect(text(part('error'))).to.equal('There is no pretrained model called "nope".');
    });
  });
});
