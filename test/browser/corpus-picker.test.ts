// <llm-corpus-picker> alone (what it sends, what it refuses itself, how it shows a read under way and
// a web page), then inside <llm-training-panel> with the real worker reading from the dev server's
// /fetch-test/ routes: progress, Cancel, and "Use its text".
import { expect } from 'chai';
import { EngineClient } from '../../src/client.ts';
import '../../src/elements/corpus-picker.ts';
import type { CorpusPicker } from '../../src/elements/corpus-picker.ts';
import '../../src/elements/training-panel.ts';
import type { TrainingPanel } from '../../src/elements/training-panel.ts';
import type { CorpusSource } from '../../workers/api/index.ts';
import { pick, randomInt } from './seeded.ts';
import { waitFor } from './wait-for.ts';

const MB = 2 ** 20;
const route = (path: string): string => new URL(`/fetch-test/${path}`, location.href).href;
const text = (element: Element | null | undefined) => element?.textContent!.replace(/\s+/g, ' ').trim() ?? '';

describe('<llm-corpus-picker>', () => {
  let picker: CorpusPicker;
  let sent: CorpusSource[];
  let cancels: number;
  const part = <E extends HTMLElement = HTMLElement>(name: string) => picker.shadowRoot!.querySelector<E>(`[part~="${name}"]`);
  const record = (event: Event) => sent.push((event as CustomEvent<CorpusSource>).detail);
  const countCancel = () => cancels++;

  beforeEach(async () => {
    sent = [];
    cancels = 0;
    picker = document.createElement('llm-corpus-picker');
    picker.addEventListener('llm-corpus-change', record);
    picker.addEventListener('llm-corpus-cancel', countCancel);
    document.body.append(picker);
    await picker.updateComplete;
  });
  afterEach(() => picker.remove());

  async function choose(kind: string): Promise<void> {
    picker.shadowRoot!.querySelector<HTMLInputElement>(`input[value="${kind}"]`)!.click();
    await picker.updateComplete;
  }

  it('says how many characters, bytes and tokens a word-piece corpus has, and lists its families', async () => {
    const tokens = randomInt(1000, 5000);
    picker.summary = {
      name: 'the built-in corpus',
      characters: 12000,
      bytes: 12400,
      tokenizer: 'bpe',
      tokens,
      vocabulary: ['a', ' b', ' king', '\\xc3'],
      trainTokens: tokens - 100,
      validationTokens: 100,
      families: [
        {
          id: 'facts',
          name: 'Facts',
          example: 'Michael Jordan plays the sport of basketball.',
          paragraphs: 40,
          characters: 3000,
        },
        { id: 'plural', name: 'Singular and plural', example: 'The cat saw two cats.', paragraphs: 12, characters: 900 },
      ],
    };
    await picker.updateComplete;
    const perToken = (12000 / tokens).toFixed(1);
    expect(text(part('corpus-summary'))).to.contain(
      `12,000 characters (12,400 bytes), ${tokens.toLocaleString('en-US')} word-piece tokens: ${perToken} characters per token.`,
    );
    expect(text(part('corpus-summary')))
      .to.contain('the first 256 are the single bytes')
      .and.not.contain('stands for');
    expect(part('vocabulary')!.querySelectorAll('li')).to.have.length(4);
    const rows = [...part('families')!.querySelectorAll('tbody tr')].map((row) => text(row));
    expect(rows).to.deep.equal([
      'Facts Michael Jordan plays the sport of basketball. 40 3,000',
      'Singular and plural The cat saw two cats. 12 900',
    ]);
  });

  it('refuses pasted text over 20 MB itself, so it is never sent, counting UTF-8 bytes', async () => {
    await choose('text');
    const paste = part<HTMLTextAreaElement>('paste')!;
    // Two-byte characters: 10.5 Mi of them are 21 MB.
    paste.value = pick(['é', 'ß', 'ж']).repeat(10.5 * MB);
    picker.shadowRoot!.querySelector<HTMLButtonElement>('.row button')!.click();
    await picker.updateComplete;
    expect(text(part('corpus-error'))).to.equal('"Your text" is 21 MB, over the 20 MB limit. Paste less text.');
    expect(sent).to.deep.equal([]);
    paste.value = 'A short text that is sent.';
    picker.shadowRoot!.querySelector<HTMLButtonElement>('.row button')!.click();
    await picker.updateComplete;
    expect(sent).to.deep.equal([{ kind: 'text', text: paste.value, name: 'Your text' }]);
    expect(part('corpus-error')).to.equal(null);
  });

  it('hands a chosen or dropped file over unread', async () => {
    await choose('file');
    const file = new File(['words'], 'words.txt');
    for (const read of ['arrayBuffer', 'stream', 'text', 'slice', 'bytes']) {
      Object.defineProperty(file, read, {
        value: () => {
          throw new Error(`${read}() was called`);
        },
      });
    }
    const files = new DataTransfer();
    files.items.add(file);
    const input = part<HTMLInputElement>('file')!;
    input.files = files.files;
    input.dispatchEvent(new Event('change'));
    part('drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true }));
    expect(sent).to.have.length(2);
    for (const source of sent) expect(source.kind === 'file' && source.file === file).to.equal(true);
  });

  it('shows a read under way with its progress and a Cancel that asks to stop it', async () => {
    picker.busy = true;
    await picker.updateComplete;
    expect(part<HTMLProgressElement>('read-progress-bar')!.hasAttribute('value')).to.equal(false);
    const total = randomInt(2, 20) * MB;
    picker.progress = { loaded: total / 2, total };
    await picker.updateComplete;
    expect(text(part('read-progress-text'))).to.equal(`${(total / 2 / MB).toFixed(1)} MB of ${(total / MB).toFixed(1)} MB (50%)`);
    part('corpus-cancel')!.click();
    expect(cancels).to.equal(1);
  });

  it('offers "Use its text" under a web-page error, sending the same source with htmlToText', async () => {
    await choose('url');
    const url = route(`file/${randomInt(1, 1000)}.html`);
    part<HTMLInputElement>('url')!.value = url;
    picker.shadowRoot!.querySelector<HTMLButtonElement>('.row button')!.click();
    picker.error = 'It looks like a web page.';
    await picker.updateComplete;
    expect(part('use-page-text'), 'no offer for other errors').to.equal(null);
    picker.webPage = true;
    await picker.updateComplete;
    part('use-page-text')!.click();
    expect(sent).to.deep.equal([
      { kind: 'url', url },
      { kind: 'url', url, htmlToText: true },
    ]);
  });
});

describe('<llm-training-panel> reading a corpus in the worker', function () {
  this.timeout(60_000);
  let client: EngineClient;
  let panel: TrainingPanel;
  const picker = () => panel.shadowRoot!.querySelector('llm-corpus-picker')!;
  const part = <E extends HTMLElement = HTMLElement>(name: string) => picker().shadowRoot!.querySelector<E>(`[part~="${name}"]`);

  before(async () => {
    client = new EngineClient({ modelUrl: null, database: `test-${crypto.randomUUID()}` });
    panel = document.createElement('llm-training-panel');
    panel.client = client;
    document.body.append(panel);
    await waitFor(() => picker()?.shadowRoot!.querySelector('[part~="corpus-summary"]'), 'the built-in corpus');
    picker().shadowRoot!.querySelector<HTMLInputElement>('input[value="url"]')!.click();
    await picker().updateComplete;
  });
  after(() => {
    panel.remove();
    client.terminate();
  });

  function fetchUrl(url: string): void {
    part<HTMLInputElement>('url')!.value = url;
    picker().shadowRoot!.querySelector<HTMLButtonElement>('.row button')!.click();
  }

  it('shows the worker reading a slow download, with its size, and Cancel stops it', async () => {
    const bytes = randomInt(200, 400) * 1000;
    fetchUrl(route(`file/slow.txt?bytes=${bytes}&chunk=2000&delay=50`));
    await waitFor(() => /of .* \(\d+%\)/.test(text(part('read-progress-text'))), 'progress with the size');
    expect(part<HTMLProgressElement>('read-progress-bar')!.max).to.equal(bytes);
    part('corpus-cancel')!.click();
    await waitFor(() => !part('read-progress'), 'the read to stop');
    expect(part('corpus-error')).to.equal(null);
    // The corpus before stays.
    expect(text(part('corpus-summary'))).to.match(/^the built-in corpus:/);
  });

  it('says a web page is one, and "Use its text" trains on its text', async () => {
    const body = 'The tide comes in and the tide goes out. '.repeat(40).trim();
    const page = `<!DOCTYPE html><html><body><p>${body}</p><script>var hidden = 1;</script></body></html>`;
    fetchUrl(route(`file/tides.html?type=text/html&body=${encodeURIComponent(page)}`));
    const error = await waitFor(() => part('corpus-error'), 'the error');
    expect(text(error)).to.equal(
      '"tides.html" looks like a web page (HTML), not plain text: a model trained on it would learn its tags.',
    );
    part('use-page-text')!.click();
    const summary = await waitFor(() => part('corpus-summary'), 'the summary of its text');
    expect(text(summary)).to.contain(`tides.html: ${body.length.toLocaleString('en-US')} characters`);
  });
});
