// <llm-model-library> against an in-memory client at the interface boundary
// (ModelLibraryClient: the library area and requestPersistence): the list, open,
// rename, duplicate, delete, save, autosave, export, import (file, drop, URL),
// errors and the storage line.
import { sendKeys } from '@web/test-runner-commands';
import { expect } from 'chai';
import type { EngineClient } from '../../src/client.ts';
import '../../src/elements/model-library.ts';
import type { ModelLibrary, ModelLibraryClient } from '../../src/elements/model-library.ts';
import {
  type CheckpointSummary,
  type GPTConfig,
  type ImportSource,
  type ModelInfo,
  type PretrainedModels,
  ReadCancelled,
  type ReadProgress,
  type SavedModels,
  type StorageInfo,
} from '../../workers/api/index.ts';
import { countParameters } from '../../workers/engine/params.ts';
import { FakePretrained, pretrainedInfo } from './fake-pretrained.ts';
import { pick, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

// The playground hands its EngineClient to the element: it must have every method the element calls.
const engineClientFits: EngineClient extends ModelLibraryClient ? true : never = true;

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;
const WORDS = ['Otter', 'Lantern', 'Harbour', 'Quartz', 'Meadow', 'Cobalt', 'Fable', 'Juniper', 'Tundra', 'Saffron'];

const randomName = (): string => `${pick(WORDS)} ${randomInt(100, 10000)}`;
const randomId = (): string =>
  `id-${randomInt(0, 36 ** 8)
    .toString(36)
    .padStart(8, '0')}`;
const randomConfig = (): GPTConfig => ({
  vocabSize: randomInt(20, 90),
  blockSize: 32,
  nLayer: 2,
  nHead: 2,
  nEmbd: 16,
  tied: true,
});

function randomModel(overrides: Partial<CheckpointSummary> = {}): CheckpointSummary {
  const updated = Date.now() - randomInt(2, 50) * 60_000 - 10_000;
  return {
    id: randomId(),
    name: randomName(),
    config: randomConfig(),
    step: randomInt(1, 5000),
    bytes: randomInt(2 * MB, 90 * MB),
    corpus: `${randomName()} corpus`,
    created: updated - 3_600_000,
    updated,
    ...overrides,
  };
}

function modelInfo(summary: Pick<CheckpointSummary, 'name' | 'config' | 'step'>, checkpoint?: string): ModelInfo {
  const info: ModelInfo = {
    name: summary.name,
    config: summary.config,
    tokenizer: 'char',
    parameters: countParameters(summary.config),
    vocabulary: Array.from({ length: summary.config.vocabSize }, (_, i) => String.fromCharCode(64 + i)),
    seed: randomInt(1, 1e6),
    weights: summary.step ? 'trained' : 'random',
    step: summary.step,
  };
  if (checkpoint) info.checkpoint = checkpoint;
  return info;
}

type Method = keyof ModelLibraryClient['library'] | 'requestPersistence';

/** Keeps the saved models in memory; records every call; fails a method on request; can hold calls until released. */
class FakeLibrary implements ModelLibraryClient {
  readonly calls: { method: Method; args: unknown[] }[] = [];
  readonly failures: Partial<Record<Method, string>> = {};
  models: CheckpointSummary[];
  activeId: string | null;
  autosaveEvery: number;
  storage: StorageInfo;
  exported = {
    fileName: `${randomName()}.safetensors`,
    bytes: Uint8Array.from({ length: randomInt(64, 512) }, () => randomInt(0, 256)),
  };
  /** Name the next import is stored under. */
  importedName = randomName();
  private gate: Promise<void> = Promise.resolve();
  private open = () => {};

  constructor(saved: Partial<SavedModels> = {}) {
    this.models = saved.models ?? [randomModel(), randomModel({ bytes: randomInt(200 * KB, 900 * KB) }), randomModel()];
    this.activeId = saved.activeId === undefined ? this.models[1]!.id : saved.activeId;
    this.autosaveEvery = saved.autosaveEvery ?? 50;
    this.storage = saved.storage ?? {
      available: true,
      usage: randomInt(2 * MB, 900 * MB),
      quota: randomInt(2 * GB, 9 * GB),
      persisted: false,
    };
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open();
  }

  called(method: Method): unknown[][] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  private async enter(method: Method, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    if (method !== 'list') await this.gate;
    const failure = this.failures[method];
    if (failure) throw new Error(failure);
  }

  private find(id: string): CheckpointSummary {
    const model = this.models.find((entry) => entry.id === id);
    if (!model) throw new Error(`There is no saved model ${id}.`);
    return model;
  }

  readonly library: ModelLibraryClient['library'] = {
    list: async () => {
      await this.enter('list');
      return structuredClone({
        models: this.models,
        activeId: this.activeId,
        autosaveEvery: this.autosaveEvery,
        storage: this.storage,
      });
    },
    save: async (name) => {
      await this.enter('save', name);
      const active = this.models.find((model) => model.id === this.activeId);
      const saved = { ...(active ?? randomModel()), name: name ?? randomName(), updated: Date.now() };
      this.models = active ? this.models.map((model) => (model === active ? saved : model)) : [...this.models, saved];
      this.activeId = saved.id;
      return saved;
    },
    open: async (id) => {
      await this.enter('open', id);
      this.activeId = this.find(id).id;
      return modelInfo(this.find(id));
    },
    rename: async (id, name) => {
      await this.enter('rename', id, name);
      const renamed = { ...this.find(id), name };
      this.models = this.models.map((model) => (model.id === id ? renamed : model));
      return renamed;
    },
    duplicate: async (id) => {
      await this.enter('duplicate', id);
      const copy = { ...this.find(id), id: randomId(), name: `${this.find(id).name} (copy)` };
      this.models = [...this.models, copy];
      return copy;
    },
    delete: async (id) => {
      await this.enter('delete', id);
      this.find(id);
      this.models = this.models.filter((model) => model.id !== id);
      if (this.activeId === id) this.activeId = null;
    },
    export: async (id) => {
      await this.enter('export', ...(id === undefined ? [] : [id]));
      return this.exported;
    },
    import: async (source) => {
      await this.enter('import', source);
      const imported = randomModel({
        name: this.importedName,
        step: 0,
        source: source.kind === 'file' ? source.file.name : source.url,
      });
      delete imported.corpus;
      this.models = [...this.models, imported];
      this.activeId = imported.id;
      return modelInfo(imported, source.kind === 'file' ? source.file.name : undefined);
    },
    cancelImport: async () => {
      await this.enter('cancelImport');
    },
    setAutosave: async (everySteps) => {
      await this.enter('setAutosave', everySteps);
      this.autosaveEvery = everySteps;
    },
    // Not among the recorded calls: the element makes it once, with its client, before any action.
    watch: async (onChange) => {
      this.othersChanged = onChange;
    },
  };

  /** The pretrained models kept in this browser (the Downloaded group); none unless a test keeps some. */
  readonly downloads = new FakePretrained();
  readonly pretrained = this.downloads.pretrained;

  /** What the element gave watch(): the worker calls it when another engine changed the saved models. */
  othersChanged: () => void = () => {
    throw new Error('the element never called watch()');
  };

  async requestPersistence(): Promise<boolean> {
    await this.enter('requestPersistence');
    this.storage = { ...this.storage, persisted: true };
    return true;
  }
}

describe('<llm-model-library>', function () {
  let library: ModelLibrary;
  let client: FakeLibrary;
  const root = () => library.shadowRoot!;
  const part = <E extends HTMLElement = HTMLElement>(name: string) => root().querySelector<E>(`[part~="${name}"]`);
  const text = (element: Element | null) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';
  const rows = () => [...root().querySelectorAll<HTMLLIElement>('[part~="model"]')];
  const row = (id: string) => root().querySelector<HTMLLIElement>(`[part~="model"][data-id="${id}"]`);
  const inRow = <E extends HTMLElement = HTMLButtonElement>(id: string, name: string) =>
    row(id)?.querySelector<E>(`[part~="${name}"]`) ?? null;
  const names = () => rows().map((li) => text(li.querySelector('[part~="model-name"]')));
  /** Where focus is, as "<row id> <part>" (plain text: a failed check then shows it, not a whole element). */
  const focused = (): string => {
    const element = root().activeElement;
    if (!element) return 'outside the element';
    return `${element.closest('[part~="model"]')?.getAttribute('data-id') ?? '-'} ${element.getAttribute('part')}`;
  };
  const settled = async () => {
    await waitFor(() => root().querySelector('[part~="library"]')?.getAttribute('aria-busy') === 'false', 'the action to end');
    await library.updateComplete;
  };

  async function mount(fake: FakeLibrary, active: ModelInfo | null = null): Promise<void> {
    client = fake;
    library = document.createElement('llm-model-library');
    library.active = active;
    library.client = fake;
    document.body.append(library);
    await waitFor(() => library.saved, 'the first list');
    await library.updateComplete;
  }

  /** Resolves with the detail of the next `type` event that reaches the document. */
  const nextEvent = <T>(type: string) =>
    new Promise<T>((resolve) =>
      document.addEventListener(type, (event) => resolve((event as CustomEvent<T>).detail), { once: true }),
    );

  afterEach(() => library?.remove());

  it('EngineClient has every method the element calls', () => {
    expect(engineClientFits).to.equal(true);
  });

  it('lists the saved models: name, steps, size, when, corpus, source or the model tuned from, and which one is in use', async () => {
    const fake = new FakeLibrary();
    const imported = randomModel({ step: 0, source: `${randomName()}.safetensors` });
    delete imported.corpus;
    const tuned = randomModel({ step: 0, tunedFrom: randomName() });
    delete tuned.corpus;
    fake.models.push(imported, tuned);
    await mount(fake);

    expect(names()).to.deep.equal(fake.models.map((model) => model.name));
    for (const model of fake.models) {
      const meta = text(inRow(model.id, 'model-meta'));
      const steps = `${model.step.toLocaleString('en-US')} ${model.step === 1 ? 'step' : 'steps'}`;
      const size = model.bytes >= MB ? `${(model.bytes / MB).toFixed(1)} MB` : `${(model.bytes / KB).toFixed(1)} KB`;
      const minutes = Math.floor((Date.now() - model.updated) / 60_000);
      expect(meta).to.include(`${steps} · ${size} · updated ${minutes} minutes ago`);
      const origin = model.tunedFrom
        ? `tuned from ${model.tunedFrom}`
        : model.corpus
          ? `trained on ${model.corpus}`
          : `from ${model.source}`;
      expect(meta).to.include(origin);
      const time = row(model.id)!.querySelector('time')!;
      expect(new Date(time.dateTime).getTime()).to.equal(model.updated);
      expect(time.title).to.equal(new Date(model.updated).toLocaleString('en-US'));
    }
    // The one in use is marked, and only it.
    const active = fake.models[1]!;
    expect(
      rows()
        .filter((li) => li.getAttribute('aria-current') === 'true')
        .map((li) => li.dataset['id']),
    ).to.deep.equal([active.id]);
    expect(root().querySelectorAll('[part~="active-badge"]')).to.have.length(1);
    expect(text(inRow(active.id, 'active-badge'))).to.equal('in use');
    expect(text(part('active-model'))).to.equal(`In the playground: ${active.name}`);
    expect(part('empty')).to.equal(null);
  });

  it('offers no Save, Autosave or Export for a pretrained model in use, and says it is kept as its files', async () => {
    const gpt2 = { ...modelInfo(randomModel()), name: 'GPT-2 small', pretrained: 'gpt2' };
    await mount(new FakeLibrary({ models: [], activeId: null }), gpt2);
    for (const name of ['save-button', 'autosave', 'export-button']) {
      expect(part<HTMLButtonElement>(name)!.disabled, name).to.equal(true);
    }
    expect(text(part('storage-problem'))).to.equal(
      'GPT-2 small is kept as its downloaded files (below): it is not saved or exported as a model.',
    );
  });

  it('says when nothing is saved, and that the model in the playground is not (Save offers its name)', async () => {
    const unsaved = modelInfo(randomModel());
    await mount(new FakeLibrary({ models: [], activeId: null }), unsaved);
    expect(rows()).to.have.length(0);
    expect(text(part('empty'))).to.match(/^No saved models yet/);
    expect(text(part('active-model'))).to.equal('The model in the playground is not saved yet.');
    expect(part<HTMLInputElement>('save-name')!.value).to.equal(unsaved.name);
  });

  it('opens a model: llm-model-change with its ModelInfo, then llm-models-change, and the mark moves', async () => {
    await mount(new FakeLibrary());
    const target = client.models[2]!;
    const changed = nextEvent<ModelInfo>('llm-model-change');
    const listed = nextEvent<SavedModels>('llm-models-change');
    inRow(target.id, 'open-button')!.click();
    const info = await changed;
    expect(client.called('open')).to.deep.equal([[target.id]]);
    expect(info.config).to.deep.equal(target.config);
    expect(info.step).to.equal(target.step);
    expect((await listed).activeId).to.equal(target.id);
    await settled();
    expect(row(target.id)!.getAttribute('aria-current')).to.equal('true');
    expect(row(client.models[1]!.id)!.hasAttribute('aria-current')).to.equal(false);
    expect(text(part('status'))).to.equal(`Opened '${target.name}'`);
  });

  it('renames by keyboard: Enter saves the new name, Escape leaves the old one', async () => {
    await mount(new FakeLibrary());
    const target = client.models[0]!;
    const renamed = randomName();

    inRow(target.id, 'rename-button')!.focus();
    await sendKeys({ press: 'Enter' });
    const field = await waitFor(() => inRow<HTMLInputElement>(target.id, 'rename-field'), 'the name field');
    expect(focused()).to.equal(`${target.id} rename-field`);
    expect(field.value).to.equal(target.name);
    await sendKeys({ type: renamed });
    await sendKeys({ press: 'Enter' });
    await waitFor(() => names()[0] === renamed, 'the new name');
    await settled();
    expect(client.called('rename')).to.deep.equal([[target.id, renamed]]);
    expect(inRow(target.id, 'rename-field')).to.equal(null);
    expect(focused()).to.equal(`${target.id} rename-button`);
    expect(text(part('status'))).to.equal(`Renamed '${target.name}' to '${renamed}'`);

    await sendKeys({ press: 'Enter' });
    await waitFor(() => inRow(target.id, 'rename-field'), 'the name field again');
    await sendKeys({ type: randomName() });
    await sendKeys({ press: 'Escape' });
    await library.updateComplete;
    expect(inRow(target.id, 'rename-field')).to.equal(null);
    expect(names()[0]).to.equal(renamed);
    expect(client.called('rename')).to.have.length(1);
    expect(focused()).to.equal(`${target.id} rename-button`);
  });

  it('duplicates a model, and tells the page the list changed', async () => {
    await mount(new FakeLibrary());
    const target = client.models[2]!;
    const listed = nextEvent<SavedModels>('llm-models-change');
    inRow(target.id, 'duplicate-button')!.click();
    const saved = await listed;
    await settled();
    expect(client.called('duplicate')).to.deep.equal([[target.id]]);
    expect(saved.models).to.have.length(4);
    expect(names()).to.deep.equal([...client.models.slice(0, 3).map((model) => model.name), `${target.name} (copy)`]);
    expect(text(part('status'))).to.equal(`Duplicated '${target.name}' as '${target.name} (copy)'`);
  });

  it('deletes only after a yes in the row itself: Keep cancels, Delete deletes', async () => {
    await mount(new FakeLibrary());
    const [first, target, last] = client.models as [CheckpointSummary, CheckpointSummary, CheckpointSummary];

    inRow(target.id, 'delete-button')!.click();
    await library.updateComplete;
    expect(text(inRow(target.id, 'confirm-delete'))).to.include(`Delete '${target.name}'? This cannot be undone.`);
    expect(focused()).to.equal(`${target.id} cancel-delete-button`);
    inRow(target.id, 'cancel-delete-button')!.click();
    await library.updateComplete;
    expect(inRow(target.id, 'confirm-delete')).to.equal(null);
    expect(focused()).to.equal(`${target.id} delete-button`);
    expect(client.called('delete')).to.have.length(0);

    inRow(target.id, 'delete-button')!.click();
    await library.updateComplete;
    inRow(target.id, 'confirm-delete-button')!.click();
    await waitFor(() => !row(target.id), 'the row to go');
    await settled();
    expect(client.called('delete')).to.deep.equal([[target.id]]);
    expect(names()).to.deep.equal([first.name, last.name]);
    expect(text(part('status'))).to.equal(`Deleted '${target.name}'`);
    // Focus goes to the row that took its place.
    await library.updateComplete;
    expect(focused()).to.equal(`${last.id} open-button`);
  });

  it('saves: asks for persistent storage the first time, then saves under the name in the field', async () => {
    await mount(new FakeLibrary());
    const active = client.models[1]!;
    const field = part<HTMLInputElement>('save-name')!;
    expect(field.value).to.equal(active.name);

    part('save-button')!.click();
    await waitFor(() => text(part('status')).startsWith('Saved'), 'the first save');
    expect(client.calls.filter((call) => call.method !== 'list').map((call) => call.method)).to.deep.equal([
      'requestPersistence',
      'save',
    ]);
    expect(client.called('save')).to.deep.equal([[active.name]]);
    expect(text(part('status'))).to.equal(`Saved '${active.name}' at step ${active.step.toLocaleString('en-US')}`);
    await settled();
    expect(text(part('persisted'))).to.equal('persistent');

    const other = randomName();
    field.focus();
    field.select();
    await sendKeys({ type: other });
    await sendKeys({ press: 'Enter' });
    await waitFor(() => client.called('save').length === 2, 'the second save');
    await settled();
    expect(client.called('save')[1]).to.deep.equal([other]);
    expect(client.called('requestPersistence')).to.have.length(1);
    expect(text(part('status'))).to.match(new RegExp(`^Saved '${other}' at step`));
    expect(part<HTMLInputElement>('save-name')!.value).to.equal(other);
  });

  it('shows a failed save in role=alert, with the buttons back and the list untouched', async () => {
    const fake = new FakeLibrary();
    const quota = `The browser's storage is full (${randomInt(10, 99)} MB used): delete a saved model to make room. The model is still here.`;
    fake.failures.save = quota;
    await mount(fake);
    const before = names();
    part('save-button')!.click();
    const alert = await waitFor(() => part('error'), 'the alert');
    await settled();
    expect(alert.getAttribute('role')).to.equal('alert');
    expect(text(alert)).to.equal(quota);
    expect(text(part('status'))).to.equal('');
    expect(part<HTMLButtonElement>('save-button')!.disabled).to.equal(false);
    expect(names()).to.deep.equal(before);
  });

  it('is busy while an action runs: every action disabled, aria-busy on the panel and the button', async () => {
    await mount(new FakeLibrary());
    const labels = () => [...root().querySelectorAll('button')].map((button) => text(button));
    const idle = labels();
    expect(idle.filter((label) => label.endsWith('…'))).to.deep.equal([]);
    expect(root().querySelectorAll('[aria-busy="true"]')).to.have.length(0);
    client.hold();
    part('save-button')!.click();
    await library.updateComplete;
    expect(part('library')!.getAttribute('aria-busy')).to.equal('true');
    expect(part('save-button')!.getAttribute('aria-busy')).to.equal('true');
    expect(text(part('save-button'))).to.equal('Saving…');
    const controls = [
      ...root().querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>(
        'button, select, input[type="file"], input[type="url"]',
      ),
    ];
    expect(controls.filter((control) => !control.disabled)).to.deep.equal([]);
    expect(labels().filter((label) => label.endsWith('…'))).to.deep.equal(['Saving…']);
    client.release();
    await settled();
    expect(part<HTMLButtonElement>('save-button')!.disabled).to.equal(false);
    expect(labels()).to.deep.equal(idle);
  });

  it('sets autosave from the select, starting at the interval the worker has', async () => {
    await mount(new FakeLibrary({ autosaveEvery: 100 }));
    const select = part<HTMLSelectElement>('autosave')!;
    expect(select.value).to.equal('100');
    expect([...select.options].map((option) => text(option))).to.deep.equal([
      'Off',
      'every 25 steps',
      'every 50 steps',
      'every 100 steps',
      'every 500 steps',
    ]);
    const choice = ['0', '25', '50', '500'][randomInt(0, 4)]!;
    select.value = choice;
    select.dispatchEvent(new Event('change'));
    await waitFor(() => client.called('setAutosave').length === 1, 'setAutosave');
    await settled();
    expect(client.called('setAutosave')).to.deep.equal([[Number(choice)]]);
    expect(part<HTMLSelectElement>('autosave')!.value).to.equal(choice);
  });

  describe('export', () => {
    const { createObjectURL, revokeObjectURL } = URL;
    afterEach(() => Object.assign(URL, { createObjectURL, revokeObjectURL }));

    /** Clicks `button` and catches the download it starts: the link, the file's bytes, and the URLs let go. */
    async function download(button: HTMLElement) {
      const url = `blob:${location.origin}/${randomId()}`;
      const blobs: Blob[] = [];
      const revoked: string[] = [];
      URL.createObjectURL = (blob: Blob) => (blobs.push(blob), url);
      URL.revokeObjectURL = (revokedUrl: string) => revoked.push(revokedUrl);
      const downloads: HTMLAnchorElement[] = [];
      const onClick = (event: Event) => {
        const target = event.composedPath()[0];
        if (target instanceof HTMLAnchorElement && target.download) {
          event.preventDefault();
          downloads.push(target);
        }
      };
      document.addEventListener('click', onClick, true);
      try {
        button.click();
        await waitFor(() => downloads.length, 'the download');
      } finally {
        document.removeEventListener('click', onClick, true);
      }
      return { url, blobs, revoked, downloads };
    }

    it('downloads the active model as its .safetensors file, then lets the URL go', async () => {
      await mount(new FakeLibrary());
      const { url, blobs, revoked, downloads } = await download(part('export-button')!);
      expect(client.called('export')).to.deep.equal([[]]);
      expect(downloads[0]!.download).to.equal(client.exported.fileName);
      expect(downloads[0]!.href).to.equal(url);
      expect(new Uint8Array(await blobs[0]!.arrayBuffer())).to.deep.equal(client.exported.bytes);
      await waitFor(() => revoked.length, 'the URL to be revoked');
      expect(revoked).to.deep.equal([url]);
      expect(text(part('status'))).to.equal(`Exported ${client.exported.fileName}`);
      expect(downloads[0]!.isConnected).to.equal(false);
    });

    it('downloads any saved model from its card, without opening it', async () => {
      await mount(new FakeLibrary());
      const target = pick(client.models);
      const { blobs, downloads } = await download(inRow(target.id, 'download-button')!);
      expect(client.called('export')).to.deep.equal([[target.id]]);
      expect(client.called('open')).to.deep.equal([]);
      expect(downloads[0]!.download).to.equal(client.exported.fileName);
      expect(new Uint8Array(await blobs[0]!.arrayBuffer())).to.deep.equal(client.exported.bytes);
      await waitFor(() => text(part('status')) === `Exported ${client.exported.fileName}`, 'the status line');
    });
  });

  describe('import', () => {
    const randomFile = (): File =>
      new File([Uint8Array.from({ length: randomInt(100, 3000) }, () => randomInt(0, 256))], `${randomName()}.safetensors`);

    const filesOf = (file: File): DataTransfer => {
      const transfer = new DataTransfer();
      transfer.items.add(file);
      return transfer;
    };

    async function expectImported(file: File, changed: Promise<ModelInfo>): Promise<void> {
      const info = await changed;
      expect(info.checkpoint).to.equal(file.name);
      const [[source]] = client.called('import') as [[ImportSource]];
      expect(source.kind).to.equal('file');
      if (source.kind !== 'file') return;
      // The File itself, unread: the worker reads it.
      expect(source.file).to.equal(file);
      await settled();
      expect(text(part('status'))).to.equal(`Imported '${client.importedName}'`);
      expect(names()).to.include(client.importedName);
    }

    it('imports a file chosen in the picker', async () => {
      await mount(new FakeLibrary());
      const file = randomFile();
      const input = part<HTMLInputElement>('import-file')!;
      expect(input.accept).to.equal('.safetensors');
      const changed = nextEvent<ModelInfo>('llm-model-change');
      input.files = filesOf(file).files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      await expectImported(file, changed);
    });

    it('imports a file dropped on the panel, which lights up while the file is over it', async () => {
      await mount(new FakeLibrary());
      const file = randomFile();
      const panel = part('library')!;
      const transfer = filesOf(file);
      const drag = (type: string, target: Element = panel) =>
        target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, composed: true, dataTransfer: transfer }));

      drag('dragenter');
      drag('dragenter', part('save-name')!);
      drag('dragleave');
      await library.updateComplete;
      expect(panel.classList.contains('dragging')).to.equal(true);
      expect(drag('dragover')).to.equal(false, 'dragover accepted');
      const changed = nextEvent<ModelInfo>('llm-model-change');
      drag('drop', part('save-name')!);
      await library.updateComplete;
      expect(panel.classList.contains('dragging')).to.equal(false);
      await expectImported(file, changed);
    });

    it('imports from a URL, relative ones read against the page', async () => {
      await mount(new FakeLibrary());
      const path = `models/${randomId()}.safetensors`;
      part<HTMLInputElement>('import-url')!.value = path;
      const changed = nextEvent<ModelInfo>('llm-model-change');
      part('import-url-button')!.click();
      await changed;
      await settled();
      expect(client.called('import')).to.deep.equal([[{ kind: 'url', url: new URL(path, document.baseURI).href }]]);
      expect(text(part('status'))).to.equal(`Imported '${client.importedName}'`);
    });

    it('is busy while the worker checks the file, and shows its error word for word', async () => {
      const fake = new FakeLibrary();
      const reason = `model.safetensors is not a model: tensor "wte" has shape [${randomInt(2, 99)}, 16]; the header says [65, 16].`;
      fake.failures.import = reason;
      await mount(fake);
      let changes = 0;
      const count = () => changes++;
      document.addEventListener('llm-model-change', count);
      const file = randomFile();
      client.hold();
      const input = part<HTMLInputElement>('import-file')!;
      input.files = filesOf(file).files;
      input.dispatchEvent(new Event('change'));
      await waitFor(() => part('library')!.getAttribute('aria-busy') === 'true', 'the busy state');
      await library.updateComplete;
      const size = `${(file.size / KB).toFixed(1)} KB`;
      expect(text(part('status'))).to.equal(`Importing ${file.name} (${file.size < KB ? `${file.size} bytes` : size})…`);
      expect(part<HTMLInputElement>('import-file')!.disabled).to.equal(true);
      expect(part('import-url-button')!.getAttribute('aria-busy')).to.equal('true');
      client.release();
      const alert = await waitFor(() => part('error'), 'the alert');
      await settled();
      document.removeEventListener('llm-model-change', count);
      expect(alert.getAttribute('role')).to.equal('alert');
      expect(text(alert)).to.equal(reason);
      expect(changes).to.equal(0);
      expect(names()).to.not.include(client.importedName);
    });
    it('refuses a file over the import limit by its size, before anything reads it', async () => {
      await mount(new FakeLibrary());
      const file = new File(['tiny'], `${randomName()}.safetensors`);
      const size = randomInt(513, 4000) * MB;
      Object.defineProperty(file, 'size', { value: size });
      for (const read of ['arrayBuffer', 'stream', 'text', 'slice', 'bytes']) {
        Object.defineProperty(file, read, {
          value: () => {
            throw new Error(`${read}() was called`);
          },
        });
      }
      const input = part<HTMLInputElement>('import-file')!;
      input.files = filesOf(file).files;
      input.dispatchEvent(new Event('change'));
      const alert = await waitFor(() => part('error'), 'the alert');
      expect(text(alert)).to.equal(`"${file.name}" is ${size / MB} MB, over the 512 MB limit. Use a smaller file.`);
      expect(client.called('import')).to.deep.equal([]);
    });

    it('shows how far the worker has read (MB and percent, or a moving bar with no size), and Cancel stops it', async () => {
      const fake = new FakeLibrary();
      await mount(fake);
      let report!: (progress: ReadProgress) => unknown;
      let cancel!: () => void;
      fake.library.import = (source, onProgress) => {
        fake.calls.push({ method: 'import', args: [source] });
        report = onProgress!;
        return new Promise((_, reject) => (cancel = () => reject(new ReadCancelled())));
      };
      fake.library.cancelImport = async () => {
        fake.calls.push({ method: 'cancelImport', args: [] });
        cancel();
      };
      let changes = 0;
      const count = () => changes++;
      document.addEventListener('llm-model-change', count);
      part<HTMLInputElement>('import-url')!.value = `https://example.org/${randomId()}.safetensors`;
      part('import-url-button')!.click();
      const bar = await waitFor(() => part<HTMLProgressElement>('read-progress-bar'), 'the progress bar');
      // Nothing heard yet: no size, so no value (an indeterminate bar).
      expect(bar.hasAttribute('value')).to.equal(false);
      expect(text(part('read-progress-text'))).to.equal('0 bytes so far');

      const total = randomInt(20, 400) * MB;
      const loaded = Math.round(total * (randomInt(5, 95) / 100));
      report({ loaded, total });
      await library.updateComplete;
      expect([bar.value, bar.max]).to.deep.equal([loaded, total]);
      const percent = Math.floor((loaded / total) * 100);
      expect(text(part('read-progress-text'))).to.equal(
        `${(loaded / MB).toFixed(1)} MB of ${(total / MB).toFixed(1)} MB (${percent}%)`,
      );
      report({ loaded: loaded + MB });
      await library.updateComplete;
      expect(bar.hasAttribute('value')).to.equal(false);
      expect(text(part('read-progress-text'))).to.equal(`${((loaded + MB) / MB).toFixed(1)} MB so far`);

      // The rest waits, but Cancel is there and works.
      expect(part<HTMLButtonElement>('save-button')!.disabled).to.equal(true);
      const cancelButton = part<HTMLButtonElement>('import-cancel')!;
      expect(cancelButton.disabled).to.equal(false);
      cancelButton.click();
      await settled();
      document.removeEventListener('llm-model-change', count);
      expect(client.called('cancelImport')).to.have.length(1);
      expect(text(part('status'))).to.equal('Import cancelled; nothing changed.');
      expect(part('error')).to.equal(null);
      expect(part('read-progress')).to.equal(null);
      expect(part<HTMLButtonElement>('save-button')!.disabled).to.equal(false);
      expect(changes).to.equal(0);
    });

    it("names the imported model as the worker does, without its extension, when the list can't say", async () => {
      // Storage failed: the model is in use but not saved, so the list still marks the one before.
      const fake = new FakeLibrary();
      await mount(fake);
      const name = randomName();
      fake.library.import = async (source) => {
        fake.calls.push({ method: 'import', args: [source] });
        return modelInfo({ name, config: randomConfig(), step: 0 }, `${name}.safetensors`);
      };
      const input = part<HTMLInputElement>('import-file')!;
      input.files = filesOf(new File(['x'], `${name}.safetensors`)).files;
      input.dispatchEvent(new Event('change'));
      await waitFor(() => client.called('import').length, 'the import');
      await settled();
      expect(text(part('status'))).to.equal(`Imported '${name}'`);
    });
  });

  it('says how much storage is used, whether it is persistent, and what is wrong with it', async () => {
    const usage = randomInt(2 * MB, 900 * MB);
    const quota = randomInt(2 * GB, 9 * GB);
    const problem = `The last save did not fit: ${randomInt(1, 99)} MB free.`;
    await mount(new FakeLibrary({ storage: { available: true, usage, quota, persisted: true, problem } }));
    expect(text(part('storage'))).to.equal(`Using ${(usage / MB).toFixed(1)} MB of ${(quota / GB).toFixed(1)} GB persistent`);
    expect(part('persisted')!.title).to.match(/promised/);
    expect(text(part('storage-problem'))).to.equal(problem);
    expect(part('storage-problem')!.checkVisibility()).to.equal(true);
    expect(part<HTMLButtonElement>('save-button')!.disabled).to.equal(false);
  });

  it('disables Save, Duplicate and autosave, and says why, when there is no storage', async () => {
    const problem = 'This is a private window: the browser keeps no saved models here. Training and sampling go on in memory.';
    await mount(
      new FakeLibrary({ models: [randomModel()], activeId: null, storage: { available: false, problem } }),
      modelInfo(randomModel()),
    );
    const save = part<HTMLButtonElement>('save-button')!;
    expect(save.disabled).to.equal(true);
    expect(save.getAttribute('aria-describedby')).to.equal('storage-problem');
    expect(text(part('storage-problem'))).to.equal(problem);
    expect(part<HTMLSelectElement>('autosave')!.disabled).to.equal(true);
    expect(part<HTMLButtonElement>('duplicate-button')!.disabled).to.equal(true);
    expect(part<HTMLButtonElement>('open-button')!.disabled).to.equal(false);
    expect(part('storage')).to.equal(null);
    part('save-name')!.focus();
    await sendKeys({ press: 'Enter' });
    expect(client.called('save')).to.have.length(0);
  });

  it('reads the list again when the playground sets a new active model', async () => {
    await mount(new FakeLibrary());
    const target = client.models[0]!;
    // An autosave happened in the worker: the step moved on.
    const step = target.step + randomInt(1, 500);
    client.models = client.models.map((model) => (model.id === target.id ? { ...model, step } : model));
    client.activeId = target.id;
    const listed = nextEvent<SavedModels>('llm-models-change');
    library.active = modelInfo({ ...target, step });
    expect((await listed).activeId).to.equal(target.id);
    await library.updateComplete;
    expect(text(inRow(target.id, 'model-meta'))).to.match(new RegExp(`^${step.toLocaleString('en-US')} steps`));
    expect(part<HTMLInputElement>('save-name')!.value).to.equal(target.name);
  });

  it('reads the list again when another engine on the database changed it, without a reload', async () => {
    await mount(new FakeLibrary());
    // Another playground saved a model and renamed one of these.
    const theirs = randomModel();
    const renamed = { ...client.models[0]!, name: randomName() };
    client.models = [renamed, ...client.models.slice(1), theirs];
    const listed = nextEvent<SavedModels>('llm-models-change');
    client.othersChanged();
    expect((await listed).models.map((model) => model.id)).to.include(theirs.id);
    await library.updateComplete;
    expect(names()).to.deep.equal(client.models.map((model) => model.name));
  });

  describe('Downloaded (pretrained models kept in this browser)', () => {
    const group = () => root().querySelector('llm-downloaded-models')!;
    const inGroup = <E extends HTMLElement = HTMLButtonElement>(name: string, id?: string) =>
      group().shadowRoot!.querySelector<E>(`${id ? `li[data-id="${id}"] ` : ''}[part~="${name}"]`);
    const downloadedRows = () => [...group().shadowRoot!.querySelectorAll<HTMLLIElement>('[part~="downloaded-model"]')];
    const settledGroup = async () => {
      await waitFor(() => inGroup('downloaded')?.getAttribute('aria-busy') === 'false', 'the action to end');
      await group().updateComplete;
    };

    async function mountKeeping(active: ModelInfo | null = null): Promise<FakeLibrary> {
      const fake = new FakeLibrary();
      const partial = randomInt(20 * MB, 900 * MB);
      fake.downloads.kept.set('gpt2', { state: 'stored', storedBytes: 548_105_171 });
      fake.downloads.kept.set('gpt2-medium', { state: 'partial', storedBytes: partial });
      await mount(fake, active);
      await waitFor(() => downloadedRows().length === 2, 'the downloaded rows');
      return fake;
    }

    it('is left out while no pretrained model is kept', async () => {
      await mount(new FakeLibrary());
      await waitFor(() => group().models, 'the pretrained list');
      await group().updateComplete;
      expect(inGroup('downloaded')).to.equal(null);
    });

    it('lists the kept and partly downloaded ones with their size', async () => {
      const fake = await mountKeeping();
      expect(downloadedRows().map((li) => text(li.querySelector('[part~="downloaded-name"]')))).to.deep.equal([
        'GPT-2 small',
        'GPT-2 medium',
      ]);
      expect(text(inGroup('downloaded-meta', 'gpt2'))).to.equal('522.7 MB, opens offline');
      const partial = fake.downloads.entry('gpt2-medium').storedBytes;
      expect(text(inGroup('downloaded-meta', 'gpt2-medium'))).to.equal(
        `partly downloaded: ${(partial / MB).toFixed(1)} MB of 1.4 GB, resumes from there`,
      );
      expect(inGroup('downloaded-warning', 'gpt2')).to.equal(null);
      expect(text(inGroup('downloaded-warning', 'gpt2-medium'))).to.match(/^GPT-2 medium needs about 1\.5 GB of memory/);
      expect(text(inGroup('downloaded-open', 'gpt2'))).to.equal('Open');
      expect(text(inGroup('downloaded-open', 'gpt2-medium'))).to.equal('Resume download');
    });

    it('opens one, with its progress, and the playground swaps to it', async () => {
      const fake = await mountKeeping();
      inGroup('downloaded-open', 'gpt2')!.click();
      await waitFor(() => fake.downloads.pending, 'the open call');
      expect(fake.downloads.called('open')).to.deep.equal([['gpt2']]);
      fake.downloads.progress({ phase: 'open', loaded: 100 * MB, total: 400 * MB });
      await group().updateComplete;
      expect(text(inGroup('progress-text', 'gpt2'))).to.equal('Reading it from this browser: 100.0 MB of 400.0 MB (25%)');
      const changed = nextEvent<ModelInfo>('llm-model-change');
      fake.downloads.finish();
      expect((await changed).pretrained).to.equal('gpt2');
      await settledGroup();
      expect(text(inGroup('downloaded-status'))).to.equal('Opened GPT-2 small');
    });

    it('resumes a partial download with its progress, and Cancel stops it, keeping what came', async () => {
      const fake = await mountKeeping();
      inGroup('downloaded-open', 'gpt2-medium')!.click();
      await waitFor(() => fake.downloads.pending, 'the open call');
      const kept = fake.downloads.entry('gpt2-medium').storedBytes;
      fake.downloads.progress({ loaded: kept + 10 * MB, total: 1_522_000_000, resumedFrom: kept, secondsLeft: 42 });
      await group().updateComplete;
      expect(text(inGroup('progress-text', 'gpt2-medium'))).to.match(/, about 42 s left, resuming from \d+\.\d MB$/);
      inGroup('downloaded-cancel', 'gpt2-medium')!.click();
      await settledGroup();
      expect(fake.downloads.called('cancel')).to.have.length(1);
      expect(text(inGroup('downloaded-status'))).to.equal('Stopped; what GPT-2 medium has downloaded is kept for a resume.');
      expect(inGroup('downloaded-error')).to.equal(null);
    });

    it('works from the keyboard: Escape in the question keeps the model and puts focus back on Delete', async () => {
      const fake = await mountKeeping();
      inGroup('downloaded-delete', 'gpt2')!.focus();
      await sendKeys({ press: 'Enter' });
      await waitFor(() => group().shadowRoot!.activeElement === inGroup('downloaded-keep', 'gpt2'), 'focus on Keep');
      await sendKeys({ press: 'Escape' });
      await waitFor(() => group().shadowRoot!.activeElement === inGroup('downloaded-delete', 'gpt2'), 'focus on Delete');
      expect(fake.downloads.called('delete')).to.deep.equal([]);
    });

    it('deletes only after a yes; the one in use stays open in the playground', async () => {
      const fake = await mountKeeping();
      library.active = pretrainedInfo(fake.downloads.entry('gpt2'));
      await settled();
      expect(text(inGroup('downloaded-badge', 'gpt2'))).to.equal('in use');
      inGroup('downloaded-delete', 'gpt2')!.click();
      await group().updateComplete;
      expect(text(inGroup('downloaded-confirm', 'gpt2'))).to.match(/^Delete GPT-2 small from this browser\?/);
      inGroup('downloaded-keep', 'gpt2')!.click();
      await group().updateComplete;
      expect(inGroup('downloaded-confirm', 'gpt2')).to.equal(null);
      expect(fake.downloads.called('delete')).to.deep.equal([]);

      inGroup('downloaded-delete', 'gpt2')!.click();
      await group().updateComplete;
      const listed = nextEvent<PretrainedModels>('llm-pretrained-change');
      inGroup('downloaded-confirm-delete', 'gpt2')!.click();
      expect((await listed).models.find((model) => model.id === 'gpt2')!.state).to.equal('none');
      expect(fake.downloads.called('delete')).to.deep.equal([['gpt2']]);
      await settledGroup();
      expect(downloadedRows().map((li) => li.dataset['id'])).to.deep.equal(['gpt2-medium']);
      expect(text(inGroup('downloaded-status'))).to.equal(
        'Deleted GPT-2 small from this browser; it stays open in the playground until you choose another model.',
      );
    });
  });
});
