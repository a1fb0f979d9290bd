// The whole way a user gets GPT-2 in a real <llm-playground>, its worker and the dev server's GPT-2-shaped
// small files (test/fetch-test-routes.mjs): the card before anything downloads, Download with its progress,
// the model in use, the Downloaded row, back to the built-in model, reopening with no request, Delete; and a
// missing file's message on the card.
import { expect } from 'chai';
import '../../src/llm-playground.ts';
import type { LlmPlayground } from '../../src/llm-playground.ts';
import { baseUrl, control } from './pretrained-helpers.ts';
import { waitFor } from './wait-for.ts';

const text = (element: Element | null | undefined): string => element?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

describe('GPT-2 in a real playground', function () {
  this.timeout(300_000);
  let playground: LlmPlayground | undefined;

  afterEach(() => playground?.remove());

  async function mount(base: string): Promise<{ part: (name: string) => HTMLElement | null; picker: Element }> {
    playground = document.createElement('llm-playground') as LlmPlayground;
    playground.setAttribute('database', `test-${crypto.randomUUID()}`);
    playground.setAttribute('model', 'gpt2');
    playground.setAttribute('library', '');
    playground.setAttribute('model-base', base);
    document.body.append(playground);
    const picker = await waitFor(() => playground!.shadowRoot!.querySelector('llm-model-picker'), 'the picker');
    const part = (name: string) => picker.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
    return { part, picker };
  }

  it('shows the size first, downloads with progress, opens, lists, reopens offline and deletes', async () => {
    const tag = `playground-${crypto.randomUUID()}`;
    const { part, picker } = await mount(baseUrl({ chunk: 200_000, delay: 20, tag }));
    await waitFor(() => part('download-button'), 'the download card');
    expect(text(part('card-size'))).to.match(/MB/);
    expect((await control(tag)).requests, 'nothing fetched before Download').to.have.length(0);

    const changed = new Promise((resolve) => playground!.addEventListener('llm-model-change', resolve, { once: true }));
    const seen = new Set<string>();
    const watch = setInterval(() => seen.add(text(part('progress-text'))), 25);
    part('download-button')!.click();
    await changed;
    clearInterval(watch);
    expect(
      [...seen].some((line) => /MB of .*MB \(\d+%\)/.test(line)),
      [...seen].join(' | '),
    ).to.equal(true);
    const header = () => text(playground!.shadowRoot!.querySelector('[part~="model"]'));
    await waitFor(() => header().includes('pretrained'), 'GPT-2 in the header');

    const library = playground!.shadowRoot!.querySelector('llm-model-library')!;
    const downloaded = () => library.shadowRoot!.querySelector('llm-downloaded-models')?.shadowRoot;
    await waitFor(() => downloaded()?.querySelector('[part~="downloaded-model"]'), 'the Downloaded row');
    expect(text(downloaded()!.querySelector('[part~="downloaded-model"]'))).to.match(/GPT-2 small/);

    part('builtin-choice')!.click();
    await waitFor(() => !header().includes('pretrained'), 'the built-in model back');
    const before = (await control(tag)).requests.length;
    picker.shadowRoot!.querySelector<HTMLElement>('[data-id="gpt2"]')!.click();
    await waitFor(() => header().includes('pretrained'), 'GPT-2 reopened');
    expect((await control(tag)).requests.length, 'requests to reopen').to.equal(before);

    downloaded()!.querySelector<HTMLElement>('[part~="downloaded-delete"]')!.click();
    (
      await waitFor(() => downloaded()!.querySelector<HTMLElement>('[part~="downloaded-confirm-delete"]'), 'the question')
    ).click();
    await waitFor(() => !downloaded()?.querySelector('[part~="downloaded-model"]'), 'the row gone');
  });

  it('says on the card which file is missing', async () => {
    const { part } = await mount(baseUrl({ missing: 'vocab.json', tag: `missing-${crypto.randomUUID()}` }));
    (await waitFor(() => part('download-button'), 'the download card')).click();
    const error = await waitFor(() => part('card-error'), 'the error');
    expect(text(error)).to.match(/vocab\.json is missing/);
  });
});
